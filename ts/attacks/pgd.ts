/**
 * Projected gradient descent on the cross-entropy, in three norms:
 * - {@link PGD} (ℓ∞) and {@link PGDL2} (ℓ2) with foolbox 3.3.1 semantics (LinfPGD / L2PGD, as RobustART);
 * - {@link PGDL1} (ℓ1) with ART's ProjectedGradientDescent(norm=1) semantics (as RobustART's PGD-ℓ1).
 * Paper defaults (PROTOCOL.md §2): 20 steps, step 0.075ε (foolbox rel_stepsize = 3/40; for ℓ1 §7.2),
 * one random start, the last iterate returned (no best-loss tracking). The loss is the cross-entropy
 * summed over the batch; every step direction is normalised per sample, so the sum only matters for
 * ART's 1e-7 regulariser.
 */
import { invalidOption } from '../util/errors.ts';
import type { Rng } from '../util/rng.ts';
import type { AttackModel } from './model.ts';
import { sampleSize } from './model.ts';
import { Attack, ceInputGradient, type AttackConfig } from './base.ts';
import { clamp01, normalizeGradient, projectL1Exact, projectL2, projectLinf, rescaleL1, type Norm } from './norms.ts';

/** Options shared by the three PGD variants. */
export interface PgdOptions {
  /** radius; defaults: ℓ∞ 8/255, ℓ2 8.0, ℓ1 1600 (the ImageNet "large" tier) */
  eps?: number;
  /** gradient steps; default 20 */
  steps?: number;
  /** step as a fraction of ε; default 0.075 (3/40) */
  relStepsize?: number;
  /** absolute step; overrides relStepsize when given */
  absStepsize?: number;
  /** start from a random point of the ball; default true */
  randomStart?: boolean;
}

/** PGD-ℓ1 options: ART's rescale (default) or the exact Euclidean ℓ1-ball projection. */
export interface PgdL1Options extends PgdOptions {
  /** 'rescale' (ART default, `suboptimal=True`) or 'exact' */
  projection?: 'rescale' | 'exact';
}

interface Resolved {
  steps: number;
  relStepsize: number;
  absStepsize: number | null;
  randomStart: boolean;
}

function resolve(opts: PgdOptions): Resolved {
  if (opts === null || typeof opts !== 'object') throw invalidOption('options', 'an object', opts);
  const steps = opts.steps ?? 20;
  if (!Number.isInteger(steps) || steps < 0) throw invalidOption('steps', 'integer >= 0', steps);
  const relStepsize = opts.relStepsize ?? 0.075;
  if (typeof relStepsize !== 'number' || !Number.isFinite(relStepsize) || relStepsize < 0) throw invalidOption('relStepsize', 'a finite number >= 0', relStepsize);
  const abs = opts.absStepsize;
  if (abs !== undefined && (typeof abs !== 'number' || !Number.isFinite(abs) || abs < 0)) throw invalidOption('absStepsize', 'a finite number >= 0', abs);
  const randomStart = opts.randomStart ?? true;
  if (typeof randomStart !== 'boolean') throw invalidOption('randomStart', 'a boolean', randomStart);
  return { steps, relStepsize, absStepsize: abs ?? null, randomStart };
}

/**
 * A random start of sample i in place: x ← clip₀¹(x0 + r) with r drawn by the variant's rule.
 * Each writes d values of `adv` at offset o.
 */
function startLinf(adv: Float32Array, x0: Float32Array, o: number, d: number, eps: number, rng: Rng): void {
  // foolbox LinfPGD.get_random_start: x0 + U(-eps, eps)
  for (let j = 0; j < d; j++) adv[o + j] = x0[o + j]! + (2 * rng.uniform() - 1) * eps;
}

function startL2(adv: Float32Array, x0: Float32Array, o: number, d: number, eps: number, rng: Rng): void {
  // foolbox uniform_n_balls: a Gaussian in d+2 dimensions, normalised; the first d coordinates are
  // uniform in the unit d-ball (the two extra coordinates are drawn and dropped).
  const r = new Float64Array(d);
  let s = 0;
  for (let j = 0; j < d; j++) { const v = rng.normal(); r[j] = v; s += v * v; }
  for (let j = 0; j < 2; j++) { const v = rng.normal(); s += v * v; }
  const f = eps / Math.sqrt(s);
  for (let j = 0; j < d; j++) adv[o + j] = x0[o + j]! + r[j]! * f;
}

function startL1(adv: Float32Array, x0: Float32Array, o: number, d: number, eps: number, rng: Rng): void {
  // ART random_sphere(norm=1): radius ρ = sqrt(U(0, ε²)); magnitudes = the d spacings of d−1 sorted
  // U(0, ρ) draws (so they sum to ρ); independent ±1 signs. The spacings of sorted uniforms are
  // distributed as normalised Exp(1) draws (a flat Dirichlet), which needs no sort: same law, O(d).
  const rho = Math.sqrt(rng.uniform() * eps * eps);
  const e = new Float64Array(d);
  let s = 0;
  for (let j = 0; j < d; j++) { const v = -Math.log(1 - rng.uniform()); e[j] = v; s += v; }
  let bits = 0;
  for (let j = 0; j < d; j++) {
    if (j % 32 === 0) bits = rng.nextU32();
    const sign = (bits >>> (j % 32)) & 1 ? 1 : -1;
    adv[o + j] = x0[o + j]! + sign * (e[j]! / s) * rho;
  }
}

/** The shared PGD loop: random start, `steps` × {normalised CE gradient step, projection}. */
async function pgdLoop(
  who: string, model: AttackModel, norm: Norm, eps: number, alpha: number, r: Resolved,
  x: Float32Array, y: ArrayLike<number>, n: number, rngs: readonly Rng[], l1Projection: 'rescale' | 'exact' = 'rescale',
): Promise<Float32Array> {
  const d = sampleSize(model);
  const adv = x.slice();
  if (r.randomStart && eps > 0) {
    const start = norm === 'linf' ? startLinf : norm === 'l2' ? startL2 : startL1;
    for (let i = 0; i < n; i++) start(adv, x, i * d, d, eps, rngs[i]!);
    clamp01(adv);
  }
  for (let t = 0; t < r.steps; t++) {
    const { grad } = await ceInputGradient(model, adv, y, n, who);
    const g = normalizeGradient(grad, n, norm);
    for (let k = 0; k < adv.length; k++) adv[k] = adv[k]! + alpha * g[k]!;
    if (norm === 'linf') projectLinf(adv, x, eps);
    else if (norm === 'l2') projectL2(adv, x, n, eps);
    else {
      // ART: clip to the box after the step, then rescale δ (which keeps it in the box).
      clamp01(adv);
      if (l1Projection === 'rescale') rescaleL1(adv, x, n, eps); else projectL1Exact(adv, x, n, eps);
    }
  }
  return adv;
}

/**
 * PGD-ℓ∞ (Madry et al. 2018, "Towards Deep Learning Models Resistant to Adversarial Attacks"),
 * foolbox LinfPGD semantics.
 *
 * Distance Measure : Linf
 *
 * x₀ = clip₀¹(x + U[−ε, ε]); repeat `steps` times: x ← clip₀¹(x_orig + clip(x + α·sign(∇ₓCE) − x_orig, −ε, ε)),
 * α = relStepsize·ε. Returns the last iterate.
 *
 * Arguments:
 * - model: an {@link AttackModel} with `vjp`.
 * - eps (default 8/255), steps (20), relStepsize (0.075), absStepsize (none), randomStart (true).
 *
 * Shape: x n×C×H×W float32 in [0,1]; y n integer labels; output like x.
 *
 * Supported modes: untargeted, ground-truth labels.
 *
 * @example
 * const atk = new PGD(model, { eps: 8 / 255 });
 * const adv = await atk.perturb(x, y, n, new Rng(0));
 * atk.config().steps // 20
 */
export class PGD extends Attack {
  readonly id: string = 'pgd-linf';
  readonly norm: Norm = 'linf';
  protected readonly opts: Resolved;
  /**
   * @param model the target
   * @param opts see {@link PgdOptions}
   * @throws UsageError on ε < 0 or a bad option
   */
  constructor(model: AttackModel, opts: PgdOptions = {}) {
    super(model, opts?.eps ?? 8 / 255);
    this.opts = resolve(opts);
  }
  /** The step α. */
  get stepsize(): number {
    return this.opts.absStepsize ?? this.opts.relStepsize * this.eps;
  }
  config(): AttackConfig {
    return { attack: this.id, norm: this.norm, eps: this.eps, steps: this.opts.steps, stepsize: this.stepsize, random_start: this.opts.randomStart, semantics: 'foolbox-3.3.1 LinfPGD' };
  }
  protected run(x: Float32Array, y: ArrayLike<number>, n: number, rngs: readonly Rng[]): Promise<Float32Array> {
    return pgdLoop(this.id, this.model, this.norm, this.eps, this.stepsize, this.opts, x, y, n, rngs);
  }
}

/**
 * PGD-ℓ2 (Madry et al. 2018), foolbox L2PGD semantics.
 *
 * Distance Measure : L2
 *
 * x₀ = clip₀¹(x + ε·r), r uniform in the unit ℓ2 ball; repeat `steps` times: x ← x + α·g/max(‖g‖₂, 1e-12),
 * δ ← δ·min(1, ε/‖δ‖₂), x ← clip₀¹(x_orig + δ). α = relStepsize·ε. Returns the last iterate.
 *
 * Arguments: model; eps (default 8.0, ImageNet large), steps (20), relStepsize (0.075), absStepsize, randomStart (true).
 *
 * Shape: x n×C×H×W float32 in [0,1]; y n labels. Supported modes: untargeted.
 *
 * @example
 * const adv = await new PGDL2(model, { eps: 0.5 }).perturb(x, y, n, new Rng(0));
 * Math.max(...perSampleNorms(adv, x, n, 'l2')) <= 0.5 + 1e-5 // true
 */
export class PGDL2 extends PGD {
  override readonly id: string = 'pgd-l2';
  override readonly norm: Norm = 'l2';
  /** @throws UsageError on ε < 0 or a bad option */
  constructor(model: AttackModel, opts: PgdOptions = {}) {
    super(model, { ...opts, eps: opts?.eps ?? 8.0 });
  }
  override config(): AttackConfig {
    return { ...super.config(), attack: this.id, norm: this.norm, semantics: 'foolbox-3.3.1 L2PGD' };
  }
}

/**
 * PGD-ℓ1 with ART's ProjectedGradientDescent(norm=1) semantics (RobustART's PGD-ℓ1). A dense step,
 * not a sparse / top-k one.
 *
 * Distance Measure : L1
 *
 * x₀ = clip₀¹(x + r), r from ART's random_sphere(norm=1) (radius √U(0, ε²), flat-Dirichlet magnitudes,
 * random signs); repeat `steps` times: g ← g/(‖g‖₁ + 1e-7); x ← clip₀¹(x + α·g); δ ← δ·min(1, ε/(‖δ‖₁ + 1e-7)).
 * α = relStepsize·ε (PROTOCOL §7.2: 0.075ε). Returns the last iterate.
 *
 * NOTE: the dense step is not ℓ1-steepest ascent. On a linear model with weight difference w it
 * moves along w/‖w‖₁ and gains ε·‖w‖₂²/‖w‖₁ of margin, whereas the optimum ε·‖w‖∞ puts all of ε on
 * one coordinate; the two agree only when all |w_j| are equal. That is the attack the paper ran.
 *
 * Arguments: model; eps (default 1600, ImageNet large), steps (20), relStepsize (0.075), absStepsize,
 * randomStart (true), projection ('rescale' = ART default, or 'exact').
 *
 * Shape: x n×C×H×W float32 in [0,1]; y n labels. Supported modes: untargeted.
 *
 * @example
 * const adv = await new PGDL1(model, { eps: 2 }).perturb(x, y, n, new Rng(0));
 * Math.max(...perSampleNorms(adv, x, n, 'l1')) <= 2 + 1e-4 // true
 */
export class PGDL1 extends PGD {
  override readonly id: string = 'pgd-l1';
  override readonly norm: Norm = 'l1';
  readonly projection: 'rescale' | 'exact';
  /** @throws UsageError on ε < 0 or a bad option */
  constructor(model: AttackModel, opts: PgdL1Options = {}) {
    super(model, { ...opts, eps: opts?.eps ?? 1600 });
    const p = opts.projection ?? 'rescale';
    if (p !== 'rescale' && p !== 'exact') throw invalidOption('projection', 'one of rescale, exact', p);
    this.projection = p;
  }
  override config(): AttackConfig {
    return { ...super.config(), attack: this.id, norm: this.norm, projection: this.projection, semantics: 'ART ProjectedGradientDescent norm=1' };
  }
  protected override run(x: Float32Array, y: ArrayLike<number>, n: number, rngs: readonly Rng[]): Promise<Float32Array> {
    return pgdLoop(this.id, this.model, this.norm, this.eps, this.stepsize, this.opts, x, y, n, rngs, this.projection);
  }
}
