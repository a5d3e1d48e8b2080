/**
 * FGSM (Goodfellow et al. 2015, "Explaining and Harnessing Adversarial Examples"), foolbox 3.3.1
 * LinfFastGradientAttack semantics (one step of size ε, no random start), as RobustART ran it.
 */
import type { Rng } from '../util/rng.ts';
import type { AttackModel } from './model.ts';
import { Attack, ceInputGradient, type AttackConfig } from './base.ts';
import { normalizeGradient, projectLinf, type Norm } from './norms.ts';

/** FGSM options. */
export interface FgsmOptions {
  /** radius; default 8/255 */
  eps?: number;
}

/**
 * FGSM-ℓ∞.
 *
 * Distance Measure : Linf
 *
 * x' = clip₀¹(x + ε·sign(∇ₓ Σ CE)) (sign(0) = 0). Deterministic: the Rng passed to
 * {@link Attack.perturb} is accepted (and recorded by the suite) but not drawn from.
 *
 * Arguments:
 * - model: an {@link AttackModel} with `vjp`.
 * - eps: maximum perturbation (default 8/255).
 *
 * Shape: x n×C×H×W float32 in [0,1]; y n integer labels; output like x.
 *
 * Supported modes: untargeted, ground-truth labels.
 *
 * @example
 * const adv = await new FGSM(model, { eps: 2 / 255 }).perturb(x, y, n, new Rng(0));
 * Math.max(...perSampleNorms(adv, x, n, 'linf')) <= 2 / 255 + 1e-6 // true
 */
export class FGSM extends Attack {
  readonly id = 'fgsm';
  readonly norm: Norm = 'linf';
  /**
   * @param model the target
   * @param opts `{ eps }`
   * @throws UsageError when eps is negative or not finite
   */
  constructor(model: AttackModel, opts: FgsmOptions = {}) {
    super(model, opts?.eps ?? 8 / 255);
  }
  config(): AttackConfig {
    return { attack: this.id, norm: this.norm, eps: this.eps, steps: 1, stepsize: this.eps, random_start: false, semantics: 'foolbox-3.3.1 LinfFastGradientAttack' };
  }
  protected async run(x: Float32Array, y: ArrayLike<number>, n: number, _rngs: readonly Rng[]): Promise<Float32Array> {
    const { grad } = await ceInputGradient(this.model, x, y, n, this.id);
    const s = normalizeGradient(grad, n, 'linf');
    const adv = new Float32Array(x.length);
    for (let k = 0; k < x.length; k++) adv[k] = x[k]! + this.eps * s[k]!;
    return projectLinf(adv, x, this.eps);
  }
}
