/**
 * bench/attacks/pgd-step.ts: the cost of one PGD-ℓ∞ step against one forward + backward of the same
 * batch, on resnet20 (ts/nn) at 32×32 in evaluation mode (issue 11, acceptance 3: ratio ≤ 1.2).
 *
 * - baseline "fwd+bwd": forward, cross-entropy (sum), backward() to every parameter and the input, as
 *   a training step without the optimiser (weight gradients included);
 * - "pgd step": `new PGD(model, { steps: 1, randomStart: false }).perturb(...)` through the nn adapter
 *   (ts/eval/attack-model.ts): argument checks, forward, CE gradient, input-only backward (parameters
 *   frozen, so no weight gradients), sign step, projection, the ε / [0,1] check.
 * Validates first (the adapter's input gradient equals the full backward's input gradient; the step
 * moves every changed pixel by exactly α and stays in the ball), warms up, then alternates the two
 * (so load swings on a shared machine hit both) and reports medians and the ratio of medians.
 *
 *   npx tsx bench/attacks/pgd-step.ts [--batch 64] [--reps 15] [--warmup 2] [--full] [--model ckpt.safetensors] [--json]
 * --full also times a whole 20-step PGD-ℓ∞ attack (random start) and reports it per step.
 */
import os from 'node:os';
import { Rng } from '../../ts/util/rng.ts';
import { setQuiet } from '../../ts/util/progress.ts';
import { Tensor } from '../../ts/tensor/index.ts';
import * as ag from '../../ts/autograd/index.ts';
import { resnet20 } from '../../ts/nn/index.ts';
import { fromModule } from '../../ts/eval/attack-model.ts';
import { PGD } from '../../ts/attacks/pgd.ts';
import { ceLogitGrad } from '../../ts/attacks/base.ts';
import { loadCheckpoint } from '../../ts/train/checkpoint.ts';

function flag(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const v = Number(process.argv[i + 1]);
  if (!Number.isInteger(v) || v < 0) throw new Error(`Expected a non-negative integer for --${name} but received ${process.argv[i + 1]}`);
  return v;
}
const batch = flag('batch', 64);
const reps = flag('reps', 15);
const warmup = flag('warmup', 2);
const full = process.argv.includes('--full');
const json = process.argv.includes('--json');
setQuiet(true);

const median = (a: number[]) => { const s = [...a].sort((p, q) => p - q); const m = s.length >> 1; return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2; };

// --model <ckpt.safetensors>: a trained checkpoint (e.g. the FP resnet20) instead of the seeded untrained resnet20
const mi = process.argv.indexOf('--model');
const ckpt = mi >= 0 ? process.argv[mi + 1] : undefined;
const net = ckpt ? loadCheckpoint(ckpt).model.eval() : resnet20({ numClasses: 10, seed: 0 }).eval();
const model = fromModule(net, { inputShape: [3, 32, 32], name: 'resnet20' });
const rng = new Rng(1);
const x = Float32Array.from({ length: batch * 3072 }, () => rng.uniform());
const y = Int32Array.from({ length: batch }, () => rng.int(10));
const eps = 8 / 255;
const step = new PGD(model, { eps, steps: 1, randomStart: false });

function fwdBwd(): Float32Array {
  const xt = ag.param(Tensor.from(x.slice(), [batch, 3, 32, 32]));
  const loss = ag.crossEntropy(net.call(xt), y, { reduction: 'sum' });
  ag.backward(loss);
  const g = xt.grad!.contiguous().data;
  for (const p of net.parameters()) p.grad = null;
  return g;
}

// Validate.
{
  const gFull = fwdBwd();
  const { grad } = await model.vjp!(x, batch, (z) => ceLogitGrad(z, y, batch, 10));
  let maxd = 0;
  let maxg = 0;
  for (let k = 0; k < grad.length; k++) { maxd = Math.max(maxd, Math.abs(grad[k]! - gFull[k]!)); maxg = Math.max(maxg, Math.abs(gFull[k]!)); }
  if (!(maxd <= 1e-5 * maxg + 1e-9)) throw new Error(`validation: adapter input gradient differs from the full backward by ${maxd} (max |g| ${maxg})`);
  const adv = await step.perturb(x, y, batch, new Rng(0));
  const alpha = 0.075 * eps;
  let moved = 0;
  for (let k = 0; k < adv.length; k++) {
    const dlt = Math.abs(adv[k]! - x[k]!);
    if (dlt > 0) {
      moved++;
      const expect = Math.sign(grad[k]!) * alpha;
      const clipped = Math.min(1, Math.max(0, x[k]! + expect));
      if (Math.abs(adv[k]! - clipped) > 1e-6) throw new Error(`validation: pixel ${k} moved to ${adv[k]} instead of ${clipped}`);
    }
  }
  if (moved < adv.length * 0.9) throw new Error(`validation: only ${moved} of ${adv.length} pixels moved`);
}

for (let i = 0; i < warmup; i++) { fwdBwd(); await step.perturb(x, y, batch, new Rng(0)); }
const tBase: number[] = [];
const tStep: number[] = [];
for (let r = 0; r < reps; r++) {
  let t = performance.now();
  fwdBwd();
  tBase.push(performance.now() - t);
  t = performance.now();
  await step.perturb(x, y, batch, new Rng(0));
  tStep.push(performance.now() - t);
}
let fullPerStep: number | null = null;
if (full) {
  const atk = new PGD(model, { eps });
  const t = performance.now();
  await atk.perturb(x, y, batch, new Rng(0));
  fullPerStep = (performance.now() - t) / 20;
}
const mb = median(tBase);
const ms = median(tStep);
const out = {
  bench: 'attacks/pgd-step', model: ckpt ?? 'resnet20 (untrained, seed 0)', input: [3, 32, 32], batch, reps,
  fwd_bwd_ms: mb, pgd_step_ms: ms, ratio: ms / mb, full_attack_ms_per_step: fullPerStep,
  per_rep_ratio: tStep.map((v, i) => +(v / tBase[i]!).toFixed(3)),
  machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? '?', loadavg: os.loadavg().map((v) => +v.toFixed(2)), node: process.version },
};
if (json) console.log(JSON.stringify(out));
else {
  console.log(`${out.model} 32x32, batch ${batch}, ${reps} alternating reps (${out.machine.cpus} × ${out.machine.model}, load ${out.machine.loadavg.join(' ')})`);
  console.log(`  fwd+bwd (weights + input grads): median ${mb.toFixed(1)} ms`);
  console.log(`  one PGD-linf step (input grad only, checks included): median ${ms.toFixed(1)} ms`);
  if (fullPerStep !== null) console.log(`  full 20-step PGD-linf, per step: ${fullPerStep.toFixed(1)} ms`);
  console.log(`  ratio pgd step / fwd+bwd = ${(ms / mb).toFixed(3)} (per-rep ratios ${out.per_rep_ratio.join(' ')})`);
}
