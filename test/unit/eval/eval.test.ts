import { strict as assert } from 'node:assert';
import { Tensor } from '../../../ts/tensor/tensor.ts';
import * as ag from '../../../ts/autograd/index.ts';
import { Module } from '../../../ts/nn/module.ts';
import { resnet20 } from '../../../ts/nn/models/resnet20.ts';
import { openDataset, selectSubset, type Dataset } from '../../../ts/data/index.ts';
import { setQuiet } from '../../../ts/util/progress.ts';
import { UsageError } from '../../../ts/util/errors.ts';
import { Rng } from '../../../ts/util/rng.ts';
import { argmax, moduleClassifier, moduleLogits } from '../../../ts/eval/classify.ts';
import { evaluateClean } from '../../../ts/eval/clean.ts';
import { evaluateCorruption } from '../../../ts/eval/corruption.ts';
import { evaluateSystematic } from '../../../ts/eval/systematic.ts';
import { SYSTEMATIC_IDS } from '../../../ts/systematic/pipelines.ts';
import { CORRUPTIONS } from '../../../ts/corrupt/tables.ts';

/** Predicts class `k` for every input (logit 1 at k, 0 elsewhere): its accuracy is the share of class k. */
class Constant extends Module {
  constructor(readonly k: number, readonly classes = 10) {
    super();
  }
  forward(x: Tensor): Tensor {
    const n = x.shape[0]!;
    const z = new Float32Array(n * this.classes);
    for (let i = 0; i < n; i++) z[i * this.classes + this.k] = 1;
    return Tensor.from(z, [n, this.classes]);
  }
}

/** Predicts the class from the mean brightness of the image (a deterministic function of the pixels). */
class Brightness extends Module {
  forward(x: Tensor): Tensor {
    const m = ag.mean(x, { dim: [1, 2, 3] }).toArray();
    const z = new Float32Array(m.length * 10);
    m.forEach((v, i) => { z[i * 10 + Math.min(9, Math.floor(v * 10))] = 1; });
    return Tensor.from(z, [m.length, 10]);
  }
}

const COMMON = ['suite', 'model', 'data', 'target', 'n', 'seed', 'subset', 'versions', 'seconds'];

describe('eval: classifier adapter', () => {
  it('argmax takes the first maximum; the classifier is argmax of the logits, chunked', async () => {
    assert.deepEqual(Array.from(argmax(Float32Array.of(0, 2, 2, 5, 0, 0), 3)), [1, 0]);
    const m = resnet20({ seed: 4 });
    const x = new Float32Array(5 * 3 * 32 * 32);
    const r = new Rng(1);
    for (let i = 0; i < x.length; i++) x[i] = r.uniform();
    const full = moduleLogits(m, x, 5, { batch: 5 });
    const chunked = moduleLogits(m, x, 5, { batch: 2 });
    assert.equal(full.numClasses, 10);
    for (let i = 0; i < full.logits.length; i++) assert.ok(Math.abs(full.logits[i]! - chunked.logits[i]!) < 1e-5);
    assert.deepEqual(Array.from(await moduleClassifier(m, { batch: 2 })(x, 5)), Array.from(argmax(full.logits, 10)));
    assert.equal(m.training, false, 'evaluation runs in eval mode');
    assert.throws(() => moduleLogits(m, x, 4), (e: unknown) => e instanceof UsageError && /12288 floats/.test(e.message));
  });
});

describe('eval: suites over fashion-mnist', function () {
  this.timeout(300000);
  let ds: Dataset;
  let indices: Int32Array;
  let ctx: Parameters<typeof evaluateClean>[2];
  before(async () => {
    setQuiet(true);
    ds = await openDataset('fashion-mnist');
    const split = ds.split('test');
    const s = selectSubset(split.labels, 20, 0, { split: 'test' });
    indices = s.indices;
    ctx = { modelName: 'constant', dataName: ds.name, indices, subset: s.record, seed: 0, size: 32, batch: 8 };
  });

  it('clean: top-1 counts exactly (a constant model scores its class share), common fields, NC', async () => {
    const r = await evaluateClean(new Constant(3), ds.split('test'), ctx);
    for (const k of COMMON) assert.ok(k in r, k);
    assert.equal(r.suite, 'clean');
    assert.equal(r.target, 'reference');
    assert.equal(r.n, 20);
    assert.equal(r.top1, 10, 'the stratified 20 hold 2 of each class');
    assert.equal(r.correct, 2);
    assert.equal(r.nc, true, '10% < 2 x chance');
    assert.equal(r.subset.n, 20);
    assert.equal(r.versions.node, process.versions.node);
  });

  it('corruption: 15 corruptions x chosen severities, NR = mean of the cells, deterministic per seed', async () => {
    const corruptions = ['gaussian_noise', 'fog', 'jpeg_compression'];
    const a = await evaluateCorruption(new Brightness(), ds.split('test'), ctx, { severities: [1, 5], corruptions });
    const b = await evaluateCorruption(new Brightness(), ds.split('test'), ctx, { severities: [1, 5], corruptions });
    for (const k of COMMON) assert.ok(k in a, k);
    assert.equal(a.suite, 'corruption');
    assert.deepEqual(Object.keys(a.accuracy), corruptions);
    assert.deepEqual(Object.keys(a.accuracy.fog!), ['1', '5']);
    const cells = Object.values(a.accuracy).flatMap((s) => Object.values(s));
    assert.ok(Math.abs(a.nr - cells.reduce((p, v) => p + v, 0) / cells.length) < 1e-9);
    assert.deepEqual(a.accuracy, b.accuracy, 'same seed, same draws');
    const c = await evaluateCorruption(new Constant(0), ds.split('test'), ctx, { severities: [1] });
    assert.deepEqual(Object.keys(c.accuracy), [...CORRUPTIONS]);
    assert.equal(c.nr, 10);
  });

  it('systematic: the 14 ids, SR over them; a constant model has SR 0', async () => {
    const r = await evaluateSystematic(new Constant(5), ds.split('test'), { ...ctx, indices: indices.subarray(0, 10) }, { extras: false });
    for (const k of COMMON) assert.ok(k in r, k);
    assert.equal(r.suite, 'systematic');
    assert.deepEqual(Object.keys(r.accuracy), [...SYSTEMATIC_IDS]);
    assert.equal(r.sr, 0);
    assert.equal(r.n, 10);
    assert.deepEqual(r.skipped, []);
  });
});
