/**
 * Norms, projections and the perturbation check shared by every attack.
 *
 * All functions work on flat NCHW batches: `n` samples of `d` floats each, sample i at [i*d, (i+1)*d).
 * Norms are per sample (over C*H*W), as foolbox / ART / AutoAttack flatten them. Arithmetic runs in
 * float64 and is rounded to float32 once when stored, so the float tolerance of {@link normTolerance}
 * only has to absorb one rounding per element.
 *
 * Projections (all in place on `adv`, relative to the clean `x0`):
 * - ℓ∞: x0 + clip(adv − x0, −ε, ε)                                  (foolbox LinfPGD)
 * - ℓ2: x0 + δ·min(1, ε / max(‖δ‖₂, 1e-12))                         (foolbox clip_lp_norms)
 * - ℓ1 rescale: x0 + δ·min(1, ε / (‖δ‖₁ + 1e-7))                     (ART's default "suboptimal" projection)
 * - ℓ1 exact: Euclidean projection onto the ℓ1 ball by sorting (Duchi et al. 2008, simplex projection)
 * - [0,1] clamp.
 * Clamping to [0,1] after a projection never increases a norm: x0 is in [0,1], so clamping only moves
 * a coordinate towards x0.
 */
import { QrobustError } from '../util/errors.ts';

/** The three threat-model norms. */
export type Norm = 'linf' | 'l2' | 'l1';

/** The norms by name, for checks and tables. */
export const NORMS = ['linf', 'l2', 'l1'] as const satisfies readonly Norm[];

/**
 * Thrown when an attack's output leaves its threat model (‖δ‖ > ε beyond float tolerance, a pixel
 * outside [0,1], or a NaN): a bug in the attack or the model's gradients, never a user error.
 */
export class PerturbationError extends QrobustError {
  /** 'norm', 'box' or 'nan' */
  readonly kind: 'norm' | 'box' | 'nan';
  /** the first offending sample */
  readonly sample: number;
  constructor(kind: 'norm' | 'box' | 'nan', sample: number, message: string) {
    super(message);
    this.name = 'PerturbationError';
    this.kind = kind;
    this.sample = sample;
  }
}

/**
 * ‖a_i − b_i‖ per sample (b may be omitted: the norm of a itself), in float64.
 * @param a n*d values
 * @param b n*d values or null
 * @param n samples
 * @param norm 'linf' | 'l2' | 'l1'
 * @returns n norms
 * @throws RangeError when the lengths disagree with n
 * @example
 * Array.from(perSampleNorms(new Float32Array([3, 4, 0, 1]), null, 2, 'l2')) // [5, 1]
 */
export function perSampleNorms(a: Float32Array | Float64Array, b: Float32Array | Float64Array | null, n: number, norm: Norm): Float64Array {
  if (n <= 0 || a.length % n !== 0) throw new RangeError(`perSampleNorms: ${a.length} values do not split into ${n} samples`);
  if (b && b.length !== a.length) throw new RangeError(`perSampleNorms: ${a.length} vs ${b.length} values`);
  const d = a.length / n;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const o = i * d;
    let s = 0;
    for (let j = 0; j < d; j++) {
      const v = Math.abs(b ? a[o + j]! - b[o + j]! : a[o + j]!);
      if (norm === 'linf') { if (v > s) s = v; } else if (norm === 'l2') s += v * v; else s += v;
    }
    out[i] = norm === 'l2' ? Math.sqrt(s) : s;
  }
  return out;
}

/**
 * The float tolerance of the ε check: one float32 rounding (at most 2^-24 for values in [0,1]) per
 * element, summed as the norm sums them, plus 1e-6 relative to ε.
 * @param norm the norm
 * @param eps the radius
 * @param d elements per sample
 * @example
 * normTolerance('linf', 8 / 255, 3072) < 2e-6 // true
 */
export function normTolerance(norm: Norm, eps: number, d: number): number {
  const ulp = 2 ** -24;
  const per = norm === 'linf' ? ulp : norm === 'l2' ? Math.sqrt(d) * ulp : d * ulp;
  return 1e-6 * Math.max(eps, 1) + per;
}

/**
 * Asserts that `adv` is a valid perturbation of `x0`: no NaN, every pixel in [0,1], and
 * ‖adv_i − x0_i‖ ≤ ε + {@link normTolerance} for every sample.
 * @param who the attack's name, for the message
 * @param x0 clean inputs, n*d
 * @param adv adversarial inputs, n*d
 * @param n samples
 * @param norm the threat model's norm
 * @param eps the radius
 * @returns the per-sample norms (float64)
 * @throws PerturbationError naming the attack, the sample and the violated bound
 * @example
 * checkPerturbation('fgsm', new Float32Array([0.5]), new Float32Array([0.625]), 1, 'linf', 0.125)[0] // 0.125
 */
export function checkPerturbation(who: string, x0: Float32Array, adv: Float32Array, n: number, norm: Norm, eps: number): Float64Array {
  if (adv.length !== x0.length) throw new PerturbationError('box', 0, `${who}: returned ${adv.length} values for ${x0.length} inputs`);
  const d = x0.length / n;
  for (let k = 0; k < adv.length; k++) {
    const v = adv[k]!;
    if (Number.isNaN(v)) throw new PerturbationError('nan', Math.floor(k / d), `${who}: NaN in adversarial sample ${Math.floor(k / d)} (element ${k % d})`);
    if (v < 0 || v > 1) throw new PerturbationError('box', Math.floor(k / d), `${who}: adversarial sample ${Math.floor(k / d)} has pixel ${v} outside [0, 1] (element ${k % d})`);
  }
  const norms = perSampleNorms(adv, x0, n, norm);
  const tol = normTolerance(norm, eps, d);
  for (let i = 0; i < n; i++) {
    if (norms[i]! > eps + tol) {
      throw new PerturbationError('norm', i, `${who}: sample ${i} has ${norm} perturbation ${norms[i]} > eps ${eps} (tolerance ${tol.toExponential(2)})`);
    }
  }
  return norms;
}

/**
 * Clamps every value to [0, 1] in place; returns `x`.
 * @example
 * Array.from(clamp01(new Float32Array([-1, 0.5, 2]))) // [0, 0.5, 1]
 */
export function clamp01<T extends Float32Array | Float64Array>(x: T): T {
  for (let k = 0; k < x.length; k++) {
    const v = x[k]!;
    x[k] = v < 0 ? 0 : v > 1 ? 1 : v;
  }
  return x;
}

function split(name: string, len: number, n: number): number {
  if (!Number.isInteger(n) || n <= 0 || len % n !== 0) throw new RangeError(`${name}: ${len} values do not split into ${n} samples`);
  return len / n;
}

/**
 * ℓ∞ projection then [0,1] clamp, in place: adv ← clip₀¹(x0 + clip(adv − x0, −ε, ε)).
 * @param adv n*d values, overwritten
 * @param x0 the centres, n*d
 * @param eps the radius (≥ 0)
 * @returns adv
 * @throws RangeError on mismatching lengths
 * @example
 * Array.from(projectLinf(new Float32Array([0.75]), new Float32Array([0.5]), 0.125)) // [0.625]
 */
export function projectLinf(adv: Float32Array, x0: Float32Array, eps: number): Float32Array {
  if (adv.length !== x0.length) throw new RangeError(`projectLinf: ${adv.length} vs ${x0.length} values`);
  for (let k = 0; k < adv.length; k++) {
    const c = x0[k]!;
    let v = adv[k]!;
    if (v > c + eps) v = c + eps; else if (v < c - eps) v = c - eps;
    adv[k] = v < 0 ? 0 : v > 1 ? 1 : v;
  }
  return adv;
}

/**
 * ℓ2 projection (foolbox's clip_lp_norms) then [0,1] clamp, per sample, in place.
 * @param adv n*d values, overwritten
 * @param x0 the centres
 * @param n samples
 * @param eps the radius
 * @returns adv
 * @throws RangeError on mismatching lengths
 * @example
 * Array.from(projectL2(new Float32Array([0.875, 1]), new Float32Array([0.5, 0.5]), 1, 0.3125)) // [0.6875, 0.75]
 */
export function projectL2(adv: Float32Array, x0: Float32Array, n: number, eps: number): Float32Array {
  if (adv.length !== x0.length) throw new RangeError(`projectL2: ${adv.length} vs ${x0.length} values`);
  const d = split('projectL2', adv.length, n);
  for (let i = 0; i < n; i++) {
    const o = i * d;
    let s = 0;
    for (let j = 0; j < d; j++) { const v = adv[o + j]! - x0[o + j]!; s += v * v; }
    const f = Math.min(1, eps / Math.max(Math.sqrt(s), 1e-12));
    for (let j = 0; j < d; j++) {
      const c = x0[o + j]!;
      const v = c + (adv[o + j]! - c) * f;
      adv[o + j] = v < 0 ? 0 : v > 1 ? 1 : v;
    }
  }
  return adv;
}

/**
 * ART's ℓ1 "projection" (its default, `suboptimal=True`): δ ← δ·min(1, ε / (‖δ‖₁ + 1e-7)), per
 * sample, in place, then [0,1] clamp (a no-op when adv was in [0,1]: scaling towards x0 stays in the box).
 * It is a rescale onto the ball, not the Euclidean projection ({@link projectL1Exact}).
 * @param adv n*d values, overwritten
 * @param x0 the centres
 * @param n samples
 * @param eps the radius
 * @returns adv
 * @throws RangeError on mismatching lengths
 * @example
 * Array.from(rescaleL1(new Float32Array([0.75, 1]), new Float32Array([0.5, 0.5]), 1, 0.375), (v) => +v.toFixed(4)) // [0.625, 0.75]
 */
export function rescaleL1(adv: Float32Array, x0: Float32Array, n: number, eps: number): Float32Array {
  if (adv.length !== x0.length) throw new RangeError(`rescaleL1: ${adv.length} vs ${x0.length} values`);
  const d = split('rescaleL1', adv.length, n);
  for (let i = 0; i < n; i++) {
    const o = i * d;
    let s = 0;
    for (let j = 0; j < d; j++) s += Math.abs(adv[o + j]! - x0[o + j]!);
    const f = Math.min(1, eps / (s + 1e-7));
    if (f === 1) continue;
    for (let j = 0; j < d; j++) {
      const c = x0[o + j]!;
      const v = c + (adv[o + j]! - c) * f;
      adv[o + j] = v < 0 ? 0 : v > 1 ? 1 : v;
    }
  }
  return adv;
}

/**
 * Euclidean projection of one vector onto the ℓ1 ball of radius ε, in place (sort-based simplex
 * projection): with u = |v| sorted descending and ρ = max{j : u_j > (Σ_{i≤j} u_i − ε)/j},
 * θ = (Σ_{i≤ρ} u_i − ε)/ρ and v ← sign(v)·max(|v| − θ, 0). O(d log d).
 * @param v the vector (float64), overwritten
 * @param eps the radius (≥ 0)
 * @returns the threshold θ (0 when v was already inside)
 * @example
 * const v = Float64Array.from([3, -1]);
 * [l1BallProject(v, 2), ...v] // [1, 2, 0]
 */
export function l1BallProject(v: Float64Array, eps: number): number {
  let total = 0;
  for (let j = 0; j < v.length; j++) total += Math.abs(v[j]!);
  if (total <= eps) return 0;
  if (eps <= 0) { v.fill(0); return Infinity; }
  const u = new Float64Array(v.length);
  for (let j = 0; j < v.length; j++) u[j] = Math.abs(v[j]!);
  u.sort(); // ascending; walk from the largest
  let cum = 0;
  let theta = 0;
  for (let r = 1; r <= u.length; r++) {
    const uj = u[u.length - r]!;
    cum += uj;
    const t = (cum - eps) / r;
    if (uj > t) theta = t; else break;
  }
  for (let j = 0; j < v.length; j++) {
    const a = Math.abs(v[j]!) - theta;
    v[j] = a > 0 ? Math.sign(v[j]!) * a : 0;
  }
  return theta;
}

/**
 * The exact Euclidean ℓ1-ball projection of δ = adv − x0 per sample ({@link l1BallProject}), then
 * [0,1] clamp, in place. (The projection onto the intersection of the ball and the box is a
 * different problem; this is the ball projection followed by the clamp.)
 * @param adv n*d values, overwritten
 * @param x0 the centres
 * @param n samples
 * @param eps the radius
 * @returns adv
 * @throws RangeError on mismatching lengths
 * @example
 * Array.from(projectL1Exact(new Float32Array([0.875, 0.625]), new Float32Array([0.5, 0.5]), 1, 0.25)) // [0.75, 0.5]
 */
export function projectL1Exact(adv: Float32Array, x0: Float32Array, n: number, eps: number): Float32Array {
  if (adv.length !== x0.length) throw new RangeError(`projectL1Exact: ${adv.length} vs ${x0.length} values`);
  const d = split('projectL1Exact', adv.length, n);
  const v = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const o = i * d;
    for (let j = 0; j < d; j++) v[j] = adv[o + j]! - x0[o + j]!;
    l1BallProject(v, eps);
    for (let j = 0; j < d; j++) {
      const x = x0[o + j]! + v[j]!;
      adv[o + j] = x < 0 ? 0 : x > 1 ? 1 : x;
    }
  }
  return adv;
}

/**
 * Per-sample gradient normalisation, in place: 'linf' → sign(g) (sign(0) = 0); 'l2' → g / max(‖g‖₂, 1e-12)
 * (foolbox normalize_lp_norms); 'l1' → g / (‖g‖₁ + 1e-7) (ART's norm-1 step direction).
 * @param g n*d gradient values, overwritten
 * @param n samples
 * @param norm the step's norm
 * @returns g
 * @throws RangeError when g does not split into n samples
 * @example
 * Array.from(normalizeGradient(new Float32Array([3, -4]), 1, 'l2'), (v) => +v.toFixed(6)) // [0.6, -0.8]
 */
export function normalizeGradient(g: Float32Array, n: number, norm: Norm): Float32Array {
  const d = split('normalizeGradient', g.length, n);
  if (norm === 'linf') {
    for (let k = 0; k < g.length; k++) { const v = g[k]!; g[k] = v > 0 ? 1 : v < 0 ? -1 : 0; }
    return g;
  }
  for (let i = 0; i < n; i++) {
    const o = i * d;
    let s = 0;
    if (norm === 'l2') {
      for (let j = 0; j < d; j++) s += g[o + j]! * g[o + j]!;
      s = Math.max(Math.sqrt(s), 1e-12);
    } else {
      for (let j = 0; j < d; j++) s += Math.abs(g[o + j]!);
      s += 1e-7;
    }
    for (let j = 0; j < d; j++) g[o + j] = g[o + j]! / s;
  }
  return g;
}
