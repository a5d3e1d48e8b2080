/**
 * Turning a float model into its QAT form, in place (PROTOCOL.md §1 placement): every Conv2d and Linear gets a
 * weight fake-quant (`<layer>.weight_fake_quant`) and a fake-quant on its input (`<layer>.input_fake_quant`),
 * downsample / projection convs included; residual adds, pooling and BN are not quantized and BN is not folded.
 * The first conv and the last linear run at 8 bits (weights and input), the rest at the config's bits.
 *
 * The layers stay the same objects (their parents keep pointing at them): {@link prepareQat} registers the two
 * quantizers as children and replaces the layer's `forward`, so any architecture built from ts/nn layers works
 * (resnets, mobilenet_v2's depthwise convs, regnet's grouped convs). The state dict gains the quantizers'
 * parameters and buffers after each layer's own `weight` / `bias`.
 *
 * For deployment, {@link exportQuantParams} lists per layer the integer weights, scales and the input
 * quantizer, and {@link freezeObservers} calibrates the batch-dependent ranges (see docs/quant.md).
 */
import { QrobustError, UsageError, invalidOption } from '../util/errors.ts';
import { Rng } from '../util/rng.ts';
import { Tensor } from '../tensor/tensor.ts';
import * as ag from '../autograd/index.ts';
import { Module } from '../nn/module.ts';
import { Conv2d, Linear } from '../nn/layers.ts';
import type { Conv2dOptions } from '../tensor/float-kernels.ts';
import { quantConfig, type ObserverMode, type QuantConfig } from './config.ts';
import { FakeQuant, type QuantizerKind } from './quantizer.ts';
import { quantizeInt } from './fake.ts';

/** One quantized layer. */
export interface QuantLayer {
  /** dotted module name (`layer1.0.conv1`, `fc`) */
  name: string;
  kind: 'conv' | 'linear';
  module: Conv2d | Linear;
  weightQuant: FakeQuant;
  inputQuant: FakeQuant;
  /** effective bits (8 for the first conv and the last linear) */
  bits: number;
  first: boolean;
  last: boolean;
}

interface Prepared {
  config: QuantConfig;
  layers: QuantLayer[];
}

const PREPARED = new WeakMap<Module, Prepared>();

/** Every module with its dotted name, depth first in registration order (torch's named_modules). */
export function namedModules(m: Module, prefix = ''): [string, Module][] {
  const out: [string, Module][] = [[prefix, m]];
  for (const [n, c] of m.namedChildren()) out.push(...namedModules(c, prefix ? `${prefix}.${n}` : n));
  return out;
}

type Registrar = { registerModule(name: string, m: Module): Module };

/** Options of {@link prepareQat}. */
export interface PrepareOptions {
  /** side of the probe input (default 32) */
  inputSize?: number;
  /** seed of the probe input (default 0) */
  seed?: number;
  /**
   * Decide each activation quantizer's sign with one forward of a seeded N(0, 1) input, as mqbench-paper's
   * build-time `randn` forward (default true). Loading a q-checkpoint skips it: the saved `signed` buffers hold it.
   */
  probe?: boolean;
}

/**
 * Prepares a float model for QAT in place and returns it.
 * @param model a model of ts/nn layers (not yet prepared)
 * @param config a {@link QuantConfig} (or its input, checked by {@link quantConfig})
 * @param opts probe input size and seed
 * @returns the same model, now fake-quantized
 * @throws UsageError for a model without Conv2d / Linear layers, a prepared model, or a bad config (named)
 * @example
 * const m = prepareQat(createModel('resnet20'), quantConfig({ method: 'lsq', bits: 4 }));
 * quantLayers(m).length // 22
 */
export function prepareQat<M extends Module>(model: M, config: QuantConfig | Parameters<typeof quantConfig>[0], opts: PrepareOptions = {}): M {
  if (!(model instanceof Module)) throw invalidOption('model', 'a Module', model);
  if (PREPARED.has(model)) throw new UsageError('prepareQat: the model is already prepared for quantization');
  const cfg = 'version' in config && Object.isFrozen(config) ? (config as QuantConfig) : quantConfig(config);
  const found = namedModules(model).filter(([, m]) => m instanceof Conv2d || m instanceof Linear) as [string, Conv2d | Linear][];
  if (found.length === 0) throw new UsageError('prepareQat: the model has no Conv2d or Linear layer to quantize');
  const firstConv = found.findIndex(([, m]) => m instanceof Conv2d);
  let lastLinear = -1;
  for (let i = found.length - 1; i >= 0; i--) if (found[i]![1] instanceof Linear) { lastLinear = i; break; }
  const layers: QuantLayer[] = found.map(([name, m], i) => {
    if (m.namedChildren().some(([n]) => n === 'weight_fake_quant')) throw new UsageError(`prepareQat: layer '${name}' is already quantized`);
    const first = i === firstConv;
    const last = i === lastLinear;
    const bits = first || last ? cfg.firstLastBits : cfg.bits;
    const common = { method: cfg.method, bits, variant: cfg.variant, observerMode: cfg.observerMode, channels: m.weight.shape[0]! };
    const inputQuant = new FakeQuant({ ...common, role: 'input', perChannel: false });
    const weightQuant = new FakeQuant({ ...common, role: 'weight', perChannel: cfg.perChannel });
    (m as unknown as Registrar).registerModule('input_fake_quant', inputQuant);
    (m as unknown as Registrar).registerModule('weight_fake_quant', weightQuant);
    if (m instanceof Conv2d) {
      const conv = m;
      conv.forward = (x: Tensor): Tensor => ag.conv2d(inputQuant.call(x), weightQuant.call(conv.weight), conv.bias, conv.opts);
    } else {
      const lin = m;
      lin.forward = (x: Tensor): Tensor => ag.linear(inputQuant.call(x), weightQuant.call(lin.weight), lin.bias);
    }
    return { name, kind: m instanceof Conv2d ? 'conv' : 'linear', module: m, weightQuant, inputQuant, bits, first, last };
  });
  PREPARED.set(model, { config: cfg, layers });
  if (opts.probe !== false) probeSigns(model, layers, opts);
  return model;
}

function probeSigns(model: Module, layers: QuantLayer[], opts: PrepareOptions): void {
  const first = layers.find((l) => l.first) ?? layers[0]!;
  const cin = first.kind === 'conv' ? (first.module.weight.shape[1]! * ((first.module as Conv2d).opts.groups ?? 1)) : first.module.weight.shape[1]!;
  const size = opts.inputSize ?? 32;
  const x = first.kind === 'conv' ? Tensor.randn([1, cin, size, size], new Rng(opts.seed ?? 0)) : Tensor.randn([1, cin], new Rng(opts.seed ?? 0));
  const wasTraining = model.training;
  for (const l of layers) l.inputQuant.setPhase('probe');
  try {
    model.eval();
    ag.noGrad(() => model.call(x));
  } finally {
    for (const l of layers) l.inputQuant.setPhase('normal');
    model.train(wasTraining);
  }
}

/**
 * The quantized layers of a prepared model, in module order.
 * @throws UsageError when the model was not prepared by {@link prepareQat}
 */
export function quantLayers(model: Module): QuantLayer[] {
  const p = PREPARED.get(model);
  if (!p) throw new UsageError('Expected a model prepared by prepareQat (a fake-quant model) but received a float model');
  return p.layers;
}

/** The config a model was prepared with, or null for a float model. */
export function quantConfigOf(model: Module): QuantConfig | null {
  return PREPARED.get(model)?.config ?? null;
}

/** Whether a model is fake-quantized. */
export function isQuantized(model: Module): boolean {
  return PREPARED.has(model);
}

/**
 * Sets the observer mode of every activation quantizer (`frozen` needs calibrated ranges for the 8-bit
 * min/max quantizers: see {@link freezeObservers}).
 * @throws UsageError for a float model or an unknown mode
 */
export function setObserverMode(model: Module, mode: ObserverMode): void {
  if (mode !== 'frozen' && mode !== 'faithful') throw invalidOption('observer mode', 'frozen or faithful', mode);
  for (const l of quantLayers(model)) {
    l.inputQuant.observerMode = mode;
    l.weightQuant.observerMode = mode;
  }
}

/**
 * Calibrates the batch-dependent activation ranges and switches to `frozen` mode: runs the batches through the
 * model in eval mode (BN running statistics, no gradients) with live observers; each 8-bit min/max quantizer
 * keeps the mean of its per-batch minimum and maximum. Signs decided so far are kept (a calibration batch can
 * still switch a signed quantizer whose input is never negative to unsigned, as any live observer would).
 * @param model a prepared model
 * @param batches [N, C, S, S] inputs in [0, 1] (e.g. a few unaugmented training batches)
 * @throws UsageError for a float model or no batches
 * @example
 * freezeObservers(model, [Tensor.rand([16, 3, 32, 32], new Rng(0))]);
 */
export function freezeObservers(model: Module, batches: Iterable<Tensor>): void {
  const layers = quantLayers(model);
  const wasTraining = model.training;
  for (const l of layers) l.inputQuant.setPhase('calibrate');
  let n = 0;
  try {
    model.eval();
    for (const b of batches) {
      ag.noGrad(() => model.call(b));
      n++;
    }
  } finally {
    for (const l of layers) l.inputQuant.finishCalibration();
    model.train(wasTraining);
  }
  if (n === 0) throw new UsageError('freezeObservers: expected at least one calibration batch but received none');
  setObserverMode(model, 'frozen');
}

/** A weight quantizer as deployed: the effective conv / linear weight is exactly `int[i] · scale[channel]`. */
export interface WeightQuantParams {
  bits: number;
  signed: true;
  perChannel: boolean;
  /** one scale, or one per output channel */
  scale: Float32Array;
  zeroPoint: 0;
  qmin: number;
  qmax: number;
  /** the weight's integers on the grid, same layout as the weight ([out, in/groups, kh, kw] or [out, in]) */
  int: Int32Array;
  shape: number[];
  kind: QuantizerKind;
}

/** An input-activation quantizer as deployed: x̂ = clamp(nearbyint(fl(x · fl(1/scale))), qmin, qmax) · scale. */
export interface InputQuantParams {
  bits: number;
  signed: boolean;
  scale: number;
  zeroPoint: 0;
  qmin: number;
  qmax: number;
  /** the real-valued range the grid covers: [qmin · scale, qmax · scale] */
  clamp: [number, number];
  kind: QuantizerKind;
  /** PACT's clipping level |α| (null for other kinds) */
  alpha: number | null;
}

/** One layer for an integer deployment. */
export interface LayerQuantParams {
  name: string;
  kind: 'conv' | 'linear';
  first: boolean;
  last: boolean;
  /** conv geometry (null for linear) */
  conv: Required<Pick<Conv2dOptions, 'groups'>> & Conv2dOptions | null;
  /** the float bias (not quantized in the academic setting), or null */
  bias: Float32Array | null;
  weight: WeightQuantParams;
  input: InputQuantParams;
}

/**
 * Lists, per conv / linear in module order, the weight quantizer (integer weights exactly as the fake-quant
 * forward rounds them, scale(s), range) and the input quantizer (bits, sign, scale, range). The model must be
 * batch-independent: LSQ always is; DoReFa / PACT need {@link freezeObservers} first (frozen mode).
 * @throws UsageError for a float model; QrobustError when an input quantizer is batch-dependent (faithful
 *   mode) or not calibrated
 * @example
 * freezeObservers(model, batches); exportQuantParams(model)[0].weight.int.length // conv1's weight count
 */
export function exportQuantParams(model: Module): LayerQuantParams[] {
  const layers = quantLayers(model);
  return ag.noGrad(() => layers.map((l) => {
    const wq = l.weightQuant;
    const iq = l.inputQuant;
    if (iq.observerMode === 'faithful' && iq.batchDependent) throw new QrobustError(`exportQuantParams: '${l.name}' has a batch-dependent input quantizer (observer mode faithful); call freezeObservers(model, batches) first`);
    if (!iq.calibrated) throw new QrobustError(`exportQuantParams: '${l.name}' input quantizer has no calibrated range; call freezeObservers(model, batches) first`);
    // The weight's grid values: run the weight quantizer (sets its scale) and recover the integers.
    const wasTraining = wq.training;
    wq.train(false);
    let wInput: Tensor;
    try {
      wq.call(l.module.weight);
      wInput = wq.kind === 'lsq' ? l.module.weight : dorefaNormalized(l.module.weight);
    } finally {
      wq.train(wasTraining);
    }
    const wr = wq.intRange;
    const scale = Float32Array.from(wq.scale.data);
    const int = quantizeInt(wInput, scale.length === 1 ? scale[0]! : scale, wr.qmin, wr.qmax);
    // The input scale as the forward computes it in eval mode.
    const ir = iq.intRange;
    const s = inputScale(iq);
    const conv = l.module instanceof Conv2d ? { stride: l.module.opts.stride, padding: l.module.opts.padding, dilation: l.module.opts.dilation, groups: l.module.opts.groups ?? 1 } : null;
    return {
      name: l.name, kind: l.kind, first: l.first, last: l.last, conv,
      bias: l.module.bias ? Float32Array.from(l.module.bias.data) : null,
      weight: { bits: wq.bits, signed: true, perChannel: wq.perChannel, scale, zeroPoint: 0, qmin: wr.qmin, qmax: wr.qmax, int, shape: [...l.module.weight.shape], kind: wq.kind },
      input: { bits: iq.bits, signed: iq.isSigned, scale: s, zeroPoint: 0, qmin: ir.qmin, qmax: ir.qmax, clamp: [Math.fround(ir.qmin * s), Math.fround(ir.qmax * s)], kind: iq.kind, alpha: iq.alpha ? iq.alpha.data[0]! : null },
    } satisfies LayerQuantParams;
  }));
}

/** DoReFa's tanh-normalised weight w̃ = tanh(w)/(max|tanh w| + 1e-5), computed as the forward does. */
export function dorefaNormalized(w: Tensor): Tensor {
  return ag.noGrad(() => {
    const t = ag.tanh(w);
    return ag.div(t, ag.add(ag.max(ag.abs(t)), 1e-5));
  });
}

function inputScale(iq: FakeQuant): number {
  // Run the scale logic on a one-element input of 0 in eval mode without changing any state but `scale`.
  const probe = Tensor.zeros([1]);
  const signed = iq.signed.data[0]!;
  const wasTraining = iq.training;
  iq.train(false);
  try {
    if (iq.kind === 'minmax' && iq.observerMode === 'faithful') throw new QrobustError('inputScale: batch-dependent');
    iq.call(probe);
  } finally {
    iq.signed.data[0] = signed;
    iq.train(wasTraining);
  }
  return iq.scale.data[0]!;
}
