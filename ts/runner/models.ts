/**
 * The models of the grid, as the runner obtains them: the FP model (trained with the preset's FP budget,
 * or read from `--fp`), and one QAT model per (arch, method, bits) through ts/quant. Each model is
 * stored in the result store with its checkpoint bytes, so a resumed run loads it instead of training again.
 *
 * Checkpoints are safetensors files (ts/train/checkpoint.ts); the store keeps their bytes, and loading goes
 * through a temporary file and `loadModel` (qrobust checkpoints of either kind, or a float ONNX model).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import type { Module } from '../nn/module.ts';
import type { Dataset } from '../data/types.ts';
import { trainModel } from '../train/loop.ts';
import { saveCheckpoint, type CheckpointMeta } from '../train/checkpoint.ts';
import { loadModel } from '../eval/load-model.ts';
import type { TrainBudget } from './presets.ts';

/** A model in memory with what the runner records about it. */
export interface LoadedGridModel {
  model: Module;
  /** input size S and preprocess id of the evaluation */
  inputSize: number;
  preprocess: string;
  numClasses: number;
}

/** The result of training or quantizing: the model, its checkpoint bytes and its record. */
export interface ProducedModel extends LoadedGridModel {
  checkpoint: Uint8Array | null;
  record: Record<string, unknown>;
  nc: boolean;
  ncReason: string | null;
}

function withTemp<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'qrobust-run-'));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The bytes of a checkpoint written by {@link saveCheckpoint}. */
export function checkpointBytes(model: Module, meta: CheckpointMeta): Uint8Array {
  return withTemp((dir) => {
    const f = join(dir, 'm.safetensors');
    saveCheckpoint(f, model, meta);
    return new Uint8Array(readFileSync(f));
  });
}

/**
 * Loads checkpoint bytes (a qrobust safetensors checkpoint, FP or quantized).
 * @throws UsageError / QrobustError as loadModel
 */
export function loadCheckpointBytes(bytes: Uint8Array, name = 'm.safetensors'): LoadedGridModel {
  return withTemp((dir) => {
    const f = join(dir, name);
    writeFileSync(f, bytes);
    const { model, meta } = loadModel(f);
    return { model, inputSize: meta.inputSize, preprocess: meta.preprocess, numClasses: meta.numClasses };
  });
}

/**
 * Reads `--fp`: a qrobust checkpoint or a float ONNX model.
 * @returns the model, its bytes (kept in the store) and their SHA-256
 */
export function readFpFile(path: string): LoadedGridModel & { bytes: Uint8Array; sha256: string; kind: string } {
  const { model, meta } = loadModel(path);
  const bytes = new Uint8Array(readFileSync(path));
  return { model, inputSize: meta.inputSize, preprocess: meta.preprocess, numClasses: meta.numClasses, bytes, sha256: createHash('sha256').update(bytes).digest('hex'), kind: meta.kind };
}

/**
 * Trains the FP model with the preset's FP budget.
 * @param onStep ticks the cell's progress bar
 */
export async function trainFp(arch: string, ds: Dataset, budget: TrainBudget, seed: number, onStep: () => void): Promise<ProducedModel> {
  const r = await trainModel(
    { arch, data: ds.name, epochs: budget.epochs, trainLimit: budget.trainLimit, lr: budget.lr, batch: budget.batch, seed, testLimit: 0, logEvery: 0 },
    { dataset: ds, onStep },
  );
  if (r.nanAt) return { model: r.model, inputSize: r.meta.inputSize, preprocess: r.meta.preprocess, numClasses: r.meta.numClasses, checkpoint: null, record: trainRecordOf(r.meta, r.epochs, r.seconds), nc: true, ncReason: r.ncReason };
  return {
    model: r.model, inputSize: r.meta.inputSize, preprocess: r.meta.preprocess, numClasses: r.meta.numClasses,
    checkpoint: checkpointBytes(r.model, r.meta), record: trainRecordOf(r.meta, r.epochs, r.seconds), nc: false, ncReason: null,
  };
}

function trainRecordOf(meta: CheckpointMeta, epochs: unknown, seconds: unknown): Record<string, unknown> {
  const { versions: _v, ...rest } = meta;
  return { ...rest, history: epochs, seconds };
}

/** Steps one training run takes (for the progress bar). */
export function trainSteps(budget: TrainBudget, trainSize: number): number {
  const n = budget.trainLimit === null ? trainSize : Math.min(budget.trainLimit, trainSize);
  return Math.floor(n / budget.batch) * budget.epochs;
}
