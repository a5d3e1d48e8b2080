/**
 * Square Attack (Andriushchenko et al. 2020, "Square Attack: a query-efficient black-box adversarial
 * attack via random search"), ℓ∞, score-based: it needs logits only, so it also runs on models without
 * gradients (integer engines) and on models whose gradients are masked.
 *
 * AutoAttack standard: 5000 queries, p_init = 0.8, 1 restart, margin loss z_y − max_{j≠y} z_j.
 * - start: vertical stripes, x + ε·s with s ∈ {−1,+1} drawn per (channel, column), clipped to [0,1];
 * - iteration i: a square of side max(round(√(p_i·H·W)), 1) at a uniform position (all H−s+1 by W−s+1
 *   positions possible) gets, per channel, the value x ± ε (the proposal adds ±2ε and projects back);
 *   the proposal is kept when it lowers the margin or misclassifies;
 * - p_i (the fraction of pixels changed) halves after iterations 10, 50, 200, 500, 1000, 2000, 4000,
 *   6000 and 8000 ({@link squarePSelection});
 * - a sample stops as soon as its margin is ≤ 0.
 *
 * Each sample draws its own positions and signs from its own stream (the paper's per-image search;
 * the batched reference shares one square per batch), so results do not depend on batch composition.
 */
import * as is from '../util/is.ts';
import { invalidOption } from '../util/errors.ts';
import type { Rng } from '../util/rng.ts';
import type { AttackModel } from './model.ts';
import { sampleSize } from './model.ts';
import { checkEps, checkInputs, checkStreams, clipLinf, gather, iota, logitsBatched, pickStreams, sampleRngs } from './aa-common.ts';

/**
 * Fraction of pixels the square covers at iteration `it` (0-based).
 * @param it iteration
 * @param pInit initial fraction (0.8)
 * @param nQueries the query budget; only used with `rescale` (the schedule is defined for 10000)
 * @param rescale map `it` to it/nQueries·10000 first (AutoAttack standard: false)
 * @returns p_init divided by 1, 2, 4, …, 512
 * @throws never
 * @example
 * squarePSelection(10, 0.8, 5000) // 0.8
 * squarePSelection(11, 0.8, 5000) // 0.4
 */
export function squarePSelection(it: number, pInit: number, nQueries: number, rescale = false): number {
  const i = rescale ? Math.floor((it / nQueries) * 10000) : it;
  if (i <= 10) return pInit;
  if (i <= 50) return pInit / 2;
  if (i <= 200) return pInit / 4;
  if (i <= 500) return pInit / 8;
  if (i <= 1000) return pInit / 16;
  if (i <= 2000) return pInit / 32;
  if (i <= 4000) return pInit / 64;
  if (i <= 6000) return pInit / 128;
  if (i <= 8000) return pInit / 256;
  return pInit / 512;
}

/**
 * Side of the square at iteration `it` for an H×W image.
 * @param it iteration
 * @param pInit initial fraction
 * @param h image height
 * @param w image width
 * @param nQueries budget (for `rescale`)
 * @param rescale see {@link squarePSelection}
 * @throws never
 * @example
 * // round(√(0.8·1024)) = 29
 * squareSide(0, 0.8, 32, 32, 5000) // 29
 */
export function squareSide(it: number, pInit: number, h: number, w: number, nQueries: number, rescale = false): number {
  const p = squarePSelection(it, pInit, nQueries, rescale);
  return Math.min(Math.max(Math.round(Math.sqrt(p * h * w)), 1), Math.min(h, w));
}

/** Options of {@link square}; defaults are AutoAttack standard's. */
export interface SquareOptions {
  /** ℓ∞ budget */
  eps: number;
  /** query budget per restart after the initial query (5000) */
  nQueries?: number;
  /** initial fraction of pixels per square (0.8) */
  pInit?: number;
  /** restarts on the points still robust (1) */
  nRestarts?: number;
  /** map the p schedule to the budget (false, as AutoAttack standard) */
  rescaleSchedule?: boolean;
  /** seed (0) */
  seed?: number;
  /** global sample indices for the per-sample streams */
  index?: Int32Array;
  /** per-sample base streams (one per sample; overrides seed/index) */
  rngs?: readonly Rng[];
  /** largest batch handed to the model (all samples at once) */
  batch?: number;
}

/** Result of {@link square}. */
export interface SquareResult {
  /** adversarial where broken, the clean point elsewhere */
  xAdv: Float32Array;
  /** 1 where clean-correct and not broken */
  robust: Uint8Array;
  /** queries used per sample (initial one included; 0 for clean-misclassified points) */
  queries: Int32Array;
  /** final margin per sample (≤ 0 where broken) */
  margin: Float64Array;
}

function margins(z: Float32Array, y: Int32Array, idx: ArrayLike<number>, k: number): Float64Array {
  const out = new Float64Array(idx.length);
  for (let q = 0; q < idx.length; q++) {
    const yi = y[idx[q]!]!;
    let other = -Infinity;
    for (let c = 0; c < k; c++) if (c !== yi && z[q * k + c]! > other) other = z[q * k + c]!;
    out[q] = z[q * k + yi]! - other;
  }
  return out;
}

/**
 * Square Attack, ℓ∞, margin loss, on the points the model classifies correctly.
 * @param model any model (logits only)
 * @param x n samples, NCHW float32 in [0,1]
 * @param y n labels
 * @param opts ε and the budget (AutoAttack standard: 5000 queries, p_init 0.8)
 * @returns adversarial points, robust flags, queries and margins
 * @throws UsageError for ε < 0 or bad options / inputs
 * @example
 * const r = await square(integerModel, x, y, { eps: 8 / 255, seed: 0 });
 * r.queries.length // 10
 */
export async function square(model: AttackModel, x: Float32Array, y: Int32Array, opts: SquareOptions): Promise<SquareResult> {
  checkInputs(model, x, y);
  const eps = checkEps(opts.eps);
  const nQueries = is.int('nQueries', opts.nQueries ?? 5000, 0);
  const pInit = is.num('pInit', opts.pInit ?? 0.8, 0, 1);
  const nRestarts = is.int('nRestarts', opts.nRestarts ?? 1, 1);
  const seed = is.int('seed', opts.seed ?? 0, 0, 0xffffffff);
  const n = y.length;
  const batch = is.int('batch', opts.batch ?? Math.max(1, n), 1);
  const index = opts.index ?? iota(n);
  if (index.length !== n) throw invalidOption('index', `${n} sample indices`, index);
  const streams = checkStreams(opts.rngs, n);
  const rescale = opts.rescaleSchedule ?? false;
  const [C, H, W] = model.inputShape;
  const d = sampleSize(model);
  const K = model.numClasses;

  const z0 = await logitsBatched(model, x, n, batch);
  const all = iota(n);
  const m0 = margins(z0, y, all, K);
  const robust = new Uint8Array(n);
  for (let i = 0; i < n; i++) robust[i] = m0[i]! > 0 ? 1 : 0;
  const xAdv = x.slice();
  const queries = new Int32Array(n);
  const margin = Float64Array.from(m0);

  for (let r = 0; r < nRestarts; r++) {
    const todo: number[] = [];
    for (let i = 0; i < n; i++) if (robust[i]) todo.push(i);
    if (todo.length === 0) break;
    const rngs = sampleRngs(seed, `square:r${r}`, Int32Array.from(todo, (i) => index[i]!), pickStreams(streams, todo));
    const rngOf = new Map<number, (typeof rngs)[number]>();
    todo.forEach((i, q) => rngOf.set(i, rngs[q]!));
    // stripes start
    const xBest = gather(x, todo, d);
    for (let q = 0; q < todo.length; q++) {
      const i = todo[q]!;
      const rng = rngOf.get(i)!;
      for (let c = 0; c < C; c++) {
        for (let col = 0; col < W; col++) {
          const sgn = rng.uniform() < 0.5 ? -1 : 1;
          for (let row = 0; row < H; row++) {
            const j = c * H * W + row * W + col;
            xBest[q * d + j] = clipLinf(x[i * d + j]! + eps * sgn, x[i * d + j]!, eps);
          }
        }
      }
    }
    const zb = await logitsBatched(model, xBest, todo.length, batch);
    const mMin = margins(zb, y, todo, K);
    for (const i of todo) queries[i]++;
    const xNew = new Float32Array(d);
    for (let it = 0; it < nQueries; it++) {
      const act: number[] = [];
      for (let q = 0; q < todo.length; q++) if (mMin[q]! > 0) act.push(q);
      if (act.length === 0) break;
      const s = squareSide(it, pInit, H, W, nQueries, rescale);
      const prop = new Float32Array(act.length * d);
      for (let a = 0; a < act.length; a++) {
        const q = act[a]!;
        const i = todo[q]!;
        const rng = rngOf.get(i)!;
        const vh = rng.int(H - s + 1);
        const vw = rng.int(W - s + 1);
        xNew.set(xBest.subarray(q * d, q * d + d));
        for (let c = 0; c < C; c++) {
          const sgn = rng.uniform() < 0.5 ? -1 : 1;
          for (let row = vh; row < vh + s; row++) {
            for (let col = vw; col < vw + s; col++) {
              const j = c * H * W + row * W + col;
              xNew[j] = clipLinf(xBest[q * d + j]! + 2 * eps * sgn, x[i * d + j]!, eps);
            }
          }
        }
        prop.set(xNew, a * d);
      }
      const zp = await logitsBatched(model, prop, act.length, batch);
      const mp = margins(zp, y, act.map((q) => todo[q]!), K);
      for (let a = 0; a < act.length; a++) {
        const q = act[a]!;
        queries[todo[q]!]++;
        const mv = mp[a]!;
        if (mv < mMin[q]! || mv <= 0) {
          mMin[q] = mv;
          xBest.set(prop.subarray(a * d, a * d + d), q * d);
        }
      }
    }
    for (let q = 0; q < todo.length; q++) {
      const i = todo[q]!;
      margin[i] = mMin[q]!;
      if (mMin[q]! <= 0) {
        robust[i] = 0;
        xAdv.set(xBest.subarray(q * d, q * d + d), i * d);
      }
    }
  }
  return { xAdv, robust, queries, margin };
}
