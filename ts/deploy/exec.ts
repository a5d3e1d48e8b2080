/**
 * Executes a {@link DeployGraph} under a target's arithmetic (docs/deploy.md), on our own integer kernels
 * (ts/native/intq.ts): conv / GEMM int32 accumulators with the target's accumulator hazard, requantization with
 * the target's variant, quantized add and pooling, and the target's float → int rounding. Never onnxruntime.
 *
 * Modes by `target.execution`:
 * - `integer`: codes between integer nodes; float nodes run in float32 (as ORT runs ops it does not fuse).
 * - `fake-quant`: the same graph in float: every integer node dequantizes its inputs, computes in float32 and
 *   quantizes to its frozen output point with RNE (the ONNX QDQ semantics; the reference).
 * - `fp16`: no rounding onto grids: weights dequantized from their grid, quantizers only clip to their range, every value rounded to binary16
 *   after each op, ReLU / ReLU6 clamps kept (an FP16 engine).
 *
 * Run {@link lowerForTarget} first: it converts the graph's codes and weights to what the target holds.
 */
import { QrobustError, UsageError } from '../util/errors.ts';
import { Tensor } from '../tensor/tensor.ts';
import { conv2dForward, matmul } from '../tensor/float-kernels.ts';
import { conv2d, gemm, globalAvgPool, qadd, quantize, requantize, type Variant } from '../native/intq.ts';
import { native } from '../native/binding.ts';
import type { IntqFastPacked } from '../native/intq-fast.ts';
import { float16BitsToFloat32, float32ToFloat16Bits } from '../formats/onnx.ts';
import type { Target } from '../targets/index.ts';
import { codeRange, numel, pointRange, type DeployGraph, type DeployNode, type QConvNode, type QGemmNode, type QPoint, type QWeights, type Value } from './ir.ts';

/** Integer convolutions without an accumulator hazard run on the fast kernels (bit-identical to the reference). */
let kernels: 'fast' | 'reference' = 'fast';
const packed = new WeakMap<QWeights, IntqFastPacked>();

/**
 * Selects the kernels of integer convolutions: `fast` (ts/native/intq-fast.ts, packed once per weight tensor;
 * the default) or `reference` (the scalar twins). Hazard emulation always uses the reference kernels.
 * @param k the kernel set
 * @returns the previous setting
 * @throws UsageError for another value
 * @example
 * setDeployKernels('reference')
 */
export function setDeployKernels(k: 'fast' | 'reference'): 'fast' | 'reference' {
  if (k !== 'fast' && k !== 'reference') throw new UsageError(`Expected 'fast' or 'reference' for deploy kernels but received '${String(k)}'`);
  const prev = kernels;
  kernels = k;
  return prev;
}

/** Called after every node with the node and its first output. */
export type ExecHook = (node: DeployNode, out: Value) => void;

/** A graph the executor cannot run (exit code 1). */
export class DeployExecError extends QrobustError {
  constructor(node: DeployNode | null, msg: string) {
    super(node ? `deploy graph node '${node.name}' (${node.op === 'float' ? node.node.opType : node.op}): ${msg}` : `deploy graph: ${msg}`);
    this.name = 'DeployExecError';
  }
}

const f16 = (v: number): number => float16BitsToFloat32(float32ToFloat16Bits(v));
function roundF16(a: Float32Array): Float32Array {
  for (let i = 0; i < a.length; i++) a[i] = f16(a[i]!);
  return a;
}

function codesOf(v: Value, node: DeployNode): Int8Array | Uint8Array {
  if (v.data instanceof Int8Array || v.data instanceof Uint8Array) return v.data;
  throw new DeployExecError(node, `expected 8-bit codes for input but received ${v.data.constructor.name}`);
}
function floatOf(v: Value, node: DeployNode): Float32Array {
  if (v.data instanceof Float32Array) return v.data;
  throw new DeployExecError(node, `expected a float input but received ${v.data.constructor.name}`);
}

/** Dequantizes codes: fl32(fl32(q − z)·s) (ONNX DequantizeLinear). */
export function dequantizeCodes(q: ArrayLike<number>, p: { scale: number; zeroPoint: number }): Float32Array {
  const out = new Float32Array(q.length);
  const s = Math.fround(p.scale);
  for (let i = 0; i < q.length; i++) out[i] = Math.fround((q[i]! - p.zeroPoint) * s);
  return out;
}

function toCodes(q: Int32Array, dtype: QPoint['dtype']): Int8Array | Uint8Array {
  return dtype === 'uint8' ? Uint8Array.from(q) : Int8Array.from(q);
}

function weightsFloat(w: QWeights): Float32Array {
  const k = w.data.length / w.shape[0]!;
  const out = new Float32Array(w.data.length);
  for (let c = 0; c < w.shape[0]!; c++) {
    const s = Math.fround(w.scale[c]!), z = w.zeroPoint[c]!;
    for (let j = 0; j < k; j++) out[c * k + j] = Math.fround((w.data[c * k + j]! - z) * s);
  }
  return out;
}

function biasFloat(bias: Int32Array | null, sx: number, w: QWeights): Float32Array | null {
  if (!bias) return null;
  return Float32Array.from(bias, (b, c) => Math.fround(b * Math.fround(Math.fround(sx) * Math.fround(w.scale[c]!))));
}

/** Codes → the real clamp range of a node's qmin/qmax (only where they narrow the code type's range). */
function realClamp(out: QPoint, qmin: number, qmax: number, relu: boolean): [number, number] {
  // FP16 keeps the clamps the QAT model has: its quantizers' ranges (points with a grid range) and ReLUs (a ReLU
  // is qmin = zero point, which equals the container's minimum for a uint8 point with zero point 0); the
  // calibrated points of adds and pools do not exist in the QAT model and do not clamp
  const qat = out.range !== undefined;
  return [qat || relu ? out.scale * (qmin - out.zeroPoint) : -Infinity, qat ? out.scale * (qmax - out.zeroPoint) : Infinity];
}

/** XNNPACK's NHWC convolution reduces over (kh, kw, c): im2col in that order, then the GEMM with the A72 hazard. */
function convA72(x: Int8Array, n: QConvNode, shape: number[]): { out: Int32Array; oh: number; ow: number } {
  const [N, C, H, W] = shape as [number, number, number, number];
  const [oc, cg, kh, kw] = n.w.shape as [number, number, number, number];
  const [sh, sw] = n.strides, [dh, dw] = n.dilations, [pt, pl, pb, pr] = n.pads;
  const oh = Math.floor((H + pt + pb - (dh * (kh - 1) + 1)) / sh) + 1, ow = Math.floor((W + pl + pr - (dw * (kw - 1) + 1)) / sw) + 1;
  const g = n.groups, ocg = oc / g, K = cg * kh * kw;
  const out = new Int32Array(N * oc * oh * ow);
  const zx = n.inQ.zeroPoint;
  for (let gi = 0; gi < g; gi++) {
    // weights of this group in (kh, kw, c) order
    const wg = new Int8Array(ocg * K);
    for (let o = 0; o < ocg; o++) for (let c = 0; c < cg; c++) for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) {
      wg[o * K + (i * kw + j) * cg + c] = n.w.data[(gi * ocg + o) * K + (c * kh + i) * kw + j]!;
    }
    const a = new Int8Array(N * oh * ow * K);
    for (let b = 0; b < N; b++) for (let y = 0; y < oh; y++) for (let xx = 0; xx < ow; xx++) {
      const row = ((b * oh + y) * ow + xx) * K;
      for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) {
        const iy = y * sh - pt + i * dh, ix = xx * sw - pl + j * dw;
        const inside = iy >= 0 && iy < H && ix >= 0 && ix < W;
        for (let c = 0; c < cg; c++) a[row + (i * kw + j) * cg + c] = inside ? x[((b * C + gi * cg + c) * H + iy) * W + ix]! : zx;
      }
    }
    const zp = n.w.zeroPoint.subarray(gi * ocg, (gi + 1) * ocg);
    const bias = n.bias ? n.bias.subarray(gi * ocg, (gi + 1) * ocg) : undefined;
    const acc = gemm(a, wg, { m: N * oh * ow, n: ocg, k: K, aZeroPoint: zx, wZeroPoint: zp, bias, hazard: 'a72-int16-pair' });
    for (let b = 0; b < N; b++) for (let p = 0; p < oh * ow; p++) for (let o = 0; o < ocg; o++) {
      out[(b * oc + gi * ocg + o) * oh * ow + p] = acc[(b * oh * ow + p) * ocg + o]!;
    }
  }
  return { out, oh, ow };
}

function requant(acc: Int32Array, variant: Variant, sx: number, w: QWeights, out: QPoint, inner: number, qmin: number, qmax: number, bias: Int32Array | null, dwUp: boolean): Int32Array {
  if (variant === 'trt-gpu') {
    const beta = bias ? Float32Array.from(bias, (b, c) => Math.fround(Math.fround(b * Math.fround(Math.fround(sx) * Math.fround(w.scale[c]!))) / Math.fround(out.scale))) : undefined;
    return requantize(acc, { variant, scales: { sx, sw: w.scale, sy: out.scale }, inner, zeroPoint: out.zeroPoint, qmin, qmax, beta }) as Int32Array;
  }
  return requantize(acc, { variant, scales: { sx, sw: w.scale, sy: out.scale }, inner, zeroPoint: out.zeroPoint, qmin, qmax, depthwiseUpward: dwUp || undefined }) as Int32Array;
}

/** Calibration: points with a NaN scale record their float range here and pass the float value on. */
let calibration: Map<QPoint, { lo: number; hi: number }> | null = null;

function quantizeFloat(x: Float32Array, q: QPoint, t: Target, qmin?: number, qmax?: number): Int8Array | Uint8Array | Float32Array {
  if (Number.isNaN(q.scale)) {
    if (!calibration) throw new DeployExecError(null, 'a quantization point is not calibrated');
    const r = calibration.get(q) ?? { lo: Infinity, hi: -Infinity };
    for (let i = 0; i < x.length; i++) { const v = x[i]!; if (v < r.lo) r.lo = v; if (v > r.hi) r.hi = v; }
    calibration.set(q, r);
    return x;
  }
  const [lo, hi] = pointRange(q);
  return toCodes(quantize(x, { mode: t.arithmetic.quantize, scale: q.scale, zeroPoint: q.zeroPoint, qmin: qmin ?? lo, qmax: qmax ?? hi }), q.dtype);
}

function runQConv(n: QConvNode, x: Value, t: Target): Value {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const [oc, , kh, kw] = n.w.shape as [number, number, number, number];
  const depthwise = n.groups === C && n.groups > 1;
  if (t.execution !== 'integer') {
    const xf = x.data instanceof Float32Array ? x.data : dequantizeCodes(x.data, n.inQ);
    if (n.pads[0] !== n.pads[2] || n.pads[1] !== n.pads[3]) throw new DeployExecError(n, `asymmetric pads [${n.pads.join(', ')}] are not supported in float`);
    const y = conv2dForward(Tensor.from(xf, x.shape), Tensor.from(weightsFloat(n.w), n.w.shape), (() => { const b = biasFloat(n.bias, n.inQ.scale, n.w); return b ? Tensor.from(b) : null; })(),
      { stride: n.strides, padding: [n.pads[0], n.pads[1]], dilation: n.dilations, groups: n.groups });
    return floatEpilogue(n, y.data, y.shape as number[], t);
  }
  const xc = codesOf(x, n);
  const hazard = t.hazard === 'a72-int16-pair' && !depthwise && xc instanceof Int8Array && n.w.data instanceof Int8Array ? 'a72-int16-pair'
    : t.hazard === 'maddubs-sat' && xc instanceof Uint8Array && n.w.data instanceof Int8Array ? 'maddubs-sat' : 'none';
  const variant = t.arithmetic.conv as Variant;
  const useBias = variant !== 'trt-gpu';
  let r: { out: Int32Array; oh: number; ow: number };
  if (hazard === 'a72-int16-pair') {
    const nn = useBias ? n : { ...n, bias: null };
    r = convA72(xc as Int8Array, nn, x.shape);
  } else if (kernels === 'fast' && hazard === 'none' && variant !== 'fp16-fallback') {
    const [pt, pl, pb, pr] = n.pads;
    const shape = { n: N, c: C, h: H, w: W, oc, kh, kw, groups: n.groups, strideH: n.strides[0], strideW: n.strides[1], dilationH: n.dilations[0], dilationW: n.dilations[1], padTop: pt, padLeft: pl, padBottom: pb, padRight: pr };
    let p = packed.get(n.w);
    if (!p) {
      p = native().intqFastPackConv(n.w.data, { c: C, oc, kh, kw, groups: n.groups, bits: 8, wZeroPoint: n.w.zeroPoint });
      packed.set(n.w, p);
    }
    const oh = Math.floor((H + pt + pb - (n.dilations[0] * (kh - 1) + 1)) / n.strides[0]) + 1, ow = Math.floor((W + pl + pr - (n.dilations[1] * (kw - 1) + 1)) / n.strides[1]) + 1;
    const out = n.out.dtype === 'uint8' ? new Uint8Array(N * oc * oh * ow) : new Int8Array(N * oc * oh * ow);
    const beta = variant === 'trt-gpu' && n.bias ? Float32Array.from(n.bias, (b, c) => Math.fround(Math.fround(b * Math.fround(Math.fround(n.inQ.scale) * Math.fround(n.w.scale[c]!))) / Math.fround(n.out.scale))) : undefined;
    native().intqFastConv(p, xc, out, {
      ...shape, xZeroPoint: n.inQ.zeroPoint, bias: useBias && n.bias ? n.bias : undefined, variant, sx: n.inQ.scale, sw: n.w.scale, sy: n.out.scale,
      zeroPoint: n.out.zeroPoint, qmin: n.qmin, qmax: n.qmax, depthwiseUpward: t.depthwiseUpward && depthwise, beta,
    });
    return { shape: [N, oc, oh, ow], data: out };
  } else {
    r = conv2d(xc, n.w.data, {
      n: N, c: C, h: H, w: W, oc, kh, kw, groups: n.groups, strides: n.strides, pads: n.pads, dilations: n.dilations,
      xZeroPoint: n.inQ.zeroPoint, wZeroPoint: n.w.zeroPoint, bias: useBias && n.bias ? n.bias : undefined, hazard,
    });
  }
  const q = requant(r.out, variant, n.inQ.scale, n.w, n.out, r.oh * r.ow, n.qmin, n.qmax, n.bias, t.depthwiseUpward && depthwise);
  return { shape: [N, oc, r.oh, r.ow], data: toCodes(q, n.out.dtype) };
}

/** Float result of a conv / gemm → the fake-quant codes or the fp16 value. */
function floatEpilogue(n: QConvNode | QGemmNode, y: Float32Array, shape: number[], t: Target): Value {
  if (!n.out) return { shape, data: y };
  if (t.execution === 'fp16') {
    const [lo, hi] = realClamp(n.out, n.qmin, n.qmax, n.op === 'qconv' && n.relu === true);
    for (let i = 0; i < y.length; i++) y[i] = Math.min(Math.max(y[i]!, lo), hi);
    return { shape, data: roundF16(y) };
  }
  if (n.op === 'qconv' && n.relu && Number.isNaN(n.out.scale)) for (let i = 0; i < y.length; i++) if (y[i]! < 0) y[i] = 0;
  return { shape, data: quantizeFloat(y, n.out, t, n.qmin, n.qmax) };
}

function runQGemm(n: QGemmNode, x: Value, t: Target): Value {
  if (x.shape.length !== 2) throw new DeployExecError(n, `expected a 2-d input but received shape [${x.shape.join(', ')}]`);
  const [m, k] = x.shape as [number, number];
  const [nn, kw] = n.w.shape as [number, number];
  if (k !== kw) throw new DeployExecError(n, `input has K = ${k} but the weights have K = ${kw}`);
  if (t.execution !== 'integer') {
    const xf = x.data instanceof Float32Array ? x.data : dequantizeCodes(x.data, n.inQ);
    const y = matmul(Tensor.from(xf, [m, k]), Tensor.from(weightsFloat(n.w), [nn, k]), false, true).data;
    const b = biasFloat(n.bias, n.inQ.scale, n.w);
    if (b) for (let i = 0; i < m; i++) for (let j = 0; j < nn; j++) y[i * nn + j] = Math.fround(y[i * nn + j]! + b[j]!);
    return floatEpilogue(n, y, [m, nn], t);
  }
  const xc = codesOf(x, n);
  const variant = t.arithmetic.gemm as Variant;
  const hazard = t.hazard === 'a72-int16-pair' && xc instanceof Int8Array && n.w.data instanceof Int8Array ? 'a72-int16-pair'
    : t.hazard === 'maddubs-sat' && xc instanceof Uint8Array && n.w.data instanceof Int8Array ? 'maddubs-sat' : 'none';
  const useBias = variant !== 'trt-gpu';
  const acc = gemm(xc, n.w.data, { m, n: nn, k, aZeroPoint: n.inQ.zeroPoint, wZeroPoint: n.w.zeroPoint, bias: useBias && n.bias ? n.bias : undefined, hazard });
  if (!n.out) {
    const y = new Float32Array(acc.length);
    for (let i = 0; i < m; i++) for (let j = 0; j < nn; j++) y[i * nn + j] = Math.fround(acc[i * nn + j]! * Math.fround(Math.fround(n.inQ.scale) * Math.fround(n.w.scale[j]!)));
    return { shape: [m, nn], data: y };
  }
  const q = requant(acc, variant, n.inQ.scale, n.w, n.out, 1, n.qmin, n.qmax, n.bias, false);
  return { shape: [m, nn], data: toCodes(q, n.out.dtype) };
}

function runQAdd(n: DeployNode & { op: 'qadd' }, a: Value, b: Value, t: Target): Value {
  if (numel(a.shape) !== numel(b.shape)) throw new DeployExecError(n, `inputs differ in shape: [${a.shape.join(', ')}] and [${b.shape.join(', ')}]`);
  if (t.execution === 'integer' && t.arithmetic.add !== 'float') {
    const q = qadd(Int32Array.from(codesOf(a, n)), Int32Array.from(codesOf(b, n)), {
      variant: t.arithmetic.add, sa: n.aQ.scale, sb: n.bQ.scale, sy: n.out.scale, za: n.aQ.zeroPoint, zb: n.bQ.zeroPoint, zy: n.out.zeroPoint, qmin: n.qmin, qmax: n.qmax,
    });
    return { shape: a.shape, data: toCodes(q, n.out.dtype) };
  }
  const af = a.data instanceof Float32Array ? a.data : dequantizeCodes(a.data, n.aQ);
  const bf = b.data instanceof Float32Array ? b.data : dequantizeCodes(b.data, n.bQ);
  const y = new Float32Array(af.length);
  for (let i = 0; i < y.length; i++) y[i] = Math.fround(af[i]! + bf[i]!);
  if (t.execution === 'fp16') {
    const [lo, hi] = realClamp(n.out, n.qmin, n.qmax, n.relu === true);
    for (let i = 0; i < y.length; i++) y[i] = Math.min(Math.max(y[i]!, lo), hi);
    return { shape: a.shape, data: roundF16(y) };
  }
  if (n.relu && Number.isNaN(n.out.scale)) for (let i = 0; i < y.length; i++) if (y[i]! < 0) y[i] = 0;
  return { shape: a.shape, data: quantizeFloat(y, n.out, t, n.qmin, n.qmax) };
}

function meanHW(xf: Float32Array, shape: number[]): Float32Array {
  const [N, C, H, W] = shape as [number, number, number, number];
  const hw = H * W, y = new Float32Array(N * C);
  for (let i = 0; i < N * C; i++) {
    let s = 0;
    for (let j = 0; j < hw; j++) s = Math.fround(s + xf[i * hw + j]!);
    y[i] = Math.fround(s / hw);
  }
  return y;
}

function runQGap(n: DeployNode & { op: 'qgap' }, x: Value, t: Target): Value {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const shape = [N, C, 1, 1];
  if (t.execution === 'integer' && t.arithmetic.pool !== 'float') {
    const xc = codesOf(x, n);
    const [lo, hi] = codeRange(n.out.dtype);
    const out = new Int32Array(N * C);
    for (let b = 0; b < N; b++) {
      const q = globalAvgPool(Int32Array.from(xc.subarray(b * C * H * W, (b + 1) * C * H * W)), {
        variant: t.arithmetic.pool, channels: C, image: H * W, sx: n.inQ.scale, sy: n.out.scale, zx: n.inQ.zeroPoint, zy: n.out.zeroPoint, qmin: lo, qmax: hi,
      });
      out.set(q, b * C);
    }
    return { shape, data: toCodes(out, n.out.dtype) };
  }
  const y = meanHW(x.data instanceof Float32Array ? x.data : dequantizeCodes(x.data, n.inQ), x.shape);
  if (t.execution === 'fp16') return { shape, data: roundF16(y) };
  return { shape, data: quantizeFloat(y, n.out, t) };
}

function runMaxPool(n: DeployNode & { op: 'qmaxpool' }, x: Value): Value {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const [kh, kw] = n.kernel, [sh, sw] = n.strides, [pt, pl, pb, pr] = n.pads;
  const oh = Math.floor((H + pt + pb - kh) / sh) + 1, ow = Math.floor((W + pl + pr - kw) / sw) + 1;
  const src = x.data;
  const out = new (src.constructor as new (n: number) => typeof src)(N * C * oh * ow);
  for (let p = 0; p < N * C; p++) for (let y = 0; y < oh; y++) for (let xx = 0; xx < ow; xx++) {
    let m = -Infinity;
    for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) {
      const iy = y * sh - pt + i, ix = xx * sw - pl + j;
      if (iy >= 0 && iy < H && ix >= 0 && ix < W) m = Math.max(m, src[(p * H + iy) * W + ix]!);
    }
    out[(p * oh + y) * ow + xx] = m;
  }
  return { shape: [N, C, oh, ow], data: out };
}

function runShape(n: DeployNode & { op: 'flatten' | 'reshape' }, x: Value): Value {
  if (n.op === 'flatten') {
    const axis = n.axis ?? 1;
    const a = axis < 0 ? axis + x.shape.length : axis;
    return { shape: [numel(x.shape.slice(0, a)), numel(x.shape.slice(a))], data: x.data };
  }
  const want = n.shape!.map((d, i) => (d === 0 ? x.shape[i]! : d));
  const known = want.filter((d) => d !== -1).reduce((p, d) => p * d, 1);
  const shape = want.map((d) => (d === -1 ? numel(x.shape) / known : d));
  if (numel(shape) !== numel(x.shape)) throw new DeployExecError(n, `cannot reshape [${x.shape.join(', ')}] to [${n.shape!.join(', ')}]`);
  return { shape, data: x.data };
}

// ---- float ops (unfused ONNX nodes) ------------------------------------------------------------------

function broadcast(a: Value, b: Value, f: (x: number, y: number) => number, node: DeployNode): Value {
  // fast paths: equal shapes, a scalar, or a per-channel [1, C, 1, 1] / [C, 1, 1] operand of an NCHW tensor
  const nb = numel(b.shape);
  if (a.shape.length === 4 && (nb === 1 || (nb === a.shape[1] && b.shape.length >= 3 && b.shape.length <= 4 && b.shape[b.shape.length - 3] === nb)) || numel(a.shape) === nb && a.shape.join() === b.shape.join()) {
    const n = numel(a.shape), out = new Float32Array(n), ad = a.data, bd = b.data;
    if (nb === n) for (let i = 0; i < n; i++) out[i] = Math.fround(f(ad[i]!, bd[i]!));
    else {
      const C = a.shape[1]!, hw = a.shape[2]! * a.shape[3]!;
      for (let i = 0; i < n; i++) out[i] = Math.fround(f(ad[i]!, bd[nb === 1 ? 0 : Math.floor(i / hw) % C]!));
    }
    return { shape: a.shape.slice(), data: out };
  }
  const r = Math.max(a.shape.length, b.shape.length);
  const sa = [...new Array(r - a.shape.length).fill(1), ...a.shape], sb = [...new Array(r - b.shape.length).fill(1), ...b.shape];
  const shape = sa.map((d, i) => {
    const e = sb[i]!;
    if (d !== e && d !== 1 && e !== 1) throw new DeployExecError(node, `shapes [${a.shape.join(', ')}] and [${b.shape.join(', ')}] do not broadcast`);
    return Math.max(d, e);
  });
  const n = numel(shape), out = new Float32Array(n);
  const stride = (s: number[]) => { const st = new Array<number>(r).fill(0); let acc = 1; for (let i = r - 1; i >= 0; i--) { st[i] = s[i] === 1 ? 0 : acc; acc *= s[i]!; } return st; };
  const ta = stride(sa), tb = stride(sb);
  const ad = a.data, bd = b.data;
  const idx = new Array<number>(r).fill(0);
  for (let i = 0; i < n; i++) {
    let ia = 0, ib = 0;
    for (let d = 0; d < r; d++) { ia += idx[d]! * ta[d]!; ib += idx[d]! * tb[d]!; }
    out[i] = Math.fround(f(ad[ia]!, bd[ib]!));
    for (let d = r - 1; d >= 0; d--) { if (++idx[d]! < shape[d]!) break; idx[d] = 0; }
  }
  return { shape, data: out };
}

function attr(node: DeployNode & { op: 'float' }, name: string): unknown {
  const a = node.node.attribute?.find((x) => x.name === name);
  if (!a) return undefined;
  if (a.ints && a.ints.length) return a.ints.map(Number);
  if (a.i !== undefined && a.i !== null) return Number(a.i);
  if (a.f !== undefined && a.f !== null) return a.f;
  return undefined;
}

function runFloat(n: DeployNode & { op: 'float' }, ins: (Value | undefined)[], t: Target): Value {
  const op = n.node.opType;
  const x = ins[0];
  if (!x) throw new DeployExecError(n, 'missing first input');
  const fp16 = t.execution === 'fp16';
  const fin = (v: Value): Value => (fp16 && v.data instanceof Float32Array ? { shape: v.shape, data: roundF16(v.data) } : v);
  switch (op) {
    case 'Add': return fin(broadcast(x, ins[1]!, (a, b) => a + b, n));
    case 'Sub': return fin(broadcast(x, ins[1]!, (a, b) => a - b, n));
    case 'Mul': return fin(broadcast(x, ins[1]!, (a, b) => a * b, n));
    case 'Div': return fin(broadcast(x, ins[1]!, (a, b) => a / b, n));
    case 'Relu': return { shape: x.shape, data: Float32Array.from(floatOf(x, n), (v) => (v > 0 ? v : 0)) };
    case 'Clip': {
      const lo = ins[1] ? ins[1].data[0]! : -Infinity, hi = ins[2] ? ins[2].data[0]! : Infinity;
      return { shape: x.shape, data: Float32Array.from(floatOf(x, n), (v) => Math.min(Math.max(v, lo), hi)) };
    }
    case 'Cast': {
      const to = attr(n, 'to');
      if (to !== 1) throw new DeployExecError(n, `Cast to element type ${String(to)}: only float (1) is supported`);
      return { shape: x.shape, data: Float32Array.from(x.data) };
    }
    case 'GlobalAveragePool': return fin({ shape: [x.shape[0]!, x.shape[1]!, 1, 1], data: meanHW(floatOf(x, n), x.shape) });
    case 'Conv': {
      const w = ins[1]!, b = ins[2];
      const pads = (attr(n, 'pads') as number[] | undefined) ?? [0, 0, 0, 0];
      if (pads[0] !== pads[2] || pads[1] !== pads[3]) throw new DeployExecError(n, `asymmetric pads [${pads.join(', ')}] are not supported in float`);
      if (attr(n, 'auto_pad') !== undefined) throw new DeployExecError(n, 'auto_pad is not supported');
      const y = conv2dForward(Tensor.from(floatOf(x, n), x.shape), Tensor.from(floatOf(w, n), w.shape), b ? Tensor.from(floatOf(b, n)) : null, {
        stride: ((attr(n, 'strides') as number[] | undefined) ?? [1, 1]) as [number, number], padding: [pads[0]!, pads[1]!],
        dilation: ((attr(n, 'dilations') as number[] | undefined) ?? [1, 1]) as [number, number], groups: (attr(n, 'group') as number | undefined) ?? 1,
      });
      return fin({ shape: y.shape as number[], data: y.data });
    }
    case 'Gemm': case 'MatMul': {
      const w = ins[1]!, b = ins[2];
      const transA = op === 'Gemm' && attr(n, 'transA') === 1, transB = op === 'Gemm' && attr(n, 'transB') === 1;
      const alpha = op === 'Gemm' ? ((attr(n, 'alpha') as number | undefined) ?? 1) : 1, beta = op === 'Gemm' ? ((attr(n, 'beta') as number | undefined) ?? 1) : 1;
      if (x.shape.length !== 2 || w.shape.length !== 2) throw new DeployExecError(n, 'only 2-d operands are supported');
      const y = matmul(Tensor.from(floatOf(x, n), x.shape), Tensor.from(floatOf(w, n), w.shape), transA, transB);
      const out: Value = { shape: y.shape as number[], data: y.data };
      if (alpha !== 1) for (let i = 0; i < y.data.length; i++) y.data[i] = Math.fround(y.data[i]! * alpha);
      if (b) {
        const bb = beta === 1 ? b : { shape: b.shape, data: Float32Array.from(b.data, (v) => Math.fround(v * beta)) };
        return fin(broadcast(out, bb, (p, q) => p + q, n));
      }
      return fin(out);
    }
    default:
      throw new DeployExecError(n, `float op ${op} is not supported by the deploy executor`);
  }
}

/**
 * Runs the graph on a float input.
 * @param g the (lowered) graph
 * @param x the input values, NCHW
 * @param shape the input shape
 * @param t the target (its arithmetic per op)
 * @param hook called after every node
 * @returns the graph outputs, by name
 * @throws DeployExecError for a node the executor cannot run; UsageError from the kernels for bad shapes
 * @example
 * runGraph(graph, pixels, [1, 3, 32, 32], loadTarget('x86-onnxruntime')).get('logits')
 */
export function runGraph(g: DeployGraph, x: Float32Array, shape: number[], t: Target, hook?: ExecHook): Map<string, Value> {
  calibration = null;
  return run(g, x, shape, t, hook);
}

/**
 * Calibration run (fake-quant, float): points whose scale is NaN record the float range reaching them and
 * pass the value on unquantized.
 * @returns the range per uncalibrated point (accumulated into `into`)
 */
export function calibrateGraph(g: DeployGraph, x: Float32Array, shape: number[], t: Target, into: Map<QPoint, { lo: number; hi: number }>): void {
  if (t.execution !== 'fake-quant') throw new UsageError(`calibration runs under a fake-quant target, not '${t.id}'`);
  calibration = into;
  try {
    run(g, x, shape, t);
  } finally {
    calibration = null;
  }
}

function run(g: DeployGraph, x: Float32Array, shape: number[], t: Target, hook?: ExecHook): Map<string, Value> {
  if (numel(shape) !== x.length) throw new UsageError(`Expected ${numel(shape)} input values for shape [${shape.join(', ')}] but received ${x.length}`);
  const env = new Map<string, Value>();
  env.set(g.input.name, { shape, data: x });
  const get = (n: DeployNode, name: string): Value | undefined => {
    if (!name) return undefined;
    const v = env.get(name);
    if (v) return v;
    if (n.op === 'float') {
      const c = n.consts.get(name);
      if (c) return { shape: c.dims, data: c.data };
    }
    throw new DeployExecError(n, `input '${name}' is not computed before this node`);
  };
  for (const n of g.nodes) {
    const x0 = get(n, n.inputs[0]!)!;
    let out: Value;
    switch (n.op) {
      case 'quantize':
        if (t.execution === 'fp16') {
          // no rounding onto the grid, but the quantizer's clip (DoReFa [0, 1], PACT α, LSQ's range) is part of the model
          const [lo, hi] = n.q.range ?? [-Infinity, Infinity];
          const a = n.q.scale * (lo - n.q.zeroPoint), b = n.q.scale * (hi - n.q.zeroPoint);
          out = { shape: x0.shape, data: roundF16(Float32Array.from(floatOf(x0, n), (v) => Math.min(Math.max(v, a), b))) };
        }
        else out = { shape: x0.shape, data: quantizeFloat(floatOf(x0, n), n.q, t.execution === 'integer' ? t : { ...t, arithmetic: { ...t.arithmetic, quantize: 'rne-divide' } }) };
        break;
      case 'dequantize':
        out = x0.data instanceof Float32Array ? x0 : { shape: x0.shape, data: dequantizeCodes(x0.data, n.q) };
        break;
      case 'qconv': out = runQConv(n, x0, t); break;
      case 'qgemm': out = runQGemm(n, x0, t); break;
      case 'qadd': out = runQAdd(n, x0, get(n, n.inputs[1]!)!, t); break;
      case 'qgap': out = runQGap(n, x0, t); break;
      case 'qmaxpool': out = runMaxPool(n, x0); break;
      case 'flatten': case 'reshape': out = runShape(n, x0); break;
      case 'convinteger': {
        const [N, C, H, W] = x0.shape as [number, number, number, number];
        const [oc, , kh, kw] = n.w.shape as [number, number, number, number];
        const r = conv2d(codesOf(x0, n), n.w.data, { n: N, c: C, h: H, w: W, oc, kh, kw, groups: n.groups, strides: n.strides, pads: n.pads, dilations: n.dilations, xZeroPoint: n.xZeroPoint, wZeroPoint: n.w.zeroPoint });
        out = { shape: [N, oc, r.oh, r.ow], data: r.out };
        break;
      }
      case 'matmulinteger': {
        const [m, k] = x0.shape as [number, number];
        out = { shape: [m, n.w.shape[0]!], data: gemm(codesOf(x0, n), n.w.data, { m, n: n.w.shape[0]!, k, aZeroPoint: n.aZeroPoint, wZeroPoint: n.w.zeroPoint }) };
        break;
      }
      case 'float': out = runFloat(n, n.inputs.map((i) => get(n, i)), t); break;
    }
    env.set(n.outputs[0]!, out);
    hook?.(n, out);
  }
  const res = new Map<string, Value>();
  for (const o of g.outputs) {
    const v = env.get(o);
    if (!v) throw new DeployExecError(null, `output '${o}' is never computed`);
    res.set(o, v);
  }
  return res;
}
