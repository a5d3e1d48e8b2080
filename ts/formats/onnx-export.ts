/**
 * Float ONNX export (issue 3): a model → an ONNX graph taking [0, 1] NCHW float pixels with a symbolic batch
 * dimension (`input` [batch, C, H, W] → `logits` [batch, classes]), normalisation inside the graph (Sub, Div).
 * Layers keep their state-dict names as initializer names (`layer1.0.conv1.weight`, `bn1.running_var`, ...) and BN
 * stays a BatchNormalization node (eval mode: running statistics; onnxruntime fuses it), so {@link importOnnx}
 * reads an export back into layers with the model's own state-dict names. Opset 13.
 *
 * Supported: the registry's architectures (resnet20, resnet18, resnet50, mobilenet_v2, regnetx_600mf), models
 * imported from ONNX, and compositions of the basic layers (Sequential of Conv2d, BatchNorm2d, Linear, ReLU, ReLU6,
 * pools, Flatten, Dropout, Identity, Normalize). Any other module is an {@link UnsupportedModuleError}: its
 * forward is code, not a graph, and a wrong graph would be worse than none.
 */
import { UsageError, invalidOption } from '../util/errors.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { Module } from '../nn/module.ts';
import { AvgPool2d, BatchNorm2d, Conv2d, Dropout, Flatten, GlobalAvgPool2d, Identity, Linear, MaxPool2d, Normalize, ReLU, ReLU6, Sequential } from '../nn/layers.ts';
import type * as ag from '../autograd/index.ts';
import { BasicBlock, ResNet20 } from '../nn/models/resnet20.ts';
import { ResNet18 } from '../nn/models/resnet.ts';
import { Bottleneck, ResNet50 } from '../nn/models/resnet50.ts';
import { InvertedResidual, MobileNetV2 } from '../nn/models/mobilenet-v2.ts';
import { BottleneckTransform, RegNetHead, RegNetStage, RegNetStem, RegNetX600MF, ResBottleneckBlock } from '../nn/models/regnet.ts';
import { ConvBNAct } from '../nn/models/common.ts';
import { modelSpec } from '../nn/models/index.ts';
import { OnnxGraphModule } from './onnx-import.ts';
import { DataType, encodeModel, makeGraph, makeModel, makeNode, makeValueInfo, tensorFromArray, type AttrValue, type NodeProto, type OnnxModel, type TensorProto } from './onnx.ts';

/** A module {@link exportOnnx} has no graph for. */
export class UnsupportedModuleError extends UsageError {
  constructor(readonly moduleName: string, readonly className: string) {
    super(`ONNX export: no exporter for module '${moduleName || '<root>'}' of class ${className}; supported: the registry architectures, imported ONNX models and Sequential compositions of basic layers`);
    this.name = 'UnsupportedModuleError';
  }
}

/** Options of {@link exportOnnx}. */
export interface ExportOnnxOptions {
  /** Square input side written into the input shape; default the model's spec (createModel), else 224. */
  inputSize?: number;
  /** Input channels; default the spec's, else 3. */
  inChannels?: number;
  /** Make height and width symbolic too ('height', 'width'); default false (fixed at inputSize). */
  symbolicSize?: boolean;
  /** Graph input / output names; default 'input' / 'logits'. */
  inputName?: string;
  outputName?: string;
  /** Free-text doc string. */
  docString?: string;
}

const pair = (v: number | readonly [number, number] | undefined, d: number): [number, number] => (v === undefined ? [d, d] : typeof v === 'number' ? [v, v] : [v[0], v[1]]);

/** Collects nodes and initializers with unique value names. */
class Emitter {
  readonly nodes: NodeProto[] = [];
  readonly inits: TensorProto[] = [];
  private readonly names = new Set<string>();
  private n = 0;
  constructor(reserved: readonly string[]) {
    for (const r of reserved) this.names.add(r);
  }
  fresh(hint: string): string {
    const base = hint.replace(/\.+$/, '') || 'v';
    let name = base;
    while (this.names.has(name)) name = `${base}_${++this.n}`;
    this.names.add(name);
    return name;
  }
  private readonly tensorNames = new Map<Tensor, string>();
  /** The initializer name a tensor was written under, if any. */
  nameOf(t: Tensor): string | undefined {
    return this.tensorNames.get(t);
  }
  init(name: string, t: Tensor): string {
    if (this.names.has(name)) throw new UsageError(`ONNX export: duplicate tensor name '${name}'`);
    this.names.add(name);
    this.tensorNames.set(t, name);
    this.inits.push(tensorFromArray(name, DataType.FLOAT, t.shape as number[], t.contiguous().data));
    return name;
  }
  raw(t: TensorProto): void {
    this.names.add(t.name ?? '');
    this.inits.push(t);
  }
  node(op: string, inputs: string[], hint: string, attrs: Record<string, AttrValue> = {}, out?: string): string {
    const y = out ?? this.fresh(`${hint}${op}`);
    if (out) this.names.add(out);
    this.nodes.push(makeNode(op, inputs, [y], attrs, `${hint}${op}_${this.nodes.length}`));
    return y;
  }
  scalar(v: number, hint: string): string {
    const y = this.fresh(hint);
    this.nodes.push(makeNode('Constant', [], [y], { value: tensorFromArray(y, DataType.FLOAT, [], [v]) }, `${y}_const`));
    return y;
  }
}

function conv(e: Emitter, m: Conv2d, x: string, p: string, out?: string): string {
  const [kh, kw] = [m.weight.shape[2]!, m.weight.shape[3]!];
  const [sh, sw] = pair(m.opts.stride, 1);
  const [ph, pw] = pair(m.opts.padding, 0);
  const [dh, dw] = pair(m.opts.dilation, 1);
  const ins = [x, e.init(`${p}weight`, m.weight)];
  if (m.bias) ins.push(e.init(`${p}bias`, m.bias));
  return e.node('Conv', ins, p, { dilations: [dh, dw], group: m.opts.groups ?? 1, kernel_shape: [kh, kw], pads: [ph, pw, ph, pw], strides: [sh, sw] }, out);
}

function bn(e: Emitter, m: BatchNorm2d, x: string, p: string, out?: string): string {
  const ins = [x, e.init(`${p}weight`, m.weight), e.init(`${p}bias`, m.bias), e.init(`${p}running_mean`, m.runningMean), e.init(`${p}running_var`, m.runningVar)];
  return e.node('BatchNormalization', ins, p, { epsilon: { f: m.eps }, momentum: { f: 1 - m.momentum } }, out);
}

function linear(e: Emitter, m: Linear, x: string, p: string, out?: string): string {
  const ins = [x, e.init(`${p}weight`, m.weight)];
  if (m.bias) ins.push(e.init(`${p}bias`, m.bias));
  return e.node('Gemm', ins, p, { alpha: { f: 1 }, beta: { f: 1 }, transB: 1 }, out);
}

const relu = (e: Emitter, x: string, p: string): string => e.node('Relu', [x], p);
const relu6 = (e: Emitter, x: string, p: string): string => e.node('Clip', [x, e.scalar(0, `${p}clip_min`), e.scalar(6, `${p}clip_max`)], p);
const add = (e: Emitter, a: string, b: string, p: string): string => e.node('Add', [a, b], p);
const head = (e: Emitter, x: string, fc: Linear, p: string, fcPrefix: string): string => {
  const h = e.node('Flatten', [e.node('GlobalAveragePool', [x], p)], p, { axis: 1 });
  return linear(e, fc, h, fcPrefix);
};
const maxPool = (e: Emitter, x: string, p: string, o: ag.Pool2dOptions): string => {
  const k = pair(o.kernel, 1);
  const s = o.stride === undefined ? k : pair(o.stride, 1);
  const pd = pair(o.padding, 0);
  return e.node('MaxPool', [x], p, { kernel_shape: k, pads: [pd[0], pd[1], pd[0], pd[1]], strides: s });
};

/** Emits `m` applied to value `x`; `p` is the module's state-dict prefix ('' or 'name.'). */
function emit(e: Emitter, m: Module, x: string, p: string): string {
  const sub = (name: string, input: string): string => {
    const c = m.namedChildren().find(([n]) => n === name);
    if (!c) throw new UnsupportedModuleError(`${p}${name}`, 'missing child');
    return emit(e, c[1], input, `${p}${name}.`);
  };
  if (m instanceof Normalize) return e.node('Div', [e.node('Sub', [x, e.init(`${p}mean`, m.mean)], p), e.init(`${p}std`, m.std)], p);
  if (m instanceof Conv2d) return conv(e, m, x, p);
  if (m instanceof BatchNorm2d) return bn(e, m, x, p);
  if (m instanceof Linear) return linear(e, m, x, p);
  if (m instanceof ReLU) return relu(e, x, p);
  if (m instanceof ReLU6) return relu6(e, x, p);
  if (m instanceof Identity || m instanceof Dropout) return x;
  if (m instanceof MaxPool2d) return maxPool(e, x, p, m.opts);
  if (m instanceof AvgPool2d) {
    const k = pair(m.opts.kernel, 1);
    const s = m.opts.stride === undefined ? k : pair(m.opts.stride, 1);
    const pd = pair(m.opts.padding, 0);
    return e.node('AveragePool', [x], p, { count_include_pad: m.opts.countIncludePad === false ? 0 : 1, kernel_shape: k, pads: [pd[0], pd[1], pd[0], pd[1]], strides: s });
  }
  if (m instanceof GlobalAvgPool2d) return e.node('GlobalAveragePool', [x], p);
  if (m instanceof Flatten) {
    if (m.startDim !== 1) throw new UnsupportedModuleError(p, `Flatten(startDim ${m.startDim})`);
    return e.node('Flatten', [x], p, { axis: 1 });
  }
  if (m instanceof Sequential || m instanceof RegNetStage) {
    let h = x;
    for (const [n, c] of m.namedChildren()) h = emit(e, c, h, `${p}${n}.`);
    return h;
  }
  if (m instanceof ConvBNAct) {
    const h = sub('1', sub('0', x));
    return m.act === 'relu' ? relu(e, h, p) : m.act === 'relu6' ? relu6(e, h, p) : h;
  }
  if (m instanceof BasicBlock) {
    let h = relu(e, sub('bn1', sub('conv1', x)), p);
    h = sub('bn2', sub('conv2', h));
    return relu(e, add(e, h, m.downsample ? sub('downsample', x) : x, p), p);
  }
  if (m instanceof Bottleneck) {
    let h = relu(e, sub('bn1', sub('conv1', x)), p);
    h = relu(e, sub('bn2', sub('conv2', h)), p);
    h = sub('bn3', sub('conv3', h));
    return relu(e, add(e, h, m.downsample ? sub('downsample', x) : x, p), p);
  }
  if (m instanceof ResNet20 || m instanceof ResNet18 || m instanceof ResNet50) {
    let h = relu(e, sub('bn1', sub('conv1', sub('normalize', x))), p);
    if (!(m instanceof ResNet20)) h = maxPool(e, h, p, { kernel: 3, stride: 2, padding: 1 });
    for (const l of ['layer1', 'layer2', 'layer3', 'layer4']) if (m.namedChildren().some(([n]) => n === l)) h = sub(l, h);
    return head(e, h, m.fc, p, `${p}fc.`);
  }
  if (m instanceof InvertedResidual) {
    const h = sub('conv', x);
    return m.useResidual ? add(e, x, h, p) : h;
  }
  if (m instanceof MobileNetV2) {
    const h = sub('features', sub('normalize', x));
    const fc = m.classifier.layers[1];
    if (!(fc instanceof Linear)) throw new UnsupportedModuleError(`${p}classifier`, 'Sequential without Linear');
    return head(e, h, fc, p, `${p}classifier.1.`);
  }
  if (m instanceof RegNetStem) return relu(e, sub('bn', sub('conv', x)), p);
  if (m instanceof BottleneckTransform) {
    const h = relu(e, sub('a_bn', sub('a', x)), p);
    return sub('c_bn', sub('c', relu(e, sub('b_bn', sub('b', h)), p)));
  }
  if (m instanceof ResBottleneckBlock) {
    const sc = m.proj ? sub('bn', sub('proj', x)) : x;
    return relu(e, add(e, sc, sub('f', x), p), p);
  }
  if (m instanceof RegNetHead) return head(e, x, m.fc, p, `${p}fc.`);
  if (m instanceof RegNetX600MF) {
    let h = sub('stem', sub('normalize', x));
    for (let i = 1; i <= m.stages.length; i++) h = sub(`s${i}`, h);
    return sub('head', h);
  }
  if (m instanceof OnnxGraphModule) return emitGraph(e, m, x, p);
  throw new UnsupportedModuleError(p.replace(/\.$/, ''), m.constructor.name);
}

/** Re-emits an imported graph with the current values of its layers and buffers. */
function emitGraph(e: Emitter, m: OnnxGraphModule, x: string, p: string): string {
  if (p !== '') throw new UnsupportedModuleError(p, 'OnnxGraphModule inside another model');
  const layerNames = new Map<Module, string>(m.namedChildren().map(([n, c]) => [c, n]));
  const buffers = new Map(m.namedBuffers());
  const produced = new Set<string>([m.inputName]);
  const rename = (v: string): string => (v === m.inputName ? x : v);
  const ensureConst = (v: string): void => {
    if (!v || produced.has(v)) return;
    produced.add(v);
    const b = buffers.get(v);
    if (b) e.init(v, b);
    else {
      const c = m.constantProto(v);
      if (c) e.raw({ ...c, name: v });
    }
  };
  for (const s of m.steps) {
    const node = s.node;
    const ins = (node.input ?? []).map(rename);
    const out = s.layer ? s.outputName : (node.output ?? [])[0] ?? '';
    if (s.layer) {
      const lp = `${layerNames.get(s.layer)}.`;
      ensureConst(node.input?.[0] ?? '');
      if (s.layer instanceof Conv2d) conv(e, s.layer, ins[0]!, lp, out);
      else if (s.layer instanceof BatchNorm2d) bn(e, s.layer, ins[0]!, lp, out);
      else if (s.layer instanceof Linear) {
        if (node.opType === 'Gemm') linear(e, s.layer, ins[0]!, lp, out);
        else {
          // MatMul (any rank) with W [in, out] stored as Linear's [out, in]
          const w = s.layer.weight;
          const [fo, fi] = [w.shape[0]!, w.shape[1]!];
          const t = new Float32Array(fi * fo);
          const wd = w.contiguous().data;
          for (let o = 0; o < fo; o++) for (let i = 0; i < fi; i++) t[i * fo + o] = wd[o * fi + i]!;
          const wn = e.fresh(`${lp}weight_t`);
          e.raw(tensorFromArray(wn, DataType.FLOAT, [fi, fo], t));
          if (s.layer.bias) e.node('Add', [e.node('MatMul', [ins[0]!, wn], lp), e.init(`${lp}bias`, s.layer.bias)], lp, {}, out);
          else e.node('MatMul', [ins[0]!, wn], lp, {}, out);
        }
      }
    } else {
      for (const v of node.input ?? []) ensureConst(v);
      e.nodes.push({ ...node, input: ins });
    }
    produced.add(out);
  }
  // A graph whose output is a constant (or an Identity of one).
  ensureConst(m.outputName);
  return m.outputName;
}

/**
 * Exports a float model to ONNX (see the file comment): input `[batch, C, S, S]` float pixels in [0, 1], output
 * `[batch, classes]` logits, normalisation inside, BN in eval form. Exports what the model computes in eval mode.
 * @param model a registry model, an imported ONNX model, or a Sequential of basic layers
 * @param opts input size / channels and names
 * @returns the ONNX model (write it with `encodeModel` / `writeModel`)
 * @throws UnsupportedModuleError for a module without an exporter; UsageError for bad options
 * @example
 * const s = await ort.InferenceSession.create(encodeModel(exportOnnx(createModel('resnet20'), { inputSize: 32 })));
 * const out = await s.run({ input: new ort.Tensor('float32', new Float32Array(2 * 3 * 32 * 32), [2, 3, 32, 32]) });
 * out.logits.dims // [2, 10]
 */
export function exportOnnx(model: Module, opts: ExportOnnxOptions = {}): OnnxModel {
  if (!(model instanceof Module)) throw invalidOption('model', 'a Module', model);
  const spec = modelSpec(model);
  const size = opts.inputSize ?? spec?.inputSize ?? 224;
  if (!Number.isInteger(size) || size < 1) throw invalidOption('inputSize', 'integer >= 1', size);
  const ch = opts.inChannels ?? spec?.inChannels ?? 3;
  if (!Number.isInteger(ch) || ch < 1) throw invalidOption('inChannels', 'integer >= 1', ch);
  const inName = opts.inputName ?? 'input';
  const outName = opts.outputName ?? 'logits';
  const e = new Emitter([inName, outName]);
  let y = emit(e, model, inName, '');
  // The class count when the model ends in a Linear layer; otherwise the output's shape is left unstated.
  const fcs = [...collectLinear(model)];
  const lastLinear = fcs.length ? fcs[fcs.length - 1]! : null;
  const classes = lastLinear && e.nodes.some((n) => n.opType === 'Gemm' && n.output?.[0] === y && n.input?.[1] === e.nameOf(lastLinear.weight)) ? lastLinear.weight.shape[0]! : null;
  if (y === inName) y = e.node('Identity', [y], 'out');
  // The last node writes the graph output under its public name.
  const last = [...e.nodes].reverse().find((n) => n.output?.[0] === y);
  if (last) {
    for (const n of e.nodes) n.input = (n.input ?? []).map((v) => (v === y ? outName : v));
    last.output = [outName];
  } else {
    e.nodes.push(makeNode('Identity', [y], [outName], {}, 'output_identity'));
  }
  const graph = makeGraph(e.nodes, spec?.arch ?? model.constructor.name, [makeValueInfo(inName, DataType.FLOAT, opts.symbolicSize ? ['batch', ch, 'height', 'width'] : ['batch', ch, size, size])],
    [makeValueInfo(outName, DataType.FLOAT, classes === null ? undefined : ['batch', classes])], e.inits);
  return makeModel(graph, { opsetImports: [{ domain: '', version: model instanceof OnnxGraphModule ? Math.max(model.opset, 7) : 13 }], producerName: 'qrobust', docString: opts.docString ?? 'float model: [0, 1] NCHW pixels in, logits out; normalisation inside' });
}

function* collectLinear(m: Module): Generator<Linear> {
  if (m instanceof Linear) yield m;
  for (const [, c] of m.namedChildren()) yield* collectLinear(c);
}

/**
 * {@link exportOnnx}, encoded to bytes.
 * @param model as {@link exportOnnx}
 * @param opts as {@link exportOnnx}
 * @throws as {@link exportOnnx}
 * @example
 * const bytes = exportOnnxBytes(createModel('mobilenet_v2', { numClasses: 10, inputSize: 64 })); // writeFileSync('m.onnx', bytes)
 * decodeModel(bytes).graph.input[0].type.tensorType.shape.dim[0] // { dimParam: 'batch' }
 */
export function exportOnnxBytes(model: Module, opts: ExportOnnxOptions = {}): Uint8Array {
  return encodeModel(exportOnnx(model, opts));
}
