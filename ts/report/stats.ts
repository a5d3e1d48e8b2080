/**
 * The 95 % intervals of the report.
 *
 * - Accuracies that are proportions over n images (clean top-1, AR, WCAR): Wilson score interval.
 * - NR: the mean over corruption cells of accuracies measured on the same n images. Each image contributes
 *   its mean score over the cells, a value in [0, 1] with mean p and variance at most p(1 − p): the Wilson
 *   interval at n (see {@link meanScoreInterval}).
 * - SR: the population std of the 14 systematic accuracies, with a paired bootstrap over images from the
 *   per-image flags of each pipeline (see {@link srInterval}); no interval when the flags were not kept.
 */
import { Rng } from '../util/rng.ts';

/** A point value (percent) with its 95 % interval. */
export interface Estimate {
  value: number;
  lo: number;
  hi: number;
  n: number;
  /** how the interval was computed */
  method: 'wilson' | 'wilson-mean-score' | 'bootstrap-paired' | 'none';
}

const Z = 1.959963984540054;

/**
 * Wilson score interval of a percentage measured on n samples.
 * @example
 * const e = wilson(50, 100); [e.lo.toFixed(2), e.hi.toFixed(2)] // ['40.38', '59.62']
 */
export function wilson(percent: number, n: number): Estimate {
  if (!(n > 0)) return { value: percent, lo: percent, hi: percent, n, method: 'none' };
  const p = percent / 100;
  const d = 1 + (Z * Z) / n;
  const c = (p + (Z * Z) / (2 * n)) / d;
  const h = (Z * Math.sqrt((p * (1 - p)) / n + (Z * Z) / (4 * n * n))) / d;
  return { value: percent, lo: 100 * Math.max(0, c - h), hi: 100 * Math.min(1, c + h), n, method: 'wilson' };
}

/**
 * Interval of a mean of per-image scores in [0, 1] (NR, a corruption's mean over severities): each score has
 * mean p and variance at most p(1 − p), the variance of a single Bernoulli, so the Wilson score interval at n is
 * used as for a proportion (the Wilson form, unlike p ± 1.96·√(p(1 − p)/n), does not collapse to a point at 0
 * or 100 %).
 * @example
 * meanScoreInterval(0, 8).hi.toFixed(2) // '32.44'
 */
export function meanScoreInterval(percent: number, n: number): Estimate {
  return { ...wilson(percent, n), method: n > 0 ? 'wilson-mean-score' : 'none' };
}

function popStd(v: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < v.length; i++) m += v[i]!;
  m /= v.length;
  let s = 0;
  for (let i = 0; i < v.length; i++) s += (v[i]! - m) * (v[i]! - m);
  return Math.sqrt(s / v.length);
}

/**
 * Paired bootstrap interval of SR over images: the images are resampled with replacement (2000 replicates
 * from a fixed seed), the 14 accuracies and their population std recomputed on each replicate, and the
 * 2.5 / 97.5 percentiles taken. Resampling whole images keeps the strong correlation between the
 * pipelines (most images are classified alike by all 14).
 * @param flags per pipeline id, one '0'/'1' per image (the same images for all)
 * @param reps replicates (default 2000)
 * @param seed fixed (default 0), so the same data give the same interval
 * @throws never; an empty or ragged input gives method 'none'
 * @example
 * srInterval({ a: '1100', b: '1000' }).value // 12.5
 */
export function srInterval(flags: Readonly<Record<string, string>>, reps = 2000, seed = 0): Estimate {
  const ids = Object.keys(flags);
  const n = ids.length ? flags[ids[0]!]!.length : 0;
  const rows = ids.map((id) => Uint8Array.from(flags[id]!, (ch) => (ch === '1' ? 1 : 0)));
  const acc = (weights: Int32Array | null): Float64Array => Float64Array.from(rows, (r) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += r[i]! * (weights ? weights[i]! : 1);
    return (100 * s) / n;
  });
  const value = n > 0 ? popStd(acc(null)) : NaN;
  if (n === 0 || ids.length < 2 || rows.some((r) => r.length !== n)) return { value, lo: value, hi: value, n, method: 'none' };
  const rng = new Rng(seed);
  const out = new Float64Array(reps);
  const w = new Int32Array(n);
  for (let r = 0; r < reps; r++) {
    w.fill(0);
    for (let i = 0; i < n; i++) w[rng.int(n)]!++;
    out[r] = popStd(acc(w));
  }
  out.sort();
  return { value, lo: out[Math.floor(0.025 * (reps - 1))]!, hi: out[Math.ceil(0.975 * (reps - 1))]!, n, method: 'bootstrap-paired' };
}

/**
 * Spearman rank correlation (ties get mean ranks); NaN for fewer than 3 points or a constant series.
 * @example
 * spearman([2, 4, 6, 8], [4, 3, 2, 1]) // -1
 */
export function spearman(x: readonly number[], y: readonly number[]): number {
  if (x.length !== y.length || x.length < 3) return NaN;
  const rank = (a: readonly number[]): number[] => {
    const idx = a.map((v, i) => [v, i] as const).sort((p, q) => p[0] - q[0]);
    const r = new Array<number>(a.length);
    for (let i = 0; i < idx.length;) {
      let j = i;
      while (j + 1 < idx.length && idx[j + 1]![0] === idx[i]![0]) j++;
      for (let k = i; k <= j; k++) r[idx[k]![1]] = (i + j) / 2 + 1;
      i = j + 1;
    }
    return r;
  };
  const rx = rank(x);
  const ry = rank(y);
  const mx = rx.reduce((s, v) => s + v, 0) / rx.length;
  const my = ry.reduce((s, v) => s + v, 0) / ry.length;
  let num = 0;
  let dx = 0;
  let dy = 0;
  for (let i = 0; i < rx.length; i++) {
    num += (rx[i]! - mx) * (ry[i]! - my);
    dx += (rx[i]! - mx) ** 2;
    dy += (ry[i]! - my) ** 2;
  }
  return dx === 0 || dy === 0 ? NaN : num / Math.sqrt(dx * dy);
}
