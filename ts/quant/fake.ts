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
 *
 * Scales are per tensor (length 1) or per output channel (length = shape[0], axis 0).
 */
import { UsageError, invalidOption } from '../util/errors.ts';
import { Tensor } from '../tensor/tensor.ts';
import { fmtShape } from '../tensor/shape.ts';
import { record } from '../autograd/graph.ts';

/** torch.finfo(torch.float32).eps: the smallest scale an observer or LSQ step may take. */
export const EPS_F32 = 1.1920928955078125e-7;

const fround = Math.fround;

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
  if (!(qmin <= qmax)) throw invalidOption('qmin..qmax', 'qmin <= qmax', `${qmin}..${qmax}`);
  const inner = channelsOf(x, sc.length, 'fakeQuantize');
  const xd = x.contiguous().data;
  const n = xd.length;
  const out = new Float32Array(n);
  const mask = new Uint8Array(n);
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
      else mask[i] = 1;
      out[i] = q * s;
    }
  }
  return record('fakeQuantize', [x], Tensor.from(out, x.shape), (g) => {
    const gd = g.contiguous().data;
    const gx = new Float32Array(n);
    for (let i = 0; i < n; i++) if (mask[i]) gx[i] = gd[i]!;
    return [Tensor.from(gx, x.shape)];
  });
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
  if (!(s instanceof Tensor)) throw invalidOption('s', 'a scale Tensor', s);
  const sc = s.contiguous().data;
  const y = fakeQuantize(x, sc, qmin, qmax);
  y.gradFn = null;
  const inner = channelsOf(x, sc.length, 'lsqQuantize');
  const xd = x.contiguous().data;
  const yd = y.data;
  const scales = Float32Array.from(sc);
  return record('lsqQuantize', [x, s], y, (g) => {
    const gd = g.contiguous().data;
    const n = xd.length;
    const gx = new Float32Array(n);
    const gs = new Float64Array(scales.length);
    for (let c = 0, base = 0; base < n; c++, base += inner) {
      const inv = fround(1 / scales[c]!);
      let acc = 0;
      for (let i = base; i < base + inner; i++) {
        const gi = gd[i]!;
        const q = rint(fround(xd[i]! * inv));
        if (q < qmin) acc += gi * qmin;
        else if (q > qmax) acc += gi * qmax;
        else {
          gx[i] = gi;
          acc += fround(fround(gi * fround(yd[i]! - xd[i]!)) * inv);
        }
      }
      gs[c] = acc * gradFactor;
    }
    return [Tensor.from(gx, x.shape), Tensor.from(Float32Array.from(gs), s.shape)];
  });
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
    let ga = 0;
    for (let i = 0; i < n; i++) {
      const w = where[i];
      if (w === 0) gx[i] = gd[i]!;
      else if (w === 1) ga += gd[i]!;
      else ga -= gd[i]!;
    }
    return [Tensor.from(gx, x.shape), Tensor.from(Float32Array.of(ga), alpha.shape)];
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
