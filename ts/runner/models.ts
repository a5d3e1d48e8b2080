/**
 * The models of the grid, as the runner obtains them: the FP model (trained with the preset's FP budget,
 * or read from `--fp`), and one QAT model per (arch, method, bits) through ts/quant. Each model is
 * stored in the result store with its checkpoint bytes, so a resumed run loads it instead of training again.
 *
 * Checkpoints are safetensors bytes (ts/train/checkpoint.ts checkpointToBytes / checkpointFromBytes) held in
 * memory and in the store; a float ONNX `--fp` is kept as its file's bytes and decoded from them.
 */
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import type { Module } from '../nn/module.ts';
import type { Dataset } from '../data/types.ts';
import { trainModel } from '../train/loop.ts';
import { checkpointFromBytes, checkpointToBytes, type CheckpointMeta } from '../train/checkpoint.ts';
import { decodeModel } from '../formats/onnx.ts';
import { loadModel, loadOnnxModel } from '../eval/load-model.ts';
import { TorchvisionFpError, bnFolded, foldedExplanation, isQrobustCheckpoint, torchvisionFp } from './torchvision.ts';
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

/** The bytes of a checkpoint (what saveCheckpoint writes). */
export function checkpointBytes(model: Module, meta: CheckpointMeta): Uint8Array {
  return checkpointToBytes(model, meta);
}

/**
 * Loads checkpoint bytes: a qrobust safetensors checkpoint (FP or quantized), or a float ONNX model when `name`
 * ends in `.onnx`.
 * @throws UsageError / QrobustError as loadModel
 */
export function loadCheckpointBytes(bytes: Uint8Array, name = 'm.safetensors'): LoadedGridModel {
  if (/\.onnx$/i.test(name)) {
    const { model, meta } = loadOnnxModel(decodeModel(bytes, name), name);
    return { model, inputSize: meta.inputSize, preprocess: meta.preprocess, numClasses: meta.numClasses };
  }
  const { model, meta } = checkpointFromBytes(bytes, name);
  return { model, inputSize: meta.inputSize, preprocess: meta.preprocess, numClasses: meta.numClasses };
}

/** `--fp` read: the model, the bytes kept in the store, the SHA-256 of the user's file. */
export interface FpFile extends LoadedGridModel {
  /** the bytes stored as the FP model's checkpoint: the file itself, or the qrobust checkpoint converted from it */
  bytes: Uint8Array;
  /** SHA-256 of the user's file */
  sha256: string;
  /** `checkpoint` (qrobust), `onnx` (float ONNX run as it is), `torchvision-safetensors` / `torchvision-onnx` (converted) */
  kind: string;
  /** why QAT cannot fine-tune it (a float ONNX model that could not be converted), else null */
  qatBlocked: string | null;
}

/**
 * Reads `--fp`: a qrobust checkpoint, a torchvision state dict (.safetensors) or torch ONNX export with its
 * parameter names (converted to a qrobust checkpoint in memory, ts/runner/torchvision.ts), or another float ONNX
 * model (its FP cells run; QAT cannot fine-tune it: `qatBlocked` says why).
 * @param path the file
 * @param o the data set (class count of a converted model), the grid's architecture, `size` (`--size`)
 * @returns the model, the bytes kept in the store and the file's SHA-256
 * @throws TorchvisionFpError / UsageError naming the file and what is wrong
 */
export async function readFpFile(path: string, o: { dataset: Dataset; arch?: string; size?: number }): Promise<FpFile> {
  const raw = new Uint8Array(readFileSync(path));
  const sha256 = createHash('sha256').update(raw).digest('hex');
  const fromConverted = (tv: Awaited<ReturnType<typeof torchvisionFp>>): FpFile => ({
    model: tv.model, inputSize: tv.meta.inputSize, preprocess: tv.meta.preprocess, numClasses: tv.meta.numClasses, bytes: tv.checkpoint, sha256, kind: tv.kind, qatBlocked: null,
  });
  if (/\.safetensors$/i.test(path) && !isQrobustCheckpoint(raw, path)) return fromConverted(await torchvisionFp(raw, path, o));
  let qatBlocked: string | null = null;
  if (/\.onnx$/i.test(path)) {
    const onnx = decodeModel(raw, path);
    if (!bnFolded(onnx)) {
      try {
        return fromConverted(await torchvisionFp(raw, path, o));
      } catch (e) {
        if (!(e instanceof TorchvisionFpError)) throw e;
        qatBlocked = e.message;
      }
    } else qatBlocked = foldedExplanation(path);
  }
  const { model, meta } = loadModel(path, o.size !== undefined && /\.onnx$/i.test(path) ? { size: o.size } : {});
  return { model, inputSize: meta.inputSize, preprocess: meta.preprocess, numClasses: meta.numClasses, bytes: raw, sha256, kind: meta.kind, qatBlocked };
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
