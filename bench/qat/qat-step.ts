/**
 * QAT step benchmark: resnet20 at 32×32 with fake quantization (forward, label-smoothed cross-entropy, backward,
 * SGD Nesterov step), ours (ts/quant) against the same fake-quant written in torch (bench/qat/torch_qat.py on
 * Debian python3-torch) with the same threads, batch, initial weights, signs and data, in one run; prints
 * images/s of each and the ratio ours / torch (gate ≥ 0.7).
 *
 * Validates before timing: torch's first loss on our state must equal ours (5e-3 relative; a rounding flip
 * between the two float convolutions can move it slightly). Warm-up, then `--rounds` alternating blocks of
 * `--repeats` steps (ours, then torch in a fresh process) so both see the same drift in machine load; medians.
 *
 *   npx tsx bench/qat/qat-step.ts [--method lsq|pact|dorefa] [--bits 4] [--batch 128] [--threads 2]
 *     [--warmup 2] [--repeats 5] [--rounds 3] [--json] [--ts-fq]
 *
 * `--ts-fq` runs our fake-quant with the TS reference loops instead of the native kernels (same bits), for a
 * before / after on one build.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, cpus, loadavg } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeTorchState, writeTorchBatch } from './torch-io.ts';

const { values: a } = parseArgs({
  options: {
    method: { type: 'string', default: 'lsq' }, bits: { type: 'string', default: '4' }, batch: { type: 'string', default: '128' },
    threads: { type: 'string', default: '2' }, warmup: { type: 'string', default: '2' }, repeats: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' }, json: { type: 'boolean', default: false }, 'ts-fq': { type: 'boolean', default: false },
  },
});
const pos = (k: string, v: string | undefined): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`Expected integer >= 1 for --${k} but received ${String(v)}`);
  return n;
};
const batch = pos('batch', a.batch);
const threads = pos('threads', a.threads);
const warmup = pos('warmup', a.warmup);
const repeats = pos('repeats', a.repeats);
const rounds = pos('rounds', a.rounds);
const method = a.method!;
const bits = pos('bits', a.bits);
process.env.OMP_NUM_THREADS = String(threads); // before the addon loads

const { Tensor } = await import('../../ts/tensor/index.ts');
const ag = await import('../../ts/autograd/index.ts');
const { SGD } = await import('../../ts/nn/optim.ts');
const { resnet20 } = await import('../../ts/nn/models/resnet20.ts');
const { Rng } = await import('../../ts/util/rng.ts');
const { prepareQat, quantConfig, setFakeQuantNative } = await import('../../ts/quant/index.ts');
if (a['ts-fq']) setFakeQuantNative(false);

const cfg = quantConfig({ method, bits });
const median = (v: number[]) => [...v].sort((p, q) => p - q)[Math.floor(v.length / 2)]!;
const rng = new Rng(7);
const model = prepareQat(resnet20({ numClasses: 10, seed: 1 }), cfg).train();
const x = Tensor.rand([batch, 3, 32, 32], rng);
const labels = Array.from({ length: batch }, () => rng.int(10));

// Hand our state (weights, BN, signs, alpha) and the batch to torch.
const dir = mkdtempSync(join(tmpdir(), 'qrb-qat-bench-'));
writeTorchState(dir, model.stateDict(), { classes: 10, batch });
writeTorchBatch(dir, x, labels);

const opt = new SGD(model.parameters(), { lr: 4e-3, momentum: 0.9, nesterov: true, weightDecay: 1e-4 });
function step(): number {
  const loss = ag.crossEntropy(model.call(x), labels, { labelSmoothing: 0.1 });
  const v = loss.item();
  ag.backward(loss);
  opt.step();
  opt.zeroGrad();
  return v;
}
const here = dirname(fileURLToPath(import.meta.url));
function torchBlock(w: number, r: number): { first_loss: number; seconds: number[]; torch: string; threads: number } {
  const out = execFileSync('/usr/bin/python3', [join(here, 'qat_step_torch.py'), 'bench', dir, method, String(bits), String(threads), String(batch), String(w), String(r)], { encoding: 'utf8', maxBuffer: 1 << 24 });
  return JSON.parse(out.trim().split('\n').pop()!);
}

try {
  const ourFirst = step();
  const tFirst = torchBlock(0, 1);
  if (Math.abs(tFirst.first_loss - ourFirst) > 5e-3 * Math.abs(ourFirst)) throw new Error(`validation failed: torch's first loss ${tFirst.first_loss} vs ours ${ourFirst}`);
  for (let i = 0; i < warmup; i++) step();
  const ours: number[] = [];
  const theirs: number[] = [];
  const ratios: number[] = [];
  const loads: number[] = [];
  for (let r = 0; r < rounds; r++) {
    loads.push(loadavg()[0]!);
    const o: number[] = [];
    for (let i = 0; i < repeats; i++) {
      const t0 = performance.now();
      step();
      o.push((performance.now() - t0) / 1000);
    }
    const t = torchBlock(warmup, repeats).seconds;
    ours.push(...o);
    theirs.push(...t);
    ratios.push(median(t) / median(o));
  }
  const res = {
    bench: 'qat-step', arch: 'resnet20', method, bits, fakeQuant: a['ts-fq'] ? 'ts' : 'native', batch, threads, cpus: cpus().length, loadavg: loads, torch: tFirst.torch,
    firstLoss: { ours: ourFirst, torch: tFirst.first_loss }, oursSecondsMedian: median(ours), torchSecondsMedian: median(theirs),
    oursImgPerS: batch / median(ours), torchImgPerS: batch / median(theirs), ratio: median(theirs) / median(ours), roundRatios: ratios,
  };
  if (a.json) process.stdout.write(`${JSON.stringify(res)}\n`);
  else process.stdout.write(`resnet20 ${method}-${bits} QAT step (fake-quant ${res.fakeQuant}), batch ${batch}, ${threads} threads (load ${loads.map((l) => l.toFixed(1)).join('/')}): ours ${res.oursImgPerS.toFixed(1)} img/s, torch ${res.torchImgPerS.toFixed(1)} img/s, ratio ours/torch ${res.ratio.toFixed(2)} (rounds ${ratios.map((q) => q.toFixed(2)).join(', ')})\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
