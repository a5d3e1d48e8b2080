/**
 * A seeded Poisson sampler (shot noise): every draw comes from the {@link Rng} passed in.
 * λ < 10: multiplication of uniforms (Knuth); λ ≥ 10: Hörmann's transformed rejection with squeeze
 * (PTRS, "The transformed rejection method for generating Poisson random variables", 1993), the same
 * split numpy uses, so the distribution (not the stream) matches np.random.poisson.
 */
import type { Rng } from '../util/rng.ts';

const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

/**
 * log Γ(x) for x > 0: Lanczos (g = 7, n = 9), relative error < 1e-14 on the range used here.
 * @param x the argument
 * @throws never
 * @example
 * Math.abs(lgamma(5) - Math.log(24)) < 1e-12 // true
 */
export function lgamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lgamma(1 - x);
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  const z = x - 1;
  let a = c[0]!;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (z + i);
  return LOG_SQRT_2PI + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/**
 * One Poisson(λ) draw.
 * @param rng the generator
 * @param lam the mean, ≥ 0
 * @throws RangeError for a negative or non-finite λ
 * @example
 * poisson(new Rng(1), 4.5) >= 0 // true
 */
export function poisson(rng: Rng, lam: number): number {
  if (!(lam >= 0) || !Number.isFinite(lam)) throw new RangeError(`poisson: expected lambda >= 0 but received ${lam}`);
  if (lam === 0) return 0;
  if (lam < 10) {
    const enlam = Math.exp(-lam);
    let k = 0;
    let prod = 1;
    for (;;) {
      prod *= rng.uniform();
      if (prod > enlam) k++;
      else return k;
    }
  }
  const slam = Math.sqrt(lam);
  const loglam = Math.log(lam);
  const b = 0.931 + 2.53 * slam;
  const a = -0.059 + 0.02483 * b;
  const invalpha = 1.1239 + 1.1328 / (b - 3.4);
  const vr = 0.9277 - 3.6224 / (b - 2);
  for (;;) {
    const U = rng.uniform() - 0.5;
    const V = rng.uniform();
    const us = 0.5 - Math.abs(U);
    const k = Math.floor((2 * a / us + b) * U + lam + 0.43);
    if (us >= 0.07 && V <= vr) return k;
    if (k < 0 || (us < 0.013 && V > us)) continue;
    if (Math.log(V) + Math.log(invalpha) - Math.log(a / (us * us) + b) <= -lam + k * loglam - lgamma(k + 1)) return k;
  }
}

/**
 * The cumulative distribution of Poisson(λ) for sampling by inversion (one uniform per draw), cut where
 * the remaining tail mass is below 1e-15 (its last entry is set to 1).
 * @param lam the mean, 0 ≤ λ < 50
 * @throws RangeError outside that range
 * @example
 * poissonCdf(2)[0] === Math.exp(-2) // true
 */
export function poissonCdf(lam: number): Float64Array {
  if (!(lam >= 0 && lam < 50)) throw new RangeError(`poissonCdf: expected 0 <= lambda < 50 but received ${lam}`);
  const out: number[] = [];
  let p = Math.exp(-lam);
  let F = p;
  out.push(F);
  for (let k = 1; F < 1 - 1e-15 && k < 400; k++) {
    p = (p * lam) / k;
    F += p;
    out.push(F);
  }
  out[out.length - 1] = 1;
  return Float64Array.from(out);
}

/**
 * A Poisson sampler for many draws whose λ takes few distinct values (shot noise: λ = (v/255)·c for
 * 256 values v): inversion over a cached CDF for λ < 30, {@link poisson} above.
 * @param rng the generator
 * @throws never
 * @example
 * const draw = poissonDrawer(new Rng(0));
 * draw(3.5) >= 0 // true
 */
export function poissonDrawer(rng: Rng): (lam: number) => number {
  const cache = new Map<number, Float64Array>();
  return (lam: number): number => {
    if (!(lam < 30)) return poisson(rng, lam);
    let cdf = cache.get(lam);
    if (!cdf) {
      cdf = poissonCdf(lam);
      cache.set(lam, cdf);
    }
    const u = rng.uniform();
    let k = 0;
    while (u >= cdf[k]!) k++;
    return k;
  };
}
