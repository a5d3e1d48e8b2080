/**
 * Noise corruptions (reference: corruptions.py gaussian_noise, shot_noise, impulse_noise), on x = v/255
 * in double precision, ending with the reference's clip, ×255 and uint8 truncation.
 * - gaussian_noise: x + N(0, c); draws: the noise array (c·z).
 * - shot_noise: Poisson(x·c)/c; draws: the Poisson counts (seeded sampler, ts/corrupt/poisson.ts: inversion
 *   of a cached CDF for λ < 30, Hörmann's PTRS above).
 * - impulse_noise: skimage random_noise(mode='s&p', amount=c): each element (per channel) flips with
 *   probability c (`u <= c`), then salt or pepper 50/50 (`u <= 0.5` is salt → 1, else pepper → 0).
 */
import type { Rng } from '../util/rng.ts';
import { like, normals, unitToByte } from './common.ts';
import { poisson, poissonCdf } from './poisson.ts';
import { registerCorruption } from './registry.ts';

export interface GaussianDraws { noise: Float64Array }
export interface ShotDraws { counts: Float64Array }
export interface ImpulseDraws { flipped: Uint8Array; salted: Uint8Array }

registerCorruption<'gaussian_noise', GaussianDraws>({
  id: 'gaussian_noise',
  draw(rng: Rng, img, c) {
    return { noise: normals(rng, img.data.length, 0, c) };
  },
  async apply(img, _c, d) {
    const out = new Uint8Array(img.data.length);
    for (let i = 0; i < out.length; i++) out[i] = unitToByte(img.data[i]! / 255 + d.noise[i]!);
    return like(img, out);
  },
});

registerCorruption<'shot_noise', ShotDraws>({
  id: 'shot_noise',
  draw(rng: Rng, img, c) {
    const counts = new Float64Array(img.data.length);
    // λ takes 256 values: one CDF per grey level (inversion for λ < 30, PTRS above)
    const cdfs: (Float64Array | null)[] = [];
    for (let v = 0; v < 256; v++) {
      const lam = (v / 255) * c;
      cdfs.push(lam < 30 ? poissonCdf(lam) : null);
    }
    const src = img.data;
    for (let i = 0; i < counts.length; i++) {
      const cdf = cdfs[src[i]!]!;
      if (cdf === null) {
        counts[i] = poisson(rng, (src[i]! / 255) * c);
        continue;
      }
      const u = rng.uniform();
      let k = 0;
      while (u >= cdf[k]!) k++;
      counts[i] = k;
    }
    return { counts };
  },
  async apply(img, c, d) {
    const out = new Uint8Array(img.data.length);
    for (let i = 0; i < out.length; i++) out[i] = unitToByte(d.counts[i]! / c);
    return like(img, out);
  },
});

registerCorruption<'impulse_noise', ImpulseDraws>({
  id: 'impulse_noise',
  draw(rng: Rng, img, c) {
    const n = img.data.length;
    const flipped = new Uint8Array(n);
    const salted = new Uint8Array(n);
    // u <= p with 32-bit uniforms u = x / 2^32: x <= p * 2^32
    const tf = c * 4294967296;
    for (let i = 0; i < n; i++) flipped[i] = rng.nextU32() <= tf ? 1 : 0;
    for (let i = 0; i < n; i++) salted[i] = rng.nextU32() <= 2147483648 ? 1 : 0;
    return { flipped, salted };
  },
  async apply(img, _c, d) {
    const out = new Uint8Array(img.data.length);
    for (let i = 0; i < out.length; i++) {
      const x = d.flipped[i] ? (d.salted[i] ? 1 : 0) : img.data[i]! / 255;
      out[i] = unitToByte(x);
    }
    return like(img, out);
  },
});
