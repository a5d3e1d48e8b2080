/**
 * FAB-T (Croce & Hein 2020, "Minimally distorted adversarial examples with a fast adaptive boundary
 * attack"), targeted, ℓ∞, as AutoAttack standard runs it: 9 target classes (2nd … 10th highest clean
 * logits), 100 iterations, 1 restart per target, α_max = 0.1, η = 1.05, β = 0.9.
 *
 * FAB is a minimum-norm attack: at each iteration it linearises the decision function
 * f = z_t − z_y at the current iterate x₁, projects both x₁ and the original point x₀ onto the
 * hyperplane {f = 0} (minimal ℓ∞ step that stays in [0,1]^d, {@link projectLinfBox}), and moves to the
 * convex combination (x₁ + η·d₁)(1 − α) + (x₀ + η·d₂)·α with α = min(‖d₁‖/(‖d₁‖ + ‖d₂‖), α_max).
 * When the iterate is misclassified it is kept if it is the closest so far, and the search steps back
 * towards x₀ by the factor β. A point counts as broken by FAB-T when the closest adversarial found is
 * within ε.
 *
 * Shapes: x n·C·H·W float32 in [0,1], y n labels. Randomness: only restarts after the first start at a
 * random point (x₀ + ½·min(best, ε)·t/‖t‖∞), one stream per sample.
 */
import * as is from '../util/is.ts';
import { UsageError, invalidOption } from '../util/errors.ts';
import type { Rng } from '../util/rng.ts';
import type { AttackModel } from './model.ts';
import { sampleSize } from './model.ts';
import {
  argmaxRow, checkEps, checkInputs, checkStreams, gather, gatherInt, iota, kthClass, linfDist, logitsBatched, nonzero, pickStreams, sampleRngs,
} from './aa-common.ts';

/**
 * Minimal ℓ∞ step onto a hyperplane inside the unit box: the δ of smallest ‖δ‖∞ with w·(t + δ) = b and
 * t + δ ∈ [0,1]^d. Coordinates with w_i = 0 do not move. When the hyperplane cannot be reached inside
 * the box, every useful coordinate goes to its bound (the closest the box allows), as FAB does.
 *
 * Solution: with c = b − w·t and s_i = sign(w_i·c), moving by λ along s changes w·x by
 * g(λ) = Σ|w_i|·min(λ, r_i), r_i the room to the bound in direction s_i. g is piecewise linear and
 * increasing, so the smallest λ with g(λ) = |c| is found by walking its breakpoints in order.
 * @param t the point (d values)
 * @param w the normal (d values)
 * @param b the offset
 * @param out receives δ (d values)
 * @returns ‖δ‖∞
 * @throws never
 * @example
 * const d = new Float64Array(2);
 * projectLinfBox([0.5, 0.5], [1, 1], 1.2, d).toFixed(9) // '0.100000000'
 * Array.from(d, (v) => v.toFixed(9)) // ['0.100000000', '0.100000000']
 */
export function projectLinfBox(t: ArrayLike<number>, w: ArrayLike<number>, b: number, out: Float64Array): number {
  const d = out.length;
  let wt = 0;
  for (let i = 0; i < d; i++) wt += w[i]! * t[i]!;
  const c = b - wt;
  out.fill(0);
  if (c === 0 || !Number.isFinite(c)) return 0;
  const need = Math.abs(c);
  const sc = c > 0 ? 1 : -1;
  const room = new Float64Array(d);
  let total = 0;
  let slope = 0;
  const useful: number[] = [];
  for (let i = 0; i < d; i++) {
    const wi = w[i]!;
    if (wi === 0) continue;
    const dir = (wi > 0 ? 1 : -1) * sc;
    const r = dir > 0 ? 1 - t[i]! : t[i]!;
    room[i] = r > 0 ? r : 0;
    total += Math.abs(wi) * room[i]!;
    slope += Math.abs(wi);
    useful.push(i);
  }
  if (useful.length === 0) return 0;
  let lambda: number;
  if (total <= need) {
    lambda = Infinity; // unreachable: every coordinate to its bound
  } else {
    useful.sort((p, q) => room[p]! - room[q]!);
    let acc = 0;
    let prev = 0;
    lambda = NaN;
    for (const i of useful) {
      const r = room[i]!;
      const atR = acc + slope * (r - prev);
      if (atR >= need) {
        lambda = prev + (need - acc) / slope;
        break;
      }
      acc = atR;
      prev = r;
      slope -= Math.abs(w[i]!);
    }
    if (Number.isNaN(lambda)) lambda = prev;
  }
  let mx = 0;
  for (const i of useful) {
    const dir = (w[i]! > 0 ? 1 : -1) * sc;
    const m = Math.min(lambda, room[i]!);
    out[i] = dir * m;
    if (m > mx) mx = m;
  }
  return mx;
}

/** Options of {@link fabTargeted}; defaults are AutoAttack standard's. */
export interface FabOptions {
  /** ℓ∞ budget: a point is broken when its closest adversarial is within ε (also the random-start radius) */
  eps: number;
  /** iterations per target and restart (100) */
  nIter?: number;
  /** restarts per target; the first starts at x₀, the others at random points (1) */
  nRestarts?: number;
  /** targets: 2nd … (n+1)-th highest clean logits (9; capped at K−1) */
  nTargetClasses?: number;
  /** largest weight of the original point's projection (0.1) */
  alphaMax?: number;
  /** overshoot of the projections (1.05) */
  eta?: number;
  /** backward step towards x₀ after a success (0.9) */
  beta?: number;
  /** seed of the random restarts (0) */
  seed?: number;
  /** global sample indices for the per-sample random streams */
  index?: Int32Array;
  /** per-sample base streams (one per sample; overrides seed/index for the random restarts) */
  rngs?: readonly Rng[];
  /** stop iterating a sample once an adversarial within ε is found (AutoAttack outcome unchanged); default false */
  stopAtEps?: boolean;
  /** explicit per-sample target classes: run one target (these) instead of the ranked ones */
  target?: Int32Array;
}

/** Result of {@link fabTargeted}. */
export interface FabResult {
  /** closest adversarial within ε where broken, the clean point elsewhere */
  xAdv: Float32Array;
  /** 1 where clean-correct and no adversarial within ε was found */
  robust: Uint8Array;
  /** ℓ∞ norm of the closest adversarial found over all targets (Infinity if none) */
  dist: Float64Array;
  /** the closest adversarial found (any norm; the clean point if none) */
  xMin: Float32Array;
  /** targets used */
  targetsRun: number;
  /** gradient calls (batched) */
  gradCalls: number;
}

interface FabRun {
  adv: Float32Array;
  res: Float64Array;
  gradCalls: number;
}

async function fabSingle(
  model: AttackModel, x0: Float32Array, y: Int32Array, tgt: Int32Array, nIter: number, alphaMax: number, eta: number, beta: number,
  randStart: boolean, eps: number, rngs: { uniform(): number }[], stopAtEps: boolean,
): Promise<FabRun> {
  const vjp = model.vjp!.bind(model);
  const d = sampleSize(model);
  const K = model.numClasses;
  const m = y.length;
  const x1 = x0.slice();
  if (randStart) {
    for (let s = 0; s < m; s++) {
      const t = new Float64Array(d);
      let mx = 0;
      for (let j = 0; j < d; j++) {
        t[j] = 2 * rngs[s]!.uniform() - 1;
        mx = Math.max(mx, Math.abs(t[j]!));
      }
      if (mx === 0) mx = 1;
      for (let j = 0; j < d; j++) x1[s * d + j] = Math.min(1, Math.max(0, x0[s * d + j]! + 0.5 * eps * t[j]! / mx));
    }
  }
  const adv = x0.slice();
  const res = new Float64Array(m).fill(Infinity);
  const d1 = new Float64Array(d);
  const d2 = new Float64Array(d);
  const w = new Float64Array(d);
  let gradCalls = 0;
  for (let it = 0; it < nIter; it++) {
    const active: number[] = [];
    for (let s = 0; s < m; s++) if (!(stopAtEps && res[s]! <= eps)) active.push(s);
    if (active.length === 0) break;
    const idx = active.length === m ? null : Int32Array.from(active);
    const xs = idx ? gather(x1, idx, d) : x1;
    const cnt = active.length;
    // gradient of f = z_t − z_y
    const r = await vjp(xs, cnt, () => {
      const g = new Float32Array(cnt * K);
      for (let q = 0; q < cnt; q++) {
        const s = active[q]!;
        g[q * K + tgt[s]!] += 1;
        g[q * K + y[s]!] -= 1;
      }
      return g;
    });
    gradCalls++;
    for (let q = 0; q < cnt; q++) {
      const s = active[q]!;
      const o = s * d;
      const df = r.logits[q * K + tgt[s]!]! - r.logits[q * K + y[s]!]!;
      let wx = 0;
      for (let j = 0; j < d; j++) {
        w[j] = r.grad[q * d + j]!;
        wx += w[j]! * x1[o + j]!;
      }
      const b = -df + wx;
      const xs1 = x1.subarray(o, o + d);
      const xs0 = x0.subarray(o, o + d);
      const a1 = Math.max(projectLinfBox(xs1, w, b, d1), 1e-8);
      const a2 = Math.max(projectLinfBox(xs0, w, b, d2), 1e-8);
      const alpha = Math.min(Math.max(a1 / (a1 + a2), 0), alphaMax);
      for (let j = 0; j < d; j++) {
        const v = (xs1[j]! + eta * d1[j]!) * (1 - alpha) + (xs0[j]! + eta * d2[j]!) * alpha;
        x1[o + j] = v < 0 ? 0 : v > 1 ? 1 : v;
      }
    }
    const xs2 = idx ? gather(x1, idx, d) : x1;
    const z = await model.logits(xs2, cnt);
    for (let q = 0; q < cnt; q++) {
      const s = active[q]!;
      if (argmaxRow(z, q * K, K) === y[s]) continue;
      const o = s * d;
      const t = linfDist(x1, x0, o, d);
      if (t < res[s]!) {
        res[s] = t;
        adv.set(x1.subarray(o, o + d), o);
      }
      for (let j = 0; j < d; j++) x1[o + j] = x0[o + j]! + (x1[o + j]! - x0[o + j]!) * beta;
    }
  }
  return { adv, res, gradCalls };
}

/**
 * FAB-T, ℓ∞: targeted minimum-norm attack over the ranked target classes, each run on the points still
 * robust; a point is broken when an adversarial within ε was found.
 * @param model a model with `vjp`
 * @param x n samples, NCHW float32 in [0,1]
 * @param y n labels
 * @param opts ε and the FAB parameters (AutoAttack standard by default)
 * @returns robust flags, the adversarials within ε, and the smallest ℓ∞ distance found per sample
 * @throws UsageError for ε < 0, bad options or inputs, or a model without vjp
 * @example
 * const r = await fabTargeted(linear, x, y, { eps: 0.1 });
 * r.dist[0] > 0 // true
 */
export async function fabTargeted(model: AttackModel, x: Float32Array, y: Int32Array, opts: FabOptions): Promise<FabResult> {
  checkInputs(model, x, y);
  const eps = checkEps(opts.eps);
  const nIter = is.int('nIter', opts.nIter ?? 100, 1);
  const nRestarts = is.int('nRestarts', opts.nRestarts ?? 1, 1);
  const alphaMax = is.num('alphaMax', opts.alphaMax ?? 0.1, 0, 1);
  const eta = is.num('eta', opts.eta ?? 1.05, 0);
  const beta = is.num('beta', opts.beta ?? 0.9, 0, 1);
  const seed = is.int('seed', opts.seed ?? 0, 0, 0xffffffff);
  const index = opts.index ?? iota(y.length);
  if (index.length !== y.length) throw invalidOption('index', `${y.length} sample indices`, index);
  const streams = checkStreams(opts.rngs, y.length);
  if (!model.vjp) throw new UsageError(`fab-t needs input gradients but model '${model.name}' has no vjp; only square runs on it`);
  const K = model.numClasses;
  if (K < 2) throw invalidOption('numClasses', 'at least 2 classes for fab-t', K);
  const nT = opts.target ? 1 : Math.min(is.int('nTargetClasses', opts.nTargetClasses ?? 9, 1), K - 1);
  if (opts.target && opts.target.length !== y.length) throw invalidOption('target', `${y.length} target classes`, opts.target);
  const d = sampleSize(model);
  const n = y.length;
  const z = await logitsBatched(model, x, n, Math.max(1, n));
  const robust = new Uint8Array(n);
  for (let i = 0; i < n; i++) robust[i] = argmaxRow(z, i * K, K) === y[i] ? 1 : 0;
  const xAdv = x.slice();
  const xMin = x.slice();
  const dist = new Float64Array(n).fill(Infinity);
  let gradCalls = 0;
  for (let c = 2; c <= nT + 1; c++) {
    const target = opts.target ?? kthClass(z, K, c);
    for (let r = 0; r < nRestarts; r++) {
      const idx = nonzero(robust);
      if (idx.length === 0) break;
      const xs = gather(x, idx, d);
      const ys = gatherInt(y, idx);
      const ts = gatherInt(target, idx);
      const rngs = sampleRngs(seed, `fab-t:t${c}:r${r}`, gatherInt(index, idx), pickStreams(streams, idx));
      const run = await fabSingle(model, xs, ys, ts, nIter, alphaMax, eta, beta, r > 0, eps, rngs, opts.stopAtEps ?? false);
      gradCalls += run.gradCalls;
      const zc = await model.logits(run.adv, idx.length);
      for (let q = 0; q < idx.length; q++) {
        const s = idx[q]!;
        const rq = run.res[q]!;
        if (rq < dist[s]!) {
          dist[s] = rq;
          xMin.set(run.adv.subarray(q * d, q * d + d), s * d);
        }
        const stillCorrect = argmaxRow(zc, q * K, K) === y[s];
        if (!stillCorrect && linfDist(run.adv, xs, q * d, d) <= eps) {
          robust[s] = 0;
          xAdv.set(run.adv.subarray(q * d, q * d + d), s * d);
        }
      }
    }
  }
  return { xAdv, robust, dist, xMin, targetsRun: nT, gradCalls };
}
