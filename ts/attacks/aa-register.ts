/**
 * Plugs AutoAttack into the adversarial suite (ts/attacks/suite.ts) under the attack id `aa`: a runner
 * that calls {@link autoAttack} on each batch with the suite's per-sample streams and reports each
 * component's newly broken points, which the suite adds up into `aa_components`. Importing
 * ts/attacks/index.ts registers it; {@link registerAutoAttack} does it explicitly.
 *
 * Suite options for `aa` (`attackOptions.aa`): `version` ('standard' default, or 'aa-demo').
 */
import * as is from '../util/is.ts';
import type { Rng } from '../util/rng.ts';
import type { AttackModel } from './model.ts';
import type { AttackConfig } from './base.ts';
import { registerAttack, type AttackRunner } from './suite.ts';
import { AA_BUDGETS, AA_COMPONENTS, AA_VERSIONS, autoAttack, type AaVersion } from './autoattack.ts';
import { checkEps } from './aa-common.ts';

/**
 * The suite runner of AutoAttack for (model, ε).
 * @param model the attacked model
 * @param eps ℓ∞ budget
 * @param opts `{ version }`
 * @returns a runner whose `perturb` returns the adversarials and per-component broken flags
 * @throws UsageError for ε < 0 or an unknown version
 * @example
 * autoAttackRunner(model, 0.5 / 255, { version: 'aa-demo' }).config().version // 'aa-demo'
 */
export function autoAttackRunner(model: AttackModel, eps: number, opts: Readonly<Record<string, unknown>> = {}): AttackRunner {
  checkEps(eps);
  const version: AaVersion = is.oneOf('version', opts['version'] ?? 'standard', AA_VERSIONS);
  return {
    async perturb(x: Float32Array, y: ArrayLike<number>, n: number, rngs: readonly Rng[]) {
      const r = await autoAttack(model, x, Int32Array.from({ length: n }, (_, i) => y[i]!), { eps, version, rngs, batch: Math.max(1, n) });
      return { adv: r.xAdv, components: Object.fromEntries(AA_COMPONENTS.map((c) => [c, r.brokenBy[c]])), seconds: { ...r.seconds } };
    },
    config(): AttackConfig {
      const b = AA_BUDGETS[version];
      return {
        attack: 'aa', norm: 'linf', eps, version, components: AA_COMPONENTS.join(','),
        apgd_iter: b.apgdIter, apgd_t_targets: b.apgdTargets, fab_t_targets: b.fabTargets, fab_iter: b.fabIter, square_queries: b.squareQueries,
        semantics: 'AutoAttack (Croce & Hein 2020) standard, Linf',
      };
    },
  };
}

/**
 * Registers `aa` in the suite's attack registry.
 * @returns a function that restores the previous registration
 * @throws never
 * @example
 * typeof registerAutoAttack() // 'function'
 */
export function registerAutoAttack(): () => void {
  return registerAttack('aa', autoAttackRunner);
}

registerAutoAttack();
