/**
 * Loading `--model` for a target (docs/deploy.md): a q-checkpoint (ts/quant) is converted to the deploy graph
 * (its uint8 points calibrated on a recorded, evenly spaced subset of its training split), a quantized ONNX model is
 * imported (ORT's fusion rules under x86-onnxruntime, full fusion elsewhere). {@link DeployModule} wraps the
 * lowered graph as a Module, so the eval suites (clean, corruption, systematic) and infer run it unchanged; under
 * `reference` a q-checkpoint runs its own fake-quant forward (the academic model).
 */
import { existsSync } from 'node:fs';
import { UsageError, QrobustError } from '../util/errors.ts';
import { Tensor } from '../tensor/tensor.ts';
import { Module } from '../nn/module.ts';
import { readModel, valueInfoShape } from '../formats/onnx.ts';
import { importQuantizedOnnx } from '../formats/onnx-qimport.ts';
import { loadCheckpoint, type CheckpointMeta } from '../train/checkpoint.ts';
import { openDataset, buildBatch } from '../data/index.ts';
import { preprocessIds, registerPreprocess } from '../data/preprocess.ts';
import { pilPreprocessProvider } from '../systematic/preprocess.ts';
import { exportQuantParams } from '../quant/index.ts';
import { loadTarget, type Target } from '../targets/index.ts';
import { convertQat } from './convert.ts';
import { lowerForTarget } from './lower.ts';
import { runGraph } from './exec.ts';
import type { DeployGraph } from './ir.ts';

/**
 * Makes a pipeline id usable as a data-layer preprocess id (buildBatch, the eval suites): the exact pipeline of
 * ts/systematic with ONECROP geometry.
 * @param id a pipeline id (a target's `pipeline`)
 * @throws UsageError for an unknown pipeline
 * @example
 * ensurePipelinePreprocess('rs-opencv-linear');
 */
export function ensurePipelinePreprocess(id: string): void {
  if (!preprocessIds().includes(id)) registerPreprocess(pilPreprocessProvider(id));
}

/** The deploy graph of a target as a Module (forward only: integer models have no gradients). */
export class DeployModule extends Module {
  constructor(readonly graph: DeployGraph, readonly target: Target) {
    super();
  }
  forward(x: Tensor): Tensor {
    const out = runGraph(this.graph, Float32Array.from(x.contiguous().data), [...x.shape], this.target).get(this.graph.outputs[0]!)!;
    return Tensor.from(Float32Array.from(out.data), out.shape);
  }
}

export interface DeployModelMeta {
  kind: 'q-checkpoint' | 'quantized-onnx';
  inputSize: number;
  numClasses: number;
  classes: string[];
  data: string | null;
  /** the target's preprocessing pipeline */
  preprocess: string;
  /** conversions applied (BN folding, calibration, target lowering), recorded in results */
  conversions: string[];
  /** calibration subset: split, count, rule */
  calibration: { split: string; n: number; indices: string } | null;
}

/** Options of {@link loadDeployModel}. */
export interface DeployLoadOptions {
  /** calibration images for the uint8 points of a q-checkpoint (default 256) */
  calib?: number;
  /** data name override (default: the checkpoint's) */
  data?: string;
  /** input size of an ONNX model with symbolic spatial dims */
  size?: number;
}

/**
 * Loads `--model` for `--target`: the module that runs it and its record.
 * @param path a q-checkpoint (.safetensors) or a quantized ONNX model
 * @param targetId a target id or target .json path
 * @param opts calibration count, data, size
 * @returns `{ module, graph (lowered), base (before lowering), target, meta }`; module is the QAT forward under `reference` for a q-checkpoint
 * @throws UsageError for a float checkpoint or float ONNX model (named), an unknown target, a bad file
 * @example
 * const { module } = await loadDeployModel('/work/qat/lsq-4.safetensors', 'rpi4-tflite');
 */
export async function loadDeployModel(path: string, targetId: string, opts: DeployLoadOptions = {}): Promise<DeployedModel> {
  const target = loadTarget(targetId);
  ensurePipelinePreprocess(target.pipeline);
  if (typeof path !== 'string' || !path) throw new UsageError('Expected a q-checkpoint or quantized ONNX model for --model but received nothing');
  if (!existsSync(path)) throw new UsageError(`Expected an existing model file for --model but received '${path}' (not found)`);
  if (/\.onnx$/i.test(path)) {
    const onnx = readModel(path);
    const ops = new Set((onnx.graph?.node ?? []).map((n) => n.opType));
    if (!['QuantizeLinear', 'QLinearConv', 'QLinearMatMul', 'ConvInteger', 'MatMulInteger'].some((o) => ops.has(o))) {
      throw new UsageError(`Expected a quantized ONNX model (QDQ or QLinear ops) for --model with --target but ${path} has none; run it without --target, or quantize it`);
    }
    const graph = importQuantizedOnnx(onnx, { policy: target.id === 'x86-onnxruntime' ? 'ort-x86' : 'all' });
    const inits = new Set((onnx.graph?.initializer ?? []).map((t) => t.name));
    const shape = valueInfoShape((onnx.graph?.input ?? []).find((v) => !inits.has(v.name))!) ?? [];
    const s = typeof shape[2] === 'number' ? shape[2] : opts.size;
    if (s === undefined) throw new UsageError(`Expected --size for ${path}: its input's spatial dimensions are symbolic`);
    const lowered = lowerForTarget(graph, target);
    const probe = runGraph(lowered, new Float32Array(3 * s * s), [1, 3, s, s], target).get(lowered.outputs[0]!)!;
    const k = probe.shape[probe.shape.length - 1]!;
    return {
      module: new DeployModule(lowered, target), graph: lowered, base: graph, target,
      meta: { kind: 'quantized-onnx', inputSize: s, numClasses: k, classes: Array.from({ length: k }, (_, i) => String(i)), data: opts.data ?? null, preprocess: target.pipeline, conversions: lowered.conversions, calibration: null },
    };
  }
  const { model, meta } = loadCheckpoint(path);
  if (!(meta as { quant?: unknown }).quant) throw new UsageError(`Expected a q-checkpoint (written by qrobust quantize) for --model with --target but ${path} is a float checkpoint`);
  return deployQatModel(model, meta, target, { ...opts, name: path });
}

/** The deployed model {@link loadDeployModel} and {@link deployQatModel} return. */
export interface DeployedModel {
  /** what runs it (the QAT module itself under `reference`) */
  module: Module;
  /** the lowered graph and the graph before lowering */
  graph: DeployGraph;
  base: DeployGraph;
  target: Target;
  meta: DeployModelMeta;
}

/**
 * Deploys a q-checkpoint already in memory (the runner keeps checkpoints as bytes in its store): what
 * {@link loadDeployModel} does after reading the file. The model's uint8 points are calibrated on
 * `opts.calib` (default 256) evenly spaced images of the training split of `opts.data` (default: the data it
 * was trained on), decoded with `dec-pil`.
 * @param model the fake-quant module of a q-checkpoint (ts/train checkpointFromBytes / loadCheckpoint)
 * @param meta its record (`quant` set)
 * @param targetOrId a target or its id / .json path
 * @param opts calibration count, data name, `name` (how errors name the model)
 * @returns the deployed module, graphs, target and record
 * @throws UsageError for a float checkpoint, an unknown target; QrobustError for unusable quantizer parameters
 * @example
 * const { model, meta } = checkpointFromBytes(bytes);
 * const dep = await deployQatModel(model, meta, 'x86-onnxruntime'); dep.meta.preprocess // 'dec-pil'
 */
export async function deployQatModel(model: Module, meta: CheckpointMeta, targetOrId: Target | string, opts: DeployLoadOptions & { name?: string } = {}): Promise<DeployedModel> {
  const target = typeof targetOrId === 'string' ? loadTarget(targetOrId) : targetOrId;
  ensurePipelinePreprocess(target.pipeline);
  const name = opts.name ?? 'the model';
  if (!meta.quant) throw new UsageError(`Expected a q-checkpoint (written by qrobust quantize) for --model with --target but ${name} is a float checkpoint`);
  const data = opts.data ?? meta.data;
  const ds = await openDataset(data);
  const train = ds.split(ds.trainSplit ?? ds.splits[0]!);
  const n = Math.min(opts.calib ?? 256, train.length);
  const idx = Array.from({ length: n }, (_, i) => Math.floor((i * train.length) / n));
  const b = await buildBatch(train, idx, { size: meta.inputSize, preprocess: 'dec-pil' });
  const S = meta.inputSize, per = 3 * S * S;
  const calibration = [];
  for (let i = 0; i < n; i += 64) { const m = Math.min(64, n - i); calibration.push({ data: b.x.slice(i * per, (i + m) * per), shape: [m, 3, S, S] }); }
  let params;
  try {
    params = exportQuantParams(model);
  } catch (e) {
    throw new QrobustError(`${name}: ${(e as Error).message}`);
  }
  const graph = convertQat(model, params, { inputSize: S, calibration, reference: loadTarget('reference') });
  const lowered = lowerForTarget(graph, target);
  const module = target.id === 'reference' ? model : new DeployModule(lowered, target);
  return {
    module, graph: lowered, base: graph, target,
    meta: {
      kind: 'q-checkpoint', inputSize: S, numClasses: meta.numClasses, classes: meta.classes, data, preprocess: target.pipeline,
      conversions: target.id === 'reference' ? ['reference: the QAT model\'s own fake-quant forward (BN unfolded)'] : lowered.conversions,
      calibration: { split: ds.trainSplit ?? ds.splits[0]!, n, indices: `floor(i * ${train.length} / ${n}), i < ${n}` },
    },
  };
}
