/**
 * The CUDA path (issue 14; native/include/qrb/cuda.h, docs/cuda.md): what the addon was compiled with, whether a GPU
 * is usable, the named condition when it is not, and the int8 / int4 / int2 tensor-core GEMM and convolution with the
 * trt-gpu epilogue (bit-identical to ./intq.ts gemm / conv2d followed by requantize({variant: 'trt-gpu'})).
 *
 * CLIs that take `--device cuda|cpu` call {@link parseDevice} and {@link resolveDevice}: asking for `cuda` where
 * none is usable throws {@link CudaUnavailableError} ("no CUDA device: <reason>"), a QrobustError (exit 1).
 * The float engine's tensors are host-resident: nothing in ts/autograd runs on the GPU yet (docs/cuda.md).
 */
import { QrobustError, UsageError, invalidOption } from '../util/errors.ts';
import { int } from '../util/is.ts';
import { native } from './binding.ts';

/** What the addon reports about CUDA (`qrobust info` shows compiled / archs / device). */
export interface CudaInfo {
  /** built with -DQRB_CUDA=ON (`npm run build:cuda`) */
  compiled: boolean;
  /** compiled SASS targets, e.g. ['sm_75', 'sm_80', 'sm_86', 'sm_87', 'sm_89', 'sm_90'] */
  archs: string[];
  /** a device is usable */
  available: boolean;
  /** device name, or 'none' */
  device: string;
  /** why not available ("no CUDA device: ..."); '' when available */
  reason: string;
  count: number;
  ccMajor: number;
  ccMinor: number;
  smCount: number;
  totalMem: number;
  runtimeVersion: number;
  driverVersion: number;
}

/** Options of the int8 kernels: weights width / signedness, int32 bias, and the trt-gpu epilogue. */
export interface CudaIntOptions {
  /** 8: Int8Array weights; 4 / 2: ONNX-packed rows (Uint8Array, see intq.ts packRows) */
  bits?: 8 | 4 | 2;
  /** packed UINT4 / UINT2 instead of INT4 / INT2 (zero point 0) */
  unsignedWeights?: boolean;
  /** int32 bias per output channel, added to the accumulator (wraps) */
  bias?: Int32Array;
  /** per-channel (or one) float32 multipliers α = fl32(fl32(sx·sw)/sy): the output is then trt-gpu codes */
  alpha?: Float32Array;
  /** per-channel (or one) float32 bias β in output units (trt-gpu) */
  beta?: Float32Array;
  qmin?: number;
  qmax?: number;
}

/** The binding's contract (native/binding/cuda.cc). */
export interface CudaNative {
  cudaInfo(): CudaInfo;
  cudaGemmS8(a: Int8Array, w: Int8Array | Uint8Array, m: number, n: number, k: number, opts: CudaIntOptions): Int32Array;
  cudaConvS8(x: Int8Array, w: Int8Array | Uint8Array, shape: number[], opts: CudaIntOptions): Int32Array;
}

/** Raised when CUDA work is asked for and no device is usable; the message starts with "no CUDA device: ". */
export class CudaUnavailableError extends QrobustError {
  readonly reason: string;
  constructor(reason: string) {
    const r = reason.startsWith('no CUDA device: ') ? reason.slice('no CUDA device: '.length) : reason;
    super(`no CUDA device: ${r}`);
    this.name = 'CudaUnavailableError';
    this.reason = r;
  }
}

const NO_BINDING: CudaInfo = {
  compiled: false, archs: [], available: false, device: 'none',
  reason: 'no CUDA device: this addon has no CUDA binding (rebuild it: npm run build, or npm run build:cuda for the GPU)',
  count: 0, ccMajor: 0, ccMinor: 0, smCount: 0, totalMem: 0, runtimeVersion: 0, driverVersion: 0,
};

function cudaNative(): CudaNative | null {
  const n = native() as unknown as Partial<CudaNative>;
  return typeof n.cudaInfo === 'function' ? (n as CudaNative) : null;
}

/**
 * CUDA build and device facts. Never throws for a missing GPU (only when the addon itself is not built).
 * @example
 * const i = cudaInfo(); i.available || i.reason.startsWith('no CUDA device: ') // true
 */
export function cudaInfo(): CudaInfo {
  const n = cudaNative();
  return n ? n.cudaInfo() : { ...NO_BINDING, archs: [] };
}

/** Whether a CUDA device is usable by this addon. */
export function cudaAvailable(): boolean {
  return cudaInfo().available;
}

/**
 * The device info, or a {@link CudaUnavailableError} naming why there is none.
 * @throws CudaUnavailableError "no CUDA device: CUDA not compiled ..." / "... cudaGetDeviceCount failed with error 35 ..."
 */
export function requireCuda(): CudaInfo {
  const i = cudaInfo();
  if (!i.available) throw new CudaUnavailableError(i.reason || 'unknown reason');
  return i;
}

export const DEVICES = ['cpu', 'cuda'] as const;
export type Device = (typeof DEVICES)[number];

/**
 * Parses a `--device` value.
 * @throws UsageError "Expected one of cpu, cuda for --device but received 'gpu' of type string"
 */
export function parseDevice(value: unknown, option = '--device'): Device {
  if (typeof value !== 'string' || !(DEVICES as readonly string[]).includes(value)) throw invalidOption(option, `one of ${DEVICES.join(', ')}`, value);
  return value as Device;
}

/**
 * Checks that the device can be used: 'cpu' always; 'cuda' needs a usable GPU.
 * @throws CudaUnavailableError for 'cuda' without a device (no silent fallback: the caller decides)
 */
export function resolveDevice(device: Device): Device {
  if (device === 'cuda') requireCuda();
  return device;
}

function checkIntOptions(opts: CudaIntOptions, channels: number, w: Int8Array | Uint8Array, rows: number, k: number): void {
  const bits = opts.bits ?? 8;
  if (bits !== 8 && bits !== 4 && bits !== 2) throw invalidOption('bits', '8, 4 or 2', opts.bits);
  if (bits === 8) {
    if (!(w instanceof Int8Array)) throw invalidOption('weights', 'an Int8Array (symmetric int8 on the GPU)', w);
    if (w.length !== rows * k) throw invalidOption('weights', `${rows * k} elements`, w.length);
  } else {
    if (!(w instanceof Uint8Array)) throw invalidOption('weights', `a Uint8Array of packed ${bits}-bit rows`, w);
    const rb = Math.ceil(Math.ceil(k / 8) * 8 * bits / 8);
    if (w.length !== rows * rb) throw invalidOption('weights', `${rows * rb} packed bytes (${rows} rows of ${rb})`, w.length);
  }
  if (opts.bias !== undefined && (!(opts.bias instanceof Int32Array) || opts.bias.length !== channels))
    throw invalidOption('bias', `an Int32Array of ${channels}`, opts.bias);
  if (opts.alpha !== undefined && (!(opts.alpha instanceof Float32Array) || (opts.alpha.length !== 1 && opts.alpha.length !== channels)))
    throw invalidOption('alpha', `a Float32Array of 1 or ${channels} multipliers`, opts.alpha);
  if (opts.beta !== undefined) {
    if (opts.alpha === undefined) throw new UsageError('beta needs alpha (the trt-gpu epilogue); received beta without alpha');
    if (!(opts.beta instanceof Float32Array) || (opts.beta.length !== 1 && opts.beta.length !== channels))
      throw invalidOption('beta', `a Float32Array of 1 or ${channels} values`, opts.beta);
  }
  const qmin = int('qmin', opts.qmin ?? -128, -(2 ** 31), 2 ** 31 - 1), qmax = int('qmax', opts.qmax ?? 127, -(2 ** 31), 2 ** 31 - 1);
  if (qmin > qmax) throw invalidOption('qmin', `a value <= qmax (${qmax})`, qmin);
}

function call<T>(fn: (n: CudaNative) => T): T {
  const n = cudaNative();
  if (!n) throw new CudaUnavailableError(NO_BINDING.reason);
  const i = n.cudaInfo();
  if (!i.available) throw new CudaUnavailableError(i.reason);
  return fn(n);
}

/**
 * int8 GEMM on tensor cores: `out[m][n] = bias[n] + Σk a[m][k]·w[n][k]` (int32, wraps), or with `alpha` the trt-gpu
 * codes `clamp(RNE(fl32(fl32(acc)·α) + β), qmin, qmax)`. Symmetric only: no zero points.
 * @throws UsageError for bad shapes / lengths / options (checked first); CudaUnavailableError without a GPU
 */
export function cudaGemmS8(a: Int8Array, w: Int8Array | Uint8Array, shape: { m: number; n: number; k: number }, opts: CudaIntOptions = {}): Int32Array {
  if (!(a instanceof Int8Array)) throw invalidOption('a', 'an Int8Array (symmetric int8)', a);
  const m = int('m', shape.m, 1), n = int('n', shape.n, 1), k = int('k', shape.k, 1);
  if (a.length !== m * k) throw invalidOption('a', `${m * k} elements (m·k)`, a.length);
  checkIntOptions(opts, n, w, n, k);
  return call((nat) => nat.cudaGemmS8(a, w, m, n, k, opts));
}

/** Shape of {@link cudaConvS8} (ONNX Conv, NCHW; the same fields as intq.ts conv2d). */
export interface CudaConvShape {
  n?: number; c: number; h: number; w: number; oc: number; kh: number; kw: number; groups?: number;
  strides?: readonly [number, number];
  /** [top, left, bottom, right] */
  pads?: readonly [number, number, number, number];
  dilations?: readonly [number, number];
}

/**
 * int8 convolution on tensor cores (im2col + the GEMM kernel), NCHW, weights [oc][c/groups][kh][kw] (int8 or packed
 * int4 / int2 rows per output channel); output [n][oc][oh][ow] accumulators or trt-gpu codes as {@link cudaGemmS8}.
 * @throws UsageError for a bad shape or option; CudaUnavailableError without a GPU
 */
export function cudaConvS8(x: Int8Array, w: Int8Array | Uint8Array, shape: CudaConvShape, opts: CudaIntOptions = {}): { out: Int32Array; oh: number; ow: number } {
  if (!(x instanceof Int8Array)) throw invalidOption('x', 'an Int8Array (symmetric int8)', x);
  const n = int('n', shape.n ?? 1, 1), c = int('c', shape.c, 1), h = int('h', shape.h, 1), wd = int('w', shape.w, 1);
  const oc = int('oc', shape.oc, 1), kh = int('kh', shape.kh, 1), kw = int('kw', shape.kw, 1), g = int('groups', shape.groups ?? 1, 1);
  if (c % g !== 0 || oc % g !== 0) throw invalidOption('groups', `a divisor of c (${c}) and oc (${oc})`, g);
  const [sh, sw] = (shape.strides ?? [1, 1]).map((v, i) => int(`strides[${i}]`, v, 1)) as [number, number];
  const [dh, dw] = (shape.dilations ?? [1, 1]).map((v, i) => int(`dilations[${i}]`, v, 1)) as [number, number];
  const [pt, pl, pb, pr] = (shape.pads ?? [0, 0, 0, 0]).map((v, i) => int(`pads[${i}]`, v, 0)) as [number, number, number, number];
  if (x.length !== n * c * h * wd) throw invalidOption('x', `${n * c * h * wd} elements (n·c·h·w)`, x.length);
  const eh = dh * (kh - 1) + 1, ew = dw * (kw - 1) + 1;
  if (h + pt + pb < eh || wd + pl + pr < ew) throw invalidOption('kh, kw', `a kernel that fits the padded input (${h + pt + pb}x${wd + pl + pr})`, `${eh}x${ew}`);
  const oh = Math.floor((h + pt + pb - eh) / sh) + 1, ow = Math.floor((wd + pl + pr - ew) / sw) + 1;
  checkIntOptions(opts, oc, w, oc, (c / g) * kh * kw);
  const out = call((nat) => nat.cudaConvS8(x, w, [n, c, h, wd, oc, kh, kw, g, sh, sw, dh, dw, pt, pl, pb, pr], opts));
  return { out, oh, ow };
}
