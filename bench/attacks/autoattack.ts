/**
 * AutoAttack standard (ℓ∞) time per 100 images at the small tier, split by component (issue 12).
 *
 *   npx tsx bench/attacks/autoattack.ts [--n 8] [--eps-255 0.5] [--version standard] [--threads 2]
 *                                       [--seed 0] [--labels predicted|true] [--model r20.safetensors] [--json]
 *
 * Model: a trained checkpoint with --model (FP or q-checkpoint; use --labels true, so the clean-incorrect images cost
 * nothing as in a real evaluation), else ts/nn resnet20 (seeded init, eval mode, untrained)
 * through the nn → AttackModel adapter (ts/eval/attack-model.ts), on the first N test images of the
 * embedded fashion-mnist default (3×32×32 in [0,1]). With `--labels predicted` (default) the labels are
 * the model's own clean predictions, so every image is clean-correct and attacked: the workload of a
 * model with 100% clean accuracy, the worst case per image. `--labels true` uses the dataset labels
 * (an untrained model then gets ~10% right and most images cost nothing).
 *
 * Validation before timing: one forward / VJP pass (warm-up), then the run itself must pass
 * AutoAttack's checks (‖δ‖∞ ≤ ε, [0,1], robust ≤ clean; autoAttack throws otherwise) and its
 * per-component counts must add up to clean − robust. AutoAttack is one long deterministic run, so it
 * is timed once; per-100 numbers scale the measured seconds by 100/N (each component's cost is linear
 * in the number of points it attacks; batching effects at N < 100 make this an upper estimate).
 */
import { cpus, loadavg } from 'node:os';

function flag(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : def;
}
const n = Number(flag('n', '8'));
const eps255 = Number(flag('eps-255', '0.5'));
const version = flag('version', 'standard');
const threads = Number(flag('threads', '2'));
const seed = Number(flag('seed', '0'));
const labels = flag('labels', 'predicted');
const modelPath = flag('model', '');
const json = process.argv.includes('--json');
process.env.OMP_NUM_THREADS = String(threads); // before the addon loads

const { resnet20 } = await import('../../ts/nn/index.ts');
const { fromModule } = await import('../../ts/eval/attack-model.ts');
const { openDataset, buildBatch } = await import('../../ts/data/index.ts');
const { autoAttack, AA_COMPONENTS } = await import('../../ts/attacks/autoattack.ts');
const { ceLoss } = await import('../../ts/attacks/dlr.ts');

const { loadCheckpoint } = await import('../../ts/train/checkpoint.ts');
const net = modelPath ? loadCheckpoint(modelPath).model : resnet20({ seed: 0 });
net.eval();
const model = fromModule(net, { inputShape: [3, 32, 32], name: modelPath || 'resnet20-untrained-seed0' });
const ds = await openDataset('fashion-mnist');
const batch = await buildBatch(ds.split('test'), Int32Array.from({ length: n }, (_, i) => i), { size: 32 });
const x = batch.x;
const K = model.numClasses;

// warm-up and model throughput
let t = performance.now();
const z = await model.logits(x, n);
const fwdMs = performance.now() - t;
let y = batch.y;
if (labels === 'predicted') {
  y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let b = 0;
    for (let c = 1; c < K; c++) if (z[i * K + c]! > z[i * K + b]!) b = c;
    y[i] = b;
  }
}
t = performance.now();
await model.vjp!(x, n, (zz) => ceLoss(zz, y, K).grad);
const vjpMs = performance.now() - t;

const eps = eps255 / 255;
const res = await autoAttack(model, x, y, {
  eps, version: version as 'standard', seed, batch: Math.max(n, 1),
  onComponent: (c) => process.stderr.write(`${c.component}: attacked ${c.attacked}, broke ${c.broken}, ${c.seconds.toFixed(1)} s\n`),
});
const counted = AA_COMPONENTS.reduce((s, c) => s + res.components[c], 0);
const nClean = res.clean.reduce((s, v) => s + v, 0);
const nRobust = res.robust.reduce((s, v) => s + v, 0);
if (counted !== nClean - nRobust) throw new Error(`validation: components add up to ${counted}, clean − robust = ${nClean - nRobust}`);

const per100 = (s: number): number => (s * 100) / n;
const out = {
  bench: 'autoattack', version: res.version, eps, eps_255: eps255, n, labels, seed, threads,
  model: model.name, machine: `${cpus().length} x ${cpus()[0]?.model ?? '?'}`, loadavg: loadavg()[0],
  clean_correct: nClean, robust: nRobust, components: res.components,
  seconds: res.seconds,
  seconds_per_100: Object.fromEntries([...AA_COMPONENTS, 'total' as const].map((c) => [c, per100(res.seconds[c])])),
  forward_ms_per_image: fwdMs / n, vjp_ms_per_image: vjpMs / n,
  max_perturbation: res.maxPerturbation, warnings: res.warnings,
};
if (json) {
  console.log(JSON.stringify(out));
} else {
  console.log(`AutoAttack ${res.version}, eps ${eps255}/255, ${model.name}, ${n} fashion-mnist test images (labels ${labels}), ${threads} threads, ${out.machine}, load ${out.loadavg.toFixed(1)}`);
  console.log(`clean-correct ${nClean}/${n}, robust ${nRobust}/${n}; forward ${out.forward_ms_per_image.toFixed(1)} ms/image, forward+VJP ${out.vjp_ms_per_image.toFixed(1)} ms/image`);
  console.log('component  newly-broken  seconds  seconds/100 images');
  for (const c of AA_COMPONENTS) console.log(`${c.padEnd(10)} ${String(res.components[c]).padStart(12)} ${res.seconds[c].toFixed(1).padStart(8)} ${per100(res.seconds[c]).toFixed(0).padStart(19)}`);
  console.log(`${'total'.padEnd(10)} ${String(counted).padStart(12)} ${res.seconds.total.toFixed(1).padStart(8)} ${per100(res.seconds.total).toFixed(0).padStart(19)}`);
}
