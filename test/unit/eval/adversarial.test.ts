import { strict as assert } from 'node:assert';
import { Flatten, Linear, Sequential } from '../../../ts/nn/index.ts';
import { openDataset, selectSubset, type Dataset } from '../../../ts/data/index.ts';
import { buildBatch } from '../../../ts/data/batch.ts';
import { setQuiet } from '../../../ts/util/progress.ts';
import { UsageError } from '../../../ts/util/errors.ts';
import { Rng } from '../../../ts/util/rng.ts';
import { argmax, moduleLogits } from '../../../ts/eval/classify.ts';
import { evaluateAdversarial, formatAdversarialTable, parseAdversarialFlags, parseEpsOverrides, splitSource } from '../../../ts/eval/adversarial.ts';

const usage = (re: RegExp) => (e: unknown) => e instanceof UsageError && re.test(e.message);

describe('eval/adversarial: flag parsing', () => {
  it('--eps overrides: values, k/255, named errors', () => {
    assert.deepEqual(parseEpsOverrides('pgd-l2/small=0.1, fgsm/large=8/255'), { 'pgd-l2': { small: 0.1 }, fgsm: { large: 8 / 255 } });
    assert.throws(() => parseEpsOverrides('pgd-l2/small=-1'), usage(/--eps pgd-l2\/small.*'-1'/));
    assert.throws(() => parseEpsOverrides('pgd-l2/small=abc'), usage(/--eps pgd-l2\/small.*'abc'/));
    assert.throws(() => parseEpsOverrides('cw/small=1'), usage(/--eps attack.*'cw'/));
    assert.throws(() => parseEpsOverrides('fgsm/tiny=1'), usage(/--eps tier.*'tiny'/));
    assert.throws(() => parseEpsOverrides('fgsm=1'), usage(/attack\/tier=value/));
    assert.throws(() => parseEpsOverrides('fgsm/small=1,fgsm/small=2'), usage(/at most once/));
    assert.throws(() => parseEpsOverrides(' , '), usage(/--eps/));
  });

  it('the suite flags: defaults, all, steps and AutoAttack version into attack options, named errors', () => {
    const d = parseAdversarialFlags({});
    assert.deepEqual(d.attacks, ['fgsm', 'pgd-linf', 'pgd-l2', 'pgd-l1', 'aa']);
    assert.deepEqual(d.tiers, ['small', 'middle', 'large']);
    assert.deepEqual(d.magnitudes, { rule: 'scaled-7.14' });
    assert.deepEqual(d.attackOptions, {});
    const f = parseAdversarialFlags({ attacks: 'pgd-l1,fgsm', magnitudes: 'all', pgdSteps: '40', aaVersion: 'aa-demo', epsRule: 'unscaled', eps: 'fgsm/small=0' });
    assert.deepEqual(f.attacks, ['pgd-l1', 'fgsm']);
    assert.deepEqual(f.tiers, ['small', 'middle', 'large']);
    assert.deepEqual(f.magnitudes, { rule: 'unscaled', overrides: { fgsm: { small: 0 } } });
    assert.deepEqual(f.attackOptions, { 'pgd-linf': { steps: 40 }, 'pgd-l2': { steps: 40 }, 'pgd-l1': { steps: 40 }, aa: { version: 'aa-demo' } });
    assert.throws(() => parseAdversarialFlags({ attacks: 'fgsm,fgsm' }), usage(/without duplicates for --attacks/));
    assert.throws(() => parseAdversarialFlags({ attacks: 'deepfool' }), usage(/for --attacks but received 'deepfool'/));
    assert.throws(() => parseAdversarialFlags({ magnitudes: 'medium' }), usage(/for --magnitudes but received 'medium'/));
    assert.throws(() => parseAdversarialFlags({ pgdSteps: '2.5' }), usage(/--pgd-steps/));
    assert.throws(() => parseAdversarialFlags({ pgdSteps: '0' }), usage(/--pgd-steps/));
    assert.throws(() => parseAdversarialFlags({ aaVersion: 'plus' }), usage(/--aa-version but received 'plus'/));
    assert.throws(() => parseAdversarialFlags({ epsRule: 'sqrt' }), usage(/--eps-rule but received 'sqrt'/));
  });
});

describe('eval/adversarial: over fashion-mnist', function () {
  this.timeout(300000);
  let ds: Dataset;
  let indices: Int32Array;
  before(async () => {
    setQuiet(true);
    ds = await openDataset('fashion-mnist');
    indices = selectSubset(ds.split('test').labels, 12, 0, { split: 'test' }).indices;
  });

  it('splitSource: the reference inputs and labels of the indices, in order, for any batch size, on every pass', async () => {
    const split = ds.split('test');
    const ref = await buildBatch(split, indices, { size: 32 });
    const src = splitSource(split, indices, { size: 32 });
    assert.equal(src.n, 12);
    for (const b of [5, 12, 64]) {
      const xs: number[] = [];
      const ys: number[] = [];
      for await (const batch of src.batches(b) as AsyncIterable<{ x: Float32Array; y: ArrayLike<number>; n: number }>) {
        assert.ok(batch.n <= b);
        xs.push(...batch.x);
        ys.push(...Array.from(batch.y));
      }
      assert.deepEqual(ys, Array.from(ref.y));
      assert.ok(xs.length === ref.x.length && xs.every((v, i) => v === ref.x[i]), `batch ${b}: same pixels`);
    }
    assert.throws(() => splitSource(split, new Int32Array(0)), usage(/indices/));
  });

  it('evaluateAdversarial: common fields, clean flags = the module on the reference inputs, batch-independent, transfer to itself', async () => {
    const split = ds.split('test');
    const rng = new Rng(3);
    const net = new Sequential(new Flatten(), new Linear(3 * 32 * 32, 10, rng));
    const ctx = { modelName: 'linear', dataName: ds.name, indices, seed: 5, size: 32, batch: 5 };
    const opts = { attacks: ['fgsm', 'pgd-l2'] as const, tiers: ['small', 'large'] as const };
    const r = await evaluateAdversarial(net, split, ctx, { ...opts, attacks: [...opts.attacks], tiers: [...opts.tiers], transferTo: [{ name: 'same', module: net }] });
    for (const k of ['suite', 'model', 'data', 'target', 'n', 'seed', 'subset', 'versions', 'seconds']) assert.ok(k in r, k);
    assert.deepEqual([r.suite, r.model, r.data, r.target, r.n, r.seed], ['adversarial', 'linear', 'fashion-mnist', 'reference', 12, 5]);
    const ref = await buildBatch(split, indices, { size: 32 });
    const top = argmax(moduleLogits(net, ref.x, 12).logits, 10);
    const ps = r.per_sample as { labels: number[]; clean_correct: string };
    assert.deepEqual(ps.labels, Array.from(ref.y));
    assert.equal(ps.clean_correct, Array.from(top, (p, i) => (p === ref.y[i] ? '1' : '0')).join(''));
    const tr = (r.transfer as Record<string, { ar: unknown; clean: number }>).same;
    assert.deepEqual(tr.ar, r.ar);
    const again = await evaluateAdversarial(net, split, { ...ctx, batch: 12 }, { attacks: ['fgsm', 'pgd-l2'], tiers: ['small', 'large'], perSample: true });
    assert.deepEqual(again.ar, r.ar);
    assert.deepEqual(again.per_sample, r.per_sample);
    assert.match(formatAdversarialTable(r), /^adversarial: 12 images, clean [\d.]+%, attacks fgsm, pgd-l2, seed 5/);
    assert.match(formatAdversarialTable(r), /transfer to same/);
    assert.equal(net.training, false);
  });
});
