/**
 * Integer arithmetic reference kernels (native/kernels/ref, contract in native/include/qrb/intq.h):
 * requantization as each deployed stack does it (INTEGER.md §a), int8 / packed int4 / int2 GEMM and
 * convolution with int32 accumulators, ONNX sub-byte packing, quantize / dequantize, add and pooling.
 *
 * Every function here checks its arguments before the native call and throws a {@link UsageError} naming
 * the argument, what is allowed and what was received; the native layer rechecks and never crashes.
 * Docs: docs/integer.md.
 */
import { invalidOption, UsageError } from '../util/errors.ts';
import { int, num, oneOf } from '../util/is.ts';
import { native } from './binding.ts';

/** The multiplier of one output channel as a stack holds it. */
export interface NativeMultiplier {
  /** the real multiplier in double (tflite-*) */
  m64: number;
  /** the real multiplier in float32 (xnnpack-*, ort-mlas, onnx-ref, trt-gpu, fp16-fallback) */
  m32: number;
  /** TFLite fixed-point multiplier in [2^30, 2^31) (or 0) */
  q: number;
  /** TFLite exponent, positive = left shift */
  shift: number;
  /** XNNPACK rndnu: 24-bit mantissa with the implicit 1 */
  rndnuMultiplier: number;
  /** XNNPACK rndnu: right shift (150 - biased exponent) */
  rndnuShift: number;
}

/** Options object of the native requantize (see {@link requantize} for the checked wrapper). */
export interface NativeRequantOptions {
  variant: string;
  multipliers?: Float64Array;
  sx?: number;
  sw?: Float32Array;
  sy?: number;
  inner?: number;
  zeroPoint?: number;
  qmin?: number;
  qmax?: number;
  depthwiseUpward?: boolean;
  beta?: Float32Array;
}

/** Typed contract of the integer kernels in the addon (native/binding/intq.cc). */
export interface IntqNative {
  intqMultiplier(variant: string, m: number): NativeMultiplier;
  intqMultiplier(variant: string, sx: number, sw: number, sy: number): NativeMultiplier;
  intqRequantize(acc: Int32Array, out: Int32Array | Float32Array, opts: NativeRequantOptions): void;
  intqGemm(a: Int8Array | Uint8Array, weights: Int8Array | Uint8Array, out: Int32Array, opts: Record<string, unknown>): void;
  intqConv(x: Int8Array | Uint8Array, weights: Int8Array | Uint8Array, out: Int32Array, opts: Record<string, unknown>): void;
  intqPack(values: Int8Array, bits: number, signed: boolean, out: Uint8Array, rows?: number, k?: number): void;
  intqUnpack(packed: Uint8Array, bits: number, signed: boolean, out: Int8Array, rows?: number, k?: number): void;
  intqQuantize(x: Float32Array, out: Int32Array, mode: number, scale: number, zeroPoint: number, qmin: number, qmax: number): void;
  intqDequantize(q: Int32Array, out: Float32Array, scale: number, zeroPoint: number): void;
  intqAdd(variant: string, a: Int32Array, b: Int32Array, out: Int32Array, params: Record<string, number>): void;
  intqGlobalAvgPool(variant: string, x: Int32Array, out: Int32Array, params: Record<string, number>): void;
  intqAvgPoolTflite(x: Int32Array, out: Int32Array, opts: Record<string, number>): void;
}

/** The requantization variants of INTEGER.md §a, in the order of the C++ enum (requant-ref.cc pins it). */
export const VARIANTS = ['tflite-double', 'tflite-single', 'xnnpack-fp32', 'xnnpack-rndnu', 'ort-mlas', 'onnx-ref', 'trt-gpu', 'fp16-fallback'] as const;
export type Variant = (typeof VARIANTS)[number];

/** Accumulator hazards: index = the C++ Hazard enum. */
export const HAZARDS = ['none', 'a72-int16-pair', 'maddubs-sat'] as const satisfies readonly string[];
export type Hazard = (typeof HAZARDS)[number];

/** Float → int quantize modes: index = the C++ QuantizeMode enum. */
export const QUANTIZE_MODES = ['rne-divide', 'rhaz-divide', 'rne-reciprocal'] as const satisfies readonly string[];
export type QuantizeMode = (typeof QUANTIZE_MODES)[number];

/** The quantize mode each stack uses (INTEGER.md "Float → int quantize"). */
export const QUANTIZE_MODE_OF: Record<Variant, QuantizeMode> = {
  'tflite-double': 'rhaz-divide',
  'tflite-single': 'rhaz-divide',
  'xnnpack-fp32': 'rne-reciprocal',
  'xnnpack-rndnu': 'rne-reciprocal',
  'ort-mlas': 'rne-divide',
  'onnx-ref': 'rne-divide',
  'trt-gpu': 'rne-divide',
  'fp16-fallback': 'rne-divide',
};

const I32_MIN = -2147483648;
const I32_MAX = 2147483647;

/** A length mismatch, worded like invalidOption: "Expected 6 elements (m × k) for a but received length 5". */
function lengthError(name: string, expected: string, got: number): UsageError {
  return new UsageError(`Expected ${expected} for ${name} but received length ${got}`);
}

function positiveScale(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || !(v > 0)) throw invalidOption(name, 'a finite number > 0', v);
  return v;
}

function int32Array(name: string, v: unknown): Int32Array {
  if (!(v instanceof Int32Array)) throw invalidOption(name, 'an Int32Array', v);
  return v;
}

function byteArray(name: string, v: unknown): Int8Array | Uint8Array {
  if (!(v instanceof Int8Array) && !(v instanceof Uint8Array)) throw invalidOption(name, 'an Int8Array (int8) or Uint8Array (uint8)', v);
  return v;
}

function zeroPointFor(name: string, v: unknown, arr: Int8Array | Uint8Array): number {
  return arr instanceof Int8Array ? int(name, v, -128, 127) : int(name, v, 0, 255);
}

/**
 * Forms the multiplier of one output channel the way `variant`'s stack does.
 * @param variant one of {@link VARIANTS}
 * @param m the real multiplier M = sx·sw/sy, in [0, 256); or pass `{ sx, sw, sy }` to form it from
 *   scales in the stack's own precision and order (double for tflite-*, float32 (sx·sw)/sy otherwise)
 * @returns the stack's representation (double, float32, TFLite (q, shift), XNNPACK rndnu (mantissa, shift))
 * @throws UsageError for an unknown variant or M outside [0, 256)
 * @example
 * formMultiplier('tflite-double', 0.25).shift // -1
 */
export function formMultiplier(variant: Variant, m: number | { sx: number; sw: number; sy: number }): NativeMultiplier {
  oneOf('variant', variant, VARIANTS);
  if (typeof m === 'object' && m !== null) {
    positiveScale('sx', m.sx);
    positiveScale('sy', m.sy);
    num('sw', m.sw, 0);
    return native().intqMultiplier(variant, m.sx, m.sw, m.sy);
  }
  num('multiplier', m, 0);
  if (m >= 256) throw invalidOption('multiplier', 'a real multiplier in [0, 256)', m);
  return native().intqMultiplier(variant, m);
}

/** Options of {@link requantize}. */
export interface RequantizeOptions {
  variant: Variant;
  /** real multiplier(s) M, one per channel (or one for all); or give `scales` */
  multiplier?: number | readonly number[] | Float64Array;
  /** scales: sx and sy per tensor, sw per channel (the stack forms M itself) */
  scales?: { sx: number; sw: number | readonly number[] | Float32Array; sy: number };
  /** elements per channel run: GEMM out[m][n] → 1 (default); NCHW conv → oh·ow */
  inner?: number;
  zeroPoint?: number;
  qmin?: number;
  qmax?: number;
  /** tflite-double only: TFLite depthwise kUpward output rounding */
  depthwiseUpward?: boolean;
  /** trt-gpu only: float32 bias term per channel, in output units (the int32 acc excludes the bias) */
  beta?: readonly number[] | Float32Array;
}

/**
 * Requantizes int32 accumulators as `variant`'s deployed stack does. Channel of element i is
 * `(i / inner) % channels`.
 * @param acc the int32 accumulators (bias already added, except for trt-gpu)
 * @param opts variant, multipliers or scales, zero point, clamp range (default −128..127)
 * @returns Int32Array outputs; for `fp16-fallback` a Float32Array of fp16 values of acc·M plus the zero point
 * @throws UsageError for a bad option (unknown variant, M ≥ 256, non-positive scale, qmin > qmax, ...)
 * @example
 * Array.from(requantize(Int32Array.from([-3, -2, -1, 0, 1, 2, 3]), { variant: 'ort-mlas', multiplier: 0.5 })) // [-2, -1, 0, 0, 0, 1, 2]
 */
export function requantize(acc: Int32Array, opts: RequantizeOptions): Int32Array | Float32Array {
  int32Array('acc', acc);
  if (typeof opts !== 'object' || opts === null) throw invalidOption('opts', 'an options object', opts);
  const variant = oneOf('variant', opts.variant, VARIANTS);
  const o: NativeRequantOptions = { variant };
  if (opts.multiplier !== undefined) {
    const ms = typeof opts.multiplier === 'number' ? [opts.multiplier] : Array.from(opts.multiplier);
    if (ms.length === 0) throw invalidOption('multiplier', 'at least one real multiplier', opts.multiplier);
    ms.forEach((m, i) => {
      num(`multiplier[${i}]`, m, 0);
      if (m >= 256) throw invalidOption(`multiplier[${i}]`, 'a real multiplier in [0, 256)', m);
    });
    o.multipliers = Float64Array.from(ms);
  } else if (opts.scales !== undefined) {
    const s = opts.scales;
    o.sx = positiveScale('scales.sx', s.sx);
    o.sy = positiveScale('scales.sy', s.sy);
    const sw = typeof s.sw === 'number' ? [s.sw] : Array.from(s.sw);
    if (sw.length === 0) throw invalidOption('scales.sw', 'at least one weight scale', s.sw);
    sw.forEach((v, i) => num(`scales.sw[${i}]`, v, 0));
    o.sw = Float32Array.from(sw);
  } else {
    throw new UsageError('requantize: expected opts.multiplier or opts.scales');
  }
  const channels = (o.multipliers ?? o.sw)!.length;
  o.inner = int('inner', opts.inner ?? 1, 1);
  o.zeroPoint = int('zeroPoint', opts.zeroPoint ?? 0, I32_MIN, I32_MAX);
  if (variant === 'fp16-fallback') {
    const out = new Float32Array(acc.length);
    native().intqRequantize(acc, out, o);
    return out;
  }
  o.qmin = int('qmin', opts.qmin ?? -128, I32_MIN, I32_MAX);
  o.qmax = int('qmax', opts.qmax ?? 127, o.qmin, I32_MAX);
  if (o.zeroPoint < o.qmin || o.zeroPoint > o.qmax) throw invalidOption('zeroPoint', `integer ${o.qmin}..${o.qmax} (within qmin..qmax)`, o.zeroPoint);
  if (variant === 'trt-gpu' && o.zeroPoint !== 0) throw invalidOption('zeroPoint', '0 (trt-gpu is symmetric only)', o.zeroPoint);
  if (opts.depthwiseUpward) {
    if (variant !== 'tflite-double') throw invalidOption('depthwiseUpward', 'true only with variant tflite-double', opts.depthwiseUpward);
    o.depthwiseUpward = true;
  }
  if (opts.beta !== undefined) {
    if (variant !== 'trt-gpu') throw invalidOption('beta', 'a bias term only with variant trt-gpu', variant);
    const b = Array.from(opts.beta);
    if (b.length !== channels) throw lengthError('beta', `${channels} values (one per channel)`, b.length);
    b.forEach((v, i) => num(`beta[${i}]`, v));
    o.beta = Float32Array.from(b);
  }
  const out = new Int32Array(acc.length);
  native().intqRequantize(acc, out, o);
  return out;
}

/** Weights of {@link gemm} / {@link conv2d}. */
export interface WeightOptions {
  /** 8 (default: an Int8Array/Uint8Array container) or 4 / 2 (packed rows, Uint8Array; see {@link packRows}) */
  bits?: 8 | 4 | 2;
  /** packed weights only: UINT4/UINT2 instead of INT4/INT2 */
  unsignedWeights?: boolean;
  /** one (per tensor) or one per output channel */
  wZeroPoint?: number | readonly number[] | Int32Array;
  /** int32 bias, one per output channel (scale sx·sw[c]) */
  bias?: readonly number[] | Int32Array;
  hazard?: Hazard;
}

function weightOpts(w: Int8Array | Uint8Array, o: WeightOptions, rows: number, k: number): Record<string, unknown> {
  const bits = o.bits ?? 8;
  if (bits !== 8 && bits !== 4 && bits !== 2) throw invalidOption('bits', 'one of 8, 4, 2', bits);
  const r: Record<string, unknown> = { bits };
  if (bits === 8) {
    if (w.length !== rows * k) throw lengthError('weights', `${rows * k} elements (${rows} output channels × K ${k})`, w.length);
  } else {
    if (!(w instanceof Uint8Array)) throw invalidOption('weights', `a Uint8Array of packed int${bits} rows`, w);
    const need = rows * packedRowBytes(k, bits);
    if (w.length !== need) throw lengthError('weights', `${need} packed bytes (${rows} rows of ${packedRowBytes(k, bits)})`, w.length);
    r.unsignedWeights = !!o.unsignedWeights;
  }
  if (o.wZeroPoint !== undefined) {
    const z = typeof o.wZeroPoint === 'number' ? [o.wZeroPoint] : Array.from(o.wZeroPoint);
    if (z.length !== 1 && z.length !== rows) throw lengthError('wZeroPoint', `1 or ${rows} zero points`, z.length);
    const [lo, hi] = bits === 8 ? (w instanceof Int8Array ? [-128, 127] : [0, 255])
      : o.unsignedWeights ? [0, (1 << bits) - 1] : [-(1 << (bits - 1)), (1 << (bits - 1)) - 1];
    z.forEach((v, i) => int(`wZeroPoint[${i}]`, v, lo, hi));
    r.wZeroPoint = Int32Array.from(z);
  }
  if (o.bias !== undefined) {
    const b = Array.from(o.bias);
    if (b.length !== rows) throw lengthError('bias', `${rows} int32 values`, b.length);
    b.forEach((v, i) => int(`bias[${i}]`, v, I32_MIN, I32_MAX));
    r.bias = Int32Array.from(b);
  }
  r.hazard = HAZARDS.indexOf(oneOf('hazard', o.hazard ?? 'none', HAZARDS));
  return r;
}

/**
 * int32 GEMM accumulators: `out[i][j] = bias[j] + Σ_k (a[i][k] − aZeroPoint)(w[j][k] − wZeroPoint[j])`.
 * Weights are output-channel major, K contiguous (`w[n][k]`), as an int8 container or packed int4/int2 rows.
 * @param a activations `[m][k]`: Int8Array (int8) or Uint8Array (uint8)
 * @param w weights `[n][k]` (bits 8) or packed rows (bits 4/2)
 * @param opts shape `{m, n, k}`, `aZeroPoint`, and the {@link WeightOptions}
 * @returns the `[m][n]` accumulators (int32, two's-complement wrap on overflow, as hardware)
 * @throws UsageError for mismatched lengths, zero points out of the dtype range, or a hazard the dtypes do not allow
 * @example
 * Array.from(gemm(Int8Array.from([1, 2]), Int8Array.from([3, 4]), { m: 1, n: 1, k: 2 })) // [11]
 */
export function gemm(a: Int8Array | Uint8Array, w: Int8Array | Uint8Array, opts: { m: number; n: number; k: number; aZeroPoint?: number } & WeightOptions): Int32Array {
  byteArray('a', a);
  byteArray('weights', w);
  const m = int('m', opts.m, 1), n = int('n', opts.n, 1), k = int('k', opts.k, 1);
  if (a.length !== m * k) throw lengthError('a', `${m * k} elements (m × k)`, a.length);
  const r = weightOpts(w, opts, n, k);
  r.m = m;
  r.n = n;
  r.k = k;
  r.aZeroPoint = zeroPointFor('aZeroPoint', opts.aZeroPoint ?? 0, a);
  checkHazard(opts.hazard ?? 'none', a, w, opts.bits ?? 8);
  const out = new Int32Array(m * n);
  native().intqGemm(a, w, out, r);
  return out;
}

function checkHazard(h: Hazard, x: Int8Array | Uint8Array, w: Int8Array | Uint8Array, bits: number): void {
  const wS8 = bits < 8 || w instanceof Int8Array;
  if (h === 'a72-int16-pair' && !(x instanceof Int8Array && wS8)) throw invalidOption('hazard', 'a72-int16-pair only with Int8Array activations and int8 weights', h);
  if (h === 'maddubs-sat' && !(x instanceof Uint8Array && wS8)) throw invalidOption('hazard', 'maddubs-sat only with Uint8Array activations and int8 weights', h);
}

/** Shape and attributes of {@link conv2d} (ONNX Conv semantics, NCHW). */
export interface Conv2dOptions extends WeightOptions {
  n?: number;
  c: number;
  h: number;
  w: number;
  oc: number;
  kh: number;
  kw: number;
  groups?: number;
  strides?: readonly [number, number];
  /** [top, left, bottom, right] (ONNX order: begins then ends) */
  pads?: readonly [number, number, number, number];
  dilations?: readonly [number, number];
  xZeroPoint?: number;
}

/**
 * int32 convolution accumulators, NCHW: `x[n][c][h][w]`, weights `[oc][c/groups][kh][kw]` (each output
 * channel's K contiguous, int8 container or packed rows), output `[n][oc][oh][ow]`. Padded taps read the
 * zero point. Depthwise is groups = c.
 * @param x activations (Int8Array or Uint8Array)
 * @param w weights
 * @param opts shape, groups, strides, pads, dilations, zero points, bias, hazard
 * @returns the accumulators and the output size
 * @throws UsageError for an inconsistent shape, lengths or zero points
 * @example
 * conv2d(Int8Array.from([1, 2, 3, 4]), Int8Array.from([1, 1, 1, 1]), { c: 1, h: 2, w: 2, oc: 1, kh: 2, kw: 2 }).out[0] // 10
 */
export function conv2d(x: Int8Array | Uint8Array, w: Int8Array | Uint8Array, opts: Conv2dOptions): { out: Int32Array; oh: number; ow: number } {
  byteArray('x', x);
  byteArray('weights', w);
  const n = int('n', opts.n ?? 1, 1), c = int('c', opts.c, 1), h = int('h', opts.h, 1), wd = int('w', opts.w, 1);
  const oc = int('oc', opts.oc, 1), kh = int('kh', opts.kh, 1), kw = int('kw', opts.kw, 1), g = int('groups', opts.groups ?? 1, 1);
  if (c % g !== 0 || oc % g !== 0) throw invalidOption('groups', `a divisor of c (${c}) and oc (${oc})`, g);
  const [sh, sw] = (opts.strides ?? [1, 1]).map((v, i) => int(`strides[${i}]`, v, 1)) as [number, number];
  const [dh, dw] = (opts.dilations ?? [1, 1]).map((v, i) => int(`dilations[${i}]`, v, 1)) as [number, number];
  const [pt, pl, pb, pr] = (opts.pads ?? [0, 0, 0, 0]).map((v, i) => int(`pads[${i}]`, v, 0)) as [number, number, number, number];
  if (x.length !== n * c * h * wd) throw lengthError('x', `${n * c * h * wd} elements (n·c·h·w)`, x.length);
  const eh = dh * (kh - 1) + 1, ew = dw * (kw - 1) + 1;
  if (h + pt + pb < eh || wd + pl + pr < ew) throw invalidOption('kh, kw', `a dilated kernel that fits the padded input ${h + pt + pb}×${wd + pl + pr}`, `${eh}×${ew}`);
  const oh = Math.floor((h + pt + pb - eh) / sh) + 1, ow = Math.floor((wd + pl + pr - ew) / sw) + 1;
  const k = (c / g) * kh * kw;
  const r = weightOpts(w, opts, oc, k);
  Object.assign(r, { n, c, h, w: wd, oc, kh, kw, groups: g, strideH: sh, strideW: sw, dilationH: dh, dilationW: dw, padTop: pt, padLeft: pl, padBottom: pb, padRight: pr });
  r.xZeroPoint = zeroPointFor('xZeroPoint', opts.xZeroPoint ?? 0, x);
  checkHazard(opts.hazard ?? 'none', x, w, opts.bits ?? 8);
  const out = new Int32Array(n * oc * oh * ow);
  native().intqConv(x, w, out, r);
  return { out, oh, ow };
}

function bitsOf(bits: unknown): 4 | 2 {
  if (bits !== 4 && bits !== 2) throw invalidOption('bits', 'one of 4, 2', bits);
  return bits;
}

function checkRange(values: ArrayLike<number>, bits: 4 | 2, signed: boolean): void {
  const lo = signed ? -(1 << (bits - 1)) : 0, hi = signed ? (1 << (bits - 1)) - 1 : (1 << bits) - 1;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isInteger(v) || v < lo || v > hi) throw invalidOption(`values[${i}]`, `${signed ? '' : 'u'}int${bits} integer ${lo}..${hi}`, v);
  }
}

/**
 * Bytes of one packed weight row of K values (K padded up to a multiple of 8 so rows start on a byte).
 * @param k values per row
 * @param bits 4 or 2
 * @returns bytes per row
 * @throws never
 * @example
 * packedRowBytes(9, 2) // 4
 */
export function packedRowBytes(k: number, bits: 4 | 2): number {
  return (Math.ceil(k / 8) * 8 * bits) / 8;
}

/**
 * Packs a flat tensor in the ONNX INT4/UINT4/INT2/UINT2 layout (low bits first, ceil(n·bits/8) bytes).
 * @param values the values (in range for the type)
 * @param bits 4 or 2
 * @param signed INT4/INT2 (default) or UINT4/UINT2
 * @returns the packed bytes
 * @throws UsageError for a value out of range or bad bits
 * @example
 * Array.from(packInt([1, -2, 7, -8, 3], 4)) // [0xE1, 0x87, 0x03]
 */
export function packInt(values: ArrayLike<number>, bits: 4 | 2, signed = true): Uint8Array {
  const b = bitsOf(bits);
  checkRange(values, b, signed);
  const out = new Uint8Array(Math.ceil((values.length * b) / 8));
  native().intqPack(Int8Array.from(values), b, signed, out);
  return out;
}

/**
 * Unpacks a flat ONNX sub-byte tensor.
 * @param packed the bytes
 * @param count number of values
 * @param bits 4 or 2
 * @param signed INT4/INT2 (default) or UINT4/UINT2
 * @returns the values
 * @throws UsageError when `packed` does not hold exactly ceil(count·bits/8) bytes
 * @example
 * Array.from(unpackInt(Uint8Array.from([0xC9, 0x01]), 5, 2)) // [1, -2, 0, -1, 1]
 */
export function unpackInt(packed: Uint8Array, count: number, bits: 4 | 2, signed = true): Int8Array {
  const b = bitsOf(bits);
  if (!(packed instanceof Uint8Array)) throw invalidOption('packed', 'a Uint8Array', packed);
  int('count', count, 0);
  if (packed.length !== Math.ceil((count * b) / 8)) throw lengthError('packed', `${Math.ceil((count * b) / 8)} bytes for ${count} values`, packed.length);
  const out = new Int8Array(count);
  native().intqUnpack(packed, b, signed, out);
  return out;
}

/**
 * Packs weight rows `[rows][k]` (K contiguous per output channel), each row padded to a multiple of 8 values.
 * @param values rows·k values
 * @param rows output channels
 * @param k reduction length
 * @param bits 4 or 2
 * @param signed INT4/INT2 (default) or UINT4/UINT2
 * @returns rows · packedRowBytes(k, bits) bytes
 * @throws UsageError for a length mismatch or out-of-range value
 * @example
 * packRows([1, 2, 3], 1, 3, 4).length // 4
 */
export function packRows(values: ArrayLike<number>, rows: number, k: number, bits: 4 | 2, signed = true): Uint8Array {
  const b = bitsOf(bits);
  int('rows', rows, 1);
  int('k', k, 1);
  if (values.length !== rows * k) throw lengthError('values', `${rows * k} values (rows × k)`, values.length);
  checkRange(values, b, signed);
  const out = new Uint8Array(rows * packedRowBytes(k, b));
  native().intqPack(Int8Array.from(values), b, signed, out, rows, k);
  return out;
}

/**
 * Unpacks weight rows written by {@link packRows}.
 * @param packed rows · packedRowBytes(k, bits) bytes
 * @param rows output channels
 * @param k reduction length
 * @param bits 4 or 2
 * @param signed INT4/INT2 (default) or UINT4/UINT2
 * @returns rows·k values
 * @throws UsageError for a length mismatch
 * @example
 * Array.from(unpackRows(packRows([1, -2, 3], 1, 3, 4), 1, 3, 4)) // [1, -2, 3]
 */
export function unpackRows(packed: Uint8Array, rows: number, k: number, bits: 4 | 2, signed = true): Int8Array {
  const b = bitsOf(bits);
  if (!(packed instanceof Uint8Array)) throw invalidOption('packed', 'a Uint8Array', packed);
  int('rows', rows, 1);
  int('k', k, 1);
  if (packed.length !== rows * packedRowBytes(k, b)) throw lengthError('packed', `${rows * packedRowBytes(k, b)} bytes`, packed.length);
  const out = new Int8Array(rows * k);
  native().intqUnpack(packed, b, signed, out, rows, k);
  return out;
}

/** Options of {@link quantize}. */
export interface QuantizeOptions {
  /** the stack whose rounding to use, or give `mode` directly */
  variant?: Variant;
  mode?: QuantizeMode;
  scale: number;
  zeroPoint?: number;
  qmin?: number;
  qmax?: number;
}

/**
 * Float → integer quantize: `sat(round(x / s) + z)` with the stack's rounding (RNE divide for ONNX/ORT/TRT,
 * half-away divide for TFLite, RNE of x·(1/s) for XNNPACK). NaN maps to qmin.
 * @param x float32 values
 * @param opts variant or mode, scale > 0, zero point, clamp range (default −128..127)
 * @returns the codes
 * @throws UsageError for a non-positive scale, zero point outside qmin..qmax, unknown variant/mode
 * @example
 * Array.from(quantize(Float32Array.from([-2.5, 0.5, 2.5]), { variant: 'ort-mlas', scale: 1 })) // [-2, 0, 2]
 */
export function quantize(x: Float32Array, opts: QuantizeOptions): Int32Array {
  if (!(x instanceof Float32Array)) throw invalidOption('x', 'a Float32Array', x);
  const mode = opts.mode !== undefined ? oneOf('mode', opts.mode, QUANTIZE_MODES) : QUANTIZE_MODE_OF[oneOf('variant', opts.variant, VARIANTS)];
  const s = positiveScale('scale', opts.scale);
  const qmin = int('qmin', opts.qmin ?? -128, I32_MIN, I32_MAX), qmax = int('qmax', opts.qmax ?? 127, qmin, I32_MAX);
  const z = int('zeroPoint', opts.zeroPoint ?? 0, qmin, qmax);
  const out = new Int32Array(x.length);
  native().intqQuantize(x, out, QUANTIZE_MODES.indexOf(mode), s, z, qmin, qmax);
  return out;
}

/**
 * Dequantize: fl32(fl32(q − z) · s) (ONNX DequantizeLinear).
 * @param q codes
 * @param scale finite scale
 * @param zeroPoint zero point
 * @returns float32 values
 * @throws UsageError for a non-finite scale
 * @example
 * Array.from(dequantize(Int32Array.from([3]), 0.5, 1)) // [1]
 */
export function dequantize(q: Int32Array, scale: number, zeroPoint = 0): Float32Array {
  int32Array('q', q);
  num('scale', scale);
  int('zeroPoint', zeroPoint, I32_MIN, I32_MAX);
  const out = new Float32Array(q.length);
  native().intqDequantize(q, out, scale, zeroPoint);
  return out;
}

/** Quantization parameters of {@link qadd}. */
export interface AddOptions {
  variant: 'ort-mlas' | 'tflite-double' | 'tflite-single' | 'xnnpack-fp32' | 'xnnpack-rndnu' | 'onnx-ref';
  sa: number;
  sb: number;
  sy: number;
  za?: number;
  zb?: number;
  zy?: number;
  qmin?: number;
  qmax?: number;
}

/**
 * Quantized element-wise add of equal-length code arrays (ORT QLinearAdd, TFLite ADD, XNNPACK vadd, ONNX float
 * definition).
 * @param a codes of A
 * @param b codes of B (same length)
 * @param opts variant, scales, zero points, clamp range
 * @returns output codes
 * @throws UsageError for a length mismatch, a bad scale or an unsupported variant
 * @example
 * Array.from(qadd(Int32Array.from([1]), Int32Array.from([2]), { variant: 'onnx-ref', sa: 1, sb: 1, sy: 1 })) // [3]
 */
export function qadd(a: Int32Array, b: Int32Array, opts: AddOptions): Int32Array {
  int32Array('a', a);
  int32Array('b', b);
  if (a.length !== b.length) throw lengthError('b', `${a.length} values (the length of a)`, b.length);
  const variant = oneOf('variant', opts.variant, ['ort-mlas', 'tflite-double', 'tflite-single', 'xnnpack-fp32', 'xnnpack-rndnu', 'onnx-ref'] as const);
  const qmin = int('qmin', opts.qmin ?? -128, -32768, 65535), qmax = int('qmax', opts.qmax ?? 127, qmin, 65535);
  const p = {
    sa: positiveScale('sa', opts.sa), sb: positiveScale('sb', opts.sb), sy: positiveScale('sy', opts.sy),
    za: int('za', opts.za ?? 0, I32_MIN, I32_MAX), zb: int('zb', opts.zb ?? 0, I32_MIN, I32_MAX), zy: int('zy', opts.zy ?? 0, I32_MIN, I32_MAX), qmin, qmax,
  };
  const out = new Int32Array(a.length);
  native().intqAdd(variant, a, b, out, p);
  return out;
}

/**
 * Global average pooling / MEAN over `image` elements per channel (x laid out `[channels][image]`).
 * @param x codes
 * @param opts variant (ort-mlas, tflite-double, tflite-single), channels, image, scales, zero points, clamp
 * @returns one code per channel
 * @throws UsageError for a bad shape, scale or variant
 * @example
 * Array.from(globalAvgPool(Int32Array.from([1, 2]), { variant: 'ort-mlas', channels: 1, image: 2, sx: 1, sy: 1 })) // [2]
 */
export function globalAvgPool(x: Int32Array, opts: { variant: 'ort-mlas' | 'tflite-double' | 'tflite-single'; channels: number; image: number; sx: number; sy: number; zx?: number; zy?: number; qmin?: number; qmax?: number }): Int32Array {
  int32Array('x', x);
  const variant = oneOf('variant', opts.variant, ['ort-mlas', 'tflite-double', 'tflite-single'] as const);
  const channels = int('channels', opts.channels, 1), image = int('image', opts.image, 1, 0xffffff);
  if (x.length !== channels * image) throw lengthError('x', `${channels * image} values (channels × image)`, x.length);
  const qmin = int('qmin', opts.qmin ?? -128, -32768, 65535), qmax = int('qmax', opts.qmax ?? 127, qmin, 65535);
  const p = { channels, image, sx: positiveScale('sx', opts.sx), sy: positiveScale('sy', opts.sy), zx: int('zx', opts.zx ?? 0, -32768, 65535), zy: int('zy', opts.zy ?? 0, -32768, 65535), qmin, qmax };
  const out = new Int32Array(channels);
  native().intqGlobalAvgPool(variant, x, out, p);
  return out;
}

/**
 * TFLite reference AveragePool (int8, same scale in and out): each window's sum over its in-bounds taps
 * divided by their count, rounded half away from zero, then clamped. x is NCHW.
 * @param x codes `[n][c][h][w]`
 * @param opts shape, kernel, strides, pads ([top, left, bottom, right], each smaller than the kernel), clamp
 * @returns `{ out, oh, ow }`
 * @throws UsageError for an inconsistent shape or pads
 * @example
 * Array.from(avgPoolTflite(Int32Array.from([2, 3, -2, -3]), { c: 1, h: 2, w: 2, kh: 1, kw: 2 }).out) // [3, -3]
 */
export function avgPoolTflite(x: Int32Array, opts: { n?: number; c: number; h: number; w: number; kh: number; kw: number; strides?: readonly [number, number]; pads?: readonly [number, number, number, number]; qmin?: number; qmax?: number }): { out: Int32Array; oh: number; ow: number } {
  int32Array('x', x);
  const n = int('n', opts.n ?? 1, 1), c = int('c', opts.c, 1), h = int('h', opts.h, 1), w = int('w', opts.w, 1);
  const kh = int('kh', opts.kh, 1), kw = int('kw', opts.kw, 1);
  const [sh, sw] = (opts.strides ?? [1, 1]).map((v, i) => int(`strides[${i}]`, v, 1)) as [number, number];
  const [pt, pl, pb, pr] = (opts.pads ?? [0, 0, 0, 0]).map((v, i) => int(`pads[${i}]`, v, 0, (i % 2 === 0 ? kh : kw) - 1)) as [number, number, number, number];
  if (x.length !== n * c * h * w) throw lengthError('x', `${n * c * h * w} values (n·c·h·w)`, x.length);
  if (h + pt + pb < kh || w + pl + pr < kw) throw invalidOption('kh, kw', `a kernel within the padded input ${h + pt + pb}×${w + pl + pr}`, `${kh}×${kw}`);
  const qmin = int('qmin', opts.qmin ?? -128, -32768, 65535), qmax = int('qmax', opts.qmax ?? 127, qmin, 65535);
  const oh = Math.floor((h + pt + pb - kh) / sh) + 1, ow = Math.floor((w + pl + pr - kw) / sw) + 1;
  const out = new Int32Array(n * c * oh * ow);
  native().intqAvgPoolTflite(x, out, { n, c, h, w, kh, kw, strideH: sh, strideW: sw, padTop: pt, padLeft: pl, padBottom: pb, padRight: pr, qmin, qmax });
  return { out, oh, ow };
}
