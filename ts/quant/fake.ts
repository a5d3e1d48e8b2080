/**
 * Fake-quantization primitives with their straight-through gradients, each forward beside its backward
 * (PROTOCOL.md §1). The arithmetic is torch's CPU kernels', in float32:
 *   inv = fl(1 / s);  q = nearbyint(fl(x · inv))  (round half to even);  x̂ = fl(clamp(q, qmin, qmax) · s)
 * so the integer a deployed kernel sees is exactly `clamp(q)` and x̂ = clamp(q)·s bit for bit.
 *
 * - {@link fakeQuantize}: detached scale (DoReFa, PACT, min/max observers); ∂x̂/∂x = 1 where qmin ≤ q ≤ qmax.
 * - {@link lsqQuantize}: learnable scale (torch._fake_quantize_learnable_per_tensor_affine):
 *   ∂x̂/∂s = (x̂ − x)/s inside, qmin or qmax where clipped, times the gradient factor g.
 * - {@link pactClip}: where(x > α, α, x) (and x < −α → −α); ∂/∂α = Σ_{x>α} g − Σ_{x<−α} g (original PACT).
 * - {@link pactQuantize}: PACT's clip and the fake-quant after it in one op (one native pass each way).
 * - {@link dorefaWeightQuantize}: DoReFa's tanh-normalised weight and its fake-quant in one op.
 *
 * Scales are per tensor (length 1) or per output channel (length = shape[0], axis 0).
 *
 * Native and threaded (native/kernels/float/f32-fake-quant.cc) unless the float backend is 'ref': the loops
 * here are the kernels' reference twins and give the same bits, reductions included, because both sum in
 * one fixed order: per channel, blocks of {@link FQ_BLOCK} elements, {@link FQ_LANES} float64 lanes inside
 * a block (element i of the block into lane i mod FQ_LANES), lanes added in order, block sums added in order
 * (test/unit/quant/fake-native.test.ts).
 */
import { UsageError, invalidOption } from '../util/errors.ts';
import { Tensor } from '../tensor/tensor.ts';
import { fmtShape } from '../tensor/shape.ts';
import { isGradEnabled, needsGrad, record } from '../autograd/graph.ts';
import * as ag from '../autograd/index.ts';
import { getFloatBackend } from '../tensor/float-kernels.ts';
import { native } from '../native/binding.ts';
import { FQ_BLOCK, FQ_LANES, type PactLowCode } from '../native/fake-quant.ts';

export { FQ_BLOCK, FQ_LANES };

/** torch.finfo(torch.float32).eps: the smallest scale an observer or LSQ step may take. */
export const EPS_F32 = 1.1920928955078125e-7;

const fround = Math.fround;

let nativeOn = true;

/**
 * Turns the native fake-quant kernels off (the TS loops run) or back on; returns the previous setting. The
 * float backend 'ref' also selects the loops. For tests and benchmarks: both give the same bits.
 * @throws never
 * @example
 * const prev = setFakeQuantNative(false); setFakeQuantNative(prev);
 */
export function setFakeQuantNative(on: boolean): boolean {
  const prev = nativeOn;
  nativeOn = on === true;
  return prev;
}

/** Whether these primitives run the addon's kernels for n elements. */
function useNative(n: number): boolean {
  return n > 0 && nativeOn && getFloatBackend() !== 'ref';
}

/** Sum of the FQ_LANES lanes of one block, in lane order (the fixed reduction order). */
function laneTotal(lanes: Float64Array): number {
  let s = lanes[0]!;
  for (let l = 1; l < FQ_LANES; l++) s += lanes[l]!;
  return s;
}

/** The integer range limit the native kernels accept (|qmin|, |qmax| ≤ 2^20; 16-bit ranges fit). */
const Q_LIMIT = 2 ** 20;

function checkRange(qmin: number, qmax: number): void {
  if (!Number.isInteger(qmin) || !Number.isInteger(qmax) || !(qmin <= qmax) || qmin < -Q_LIMIT || qmax > Q_LIMIT) {
    throw invalidOption('qmin..qmax', `integers with -${Q_LIMIT} <= qmin <= qmax <= ${Q_LIMIT}`, `${qmin}..${qmax}`);
  }
}

/**
 * Round half to even (nearbyint) of a float32 value (|v| < 2^31). NOTE: floor(v + 0.5) instead of Math.round,
 * which V8 runs several times slower in these loops; a rounded −0.x gives +0, as torch's integer.
 */
export function rint(v: number): number {
  const r = Math.floor(v + 0.5);
  return r - v === 0.5 && (r & 1) !== 0 ? r - 1 : r;
}

/**
 * The integer range of a b-bit quantizer: signed [−2^(b−1), 2^(b−1) − 1], unsigned [0, 2^b − 1].
 * @throws UsageError for bits outside 1..16
 * @example
 * qRange(4, true) // { qmin: -8, qmax: 7 }
 */
export function qRange(bits: number, signed: boolean): { qmin: number; qmax: number } {
  if (!Number.isInteger(bits) || bits < 1 || bits > 16) throw invalidOption('bits', 'integer 1..16', bits);
  return signed ? { qmin: -(2 ** (bits - 1)), qmax: 2 ** (bits - 1) - 1 } : { qmin: 0, qmax: 2 ** bits - 1 };
}

/**
 * The symmetric min/max scale of mqbench-paper's observer (float32): m = max(−min(lo, 0), max(hi, 0));
 * unsigned s = m/(qmax − qmin), signed s = m/((qmax − qmin)/2); at least {@link EPS_F32}.
 * @throws never
 * @example
 * minmaxScale(-1, 1, -2, 1, false) // 2/3 in float32
 */
export function minmaxScale(lo: number, hi: number, qmin: number, qmax: number, unsigned: boolean): number {
  const m = Math.max(-Math.min(fround(lo), 0), Math.max(fround(hi), 0));
  const s = unsigned ? fround(m / (qmax - qmin)) : fround(m / ((qmax - qmin) / 2));
  return s > EPS_F32 ? s : EPS_F32;
}

function channelsOf(x: Tensor, n: number, what: string): number {
  if (n === 1) return x.size;
  if (x.ndim < 1 || x.shape[0] !== n) throw new UsageError(`${what}: ${n} per-channel scales for a tensor of shape ${fmtShape(x.shape)} (axis 0 must have ${n})`);
  return x.size / n;
}

function checkScales(scale: Float32Array): void {
  for (let i = 0; i < scale.length; i++) {
    const s = scale[i]!;
    if (!(s > 0) || !Number.isFinite(s)) throw invalidOption(`scale[${i}]`, 'a finite number > 0', s);
  }
}

/**
 * Fake-quantizes with a detached scale; the straight-through gradient passes where the rounded integer lies
 * in [qmin, qmax] and is 0 elsewhere (torch.fake_quantize_per_{tensor,channel}_affine, zero point 0).
 * @param x any tensor (per-channel: axis 0 is the channel)
 * @param scale one scale, or one per channel of axis 0 (values are rounded to float32)
 * @param qmin lowest integer
 * @param qmax highest integer
 * @throws UsageError for non-positive scales, qmin > qmax or a channel count that does not fit
 * @example
 * fakeQuantize(Tensor.from([0.26, -3]), Float32Array.of(0.5), -2, 1).toArray() // [0.5, -1]
 */
export function fakeQuantize(x: Tensor, scale: Float32Array | number, qmin: number, qmax: number): Tensor {
  if (!(x instanceof Tensor)) throw invalidOption('x', 'a Tensor', x);
  const sc = typeof scale === 'number' ? Float32Array.of(scale) : scale;
  checkScales(sc);
  checkRange(qmin, qmax);
  const inner = channelsOf(x, sc.length, 'fakeQuantize');
  const xd = x.contiguous().data;
  const n = xd.length;
  const grad = isGradEnabled() && needsGrad(x);
  if (useNative(n)) {
    const y = Tensor.empty(x.shape);
    const mask = grad ? Buffer.allocUnsafeSlow(n) : null;
    native().f32FakeQuant(xd, sc, qmin, qmax, y.data, mask);
    return record('fakeQuantize', [x], y, (g) => {
      const gx = Tensor.empty(x.shape);
      native().f32FakeQuantBackward(g.contiguous().data, mask!, gx.data);
      return [gx];
    });
  }
  const out = new Float32Array(n);
  const mask = grad ? new Uint8Array(n) : null;
  fakeQuantizeLoop(xd, sc, inner, qmin, qmax, out, mask);
  return record('fakeQuantize', [x], Tensor.from(out, x.shape), (g) => {
    const gd = g.contiguous().data;
    const gx = new Float32Array(n);
    for (let i = 0; i < n; i++) if (mask![i]) gx[i] = gd[i]!;
    return [Tensor.from(gx, x.shape)];
  });
}

/** The reference loop of fakeQuantize (and of the native f32FakeQuant). */
function fakeQuantizeLoop(xd: Float32Array, sc: Float32Array, inner: number, qmin: number, qmax: number, out: Float32Array, mask: Uint8Array | null): void {
  const n = xd.length;
  for (let c = 0, base = 0; base < n; c++, base += inner) {
    const s = sc[c]!;
    const inv = fround(1 / s);
    const end = base + inner;
    for (let i = base; i < end; i++) {
      const v = fround(xd[i]! * inv);
      // round half to even (see rint); floor(v + 0.5) never yields −0, as torch's integer
      let q = Math.floor(v + 0.5);
      if (q - v === 0.5 && (q & 1) !== 0) q -= 1;
      if (q < qmin) q = qmin;
      else if (q > qmax) q = qmax;
      else if (mask) mask[i] = 1;
      out[i] = q * s;
    }
  }
}

/**
 * The integers of {@link fakeQuantize}: clamp(nearbyint(fl(x · fl(1/s))), qmin, qmax), as deployed.
 * @throws UsageError as {@link fakeQuantize}
 * @example
 * quantizeInt(Tensor.from([0.26, -3]), Float32Array.of(0.5), -2, 1) // Int32Array [1, -2]
 */
export function quantizeInt(x: Tensor, scale: Float32Array | number, qmin: number, qmax: number): Int32Array {
  const sc = typeof scale === 'number' ? Float32Array.of(scale) : scale;
  checkScales(sc);
  const inner = channelsOf(x, sc.length, 'quantizeInt');
  const xd = x.contiguous().data;
  const out = new Int32Array(xd.length);
  for (let c = 0, base = 0; base < xd.length; c++, base += inner) {
    const inv = fround(1 / sc[c]!);
    for (let i = base; i < base + inner; i++) out[i] = Math.min(qmax, Math.max(qmin, rint(fround(xd[i]! * inv))));
  }
  return out;
}

/**
 * LSQ fake quantization with a learnable scale tensor `s` (one value, or one per channel of axis 0).
 * Forward as {@link fakeQuantize}. Backward (torch's learnable fake-quant kernel, zero point 0):
 * ∂x̂/∂x = 1 inside [qmin, qmax] else 0; ∂x̂/∂s = (x̂ − x)·fl(1/s) inside, qmin below, qmax above; the scale
 * gradient is multiplied by `gradFactor` (LSQ's g = 1/√(N·Q_P)) and summed per scale.
 * @param x input
 * @param s the learnable scale (requiresGrad), values > 0
 * @param qmin lowest integer
 * @param qmax highest integer
 * @param gradFactor multiplies the scale gradient
 * @throws UsageError as {@link fakeQuantize}
 * @example
 * lsqQuantize(Tensor.from([0.3]), Tensor.from([0.25]), -2, 1, 1).item() // 0.25
 */
export function lsqQuantize(x: Tensor, s: Tensor, qmin: number, qmax: number, gradFactor: number): Tensor {
  if (!(x instanceof Tensor)) throw invalidOption('x', 'a Tensor', x);
  if (!(s instanceof Tensor)) throw invalidOption('s', 'a scale Tensor', s);
  if (typeof gradFactor !== 'number' || Number.isNaN(gradFactor)) throw invalidOption('gradFactor', 'a number', gradFactor);
  const scales = Float32Array.from(s.contiguous().data);
  checkScales(scales);
  checkRange(qmin, qmax);
  const inner = channelsOf(x, scales.length, 'lsqQuantize');
  const xd = x.contiguous().data;
  const n = xd.length;
  if (useNative(n)) {
    const y = Tensor.empty(x.shape);
    native().f32FakeQuant(xd, scales, qmin, qmax, y.data, null);
    const yd = y.data;
    return record('lsqQuantize', [x, s], y, (g) => {
      const gx = Tensor.empty(x.shape);
      const gs = new Float32Array(scales.length);
      native().f32LsqBackward(xd, yd, g.contiguous().data, scales, qmin, qmax, gradFactor, gx.data, gs);
      return [gx, Tensor.from(gs, s.shape)];
    });
  }
  const yd = new Float32Array(n);
  fakeQuantizeLoop(xd, scales, inner, qmin, qmax, yd, null);
  return record('lsqQuantize', [x, s], Tensor.from(yd, x.shape), (g) => {
    const gx = new Float32Array(n);
    const gs = new Float32Array(scales.length);
    lsqBackwardLoop(xd, yd, g.contiguous().data, scales, inner, qmin, qmax, gradFactor, gx, gs);
    return [Tensor.from(gx, x.shape), Tensor.from(gs, s.shape)];
  });
}

/** The reference loop of LSQ's backward (and of the native f32LsqBackward), in the fixed summation order. */
function lsqBackwardLoop(xd: Float32Array, yd: Float32Array, gd: Float32Array, scales: Float32Array, inner: number,
  qmin: number, qmax: number, gradFactor: number, gx: Float32Array, gs: Float32Array): void {
  const n = xd.length;
  const lanes = new Float64Array(FQ_LANES);
  for (let c = 0, base = 0; base < n; c++, base += inner) {
    const inv = fround(1 / scales[c]!);
    const end = base + inner;
    let total = 0;
    for (let b0 = base; b0 < end; b0 += FQ_BLOCK) {
      const e = Math.min(end, b0 + FQ_BLOCK);
      lanes.fill(0);
      for (let i = b0; i < e; i++) {
        const gi = gd[i]!;
        const q = rint(fround(xd[i]! * inv));
        let t: number;
        if (q < qmin) t = gi * qmin;
        else if (q > qmax) t = gi * qmax;
        else {
          gx[i] = gi;
          t = fround(fround(gi * fround(yd[i]! - xd[i]!)) * inv);
        }
        lanes[(i - b0) % FQ_LANES]! += t;
      }
      total += laneTotal(lanes);
    }
    gs[c] = total * gradFactor;
  }
}

/**
 * PACT's clipping: where(x > α, α, x), and where(x < −α, −α, x) too when `low` (or, with `low` = 'auto', when
 * some value is still negative after the upper clip, as mqbench-paper decides per batch). α must be ≥ 0 (the
 * caller takes |α| first). Gradients: x gets g where it was not clipped; α gets Σ_{x>α} g − Σ_{x<−α} g.
 * @param x input
 * @param alpha a one-element tensor (learnable)
 * @param low also clip below −α: true, false, or 'auto'
 * @throws UsageError when alpha is not a one-element tensor ≥ 0
 * @example
 * pactClip(Tensor.from([-8, 1, 9]), Tensor.from([6]), true).toArray() // [-6, 1, 6]
 */
export function pactClip(x: Tensor, alpha: Tensor, low: boolean | 'auto'): Tensor {
  if (!(alpha instanceof Tensor) || alpha.size !== 1) throw invalidOption('alpha', 'a one-element Tensor', alpha);
  const a = alpha.contiguous().data[0]!;
  if (!(a >= 0)) throw invalidOption('alpha', 'a value >= 0 (take |alpha| first)', a);
  const xd = x.contiguous().data;
  const n = xd.length;
  const out = new Float32Array(n);
  // 0 inside, 1 clipped above, 2 clipped below
  const where = new Uint8Array(n);
  let mn = Infinity;
  for (let i = 0; i < n; i++) {
    let v = xd[i]!;
    if (v > a) {
      v = a;
      where[i] = 1;
    }
    out[i] = v;
    if (v < mn) mn = v;
  }
  if (low === true || (low === 'auto' && mn < 0)) {
    const na = -a;
    for (let i = 0; i < n; i++) {
      if (out[i]! < na) {
        out[i] = na;
        where[i] = 2;
      }
    }
  }
  return record('pactClip', [x, alpha], Tensor.from(out, x.shape), (g) => {
    const gd = g.contiguous().data;
    const gx = new Float32Array(n);
    const lanes = new Float64Array(FQ_LANES);
    let ga = 0;
    for (let b0 = 0; b0 < n; b0 += FQ_BLOCK) {
      const e = Math.min(n, b0 + FQ_BLOCK);
      lanes.fill(0);
      for (let i = b0; i < e; i++) {
        const w = where[i];
        if (w === 0) gx[i] = gd[i]!;
        else if (w === 1) lanes[(i - b0) % FQ_LANES]! += gd[i]!;
        else lanes[(i - b0) % FQ_LANES]! -= gd[i]!;
      }
      ga += laneTotal(lanes);
    }
    return [Tensor.from(gx, x.shape), Tensor.from(Float32Array.of(ga), alpha.shape)];
  });
}

/**
 * PACT's clip followed by a per-tensor fake-quant, as one op: the same values and gradients as
 * `fakeQuantize(pactClip(x, alpha, low), scale, qmin, qmax)` (which is what it runs with the float backend
 * 'ref'), in one native pass forward and one backward. α's gradient is Σ_{x>α} g − Σ_{x<−α} g of the
 * gradient after the fake-quant's straight-through mask.
 * @param x input
 * @param alpha a one-element tensor ≥ 0 (learnable)
 * @param low also clip below −α: true, false, or 'auto' (when some value is negative)
 * @param scale the (detached) scale
 * @param qmin lowest integer
 * @param qmax highest integer
 * @throws UsageError as {@link pactClip} and {@link fakeQuantize}
 * @example
 * pactQuantize(Tensor.from([-8, 1, 9]), Tensor.from([6]), 'auto', 1, -8, 7).toArray() // [-6, 1, 6]
 */
export function pactQuantize(x: Tensor, alpha: Tensor, low: boolean | 'auto', scale: number, qmin: number, qmax: number): Tensor {
  if (!(x instanceof Tensor)) throw invalidOption('x', 'a Tensor', x);
  if (!(alpha instanceof Tensor) || alpha.size !== 1) throw invalidOption('alpha', 'a one-element Tensor', alpha);
  const a = alpha.contiguous().data[0]!;
  if (!(a >= 0) || !Number.isFinite(a)) throw invalidOption('alpha', 'a finite value >= 0 (take |alpha| first)', a);
  if (low !== true && low !== false && low !== 'auto') throw invalidOption('low', "true, false or 'auto'", low);
  checkScales(Float32Array.of(scale));
  checkRange(qmin, qmax);
  const xd = x.contiguous().data;
  const n = xd.length;
  if (!useNative(n)) return fakeQuantize(pactClip(x, alpha, low), scale, qmin, qmax);
  const y = Tensor.empty(x.shape);
  const code = Buffer.allocUnsafeSlow(n);
  const lowCode: PactLowCode = low === 'auto' ? 2 : low ? 1 : 0;
  native().f32PactFakeQuant(xd, a, lowCode, fround(scale), qmin, qmax, y.data, code);
  return record('pactQuantize', [x, alpha], y, (g) => {
    const gx = Tensor.empty(x.shape);
    const ga = native().f32PactFakeQuantBackward(g.contiguous().data, code, gx.data);
    return [gx, Tensor.from(Float32Array.of(ga), alpha.shape)];
  });
}

/**
 * DoReFa's weight fake-quant as one op (DoReFa and PACT weights): w̃ = tanh(w)/(max|tanh w| + 1e-5) with
 * autograd through tanh, abs, max (ties share) and the division; signed scales from the min/max of w̃ (per
 * tensor, or per channel of axis 0), written into `scaleOut`; x̂ = fakeQuantize(w̃, scales) with the
 * straight-through rounding. Native: tanh with Math.tanh (the reference's), the rest in native passes (one op
 * on the tape); otherwise the chain of ts/autograd ops it replaces, with the same bits.
 * @param w the weight (axis 0: output channels)
 * @param channels 1 (per tensor) or w.shape[0] (per channel)
 * @param qmin lowest integer (signed grid)
 * @param qmax highest integer
 * @param scaleOut receives the `channels` scales used
 * @throws UsageError when `channels` does not fit w or scaleOut, or the range is bad
 * @example
 * const s = new Float32Array(1); dorefaWeightQuantize(Tensor.from([-2, 0.1, 3]), 1, -8, 7, s).toArray().length // 3
 */
export function dorefaWeightQuantize(w: Tensor, channels: number, qmin: number, qmax: number, scaleOut: Float32Array): Tensor {
  if (!(w instanceof Tensor)) throw invalidOption('w', 'a Tensor', w);
  if (!Number.isInteger(channels) || channels < 1) throw invalidOption('channels', 'integer >= 1', channels);
  if (!(scaleOut instanceof Float32Array) || scaleOut.length !== channels) throw invalidOption('scaleOut', `a Float32Array of ${channels} values`, scaleOut);
  checkRange(qmin, qmax);
  channelsOf(w, channels, 'dorefaWeightQuantize');
  const wd = w.contiguous().data;
  const n = wd.length;
  if (!useNative(n)) {
    const t = ag.tanh(w);
    const wn = ag.div(t, ag.add(ag.max(ag.abs(t)), 1e-5));
    const { lo, hi } = minMax(wn, channels);
    for (let c = 0; c < channels; c++) scaleOut[c] = minmaxScale(lo[c]!, hi[c]!, qmin, qmax, false);
    return fakeQuantize(wn, Float32Array.from(scaleOut), qmin, qmax);
  }
  const t = new Float32Array(n);
  for (let i = 0; i < n; i++) t[i] = Math.tanh(wd[i]!);
  const wn = new Float32Array(n);
  const lo = new Float32Array(channels);
  const hi = new Float32Array(channels);
  const md = new Float32Array(2);
  native().f32DorefaNormalize(t, channels, wn, lo, hi, md);
  for (let c = 0; c < channels; c++) scaleOut[c] = minmaxScale(lo[c]!, hi[c]!, qmin, qmax, false);
  const y = Tensor.empty(w.shape);
  const mask = isGradEnabled() && needsGrad(w) ? Buffer.allocUnsafeSlow(n) : null;
  native().f32FakeQuant(wn, Float32Array.from(scaleOut), qmin, qmax, y.data, mask);
  return record('dorefaWeightQuantize', [w], y, (g) => {
    const gw = Tensor.empty(w.shape);
    native().f32DorefaWeightBackward(g.contiguous().data, mask!, t, md[0]!, md[1]!, gw.data);
    return [gw];
  });
}

/**
 * Minimum and maximum of a tensor (per tensor, or per channel of axis 0 with `channels` > 1).
 * @throws UsageError when axis 0 does not have `channels` entries
 * @example
 * minMax(Tensor.from([3, -1, 2])) // { lo: Float32Array [-1], hi: Float32Array [3] }
 */
export function minMax(x: Tensor, channels = 1): { lo: Float32Array; hi: Float32Array } {
  const inner = channelsOf(x, channels, 'minMax');
  const xd = x.contiguous().data;
  const lo = new Float32Array(channels).fill(Infinity);
  const hi = new Float32Array(channels).fill(-Infinity);
  if (useNative(xd.length)) {
    native().f32MinMax(xd, channels, lo, hi);
    return { lo, hi };
  }
  for (let c = 0, base = 0; c < channels; c++, base += inner) {
    let l = Infinity;
    let h = -Infinity;
    for (let i = base; i < base + inner; i++) {
      const v = xd[i]!;
      if (v < l) l = v;
      if (v > h) h = v;
    }
    lo[c] = l;
    hi[c] = h;
  }
  return { lo, hi };
}

/**
 * Mean of |x| (per tensor, or per channel of axis 0), in float64 then rounded to float32.
 * @throws UsageError when axis 0 does not have `channels` entries
 * @example
 * meanAbs(Tensor.from([-1, 3]))[0] // 2
 */
export function meanAbs(x: Tensor, channels = 1): Float32Array {
  const inner = channelsOf(x, channels, 'meanAbs');
  const xd = x.contiguous().data;
  const out = new Float32Array(channels);
  for (let c = 0, base = 0; c < channels; c++, base += inner) {
    let s = 0;
    for (let i = base; i < base + inner; i++) s += Math.abs(xd[i]!);
    out[c] = s / inner;
  }
  return out;
}
