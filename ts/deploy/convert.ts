/**
 * QAT model → integer deploy graph (docs/deploy.md "The deploy graph"). The structure comes from the float ONNX
 * export of the model (ts/formats/onnx-export.ts: state-dict names, BN kept), the integers from
 * ts/quant's exportQuantParams (weights exactly on their QAT grid, input quantizers frozen):
 * - Conv → BatchNormalization → (ReLU) becomes one qconv: weights stay on their grid in int8 containers, BN
 *   goes into the per-channel requantization scale sw'[c] = sw[c]·|γ[c]|/√(var[c]+ε) (a channel with γ < 0 has its
 *   integer weights negated) and the int32 bias round((β − μγ/σ + b·γ/σ)/(sx·sw'[c])); ReLU is the clamp qmin = zy.
 * - Each value gets one quantization point: the QAT input quantizer of its consumers when every consumer is a
 *   quantized layer with the same quantizer; otherwise (residual adds, shortcuts, pooling inputs) a calibrated
 *   uint8 point (min/max over calibration batches, ReLU outputs start at 0). A quantized consumer whose
 *   quantizer differs reads the value through a DequantizeLinear → QuantizeLinear pair onto its own grid.
 * - Residual Add (+ ReLU) is a qadd; GlobalAveragePool a qgap onto the classifier's input point; the classifier
 *   is a qgemm with float logits (acc·sx·sw[c]).
 * - Normalisation stays float (Sub, Div) before the first QuantizeLinear, as ORT runs it.
 */
import { UsageError, QrobustError } from '../util/errors.ts';
import type { Module } from '../nn/module.ts';
import { exportOnnx } from '../formats/onnx-export.ts';
import { tensorToArray, type NodeProto } from '../formats/onnx.ts';
import type { Target } from '../targets/index.ts';
import { calibrateGraph } from './exec.ts';
import type { DeployGraph, DeployNode, FloatNode, QPoint, QWeights } from './ir.ts';

/**
 * One quantized layer as ts/quant's exportQuantParams lists it (the fields the conversion reads; declared here
 * structurally so the deploy code does not depend on the QAT module's internals).
 */
export interface LayerQuantParams {
  name: string;
  kind: 'conv' | 'linear';
  bias: Float32Array | null;
  weight: { bits: number; scale: Float32Array; qmin: number; qmax: number; int: Int32Array; shape: number[] };
  input: { bits: number; scale: number; qmin: number; qmax: number };
}

/** A QAT checkpoint whose quantizers cannot be deployed (missing scale, bad grid): exit code 2. */
export class QuantParamsError extends UsageError {
  constructor(layer: string, why: string) {
    super(`QAT model layer '${layer}': ${why}`);
    this.name = 'QuantParamsError';
  }
}

/** Options of {@link convertQat}. */
export interface ConvertOptions {
  /** input side (default 32) and channels (default 3) */
  inputSize?: number;
  inChannels?: number;
  /** calibration batches of [0, 1] pixels (NCHW) for the uint8 points */
  calibration: { data: Float32Array; shape: number[] }[];
  /** the fake-quant target that runs the calibration */
  reference: Target;
}

/** A constant of an exported graph: an initializer or a Constant node's value, as float32. */
export interface GraphConst {
  data: Float32Array;
  dims: number[];
}

/**
 * The constants of an exported float graph (initializers and Constant nodes, by output name) and its other nodes,
 * in order: what both lowerings (convertQat, the FP float graph) walk.
 * @throws never
 */
export function graphConstants(g: { initializer?: Parameters<typeof tensorToArray>[0][] | null; node?: NodeProto[] | null }): { inits: Map<string, GraphConst>; nodes: NodeProto[] } {
  const inits = new Map<string, GraphConst>();
  const asConst = (t: Parameters<typeof tensorToArray>[0]): GraphConst => ({ data: Float32Array.from(tensorToArray(t) as ArrayLike<number>), dims: (t.dims ?? []).map(Number) });
  for (const t of g.initializer ?? []) inits.set(t.name ?? '', asConst(t));
  const nodes = (g.node ?? []).filter((n) => {
    if (n.opType !== 'Constant') return true;
    inits.set(n.output![0]!, asConst(n.attribute![0]!.t!));
    return false;
  });
  return { inits, nodes };
}

function pointOfInput(l: LayerQuantParams): QPoint {
  const s = l.input.scale;
  if (!(typeof s === 'number' && Number.isFinite(s) && s > 0)) throw new QuantParamsError(l.name, `input quantizer scale must be a finite number > 0 but is ${String(s)} (freeze the observers first)`);
  const signed = l.input.qmin < 0;
  return { scale: s, zeroPoint: 0, dtype: signed ? 'int8' : 'uint8', range: [l.input.qmin, l.input.qmax] };
}

const samePoint = (a: QPoint, b: QPoint): boolean => a.scale === b.scale && a.zeroPoint === b.zeroPoint && a.dtype === b.dtype && a.range?.[0] === b.range?.[0] && a.range?.[1] === b.range?.[1];

/**
 * Converts a prepared QAT model (observers frozen) to the deploy graph and calibrates its uint8 points.
 * @param model the QAT model (ts/quant prepareQat, frozen)
 * @param params exportQuantParams(model)
 * @param opts input size, calibration batches, the reference target
 * @returns the calibrated deploy graph (source 'qrobust-qat')
 * @throws QuantParamsError for a layer without usable quantizer parameters; UsageError for an unsupported graph
 * @example
 * const g = convertQat(model, exportQuantParams(model), { calibration, reference: loadTarget('reference') });
 */
export function convertQat(model: Module, params: LayerQuantParams[], opts: ConvertOptions): DeployGraph {
  const byName = new Map(params.map((p) => [p.name, p]));
  const onnx = exportOnnx(model, { inputSize: opts.inputSize ?? 32, inChannels: opts.inChannels ?? 3 });
  const g = onnx.graph!;
  const { inits, nodes } = graphConstants(g);
  const consumers = new Map<string, NodeProto[]>();
  const producer = new Map<string, NodeProto>();
  for (const n of nodes) {
    for (const i of n.input ?? []) consumers.set(i, [...(consumers.get(i) ?? []), n]);
    producer.set(n.output![0]!, n);
  }
  const layerOf = (n: NodeProto): LayerQuantParams => {
    const w = n.input![1]!;
    const name = w.replace(/\.weight$/, '');
    const l = byName.get(name);
    if (!l) throw new QuantParamsError(name, 'no quantizer parameters (is the model prepared for QAT and frozen?)');
    return l;
  };
  /** Quantized consumers reached from value v (through Flatten), or null if any consumer is something else. */
  const quantConsumers = (v: string): LayerQuantParams[] | null => {
    const out: LayerQuantParams[] = [];
    for (const c of consumers.get(v) ?? []) {
      if (c.opType === 'Conv' || c.opType === 'Gemm') out.push(layerOf(c));
      else if (c.opType === 'Flatten') {
        const r = quantConsumers(c.output![0]!);
        if (!r) return null;
        out.push(...r);
      } else return null;
    }
    return out.length ? out : null;
  };
  const graphOut = g.output![0]!.name!;
  const calibPoints: QPoint[] = [];
  /** The point of a value produced by an integer op. */
  const pointFor = (v: string): QPoint => {
    const qc = quantConsumers(v);
    if (qc && qc.every((l) => samePoint(pointOfInput(l), pointOfInput(qc[0]!)))) return pointOfInput(qc[0]!);
    const p: QPoint = { scale: NaN, zeroPoint: 0, dtype: 'uint8' };
    calibPoints.push(p);
    return p;
  };

  const out: DeployNode[] = [];
  const codes = new Map<string, { name: string; q: QPoint }>(); // value → its codes and point
  const floats = new Set<string>([g.input![0]!.name!]);
  const views = new Map<string, Map<string, string>>(); // codes value → requantized copies per point key
  const conversions: string[] = [];
  let flipped = 0;
  const inputFor = (v: string, want: QPoint, layer: string): string => {
    if (floats.has(v)) {
      const name = `${v}:q`;
      if (!codes.has(name)) {
        out.push({ op: 'quantize', name: `${layer}.input_quant`, inputs: [v], outputs: [name], q: want });
        codes.set(name, { name, q: want });
      }
      return name;
    }
    const c = codes.get(v);
    if (!c) throw new UsageError(`deploy conversion: value '${v}' is neither float nor codes`);
    if (samePoint(c.q, want)) return c.name;
    const key = `${want.scale}/${want.dtype}/${want.range?.join(',')}`;
    const m = views.get(v) ?? new Map<string, string>();
    views.set(v, m);
    if (!m.has(key)) {
      const f = `${v}:dq`, q = `${v}:rq${m.size}`;
      if (!out.some((n) => n.outputs[0] === f)) out.push({ op: 'dequantize', name: `${layer}.input_dequant`, inputs: [c.name], outputs: [f], q: c.q });
      out.push({ op: 'quantize', name: `${layer}.input_quant`, inputs: [f], outputs: [q], q: want });
      m.set(key, q);
    }
    return m.get(key)!;
  };
  const weightsOf = (l: LayerQuantParams, fold: Float64Array | null): QWeights => {
    const w = l.weight;
    if (!w || !(w.scale instanceof Float32Array) || w.scale.length === 0) throw new QuantParamsError(l.name, 'the weight quantizer has no scale');
    const oc = w.shape[0]!, k = w.int.length / oc;
    if (w.scale.length !== 1 && w.scale.length !== oc) throw new QuantParamsError(l.name, `weight scale has ${w.scale.length} values; expected 1 or ${oc}`);
    const data = new Int8Array(w.int.length);
    const scale = new Float32Array(oc);
    for (let c = 0; c < oc; c++) {
      const s = w.scale[w.scale.length === 1 ? 0 : c]!;
      if (!(Number.isFinite(s) && s >= 0)) throw new QuantParamsError(l.name, `weight scale[${c}] must be finite and >= 0 but is ${s}`);
      const f = fold ? fold[c]! : 1;
      const neg = f < 0;
      if (neg) flipped++;
      scale[c] = Math.fround(s * Math.abs(f));
      for (let j = 0; j < k; j++) {
        const v = w.int[c * k + j]!;
        if (v < w.qmin || v > w.qmax) throw new QuantParamsError(l.name, `weight integer ${v} outside its grid [${w.qmin}, ${w.qmax}]`);
        data[c * k + j] = neg ? -v : v;
      }
    }
    return { data, shape: w.shape.slice(), scale, zeroPoint: new Int32Array(oc), bits: w.bits };
  };

  for (const n of nodes) {
    const op = n.opType!;
    const ins = n.input!;
    const o = n.output![0]!;
    if (op === 'Sub' || op === 'Div') {
      const consts = new Map<string, { data: Float32Array; dims: number[] }>();
      for (const i of ins) {
        const c = inits.get(i);
        if (c) consts.set(i, { data: c.data, dims: c.dims.length === 1 ? [1, c.dims[0]!, 1, 1] : c.dims });
      }
      out.push({ op: 'float', name: n.name!, inputs: ins.slice(), outputs: [o], node: n, consts } as FloatNode);
      floats.add(o);
      continue;
    }
    if (op === 'BatchNormalization' || op === 'Relu') continue; // folded into the producer below
    if (op === 'Conv' || op === 'Gemm') {
      const l = layerOf(n);
      const inQ = pointOfInput(l);
      const x = inputFor(ins[0]!, inQ, l.name);
      const oc = l.weight.shape[0]!;
      // follow Conv → BN → Relu
      let v = o, bn: NodeProto | null = null, relu = false;
      const next = (val: string): NodeProto | null => {
        const cs = consumers.get(val) ?? [];
        return cs.length === 1 ? cs[0]! : null;
      };
      const nb = next(v);
      if (nb?.opType === 'BatchNormalization') { bn = nb; v = nb.output![0]!; }
      const nr = next(v);
      if (nr?.opType === 'Relu') { relu = true; v = nr.output![0]!; }
      let fold: Float64Array | null = null;
      const biasF = new Float64Array(oc);
      const convBias = l.bias;
      if (bn) {
        const get = (i: number): Float32Array => inits.get(bn!.input![i]!)!.data;
        const gamma = get(1), beta = get(2), mean = get(3), variance = get(4);
        const eps = bn.attribute?.find((a) => a.name === 'epsilon')?.f ?? 1e-5;
        fold = new Float64Array(oc);
        for (let c = 0; c < oc; c++) {
          const f = gamma[c]! / Math.sqrt(variance[c]! + eps);
          fold[c] = f;
          biasF[c] = beta[c]! - mean[c]! * f + (convBias ? convBias[c]! * f : 0);
        }
      } else if (convBias) for (let c = 0; c < oc; c++) biasF[c] = convBias[c]!;
      const w = weightsOf(l, fold);
      const bias = new Int32Array(oc);
      for (let c = 0; c < oc; c++) {
        const s = Math.fround(inQ.scale) * w.scale[c]!;
        bias[c] = s > 0 ? Math.max(-2147483648, Math.min(2147483647, Math.round(biasF[c]! / s))) : 0;
      }
      if (op === 'Gemm') {
        if (v !== graphOut) throw new UsageError(`deploy conversion: linear layer '${l.name}' must be the classifier (graph output)`);
        out.push({ op: 'qgemm', name: l.name, inputs: [x], outputs: [v], inQ, w, bias, out: null, qmin: 0, qmax: 0 });
        floats.add(v);
        continue;
      }
      const q = pointFor(v);
      const [lo, hi] = q.range ?? [0, 255];
      const pads = (n.attribute!.find((a) => a.name === 'pads')!.ints ?? []).map(Number);
      const at = (name: string): number[] => (n.attribute!.find((a) => a.name === name)?.ints ?? []).map(Number);
      out.push({
        op: 'qconv', name: l.name, inputs: [x], outputs: [v], inQ, w, bias,
        strides: at('strides') as [number, number], pads: [pads[0]!, pads[1]!, pads[2]!, pads[3]!], dilations: at('dilations') as [number, number],
        groups: Number(n.attribute!.find((a) => a.name === 'group')?.i ?? 1), out: q, qmin: relu && Number.isNaN(q.scale) ? 0 : lo, qmax: hi, relu,
      });
      codes.set(v, { name: v, q });
      continue;
    }
    if (op === 'Add') {
      const a = codes.get(ins[0]!), b = codes.get(ins[1]!);
      if (!a || !b) throw new UsageError(`deploy conversion: Add '${n.name}' needs two quantized inputs`);
      let v = o, relu = false;
      const cs = consumers.get(o) ?? [];
      if (cs.length === 1 && cs[0]!.opType === 'Relu') { relu = true; v = cs[0]!.output![0]!; }
      const q = pointFor(v);
      const [lo, hi] = q.range ?? [0, 255];
      out.push({ op: 'qadd', name: n.name!.replace(/Add_\d+$/, 'add'), inputs: [a.name, b.name], outputs: [v], aQ: a.q, bQ: b.q, out: q, qmin: lo, qmax: hi, relu });
      codes.set(v, { name: v, q });
      continue;
    }
    if (op === 'GlobalAveragePool') {
      const a = codes.get(ins[0]!);
      if (!a) throw new UsageError(`deploy conversion: GlobalAveragePool '${n.name}' needs a quantized input`);
      const q = pointFor(o);
      out.push({ op: 'qgap', name: n.name!.replace(/GlobalAveragePool_\d+$/, 'pool'), inputs: [a.name], outputs: [o], inQ: a.q, out: q });
      codes.set(o, { name: o, q });
      continue;
    }
    if (op === 'Flatten') {
      const a = codes.get(ins[0]!);
      if (!a) throw new UsageError(`deploy conversion: Flatten '${n.name}' needs a quantized input`);
      out.push({ op: 'flatten', name: n.name!, inputs: [a.name], outputs: [o], axis: 1 });
      codes.set(o, { name: o, q: a.q });
      continue;
    }
    throw new UsageError(`deploy conversion: op ${op} (node '${n.name}') has no integer form yet; supported: Conv, BatchNormalization, Relu, Add, GlobalAveragePool, Flatten, Gemm and the input normalisation`);
  }

  const graph: DeployGraph = { input: { name: g.input![0]!.name!, shape: ['batch', opts.inChannels ?? 3, opts.inputSize ?? 32, opts.inputSize ?? 32] }, outputs: [graphOut], nodes: out, source: 'qrobust-qat', conversions };
  // calibration of the uint8 points
  if (calibPoints.length) {
    if (!opts.calibration.length) throw new UsageError('deploy conversion: calibration batches are required for the residual / pooling points');
    const ranges = new Map<QPoint, { lo: number; hi: number }>();
    for (const b of opts.calibration) calibrateGraph(graph, b.data, b.shape, opts.reference, ranges);
    for (const p of calibPoints) {
      const r = ranges.get(p);
      if (!r) throw new QrobustError('deploy conversion: a quantization point was never reached during calibration');
      const lo = Math.min(0, r.lo), hi = Math.max(0, r.hi);
      const s = Math.fround(hi > lo ? (hi - lo) / 255 : 1);
      p.scale = s;
      p.zeroPoint = Math.min(255, Math.max(0, Math.round(-lo / s)));
    }
    for (const n of out) {
      if ((n.op === 'qconv' || n.op === 'qadd') && n.relu) n.qmin = Math.max(n.qmin, n.out.zeroPoint);
    }
  }
  conversions.push(`BN folded into the requantization scale and int32 bias of ${out.filter((n) => n.op === 'qconv').length} convolutions (weights kept on their grid${flipped ? `; ${flipped} channels with negative γ have negated integer weights` : ''})`);
  conversions.push(`${calibPoints.length} uint8 points calibrated (min/max) on ${opts.calibration.reduce((p, b) => p + b.shape[0]!, 0)} images`);
  return graph;
}
