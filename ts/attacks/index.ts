/**
 * Adversarial attacks in [0,1] pixel space over the {@link AttackModel} interface (logits + input VJP).
 * Issue 11: FGSM, PGD-ℓ∞/ℓ2/ℓ1, norms, magnitudes, metrics, the suite. Issue 12 (AutoAttack) adds its
 * exports in the block at the end.
 */
export { linearModel, sampleSize, type AttackModel } from './model.ts';
export {
  NORMS, PerturbationError, checkPerturbation, clamp01, l1BallProject, normTolerance, normalizeGradient, perSampleNorms,
  projectL1Exact, projectL2, projectLinf, rescaleL1, type Norm,
} from './norms.ts';
export { Attack, argmaxRows, ceInputGradient, ceLogitGrad, checkBatch, checkEps, perSampleRngs, requireVjp, type AttackConfig } from './base.ts';
export { FGSM, type FgsmOptions } from './fgsm.ts';
export { PGD, PGDL2, PGDL1, type PgdOptions, type PgdL1Options } from './pgd.ts';

// ---- issue 12 (AutoAttack) exports below this line ----
