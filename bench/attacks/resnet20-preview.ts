/**
 * bench/attacks/resnet20-preview.ts: a PREVIEW of issue 11's acceptance 1, until checkpoints and
 * `qrobust eval` exist. It trains resnet20 briefly on the embedded default (fashion-mnist, 3×32×32)
 * with ts/nn, then runs the adversarial suite on a seeded stratified test subset through the same
 * code path eval will use: data → SampleSource → fromModule → runAdversarial. Its numbers come from
 * an under-trained model and a small subset: they are not acceptance numbers.
 *
 *   npx tsx bench/attacks/resnet20-preview.ts [--steps 300] [--test-limit 192] [--batch 64] [--seed 0] [--out file.json]
 */
import { writeFileSync } from 'node:fs';
import { Rng } from '../../ts/util/rng.ts';
import { Tensor } from '../../ts/tensor/index.ts';
import * as ag from '../../ts/autograd/index.ts';
import { resnet20, SGD } from '../../ts/nn/index.ts';
import { openDataset, iterateBatches, selectSubset, type Split } from '../../ts/data/index.ts';
import { fromModule } from '../../ts/eval/attack-model.ts';
import { runAdversarial, type SampleSource } from '../../ts/attacks/suite.ts';
import { TIERS } from '../../ts/attacks/magnitudes.ts';

function flag(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? dflt : Number(process.argv[i + 1]);
}
const steps = flag('steps', 300);
const testLimit = flag('test-limit', 192);
const batch = flag('batch', 64);
const seed = flag('seed', 0);
const outIdx = process.argv.indexOf('--out');
const outFile = outIdx < 0 ? null : process.argv[outIdx + 1]!;

const ds = await openDataset('fashion-mnist');
if (!ds.stats) throw new Error('fashion-mnist has no recorded stats');
const train = ds.split(ds.trainSplit!);
const test = ds.split('test');
const net = resnet20({ numClasses: ds.classes.length, mean: ds.stats.mean, std: ds.stats.std, seed });
const rng = new Rng(seed);

// Training: SGD Nesterov 0.9, wd 5e-4, cosine from 0.1, batch 128, plain inputs (no augmentation).
const t0 = performance.now();
const opt = new SGD(net.parameters(), { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 5e-4 });
net.train();
let step = 0;
let epoch = 0;
while (step < steps) {
  for await (const b of iterateBatches(train, { batch: 128, shuffle: rng.fork(`epoch${epoch}`), dropLast: true })) {
    if (step >= steps) break;
    opt.lr = 0.05 * (1 + Math.cos((Math.PI * step) / steps));
    const loss = ag.crossEntropy(net.call(Tensor.from(b.x, b.shape)), b.y);
    for (const p of net.parameters()) p.grad = null;
    ag.backward(loss);
    opt.step();
    if (step % 25 === 0) process.stderr.write(`step ${step}/${steps} loss ${loss.item().toFixed(4)} (${((performance.now() - t0) / 1000).toFixed(0)} s)\n`);
    step++;
  }
  epoch++;
}
const trainSeconds = (performance.now() - t0) / 1000;
net.eval();

// The test subset as a SampleSource (what eval will build from --data/--test-limit/--seed).
function splitSource(split: Split, indices: Int32Array): SampleSource {
  return {
    n: indices.length,
    async *batches(size: number) {
      for await (const b of iterateBatches(split, { batch: size, indices })) yield { x: b.x, y: b.y, n: b.y.length };
    },
  };
}
const { indices, record } = selectSubset(test.labels, testLimit, seed, { split: 'test' });
const model = fromModule(net, { inputShape: [3, 32, 32], name: `resnet20-fp-preview-${steps}steps` });
const json = await runAdversarial(model, splitSource(test, indices), {
  attacks: ['fgsm', 'pgd-linf', 'pgd-l2', 'pgd-l1'], seed, batch, perSample: false,
  meta: { data: ds.name, subset: record },
});
json.train = { steps, batch: 128, seconds: trainSeconds, recipe: 'SGD nesterov 0.9, wd 5e-4, cosine lr from 0.1, no augmentation' };
const fmt = (a: string) => TIERS.map((t) => json.ar[a]![t]!.toFixed(1)).join(' / ');
console.log(`resnet20 (${steps} training steps, ${trainSeconds.toFixed(0)} s), ${json.n} test images, clean ${json.clean.toFixed(1)} %`);
console.log(`eps: ${JSON.stringify((json.magnitudes as { eps: unknown }).eps)}`);
for (const a of json.attacks) console.log(`  AR ${a.padEnd(9)} small / middle / large: ${fmt(a)}`);
console.log(`  WCAR     ${TIERS.map((t) => json.wcar[t]!.toFixed(1)).join(' / ')}; WCAR_RA ${TIERS.map((t) => json.wcar_ra[t]?.toFixed(1)).join(' / ')}; attack time ${json.seconds.toFixed(0)} s`);
if (outFile) writeFileSync(outFile, `${JSON.stringify(json, null, 2)}\n`);
