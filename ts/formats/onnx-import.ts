/**
 * Float ONNX import: a graph becomes an {@link OnnxGraphModule} whose Conv / Gemm / MatMul / BatchNormalization
 * nodes are our own layers ({@link Conv2d}, {@link Linear}, {@link BatchNorm2d}) holding the initializers as
 * parameters and buffers, and whose other nodes run the autograd primitives. An imported model therefore
 * evaluates, trains (BN running statistics included, in training mode) and back-propagates to its input
 * like a model built in TypeScript, and quantization sees ordinary Conv2d / Linear layers.
 *
 * Supported operators (default domain): Conv, BatchNormalization, Relu, Clip, MaxPool, AveragePool,
 * GlobalAveragePool, Flatten, Gemm, MatMul, Add, Sub, Mul, Div, Reshape, Identity, Dropout (inference: identity),
 * Constant, and the integer shape arithmetic torch emits for `x.view(x.size(0), -1)` (Shape, Gather, Unsqueeze,
 * Concat). Anything else is an {@link UnsupportedOnnxOpError} naming the op and the node.
 *
 * Names: a layer whose weight initializer is called `<prefix>.weight` (torch's names, as in exports without
 * constant folding and in ours) is registered as `<prefix>`, so the state dict reads `<prefix>.weight`,
 * `<prefix>.running_mean`, ...; other layers are named after their node. Initializers that no layer takes
 * (normalisation constants, reshape targets) become buffers under their own names: they are not trained.
 */
import { QrobustError, UsageError, invalidOption } from '../util/errors.ts';
import { Rng } from '../util/rng.ts';
import { Tensor } from '../tensor/tensor.ts';
import { fmtShape } from '../tensor/shape.ts';
import * as ag from '../autograd/index.ts';
import { Module } from '../nn/module.ts';
import { BatchNorm2d, Conv2d, Linear } from '../nn/layers.ts';
import { AttributeType, DataType, decodeModel, readModel, tensorToArray, type AttributeProto, type NodeProto, type OnnxModel, type TensorProto } from './onnx.ts';

/** The operators {@link importOnnx} maps. */
export const SUPPORTED_ONNX_OPS = [
  'Conv', 'BatchNormalization', 'Relu', 'Clip', 'MaxPool', 'AveragePool', 'GlobalAveragePool', 'Flatten', 'Gemm', 'MatMul',
  'Add', 'Sub', 'Mul', 'Div', 'Reshape', 'Identity', 'Dropout', 'Constant', 'Shape', 'Gather', 'Unsqueeze', 'Concat',
] as const;

/** A node {@link importOnnx} cannot map: the message names the op, the node and the supported ops. */
export class UnsupportedOnnxOpError extends UsageError {
  constructor(readonly opType: string, readonly nodeName: string, detail = '') {
    super(`ONNX import: unsupported ${detail ? `${opType} variant (${detail})` : `op ${opType}`} at node '${nodeName}'; supported ops: ${SUPPORTED_ONNX_OPS.join(', ')}`);
    this.name = 'UnsupportedOnnxOpError';
  }
}

/** An integer vector flowing through shape arithmetic (Shape → Gather → Unsqueeze → Concat → Reshape). */
interface Ints {
  ints: number[];
  /** a 0-d value (Gather with a scalar index) */
  scalar: boolean;
}
type Value = Tensor | Ints;
const isInts = (v: Value | undefined): v is Ints => v !== undefined && !(v instanceof Tensor);

/** A constant known at import time: float data as a tensor, integer data as numbers. */
interface Const {
  tensor: Tensor | null;
  ints: number[] | null;
  dims: number[];
  proto: TensorProto;
}

/** One executed node: the node, the layer it became (if any) and its rule. */
export interface OnnxStep {
  readonly node: NodeProto;
  readonly layer: Module | null;
  /** The value the step writes (for a MatMul fused with its Add: the Add's output). */
  readonly outputName: string;
  readonly run: (env: Map<string, Value>) => void;
}

function attrOf(node: NodeProto, name: string): AttributeProto | undefined {
  return node.attribute?.find((a) => a.name === name);
}
function attrInt(node: NodeProto, name: string, dflt: number): number {
  const a = attrOf(node, name);
  return a && a.i !== undefined ? Number(a.i) : dflt;
}
function attrFloat(node: NodeProto, name: string, dflt: number): number {
  const a = attrOf(node, name);
  if (a && a.type === AttributeType.INT && a.i !== undefined) return Number(a.i);
  return a && a.f !== undefined ? Number(a.f) : dflt;
}
function attrInts(node: NodeProto, name: string): number[] | null {
  const a = attrOf(node, name);
  return a && a.type === AttributeType.INTS ? (a.ints ?? []).map(Number) : null;
}
function attrString(node: NodeProto, name: string, dflt: string): string {
  const a = attrOf(node, name);
  return a?.s ? Buffer.from(a.s).toString('utf8') : dflt;
}

function constOf(t: TensorProto): Const {
  const dims = (t.dims ?? []).map(Number);
  const arr = tensorToArray(t);
  const dt = t.dataType ?? 0;
  if (dt === DataType.FLOAT || dt === DataType.DOUBLE || dt === DataType.FLOAT16) {
    return { tensor: Tensor.from(Float32Array.from(arr as ArrayLike<number>), dims), ints: null, dims, proto: t };
  }
  if (dt === DataType.INT64 || dt === DataType.INT32 || dt === DataType.INT8 || dt === DataType.UINT8 || dt === DataType.INT16) {
    const ints = Array.from(arr as ArrayLike<number | bigint>, Number);
    return { tensor: Tensor.from(Float32Array.from(ints), dims), ints, dims, proto: t };
  }
  throw new UsageError(`ONNX import: constant '${t.name ?? ''}' has element type ${dt}; only float and integer constants are supported`);
}

/** A graph turned into layers and primitive steps; see the file comment. */
export class OnnxGraphModule extends Module {
  /** The graph's data input and output names. */
  readonly inputName: string;
  readonly outputName: string;
  /** The executed steps, in graph order. */
  readonly steps: OnnxStep[] = [];
  /** Opset of the default domain. */
  readonly opset: number;
  private readonly used = new Set<string>();

  constructor(model: OnnxModel) {
    super();
    const g = model.graph;
    if (!g) throw new UsageError('ONNX import: the model has no graph');
    this.opset = Number(model.opsetImport?.find((o) => !o.domain || o.domain === 'ai.onnx')?.version ?? 13);
    const consts = new Map<string, Const>();
    for (const t of g.initializer ?? []) consts.set(t.name ?? '', constOf(t));
    const inputs = (g.input ?? []).map((v) => v.name ?? '').filter((n) => !consts.has(n));
    if (inputs.length !== 1) throw new UsageError(`ONNX import: expected one data input but the graph has ${inputs.length} (${inputs.join(', ')})`);
    if ((g.output ?? []).length < 1) throw new UsageError('ONNX import: the graph has no output');
    this.inputName = inputs[0]!;
    this.outputName = g.output![0]!.name ?? '';
    // Consumers of each value: decides which initializers a layer owns and whether MatMul + Add fuse.
    const consumers = new Map<string, NodeProto[]>();
    for (const n of g.node ?? []) for (const i of n.input ?? []) if (i) consumers.set(i, [...(consumers.get(i) ?? []), n]);
    const owned = new Set<string>();
    const fused = new Set<NodeProto>();
    const rng = new Rng(0);
    const nodes = g.node ?? [];
    nodes.forEach((node, idx) => {
      const op = node.opType ?? '';
      const name = node.name || `${op}_${idx}`;
      if (node.domain && node.domain !== 'ai.onnx') throw new UnsupportedOnnxOpError(`${node.domain}.${op}`, name);
      if (fused.has(node)) return;
      const ins = node.input ?? [];
      const out = (node.output ?? [])[0] ?? '';
      const c = (k: number): Const | undefined => (ins[k] ? consts.get(ins[k]!) : undefined);
      const need = (env: Map<string, Value>, k: number): Tensor => {
        const v = env.get(ins[k]!) ?? consts.get(ins[k]!)?.tensor ?? undefined;
        if (!(v instanceof Tensor)) throw new QrobustError(`ONNX import: node '${name}' (${op}) input '${ins[k]}' is not a float tensor`);
        return v;
      };
      const ints = (env: Map<string, Value>, k: number): Ints => {
        const v = env.get(ins[k]!);
        if (isInts(v)) return v;
        const k2 = c(k);
        if (k2?.ints) return { ints: k2.ints, scalar: k2.dims.length === 0 };
        throw new UsageError(`ONNX import: node '${name}' (${op}) needs integer input '${ins[k]}' known without running the model`);
      };
      const step = (run: (env: Map<string, Value>) => void, layer: Module | null = null, outputName = out): void => {
        this.steps.push({ node, layer, run, outputName });
      };
      const layerName = (weight: string | undefined): string => {
        const m = weight ? /^(.+)\.weight$/.exec(weight) : null;
        let base = m ? m[1]! : name.replace(/^\/+/, '').split('/').filter(Boolean).slice(0, -1).join('.') || name;
        base = base.replace(/^\.+|\.+$/g, '') || `${op}_${idx}`;
        let n = base;
        for (let k = 1; this.used.has(n); k++) n = `${base}_${k}`;
        this.used.add(n);
        return n;
      };
      const take = (k: number): void => {
        if (ins[k]) owned.add(ins[k]!);
      };
      switch (op) {
        case 'Constant': {
          const a = node.attribute?.[0];
          if (!a) throw new UnsupportedOnnxOpError(op, name, 'no value attribute');
          let t: TensorProto;
          if (a.name === 'value' && a.t) t = a.t;
          else if (a.name === 'value_float') t = { dims: [], dataType: DataType.FLOAT, floatData: [Number(a.f)] };
          else if (a.name === 'value_floats') t = { dims: [(a.floats ?? []).length], dataType: DataType.FLOAT, floatData: [...(a.floats ?? [])] };
          else if (a.name === 'value_int') t = { dims: [], dataType: DataType.INT64, int64Data: [a.i ?? 0] };
          else if (a.name === 'value_ints') t = { dims: [(a.ints ?? []).length], dataType: DataType.INT64, int64Data: [...(a.ints ?? [])] };
          else throw new UnsupportedOnnxOpError(op, name, `attribute ${a.name}`);
          consts.set(out, constOf({ ...t, name: out }));
          return;
        }
        case 'Conv': {
          const w = c(1);
          if (!w?.tensor || w.dims.length !== 4) throw new UnsupportedOnnxOpError(op, name, 'weight must be a constant 4-d tensor');
          const b = ins[2] ? c(2) : undefined;
          if (ins[2] && !b?.tensor) throw new UnsupportedOnnxOpError(op, name, 'bias must be a constant');
          const group = attrInt(node, 'group', 1);
          const [cout, cinG, kh, kw] = w.dims as [number, number, number, number];
          const strides = attrInts(node, 'strides') ?? [1, 1];
          const dil = attrInts(node, 'dilations') ?? [1, 1];
          const padding = symmetricPads(node, name, [kh, kw], strides, dil);
          const conv = new Conv2d(cinG * group, cout, [kh, kw], { stride: [strides[0]!, strides[1]!], padding, dilation: [dil[0]!, dil[1]!], groups: group, bias: !!b }, rng);
          conv.weight.data.set(w.tensor.data);
          if (b) conv.bias!.data.set(b.tensor!.data);
          take(1);
          take(2);
          this.registerModule(layerName(ins[1]), conv);
          step((env) => env.set(out, conv.call(need(env, 0))), conv);
          return;
        }
        case 'BatchNormalization': {
          const [s, bb, mean, v] = [c(1), c(2), c(3), c(4)];
          if (!s?.tensor || !bb?.tensor || !mean?.tensor || !v?.tensor) throw new UnsupportedOnnxOpError(op, name, 'scale, bias, mean and var must be constants');
          if ((node.output ?? []).slice(1).some((o) => o && consumers.has(o))) throw new UnsupportedOnnxOpError(op, name, 'training-mode outputs are used');
          const bn = new BatchNorm2d(s.tensor.size, { eps: attrFloat(node, 'epsilon', 1e-5), momentum: 1 - attrFloat(node, 'momentum', 0.9) });
          bn.weight.data.set(s.tensor.data);
          bn.bias.data.set(bb.tensor.data);
          bn.runningMean.data.set(mean.tensor.data);
          bn.runningVar.data.set(v.tensor.data);
          for (let k = 1; k <= 4; k++) take(k);
          this.registerModule(layerName(ins[1]), bn);
          step((env) => env.set(out, bn.call(need(env, 0))), bn);
          return;
        }
        case 'Gemm':
        case 'MatMul': {
          const bw = c(1);
          if (op === 'Gemm' && attrInt(node, 'transA', 0) !== 0) throw new UnsupportedOnnxOpError(op, name, 'transA = 1');
          if (!bw?.tensor || bw.dims.length !== 2) {
            if (op === 'MatMul') {
              step((env) => env.set(out, ag.matmul(need(env, 0), need(env, 1))));
              return;
            }
            throw new UnsupportedOnnxOpError(op, name, 'B must be a constant matrix');
          }
          const transB = op === 'Gemm' && attrInt(node, 'transB', 0) === 1;
          const alpha = op === 'Gemm' ? attrFloat(node, 'alpha', 1) : 1;
          const beta = op === 'Gemm' ? attrFloat(node, 'beta', 1) : 1;
          const [r0, r1] = bw.dims as [number, number];
          const [fin, fout] = transB ? [r1, r0] : [r0, r1];
          let bias: Const | undefined = op === 'Gemm' && ins[2] ? c(2) : undefined;
          if (op === 'Gemm' && ins[2] && !bias?.tensor) throw new UnsupportedOnnxOpError(op, name, 'C must be a constant');
          let next: NodeProto | undefined;
          if (op === 'MatMul') {
            // MatMul + Add(constant [N]) is a linear layer with a bias (torch's export of nn.Linear on >2-d inputs).
            const cons = consumers.get(out) ?? [];
            const add = cons.length === 1 && cons[0]!.opType === 'Add' ? cons[0]! : undefined;
            const other = add ? (add.input ?? []).find((i) => i !== out) : undefined;
            const ct = other ? consts.get(other) : undefined;
            if (add && ct?.tensor && ct.tensor.size === fout && !(g.output ?? []).some((o) => o.name === out)) {
              bias = ct;
              next = add;
              fused.add(add);
            }
          }
          const lin = new Linear(fin, fout, rng, !!bias);
          const wd = lin.weight.data;
          const bd = bw.tensor.data;
          for (let o = 0; o < fout; o++) for (let i = 0; i < fin; i++) wd[o * fin + i] = alpha * bd[transB ? o * fin + i : i * fout + o]!;
          if (bias) {
            const cd = bias.tensor!.data;
            if (cd.length !== fout && cd.length !== 1) throw new UnsupportedOnnxOpError(op, name, `C of shape ${fmtShape(bias.dims)} for ${fout} outputs`);
            for (let o = 0; o < fout; o++) lin.bias!.data[o] = beta * cd[cd.length === 1 ? 0 : o]!;
          }
          take(1);
          if (bias) owned.add(bias.proto.name ?? '');
          this.registerModule(layerName(ins[1]), lin);
          const dst = next ? (next.output ?? [])[0] ?? '' : out;
          step((env) => {
            const x = need(env, 0);
            if (x.ndim === 2) {
              env.set(dst, lin.call(x));
              return;
            }
            if (op === 'Gemm' || x.ndim < 2) throw new QrobustError(`ONNX import: node '${name}' (${op}) received ${fmtShape(x.shape)}`);
            const y = lin.call(ag.reshape(x, [-1, fin]));
            env.set(dst, ag.reshape(y, [...x.shape.slice(0, -1), fout]));
          }, lin, dst);
          return;
        }
        case 'Relu':
          step((env) => env.set(out, ag.relu(need(env, 0))));
          return;
        case 'Clip': {
          let lo: number | undefined;
          let hi: number | undefined;
          if (this.opset < 11) {
            lo = attrOf(node, 'min') ? attrFloat(node, 'min', -Infinity) : undefined;
            hi = attrOf(node, 'max') ? attrFloat(node, 'max', Infinity) : undefined;
          } else {
            for (const k of [1, 2]) {
              if (!ins[k]) continue;
              const v = c(k);
              if (!v?.tensor || v.tensor.size !== 1) throw new UnsupportedOnnxOpError(op, name, 'min / max must be constant scalars');
              if (k === 1) lo = v.tensor.data[0];
              else hi = v.tensor.data[0];
            }
          }
          if (lo === 0 && hi === 6) step((env) => env.set(out, ag.relu6(need(env, 0))));
          else if (lo === 0 && hi === undefined) step((env) => env.set(out, ag.relu(need(env, 0))));
          else if (lo === undefined && hi === undefined) step((env) => env.set(out, need(env, 0)));
          else step((env) => env.set(out, ag.clamp(need(env, 0), lo, hi)));
          return;
        }
        case 'MaxPool':
        case 'AveragePool': {
          if ((node.output ?? []).length > 1 && node.output![1]) throw new UnsupportedOnnxOpError(op, name, 'Indices output');
          const k = attrInts(node, 'kernel_shape');
          if (!k || k.length !== 2) throw new UnsupportedOnnxOpError(op, name, 'only 2-d kernels');
          const strides = attrInts(node, 'strides') ?? [1, 1];
          const dil = attrInts(node, 'dilations') ?? [1, 1];
          if (dil.some((d) => d !== 1)) throw new UnsupportedOnnxOpError(op, name, 'dilations');
          const padding = symmetricPads(node, name, [k[0]!, k[1]!], strides, [1, 1]);
          const ceil = attrInt(node, 'ceil_mode', 0) === 1;
          const opts: ag.Pool2dOptions = { kernel: [k[0]!, k[1]!], stride: [strides[0]!, strides[1]!], padding, countIncludePad: attrInt(node, 'count_include_pad', 0) === 1 };
          step((env) => {
            const x = need(env, 0);
            if (ceil) {
              // ceil_mode only matters when a window would start inside the padded input past the floor count
              for (let d = 0; d < 2; d++) {
                const span = x.shape[2 + d]! + 2 * padding[d]! - k[d]!;
                if (span % strides[d]! !== 0) throw new UnsupportedOnnxOpError(op, name, `ceil_mode = 1 with input ${fmtShape(x.shape)}`);
              }
            }
            env.set(out, op === 'MaxPool' ? ag.maxPool2d(x, opts) : ag.avgPool2d(x, opts));
          });
          return;
        }
        case 'GlobalAveragePool':
          step((env) => env.set(out, ag.globalAvgPool2d(need(env, 0))));
          return;
        case 'Flatten': {
          const axis = attrInt(node, 'axis', 1);
          step((env) => {
            const x = need(env, 0);
            const ax = axis < 0 ? axis + x.ndim : axis;
            const lead = x.shape.slice(0, ax).reduce((a, b) => a * b, 1);
            env.set(out, ag.reshape(x, [lead, -1]));
          });
          return;
        }
        case 'Reshape': {
          if (attrInt(node, 'allowzero', 0) !== 0) throw new UnsupportedOnnxOpError(op, name, 'allowzero = 1');
          step((env) => {
            const x = need(env, 0);
            const shape = ints(env, 1).ints.map((d, i) => (d === 0 ? x.shape[i]! : d));
            env.set(out, ag.reshape(x, shape));
          });
          return;
        }
        case 'Identity':
        case 'Dropout': {
          const k = c(0);
          if (k) {
            consts.set(out, k);
            return;
          }
          step((env) => env.set(out, env.get(ins[0]!)!));
          return;
        }
        case 'Add':
        case 'Sub':
        case 'Mul':
        case 'Div': {
          const fn = op === 'Add' ? ag.add : op === 'Sub' ? ag.sub : op === 'Mul' ? ag.mul : ag.div;
          step((env) => env.set(out, fn(need(env, 0), need(env, 1))));
          return;
        }
        case 'Shape':
          step((env) => {
            const x = env.get(ins[0]!);
            env.set(out, { ints: x instanceof Tensor ? [...x.shape] : [x ? x.ints.length : 0], scalar: false });
          });
          return;
        case 'Gather': {
          const axis = attrInt(node, 'axis', 0);
          if (axis !== 0) throw new UnsupportedOnnxOpError(op, name, `axis ${axis} (only integer shape vectors along axis 0)`);
          step((env) => {
            const d = ints(env, 0);
            const ix = ints(env, 1);
            const pick = ix.ints.map((i) => d.ints[i < 0 ? i + d.ints.length : i]!);
            env.set(out, { ints: pick, scalar: ix.scalar });
          });
          return;
        }
        case 'Unsqueeze':
          step((env) => {
            const v = ints(env, 0);
            if (!v.scalar) throw new UnsupportedOnnxOpError(op, name, 'only of scalar shape values');
            env.set(out, { ints: v.ints, scalar: false });
          });
          return;
        case 'Concat':
          step((env) => {
            const parts = ins.map((_, k) => ints(env, k).ints);
            env.set(out, { ints: parts.flat(), scalar: false });
          });
          return;
        default:
          throw new UnsupportedOnnxOpError(op, name);
      }
    });
    // Initializers no layer took stay constants of the graph: buffers under their own names (not trained).
    for (const t of g.initializer ?? []) {
      const n = t.name ?? '';
      const k = consts.get(n)!;
      if (!owned.has(n) && k.tensor && k.ints === null) {
        const buf = this.registerBuffer(n, k.tensor);
        consts.set(n, { ...k, tensor: buf });
      }
    }
    this.constants = consts;
  }

  /** Constants by value name (initializers and Constant outputs). */
  private readonly constants: Map<string, Const>;

  /**
   * Whether a value is a constant of the graph (an initializer or a Constant output).
   * @param name a value name of the graph
   * @throws never
   * @example
   * importOnnx(exportOnnxBytes(createModel('resnet20'))).isConstant('normalize.mean') // true
   */
  isConstant(name: string): boolean {
    return this.constants.has(name);
  }

  /**
   * The stored tensor of a constant value (initializer or Constant output; its `name` may differ), or null.
   * @param name a value name of the graph
   * @throws never
   * @example
   * importOnnx(exportOnnxBytes(createModel('resnet20'))).constantProto('input') // null
   */
  constantProto(name: string): TensorProto | null {
    return this.constants.get(name)?.proto ?? null;
  }

  /**
   * Runs the graph on `x` (the graph's single data input) and returns its first output.
   * @param x the input tensor, in the layout the graph expects (NCHW)
   * @throws QrobustError when a value is missing or of the wrong kind
   */
  forward(x: Tensor): Tensor {
    const env = new Map<string, Value>([[this.inputName, x]]);
    for (const s of this.steps) s.run(env);
    const y = env.get(this.outputName) ?? this.constants.get(this.outputName)?.tensor ?? undefined;
    if (!(y instanceof Tensor)) throw new QrobustError(`ONNX import: the graph output '${this.outputName}' was not computed`);
    return y;
  }
}

function symmetricPads(node: NodeProto, name: string, k: [number, number], strides: number[], dil: number[]): [number, number] {
  const op = node.opType ?? '';
  const auto = attrString(node, 'auto_pad', 'NOTSET');
  if (auto === 'VALID') return [0, 0];
  if (auto === 'SAME_UPPER' || auto === 'SAME_LOWER') {
    // symmetric only when every stride is 1 and each dilated kernel is odd
    const ext = [0, 1].map((d) => dil[d]! * (k[d]! - 1));
    if (strides.some((s) => s !== 1) || ext.some((e) => e % 2 !== 0)) throw new UnsupportedOnnxOpError(op, name, `auto_pad ${auto} with asymmetric padding`);
    return [ext[0]! / 2, ext[1]! / 2];
  }
  if (auto !== 'NOTSET') throw new UnsupportedOnnxOpError(op, name, `auto_pad ${auto}`);
  const p = attrInts(node, 'pads') ?? [0, 0, 0, 0];
  if (p.length !== 4 || p[0] !== p[2] || p[1] !== p[3]) throw new UnsupportedOnnxOpError(op, name, `asymmetric pads [${p.join(', ')}]`);
  return [p[0]!, p[1]!];
}

/**
 * Imports a float ONNX model onto our layers and autograd primitives (see the file comment).
 * @param src an .onnx path, its bytes, or a decoded {@link OnnxModel}
 * @returns the module (training mode, as every new module; call `.eval()` for inference)
 * @throws UnsupportedOnnxOpError naming the first unsupported op and its node; UsageError for graphs without
 *   exactly one data input, non-constant weights, or unreadable files
 * @example
 * const m = importOnnx(exportOnnxBytes(createModel('resnet20', { numClasses: 4 }))).eval();
 * ag.noGrad(() => m.call(Tensor.zeros([1, 3, 32, 32]))).shape // [1, 4]
 */
export function importOnnx(src: string | Uint8Array | OnnxModel): OnnxGraphModule {
  let model: OnnxModel;
  if (typeof src === 'string') model = readModel(src);
  else if (src instanceof Uint8Array) model = decodeModel(src);
  else if (src !== null && typeof src === 'object') model = src;
  else throw invalidOption('src', 'an .onnx path, bytes or a decoded model', src);
  return new OnnxGraphModule(model);
}
