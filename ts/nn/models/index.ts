/**
 * The model registry: architecture ids of CONVENTIONS.md → builders. Every model takes [0, 1] NCHW pixels and
 * normalises them in its first layer (`normalize.{mean,std}`), works at any input size and class count, and
 * uses its reference parameter names (torchvision; pycls for regnetx_600mf). See docs/engine.md.
 */
import { UsageError, describeValue, invalidOption } from '../../util/errors.ts';
import type { Module } from '../module.ts';
import type { Tensor } from '../../tensor/tensor.ts';
import { resnet20 } from './resnet20.ts';
import { resnet18 } from './resnet.ts';
import { resnet50 } from './resnet50.ts';
import { mobilenetV2, mobilenetV2FromMqbench } from './mobilenet-v2.ts';
import { regnetFromTorchvision, regnetX600MF } from './regnet.ts';
import { IMAGENET_MEAN, IMAGENET_STD } from './common.ts';

export { resnet50, ResNet50, Bottleneck, type ResNet50Config } from './resnet50.ts';
export { mobilenetV2, MobileNetV2, InvertedResidual, mobilenetV2FromMqbench, MOBILENET_V2_SETTINGS, type MobileNetV2Config } from './mobilenet-v2.ts';
export { regnetX600MF, RegNetX600MF, RegNetStem, RegNetStage, RegNetHead, ResBottleneckBlock, BottleneckTransform, regnetFromTorchvision, REGNETX_600MF, type RegNetX600MFConfig } from './regnet.ts';
export { ConvBNAct, IMAGENET_MEAN, IMAGENET_STD } from './common.ts';

/** Architecture ids (CONVENTIONS.md), in the documented order. */
export const ARCHS = ['resnet18', 'resnet50', 'mobilenet_v2', 'regnetx_600mf', 'resnet20'] as const;
export type Arch = (typeof ARCHS)[number];

/** An unknown architecture id; the message lists the allowed ones. */
export class UnknownArchError extends UsageError {
  constructor(readonly received: unknown) {
    super(`Expected one of ${ARCHS.join(', ')} for arch but received ${describeValue(received)}`);
    this.name = 'UnknownArchError';
  }
}

/** Options of {@link createModel}. */
export interface CreateModelOptions {
  /** Class count; default 1000 for the ImageNet architectures, 10 for resnet20. */
  numClasses?: number;
  /** Square input side the model is meant for (recorded, checked ≥ 8); default 224, 32 for resnet20. */
  inputSize?: number;
  /** Input channels; resnet20 only (default 3). */
  inChannels?: number;
  /** Normalisation of [0, 1] inputs (the model's first layer); default ImageNet's, identity for resnet20. */
  mean?: readonly number[];
  std?: readonly number[];
  /** Initialisation seed; default 0. */
  seed?: number;
  /** mobilenet_v2 only: classifier dropout (default 0.2, as torchvision). */
  dropout?: number;
}

/** What {@link createModel} built, as recorded by {@link modelSpec} (JSON-serialisable). */
export interface ModelSpec {
  arch: Arch;
  numClasses: number;
  inputSize: number;
  inChannels: number;
  mean: number[];
  std: number[];
  seed: number;
}

const specs = new WeakMap<Module, ModelSpec>();

/**
 * Whether `v` is an architecture id.
 * @param v any value
 * @throws never
 * @example
 * isArch('resnet50') // true
 */
export function isArch(v: unknown): v is Arch {
  return typeof v === 'string' && (ARCHS as readonly string[]).includes(v);
}

/**
 * Builds a model by architecture id.
 * @param arch one of {@link ARCHS}
 * @param opts class count, input size, normalisation, seed (see {@link CreateModelOptions})
 * @returns the module, in training mode
 * @throws UnknownArchError for an unknown id; UsageError for bad options (named)
 * @example
 * createModel('resnet20', { numClasses: 10, inputSize: 32 }).call(Tensor.zeros([1, 3, 32, 32])).shape // [1, 10]
 */
export function createModel(arch: string, opts: CreateModelOptions = {}): Module {
  if (!isArch(arch)) throw new UnknownArchError(arch);
  if (opts === null || typeof opts !== 'object') throw invalidOption('opts', 'an options object', opts);
  const small = arch === 'resnet20';
  const numClasses = opts.numClasses ?? (small ? 10 : 1000);
  if (!Number.isInteger(numClasses) || numClasses < 2) throw invalidOption('numClasses', 'integer >= 2', numClasses);
  const inputSize = opts.inputSize ?? (small ? 32 : 224);
  if (!Number.isInteger(inputSize) || inputSize < 8) throw invalidOption('inputSize', 'integer >= 8', inputSize);
  const inChannels = opts.inChannels ?? 3;
  if (!small && inChannels !== 3) throw invalidOption('inChannels', `3 for ${arch}`, inChannels);
  const seed = opts.seed ?? 0;
  if (!Number.isInteger(seed)) throw invalidOption('seed', 'integer', seed);
  const mean = [...(opts.mean ?? (small ? new Array<number>(inChannels).fill(0) : IMAGENET_MEAN))];
  const std = [...(opts.std ?? (small ? new Array<number>(inChannels).fill(1) : IMAGENET_STD))];
  const base = { numClasses, mean, std, seed };
  let m: Module;
  switch (arch) {
    case 'resnet20': m = resnet20({ ...base, inChannels }); break;
    case 'resnet18': m = resnet18(base); break;
    case 'resnet50': m = resnet50(base); break;
    case 'mobilenet_v2': m = mobilenetV2({ ...base, dropout: opts.dropout }); break;
    case 'regnetx_600mf': m = regnetX600MF(base); break;
  }
  specs.set(m, { arch, numClasses, inputSize, inChannels, mean, std, seed });
  return m;
}

/**
 * The spec a model was built with by {@link createModel}, or null for a model built otherwise.
 * @param m a module
 * @throws never
 * @example
 * modelSpec(createModel('resnet20'))?.inputSize // 32
 */
export function modelSpec(m: Module): ModelSpec | null {
  const s = specs.get(m);
  return s ? { ...s, mean: [...s.mean], std: [...s.std] } : null;
}

/**
 * Loads reference weights into a registry model: torchvision / pycls / MQBench state dicts as published. Strips a
 * leading `module.` (DataParallel checkpoints), converts torchvision RegNet names to pycls ones and MQBench's flat
 * mobilenet_v2 names to torchvision's, then requires every entry of the model except `normalize.*` (the
 * normalisation stays the model's) and rejects unknown ones.
 * @param model a model built by {@link createModel}
 * @param state names → tensors (e.g. a safetensors file read into Tensors)
 * @returns the names that were loaded
 * @throws UsageError naming the first missing, unexpected or mis-shaped entry, or a model not built by createModel
 * @example
 * const m = createModel('regnetx_600mf', { numClasses: 10 });
 * loadReferenceWeights(m, new Map([...m.stateDict()].filter(([k]) => !k.startsWith('normalize.')).map(([k, v]) => ['module.' + k, v]))).length // 320
 */
export function loadReferenceWeights(model: Module, state: Map<string, Tensor>): string[] {
  const spec = modelSpec(model);
  if (!spec) throw invalidOption('model', 'a model built by createModel', model);
  let sd = new Map<string, Tensor>();
  for (const [k, v] of state) sd.set(k.startsWith('module.') ? k.slice(7) : k, v);
  if (spec.arch === 'regnetx_600mf' && [...sd.keys()].some((k) => k.startsWith('trunk_output.') || k.startsWith('stem.0.'))) sd = regnetFromTorchvision(sd);
  if (spec.arch === 'mobilenet_v2' && sd.has('features.2.conv.6.weight')) sd = mobilenetV2FromMqbench(sd);
  const own = model.stateDict();
  for (const k of own.keys()) if (!k.startsWith('normalize.') && !sd.has(k)) throw new UsageError(`loadReferenceWeights: ${spec.arch} needs '${k}' but the weights have no such entry`);
  for (const k of sd.keys()) if (!own.has(k) || k.startsWith('normalize.')) throw new UsageError(`loadReferenceWeights: unexpected entry '${k}' for ${spec.arch}`);
  model.loadStateDict(sd, false);
  return [...sd.keys()];
}
