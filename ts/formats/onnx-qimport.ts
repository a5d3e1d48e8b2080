/**
 * Import of quantized ONNX models onto the integer deploy graph (ts/deploy/ir.ts; docs/deploy.md):
 * - QOperator graphs: QuantizeLinear, QLinearConv, QLinearMatMul, com.microsoft QLinearAdd /
 *   QLinearGlobalAveragePool / QGemm, ConvInteger, MatMulInteger, DequantizeLinear; Flatten / Reshape /
 *   MaxPool on codes;
 * - QDQ graphs (ORT's quantization tools, PyTorch, MQBench): DequantizeLinear → op → QuantizeLinear node units
 *   become integer nodes. Which units fuse is a policy:
 *   - `ort-x86` mirrors ONNX Runtime's CPU graph optimiser as read from its optimized models
 *     (docs/deploy.md): int8 Q→DQ pairs whose Q ends in exactly one DQ use (one DQ with one consumer, not a
 *     graph output) become uint8 (zero point + 128; ORT's QDQS8ToU8 transform), then Conv / Gemm / MatMul / Add / GlobalAveragePool units fuse only when every
 *     activation is uint8; ReLU between the op and its Q is absorbed when Q's zero point is the type minimum;
 *     Q/DQ around Flatten / Reshape / MaxPool with equal parameters are dropped. Everything else stays float,
 *     as ORT runs it.
 *   - `all` fuses every unit whatever its code type (what the TFLite converter or TensorRT does with the model).
 * Unsupported ops are an {@link UnsupportedQuantizedOpError} naming the op and node.
 */
import { readFileSync } from 'node:fs';
import { UsageError } from '../util/errors.ts';
import { DataType, decodeModel, tensorToArray, type NodeProto, type OnnxModel, type TensorProto } from './onnx.ts';
import { codeRange, type CodeType, type DeployGraph, type DeployNode, type FloatNode, type QPoint, type QWeights } from '../deploy/ir.ts';

export type FusionPolicy = 'ort-x86' | 'all';

/** An op (or an op form) the quantized import does not handle (exit code 2). */
export class UnsupportedQuantizedOpError extends UsageError {
  constructor(op: string, node: string, why = '') {
    super(`Quantized ONNX import: op ${op} (node '${node}') is not supported${why ? `: ${why}` : ''}; supported: QuantizeLinear, DequantizeLinear, QLinearConv, QLinearMatMul, QLinearAdd, QLinearGlobalAveragePool, QGemm, ConvInteger, MatMulInteger, QDQ units of Conv / Gemm / MatMul / Add / GlobalAveragePool, and float Conv, Gemm, MatMul, Add, Sub, Mul, Div, Relu, Clip, Cast, GlobalAveragePool, Flatten, Reshape, MaxPool`);
    this.name = 'UnsupportedQuantizedOpError';
  }
}

interface Const { data: ArrayLike<number>; dims: number[]; dataType: number }

const FLOAT_OPS = new Set(['Conv', 'Gemm', 'MatMul', 'Add', 'Sub', 'Mul', 'Div', 'Relu', 'Clip', 'Cast', 'GlobalAveragePool']);

function attr(n: NodeProto, name: string): { i?: number; ints?: number[]; f?: number } | undefined {
  const a = n.attribute?.find((x) => x.name === name);
  if (!a) return undefined;
  return { i: a.i !== undefined && a.i !== null ? Number(a.i) : undefined, ints: a.ints?.map(Number), f: a.f ?? undefined };
}
const ints = (n: NodeProto, name: string, d: number[]): number[] => (attr(n, name)?.ints?.length ? attr(n, name)!.ints! : d);
const int = (n: NodeProto, name: string, d: number): number => attr(n, name)?.i ?? d;

function dtypeOf(dt: number, what: string, node: string): CodeType {
  if (dt === DataType.UINT8) return 'uint8';
  if (dt === DataType.INT8) return 'int8';
  throw new UnsupportedQuantizedOpError(what, node, `element type ${dt}: only int8 and uint8 codes`);
}

/**
 * Converts a quantized ONNX model into a deploy graph.
 * @param src path, bytes or decoded model
 * @param opts fusion policy (default 'ort-x86')
 * @returns the graph (source 'onnx:<file>')
 * @throws UnsupportedQuantizedOpError for an op the engine does not run; UsageError for a malformed model
 * @example
 * importQuantizedOnnx('model.int8.onnx').nodes.map((n) => n.op)
 */
export function importQuantizedOnnx(src: string | Uint8Array | OnnxModel, opts: { policy?: FusionPolicy } = {}): DeployGraph {
  const policy = opts.policy ?? 'ort-x86';
  const label = typeof src === 'string' ? src : '<bytes>';
  const model = typeof src === 'string' ? decodeModel(readFileSync(src), src) : src instanceof Uint8Array ? decodeModel(src) : src;
  const g = model.graph;
  if (!g) throw new UsageError(`${label}: the ONNX model has no graph`);
  const consts = new Map<string, Const>();
  const addConst = (t: TensorProto): void => {
    consts.set(t.name ?? '', { data: tensorToArray(t) as ArrayLike<number>, dims: (t.dims ?? []).map(Number), dataType: t.dataType ?? 0 });
  };
  for (const t of g.initializer ?? []) addConst(t);
  const nodes = (g.node ?? []).filter((n) => {
    if (n.opType === 'Constant') {
      const a = n.attribute?.find((x) => x.name === 'value');
      if (!a?.t) throw new UnsupportedQuantizedOpError('Constant', n.name ?? '', 'only the value attribute');
      addConst({ ...a.t, name: n.output![0] });
      return false;
    }
    return true;
  });
  const inputs = (g.input ?? []).map((v) => v.name ?? '').filter((n) => !consts.has(n));
  if (inputs.length !== 1) throw new UsageError(`${label}: expected one data input but the graph has ${inputs.length} (${inputs.join(', ')})`);
  const inputVi = (g.input ?? []).find((v) => v.name === inputs[0])!;
  const inShape = (inputVi.type?.tensorType?.shape?.dim ?? []).map((d) => (d.dimValue !== undefined && d.dimValue !== null && Number(d.dimValue) > 0 ? Number(d.dimValue) : d.dimParam || '?'));

  const producer = new Map<string, NodeProto>();
  const consumers = new Map<string, NodeProto[]>();
  for (const n of nodes) {
    for (const o of n.output ?? []) producer.set(o, n);
    for (const i of n.input ?? []) if (i) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  }
  const graphOutputs = new Set((g.output ?? []).map((o) => o.name ?? ''));
  const nameOf = (n: NodeProto): string => n.name || `${n.opType}:${n.output?.[0] ?? ''}`;
  const cons = (v: string): NodeProto[] => consumers.get(v) ?? [];

  const scalar = (name: string | undefined, node: NodeProto, what: string): number => {
    const c = name ? consts.get(name) : undefined;
    if (!c) throw new UnsupportedQuantizedOpError(node.opType ?? '', nameOf(node), `${what} '${name ?? ''}' must be a constant`);
    if (c.data.length !== 1) throw new UnsupportedQuantizedOpError(node.opType ?? '', nameOf(node), `${what} '${name}' must be a scalar (per-tensor) but has ${c.data.length} values`);
    return Number(c.data[0]);
  };
  /** The quantization point of (scale, zero point) inputs; a missing zero point is uint8 0 (ONNX default). */
  const point = (node: NodeProto, s: string | undefined, z: string | undefined): QPoint => {
    const scale = scalar(s, node, 'scale');
    if (!z) return { scale, zeroPoint: 0, dtype: 'uint8' };
    const zc = consts.get(z);
    const dtype = dtypeOf(zc?.dataType ?? 0, node.opType ?? '', nameOf(node));
    return { scale, zeroPoint: scalar(z, node, 'zero point'), dtype };
  };
  /** Weights from initializers: data, per-channel scale / zero point (axis 0 for conv and [n][k]). */
  const weights = (node: NodeProto, w: string, s: string | undefined, z: string | undefined, transposeKN: boolean): QWeights => {
    const c = consts.get(w);
    if (!c) throw new UnsupportedQuantizedOpError(node.opType ?? '', nameOf(node), `weights '${w}' must be an initializer`);
    const dtype = dtypeOf(c.dataType, node.opType ?? '', nameOf(node));
    let dims = c.dims.slice();
    let data: Int8Array | Uint8Array = dtype === 'int8' ? Int8Array.from(c.data) : Uint8Array.from(c.data);
    if (transposeKN) {
      if (dims.length !== 2) throw new UnsupportedQuantizedOpError(node.opType ?? '', nameOf(node), `weights must be 2-d but have shape [${dims.join(', ')}]`);
      const [k, n] = dims as [number, number];
      const t = dtype === 'int8' ? new Int8Array(k * n) : new Uint8Array(k * n);
      for (let i = 0; i < k; i++) for (let j = 0; j < n; j++) t[j * k + i] = data[i * n + j]!;
      data = t;
      dims = [n, k];
    }
    const oc = dims[0]!;
    const sc = s ? consts.get(s) : { data: [1], dims: [], dataType: DataType.FLOAT };
    if (!sc) throw new UnsupportedQuantizedOpError(node.opType ?? '', nameOf(node), `weight scale '${s ?? ''}' must be a constant`);
    if (sc.data.length !== 1 && sc.data.length !== oc) throw new UnsupportedQuantizedOpError(node.opType ?? '', nameOf(node), `weight scale has ${sc.data.length} values; expected 1 or ${oc} (per output channel)`);
    const scale = Float32Array.from({ length: oc }, (_, i) => Number(sc.data[sc.data.length === 1 ? 0 : i]));
    const zc = z ? consts.get(z) : undefined;
    if (z && !zc) throw new UnsupportedQuantizedOpError(node.opType ?? '', nameOf(node), `weight zero point '${z}' must be a constant`);
    const zeroPoint = Int32Array.from({ length: oc }, (_, i) => (zc ? Number(zc.data[zc.data.length === 1 ? 0 : i]) : 0));
    return { data, shape: dims, scale, zeroPoint, bits: 8 };
  };
  const biasOf = (node: NodeProto, b: string | undefined): Int32Array | null => {
    if (!b) return null;
    const c = consts.get(b);
    if (!c || c.dataType !== DataType.INT32) throw new UnsupportedQuantizedOpError(node.opType ?? '', nameOf(node), `bias '${b}' must be an int32 initializer`);
    return Int32Array.from(c.data);
  };
  const convAttrs = (n: NodeProto): { strides: [number, number]; pads: [number, number, number, number]; dilations: [number, number]; groups: number } => {
    const ap = n.attribute?.find((a) => a.name === 'auto_pad');
    const apv = ap?.s ? Buffer.from(ap.s).toString('utf8') : 'NOTSET';
    if (apv !== 'NOTSET') throw new UnsupportedQuantizedOpError(n.opType ?? '', nameOf(n), `auto_pad ${apv}`);
    const p = ints(n, 'pads', [0, 0, 0, 0]);
    return { strides: ints(n, 'strides', [1, 1]) as [number, number], pads: [p[0]!, p[1]!, p[2]!, p[3]!], dilations: ints(n, 'dilations', [1, 1]) as [number, number], groups: int(n, 'group', 1) };
  };

  // ---- QDQ analysis --------------------------------------------------------------------------------
  const isQ = (n: NodeProto | undefined): boolean => n?.opType === 'QuantizeLinear';
  const isDQ = (n: NodeProto | undefined): boolean => n?.opType === 'DequantizeLinear';
  const override = new Map<NodeProto, QPoint>();
  const qpOf = (n: NodeProto): QPoint => override.get(n) ?? point(n, n.input![1], n.input![2]);
  if (policy === 'ort-x86') {
    for (const q of nodes) {
      if (!isQ(q) || consts.has(q.input![0]!)) continue;
      const p = point(q, q.input![1], q.input![2]);
      const cs = cons(q.output![0]!);
      // ORT first gives every consumer of a DQ its own DQ (EnsureUniqueDQForNodeUnit); the S8→U8 transform then
      // converts a Q only when it ends in exactly one DQ use
      if (p.dtype !== 'int8' || cs.length !== 1 || !isDQ(cs[0]) || graphOutputs.has(q.output![0]!)) continue;
      const dqOut = cs[0]!.output![0]!;
      if (cons(dqOut).length + (graphOutputs.has(dqOut) ? 1 : 0) !== 1) continue;
      const d = point(cs[0], cs[0].input![1], cs[0].input![2]);
      if (d.scale !== p.scale || d.zeroPoint !== p.zeroPoint) continue;
      const u: QPoint = { scale: p.scale, zeroPoint: p.zeroPoint + 128, dtype: 'uint8' };
      override.set(q, u);
      override.set(cs[0], u);
    }
  }
  /** An activation DQ feeding `v`: the codes value and its point. */
  const actDQ = (v: string | undefined): { codes: string; q: QPoint } | null => {
    const d = v ? producer.get(v) : undefined;
    if (!d || !isDQ(d) || consts.has(d.input![0]!)) return null;
    const q = qpOf(d);
    return { codes: d.input![0]!, q };
  };
  const weightDQ = (v: string | undefined): NodeProto | null => {
    const d = v ? producer.get(v) : undefined;
    return d && isDQ(d) && consts.has(d.input![0]!) ? d : null;
  };
  /** The single Q consuming `v` (through an absorbable Relu), with the clamp it implies. */
  const outQ = (v: string): { q: NodeProto; relu: NodeProto | null } | null => {
    if (graphOutputs.has(v)) return null;
    const cs = cons(v);
    if (cs.length !== 1) return null;
    const c0: NodeProto = cs[0]!;
    if (isQ(c0)) return { q: c0, relu: null };
    if (c0.opType === 'Relu') {
      const r = c0;
      const rc = cons(r.output![0]!);
      if (rc.length !== 1 || !isQ(rc[0]) || graphOutputs.has(r.output![0]!)) return null;
      const p = qpOf(rc[0]);
      if (policy === 'ort-x86' && p.zeroPoint !== codeRange(p.dtype)[0]) return null;
      return { q: rc[0], relu: r };
    }
    return null;
  };
  const okType = (...ps: QPoint[]): boolean => policy === 'all' || ps.every((p) => p.dtype === 'uint8');

  const out: DeployNode[] = [];
  const fusedAway = new Set<NodeProto>();
  const floatConsts = (n: NodeProto): Map<string, { data: Float32Array | Int32Array; dims: number[] }> => {
    const m = new Map<string, { data: Float32Array | Int32Array; dims: number[] }>();
    for (const i of n.input ?? []) {
      const c = i ? consts.get(i) : undefined;
      if (c) m.set(i, { data: c.dataType === DataType.FLOAT ? Float32Array.from(c.data) : Int32Array.from(c.data), dims: c.dims });
      const wd = weightDQ(i);
      if (wd) {
        const wc = consts.get(wd.input![0]!)!;
        const axis = int(wd, 'axis', 1);
        const sc = consts.get(wd.input![1]!)!, zc = wd.input![2] ? consts.get(wd.input![2]!) : undefined;
        const dims = wc.dims, nd = dims.length;
        const ax = axis < 0 ? axis + nd : axis;
        const inner = dims.slice(ax + 1).reduce((p, d) => p * d, 1), ch = dims[ax] ?? 1;
        const f = new Float32Array(wc.data.length);
        for (let k = 0; k < f.length; k++) {
          const c = sc.data.length === 1 ? 0 : Math.floor(k / inner) % ch;
          f[k] = Math.fround((Number(wc.data[k]) - (zc ? Number(zc.data[zc.data.length === 1 ? 0 : c]) : 0)) * Math.fround(Number(sc.data[c])));
        }
        m.set(i, { data: f, dims });
      }
    }
    return m;
  };

  for (const n of nodes) {
    if (fusedAway.has(n)) continue;
    const op = n.opType ?? '';
    const name = nameOf(n);
    const ins = n.input ?? [];
    const o0 = n.output![0]!;
    if (n.domain && n.domain !== 'ai.onnx' && n.domain !== 'com.microsoft') throw new UnsupportedQuantizedOpError(`${n.domain}.${op}`, name);
    switch (op) {
      case 'QuantizeLinear': {
        if (consts.has(ins[0]!)) continue;
        out.push({ op: 'quantize', name, inputs: [ins[0]!], outputs: [o0], q: qpOf(n) });
        continue;
      }
      case 'DequantizeLinear': {
        if (consts.has(ins[0]!)) continue; // weights: folded into their consumer
        out.push({ op: 'dequantize', name, inputs: [ins[0]!], outputs: [o0], q: qpOf(n) });
        continue;
      }
      case 'QLinearConv': {
        const inQ = point(n, ins[1], ins[2]), oq = point(n, ins[6], ins[7]);
        const [lo, hi] = codeRange(oq.dtype);
        out.push({ op: 'qconv', name, inputs: [ins[0]!], outputs: [o0], inQ, w: weights(n, ins[3]!, ins[4], ins[5], false), bias: biasOf(n, ins[8]), ...convAttrs(n), out: oq, qmin: lo, qmax: hi });
        continue;
      }
      case 'QLinearMatMul': {
        const inQ = point(n, ins[1], ins[2]), oq = point(n, ins[6], ins[7]);
        const [lo, hi] = codeRange(oq.dtype);
        out.push({ op: 'qgemm', name, inputs: [ins[0]!], outputs: [o0], inQ, w: weights(n, ins[3]!, ins[4], ins[5], true), bias: null, out: oq, qmin: lo, qmax: hi });
        continue;
      }
      case 'QGemm': {
        if (int(n, 'transA', 0) !== 0 || (attr(n, 'alpha')?.f ?? 1) !== 1) throw new UnsupportedQuantizedOpError(op, name, 'transA or alpha != 1');
        const inQ = point(n, ins[1], ins[2]);
        const oq = ins[7] ? point(n, ins[7], ins[8]) : null;
        const [lo, hi] = oq ? codeRange(oq.dtype) : [0, 0];
        out.push({ op: 'qgemm', name, inputs: [ins[0]!], outputs: [o0], inQ, w: weights(n, ins[3]!, ins[4], ins[5], int(n, 'transB', 0) === 0), bias: biasOf(n, ins[6]), out: oq, qmin: lo, qmax: hi });
        continue;
      }
      case 'QLinearAdd': {
        const oq = point(n, ins[6], ins[7]);
        const [lo, hi] = codeRange(oq.dtype);
        out.push({ op: 'qadd', name, inputs: [ins[0]!, ins[3]!], outputs: [o0], aQ: point(n, ins[1], ins[2]), bQ: point(n, ins[4], ins[5]), out: oq, qmin: lo, qmax: hi });
        continue;
      }
      case 'QLinearGlobalAveragePool': {
        if (int(n, 'channels_last', 0) !== 0) throw new UnsupportedQuantizedOpError(op, name, 'channels_last = 1');
        out.push({ op: 'qgap', name, inputs: [ins[0]!], outputs: [o0], inQ: point(n, ins[1], ins[2]), out: point(n, ins[3], ins[4]) });
        continue;
      }
      case 'ConvInteger': {
        const xz = ins[2] ? scalar(ins[2], n, 'x zero point') : 0;
        out.push({ op: 'convinteger', name, inputs: [ins[0]!], outputs: [o0], xZeroPoint: xz, w: weightsNoScale(n, ins[1]!, ins[3], false), ...convAttrs(n) });
        continue;
      }
      case 'MatMulInteger': {
        const az = ins[2] ? scalar(ins[2], n, 'a zero point') : 0;
        out.push({ op: 'matmulinteger', name, inputs: [ins[0]!], outputs: [o0], aZeroPoint: az, w: weightsNoScale(n, ins[1]!, ins[3], true) });
        continue;
      }
      case 'Flatten': case 'Reshape': case 'MaxPool': {
        // Q/DQ dropped around shape ops and MaxPool when both sides share one point (codes pass through)
        const a = actDQ(ins[0]);
        const cs = cons(o0);
        const q = cs.length === 1 && isQ(cs[0]) && !graphOutputs.has(o0) ? cs[0] : null;
        const shapeOp = (input: string, output: string): DeployNode => {
          if (op === 'Flatten') return { op: 'flatten', name, inputs: [input], outputs: [output], axis: int(n, 'axis', 1) };
          if (op === 'Reshape') {
            const s = consts.get(ins[1]!);
            if (!s) throw new UnsupportedQuantizedOpError(op, name, 'the shape must be a constant');
            return { op: 'reshape', name, inputs: [input], outputs: [output], shape: Array.from(s.data, Number) };
          }
          if (int(n, 'ceil_mode', 0) !== 0 || ints(n, 'dilations', [1, 1]).some((d) => d !== 1)) throw new UnsupportedQuantizedOpError(op, name, 'ceil_mode or dilations');
          const k = ints(n, 'kernel_shape', []), p = ints(n, 'pads', [0, 0, 0, 0]);
          return { op: 'qmaxpool', name, inputs: [input], outputs: [output], kernel: [k[0]!, k[1]!], strides: ints(n, 'strides', [1, 1]) as [number, number], pads: [p[0]!, p[1]!, p[2]!, p[3]!] };
        };
        if (a && q && cons(ins[0]!).length === 1) {
          const qp = qpOf(q);
          if (qp.scale === a.q.scale && qp.zeroPoint === a.q.zeroPoint && qp.dtype === a.q.dtype) {
            out.push(shapeOp(a.codes, q.output![0]!));
            fusedAway.add(q);
            continue;
          }
        }
        if (op === 'MaxPool') throw new UnsupportedQuantizedOpError(op, name, 'float MaxPool outside a Q/DQ pair with equal parameters');
        out.push(shapeOp(ins[0]!, o0));
        continue;
      }
      case 'Conv': case 'Gemm': case 'MatMul': {
        const a = actDQ(ins[0]);
        const wd = weightDQ(ins[1]);
        const bd = ins[2] ? weightDQ(ins[2]) : null;
        const oq = outQ(o0);
        const gemmOk = op !== 'Gemm' || (int(n, 'transA', 0) === 0 && (attr(n, 'alpha')?.f ?? 1) === 1 && (attr(n, 'beta')?.f ?? 1) === 1);
        const wc = wd ? consts.get(wd.input![0]!) : undefined;
        const bc = bd ? consts.get(bd.input![0]!) : undefined;
        if (a && wd && oq && gemmOk && (wc?.dataType === DataType.INT8 || wc?.dataType === DataType.UINT8) && (!ins[2] || bc?.dataType === DataType.INT32)) {
          const qo = qpOf(oq.q);
          if (okType(a.q, qo)) {
            const transposeKN = op === 'MatMul' || (op === 'Gemm' && int(n, 'transB', 0) === 0);
            const w = weights(n, wd.input![0]!, wd.input![1], wd.input![2], transposeKN);
            const [lo, hi] = codeRange(qo.dtype);
            const qmin = oq.relu ? qo.zeroPoint : lo;
            const base = { name, inputs: [a.codes], outputs: [oq.q.output![0]!], inQ: a.q, w, bias: bd ? Int32Array.from(bc!.data) : null, out: qo, qmin, qmax: hi };
            if (op === 'Conv') out.push({ op: 'qconv', ...base, ...convAttrs(n) });
            else out.push({ op: 'qgemm', ...base });
            fusedAway.add(oq.q);
            if (oq.relu) fusedAway.add(oq.relu);
            continue;
          }
        }
        out.push(floatNode(n));
        continue;
      }
      case 'Add': {
        const a = actDQ(ins[0]), b = actDQ(ins[1]);
        const oq = outQ(o0);
        if (a && b && oq) {
          const qo = qpOf(oq.q);
          if (okType(a.q, b.q, qo)) {
            const [lo, hi] = codeRange(qo.dtype);
            out.push({ op: 'qadd', name, inputs: [a.codes, b.codes], outputs: [oq.q.output![0]!], aQ: a.q, bQ: b.q, out: qo, qmin: oq.relu ? qo.zeroPoint : lo, qmax: hi });
            fusedAway.add(oq.q);
            if (oq.relu) fusedAway.add(oq.relu);
            continue;
          }
        }
        out.push(floatNode(n));
        continue;
      }
      case 'GlobalAveragePool': {
        const a = actDQ(ins[0]);
        const oq = outQ(o0);
        if (a && oq && !oq.relu) {
          const qo = qpOf(oq.q);
          if (okType(a.q, qo)) {
            out.push({ op: 'qgap', name, inputs: [a.codes], outputs: [oq.q.output![0]!], inQ: a.q, out: qo });
            fusedAway.add(oq.q);
            continue;
          }
        }
        out.push(floatNode(n));
        continue;
      }
      default:
        if (FLOAT_OPS.has(op)) {
          out.push(floatNode(n));
          continue;
        }
        throw new UnsupportedQuantizedOpError(op, name);
    }
  }

  /** ConvInteger / MatMulInteger weights: no scale (1). */
  function weightsNoScale(n: NodeProto, w: string, z: string | undefined, transposeKN: boolean): QWeights {
    return weights(n, w, undefined, z, transposeKN);
  }
  function floatNode(n: NodeProto): FloatNode {
    if (n.domain && n.domain !== 'ai.onnx') throw new UnsupportedQuantizedOpError(`${n.domain}.${n.opType}`, nameOf(n));
    return { op: 'float', name: nameOf(n), inputs: (n.input ?? []).slice(), outputs: [n.output![0]!], node: n, consts: floatConsts(n) };
  }

  // dead code: drop nodes whose outputs nobody reads (DQs fully fused into their consumers)
  const needed = new Set((g.output ?? []).map((o) => o.name ?? ''));
  const live: DeployNode[] = [];
  for (let i = out.length - 1; i >= 0; i--) {
    const n = out[i]!;
    if (!n.outputs.some((o) => needed.has(o))) continue;
    for (const x of n.inputs) if (x) needed.add(x);
    live.push(n);
  }
  live.reverse();
  return {
    input: { name: inputs[0]!, shape: inShape },
    outputs: (g.output ?? []).map((o) => o.name ?? ''),
    nodes: live,
    source: `onnx:${label}`,
    conversions: override.size ? [`${override.size / 2} int8 Q/DQ pairs converted to uint8 (ORT QDQS8ToU8, zero point + 128)`] : [],
  };
}
