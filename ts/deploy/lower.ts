/**
 * Lowering a deploy graph to what a target holds (docs/deploy.md "Per-target conversions"); every change is
 * recorded in `graph.conversions`, never silent:
 * - activation code type: uint8 ↔ int8 by shifting zero points and clamps by 128 (exact: the integer algebra is
 *   unchanged, INTEGER.md §e11);
 * - `int8-symmetric` (TensorRT): every quantization point becomes symmetric, s' = s·max(hi − z, z − lo)/127,
 *   z' = 0, so the representable real range still covers the old one (this changes the model: recorded);
 * - weights `int8-narrow` (TFLite converter, TensorRT): zero points must be 0 (asymmetric weights are re-centred
 *   when they fit, else a {@link TargetConversionError}); with `minus128: clamp` every −128 becomes −127.
 */
import { QrobustError } from '../util/errors.ts';
import type { Target } from '../targets/index.ts';
import { codeRange, type CodeType, type DeployGraph, type DeployNode, type QPoint, type QWeights } from './ir.ts';

/** A model a target cannot run as is, and no documented conversion applies (exit code 1). */
export class TargetConversionError extends QrobustError {
  constructor(target: string, layer: string, why: string) {
    super(`Target ${target} cannot run layer '${layer}': ${why}`);
    this.name = 'TargetConversionError';
  }
}

type PointMap = (p: QPoint) => QPoint;
type ClampMap = (p: QPoint, q: number) => number;

function retype(to: CodeType): { point: PointMap; clamp: ClampMap } {
  const shift = (p: QPoint): number => (p.dtype === to ? 0 : to === 'int8' ? -128 : 128);
  return {
    point: (p) => ({ scale: p.scale, zeroPoint: p.zeroPoint + shift(p), dtype: to, ...(p.range ? { range: [p.range[0] + shift(p), p.range[1] + shift(p)] as [number, number] } : {}) }),
    clamp: (p, q) => q + shift(p),
  };
}

function symmetric(): { point: PointMap; clamp: ClampMap } {
  const point = (p: QPoint): QPoint => {
    const [lo, hi] = p.range ?? codeRange(p.dtype);
    const m = Math.max(hi - p.zeroPoint, p.zeroPoint - lo);
    // a sub-8-bit grid keeps its step: codes (q − z) stay integers in [lo − z, hi − z]
    if (p.range && hi - lo < 255) return { scale: p.scale, zeroPoint: 0, dtype: 'int8', range: [Math.max(-128, lo - p.zeroPoint), Math.min(127, hi - p.zeroPoint)] };
    return { scale: Math.fround((p.scale * m) / 127), zeroPoint: 0, dtype: 'int8' };
  };
  return {
    point,
    // clamps map by real value: a ReLU (qmin = z) becomes 0, the old range's saturation stays a clamp
    clamp: (p, q) => {
      if (p.range && p.range[1] - p.range[0] < 255) return Math.min(127, Math.max(-128, q - p.zeroPoint));
      const s = point(p).scale;
      return Math.min(127, Math.max(-128, Math.round(((q - p.zeroPoint) * p.scale) / s)));
    },
  };
}

function lowerWeights(w: QWeights, t: Target, layer: string, notes: { clamped: number; recentred: number }): QWeights {
  if (t.weights.range !== 'int8-narrow') return w;
  const out = new Int8Array(w.data.length);
  const k = w.data.length / w.shape[0]!;
  let zeroAll = true;
  for (let c = 0; c < w.shape[0]!; c++) {
    const z = w.zeroPoint[c]!;
    if (z !== 0) zeroAll = false;
    for (let j = 0; j < k; j++) {
      let v = w.data[c * k + j]! - z;
      if (v < -128 || v > 127) throw new TargetConversionError(t.id, layer, `asymmetric weight ${w.data[c * k + j]} with zero point ${z} does not fit a symmetric int8 grid (the target needs zero points 0)`);
      if (v === -128 && t.weights.minus128 === 'clamp') {
        v = -127;
        notes.clamped++;
      }
      out[c * k + j] = v;
    }
  }
  if (!zeroAll) notes.recentred++;
  return { ...w, data: out, zeroPoint: new Int32Array(w.shape[0]!) };
}

/**
 * Sub-8-bit activation grids (a 4-bit QAT input quantizer: codes [0, 15]) in 8-bit runtimes: no runtime's conv /
 * add / pool clamps its output to a 4-bit range, so the op writes an 8-bit "fine" point spanning exactly the grid's
 * real range (s' = s·(hi − lo)/(cmax − cmin), the container's limits land on the grid's limits, so the saturation
 * is the grid's clamp), then a DequantizeLinear → QuantizeLinear pair rounds onto the grid (equal to one rounding
 * except at exact ties of the fine code). Quantize nodes onto a narrow grid clamp to its range themselves.
 */
function expandNarrowOutputs(nodes: DeployNode[]): { nodes: DeployNode[]; count: number } {
  const out: DeployNode[] = [];
  let count = 0;
  for (const n of nodes) {
    if ((n.op === 'qconv' || n.op === 'qadd' || n.op === 'qgap') && n.out.range) {
      const [lo, hi] = n.out.range;
      const [cmin, cmax] = codeRange(n.out.dtype);
      if (lo !== cmin || hi !== cmax) {
        const s = Math.fround((n.out.scale * (hi - lo)) / (cmax - cmin));
        const fine: QPoint = { scale: s, zeroPoint: cmin + Math.round(((n.out.zeroPoint - lo) * n.out.scale) / s), dtype: n.out.dtype };
        const codes = n.outputs[0]!, fineName = `${codes}:fine`, deq = `${codes}:fine_dq`;
        const relu = n.op !== 'qgap' && n.relu === true;
        const moved = n.op === 'qgap' ? { ...n, out: fine, outputs: [fineName] } : { ...n, out: fine, outputs: [fineName], qmin: relu ? fine.zeroPoint : cmin, qmax: cmax };
        out.push(moved);
        out.push({ op: 'dequantize', name: `${n.name}.fine_dequant`, inputs: [fineName], outputs: [deq], q: fine });
        out.push({ op: 'quantize', name: `${n.name}.grid_quant`, inputs: [deq], outputs: [codes], q: n.out });
        count++;
        continue;
      }
    }
    out.push(n);
  }
  return { nodes: out, count };
}

/**
 * Returns a copy of the graph lowered to the target's code type, symmetry and weight range.
 * @param g the graph (not modified)
 * @param t the target
 * @returns the lowered graph, with the conversions appended to `conversions`
 * @throws TargetConversionError when weights cannot be made symmetric
 * @example
 * lowerForTarget(graph, loadTarget('rpi4-tflite')).conversions
 */
export function lowerForTarget(g: DeployGraph, t: Target): DeployGraph {
  const conversions = [...g.conversions];
  if (t.execution !== 'integer') return { ...g, conversions };
  const ex = expandNarrowOutputs(g.nodes);
  if (ex.count) conversions.push(`${ex.count} sub-8-bit activation outputs written at an 8-bit point spanning the grid's range, then rounded onto the grid (DequantizeLinear → QuantizeLinear)`);
  g = { ...g, nodes: ex.nodes };
  const m = t.activations === 'int8-symmetric' ? symmetric() : retype(t.activations === 'uint8' ? 'uint8' : 'int8');
  const notes = { clamped: 0, recentred: 0 };
  let changedType = 0, asym = 0;
  const P = (p: QPoint): QPoint => {
    const r = m.point(p);
    if (r.dtype !== p.dtype) changedType++;
    if (p.zeroPoint !== 0 && t.activations === 'int8-symmetric') asym++;
    return r;
  };
  const nodes: DeployNode[] = g.nodes.map((n) => {
    switch (n.op) {
      case 'quantize': case 'dequantize': return { ...n, q: P(n.q) };
      case 'qconv': return { ...n, inQ: P(n.inQ), out: P(n.out), qmin: m.clamp(n.out, n.qmin), qmax: m.clamp(n.out, n.qmax), w: lowerWeights(n.w, t, n.name, notes) };
      case 'qgemm': return { ...n, inQ: P(n.inQ), out: n.out ? P(n.out) : null, qmin: n.out ? m.clamp(n.out, n.qmin) : n.qmin, qmax: n.out ? m.clamp(n.out, n.qmax) : n.qmax, w: lowerWeights(n.w, t, n.name, notes) };
      case 'qadd': return { ...n, aQ: P(n.aQ), bQ: P(n.bQ), out: P(n.out), qmin: m.clamp(n.out, n.qmin), qmax: m.clamp(n.out, n.qmax) };
      case 'qgap': return { ...n, inQ: P(n.inQ), out: P(n.out) };
      case 'convinteger': {
        if (t.activations === 'int8-symmetric') throw new TargetConversionError(t.id, n.name, 'ConvInteger keeps an explicit activation zero point; TensorRT is symmetric only');
        const p = P({ scale: 1, zeroPoint: n.xZeroPoint, dtype: n.xZeroPoint < 0 ? 'int8' : 'uint8' });
        return { ...n, xZeroPoint: p.zeroPoint };
      }
      case 'matmulinteger': {
        if (t.activations === 'int8-symmetric') throw new TargetConversionError(t.id, n.name, 'MatMulInteger keeps an explicit activation zero point; TensorRT is symmetric only');
        const p = P({ scale: 1, zeroPoint: n.aZeroPoint, dtype: n.aZeroPoint < 0 ? 'int8' : 'uint8' });
        return { ...n, aZeroPoint: p.zeroPoint };
      }
      default: return n;
    }
  });
  if (changedType) conversions.push(`activations: codes converted to ${t.activations === 'uint8' ? 'uint8' : 'int8'} (zero points and clamps shifted by 128; exact)`);
  if (t.activations === 'int8-symmetric') conversions.push(`activations: every quantization point made symmetric for ${t.id} (s' = s·max(hi − z, z − lo)/127, z' = 0; ${asym} asymmetric points changed)`);
  if (notes.recentred) conversions.push(`weights: ${notes.recentred} layers with non-zero weight zero points re-centred to symmetric int8`);
  if (t.weights.range === 'int8-narrow' && t.weights.minus128 === 'clamp') conversions.push(`weights: ${notes.clamped} weights of -128 clamped to -127 (as the TFLite converter writes [-127, 127])`);
  return { ...g, nodes, conversions };
}
