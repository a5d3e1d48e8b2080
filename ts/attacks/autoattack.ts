/**
 * AutoAttack (Croce & Hein 2020), ℓ∞, version 'standard': APGD-CE, APGD-T, FAB-T and Square run in this
 * order, each only on the points still robust, and a point is robust when all four failed. The result
 * records each component's count of newly broken points (`aa_components` of CONVENTIONS.md), the version,
 * the seed and the budget.
 *
 * | component | standard | aa-demo (demo preset only; never reported as standard) |
 * |---|---|---|
 * | apgd-ce | 100 iterations, 1 restart, ρ 0.75 | 20 iterations |
 * | apgd-t | 9 targets × 100 iterations × 1 restart | 3 targets × 20 iterations |
 * | fab-t | 9 targets × 100 iterations × 1 restart, α_max 0.1, η 1.05, β 0.9 | 3 targets × 20 iterations |
 * | square | 5000 queries, p_init 0.8, 1 restart | 500 queries |
 *
 * Checks as AutoAttack makes them, which throw {@link AutoAttackCheckError}: every adversarial pixel in
 * [0,1], no NaN, ‖δ‖∞ ≤ ε, robust accuracy ≤ clean accuracy. Warnings (stderr, and in the result), each
 * explained in docs/autoattack-flags.md: zero input gradients on clean points, Square breaking points
 * the gradient attacks missed (gradient masking), fewer than 9 target classes, a model without gradients.
 *
 * Models without `vjp` (integer engines) get Square only; the result says which components were skipped
 * and is then not a standard AutoAttack number (`complete: false`).
 */
import * as is from '../util/is.ts';
import { invalidOption } from '../util/errors.ts';
import type { Rng } from '../util/rng.ts';
import type { AttackModel } from './model.ts';
import { sampleSize } from './model.ts';
import {
  checkAdversarial, checkEps, checkInputs, checkRobustLeClean, checkStreams, correctFlags, gather, gatherInt, nonzero, pickStreams,
} from './aa-common.ts';
import { apgd, apgdTargeted } from './apgd.ts';
import { fabTargeted } from './fab.ts';
import { square } from './square.ts';
import { ceLoss } from './dlr.ts';

/** The components of AutoAttack standard, in their order (CONVENTIONS.md ids). */
export const AA_COMPONENTS = ['apgd-ce', 'apgd-t', 'fab-t', 'square'] as const;
/** A component id. */
export type AaComponent = (typeof AA_COMPONENTS)[number];
/** Versions: the published 'standard' and the reduced 'aa-demo' of the demo preset. */
export const AA_VERSIONS = ['standard', 'aa-demo'] as const;
/** A version name. */
export type AaVersion = (typeof AA_VERSIONS)[number];

/** The budget of every component. */
export interface AaBudget {
  apgdIter: number;
  apgdRestarts: number;
  apgdTargets: number;
  apgdTIter: number;
  fabTargets: number;
  fabIter: number;
  fabRestarts: number;
  squareQueries: number;
  squarePInit: number;
}

/** Budgets per version (frozen; the standard one is the paper's). */
export const AA_BUDGETS: Readonly<Record<AaVersion, Readonly<AaBudget>>> = Object.freeze({
  standard: Object.freeze({ apgdIter: 100, apgdRestarts: 1, apgdTargets: 9, apgdTIter: 100, fabTargets: 9, fabIter: 100, fabRestarts: 1, squareQueries: 5000, squarePInit: 0.8 }),
  'aa-demo': Object.freeze({ apgdIter: 20, apgdRestarts: 1, apgdTargets: 3, apgdTIter: 20, fabTargets: 3, fabIter: 20, fabRestarts: 1, squareQueries: 500, squarePInit: 0.8 }),
});

/** Where the warnings link. */
export const AA_FLAGS_DOC = 'docs/autoattack-flags.md';

/**
 * Square may break at most this fraction of all points that the gradient attacks missed before the
 * masking warning fires (AutoAttack's check: 0.2 percentage points of robust accuracy).
 */
export const SQUARE_MASKING_THRESHOLD = 0.002;

/** Options of {@link autoAttack}. */
export interface AutoAttackOptions {
  /** ℓ∞ budget in [0,1] pixel units */
  eps: number;
  /** threat model: 'Linf' only */
  norm?: 'Linf';
  /** 'standard' (default) or 'aa-demo' */
  version?: AaVersion;
  /** seed of every random step (0); recorded */
  seed?: number;
  /** per-sample base streams instead of the seed (the adversarial suite's per-sample forks); seed is then recorded as null */
  rngs?: readonly Rng[];
  /** samples per chunk; each chunk runs all components (100) */
  batch?: number;
  /** receives each warning line (default: written to stderr) */
  warn?: (line: string) => void;
  /** components to run, in the standard order (all) — for benchmarks and tests; a subset is not standard */
  components?: readonly AaComponent[];
  /** called after each component on each chunk (progress for long runs) */
  onComponent?: (info: { component: AaComponent; offset: number; attacked: number; broken: number; seconds: number }) => void;
}

/** Result of {@link autoAttack}. */
export interface AutoAttackResult {
  attack: 'aa';
  version: AaVersion;
  norm: 'Linf';
  eps: number;
  /** the seed, or null when per-sample streams were handed in */
  seed: number | null;
  model: string;
  n: number;
  /** 1 where the clean point is classified correctly */
  clean: Uint8Array;
  /** 1 where no component broke the point (always ≤ clean) */
  robust: Uint8Array;
  /** adversarial points where broken, the clean point elsewhere */
  xAdv: Float32Array;
  /** percent */
  cleanAccuracy: number;
  /** percent */
  robustAccuracy: number;
  /** newly broken points per component (CONVENTIONS.md `aa_components`) */
  components: Record<AaComponent, number>;
  /** per component, 1 for the points it broke (each broken point has exactly one) */
  brokenBy: Record<AaComponent, Uint8Array>;
  /** wall-clock seconds per component */
  seconds: Record<AaComponent, number> & { total: number };
  /** the budget that ran */
  budget: AaBudget;
  /** components not run (model without gradients, or a subset asked for) */
  skipped: AaComponent[];
  /** true when all four components ran at the standard budget */
  complete: boolean;
  /** largest ‖δ‖∞ over the broken points */
  maxPerturbation: number;
  /** the warnings issued */
  warnings: string[];
}

function warnLine(key: string, text: string): string {
  return `autoattack warning (${key}): ${text} See ${AA_FLAGS_DOC}#${key}`;
}

/**
 * Runs AutoAttack (ℓ∞) on a labelled batch.
 * @param model the attacked model; with `vjp` all four components run, without it only Square
 * @param x n samples, NCHW float32 in [0,1]
 * @param y n labels
 * @param opts ε, version ('standard' | 'aa-demo'), seed
 * @returns per-sample clean and robust flags, the adversarials, per-component counts and timings
 * @throws UsageError for ε < 0, a norm other than 'Linf', an unknown version or bad inputs;
 *   AutoAttackCheckError when an output check fails (‖δ‖∞ > ε, pixel outside [0,1], NaN, robust > clean)
 * @example
 * const r = await autoAttack(model, x, y, { eps: 0.5 / 255, version: 'standard', seed: 0 });
 * r.robustAccuracy <= r.cleanAccuracy // true
 * Object.keys(r.components) // ['apgd-ce', 'apgd-t', 'fab-t', 'square']
 */
export async function autoAttack(model: AttackModel, x: Float32Array, y: Int32Array, opts: AutoAttackOptions): Promise<AutoAttackResult> {
  const eps = checkEps(opts?.eps);
  if ((opts.norm ?? 'Linf') !== 'Linf') throw invalidOption('norm', "'Linf' (AutoAttack here is the ℓ∞ threat model)", opts.norm);
  const version = is.oneOf('version', opts.version ?? 'standard', AA_VERSIONS);
  const seed = is.int('seed', opts.seed ?? 0, 0, 0xffffffff);
  const batch = is.int('batch', opts.batch ?? 100, 1);
  const wanted = opts.components ?? AA_COMPONENTS;
  for (const c of wanted) is.oneOf('components', c, AA_COMPONENTS);
  const n = checkInputs(model, x, y);
  const streams = checkStreams(opts.rngs, n);
  const d = sampleSize(model);
  const K = model.numClasses;
  const budget: AaBudget = { ...AA_BUDGETS[version] };
  const warnings: string[] = [];
  const emit = (key: string, text: string): void => {
    const line = warnLine(key, text);
    if (warnings.includes(line)) return;
    warnings.push(line);
    (opts.warn ?? ((l: string) => process.stderr.write(`${l}\n`)))(line);
  };

  const hasGrad = typeof model.vjp === 'function';
  const skipped: AaComponent[] = AA_COMPONENTS.filter((c) => !wanted.includes(c) || (!hasGrad && c !== 'square') || (c === 'apgd-t' && K < 4));
  if (!hasGrad) emit('no-gradient', `model '${model.name}' has no input gradients; only Square runs, and the result is not a standard AutoAttack number.`);
  const run = (c: AaComponent): boolean => !skipped.includes(c);
  if (wanted.includes('apgd-t') && hasGrad && K < 4) {
    emit('few-classes', `the model has ${K} classes; apgd-t needs at least 4 (targeted DLR loss) and is skipped, so the result is not a standard AutoAttack number.`);
  }
  if ((run('apgd-t') && K - 1 < budget.apgdTargets) || (run('fab-t') && K - 1 < budget.fabTargets)) {
    emit('few-classes', `the model has ${K} classes, so apgd-t and fab-t use ${Math.min(K - 1, budget.apgdTargets)} target classes instead of ${budget.apgdTargets}.`);
  }

  const components: Record<AaComponent, number> = { 'apgd-ce': 0, 'apgd-t': 0, 'fab-t': 0, square: 0 };
  const brokenBy = { 'apgd-ce': new Uint8Array(n), 'apgd-t': new Uint8Array(n), 'fab-t': new Uint8Array(n), square: new Uint8Array(n) };
  const seconds = { 'apgd-ce': 0, 'apgd-t': 0, 'fab-t': 0, square: 0, total: 0 };
  const t0 = performance.now();
  const clean = await correctFlags(model, x, y, batch);
  const robust = clean.slice();
  const xAdv = x.slice();
  let zeroGrad = 0;

  for (let s0 = 0; s0 < n; s0 += batch) {
    const cnt = Math.min(batch, n - s0);
    // zero-gradient check on the clean-correct points of this chunk (AutoAttack's check_zero_gradients)
    if (hasGrad && run('apgd-ce')) {
      const idx: number[] = [];
      for (let i = s0; i < s0 + cnt; i++) if (robust[i]) idx.push(i);
      if (idx.length > 0) {
        const xs = gather(x, idx, d);
        const ys = gatherInt(y, idx);
        const g = await model.vjp!(xs, idx.length, (z) => ceLoss(z, ys, K).grad);
        for (let q = 0; q < idx.length; q++) {
          let nz = false;
          for (let j = 0; j < d && !nz; j++) if (g.grad[q * d + j] !== 0) nz = true;
          if (!nz) zeroGrad++;
        }
      }
    }
    for (const comp of AA_COMPONENTS) {
      if (!run(comp)) continue;
      const idx: number[] = [];
      for (let i = s0; i < s0 + cnt; i++) if (robust[i]) idx.push(i);
      if (idx.length === 0) break;
      const gidx = Int32Array.from(idx);
      const xs = gather(x, gidx, d);
      const ys = gatherInt(y, gidx);
      const rngs = pickStreams(streams, gidx);
      const before = components[comp];
      const tc = performance.now();
      let res: { xAdv: Float32Array; robust: Uint8Array };
      if (comp === 'apgd-ce') {
        res = await apgd(model, xs, ys, { eps, nIter: budget.apgdIter, nRestarts: budget.apgdRestarts, seed, index: gidx, rngs, label: 'apgd-ce', stopOnBreak: true });
      } else if (comp === 'apgd-t') {
        res = await apgdTargeted(model, xs, ys, { eps, nIter: budget.apgdTIter, nRestarts: 1, nTargetClasses: budget.apgdTargets, seed, index: gidx, rngs, label: 'apgd-t', stopOnBreak: true });
      } else if (comp === 'fab-t') {
        res = await fabTargeted(model, xs, ys, { eps, nIter: budget.fabIter, nRestarts: budget.fabRestarts, nTargetClasses: budget.fabTargets, seed, index: gidx, rngs, stopAtEps: true });
      } else {
        res = await square(model, xs, ys, { eps, nQueries: budget.squareQueries, pInit: budget.squarePInit, nRestarts: 1, seed, index: gidx, rngs, batch });
      }
      // AutoAttack re-predicts the adversarials and only counts points the model now misclassifies
      const claimed = nonzero(Uint8Array.from(res.robust, (r) => 1 - r));
      if (claimed.length > 0) {
        const xa = gather(res.xAdv, claimed, d);
        checkAdversarial(gather(xs, claimed, d), xa, eps, d, comp);
        const ok = await correctFlags(model, xa, gatherInt(ys, claimed), batch);
        for (let q = 0; q < claimed.length; q++) {
          if (ok[q]) continue;
          const i = gidx[claimed[q]!]!;
          robust[i] = 0;
          components[comp]++;
          brokenBy[comp][i] = 1;
          xAdv.set(xa.subarray(q * d, q * d + d), i * d);
        }
      }
      const dt = (performance.now() - tc) / 1000;
      seconds[comp] += dt;
      opts.onComponent?.({ component: comp, offset: s0, attacked: idx.length, broken: components[comp] - before, seconds: dt });
    }
  }
  seconds.total = (performance.now() - t0) / 1000;

  const maxPerturbation = checkAdversarial(x, xAdv, eps, d, 'aa');
  checkRobustLeClean(clean, robust);
  if (zeroGrad > 0) {
    emit('zero-gradient', `${zeroGrad} clean-correct point(s) have an exactly zero input gradient of the cross-entropy; gradient attacks cannot move them (masked or quantized gradients).`);
  }
  if (run('square') && (run('apgd-ce') || run('apgd-t') || run('fab-t')) && components.square > SQUARE_MASKING_THRESHOLD * n) {
    emit('square-breaks', `Square broke ${components.square} of ${n} points that the gradient attacks missed (robust accuracy fell by ${(100 * components.square / n).toFixed(2)} percentage points); the gradients look masked, so gradient-based robustness numbers of this model are unreliable.`);
  }
  let nClean = 0;
  let nRobust = 0;
  for (let i = 0; i < n; i++) {
    nClean += clean[i]!;
    nRobust += robust[i]!;
  }
  return {
    attack: 'aa',
    version,
    norm: 'Linf',
    eps,
    seed: streams ? null : seed,
    model: model.name,
    n,
    clean,
    robust,
    xAdv,
    cleanAccuracy: n ? (100 * nClean) / n : 0,
    robustAccuracy: n ? (100 * nRobust) / n : 0,
    components,
    brokenBy,
    seconds,
    budget,
    skipped,
    complete: version === 'standard' && skipped.length === 0,
    maxPerturbation,
    warnings,
  };
}
