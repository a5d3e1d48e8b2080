/**
 * Typed contract of the QAT fake-quant kernels in the addon (native/binding/fake_quant.cc,
 * native/include/qrb/fake_quant.h). float32, contiguous; scales per tensor (length 1) or per channel of
 * axis 0. Every call is synchronous and threaded over the float engine's threads (OMP_NUM_THREADS).
 * Arithmetic is bit for bit that of the TS loops in ts/quant/fake.ts (their reference twins), reductions
 * included (one fixed block / lane order, see {@link FQ_BLOCK}). Use the checked functions of
 * ts/quant/fake.ts rather than these directly.
 */

/** Reduction order shared with the native kernels: blocks of FQ_BLOCK elements per channel, FQ_LANES double lanes. */
export const FQ_BLOCK = 4096;
/** @see FQ_BLOCK */
export const FQ_LANES = 8;

/** PACT's lower clip: 0 never, 1 always, 2 when some x < 0. */
export type PactLowCode = 0 | 1 | 2;

export interface FakeQuantNative {
  /** y = fl(clamp(nearbyint(fl(x·fl(1/s))), qmin, qmax)·s); mask (optional) = 1 inside [qmin, qmax]. */
  f32FakeQuant(x: Float32Array, scale: Float32Array, qmin: number, qmax: number, y: Float32Array, mask: Uint8Array | null): void;
  /** gx = mask ? g : 0. */
  f32FakeQuantBackward(g: Float32Array, mask: Uint8Array, gx: Float32Array): void;
  /** LSQ backward: gx (STE) and gs[c] = fl(gradFactor · Σ_c term) in the fixed order. */
  f32LsqBackward(x: Float32Array, y: Float32Array, g: Float32Array, scale: Float32Array, qmin: number, qmax: number,
    gradFactor: number, gx: Float32Array, gs: Float32Array): void;
  /**
   * PACT clip at α (and −α per `low`) fused with a per-tensor fake-quant; code = mask | clip << 1
   * (clip 0 none, 1 above α, 2 below −α). Returns whether the lower clip ran.
   */
  f32PactFakeQuant(x: Float32Array, alpha: number, low: PactLowCode, scale: number, qmin: number, qmax: number,
    y: Float32Array, code: Uint8Array): boolean;
  /** Backward of f32PactFakeQuant: fills gx, returns dL/dα (float32). */
  f32PactFakeQuantBackward(g: Float32Array, code: Uint8Array, gx: Float32Array): number;
  /** Per-channel min and max of x (lo, hi: `channels` entries; NaN skipped, empty → +inf / −inf). */
  f32MinMax(x: Float32Array, channels: number, lo: Float32Array, hi: Float32Array): void;
  /**
   * DoReFa weights from t = tanh(w): md = [m = max|t|, d = fl(m + fl(1e-5))], wn = fl(t/d), per-channel min / max
   * of wn into lo, hi.
   */
  f32DorefaNormalize(t: Float32Array, channels: number, wn: Float32Array, lo: Float32Array, hi: Float32Array, md: Float32Array): void;
  /** Gradient of w through fake-quant(t/(max|t| + 1e-5)) given g at the fake-quant output and its mask. */
  f32DorefaWeightBackward(g: Float32Array, mask: Uint8Array, t: Float32Array, m: number, d: number, gw: Float32Array): void;
}
