/**
 * `run --fp` given as a **torchvision** model (paper-resnet18: the user's ImageNet resnet18), turned into a qrobust
 * FP checkpoint in memory so that the QAT cells can fine-tune it:
 *
 * - a `.safetensors` state dict with torchvision names (`safetensors.torch.save_file(model.state_dict(), …)`, no
 *   qrobust metadata), or
 * - a float `.onnx` exported by torch with its parameter names kept (`torch.onnx.export(…,
 *   do_constant_folding=False, training=torch.onnx.TrainingMode.PRESERVE)`: the BatchNormalization nodes and
 *   torch's names stay). An export whose BN the exporter folded into the convolutions (initializers named
 *   `onnx::Conv_…`) cannot be turned back into BN parameters: it still runs the FP cells as a float ONNX model, and
 *   the QAT cells stop with {@link TorchvisionFpError} naming the export options.
 *
 * The architecture is detected: the tensors (names and shapes; torch's `num_batches_tracked` accepted, in any
 * integer or float dtype) must be exactly one of our architectures' state dicts (ts/nn uses torchvision's names),
 * with the class count read from the classifier's weight; else a named error gives the closest architecture and
 * what differs. The converted model normalises [0, 1] pixels with ImageNet's mean / std inside (what a torchvision
 * model expects of its input), takes `size` × `size` inputs (the ONNX graph's fixed size, else `--size`, default
 * 224) through the reference pipeline `dec-pil`, and records its source file and SHA-256.
 */
import { createHash } from 'node:crypto';
import { UsageError, invalidOption } from '../util/errors.ts';
import { Tensor } from '../tensor/tensor.ts';
import type { Module } from '../nn/module.ts';
import type { Dataset } from '../data/types.ts';
import { indicesDigest } from '../data/subset.ts';
import { DEFAULT_PREPROCESS_ID, preprocessProvider } from '../data/preprocess.ts';
import { decodeSafetensors, safetensorArray } from '../formats/safetensors.ts';
import { decodeModel, tensorToArray, valueInfoShape, type OnnxModel } from '../formats/onnx.ts';
import { ARCHS, buildModel, type Arch } from '../train/models.ts';
import { CHECKPOINT_FORMAT, checkpointToBytes, type CheckpointMeta } from '../train/checkpoint.ts';
import { runVersions } from '../eval/versions.ts';

/** ImageNet statistics (torchvision's transforms.Normalize). */
export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;
/** Input size of a torchvision `--fp` without a fixed size of its own (ImageNet's 224 = 256 · 7/8). */
export const TORCHVISION_DEFAULT_SIZE = 224;

/** A torchvision `--fp` that cannot become a qrobust FP model (exit code 2). */
export class TorchvisionFpError extends UsageError {
  constructor(readonly file: string, why: string) {
    super(`--fp ${file}: ${why}`);
    this.name = 'TorchvisionFpError';
  }
}

/** The classifier weight of each architecture (its first dimension is the class count). */
const CLASSIFIER: Record<Arch, string> = { resnet20: 'fc.weight', resnet18: 'fc.weight', mobilenet_v2: 'classifier.1.weight', regnetx_600mf: 'fc.weight' };
/** Our buffers that a torchvision state dict does not have (the normalisation lives outside torchvision models). */
const OURS_ONLY = /^normalize\.(mean|std)$/;
const BATCHES_TRACKED = /(^|\.)num_batches_tracked$/;

/** A converted torchvision model. */
export interface TorchvisionFp {
  model: Module;
  meta: CheckpointMeta;
  /** the qrobust checkpoint bytes (kept in the store, handed to QAT) */
  checkpoint: Uint8Array;
  arch: Arch;
  /** where the tensors came from */
  kind: 'torchvision-safetensors' | 'torchvision-onnx';
}

/**
 * Whether safetensors bytes are a qrobust checkpoint (metadata `format`), as opposed to a plain state dict.
 * @param bytes the file's bytes
 * @param file its name (errors)
 * @throws QrobustError for a corrupt file
 * @example
 * isQrobustCheckpoint(readFileSync('r20.safetensors'), 'r20.safetensors') // true
 */
export function isQrobustCheckpoint(bytes: Uint8Array, file: string): boolean {
  return decodeSafetensors(bytes, file).metadata?.get('format') === CHECKPOINT_FORMAT;
}

/** The float tensors of a state dict in safetensors bytes. */
function safetensorsState(bytes: Uint8Array, file: string): Map<string, { shape: number[]; data: Float32Array }> {
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, t] of decodeSafetensors(bytes, file).tensors) {
    if (BATCHES_TRACKED.test(name)) continue; // torch's int64 counter: ours is reset (it only matters for momentum None)
    if (t.dtype !== 'F32' && t.dtype !== 'F64') throw new TorchvisionFpError(file, `tensor '${name}' is ${t.dtype}; expected F32 or F64 weights (save the state dict in float32)`);
    const a = safetensorArray(t);
    out.set(name, { shape: [...t.shape], data: a instanceof Float32Array ? a : Float32Array.from(a as Float64Array) });
  }
  return out;
}

/**
 * The initializers of an ONNX export as a state dict, when they carry torch's parameter names (BN kept); null when
 * the exporter folded BN into the convolutions (no `*.running_mean`).
 */
function onnxState(onnx: OnnxModel): Map<string, { shape: number[]; data: Float32Array }> | null {
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const t of onnx.graph?.initializer ?? []) {
    const name = t.name ?? '';
    // the exporter's own constants (shapes of Reshape / Flatten, ...) are not parameters
    if (name.startsWith('onnx::') || BATCHES_TRACKED.test(name)) continue;
    const a = tensorToArray(t);
    if (!(a instanceof Float32Array)) continue;
    out.set(name, { shape: (t.dims ?? []).map(Number), data: a });
  }
  return [...out.keys()].some((k) => k.endsWith('.running_mean')) ? out : null;
}

/**
 * Whether a float ONNX model is a torch export with BN folded into its convolutions (its QAT needs BN parameters).
 * @param onnx the decoded model
 * @example
 * bnFolded(readModel('resnet18.onnx')) // true for torch.onnx.export's default eval-mode export
 */
export function bnFolded(onnx: OnnxModel): boolean {
  const ops = new Set((onnx.graph?.node ?? []).map((n) => n.opType));
  return ops.has('Conv') && !ops.has('BatchNormalization');
}

/** The explanation given when a folded ONNX export cannot be fine-tuned. */
export function foldedExplanation(file: string): string {
  return `${file} is a float ONNX export whose BatchNormalization the exporter folded into the convolutions, so QAT has no BN parameters to fine-tune; export it with torch.onnx.export(..., do_constant_folding=False, training=torch.onnx.TrainingMode.PRESERVE) or give its state_dict as .safetensors`;
}

/** Finds the one architecture whose state dict the tensors are; a named error with the closest one otherwise. */
function detectArch(state: Map<string, { shape: number[]; data: Float32Array }>, file: string): { arch: Arch; numClasses: number; model: Module } {
  const names = [...state.keys()].filter((k) => !BATCHES_TRACKED.test(k) && !OURS_ONLY.test(k));
  let best: { arch: Arch; why: string; score: number } | null = null;
  for (const arch of ARCHS) {
    const w = state.get(CLASSIFIER[arch]);
    if (!w || w.shape.length !== 2) {
      const score = names.length;
      if (!best || score < best.score) best = { arch, why: `no classifier weight '${CLASSIFIER[arch]}'`, score };
      continue;
    }
    const numClasses = w.shape[0]!;
    const model = buildModel(arch, { numClasses, mean: IMAGENET_MEAN, std: IMAGENET_STD, seed: 0 });
    const own = new Map([...model.stateDict()].filter(([k]) => !OURS_ONLY.test(k) && !BATCHES_TRACKED.test(k)));
    const missing = [...own.keys()].filter((k) => !state.has(k));
    const unexpected = names.filter((k) => !own.has(k));
    const misShaped = [...own.entries()].filter(([k, t]) => state.has(k) && state.get(k)!.shape.join('x') !== t.shape.join('x')).map(([k, t]) => `${k} ${state.get(k)!.shape.join('x')} (expected ${t.shape.join('x')})`);
    const score = missing.length + unexpected.length + misShaped.length;
    if (score === 0) return { arch, numClasses, model };
    const list = (xs: string[]) => `${xs.slice(0, 3).join(', ')}${xs.length > 3 ? `, … (${xs.length})` : ''}`;
    const why = [missing.length ? `missing ${list(missing)}` : '', unexpected.length ? `unexpected ${list(unexpected)}` : '', misShaped.length ? `mis-shaped ${list(misShaped)}` : ''].filter(Boolean).join('; ');
    if (!best || score < best.score) best = { arch, why, score };
  }
  throw new TorchvisionFpError(file, `expected a torchvision state dict of one of ${ARCHS.join(', ')} but the ${state.size} tensors fit none; closest ${best!.arch}: ${best!.why}`);
}

/**
 * Turns a torchvision `--fp` (state dict as safetensors, or a float ONNX export with torch's names) into a qrobust FP
 * model and checkpoint in memory.
 * @param bytes the file's bytes
 * @param file its path (recorded, named in errors)
 * @param o `dataset` (its classes must match the classifier), `arch` (the grid's architecture: must be the detected
 *   one), `size` (input size when the file has none; default 224)
 * @returns the model (eval mode), its checkpoint record and bytes, the detected architecture
 * @throws TorchvisionFpError when the tensors fit no architecture, BN is folded, the architecture is not the grid's,
 *   or a tensor is not float; UsageError for a class count other than the data set's, a bad size
 * @example
 * const fp = await torchvisionFp(readFileSync('r18.safetensors'), 'r18.safetensors', { dataset: ds, arch: 'resnet18', size: 224 });
 * fp.meta.arch // 'resnet18'
 */
export async function torchvisionFp(bytes: Uint8Array, file: string, o: { dataset: Dataset; arch?: string; size?: number }): Promise<TorchvisionFp> {
  let state: Map<string, { shape: number[]; data: Float32Array }>;
  let kind: TorchvisionFp['kind'];
  let size = o.size;
  if (/\.onnx$/i.test(file)) {
    const onnx = decodeModel(bytes, file);
    const s = onnxState(onnx);
    if (!s) throw new TorchvisionFpError(file, bnFolded(onnx) ? foldedExplanation(file) : 'its initializers do not carry torch parameter names (no *.running_mean)');
    state = s;
    kind = 'torchvision-onnx';
    const inits = new Set((onnx.graph?.initializer ?? []).map((t) => t.name ?? ''));
    const input = (onnx.graph?.input ?? []).find((v) => !inits.has(v.name ?? ''));
    const shape = input ? valueInfoShape(input) : null;
    const h = shape?.[2];
    if (typeof h === 'number') {
      if (size !== undefined && size !== h) throw invalidOption('--size', `${h} (the input size fixed in ${file})`, size);
      size = h;
    }
  } else {
    state = safetensorsState(bytes, file);
    kind = 'torchvision-safetensors';
  }
  const S = size ?? TORCHVISION_DEFAULT_SIZE;
  if (!Number.isInteger(S) || S < 8 || S > 4096) throw invalidOption('--size', 'an integer 8..4096', S);
  const { arch, numClasses, model } = detectArch(state, file);
  if (o.arch !== undefined && o.arch !== arch) throw new TorchvisionFpError(file, `holds a torchvision ${arch}, but the grid's architecture is ${o.arch} (--archs)`);
  const ds = o.dataset;
  if (ds.classes.length !== numClasses) throw invalidOption('--data', `a data set with the ${numClasses} classes of ${file}'s classifier`, `${ds.name} (${ds.classes.length} classes)`);
  const load = new Map<string, Tensor>();
  for (const [k, t] of model.stateDict()) {
    // normalize.*: a qrobust export's own statistics when it has them, else ImageNet's (already in the model)
    const own = { shape: t.shape as number[], data: Float32Array.from(t.contiguous().data) };
    const src = OURS_ONLY.test(k) ? state.get(k) ?? own : BATCHES_TRACKED.test(k) ? state.get(k) ?? { shape: [], data: new Float32Array([0]) } : state.get(k)!;
    if (src.data.length !== t.size) throw new TorchvisionFpError(file, `tensor '${k}' has ${src.data.length} values; expected ${t.shape.join('x')}`);
    load.set(k, Tensor.from(Float32Array.from(src.data), t.shape));
  }
  model.loadStateDict(load, true);
  model.eval();
  const versions = await runVersions();
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const trainSplit = ds.trainSplit ?? ds.splits[0]!;
  const meta: CheckpointMeta = {
    arch, numClasses, inputSize: S, classes: [...ds.classes], data: ds.name,
    mean: state.has('normalize.mean') ? Array.from(state.get('normalize.mean')!.data) : [...IMAGENET_MEAN],
    std: state.has('normalize.std') ? Array.from(state.get('normalize.std')!.data) : [...IMAGENET_STD],
    // not trained here: the record says where the weights came from
    trainSubset: { method: 'all', seed: 0, split: trainSplit, n: 0, of: 0, sha256: indicesDigest(new Int32Array(0)) },
    preprocess: DEFAULT_PREPROCESS_ID, preprocessImpl: preprocessProvider(DEFAULT_PREPROCESS_ID).impl,
    seed: 0, epochs: 0, steps: 0,
    recipe: { source: kind, file, sha256, converted: `torchvision ${arch} state dict -> qrobust ${arch} (ImageNet mean/std inside, input ${S}x${S})` },
    nc: false, versions,
  };
  return { model, meta, checkpoint: checkpointToBytes(model, meta), arch, kind };
}
