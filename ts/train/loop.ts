/**
 * The float training loop (issue 3 "Models and training"; PROTOCOL.md §1's recipe adapted to a from-scratch
 * run on the embedded set): SGD with momentum 0.9 and Nesterov, weight decay with BN parameters and biases
 * exempt (a param group of their own), linear warm-up then cosine to 0, label-smoothed cross-entropy,
 * seeded init, shuffles and augmentation (RandomCrop 32 pad 4 + horizontal flip on the reference-pipeline
 * image). The same seed, data and code give the same weights, bit for bit, at a fixed thread count.
 *
 * The train subset is decoded once through the preprocess hook (`dec-pil`, ONECROP) into memory as uint8
 * (3 KiB an image at 32 x 32) and augmented from there each epoch, so no epoch re-decodes JPEGs.
 * A non-finite loss stops the run: the result is not converged (NC, CONVENTIONS.md) and no checkpoint is
 * written by the CLI.
 */
import { QrobustError, UsageError, invalidOption } from '../util/errors.ts';
import { int, num, oneOf } from '../util/is.ts';
import { Rng } from '../util/rng.ts';
import { log, startProgress } from '../util/progress.ts';
import { Tensor } from '../tensor/tensor.ts';
import { backward, crossEntropy } from '../autograd/index.ts';
import { SGD, type ParamGroup } from '../nn/optim.ts';
import type { Module } from '../nn/module.ts';
import { native } from '../native/binding.ts';
import { openDataset } from '../data/index.ts';
import { selectSubset, batchOrder, type SubsetRecord } from '../data/subset.ts';
import { evalInput } from '../data/batch.ts';
import { randomCropFlip } from '../data/augment.ts';
import { preprocessProvider, DEFAULT_PREPROCESS_ID } from '../data/preprocess.ts';
import type { Dataset, Split } from '../data/types.ts';
import { evaluateClean, type CleanResult } from '../eval/clean.ts';
import { runVersions } from '../eval/versions.ts';
import { buildModel, checkArch, type Arch } from './models.ts';
import { warmupCosineLr } from './schedule.ts';
import type { CheckpointMeta } from './checkpoint.ts';

/** Training options; every field has the default of {@link TRAIN_DEFAULTS}. */
export interface TrainConfig {
  arch: string;
  /** data name (CONVENTIONS.md) */
  data: string;
  epochs: number;
  /** peak learning rate */
  lr: number;
  batch: number;
  seed: number;
  /** train subset size (stratified, seeded); null = the whole train split */
  trainLimit: number | null;
  /** test subset for the evaluation after training; null = the whole test split, 0 = no evaluation */
  testLimit: number | null;
  momentum: number;
  nesterov: boolean;
  weightDecay: number;
  /** exempt BN weights/biases and every bias from weight decay */
  noDecayBnBias: boolean;
  labelSmoothing: number;
  /** warm-up length in epochs (may be fractional) */
  warmupEpochs: number;
  /** warm-up starts at this fraction of lr */
  warmupStartFactor: number;
  /** `crop-flip` (RandomCrop S pad 4 + flip) or `none` */
  augment: 'crop-flip' | 'none';
  /** model input size S */
  size: number;
  /** preprocess id of the reference pipeline */
  preprocess: string;
  /** print a progress line every this many steps when stderr is not a terminal (0: per epoch only) */
  logEvery: number;
}

/**
 * The defaults of `qrobust train` (resnet20 on fashion-mnist): 3 epochs at batch 128, peak lr 0.1,
 * Nesterov momentum 0.9, weight decay 1e-4 (the recipe's) without BN/bias, label smoothing 0.1, a quarter
 * epoch of warm-up from 0.025·lr (the recipe's 1e-4 → 4e-3 ratio), then cosine to 0.
 */
export const TRAIN_DEFAULTS: Omit<TrainConfig, 'arch' | 'data'> = {
  epochs: 3, lr: 0.1, batch: 128, seed: 0, trainLimit: null, testLimit: null, momentum: 0.9, nesterov: true,
  weightDecay: 1e-4, noDecayBnBias: true, labelSmoothing: 0.1, warmupEpochs: 0.25, warmupStartFactor: 0.025,
  augment: 'crop-flip', size: 32, preprocess: DEFAULT_PREPROCESS_ID, logEvery: 50,
};

/** One epoch's record. */
export interface EpochRecord {
  epoch: number;
  steps: number;
  /** mean training loss (label-smoothed) */
  loss: number;
  /** top-1 on the augmented training batches, percent */
  trainTop1: number;
  /** learning rate of the epoch's last step */
  lr: number;
  seconds: number;
}

/** What {@link trainModel} returns. */
export interface TrainResult {
  model: Module;
  /** the checkpoint record (the CLI writes it with the weights) */
  meta: CheckpointMeta;
  epochs: EpochRecord[];
  /** the clean evaluation after training, or null (testLimit 0, NaN loss, or no test split) */
  test: CleanResult | null;
  /** not converged: a non-finite loss, or test top-1 below 2 x chance */
  nc: boolean;
  ncReason: string | null;
  /** where a non-finite loss appeared */
  nanAt: { epoch: number; step: number; lr: number } | null;
  seconds: { decode: number; train: number; eval: number; total: number };
  /** seconds per epoch (training only), mean over the epochs run */
  secondsPerEpoch: number;
}

function checkConfig(c: TrainConfig): TrainConfig {
  checkArch(c.arch);
  if (typeof c.data !== 'string' || c.data.length === 0) throw invalidOption('--data', 'a data name', c.data);
  int('--epochs', c.epochs, 1, 100000);
  num('--lr', c.lr, 0);
  if (!(c.lr > 0)) throw invalidOption('--lr', 'a number > 0', c.lr);
  int('--batch', c.batch, 2, 65536);
  int('--seed', c.seed, 0, 0xffffffff);
  if (c.trainLimit !== null) int('--train-limit', c.trainLimit, 2);
  if (c.testLimit !== null) int('--test-limit', c.testLimit, 0);
  num('momentum', c.momentum, 0, 1);
  num('weight decay', c.weightDecay, 0);
  num('label smoothing', c.labelSmoothing, 0, 1);
  num('warm-up epochs', c.warmupEpochs, 0);
  num('warm-up start factor', c.warmupStartFactor, 0, 1);
  oneOf('augment', c.augment, ['crop-flip', 'none'] as const);
  int('size', c.size, 8, 4096);
  int('logEvery', c.logEvery, 0);
  if (c.nesterov && c.momentum <= 0) throw new UsageError('Nesterov momentum needs momentum > 0');
  return c;
}

/**
 * Splits parameters into a decayed group (conv / linear weights) and an exempt one (BN weights and
 * biases, every bias: anything with fewer than 2 dimensions).
 * @param model the module
 * @param weightDecay the decay of the first group
 * @param exempt false puts everything in one decayed group
 * @throws never
 * @example
 * paramGroups(resnet20(), 1e-4, true).map((g) => g.params.length) // [22, 43]
 */
export function paramGroups(model: Module, weightDecay: number, exempt: boolean): ParamGroup[] {
  const params = model.namedParameters();
  if (!exempt) return [{ params: params.map(([, p]) => p), weightDecay }];
  return [
    { params: params.filter(([, p]) => p.ndim >= 2).map(([, p]) => p), weightDecay },
    { params: params.filter(([, p]) => p.ndim < 2).map(([, p]) => p), weightDecay: 0 },
  ];
}

/**
 * Decodes samples once through the preprocess hook into one uint8 buffer (HWC, S x S x 3 each).
 * @throws QrobustError when a sample cannot be read or decoded
 */
async function decodeAll(split: Split, indices: Int32Array, size: number, preprocess: string, label: string): Promise<Uint8Array> {
  const plane = size * size * 3;
  const out = new Uint8Array(indices.length * plane);
  const toInput = evalInput(preprocess, size);
  const bar = startProgress(label, indices.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const k = next++;
      if (k >= indices.length) return;
      const s = await split.get(indices[k]!);
      const img = await toInput(s, null);
      if (img.data.length !== plane) throw new QrobustError(`${s.file}: the preprocess gave ${img.width}x${img.height}x${img.channels}, expected ${size}x${size}x3`);
      out.set(img.data, k * plane);
      bar.tick();
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(16, indices.length) }, worker));
  } finally {
    bar.stop();
  }
  return out;
}

/** Per-channel mean / std of decoded HWC uint8 images in [0, 1] (population std over all pixels). */
function channelStats(pixels: Uint8Array): { mean: number[]; std: number[] } {
  const sum = [0, 0, 0];
  const sq = [0, 0, 0];
  for (let i = 0; i < pixels.length; i++) {
    const v = pixels[i]!;
    sum[i % 3]! += v;
    sq[i % 3]! += v * v;
  }
  const count = pixels.length / 3;
  const mean = sum.map((s) => s / count / 255);
  const std = sq.map((q, c) => Math.sqrt(Math.max(q / count / 65025 - mean[c]! * mean[c]!, 1e-12)));
  return { mean, std };
}

/** Options of {@link trainModel} besides the config. */
export interface TrainHooks {
  /** an opened data set (tests pass one to avoid reopening) */
  dataset?: Dataset;
  /**
   * The module to train instead of a fresh `cfg.arch` (fine-tuning, or a QAT-prepared model whose
   * fake-quant parameters are among its parameters). It must take [N, 3, S, S] inputs in [0, 1] and give
   * [N, classes] logits; its own normalisation is kept, and the recorded mean/std are its `normalize.mean` / `normalize.std`
   * buffers when it has them.
   */
  model?: Module;
  /** called after every optimiser update (QAT observers, custom logging) */
  onStep?: (info: { epoch: number; step: number; lr: number; loss: number; model: Module }) => void;
}

/**
 * Trains a model from scratch.
 * @param cfg see {@link TrainConfig}; missing fields take {@link TRAIN_DEFAULTS}
 * @param hooks optional opened data set
 * @returns the model, its checkpoint record, per-epoch records, the test evaluation and NC status
 * @throws UsageError for a bad option, an unknown data name or a data set without a train split;
 *   QrobustError when a sample cannot be decoded
 * @example
 * const r = await trainModel({ arch: 'resnet20', data: 'fashion-mnist', epochs: 1, trainLimit: 256, testLimit: 100 });
 * r.epochs[0].loss // e.g. 2.1
 */
export async function trainModel(cfg: Partial<TrainConfig> & { arch: string; data: string }, hooks: TrainHooks = {}): Promise<TrainResult> {
  const c = checkConfig({ ...TRAIN_DEFAULTS, ...cfg });
  const arch: Arch = checkArch(c.arch);
  const tStart = performance.now();
  const ds = hooks.dataset ?? (await openDataset(c.data));
  if (!ds.trainSplit) throw new UsageError(`Expected a data set with a train split for --data but ${ds.name} has only ${ds.splits.join(', ')}`);
  const train = ds.split(ds.trainSplit);
  const { indices: trainIdx, record: trainSubset } = selectSubset(train.labels, c.trainLimit, c.seed, { split: ds.trainSplit });
  if (trainIdx.length < c.batch) throw invalidOption('--batch', `at most the ${trainIdx.length} training samples`, c.batch);
  const provider = preprocessProvider(c.preprocess);

  const t0 = performance.now();
  const pixels = await decodeAll(train, trainIdx, c.size, c.preprocess, `decoding ${trainIdx.length} training images`);
  const labels = Int32Array.from(trainIdx, (i) => train.labels[i]!);
  const secDecode = (performance.now() - t0) / 1000;

  // The recorded statistics when they match this preprocess and size, else computed on the train subset.
  const stats = ds.stats && ds.stats.size === c.size && ds.stats.preprocess.includes(provider.impl)
    ? { mean: [...ds.stats.mean], std: [...ds.stats.std], source: `${ds.name} ${ds.stats.split} (${ds.stats.images} images, ${ds.stats.preprocess})` }
    : { ...channelStats(pixels), source: `train subset ${trainSubset.sha256} (${trainIdx.length} images, ${provider.impl})` };

  const model = hooks.model ?? buildModel(arch, { numClasses: ds.classes.length, mean: stats.mean, std: stats.std, seed: c.seed });
  if (hooks.model) {
    const sd = model.stateDict();
    const m = sd.get('normalize.mean');
    const sdv = sd.get('normalize.std');
    if (m && sdv && m.size === 3 && sdv.size === 3) Object.assign(stats, { mean: m.toArray(), std: sdv.toArray(), source: 'the given model' });
  }
  model.train();
  const opt = new SGD(paramGroups(model, c.weightDecay, c.noDecayBnBias), { lr: c.lr, momentum: c.momentum, nesterov: c.nesterov, weightDecay: c.weightDecay });

  const positions = Int32Array.from({ length: trainIdx.length }, (_, i) => i);
  const stepsPerEpoch = Math.floor(trainIdx.length / c.batch);
  const totalSteps = stepsPerEpoch * c.epochs;
  const warmupSteps = Math.min(totalSteps - 1, Math.round(c.warmupEpochs * stepsPerEpoch));
  const schedule = { peak: c.lr, totalSteps, warmupSteps, startFactor: c.warmupStartFactor };
  const size = c.size;
  const plane = size * size * 3;
  const conv = native();
  const rng = new Rng(c.seed);
  const epochs: EpochRecord[] = [];
  const tty = process.stderr.isTTY;
  let nanAt: TrainResult['nanAt'] = null;
  let step = 0;
  const bar = startProgress(`training ${arch} (${c.epochs} epochs x ${stepsPerEpoch} steps)`, totalSteps);
  const tTrain = performance.now();
  try {
    for (let e = 0; e < c.epochs && !nanAt; e++) {
      const te = performance.now();
      const order = batchOrder(positions, c.batch, { shuffle: rng.fork(`shuffle:${e}`), dropLast: true });
      const aug = rng.fork(`augment:${e}`);
      let lossSum = 0;
      let correct = 0;
      let seen = 0;
      let lr = 0;
      for (let s = 0; s < order.length; s++) {
        const b = order[s]!;
        const n = b.length;
        const x = new Float32Array(n * 3 * size * size);
        const y = new Int32Array(n);
        for (let k = 0; k < n; k++) {
          const p = b[k]!;
          let img = { data: pixels.subarray(p * plane, (p + 1) * plane), width: size, height: size, channels: 3 };
          if (c.augment === 'crop-flip') img = randomCropFlip(img, aug.fork(p), { size, padding: 4, flipP: 0.5 });
          conv.hwcToChw(img.data, size, size, 3, x.subarray(k * plane, (k + 1) * plane), 1 / 255);
          y[k] = labels[p]!;
        }
        lr = warmupCosineLr(step, schedule);
        opt.lr = lr;
        const logits = model.call(Tensor.from(x, [n, 3, size, size]));
        const loss = crossEntropy(logits, y, { labelSmoothing: c.labelSmoothing });
        const lv = loss.data[0]!;
        if (!Number.isFinite(lv)) {
          nanAt = { epoch: e + 1, step: s + 1, lr };
          break;
        }
        backward(loss);
        opt.step();
        opt.zeroGrad();
        const z = logits.contiguous().data;
        const k10 = logits.shape[1]!;
        for (let i = 0; i < n; i++) {
          let best = 0;
          for (let j = 1; j < k10; j++) if (z[i * k10 + j]! > z[i * k10 + best]!) best = j;
          if (best === y[i]) correct++;
        }
        lossSum += lv * n;
        seen += n;
        step++;
        hooks.onStep?.({ epoch: e + 1, step, lr, loss: lv, model });
        bar.tick();
        if (!tty && c.logEvery > 0 && (s + 1) % c.logEvery === 0) {
          const el = (performance.now() - tTrain) / 1000;
          log(`epoch ${e + 1}/${c.epochs} step ${s + 1}/${order.length}: loss ${(lossSum / seen).toFixed(4)}, train top-1 ${((100 * correct) / seen).toFixed(2)}%, lr ${lr.toPrecision(3)}, ${(el / step).toFixed(3)} s/step, ETA ${Math.round((el / step) * (totalSteps - step))} s`);
        }
      }
      if (seen > 0) {
        const rec: EpochRecord = { epoch: e + 1, steps: seen / c.batch, loss: lossSum / seen, trainTop1: (100 * correct) / seen, lr, seconds: (performance.now() - te) / 1000 };
        epochs.push(rec);
        log(`epoch ${rec.epoch}/${c.epochs}: loss ${rec.loss.toFixed(4)}, train top-1 ${rec.trainTop1.toFixed(2)}%, ${rec.seconds.toFixed(1)} s`);
      }
    }
  } finally {
    bar.stop();
  }
  const secTrain = (performance.now() - tTrain) / 1000;
  model.eval();

  let test: CleanResult | null = null;
  const tEval = performance.now();
  if (!nanAt && ds.testSplit && c.testLimit !== 0) {
    const split = ds.split(ds.testSplit);
    const { indices, record } = selectSubset(split.labels, c.testLimit, c.seed, { split: ds.testSplit });
    const ebar = startProgress(`evaluating on ${indices.length} test images`, indices.length);
    let last = 0;
    try {
      test = await evaluateClean(model, split, { modelName: '(just trained)', dataName: ds.name, indices, subset: record, seed: c.seed, size, preprocess: c.preprocess, batch: 256 }, {
        onBatch: (d) => { ebar.tick(d - last); last = d; },
      });
    } finally {
      ebar.stop();
    }
  }
  const secEval = (performance.now() - tEval) / 1000;
  const ncReason = nanAt ? `non-finite loss at epoch ${nanAt.epoch} step ${nanAt.step} (lr ${nanAt.lr})` : test && test.nc ? `test top-1 ${test.top1}% below ${test.ncThreshold}% (2 x chance)` : null;
  const recipe: Record<string, unknown> = {
    optimizer: 'sgd', lr: c.lr, momentum: c.momentum, nesterov: c.nesterov, weightDecay: c.weightDecay, noDecayBnBias: c.noDecayBnBias,
    labelSmoothing: c.labelSmoothing, schedule: 'warmup-cosine', warmupSteps, warmupStartFactor: c.warmupStartFactor, batch: c.batch,
    stepsPerEpoch, augment: c.augment, statsSource: stats.source, threads: process.env.OMP_NUM_THREADS ?? null,
  };
  const meta: CheckpointMeta = {
    arch, numClasses: ds.classes.length, inputSize: size, classes: [...ds.classes], mean: stats.mean, std: stats.std, data: ds.name,
    trainSubset: trainSubset as SubsetRecord, preprocess: c.preprocess, preprocessImpl: provider.impl, seed: c.seed, epochs: epochs.length,
    steps: step, recipe, nc: ncReason !== null, versions: await runVersions(),
  };
  return {
    model, meta, epochs, test, nc: ncReason !== null, ncReason, nanAt,
    seconds: { decode: secDecode, train: secTrain, eval: secEval, total: (performance.now() - tStart) / 1000 },
    secondsPerEpoch: epochs.length ? epochs.reduce((a, r) => a + r.seconds, 0) / epochs.length : 0,
  };
}
