/**
 * Checkpoints: a model's state dict as safetensors (F32, torch's state_dict names and order, so
 * `safetensors.torch.load_file` reads it) with everything needed to rebuild and reuse it in
 * `__metadata__`. "A checkpoint remembers the data it was trained on" (CONVENTIONS.md): the data name,
 * the train subset record, the normalisation mean/std, the preprocess implementation, the input size and
 * the class names travel with the weights, so `eval` / `infer` default to them.
 *
 * Metadata keys (all strings; JSON-encoded where the value is not a string):
 * `format` = `qrobust-checkpoint/1`, `arch`, `num_classes`, `input_size`, `classes`, `mean`, `std`, `data`,
 * `train_subset`, `preprocess` (id), `preprocess_impl`, `seed`, `epochs`, `steps`, `recipe` (the training
 * options), `nc`, `versions` (incl. the git commit). Nothing time-dependent is stored, so the same seed
 * and code give the same bytes; the timings go to the JSON record beside the checkpoint.
 */
import { existsSync } from 'node:fs';
import { QrobustError, UsageError } from '../util/errors.ts';
import { Tensor } from '../tensor/tensor.ts';
import type { Module } from '../nn/module.ts';
import { readSafetensors, writeSafetensors, decodeSafetensors, encodeSafetensors, safetensorArray, safetensorFromArray, type SafeTensor, type SafetensorsFile } from '../formats/safetensors.ts';
import type { SubsetRecord } from '../data/subset.ts';
import { buildModel, checkArch, type Arch } from './models.ts';
import { parseQuantConfig, parseQuantMeta, type QuantMeta } from '../quant/config.ts';
import { prepareQat } from '../quant/prepare.ts';

/** The format tag written into every checkpoint. */
export const CHECKPOINT_FORMAT = 'qrobust-checkpoint/1';

/** What a checkpoint records besides the weights. */
export interface CheckpointMeta {
  arch: Arch;
  numClasses: number;
  /** S of the S x S model input */
  inputSize: number;
  classes: string[];
  mean: number[];
  std: number[];
  /** the canonical data name it was trained on */
  data: string;
  /** the train subset (`--train-limit`, seed) */
  trainSubset: SubsetRecord;
  /** preprocess id (`dec-pil`) and implementation tag */
  preprocess: string;
  preprocessImpl: string;
  seed: number;
  epochs: number;
  steps: number;
  /** the training options (lr, batch, schedule, ...) */
  recipe: Record<string, unknown>;
  /** not converged (CONVENTIONS.md NC rule) */
  nc: boolean;
  versions: Record<string, string | null>;
  /** present in q-checkpoints (ts/quant): the quantization config and provenance; absent for FP checkpoints */
  quant?: QuantMeta;
}

const JSON_KEYS = ['num_classes', 'input_size', 'classes', 'mean', 'std', 'train_subset', 'seed', 'epochs', 'steps', 'recipe', 'nc', 'versions'] as const;

function metaToStrings(m: CheckpointMeta): Map<string, string> {
  const out = new Map<string, string>();
  out.set('format', CHECKPOINT_FORMAT);
  out.set('arch', m.arch);
  out.set('num_classes', JSON.stringify(m.numClasses));
  out.set('input_size', JSON.stringify(m.inputSize));
  out.set('classes', JSON.stringify(m.classes));
  out.set('mean', JSON.stringify(m.mean));
  out.set('std', JSON.stringify(m.std));
  out.set('data', m.data);
  out.set('train_subset', JSON.stringify(m.trainSubset));
  out.set('preprocess', m.preprocess);
  out.set('preprocess_impl', m.preprocessImpl);
  out.set('seed', JSON.stringify(m.seed));
  out.set('epochs', JSON.stringify(m.epochs));
  out.set('steps', JSON.stringify(m.steps));
  out.set('recipe', JSON.stringify(m.recipe));
  out.set('nc', JSON.stringify(m.nc));
  out.set('versions', JSON.stringify(m.versions));
  if (m.quant) out.set('quant', JSON.stringify(m.quant));
  return out;
}

function metaFromStrings(md: Map<string, string> | null, file: string): CheckpointMeta {
  if (!md || md.get('format') !== CHECKPOINT_FORMAT) {
    throw new UsageError(`Expected a qrobust checkpoint (safetensors metadata format '${CHECKPOINT_FORMAT}') for ${file} but received ${md?.get('format') === undefined ? 'a file without that metadata' : `format '${md.get('format')}'`}`);
  }
  const j: Record<string, unknown> = {};
  for (const k of JSON_KEYS) {
    const s = md.get(k);
    if (s === undefined) throw new QrobustError(`${file}: checkpoint metadata lacks '${k}'`);
    try {
      j[k] = JSON.parse(s);
    } catch {
      throw new QrobustError(`${file}: checkpoint metadata '${k}' is not valid JSON`);
    }
  }
  const str = (k: string): string => {
    const v = md.get(k);
    if (v === undefined) throw new QrobustError(`${file}: checkpoint metadata lacks '${k}'`);
    return v;
  };
  const numClasses = j.num_classes;
  const inputSize = j.input_size;
  if (typeof numClasses !== 'number' || !Number.isInteger(numClasses) || numClasses < 2) throw new QrobustError(`${file}: checkpoint num_classes must be an integer >= 2, not ${String(numClasses)}`);
  if (typeof inputSize !== 'number' || !Number.isInteger(inputSize) || inputSize < 1) throw new QrobustError(`${file}: checkpoint input_size must be a positive integer, not ${String(inputSize)}`);
  const nums = (k: string): number[] => {
    const v = j[k];
    if (!Array.isArray(v) || v.length !== 3 || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) throw new QrobustError(`${file}: checkpoint ${k} must be 3 finite numbers`);
    return v as number[];
  };
  let quant: QuantMeta | undefined;
  const q = md.get('quant');
  if (q !== undefined) {
    try {
      quant = JSON.parse(q) as QuantMeta;
    } catch {
      throw new QrobustError(`${file}: checkpoint metadata 'quant' is not valid JSON`);
    }
    quant = parseQuantMeta(quant, file);
  }
  return {
    ...(quant ? { quant } : {}),
    arch: checkArch(str('arch'), `${file} metadata arch`),
    numClasses, inputSize,
    classes: j.classes as string[],
    mean: nums('mean'), std: nums('std'),
    data: str('data'),
    trainSubset: j.train_subset as SubsetRecord,
    preprocess: str('preprocess'),
    preprocessImpl: str('preprocess_impl'),
    seed: j.seed as number, epochs: j.epochs as number, steps: j.steps as number,
    recipe: j.recipe as Record<string, unknown>,
    nc: j.nc as boolean,
    versions: j.versions as Record<string, string | null>,
  };
}

/**
 * Writes a model and its record as a safetensors checkpoint.
 * @param path the output file (`.safetensors`)
 * @param model the trained module
 * @param meta what to record (see {@link CheckpointMeta})
 * @throws QrobustError when writing fails
 * @example
 * saveCheckpoint('/tmp/m.safetensors', model, meta);
 */
export function saveCheckpoint(path: string, model: Module, meta: CheckpointMeta): void {
  writeSafetensors(path, checkpointFile(model, meta));
}

function checkpointFile(model: Module, meta: CheckpointMeta): SafetensorsFile {
  const tensors = new Map<string, SafeTensor>();
  for (const [name, t] of model.stateDict()) tensors.set(name, safetensorFromArray('F32', t.shape, t.contiguous().data));
  return { metadata: metaToStrings(meta), tensors };
}

/**
 * The bytes {@link saveCheckpoint} would write (the result store keeps checkpoints as BLOBs).
 * @param model the module
 * @param meta its record
 * @throws UsageError as encodeSafetensors
 * @example
 * checkpointFromBytes(checkpointToBytes(model, meta)).meta.arch === meta.arch // true
 */
export function checkpointToBytes(model: Module, meta: CheckpointMeta): Uint8Array {
  return encodeSafetensors(checkpointFile(model, meta));
}

/**
 * Reads a checkpoint's record without building the model.
 * @param path the `.safetensors` file
 * @throws UsageError when the file is missing or not a qrobust checkpoint; QrobustError when it is corrupt
 * @example
 * readCheckpointMeta('/tmp/m.safetensors').arch // 'resnet20'
 */
export function readCheckpointMeta(path: string): CheckpointMeta {
  return metaFromStrings(readSafetensors(checkPath(path)).metadata, path);
}

function checkPath(path: string): string {
  if (typeof path !== 'string' || path.length === 0) throw new UsageError('Expected a checkpoint file for --model but received nothing');
  if (/\.onnx$/i.test(path)) throw new UsageError(`Expected a .safetensors checkpoint for --model but received '${path}' (ONNX models are not loaded by this command yet)`);
  if (!existsSync(path)) throw new UsageError(`Expected an existing checkpoint for --model but received '${path}' (not found)`);
  return path;
}

/**
 * Loads a checkpoint: rebuilds the architecture it records and loads every tensor by name (strict).
 * @param path the `.safetensors` file
 * @param opts `arch`: the architecture the caller expects (an error when the checkpoint holds another)
 * @returns the model in eval mode and its record; for a q-checkpoint (metadata `quant`, ts/quant) the fake-quant
 *   model, with `meta.quant` set
 * @throws UsageError for a missing file, a file that is not a qrobust checkpoint, a checkpoint of another
 *   architecture than `opts.arch`, or tensors that do not fit the recorded architecture (missing, unexpected
 *   or mis-shaped, named); QrobustError for a corrupt file
 * @example
 * const { model, meta } = loadCheckpoint('/tmp/m.safetensors');
 * model.call(Tensor.zeros([1, 3, meta.inputSize, meta.inputSize])).shape // [1, meta.numClasses]
 */
export function loadCheckpoint(path: string, opts: { arch?: string } = {}): { model: Module; meta: CheckpointMeta } {
  return checkpointFromFile(readSafetensors(checkPath(path)), path, opts);
}

/**
 * {@link loadCheckpoint} from bytes in memory (a checkpoint BLOB of the result store).
 * @param bytes the safetensors bytes
 * @param name how errors name them (default `<bytes>`)
 * @param opts `arch`: the architecture the caller expects
 * @returns the model in eval mode and its record (the fake-quant model for a q-checkpoint)
 * @throws as {@link loadCheckpoint}
 * @example
 * const { meta } = checkpointFromBytes(new Uint8Array(readFileSync('/tmp/m.safetensors'))); meta.arch // 'resnet20'
 */
export function checkpointFromBytes(bytes: Uint8Array, name = '<bytes>', opts: { arch?: string } = {}): { model: Module; meta: CheckpointMeta } {
  return checkpointFromFile(decodeSafetensors(bytes, name), name, opts);
}

function checkpointFromFile(f: SafetensorsFile, path: string, opts: { arch?: string }): { model: Module; meta: CheckpointMeta } {
  const meta = metaFromStrings(f.metadata, path);
  if (opts.arch !== undefined && checkArch(opts.arch) !== meta.arch) {
    throw new UsageError(`Expected a ${opts.arch} checkpoint for --model but ${path} holds a ${meta.arch}`);
  }
  const model = buildModel(meta.arch, { numClasses: meta.numClasses, mean: meta.mean, std: meta.std, seed: 0 });
  // A q-checkpoint: the fake-quant model (its quantizer state, signs included, comes from the tensors).
  if (meta.quant) prepareQat(model, parseQuantConfig(meta.quant.config, `${path} metadata quant.config`), { probe: false });
  const state = new Map<string, Tensor>();
  for (const [name, t] of f.tensors) {
    if (t.dtype !== 'F32') throw new UsageError(`${path}: tensor '${name}' is ${t.dtype}; a float checkpoint holds F32 tensors`);
    state.set(name, Tensor.from(safetensorArray(t) as Float32Array, t.shape));
  }
  try {
    model.loadStateDict(state, true);
  } catch (err) {
    throw new UsageError(`${path} does not fit a ${meta.arch} with ${meta.numClasses} classes: ${err instanceof Error ? err.message : String(err)}`);
  }
  return { model: model.eval(), meta };
}
