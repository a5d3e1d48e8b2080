import { strict as assert } from 'node:assert';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../../ts/native/binding.ts';
import { Tensor } from '../../../ts/tensor/tensor.ts';
import { noGrad } from '../../../ts/autograd/index.ts';
import { resnet20 } from '../../../ts/nn/models/resnet20.ts';
import { openDataset, type Dataset } from '../../../ts/data/index.ts';
import { writeSafetensors, readSafetensors } from '../../../ts/formats/safetensors.ts';
import { UsageError } from '../../../ts/util/errors.ts';
import { Rng } from '../../../ts/util/rng.ts';
import { setQuiet } from '../../../ts/util/progress.ts';
import { trainModel, paramGroups, TRAIN_DEFAULTS, type TrainResult } from '../../../ts/train/loop.ts';
import { warmupCosineLr } from '../../../ts/train/schedule.ts';
import { saveCheckpoint, loadCheckpoint, readCheckpointMeta, CHECKPOINT_FORMAT } from '../../../ts/train/checkpoint.ts';
import { buildModel, checkArch } from '../../../ts/train/models.ts';

const dir = join(repoRoot, 'test', '.generated', 'train');

/** Tiny runs: a few hundred fashion-mnist images, a handful of steps, no test evaluation unless asked. */
const tiny = { arch: 'resnet20', data: 'fashion-mnist', batch: 32, testLimit: 0 } as const;

describe('train: schedule and parameter groups', () => {
  it('warm-up rises linearly from startFactor·lr to lr, then the cosine falls to ~0', () => {
    const cfg = { peak: 0.1, totalSteps: 100, warmupSteps: 10, startFactor: 0.025 };
    assert.ok(Math.abs(warmupCosineLr(0, cfg) - 0.0025) < 1e-15);
    assert.ok(Math.abs(warmupCosineLr(5, cfg) - (0.0025 + 0.0975 / 2)) < 1e-12);
    assert.equal(warmupCosineLr(10, cfg), 0.1);
    assert.ok(Math.abs(warmupCosineLr(55, cfg) - 0.05) < 1e-12, 'half way through the cosine is lr/2');
    assert.ok(warmupCosineLr(99, cfg) < 1e-4 && warmupCosineLr(99, cfg) > 0);
    for (let t = 11; t < 100; t++) assert.ok(warmupCosineLr(t, cfg) < warmupCosineLr(t - 1, cfg));
    assert.throws(() => warmupCosineLr(100, cfg), UsageError);
  });

  it('BN parameters and biases are exempt from weight decay; conv/linear weights are not', () => {
    const m = resnet20();
    const [dec, free] = paramGroups(m, 1e-4, true);
    assert.equal(dec!.weightDecay, 1e-4);
    assert.equal(free!.weightDecay, 0);
    const names = new Map(m.namedParameters().map(([n, p]) => [p, n]));
    assert.ok(dec!.params.every((p) => /(conv\d|downsample\.0|fc)\.weight$/.test(names.get(p)!)));
    assert.ok(free!.params.every((p) => /(bn\d|downsample\.1)\.(weight|bias)$|fc\.bias$/.test(names.get(p)!)));
    assert.equal(dec!.params.length + free!.params.length, m.parameters().length);
    assert.equal(paramGroups(m, 1e-4, false).length, 1);
  });

  it('unknown architecture, negative epochs, bad lr: named usage errors', async () => {
    assert.throws(() => checkArch('resnet50'), /Expected one of resnet20, resnet18, mobilenet_v2, regnetx_600mf for --arch but received 'resnet50'/);
    await assert.rejects(trainModel({ ...tiny, arch: 'vgg' }), /for --arch/);
    await assert.rejects(trainModel({ ...tiny, epochs: -1 }), (e: unknown) => e instanceof UsageError && /--epochs but received -1/.test(e.message));
    await assert.rejects(trainModel({ ...tiny, lr: 0 }), (e: unknown) => e instanceof UsageError && /--lr/.test(e.message));
    await assert.rejects(trainModel({ ...tiny, trainLimit: 16, batch: 32 }), /--batch/);
  });
});

describe('train: tiny runs on fashion-mnist', function () {
  this.timeout(300000);
  let ds: Dataset;
  let a: TrainResult;
  before(async () => {
    setQuiet(true);
    mkdirSync(dir, { recursive: true });
    ds = await openDataset('fashion-mnist');
    a = await trainModel({ ...tiny, seed: 1, trainLimit: 96, epochs: 1 }, { dataset: ds });
  });

  it('the training loss decreases over a few epochs of 192 images', async () => {
    const r = await trainModel({ ...tiny, seed: 3, trainLimit: 192, epochs: 4, lr: 0.05, warmupEpochs: 0 }, { dataset: ds });
    assert.equal(r.epochs.length, 4);
    assert.equal(r.meta.steps, 4 * 6);
    const first = r.epochs[0]!.loss;
    const last = r.epochs[3]!.loss;
    assert.ok(first > 2.0, `the first epoch starts near ln 10: ${first}`);
    assert.ok(last < first - 0.15, `loss ${first} -> ${last}`);
    assert.equal(r.nanAt, null);
  });

  it('same seed -> identical checkpoint bytes; another seed -> different bytes and subset', async () => {
    const b = await trainModel({ ...tiny, seed: 1, trainLimit: 96, epochs: 1 }, { dataset: ds });
    const c = await trainModel({ ...tiny, seed: 2, trainLimit: 96, epochs: 1 }, { dataset: ds });
    const files = ['a', 'b', 'c'].map((k) => join(dir, `${k}.safetensors`));
    saveCheckpoint(files[0]!, a.model, a.meta);
    saveCheckpoint(files[1]!, b.model, b.meta);
    saveCheckpoint(files[2]!, c.model, c.meta);
    const [fa, fb, fc] = files.map((f) => readFileSync(f));
    assert.ok(fa!.equals(fb!), 'same seed, same bytes');
    assert.ok(!fa!.equals(fc!), 'another seed, other bytes');
    assert.notEqual(a.meta.trainSubset.sha256, c.meta.trainSubset.sha256);
    assert.equal(a.meta.steps, 3);
  });

  it('checkpoint round trip: same logits, and the record remembers data, subset, stats, preprocess, versions', async () => {
    const f = join(dir, 'rt.safetensors');
    saveCheckpoint(f, a.model, a.meta);
    const { model, meta } = loadCheckpoint(f);
    assert.deepEqual(meta, a.meta);
    assert.equal(meta.data, 'fashion-mnist');
    assert.equal(meta.trainSubset.n, 96);
    assert.equal(meta.trainSubset.split, 'train');
    assert.deepEqual(meta.mean, ds.stats!.mean);
    assert.equal(meta.preprocess, 'dec-pil');
    assert.match(meta.versions.commit ?? '', /^[0-9a-f]{40}$/);
    assert.equal(readSafetensors(f).metadata!.get('format'), CHECKPOINT_FORMAT);
    const x = new Float32Array(4 * 3 * 32 * 32);
    const rng = new Rng(9);
    for (let i = 0; i < x.length; i++) x[i] = rng.uniform();
    a.model.eval();
    const z0 = noGrad(() => a.model.call(Tensor.from(x, [4, 3, 32, 32]))).toArray();
    const z1 = noGrad(() => model.call(Tensor.from(x, [4, 3, 32, 32]))).toArray();
    assert.deepEqual(z1, z0);
    assert.equal(readCheckpointMeta(f).arch, 'resnet20');
  });

  it('a checkpoint of another arch, tensors of another arch, a shape mismatch, a foreign file: named errors', () => {
    const f = join(dir, 'rt2.safetensors');
    saveCheckpoint(f, a.model, a.meta);
    assert.throws(() => loadCheckpoint(f, { arch: 'resnet18' }), (e: unknown) => e instanceof UsageError && /Expected a resnet18 checkpoint .* holds a resnet20/.test(e.message));
    const lying = join(dir, 'lying.safetensors');
    saveCheckpoint(lying, a.model, { ...a.meta, arch: 'resnet18' });
    assert.throws(() => loadCheckpoint(lying), (e: unknown) => e instanceof UsageError && /does not fit a resnet18 .*missing entry 'layer4/.test(e.message));
    const five = join(dir, 'five.safetensors');
    saveCheckpoint(five, a.model, { ...a.meta, numClasses: 5 });
    assert.throws(() => loadCheckpoint(five), (e: unknown) => e instanceof UsageError && /'fc.weight' has shape \[10, 64\] but the model expects \[5, 64\]/.test(e.message));
    const foreign = join(dir, 'foreign.safetensors');
    writeSafetensors(foreign, { metadata: new Map([['format', 'pt']]), tensors: new Map() });
    assert.throws(() => loadCheckpoint(foreign), (e: unknown) => e instanceof UsageError && /Expected a qrobust checkpoint .* format 'pt'/.test(e.message));
    assert.throws(() => loadCheckpoint(join(dir, 'missing.safetensors')), (e: unknown) => e instanceof UsageError && /not found/.test(e.message));
    const corrupt = join(dir, 'corrupt.safetensors');
    writeSafetensors(corrupt, { metadata: null, tensors: new Map() });
    assert.throws(() => loadCheckpoint(corrupt), UsageError);
    assert.throws(() => buildModel('resnet20', { numClasses: 1, mean: [0, 0, 0], std: [1, 1, 1], seed: 0 }), /numClasses/);
  });

  it('a non-finite loss stops the run and marks it NC', async () => {
    const r = await trainModel({ ...tiny, seed: 1, trainLimit: 64, epochs: 3, lr: 1e30, warmupEpochs: 0 }, { dataset: ds });
    assert.ok(r.nanAt, 'diverged');
    assert.equal(r.nc, true);
    assert.match(r.ncReason!, /non-finite loss at epoch \d step \d/);
    assert.equal(r.test, null);
    assert.equal(r.meta.nc, true);
  });

  it('trains a given module (fine-tuning / QAT hook) and calls onStep after each update', async () => {
    const m = resnet20({ seed: 11, mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] });
    const before = m.fc.weight.toArray();
    const seen: number[] = [];
    const r = await trainModel({ ...tiny, seed: 1, trainLimit: 64, epochs: 1 }, { dataset: ds, model: m, onStep: (i) => seen.push(i.step) });
    assert.equal(r.model, m);
    assert.deepEqual(seen, [1, 2]);
    assert.notDeepEqual(m.fc.weight.toArray(), before);
    assert.deepEqual(r.meta.mean, [0.5, 0.5, 0.5], 'the module\'s own normalisation is recorded');
  });

  it('defaults are the documented recipe', () => {
    assert.deepEqual(
      { e: TRAIN_DEFAULTS.epochs, lr: TRAIN_DEFAULTS.lr, b: TRAIN_DEFAULTS.batch, n: TRAIN_DEFAULTS.nesterov, m: TRAIN_DEFAULTS.momentum, wd: TRAIN_DEFAULTS.weightDecay, ls: TRAIN_DEFAULTS.labelSmoothing },
      { e: 3, lr: 0.1, b: 128, n: true, m: 0.9, wd: 1e-4, ls: 0.1 },
    );
  });
});
