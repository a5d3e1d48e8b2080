/**
 * Quantized ONNX export of a deploy graph (docs/deploy.md "Export"):
 * - `qdq`: the graph lowered for `x86-onnxruntime` (uint8 activations, sub-8-bit grids written through 8-bit
 *   points) as QuantizeLinear / DequantizeLinear around Conv, Add, GlobalAveragePool, Flatten and Gemm, weights as
 *   int8 initializers with per-channel DequantizeLinear (axis 0), biases int32 with scale sx·sw[c]. ORT fuses every
 *   unit into QLinearConv / QLinearAdd / QLinearGlobalAveragePool / QGemm (checked by test/parity/deploy-export.test.ts).
 *   Opset 13, symbolic batch, [0, 1] NCHW float input, normalisation inside.
 * - `int4`: the same graph at opset 21 with weights whose grid has ≤ 4 bits stored as INT4 initializers
 *   (storage format: ORT's CPU provider does not fuse 4-bit convolutions; it dequantizes them).
 * - `qonnx`: QONNX `Quant` nodes (domain qonnx.custom_op.general: x, scale, zero point, bitwidth inputs; signed,
 *   narrow, rounding_mode attributes) on every weight and activation grid at its own bit width, float ops
 *   between: the interchange form for FINN / Brevitas tooling (not runnable by onnxruntime).
 */
import { UsageError } from '../util/errors.ts';
import { DataType, makeGraph, makeModel, makeNode, makeValueInfo, tensorFromArray, type NodeProto, type OnnxModel, type TensorProto, type ValueInfo } from './onnx.ts';
import { codeRange, type DeployGraph, type QPoint, type QWeights } from '../deploy/ir.ts';

export const EXPORT_FORMATS = ['qdq', 'qonnx', 'int4'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** A graph the format cannot express (exit code 2). */
export class UnsupportedExportError extends UsageError {
  constructor(format: string, why: string) {
    super(`Export to ${format}: ${why}`);
    this.name = 'UnsupportedExportError';
  }
}

/** Options of {@link exportQuantizedOnnx}. */
export interface QExportOptions {
  format: ExportFormat;
  /** also expose every integer node's output, dequantized, as a graph output `<codes>:out` (parity runs) */
  layerOutputs?: boolean;
}

class Builder {
  nodes: NodeProto[] = [];
  inits: TensorProto[] = [];
  private names = new Set<string>();
  private n = 0;
  fresh(hint: string): string {
    let s = hint;
    while (this.names.has(s)) s = `${hint}_${++this.n}`;
    this.names.add(s);
    return s;
  }
  init(hint: string, dt: number, dims: number[], data: ArrayLike<number>): string {
    const name = this.fresh(hint);
    this.inits.push(tensorFromArray(name, dt, dims, Array.from(data)));
    return name;
  }
  node(op: string, inputs: string[], hint: string, attrs: Record<string, unknown> = {}, out?: string, domain?: string): string {
    const y = out ?? this.fresh(hint);
    this.names.add(y);
    this.nodes.push(makeNode(op, inputs, [y], attrs as never, `${hint}_${this.nodes.length}`, domain));
    return y;
  }
}

const dtOf = (p: QPoint): number => (p.dtype === 'uint8' ? DataType.UINT8 : DataType.INT8);

/**
 * Exports a lowered deploy graph as a quantized ONNX model.
 * @param g the graph, lowered for x86-onnxruntime (qdq, int4) or as converted (qonnx)
 * @param opts format, layer outputs
 * @returns the model
 * @throws UnsupportedExportError for a node the format cannot express (named)
 * @example
 * writeModel('r20-q4.onnx', exportQuantizedOnnx(lowerForTarget(graph, loadTarget('x86-onnxruntime')), { format: 'qdq' }));
 */
export function exportQuantizedOnnx(g: DeployGraph, opts: QExportOptions): OnnxModel {
  const fmt = opts.format;
  if (!(EXPORT_FORMATS as readonly string[]).includes(fmt)) throw new UsageError(`Expected one of ${EXPORT_FORMATS.join(', ')} for --format but received '${String(fmt)}'`);
  const b = new Builder();
  b.fresh(g.input.name);
  const qonnx = fmt === 'qonnx';
  const extraOutputs: ValueInfo[] = [];
  const points = new Map<string, QPoint>();
  const dq = (codes: string): string => {
    if (qonnx) return codes; // QONNX graphs carry fake-quantized floats
    const p = points.get(codes);
    if (!p) throw new UnsupportedExportError(fmt, `value '${codes}' has no quantization point`);
    return b.node('DequantizeLinear', [codes, b.init(`${codes}_scale`, DataType.FLOAT, [], [p.scale]), b.init(`${codes}_zp`, dtOf(p), [], [p.zeroPoint])], `${codes}_dq`);
  };
  const q = (x: string, p: QPoint, out: string): void => {
    points.set(out, p);
    const [lo, hi] = p.range ?? codeRange(p.dtype);
    if (qonnx) {
      const bits = Math.ceil(Math.log2(hi - lo + 1));
      const signed = lo < 0 || p.dtype === 'int8' && p.zeroPoint !== 0 ? 1 : 0;
      const zp = signed ? p.zeroPoint - (p.range ? Math.round((lo + hi + 1) / 2) : (p.dtype === 'int8' ? 0 : 128)) : p.zeroPoint - lo;
      b.node('Quant', [x, b.init(`${out}_scale`, DataType.FLOAT, [], [p.scale]), b.init(`${out}_zp`, DataType.FLOAT, [], [zp]), b.init(`${out}_bits`, DataType.FLOAT, [], [bits])], out, { signed, narrow: 0, rounding_mode: 'ROUND' }, out, 'qonnx.custom_op.general');
      return;
    }
    let xin = x;
    const [cmin, cmax] = codeRange(p.dtype);
    if (lo !== cmin || hi !== cmax) xin = b.node('Clip', [x, b.init(`${out}_lo`, DataType.FLOAT, [], [Math.fround(p.scale * (lo - p.zeroPoint))]), b.init(`${out}_hi`, DataType.FLOAT, [], [Math.fround(p.scale * (hi - p.zeroPoint))])], `${out}_clip`);
    b.node('QuantizeLinear', [xin, b.init(`${out}_scale`, DataType.FLOAT, [], [p.scale]), b.init(`${out}_zp`, dtOf(p), [], [p.zeroPoint])], out, {}, out);
    if (opts.layerOutputs) {
      const o = b.node('DequantizeLinear', [out, `${out}_scale`, `${out}_zp`], `${out}:out`, {}, `${out}:out`);
      extraOutputs.push(makeValueInfo(o, DataType.FLOAT));
    }
  };
  const weights = (name: string, w: QWeights): string => {
    const oc = w.shape[0]!;
    const int4 = fmt === 'int4' && w.bits <= 4;
    if (int4 && [...w.data].some((v, i) => v - w.zeroPoint[Math.floor(i / (w.data.length / oc))]! < -8 || v - w.zeroPoint[Math.floor(i / (w.data.length / oc))]! > 7)) {
      throw new UnsupportedExportError(fmt, `layer '${name}' has ${w.bits}-bit weights outside [-8, 7] (a channel with negative BN gamma negates its grid: -8 becomes 8)`);
    }
    if (qonnx) {
      const f = new Float32Array(w.data.length), k = w.data.length / oc;
      for (let c = 0; c < oc; c++) for (let j = 0; j < k; j++) f[c * k + j] = Math.fround((w.data[c * k + j]! - w.zeroPoint[c]!) * w.scale[c]!);
      const bits = w.bits;
      const sh = [oc, ...w.shape.slice(1).map(() => 1)];
      return b.node('Quant', [b.init(`${name}.weight_float`, DataType.FLOAT, w.shape, f), b.init(`${name}.weight_scale`, DataType.FLOAT, sh, w.scale), b.init(`${name}.weight_zp`, DataType.FLOAT, [], [0]), b.init(`${name}.weight_bits`, DataType.FLOAT, [], [bits])],
        `${name}.weight_q`, { signed: 1, narrow: 0, rounding_mode: 'ROUND' }, undefined, 'qonnx.custom_op.general');
    }
    const dt = int4 ? DataType.INT4 : w.data instanceof Int8Array ? DataType.INT8 : DataType.UINT8;
    const vals = int4 ? Array.from(w.data, (v, i) => v - w.zeroPoint[Math.floor(i / (w.data.length / oc))]!) : w.data;
    const zp = int4 ? new Array<number>(oc).fill(0) : Array.from(w.zeroPoint);
    return b.node('DequantizeLinear', [b.init(`${name}.weight_q`, dt, w.shape, vals), b.init(`${name}.weight_scale`, DataType.FLOAT, [oc], w.scale), b.init(`${name}.weight_zp`, dt, [oc], zp)], `${name}.weight_dq`, { axis: 0 });
  };
  const bias = (name: string, bias: Int32Array | null, sx: number, w: QWeights): string[] => {
    if (!bias) return [];
    const oc = w.shape[0]!;
    const s = Float32Array.from(w.scale, (v) => Math.fround(Math.fround(sx) * v));
    if (qonnx) return [b.init(`${name}.bias`, DataType.FLOAT, [oc], Float32Array.from(bias, (v, c) => Math.fround(v * s[c]!)))];
    return [b.node('DequantizeLinear', [b.init(`${name}.bias_q`, DataType.INT32, [oc], bias), b.init(`${name}.bias_scale`, DataType.FLOAT, [oc], s), b.init(`${name}.bias_zp`, DataType.INT32, [oc], new Array<number>(oc).fill(0))], `${name}.bias_dq`, { axis: 0 })];
  };
  const clampOk = (name: string, p: QPoint, qmin: number, qmax: number, relu: boolean): void => {
    const [lo, hi] = p.range ?? codeRange(p.dtype);
    if (qmax !== hi || (qmin !== lo && !(relu && qmin === p.zeroPoint))) throw new UnsupportedExportError(fmt, `layer '${name}' clamps its codes to [${qmin}, ${qmax}], which QuantizeLinear cannot express (lower the graph for x86-onnxruntime first)`);
  };

  for (const n of g.nodes) {
    const o = n.outputs[0]!;
    switch (n.op) {
      case 'float': {
        for (const [name, c] of n.consts) if (!b.inits.some((t) => t.name === name)) { b.fresh(name); b.inits.push(tensorFromArray(name, c.data instanceof Float32Array ? DataType.FLOAT : DataType.INT32, c.dims, Array.from(c.data))); }
        b.node(n.node.opType!, n.inputs, n.name, Object.fromEntries((n.node.attribute ?? []).map((a) => [a.name!, a.ints?.length ? a.ints.map(Number) : a.i !== undefined && a.i !== null ? Number(a.i) : a.f])), o);
        break;
      }
      case 'quantize': q(n.inputs[0]!, n.q, o); break;
      case 'dequantize':
        if (qonnx) b.node('Identity', [n.inputs[0]!], n.name, {}, o);
        else b.node('DequantizeLinear', [n.inputs[0]!, b.init(`${o}_scale`, DataType.FLOAT, [], [n.q.scale]), b.init(`${o}_zp`, dtOf(n.q), [], [n.q.zeroPoint])], n.name, {}, o);
        break;
      case 'qconv': {
        const relu = n.relu === true && n.qmin === n.out.zeroPoint;
        if (!qonnx) clampOk(n.name, n.out, n.qmin, n.qmax, relu);
        let y = b.node('Conv', [dq(n.inputs[0]!), weights(n.name, n.w), ...bias(n.name, n.bias, n.inQ.scale, n.w)], n.name, {
          kernel_shape: n.w.shape.slice(2), strides: n.strides, pads: n.pads, dilations: n.dilations, group: n.groups,
        });
        if (relu) y = b.node('Relu', [y], `${n.name}.relu`);
        q(y, n.out, o);
        break;
      }
      case 'qgemm': {
        const y = b.node('Gemm', [dq(n.inputs[0]!), weights(n.name, n.w), ...bias(n.name, n.bias, n.inQ.scale, n.w)], n.name, { transB: 1 }, n.out ? undefined : o);
        if (n.out) q(y, n.out, o);
        break;
      }
      case 'qadd': {
        const relu = n.relu === true && n.qmin === n.out.zeroPoint;
        if (!qonnx) clampOk(n.name, n.out, n.qmin, n.qmax, relu);
        let y = b.node('Add', [dq(n.inputs[0]!), dq(n.inputs[1]!)], n.name);
        if (relu) y = b.node('Relu', [y], `${n.name}.relu`);
        q(y, n.out, o);
        break;
      }
      case 'qgap': q(b.node('GlobalAveragePool', [dq(n.inputs[0]!)], n.name), n.out, o); break;
      case 'flatten': {
        const p = points.get(n.inputs[0]!);
        if (!p && !qonnx) throw new UnsupportedExportError(fmt, `flatten '${n.name}' input has no point`);
        const y = b.node('Flatten', [dq(n.inputs[0]!)], n.name, { axis: n.axis ?? 1 });
        if (qonnx) b.node('Identity', [y], `${n.name}.id`, {}, o);
        else q(y, p!, o);
        break;
      }
      default:
        throw new UnsupportedExportError(fmt, `node '${n.name}' (${n.op}) has no exporter`);
    }
  }
  const shape = g.input.shape.map((d, i) => (i === 0 ? 'batch' : d));
  const graph = makeGraph(b.nodes, `qrobust-${fmt}`, [makeValueInfo(g.input.name, DataType.FLOAT, shape)], [...g.outputs.map((o) => makeValueInfo(o, DataType.FLOAT)), ...extraOutputs], b.inits);
  const opset = fmt === 'int4' ? 21 : 13;
  const imports = [{ domain: '', version: opset }, ...(qonnx ? [{ domain: 'qonnx.custom_op.general', version: 1 }] : [])];
  return makeModel(graph, { opsetImports: imports, producerName: 'qrobust', docString: `qrobust ${fmt} export of ${g.source}; conversions: ${g.conversions.join('; ')}` });
}
