/**
 * Training-step benchmark: resnet20 or resnet18 at 32×32 (forward, label-smoothed cross-entropy,
 * backward, SGD Nesterov step), ours against PyTorch CPU (Debian python3-torch; torchvision's
 * resnet18) with the same threads, batch, weights and data, in one run; prints images/s of each and
 * the ratio (ours / torch).
 *
 * Validates before timing: torch's first loss on our initial weights must equal ours (1e-4 rel).
 * Warm-up, then `--rounds` alternating blocks of `--repeats` steps (ours, then torch in a fresh
 * process), so that both sides see the same drift in machine load; medians over all timed steps,
 * and the ratio of each round.
 *
 *   npx tsx bench/engine/train-step.ts [--arch resnet20|resnet18] [--batch 128] [--threads 2] [--warmup 2]
 *     [--repeats 5] [--rounds 3] [--same-omp-policy] [--json]
 * torch runs with its default OpenMP wait policy (or the user's OMP_WAIT_POLICY) unless
 * --same-omp-policy gives it ours (passive).
 *
 * The float engine's convolutions run through oneDNN's OpenMP pool: OMP_NUM_THREADS is set from
 * --threads before the addon loads.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus, loadavg } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

function flag(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const v = Number(process.argv[i + 1]);
  if (!Number.isInteger(v) || v < 1) throw new Error(`Expected integer >= 1 for --${name} but received ${process.argv[i + 1]}`);
  return v;
}
const batch = flag('batch', 128);
const threads = flag('threads', 2);
const warmup = flag('warmup', 2);
const repeats = flag('repeats', 5);
const rounds = flag('rounds', 3);
const asJson = process.argv.includes('--json');
const archArg = process.argv.includes('--arch') ? process.argv[process.argv.indexOf('--arch') + 1] : 'resnet20';
if (archArg !== 'resnet20' && archArg !== 'resnet18') throw new Error(`Expected --arch resnet20 or resnet18 but received ${archArg}`);
const arch: 'resnet20' | 'resnet18' = archArg;
const size = 32;
// torch's own default OpenMP wait policy unless --same-omp-policy: then torch inherits ours
// (ts/tensor/float-kernels.ts sets OMP_WAIT_POLICY=passive unless the environment sets it).
const sameOmpPolicy = process.argv.includes('--same-omp-policy');
const userWaitPolicy = process.env.OMP_WAIT_POLICY;
process.env.OMP_NUM_THREADS = String(threads); // before the addon (and libgomp) load

const { Tensor, floatInfo } = await import('../../ts/tensor/index.ts');
const ag = await import('../../ts/autograd/index.ts');
const { resnet20, SGD } = await import('../../ts/nn/index.ts');
const { createModel } = await import('../../ts/nn/models/index.ts');
const { Rng } = await import('../../ts/util/rng.ts');

const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
const rng = new Rng(7);
// resnet18: torchvision's layout at 32×32 input, identity normalisation (as resnet20's)
const model = (arch === 'resnet20' ? resnet20({ seed: 1 }) : createModel('resnet18', { numClasses: 10, inputSize: size, mean: [0, 0, 0], std: [1, 1, 1], seed: 1 })).train();
const x = Tensor.rand([batch, 3, size, size], rng);
const labels = Array.from({ length: batch }, () => rng.int(10));

// Hand our initial weights and the batch to torch.
const dir = mkdtempSync(join(tmpdir(), 'qrb-bench-'));
const entries: Record<string, [number, number, number[]]> = {};
const parts: Float32Array[] = [];
let off = 0;
for (const [k, t] of model.stateDict()) {
  entries[k] = [off, t.size, [...t.shape]];
  parts.push(t.contiguous().data.slice());
  off += t.size;
}
const blob = new Float32Array(off);
parts.reduce((o, p) => (blob.set(p, o), o + p.length), 0);
writeFileSync(join(dir, 'state.bin'), Buffer.from(blob.buffer));
writeFileSync(join(dir, 'state.json'), JSON.stringify({ entries }));
const xb = new Float32Array(x.size + batch);
xb.set(x.data);
xb.set(labels, x.size);
writeFileSync(join(dir, 'batch.bin'), Buffer.from(xb.buffer));

const opt = new SGD(model.parameters(), { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 5e-4 });
const step = (): number => {
  opt.zeroGrad();
  const loss = ag.crossEntropy(model.call(x), labels, { labelSmoothing: 0.1 });
  ag.backward(loss);
  opt.step();
  return loss.item();
};
const here = dirname(fileURLToPath(import.meta.url));
type TorchRun = { torch: string; threads: number; first_loss: number; seconds: number[]; cpu_seconds: number[] };
const runTorch = (): TorchRun => {
  const env = { ...process.env };
  if (!sameOmpPolicy) {
    if (userWaitPolicy === undefined) delete env.OMP_WAIT_POLICY;
    else env.OMP_WAIT_POLICY = userWaitPolicy;
  }
  const out = execFileSync('/usr/bin/python3', [join(here, 'train_step_torch.py'), dir, String(threads), String(batch), String(warmup), String(repeats), arch, String(size)], { encoding: 'utf8', maxBuffer: 1 << 20, env });
  return JSON.parse(out.trim().split('\n').pop()!) as TorchRun;
};
const first = step();
for (let i = 0; i < warmup; i++) step();
const ours: number[] = [];
const oursCpu: number[] = [];
const torchSeconds: number[] = [];
const torchCpu: number[] = [];
const roundRatios: number[] = [];
let torch: TorchRun | null = null;
for (let r = 0; r < rounds; r++) {
  const mine: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    step();
    mine.push((performance.now() - t0) / 1000);
    const c = process.cpuUsage(c0);
    oursCpu.push((c.user + c.system) / 1e6);
  }
  const t = runTorch();
  torch ??= t;
  ours.push(...mine);
  torchSeconds.push(...t.seconds);
  torchCpu.push(...t.cpu_seconds);
  roundRatios.push(median(t.seconds) / median(mine));
}
rmSync(dir, { recursive: true, force: true });
torch = { ...torch!, seconds: torchSeconds };
const valid = Math.abs(torch.first_loss - first) <= 1e-4 * Math.abs(first);
const oursIps = batch / median(ours);
const torchIps = batch / median(torch.seconds);
const result = {
  bench: `${arch}-train-step`, arch, inputSize: size, batch, threads, repeats, machine: `${cpus().length} x ${cpus()[0]?.model ?? '?'}`,
  engine: floatInfo(), torch: torch.torch, validated: valid, firstLoss: { ours: first, torch: torch.first_loss },
  imagesPerSecond: { ours: oursIps, torch: torchIps }, ratio: oursIps / torchIps, rounds, roundRatios,
  ompWaitPolicy: { ours: process.env.OMP_WAIT_POLICY ?? 'default', torch: sameOmpPolicy ? process.env.OMP_WAIT_POLICY ?? 'default' : userWaitPolicy ?? 'default' },
  medianSeconds: { ours: median(ours), torch: median(torch.seconds) },
  // process CPU time per step (all threads): steadier than wall time when other processes load the
  // machine; comparable only when both sides wait passively (--same-omp-policy), since a spinning
  // OpenMP pool burns CPU while it waits
  medianCpuSeconds: { ours: median(oursCpu), torch: median(torchCpu) },
  cpuRatio: median(torchCpu) / median(oursCpu),
  loadAverage: loadavg(),
};
if (asJson) console.log(JSON.stringify(result));
else {
  console.log(`${arch} training step at ${size}x${size}, batch ${batch}, ${threads} threads, median of ${rounds} x ${repeats} alternating steps (${result.machine})`);
  console.log(`  validation: first loss ours ${first.toFixed(6)} torch ${torch.first_loss.toFixed(6)} -> ${valid ? 'ok' : 'MISMATCH'}`);
  console.log(`  ours  ${oursIps.toFixed(1)} img/s (${(median(ours) * 1000).toFixed(0)} ms/step; conv ${result.engine.conv}, gemm ${result.engine.gemm})`);
  console.log(`  torch ${torchIps.toFixed(1)} img/s (${(median(torch.seconds) * 1000).toFixed(0)} ms/step; torch ${torch.torch}; OMP_WAIT_POLICY ours ${result.ompWaitPolicy.ours}, torch ${result.ompWaitPolicy.torch})`);
  console.log(`  ratio ours/torch = ${result.ratio.toFixed(3)} (gate 0.7, goal 1.0); per round: ${roundRatios.map((r) => r.toFixed(3)).join(', ')}`);
  console.log(`  CPU time per step (all threads): ours ${(result.medianCpuSeconds.ours * 1000).toFixed(0)} ms, torch ${(result.medianCpuSeconds.torch * 1000).toFixed(0)} ms, ratio ${result.cpuRatio.toFixed(3)}${sameOmpPolicy ? '' : ' (torch spins while waiting: use --same-omp-policy to compare)'}; load average ${result.loadAverage.map((l) => l.toFixed(1)).join(' ')}`);
}
if (!valid) process.exitCode = 1;
