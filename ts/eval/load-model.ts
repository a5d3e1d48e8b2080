/**
 * One loader for `--model`: a qrobust checkpoint (`.safetensors`, ts/train/checkpoint.ts) or a float ONNX model
 * (`.onnx`, imported onto our layers by ts/formats/onnx-import.ts). Both give a module and the record `eval` /
 * `infer` need (input size, class count, preprocess id, the data it was trained on where known).
 *
 * An ONNX file carries no training record, so: the input size is read from the graph input's fixed spatial
 * dimensions (`[N, 3, S, S]`), or from `opts.size` (`--size`) when the graph leaves them symbolic; the class count
 * from the model's output on a zero input; the preprocess is the reference pipeline (`dec-pil`); the data name is
 * null, so `eval` needs `--data`. The model must take [0, 1] NCHW pixels (normalisation inside the graph), which
 * is what `qrobust export --format onnx` and torch exports wrapped with their normalisation produce.
 */
import { existsSync } from 'node:fs';
import { UsageError, invalidOption } from '../util/errors.ts';
import { Tensor } from '../tensor/tensor.ts';
import { noGrad } from '../autograd/index.ts';
import type { Module } from '../nn/module.ts';
import { loadCheckpoint } from '../train/checkpoint.ts';
import { importOnnx } from '../formats/onnx-import.ts';
import { valueInfoShape, readModel, type OnnxModel } from '../formats/onnx.ts';
import { DEFAULT_PREPROCESS_ID } from '../data/preprocess.ts';

/** What eval / infer read about a loaded model. */
export interface LoadedModelMeta {
  /** 'checkpoint' (qrobust safetensors) or 'onnx' */
  kind: 'checkpoint' | 'onnx';
  numClasses: number;
  /** S of the S x S input */
  inputSize: number;
  /** class names (ONNX: '0', '1', ...) */
  classes: string[];
  /** the data name it was trained on; null for ONNX (eval then needs --data) */
  data: string | null;
  preprocess: string;
}

/**
 * Loads `--model`.
 * @param path a `.safetensors` checkpoint or a float `.onnx` model
 * @param opts `size`: input size for ONNX graphs with symbolic spatial dims (the value of `--size`)
 * @returns the module in eval mode and its record
 * @throws UsageError for a missing file, an unknown extension, an ONNX graph whose input is not [N, 3, S, S] or
 *   whose size is symbolic without `--size`, a size that disagrees with the graph, or an unsupported op (named)
 * @example
 * const { model, meta } = loadModel('m.onnx'); meta.inputSize // 32
 */
export function loadModel(path: string, opts: { size?: number } = {}): { model: Module; meta: LoadedModelMeta } {
  if (typeof path !== 'string' || path.length === 0) throw new UsageError('Expected a checkpoint (.safetensors) or an ONNX model (.onnx) for --model but received nothing');
  if (!/\.onnx$/i.test(path)) {
    const { model, meta } = loadCheckpoint(path);
    return { model, meta: { kind: 'checkpoint', numClasses: meta.numClasses, inputSize: meta.inputSize, classes: meta.classes, data: meta.data, preprocess: meta.preprocess } };
  }
  if (!existsSync(path)) throw new UsageError(`Expected an existing ONNX model for --model but received '${path}' (not found)`);
  return loadOnnxModel(readModel(path), path, opts);
}

/**
 * {@link loadModel} for a float ONNX model already decoded (e.g. from bytes in the runner's store).
 * @param onnx the decoded model (ts/formats/onnx.ts readModel / decodeModel)
 * @param path how errors name it
 * @param opts `size` for symbolic spatial dims
 * @returns the module in eval mode and its record
 * @throws as {@link loadModel}
 * @example
 * const { meta } = loadOnnxModel(decodeModel(bytes), 'fp.onnx'); meta.kind // 'onnx'
 */
export function loadOnnxModel(onnx: OnnxModel, path: string, opts: { size?: number } = {}): { model: Module; meta: LoadedModelMeta } {
  const g = onnx.graph;
  const inits = new Set((g?.initializer ?? []).map((t) => t.name ?? ''));
  const input = (g?.input ?? []).find((v) => !inits.has(v.name ?? ''));
  const shape = input ? valueInfoShape(input) : null;
  if (!shape || shape.length !== 4 || (typeof shape[1] === 'number' && shape[1] !== 3)) {
    throw new UsageError(`Expected an ONNX model with one [N, 3, S, S] float input for --model but ${path} has input ${input?.name ?? '(none)'} of shape ${shape ? `[${shape.map((d) => d ?? '?').join(', ')}]` : 'unknown'}`);
  }
  const [h, w] = [shape[2], shape[3]];
  let size: number;
  if (typeof h === 'number' && typeof w === 'number') {
    if (h !== w) throw new UsageError(`Expected a square input for --model but ${path} takes ${h} x ${w}`);
    if (opts.size !== undefined && opts.size !== h) throw invalidOption('--size', `${h} (the input size fixed in ${path})`, opts.size);
    size = h;
  } else {
    if (opts.size === undefined) throw new UsageError(`Expected --size for ${path}: its input's spatial dimensions are symbolic ([${shape.map((d) => d ?? '?').join(', ')}])`);
    size = opts.size;
  }
  const model = importOnnx(onnx).eval();
  const z = noGrad(() => model.call(Tensor.zeros([1, 3, size, size])));
  if (z.ndim !== 2 || z.shape[1]! < 2) throw new UsageError(`Expected ${path} to output [N, K] logits with K >= 2 but it gives [${z.shape.join(', ')}]`);
  const k = z.shape[1]!;
  return { model, meta: { kind: 'onnx', numClasses: k, inputSize: size, classes: Array.from({ length: k }, (_, i) => String(i)), data: null, preprocess: DEFAULT_PREPROCESS_ID } };
}
