import { strict as assert } from 'node:assert';
import { mkdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../../ts/native/binding.ts';
import { Tensor } from '../../../ts/tensor/tensor.ts';
import * as ag from '../../../ts/autograd/index.ts';
import { Rng } from '../../../ts/util/rng.ts';
import { UsageError } from '../../../ts/util/errors.ts';
import { setQuiet } from '../../../ts/util/progress.ts';
import { resnet20 } from '../../../ts/nn/models/resnet20.ts';
import { openDataset, type Dataset } from '../../../ts/data/index.ts';
import { trainModel } from '../../../ts/train/loop.ts';
import { saveCheckpoint, loadCheckpoint } from '../../../ts/train/checkpoint.ts';
import {
  quantConfig, quantConfigToJson, parseQuantConfig, UnknownMethodError, UnsupportedBitsError, NotFloatCheckpointError,
  fakeQuantize, lsqQuantize, pactClip, quantizeInt, minmaxScale, qRange, rint, EPS_F32,
  prepareQat, quantLayers, exportQuantParams, freezeObservers, setObserverMode, dorefaNormalized, FakeQuant, runQuantize,
} from '../../../ts/quant/index.ts';

const f = Math.fround;
const dir = join(repoRoot, 'test', '.generated', 'quant');

describe('quant: config', () => {
  it('checks, freezes and round-trips through versioned JSON', () => {
    const c = quantConfig({ method: 'lsq', bits: 4 });
    assert.ok(Object.isFrozen(c));
    assert.deepEqual(quantConfigToJson(c), { version: 'qrobust-quant/1', method: 'lsq', bits: 4, variant: 'academic', per_channel: false, observer_mode: 'frozen', first_last_bits: 8 });
    assert.deepEqual(parseQuantConfig(JSON.stringify(quantConfigToJson(c))), c);
    assert.throws(() => parseQuantConfig({ ...quantConfigToJson(c), version: 'qrobust-quant/0' }), /version/);
  });
  it('bits 3, an unknown method, a bad variant / mode are named errors', () => {
    assert.throws(() => quantConfig({ method: 'lsq', bits: 3 }), (e: unknown) => e instanceof UnsupportedBitsError && /Expected one of 2, 4, 6, 8 for --bits but received 3/.test(e.message));
    assert.throws(() => quantConfig({ method: 'apot', bits: 4 }), (e: unknown) => e instanceof UnknownMethodError && /one of dorefa, pact, lsq for --method but received 'apot'/.test(e.message));
    assert.throws(() => quantConfig({ method: 'pact', bits: 4, variant: 'x' }), /--variant/);
    assert.throws(() => quantConfig({ method: 'pact', bits: 4, observerMode: 'live' }), /--observer-mode/);
  });
});

describe('quant: fake-quant primitives (hand-computed)', () => {
  it('rounds half to even, clamps, and passes the gradient only inside [qmin, qmax]', () => {
    assert.deepEqual([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4999, -0.3].map(rint), [0, 2, 2, 0, -2, -2, 2, 0]);
    const x = ag.param(Tensor.from([0.25, 0.75, 1.25, -0.25, -1.3, 0.74, 3]));
    const y = fakeQuantize(x, 0.5, -2, 1);
    // x/s = 0.5, 1.5, 2.5, -0.5, -2.6, 1.48, 6 -> 0, 2 (clip 1), 2 (clip 1), -0, -3 (clip -2), 1, 6 (clip 1)
    assert.deepEqual(y.toArray(), [0, 0.5, 0.5, 0, -1, 0.5, 0.5], 'a rounded -0 gives +0, as torch');
    ag.backward(ag.sum(ag.mul(y, Tensor.from([1, 2, 3, 4, 5, 6, 7]))));
    assert.deepEqual(x.grad!.toArray(), [1, 0, 0, 4, 0, 6, 0]);
    assert.deepEqual([...quantizeInt(x, 0.5, -2, 1)], [0, 1, 1, 0, -2, 1, 1]);
  });
  it('uses torch arithmetic: x · fl(1/s) in float32', () => {
    // s = 0.1: fl(1/0.1) = 10.000000149..., fl(0.35 * that) rounds to 3.5 exactly -> 4 (even); 0.35/0.1 in doubles is 3.4999999999999996
    const s = f(0.1);
    const x = f(0.35);
    assert.equal(f(x * f(1 / s)), 3.5);
    assert.equal(fakeQuantize(Tensor.from([x]), s, -128, 127).item(), f(4 * s));
  });
  it('per-channel scales act along axis 0', () => {
    const x = Tensor.from([1, 2, 3, 1, 2, 3], [2, 3]);
    const y = fakeQuantize(x, Float32Array.of(1, 2), -2, 1);
    assert.deepEqual(y.toArray(), [1, 1, 1, 0, 2, 2]);
    assert.throws(() => fakeQuantize(x, Float32Array.of(1, 2, 3), -2, 1), /per-channel/);
    assert.throws(() => fakeQuantize(x, 0, -2, 1), /scale\[0\]/);
  });
  it('min/max scale: signed m/((2^b-1)/2), unsigned m/(2^b-1), at least eps', () => {
    assert.equal(minmaxScale(-1, 1, -2, 1, false), f(2 / 3));
    assert.equal(minmaxScale(0, 1, 0, 3, true), f(1 / 3));
    assert.equal(minmaxScale(-3, 2, -128, 127, false), f(3 / 127.5));
    assert.equal(minmaxScale(0, 0, 0, 255, true), EPS_F32);
    assert.deepEqual(qRange(2, true), { qmin: -2, qmax: 1 });
    assert.deepEqual(qRange(6, false), { qmin: 0, qmax: 63 });
  });
  it('LSQ: x gets the STE, s gets (x̂ − x)/s inside and qmin / qmax outside, times the gradient factor', () => {
    const x = ag.param(Tensor.from([0.3, -0.1, 2, -5]));
    const s = ag.param(Tensor.from([0.25]));
    const y = lsqQuantize(x, s, -4, 3, 0.5);
    // x/s = 1.2, -0.4, 8, -20 -> 1, -0, 3 (clip), -4 (clip)
    assert.deepEqual(y.toArray(), [0.25, 0, 0.75, -1]);
    const w = Tensor.from([1, 2, 3, 4]);
    ag.backward(ag.sum(ag.mul(y, w)));
    assert.deepEqual(x.grad!.toArray(), [1, 2, 0, 0]);
    const expect = 0.5 * (1 * (0.25 - 0.3) / 0.25 + 2 * (0 - -0.1) / 0.25 + 3 * 3 + 4 * -4);
    assert.ok(Math.abs(s.grad!.item() - expect) < 1e-6, `${s.grad!.item()} vs ${expect}`);
  });
  it('LSQ step gradient equals finite differences where the function is differentiable (clipped elements)', () => {
    const x = Tensor.from([4, 9, -7, -12, 5.5]);
    const s = ag.param(Tensor.from([0.7]));
    const w = Tensor.from([0.3, -1.1, 0.8, 2, -0.4]);
    ag.backward(ag.sum(ag.mul(lsqQuantize(x, s, -4, 3, 1), w)));
    const fn = (sv: number) => ag.noGrad(() => ag.sum(ag.mul(fakeQuantize(x, sv, -4, 3), w)).item());
    const h = 1e-3;
    const fd = (fn(0.7 + h) - fn(0.7 - h)) / (2 * h);
    assert.ok(Math.abs(s.grad!.item() - fd) < 1e-3, `${s.grad!.item()} vs ${fd}`);
  });
  it('PACT: clip, and ∂/∂α = Σ_{x>α} g − Σ_{x<−α} g, equal to finite differences', () => {
    const x = ag.param(Tensor.from([-8, -1, 1, 5.9, 7, 9]));
    const a = ag.param(Tensor.from([6]));
    const y = pactClip(x, a, true);
    assert.deepEqual(y.toArray(), [-6, -1, 1, 5.9, 6, 6].map(f));
    const w = Tensor.from([0.5, 1, 2, 3, 4, 5]);
    ag.backward(ag.sum(ag.mul(y, w)));
    assert.deepEqual(x.grad!.toArray(), [0, 1, 2, 3, 0, 0]);
    assert.equal(a.grad!.item(), 4 + 5 - 0.5);
    const fn = (av: number) => ag.noGrad(() => ag.sum(ag.mul(pactClip(x, Tensor.from([av]), true), w)).item());
    const fd = (fn(6 + 1e-3) - fn(6 - 1e-3)) / 2e-3;
    assert.ok(Math.abs(fd - a.grad!.item()) < 1e-2, `${fd} vs ${a.grad!.item()}`);
    assert.deepEqual(pactClip(x, a, false).toArray(), [-8, -1, 1, 5.9, 6, 6].map(f));
  });
});

describe('quant: quantizer modules', () => {
  const spec = { variant: 'academic', perChannel: false, channels: 1, observerMode: 'frozen' } as const;
  it('DoReFa activations below 8 bits: fixed [0, 1] grid when unsigned, [−1, 1] when signed', () => {
    const q = new FakeQuant({ ...spec, method: 'dorefa', bits: 2, role: 'input' });
    q.train();
    const y = q.call(Tensor.from([0.2, 0.5, 1.7]));
    assert.equal(q.isSigned, false, 'a batch with min >= 0 switches to unsigned');
    assert.deepEqual(y.toArray(), [f(1 / 3) * 1, f(1 / 3) * 2, f(1 / 3) * 3].map(f));
    const s = new FakeQuant({ ...spec, method: 'dorefa', bits: 2, role: 'input' });
    s.train();
    assert.deepEqual(s.call(Tensor.from([-1.2, 0.2, 0.9])).toArray(), [-2 * f(2 / 3), 0, f(2 / 3)].map(f));
    assert.equal(s.isSigned, true);
  });
  it('DoReFa weights: tanh-normalised, signed min/max grid; the integers times the scale are the fake-quant weights', () => {
    const q = new FakeQuant({ ...spec, method: 'dorefa', bits: 4, role: 'weight' });
    const w = Tensor.randn([8, 3, 3, 3], new Rng(3), 0.2);
    const y = q.call(w);
    const wn = dorefaNormalized(w);
    const mx = Math.max(...wn.toArray().map(Math.abs));
    assert.ok(mx < 1 && mx > 0.9999);
    const s = q.scale.data[0]!;
    assert.equal(s, f(mx / 7.5));
    const ints = quantizeInt(wn, s, -8, 7);
    assert.deepEqual(y.toArray(), [...ints].map((k) => f(k * s)));
    assert.ok(ints.includes(7) || ints.includes(-8), 'the extreme weight sits at ±7.5 before rounding (half to even: 8 → clamp 7, or -8)');
  });
  it('LSQ initialises s = 2·mean|x|/√Q_P on the first training batch, then learns it', () => {
    const q = new FakeQuant({ ...spec, method: 'lsq', bits: 4, role: 'input' });
    q.train();
    const x = Tensor.from([0, 1, 2, 3]);
    q.call(x);
    assert.equal(q.isSigned, false);
    assert.equal(q.scale.data[0], f((2 * 1.5) / Math.sqrt(15)));
    q.scale.data[0] = 0.5;
    q.call(Tensor.from([10, 20]));
    assert.equal(q.scale.data[0], 0.5, 'no re-initialisation');
    q.scale.data[0] = -0.25;
    q.call(x);
    assert.equal(q.scale.data[0], 0.25, '|s| each forward');
  });
  it('8-bit min/max: per batch while training or faithful, the calibrated range when frozen', () => {
    const q = new FakeQuant({ ...spec, method: 'pact', bits: 8, role: 'input' });
    assert.equal(q.kind, 'minmax');
    q.train();
    q.call(Tensor.from([-1, 2]));
    assert.equal(q.scale.data[0], f(2 / 127.5));
    q.eval();
    assert.throws(() => q.call(Tensor.from([1])), /no calibrated range/);
    q.setPhase('calibrate');
    q.call(Tensor.from([-1, 2]));
    q.call(Tensor.from([-3, 4]));
    q.finishCalibration();
    assert.deepEqual(q.range!.toArray(), [-2, 3]);
    q.call(Tensor.from([-100, 100]));
    assert.equal(q.scale.data[0], f(3 / 127.5));
    q.observerMode = 'faithful';
    q.call(Tensor.from([-100, 100]));
    assert.equal(q.scale.data[0], f(100 / 127.5));
  });
});

describe('quant: prepareQat on resnet20', () => {
  it('quantizes every conv (downsample included) and the fc; first / last at 8 bits; signs from the probe', () => {
    const m = prepareQat(resnet20({ numClasses: 10 }), quantConfig({ method: 'pact', bits: 4 }));
    const ls = quantLayers(m);
    assert.equal(ls.length, 22);
    assert.deepEqual(ls.filter((l) => l.name.includes('downsample')).map((l) => l.name), ['layer2.0.downsample.0', 'layer3.0.downsample.0']);
    assert.equal(ls[0]!.name, 'conv1');
    assert.ok(ls[0]!.first && ls[0]!.bits === 8 && ls[0]!.inputQuant.isSigned && ls[0]!.inputQuant.kind === 'minmax');
    assert.ok(ls[21]!.last && ls[21]!.name === 'fc' && ls[21]!.bits === 8 && !ls[21]!.inputQuant.isSigned);
    for (const l of ls.slice(1, 21)) {
      assert.equal(l.bits, 4);
      assert.equal(l.inputQuant.isSigned, false, `${l.name} is post-ReLU`);
      assert.equal(l.inputQuant.kind, 'pact');
    }
    const sd = [...m.stateDict().keys()];
    assert.ok(sd.includes('layer1.0.conv1.input_fake_quant.alpha') && sd.includes('fc.weight_fake_quant.scale'));
    assert.throws(() => prepareQat(m, quantConfig({ method: 'lsq', bits: 4 })), /already prepared/);
    assert.throws(() => quantLayers(resnet20()), /float model/);
  });
  it('gradients reach every weight, BN parameter, α and the input', () => {
    const m = prepareQat(resnet20({ numClasses: 10 }), quantConfig({ method: 'pact', bits: 4 }));
    m.train();
    const x = ag.param(Tensor.rand([4, 3, 32, 32], new Rng(1)));
    ag.backward(ag.crossEntropy(m.call(x), [0, 1, 2, 3]));
    for (const [n, p] of m.namedParameters()) assert.ok(p.grad, `${n} has a gradient`);
    assert.ok(x.grad!.toArray().some((v) => v !== 0));
  });
});

describe('quant: QAT run, q-checkpoint and deployment export (tiny fashion-mnist run)', function () {
  this.timeout(600000);
  let ds: Dataset;
  let fp: string;
  before(async () => {
    setQuiet(true);
    mkdirSync(dir, { recursive: true });
    ds = await openDataset('fashion-mnist');
    const r = await trainModel({ arch: 'resnet20', data: 'fashion-mnist', batch: 32, trainLimit: 96, epochs: 1, testLimit: 0, seed: 3 }, { dataset: ds });
    fp = join(dir, 'fp.safetensors');
    saveCheckpoint(fp, r.model, r.meta);
  });
  after(() => setQuiet(false));

  for (const [method, bits] of [['dorefa', 2], ['pact', 4], ['lsq', 4]] as const) {
    it(`${method} ${bits}-bit: record, q-checkpoint that reloads to the same logits, exact integer export`, async () => {
      const out = join(dir, `${method}-${bits}.safetensors`);
      const rec = await runQuantize({ fpCheckpoint: fp, dataset: ds, method, bits, epochs: 1, trainLimit: 64, batch: 32, testLimit: 20, seed: 1, out, calibrationBatches: 2 });
      for (const k of ['method', 'bits', 'variant', 'observer_mode', 'epochs', 'seed', 'top1', 'nc']) assert.ok(k in rec, k);
      assert.equal(rec.method, method);
      assert.equal(rec.observer_mode, 'frozen');
      assert.equal(rec.steps, 2);
      assert.equal(rec.test!.n, 20);
      assert.deepEqual(JSON.parse(readFileSync(out.replace('.safetensors', '.json'), 'utf8')).top1, rec.top1);
      assert.equal(rec.calibration === null, method === 'lsq');
      const { model, meta } = loadCheckpoint(out);
      assert.equal(meta.quant!.config.method, method);
      const x = Tensor.rand([3, 3, 32, 32], new Rng(5));
      const z1 = ag.noGrad(() => model.call(x)).toArray();
      const again = loadCheckpoint(out).model;
      assert.deepEqual(ag.noGrad(() => again.call(x)).toArray(), z1, 'same logits after reload');
      // Batch independence in frozen mode: one image alone sees the same scales as in the batch.
      const scales = () => quantLayers(model).map((l) => l.inputQuant.scale.data[0]);
      const s3 = scales();
      ag.noGrad(() => model.call(Tensor.from(x.data.slice(0, 3 * 32 * 32), [1, 3, 32, 32])));
      assert.deepEqual(scales(), s3);
      // The export: int · scale is the fake-quant weight, bit for bit; input clamp range matches the grid.
      const ps = exportQuantParams(model);
      const ls = quantLayers(model);
      assert.equal(ps.length, 22);
      for (let i = 0; i < ps.length; i++) {
        const p = ps[i]!;
        const fq = ag.noGrad(() => ls[i]!.weightQuant.call(ls[i]!.module.weight)).toArray();
        const s = p.weight.scale[0]!;
        assert.deepEqual([...p.weight.int].map((k) => f(k * s)), fq, p.name);
        assert.ok([...p.weight.int].every((k) => k >= p.weight.qmin && k <= p.weight.qmax));
        assert.equal(p.input.bits, i === 0 || i === 21 ? 8 : bits);
        assert.equal(p.input.clamp[1], f(p.input.qmax * p.input.scale));
      }
      await assert.rejects(runQuantize({ fpCheckpoint: out, dataset: ds, method: 'lsq', bits: 4, trainLimit: 64, batch: 32 }), (e: unknown) => e instanceof NotFloatCheckpointError && /Expected a float \(FP\) checkpoint for --model/.test(e.message));
    });
  }

  it('faithful mode: the 8-bit ranges follow the batch; setObserverMode / freezeObservers switch back', async () => {
    const out = join(dir, 'dorefa-2.safetensors');
    assert.ok(existsSync(out));
    const { model } = loadCheckpoint(out);
    const x = Tensor.rand([4, 3, 32, 32], new Rng(6));
    const frozen = ag.noGrad(() => model.call(x)).toArray();
    setObserverMode(model, 'faithful');
    const first = quantLayers(model)[0]!.inputQuant;
    ag.noGrad(() => model.call(x));
    const sBatch = first.scale.data[0];
    ag.noGrad(() => model.call(Tensor.from(x.data.slice(0, 3072), [1, 3, 32, 32])));
    assert.notEqual(first.scale.data[0], sBatch, 'the first layer scale depends on the batch');
    assert.throws(() => exportQuantParams(model), /batch-dependent/);
    setObserverMode(model, 'frozen');
    assert.deepEqual(ag.noGrad(() => model.call(x)).toArray(), frozen);
    freezeObservers(model, [x]);
    assert.equal(first.observerMode, 'frozen');
    assert.throws(() => freezeObservers(model, []), UsageError);
  });

  it('bad input: bits 3, unknown method, a missing FP checkpoint', async () => {
    await assert.rejects(runQuantize({ fpCheckpoint: fp, dataset: ds, method: 'lsq', bits: 3 }), UnsupportedBitsError);
    await assert.rejects(runQuantize({ fpCheckpoint: fp, dataset: ds, method: 'xnor', bits: 4 }), UnknownMethodError);
    await assert.rejects(runQuantize({ fpCheckpoint: join(dir, 'nope.safetensors'), method: 'lsq', bits: 4 }), /not found/);
    await assert.rejects(runQuantize({ fpCheckpoint: fp, method: 'lsq', bits: 4, out: 'x.onnx' }), /--out/);
  });
});
