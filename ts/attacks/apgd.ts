/**
 * APGD (Croce & Hein 2020, "Reliable evaluation of adversarial robustness with an ensemble of diverse
 * parameter-free attacks"), ℓ∞: projected gradient ascent with momentum 0.75 and a step size that starts
 * at 2ε and is halved at checkpoints when the loss oscillates or stopped improving, restarting from the
 * best point found. Two losses as in AutoAttack standard: cross-entropy (APGD-CE) and the targeted DLR
 * loss over the 9 classes with the next-highest clean logits (APGD-T).
 *
 * Paper / reference-implementation semantics kept here:
 * - start: x + ε·t/‖t‖∞, t ~ U[−1,1]^d, clipped to [0,1];
 * - step i: z = P(x_i + η·sign(∇)), x_{i+1} = P(x_i + α(z − x_i) + (1−α)(x_i − x_{i−1})), α = 1 at the
 *   first step, 0.75 afterwards, P the projection on the ε-ball ∩ [0,1]^d;
 * - checkpoints after 22, 41, 57, 70, 80, 87, 93, 99 iterations of 100 (first interval ⌊0.22·N⌋, then
 *   shrinking by ⌊0.03·N⌋ down to ⌊0.06·N⌋); at each the step is halved for a sample when
 *   (1) the loss increased in at most ρ·k of the last k steps (ρ = 0.75; the reference's `≤`), or
 *   (2) the step was not halved at the previous checkpoint and the best loss has not grown since;
 *   the halved samples restart from their best point and its gradient;
 * - a sample counts as broken as soon as any iterate is misclassified; that iterate is returned.
 *
 * Shapes: x is n·C·H·W float32 in [0,1], y n labels. Supported: norm ℓ∞ only.
 *
 * Randomness: one stream per sample (its global index), so a sample's attack does not depend on the
 * other samples in the batch.
 */
import { UsageError, invalidOption } from '../util/errors.ts';
import type { Rng } from '../util/rng.ts';
import * as is from '../util/is.ts';
import type { AttackModel } from './model.ts';
import { sampleSize } from './model.ts';
import {
  argmaxRow, checkEps, checkInputs, checkStreams, clipLinf, correctFlags, gather, gatherInt, iota, kthClass, logitsBatched, nonzero,
  pickStreams, sampleRngs,
} from './aa-common.ts';
import { ceLoss, dlrLoss, dlrTargetedLoss, type LossAndGrad } from './dlr.ts';

/** Loss maximised by APGD. */
export type ApgdLoss = 'ce' | 'dlr' | 'dlr-targeted';

/** Options of one APGD run; defaults are AutoAttack standard's. */
export interface ApgdOptions {
  /** ℓ∞ budget in [0,1] pixel units */
  eps: number;
  /** iterations per restart (100) */
  nIter?: number;
  /** restarts, each on the points still robust (1) */
  nRestarts?: number;
  /** oscillation threshold ρ of condition (1) (0.75) */
  rho?: number;
  /** 'ce' (APGD-CE, default), 'dlr', or 'dlr-targeted' (needs `target`) */
  loss?: ApgdLoss;
  /** per-sample target classes for 'dlr-targeted' */
  target?: Int32Array;
  /** seed of the random starts (0) */
  seed?: number;
  /** global indices of the samples, for the per-sample random streams (0..n−1) */
  index?: Int32Array;
  /** per-sample base streams (one per sample; overrides seed/index for the random starts) */
  rngs?: readonly Rng[];
  /** label that separates this run's random streams from other runs' ('apgd') */
  label?: string;
  /** freeze a sample once an iterate is misclassified (saves model calls; AutoAttack's outcome is unchanged for per-sample models). Default false */
  stopOnBreak?: boolean;
}

/** Result of {@link apgd} / {@link apgdTargeted}. */
export interface ApgdResult {
  /** n samples: a misclassified iterate where broken, the clean point elsewhere */
  xAdv: Float32Array;
  /** 1 where the point is clean-correct and no iterate was misclassified */
  robust: Uint8Array;
  /** highest-loss point of the last run per sample (the clean point where it was not run) */
  xBest: Float32Array;
  /** its loss (−∞ where not run) */
  lossBest: Float64Array;
  /** step size at the end of the last run (NaN where not run) */
  stepSize: Float64Array;
  /** number of halvings in the last run */
  reductions: Int32Array;
  /** model gradient calls made (batched calls count once per call) */
  gradCalls: number;
}

/**
 * The iteration counts after which APGD checks its step size (cumulative), for N iterations:
 * the first after ⌊0.22·N⌋, each next interval 3%·N shorter, at least 6%·N.
 * @param nIter N
 * @returns the checkpoints, e.g. [22, 41, 57, 70, 80, 87, 93, 99] for N = 100
 * @throws UsageError when N is not a positive integer
 * @example
 * apgdCheckpoints(100) // [22, 41, 57, 70, 80, 87, 93, 99]
 */
export function apgdCheckpoints(nIter: number): number[] {
  is.int('nIter', nIter, 1);
  const first = Math.max(Math.floor(0.22 * nIter), 1);
  const min = Math.max(Math.floor(0.06 * nIter), 1);
  const decr = Math.max(Math.floor(0.03 * nIter), 1);
  const out: number[] = [];
  let k = first;
  let at = k;
  while (at <= nIter) {
    out.push(at);
    k = Math.max(k - decr, min);
    at += k;
  }
  return out;
}

/**
 * Condition (1) of the step-size rule for one sample: did the loss increase in at most ρ·k of the k
 * steps ending at iteration j? `lossSteps[i]` is the loss after iteration i; like the reference, the
 * step before iteration 0 reads the (still zero) last slot of the array.
 * @param lossSteps per-iteration losses of the sample (length N)
 * @param j the current iteration (0-based)
 * @param k the interval length
 * @param rho the threshold ρ
 * @returns true when the step should be halved
 * @throws never
 * @example
 * // 2 increases (the oldest step compares with slot −1, the last) ≤ 0.75·4
 * apgdOscillation([1, 2, 1, 2], 3, 4, 0.75) // true
 */
export function apgdOscillation(lossSteps: ArrayLike<number>, j: number, k: number, rho: number): boolean {
  const n = lossSteps.length;
  let t = 0;
  for (let c = 0; c < k; c++) {
    const a = lossSteps[(((j - c) % n) + n) % n]!;
    const b = lossSteps[(((j - c - 1) % n) + n) % n]!;
    if (a > b) t++;
  }
  return t <= k * rho;
}

function lossOf(kind: ApgdLoss, z: Float32Array, y: Int32Array, t: Int32Array | undefined, k: number): LossAndGrad {
  if (kind === 'ce') return ceLoss(z, y, k);
  if (kind === 'dlr') return dlrLoss(z, y, k);
  return dlrTargetedLoss(z, y, t!, k);
}

interface SingleRun {
  xBestAdv: Float32Array;
  acc: Uint8Array;
  xBest: Float32Array;
  lossBest: Float64Array;
  stepSize: Float64Array;
  reductions: Int32Array;
  gradCalls: number;
}

function requireVjp(model: AttackModel, who: string): NonNullable<AttackModel['vjp']> {
  if (!model.vjp) {
    throw new UsageError(`${who} needs input gradients but model '${model.name}' has no vjp (an integer engine or black box); only square runs on it`);
  }
  return model.vjp.bind(model);
}

/** One APGD run over m samples (AutoAttack's attack_single_run). */
async function apgdSingle(
  model: AttackModel, x: Float32Array, y: Int32Array, target: Int32Array | undefined, eps: number, nIter: number,
  rho: number, kind: ApgdLoss, rngs: { uniform(): number }[], stopOnBreak: boolean,
): Promise<SingleRun> {
  const vjp = requireVjp(model, kind === 'ce' ? 'apgd-ce' : 'apgd-t');
  const d = sampleSize(model);
  const K = model.numClasses;
  const m = y.length;
  const xAdv = new Float32Array(m * d);
  // random start x + ε·t/‖t‖∞
  const t = new Float64Array(d);
  for (let s = 0; s < m; s++) {
    let mx = 0;
    for (let j = 0; j < d; j++) {
      t[j] = 2 * rngs[s]!.uniform() - 1;
      mx = Math.max(mx, Math.abs(t[j]!));
    }
    if (mx === 0) mx = 1;
    for (let j = 0; j < d; j++) xAdv[s * d + j] = clipLinf(x[s * d + j]! + eps * t[j]! / mx, x[s * d + j]!, eps);
  }
  let gradCalls = 0;
  const evalAt = async (idx: Int32Array | null): Promise<{ z: Float32Array; lg: LossAndGrad; g: Float32Array }> => {
    const xs = idx ? gather(xAdv, idx, d) : xAdv;
    const ys = idx ? gatherInt(y, idx) : y;
    const ts = target ? (idx ? gatherInt(target, idx) : target) : undefined;
    const cnt = ys.length;
    let lg: LossAndGrad | undefined;
    const r = await vjp(xs, cnt, (z) => {
      lg = lossOf(kind, z, ys, ts, K);
      return lg.grad;
    });
    gradCalls++;
    return { z: r.logits, lg: lg!, g: r.grad };
  };

  const grad = new Float32Array(m * d);
  const first = await evalAt(null);
  grad.set(first.g);
  const acc = new Uint8Array(m);
  const lossBest = new Float64Array(m);
  for (let s = 0; s < m; s++) {
    acc[s] = argmaxRow(first.z, s * K, K) === y[s] ? 1 : 0;
    lossBest[s] = first.lg.loss[s]!;
  }
  const xBest = xAdv.slice();
  const gradBest = grad.slice();
  const xBestAdv = xAdv.slice();
  const xOld = xAdv.slice();
  const stepSize = new Float64Array(m).fill(2 * eps);
  const reductions = new Int32Array(m);
  const lossSteps: Float64Array[] = [];
  for (let s = 0; s < m; s++) lossSteps.push(new Float64Array(nIter));
  const lossBestLastCheck = lossBest.slice();
  const reducedLastCheck = new Uint8Array(m).fill(1);
  let k = Math.max(Math.floor(0.22 * nIter), 1);
  const kMin = Math.max(Math.floor(0.06 * nIter), 1);
  const kDecr = Math.max(Math.floor(0.03 * nIter), 1);
  let counter3 = 0;

  for (let i = 0; i < nIter; i++) {
    const active: number[] = [];
    for (let s = 0; s < m; s++) if (!stopOnBreak || acc[s]) active.push(s);
    if (active.length === 0) break;
    const a = i > 0 ? 0.75 : 1.0;
    for (const s of active) {
      const o = s * d;
      const eta = stepSize[s]!;
      for (let j = 0; j < d; j++) {
        const x0 = x[o + j]!;
        const xa = xAdv[o + j]!;
        const g = grad[o + j]!;
        const sg = g > 0 ? 1 : g < 0 ? -1 : 0;
        let z1 = xa + eta * sg;
        z1 = Math.min(Math.max(z1, x0 - eps, 0), x0 + eps, 1);
        const v = xa + (z1 - xa) * a + (xa - xOld[o + j]!) * (1 - a);
        xOld[o + j] = xa;
        xAdv[o + j] = clipLinf(v, x0, eps);
      }
    }
    const all = active.length === m;
    const idx = all ? null : Int32Array.from(active);
    const r = await evalAt(idx);
    for (let q = 0; q < active.length; q++) {
      const s = active[q]!;
      const o = s * d;
      grad.set(r.g.subarray(q * d, q * d + d), o);
      const pred = argmaxRow(r.z, q * K, K) === y[s];
      if (!pred) {
        acc[s] = 0;
        xBestAdv.set(xAdv.subarray(o, o + d), o);
      }
      const l = r.lg.loss[q]!;
      lossSteps[s]![i] = l;
      if (l > lossBest[s]!) {
        xBest.set(xAdv.subarray(o, o + d), o);
        gradBest.set(grad.subarray(o, o + d), o);
        lossBest[s] = l;
      }
    }
    counter3++;
    if (counter3 === k) {
      for (const s of active) {
        const osc = apgdOscillation(lossSteps[s]!, i, k, rho);
        const noImpr = !reducedLastCheck[s] && lossBestLastCheck[s]! >= lossBest[s]!;
        const reduce = osc || noImpr;
        reducedLastCheck[s] = reduce ? 1 : 0;
        lossBestLastCheck[s] = lossBest[s]!;
        if (reduce) {
          stepSize[s] = stepSize[s]! / 2;
          reductions[s]++;
          const o = s * d;
          xAdv.set(xBest.subarray(o, o + d), o);
          grad.set(gradBest.subarray(o, o + d), o);
        }
      }
      k = Math.max(k - kDecr, kMin);
      counter3 = 0;
    }
  }
  return { xBestAdv, acc, xBest, lossBest, stepSize, reductions, gradCalls };
}

interface Resolved {
  eps: number;
  nIter: number;
  nRestarts: number;
  rho: number;
  seed: number;
  index: Int32Array;
  streams: readonly Rng[] | undefined;
  label: string;
  stopOnBreak: boolean;
}

function resolve(model: AttackModel, x: Float32Array, y: Int32Array, o: ApgdOptions, label: string): Resolved {
  checkInputs(model, x, y);
  const eps = checkEps(o.eps);
  const nIter = is.int('nIter', o.nIter ?? 100, 1);
  const nRestarts = is.int('nRestarts', o.nRestarts ?? 1, 1);
  const rho = is.num('rho', o.rho ?? 0.75, 0, 1);
  const seed = is.int('seed', o.seed ?? 0, 0, 0xffffffff);
  const index = o.index ?? iota(y.length);
  if (index.length !== y.length) throw invalidOption('index', `${y.length} sample indices`, index);
  const streams = checkStreams(o.rngs, y.length);
  return { eps, nIter, nRestarts, rho, seed, index, streams, label: o.label ?? label, stopOnBreak: o.stopOnBreak ?? false };
}

function emptyResult(x: Float32Array, n: number, clean: Uint8Array): ApgdResult {
  return {
    xAdv: x.slice(),
    robust: clean.slice(),
    xBest: x.slice(),
    lossBest: new Float64Array(n).fill(-Infinity),
    stepSize: new Float64Array(n).fill(NaN),
    reductions: new Int32Array(n),
    gradCalls: 0,
  };
}

async function runRestarts(
  model: AttackModel, x: Float32Array, y: Int32Array, target: Int32Array | undefined, kind: ApgdLoss, r: Resolved,
  res: ApgdResult, label: string,
): Promise<void> {
  const d = sampleSize(model);
  for (let rs = 0; rs < r.nRestarts; rs++) {
    const idx = nonzero(res.robust);
    if (idx.length === 0) return;
    const xs = gather(x, idx, d);
    const ys = gatherInt(y, idx);
    const ts = target ? gatherInt(target, idx) : undefined;
    const rngs = sampleRngs(r.seed, `${label}:r${rs}`, gatherInt(r.index, idx), pickStreams(r.streams, idx));
    const run = await apgdSingle(model, xs, ys, ts, r.eps, r.nIter, r.rho, kind, rngs, r.stopOnBreak);
    res.gradCalls += run.gradCalls;
    for (let q = 0; q < idx.length; q++) {
      const s = idx[q]!;
      if (!run.acc[q]) {
        res.robust[s] = 0;
        res.xAdv.set(run.xBestAdv.subarray(q * d, q * d + d), s * d);
      }
      res.xBest.set(run.xBest.subarray(q * d, q * d + d), s * d);
      res.lossBest[s] = run.lossBest[q]!;
      res.stepSize[s] = run.stepSize[q]!;
      res.reductions[s] = run.reductions[q]!;
    }
  }
}

/**
 * APGD with one loss (APGD-CE by default) on the points the model classifies correctly.
 * @param model a model with `vjp`
 * @param x n samples, NCHW float32 in [0,1]
 * @param y n labels
 * @param opts ε and the schedule; defaults are AutoAttack standard's (100 iterations, 1 restart, ρ 0.75)
 * @returns adversarial points, robust flags and the run's diagnostics
 * @throws UsageError for ε < 0, bad options or inputs, a model without vjp, or 'dlr-targeted' without targets
 * @example
 * const r = await apgd(model, x, y, { eps: 8 / 255, seed: 0 });
 * r.robust.length // 10
 */
export async function apgd(model: AttackModel, x: Float32Array, y: Int32Array, opts: ApgdOptions): Promise<ApgdResult> {
  const r = resolve(model, x, y, opts, 'apgd');
  const kind = is.oneOf('loss', opts.loss ?? 'ce', ['ce', 'dlr', 'dlr-targeted'] as const);
  if (kind === 'dlr-targeted' && (!opts.target || opts.target.length !== y.length)) {
    throw invalidOption('target', `Int32Array of ${y.length} target classes for loss 'dlr-targeted'`, opts.target);
  }
  requireVjp(model, 'apgd');
  const clean = await correctFlags(model, x, y, Math.max(1, y.length));
  const res = emptyResult(x, y.length, clean);
  await runRestarts(model, x, y, opts.target, kind, r, res, r.label);
  return res;
}

/** Options of {@link apgdTargeted}: those of APGD plus the number of target classes. */
export interface ApgdTargetedOptions extends Omit<ApgdOptions, 'loss' | 'target'> {
  /** targets: the classes with the 2nd … (n+1)-th highest clean logits (9; capped at K−1) */
  nTargetClasses?: number;
}

/**
 * APGD-T: APGD on the targeted DLR loss, once per target class (the 2nd to 10th highest clean logits),
 * each run on the points still robust.
 * @param model a model with `vjp` and K ≥ 4 classes
 * @param x n samples, NCHW float32 in [0,1]
 * @param y n labels
 * @param opts ε, schedule and number of targets (AutoAttack standard: 9 targets × 100 iterations × 1 restart)
 * @returns adversarial points, robust flags, and `targetsRun` (targets actually used: min(9, K−1))
 * @throws UsageError for ε < 0, bad options, K < 4 or a model without vjp
 * @example
 * const r = await apgdTargeted(model, x, y, { eps: 8 / 255 });
 * r.targetsRun // 9
 */
export async function apgdTargeted(model: AttackModel, x: Float32Array, y: Int32Array, opts: ApgdTargetedOptions): Promise<ApgdResult & { targetsRun: number }> {
  const r = resolve(model, x, y, opts, 'apgd-t');
  const K = model.numClasses;
  if (K < 4) throw invalidOption('numClasses', 'at least 4 classes for apgd-t (targeted DLR loss)', K);
  const nT = Math.min(is.int('nTargetClasses', opts.nTargetClasses ?? 9, 1), K - 1);
  requireVjp(model, 'apgd-t');
  const z = await logitsBatched(model, x, y.length, Math.max(1, y.length));
  const clean = new Uint8Array(y.length);
  for (let i = 0; i < y.length; i++) clean[i] = argmaxRow(z, i * K, K) === y[i] ? 1 : 0;
  const res = emptyResult(x, y.length, clean);
  for (let c = 2; c <= nT + 1; c++) {
    const target = kthClass(z, K, c);
    await runRestarts(model, x, y, target, 'dlr-targeted', r, res, `${r.label}:t${c}`);
  }
  return { ...res, targetsRun: nT };
}
