/**
 * Quantization-aware fine-tuning from an FP checkpoint (`qrobust quantize`, the benchmark runner): load the FP
 * model, prepare it ({@link prepareQat}), fine-tune with the MQBench recipe scaled to the run, calibrate and
 * freeze the batch-dependent ranges (frozen mode), evaluate clean top-1, and write the q-checkpoint with its
 * JSON record beside it.
 *
 * Recipe (PROTOCOL.md §1, scaled): SGD Nesterov m 0.9, peak lr 4e-3 (`lr`), warm-up over the first 1% of the
 * steps from 0.025·lr (the recipe's 1e-4 → 4e-3, 2500 of 250000 iterations), cosine to 0, weight decay 1e-4 on
 * every parameter α and s included (mobilenet_v2: BN and the other 1-d parameters exempt), label smoothing
 * 0.1, the trainer's augmentation (RandomCrop + flip), batch 128. QAT runs the observers per batch (as the
 * source); the observer mode decides what happens after training.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { UsageError, invalidOption } from '../util/errors.ts';
import { int } from '../util/is.ts';
import { Rng } from '../util/rng.ts';
import { log, startProgress } from '../util/progress.ts';
import { Tensor } from '../tensor/tensor.ts';
import { openDataset } from '../data/index.ts';
import { selectSubset, shuffled } from '../data/subset.ts';
import { buildBatch } from '../data/batch.ts';
import type { Dataset } from '../data/types.ts';
import { evaluateClean, type CleanResult } from '../eval/clean.ts';
import { loadCheckpoint, saveCheckpoint, type CheckpointMeta } from '../train/checkpoint.ts';
import { trainModel, type EpochRecord } from '../train/loop.ts';
import type { Module } from '../nn/module.ts';
import { NotFloatCheckpointError, quantConfig, quantConfigToJson, quantId, type QuantConfig, type QuantMeta } from './config.ts';
import { freezeObservers, prepareQat, quantLayers } from './prepare.ts';

/** Options of {@link runQuantize}. */
export interface QuantizeOptions {
  /** the FP checkpoint (written by `qrobust train`) */
  fpCheckpoint: string;
  /** data name; default the checkpoint's */
  data?: string;
  method: string;
  bits: number | string;
  /** `academic` (default) or `library` */
  variant?: string;
  perChannel?: boolean;
  /** `frozen` (default) or `faithful` */
  observerMode?: string;
  /** QAT epochs (default 1) */
  epochs?: number;
  /** peak lr (default 4e-3) */
  lr?: number;
  /** batch (default 128) */
  batch?: number;
  /** stratified, seeded train subset (default: the whole train split) */
  trainLimit?: number | null;
  /** test subset for the clean evaluation (default: the whole test split; 0 skips it) */
  testLimit?: number | null;
  seed?: number;
  /** q-checkpoint to write (`.safetensors`; the record goes beside it as `.json`); null writes nothing */
  out?: string | null;
  /** sets OMP_NUM_THREADS (takes effect only before the addon's first float call) */
  threads?: number;
  /** calibration batches of the frozen ranges (default 8, of `batch` unaugmented training images) */
  calibrationBatches?: number;
  /** images per forward pass of the clean evaluation (default 128; in faithful mode it changes the result) */
  evalBatch?: number;
  /** the FP model's top-1 for the NC rule; default: the FP checkpoint's JSON record */
  fpTop1?: number | null;
  /** progress callback (phase, done, total) */
  onProgress?: (p: { phase: 'train' | 'calibrate' | 'eval'; done: number; total: number }) => void;
  /** an opened data set (in-process runners reuse one) */
  dataset?: Dataset;
}

/** The JSON record of a QAT run (written beside the q-checkpoint, printed by `quantize --json`). */
export interface QuantizeRecord {
  checkpoint: string | null;
  arch: string;
  data: string;
  method: string;
  bits: number;
  variant: string;
  per_channel: boolean;
  observer_mode: string;
  config: ReturnType<typeof quantConfigToJson>;
  id: string;
  epochs: number;
  steps: number;
  seed: number;
  lr: number;
  batch: number;
  /** clean top-1 (percent) on the test subset, null when not evaluated */
  top1: number | null;
  test: { n: number; subset: CleanResult['subset']; batch: number; seconds: number } | null;
  nc: boolean;
  ncReason: string | null;
  /** max(2 × chance, 10% of the FP top-1) */
  ncThreshold: number | null;
  fp: QuantMeta['fp'] & { top1Source: string | null };
  calibration: QuantMeta['calibration'];
  trainSubset: CheckpointMeta['trainSubset'];
  history: EpochRecord[];
  recipe: Record<string, unknown>;
  seconds: { load: number; train: number; calibrate: number; eval: number; total: number };
  secondsPerEpoch: number;
  threads: string | null;
  versions: Record<string, string | null>;
}

/** What {@link quantizeModel} returns. */
export interface QuantizeResult {
  model: Module;
  meta: CheckpointMeta;
  record: QuantizeRecord;
  /** set when the loss became non-finite (no checkpoint is written) */
  nanAt: { epoch: number; step: number; lr: number } | null;
}

/** QAT defaults (PROTOCOL.md §1 recipe, scaled to a short run). */
export const QAT_DEFAULTS = { epochs: 1, lr: 4e-3, batch: 128, seed: 0, calibrationBatches: 8, evalBatch: 128, warmupFraction: 0.01, warmupStartFactor: 0.025, weightDecay: 1e-4, labelSmoothing: 0.1 } as const;

function fpTop1From(path: string): { top1: number | null; source: string | null } {
  const rec = /\.safetensors$/i.test(path) ? path.replace(/\.safetensors$/i, '.json') : `${path}.json`;
  if (!existsSync(rec)) return { top1: null, source: null };
  try {
    const j = JSON.parse(readFileSync(rec, 'utf8')) as { test?: { top1?: unknown; n?: unknown } };
    return typeof j.test?.top1 === 'number' ? { top1: j.test.top1, source: `${rec} (test n ${String(j.test.n)})` } : { top1: null, source: null };
  } catch {
    return { top1: null, source: null };
  }
}

/**
 * Fine-tunes an FP checkpoint with fake quantization and evaluates it; returns the model, its checkpoint
 * record and the JSON record (writes nothing).
 * @param o see {@link QuantizeOptions}
 * @throws UnknownMethodError / UnsupportedBitsError / UsageError for bad options (named);
 *   NotFloatCheckpointError when the checkpoint is already quantized; QrobustError when data cannot be read
 */
export async function quantizeModel(o: QuantizeOptions): Promise<QuantizeResult> {
  if (o === null || typeof o !== 'object') throw invalidOption('options', 'an object', o);
  const t0 = performance.now();
  const cfg: QuantConfig = quantConfig({ method: o.method, bits: o.bits, variant: o.variant, perChannel: o.perChannel, observerMode: o.observerMode });
  const epochs = int('--epochs', o.epochs ?? QAT_DEFAULTS.epochs, 1, 100000);
  const lr = o.lr ?? QAT_DEFAULTS.lr;
  if (typeof lr !== 'number' || !(lr > 0) || !Number.isFinite(lr)) throw invalidOption('--lr', 'a number > 0', lr);
  const batch = int('--batch', o.batch ?? QAT_DEFAULTS.batch, 2, 65536);
  const seed = int('--seed', o.seed ?? QAT_DEFAULTS.seed, 0, 0xffffffff);
  const calBatches = int('calibrationBatches', o.calibrationBatches ?? QAT_DEFAULTS.calibrationBatches, 1, 100000);
  const evalBatch = int('evalBatch', o.evalBatch ?? QAT_DEFAULTS.evalBatch, 1, 65536);
  if (o.trainLimit !== undefined && o.trainLimit !== null) int('--train-limit', o.trainLimit, 2);
  if (o.testLimit !== undefined && o.testLimit !== null) int('--test-limit', o.testLimit, 0);
  if (o.threads !== undefined) process.env.OMP_NUM_THREADS = String(int('--threads', o.threads, 1, 256));

  const { model, meta: fpMeta } = loadCheckpoint(o.fpCheckpoint);
  if (fpMeta.quant) throw new NotFloatCheckpointError(o.fpCheckpoint, `already quantized (${quantId(quantConfig({ method: fpMeta.quant.config.method, bits: fpMeta.quant.config.bits, variant: fpMeta.quant.config.variant, perChannel: fpMeta.quant.config.per_channel }))})`);
  if (fpMeta.nc) throw new NotFloatCheckpointError(o.fpCheckpoint, 'marked not converged (NC)');
  const ds = o.dataset ?? (await openDataset(o.data ?? fpMeta.data));
  if (ds.classes.length !== fpMeta.numClasses) throw invalidOption('--data', `a data set with the checkpoint's ${fpMeta.numClasses} classes`, `${ds.name} (${ds.classes.length} classes)`);
  prepareQat(model, cfg, { inputSize: fpMeta.inputSize, seed });
  const secLoad = (performance.now() - t0) / 1000;

  const trainN = o.trainLimit ?? null;
  if (!ds.trainSplit) throw new UsageError(`Expected a data set with a train split for --data but ${ds.name} has only ${ds.splits.join(', ')}`);
  const nTrain = Math.min(trainN ?? Infinity, ds.split(ds.trainSplit).labels.length);
  const totalSteps = Math.floor(nTrain / batch) * epochs;
  const r = await trainModel({
    arch: fpMeta.arch, data: ds.name, epochs, lr, batch, seed, trainLimit: trainN, testLimit: 0,
    momentum: 0.9, nesterov: true, weightDecay: QAT_DEFAULTS.weightDecay, noDecayBnBias: fpMeta.arch === 'mobilenet_v2',
    labelSmoothing: QAT_DEFAULTS.labelSmoothing, warmupEpochs: QAT_DEFAULTS.warmupFraction * epochs, warmupStartFactor: QAT_DEFAULTS.warmupStartFactor,
    augment: 'crop-flip', size: fpMeta.inputSize, preprocess: fpMeta.preprocess,
  }, {
    dataset: ds, model,
    onStep: (info) => o.onProgress?.({ phase: 'train', done: info.step, total: totalSteps }),
  });

  // Calibration of the frozen ranges: unaugmented training images (the same seeded subset), eval mode.
  const tCal = performance.now();
  let calibration: QuantMeta['calibration'] = null;
  const needsCalibration = quantLayers(model).some((l) => l.inputQuant.kind === 'minmax');
  if (!r.nanAt && cfg.observerMode === 'frozen' && needsCalibration) {
    const train = ds.split(ds.trainSplit!);
    const { indices } = selectSubset(train.labels, trainN, seed, { split: ds.trainSplit! });
    const order = shuffled(indices, new Rng(seed).fork('calibrate'));
    const k = Math.max(1, Math.min(calBatches, Math.floor(order.length / batch)));
    const bar = startProgress(`calibrating frozen ranges on ${k} x ${batch} training images`, k);
    const batches: Tensor[] = [];
    try {
      for (let i = 0; i < k; i++) {
        const b = await buildBatch(train, order.subarray(i * batch, Math.min(order.length, (i + 1) * batch)), { size: fpMeta.inputSize, preprocess: fpMeta.preprocess });
        batches.push(Tensor.from(b.x, b.shape));
        bar.tick();
        o.onProgress?.({ phase: 'calibrate', done: i + 1, total: k });
      }
    } finally {
      bar.stop();
    }
    freezeObservers(model, batches);
    calibration = { batches: k, batch, seed, split: ds.trainSplit! };
  }
  const secCal = (performance.now() - tCal) / 1000;

  // Clean evaluation.
  const tEval = performance.now();
  let test: CleanResult | null = null;
  if (!r.nanAt && ds.testSplit && o.testLimit !== 0) {
    const split = ds.split(ds.testSplit);
    const { indices, record } = selectSubset(split.labels, o.testLimit ?? null, seed, { split: ds.testSplit });
    const bar = startProgress(`evaluating ${quantId(cfg)} on ${indices.length} test images`, indices.length);
    let last = 0;
    try {
      test = await evaluateClean(model, split, { modelName: o.out ?? '(quantized in memory)', dataName: ds.name, indices, subset: record, seed, size: fpMeta.inputSize, preprocess: fpMeta.preprocess, batch: evalBatch }, {
        onBatch: (d, total) => { bar.tick(d - last); last = d; o.onProgress?.({ phase: 'eval', done: d, total }); },
      });
    } finally {
      bar.stop();
    }
  }
  const secEval = (performance.now() - tEval) / 1000;

  const fpRef = o.fpTop1 !== undefined && o.fpTop1 !== null ? { top1: o.fpTop1, source: 'given' } : fpTop1From(o.fpCheckpoint);
  const chance2 = 200 / ds.classes.length;
  const ncThreshold = test ? Math.max(chance2, fpRef.top1 !== null ? 0.1 * fpRef.top1 : 0) : null;
  const ncReason = r.nanAt ? `non-finite loss at epoch ${r.nanAt.epoch} step ${r.nanAt.step} (lr ${r.nanAt.lr})`
    : test && ncThreshold !== null && test.top1 < ncThreshold ? `test top-1 ${test.top1}% below ${ncThreshold}% (max of 2 x chance and 10% of the FP top-1)` : null;
  const fp: QuantMeta['fp'] = { checkpoint: o.fpCheckpoint, arch: fpMeta.arch, seed: fpMeta.seed, epochs: fpMeta.epochs, top1: fpRef.top1 };
  const quant: QuantMeta = { config: quantConfigToJson(cfg), fp, calibration };
  const recipe = { ...r.meta.recipe, qat: true, warmupFraction: QAT_DEFAULTS.warmupFraction, weightDecayOn: fpMeta.arch === 'mobilenet_v2' ? 'conv/linear weights (BN, biases, alpha, s exempt)' : 'every parameter (alpha and s included)', observersDuringTraining: 'per batch' };
  const meta: CheckpointMeta = { ...r.meta, recipe, nc: ncReason !== null, quant };
  const record: QuantizeRecord = {
    checkpoint: null, arch: fpMeta.arch, data: ds.name, method: cfg.method, bits: cfg.bits, variant: cfg.variant, per_channel: cfg.perChannel,
    observer_mode: cfg.observerMode, config: quantConfigToJson(cfg), id: quantId(cfg), epochs: r.epochs.length, steps: r.meta.steps, seed, lr, batch,
    top1: test ? test.top1 : null,
    test: test ? { n: test.n, subset: test.subset, batch: evalBatch, seconds: test.seconds } : null,
    nc: ncReason !== null, ncReason, ncThreshold,
    fp: { ...fp, top1Source: fpRef.source }, calibration, trainSubset: r.meta.trainSubset, history: r.epochs, recipe,
    seconds: { load: secLoad, train: r.seconds.train, calibrate: secCal, eval: secEval, total: (performance.now() - t0) / 1000 },
    secondsPerEpoch: r.secondsPerEpoch, threads: process.env.OMP_NUM_THREADS ?? null, versions: r.meta.versions,
  };
  log(`${quantId(cfg)}: ${r.epochs.length} epoch(s), ${test ? `top-1 ${test.top1.toFixed(2)}% on ${test.n}` : 'not evaluated'}${ncReason ? ` (NC: ${ncReason})` : ''}`);
  return { model, meta, record, nanAt: r.nanAt };
}

/** The record's path beside a checkpoint: `a/m.safetensors` → `a/m.json`. */
export function quantRecordPath(out: string): string {
  return /\.safetensors$/i.test(out) ? out.replace(/\.safetensors$/i, '.json') : `${out}.json`;
}

/**
 * QAT from an FP checkpoint: {@link quantizeModel}, then (with `out`) the q-checkpoint and its JSON record
 * beside it. A non-finite loss (NC) writes the record only.
 * @param o see {@link QuantizeOptions}
 * @returns the JSON record (method, bits, variant, observer_mode, epochs, seed, top1, nc, ...)
 * @throws as {@link quantizeModel}; UsageError for an `out` that is not a .safetensors path
 * @example
 * const rec = await runQuantize({ fpCheckpoint: 'r20.safetensors', method: 'lsq', bits: 4, epochs: 1, trainLimit: 5000, seed: 0, out: 'r20-lsq4.safetensors' });
 * rec.top1 // e.g. 89.5
 */
export async function runQuantize(o: QuantizeOptions): Promise<QuantizeRecord> {
  const out = o.out ?? null;
  if (out !== null && (typeof out !== 'string' || !/\.safetensors$/i.test(out))) throw invalidOption('--out', 'a path ending in .safetensors', out);
  if (typeof o.fpCheckpoint !== 'string' || o.fpCheckpoint.length === 0) throw new UsageError('Expected an FP checkpoint for --model but received nothing');
  const r = await quantizeModel(o);
  if (out === null) return r.record;
  const record = { ...r.record, checkpoint: r.nanAt ? null : out };
  if (!r.nanAt) saveCheckpoint(out, r.model, r.meta);
  writeFileSync(quantRecordPath(out), `${JSON.stringify(record, null, 1)}\n`);
  return record;
}
