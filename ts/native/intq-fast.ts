/**
 * Fast integer kernels (issue 5; native/include/qrb/intq_fast.h): int8 GEMM and convolution with packed
 * weights (int8, or ONNX-packed int4 / int2 rows unpacked into the int8 panels), run-time ISA dispatch
 * (AVX-512 VNNI, AVX2, NEON sdot / mlal, scalar) and the requantization epilogue of every variant,
 * bit-identical to the reference kernels of ./intq.ts (intqGemm / intqConv + intqRequantize).
 *
 * `out` picks the epilogue: an Int32Array receives the int32 accumulators; an Int8Array / Uint8Array receives
 * requantized codes, with the options of {@link NativeRequantOptions} (variant, multipliers | sx, sw, sy,
 * zeroPoint, qmin, qmax, depthwiseUpward, beta). Calls are synchronous and use `threads` pool threads
 * (0 = the default set by intqFastSetThreads). Docs: docs/kernels.md. Bench: npm run bench:kernels.
 */
import { invalidOption } from '../util/errors.ts';
import { int } from '../util/is.ts';
import type { NativeRequantOptions } from './intq.ts';
import { native } from './binding.ts';

/** Opaque packed weights (freed by the garbage collector). */
export interface IntqFastPacked {
  readonly kind: 'gemm' | 'conv' | 'gemv';
  readonly handle: unknown;
}

/** Weight options shared with intqGemm: `bits` 8 (Int8Array / Uint8Array) or 4 / 2 (ONNX-packed Uint8Array rows). */
export interface IntqFastWeightOptions {
  bits?: 8 | 4 | 2;
  unsignedWeights?: boolean;
  wZeroPoint?: Int32Array;
}

export interface IntqFastEpilogueOptions extends Partial<Omit<NativeRequantOptions, 'inner'>> {
  bias?: Int32Array;
  threads?: number;
}

export interface IntqFastConvShape {
  n?: number; c: number; h: number; w: number; oc: number; kh: number; kw: number; groups?: number;
  strideH?: number; strideW?: number; dilationH?: number; dilationW?: number;
  padTop?: number; padLeft?: number; padBottom?: number; padRight?: number;
}

export interface IntqFastKernelInfo {
  /** the kernel the next call uses (honours setIsaCap / QRB_ISA) */
  gemm: string;
  /** batch-1 GEMV kernels for 4- and 2-bit weights */
  gemv4: string;
  gemv2: string;
  all: { name: string; available: boolean }[];
  threads: number;
}

/** Typed contract of native/binding/intq_fast.cc. */
export interface IntqFastNative {
  intqFastPackGemm(weights: Int8Array | Uint8Array, opts: IntqFastWeightOptions & { n: number; k: number }): IntqFastPacked;
  intqFastGemm(packed: IntqFastPacked, a: Int8Array | Uint8Array, out: Int32Array | Int8Array | Uint8Array,
    opts: IntqFastEpilogueOptions & { m: number; aZeroPoint?: number }): void;
  intqFastPackConv(weights: Int8Array | Uint8Array, opts: IntqFastWeightOptions & Omit<IntqFastConvShape, 'h' | 'w'> & { h?: number; w?: number }): IntqFastPacked;
  intqFastConv(packed: IntqFastPacked, x: Int8Array | Uint8Array, out: Int32Array | Int8Array | Uint8Array,
    opts: IntqFastEpilogueOptions & IntqFastConvShape & { xZeroPoint?: number }): void;
  /** Batch-1 GEMV weights [n][k]: bits 4 / 2 stay packed (unpacked in registers), bits 8 use the GEMM path. */
  intqFastPackGemv(weights: Int8Array | Uint8Array, opts: IntqFastWeightOptions & { n: number; k: number }): IntqFastPacked;
  intqFastGemv(packed: IntqFastPacked, x: Int8Array | Uint8Array, out: Int32Array | Int8Array | Uint8Array,
    opts: IntqFastEpilogueOptions & { xZeroPoint?: number }): void;
  intqFastKernels(): IntqFastKernelInfo;
  intqFastSetThreads(n: number): number;
}

/**
 * Sets the default thread count of the fast integer kernels.
 * @param n threads, 1..64
 * @returns the count applied
 * @throws UsageError when n is not an integer in 1..64
 * @example
 * setFastThreads(1) // => 1
 */
export function setFastThreads(n: number): number {
  return native().intqFastSetThreads(int('threads', n, 1, 64));
}

/**
 * The fast-kernel dispatch state.
 * @returns the chosen GEMM kernel, every kernel built in, and the default thread count
 * @throws QrobustError when the addon is not built
 * @example
 * typeof fastKernels().gemm // => 'string'
 */
export function fastKernels(): IntqFastKernelInfo {
  return native().intqFastKernels();
}

/**
 * Packs GEMM weights [n][k] once for {@link IntqFastNative.intqFastGemm}.
 * @param weights Int8Array / Uint8Array [n*k] (bits 8) or ONNX-packed rows (bits 4 / 2, Uint8Array)
 * @param n output channels
 * @param k reduction length
 * @param opts bits, unsignedWeights, wZeroPoint (1 or n)
 * @returns the opaque packed weights
 * @throws UsageError for non-positive n or k; Error from native naming the argument for a wrong length
 * @example
 * const p = packGemmWeights(new Int8Array([1, 2, 3, 4, 5, 6]), 2, 3);
 * p.kind // => 'gemm'
 */
export function packGemmWeights(weights: Int8Array | Uint8Array, n: number, k: number, opts: IntqFastWeightOptions = {}): IntqFastPacked {
  if (!(weights instanceof Int8Array || weights instanceof Uint8Array)) throw invalidOption('weights', 'an Int8Array or Uint8Array', weights);
  return native().intqFastPackGemm(weights, { ...opts, n: int('n', n, 1), k: int('k', k, 1) });
}
