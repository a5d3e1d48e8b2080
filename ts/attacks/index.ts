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
export {
  ATTACK_IDS, ATTACK_NORM, IMAGENET_D, IMAGENET_EPS, TIERS, checkAttacks, checkTiers, magnitudes,
  type AttackId, type MagnitudeOptions, type MagnitudeRule, type MagnitudeTable, type Tier,
} from './magnitudes.ts';
export {
  AdversarialFlags, adversarialJson, cleanAccuracy, flagsFromJson, robustAccuracy, worstCaseAccuracy,
  type AdversarialJson, type ResultMeta,
} from './metrics.ts';
export {
  arraySource, availableAttacks, registerAttack, runAdversarial,
  type AdversarialOptions, type AttackFactory, type AttackRunner, type Batch, type RunnerOutput, type SampleSource,
} from './suite.ts';
export { NpyWriter, readNpy, writeNpy, type NpyArray } from './npy.ts';

// ---- issue 12 (AutoAttack) exports below this line ----
export {
  AA_BUDGETS, AA_COMPONENTS, AA_FLAGS_DOC, AA_VERSIONS, SQUARE_MASKING_THRESHOLD, autoAttack,
  type AaBudget, type AaComponent, type AaVersion, type AutoAttackOptions, type AutoAttackResult,
} from './autoattack.ts';
export { apgd, apgdCheckpoints, apgdOscillation, apgdTargeted, type ApgdLoss, type ApgdOptions, type ApgdResult, type ApgdTargetedOptions } from './apgd.ts';
export { fabTargeted, projectLinfBox, type FabOptions, type FabResult } from './fab.ts';
export { square, squarePSelection, squareSide, type SquareOptions, type SquareResult } from './square.ts';
export { DLR_EPS, ceLoss, dlrLoss, dlrTargetedLoss, type LossAndGrad } from './dlr.ts';
export { AutoAttackCheckError, LINF_TOLERANCE, checkAdversarial, checkRobustLeClean } from './aa-common.ts';
export { mlpModel, stepModel } from './aa-toy-models.ts';
export { autoAttackRunner, registerAutoAttack } from './aa-register.ts'; // importing registers `aa` in the suite
