/**
 * Attack magnitudes: the paper's ImageNet small / middle / large table (PROTOCOL.md §2, RobustART's
 * batch_eval script, [0,1] pixel scale, d = 3·224·224 = 150528) and, for other input sizes, our
 * scaling (PROTOCOL.md §7.14, CONVENTIONS.md): ℓ∞ tiers unchanged, ℓ2 scaled by √(d/150528), ℓ1 by
 * d/150528, with d = C·H·W. The rule used is recorded with the table; any entry can be overridden.
 *
 * At the embedded default (3×32×32, d = 3072): ℓ2 ≈ 0.0714 / 0.286 / 1.14, ℓ1 ≈ 2.04 / 8.16 / 32.7.
 */
import { invalidOption } from '../util/errors.ts';
import { checkEps } from './base.ts';
import type { Norm } from './norms.ts';

/** Attack ids (CONVENTIONS.md). */
export const ATTACK_IDS = ['fgsm', 'pgd-linf', 'pgd-l2', 'pgd-l1', 'aa'] as const;
export type AttackId = (typeof ATTACK_IDS)[number];

/** Magnitude tiers (CONVENTIONS.md). */
export const TIERS = ['small', 'middle', 'large'] as const;
export type Tier = (typeof TIERS)[number];

/** The norm of each attack's threat model. */
export const ATTACK_NORM = { fgsm: 'linf', 'pgd-linf': 'linf', 'pgd-l2': 'l2', 'pgd-l1': 'l1', aa: 'linf' } as const satisfies Record<AttackId, Norm>;

/** d of the ImageNet table: 3·224·224. */
export const IMAGENET_D = 3 * 224 * 224;

/** ε per norm and tier at ImageNet scale (RA-eps). */
export const IMAGENET_EPS = {
  linf: { small: 0.5 / 255, middle: 2 / 255, large: 8 / 255 },
  l2: { small: 0.5, middle: 2.0, large: 8.0 },
  l1: { small: 100, middle: 400, large: 1600 },
} as const satisfies Record<Norm, Record<Tier, number>>;

/** How the table was obtained: the paper's values (d = 150528), our §7.14 scaling, or the ImageNet values unscaled. */
export type MagnitudeRule = 'imagenet' | 'scaled-7.14' | 'unscaled';

/** A resolved table, JSON-serialisable, written into results. */
export interface MagnitudeTable {
  rule: MagnitudeRule;
  /** C·H·W of the inputs */
  d: number;
  /** the ℓ2 / ℓ1 scale factors applied (1 when unscaled) */
  scale: { l2: number; l1: number };
  /** ε per attack and tier */
  eps: Record<AttackId, Record<Tier, number>>;
  /** the entries set by overrides, as "attack/tier" */
  overridden: string[];
}

/** Options of {@link magnitudes}. */
export interface MagnitudeOptions {
  /** 'scaled-7.14' (default when d ≠ 150528) or 'unscaled' (ImageNet values at any size) */
  rule?: 'scaled-7.14' | 'unscaled';
  /** per-attack, per-tier ε overrides */
  overrides?: Partial<Record<AttackId, Partial<Record<Tier, number>>>>;
}

/**
 * The ε table for inputs of shape [C, H, W].
 * @param inputShape [C, H, W]
 * @param opts the rule and overrides
 * @returns the table with its rule and d recorded
 * @throws UsageError on a bad shape, rule, unknown attack or tier in overrides, or an override ε < 0
 * @example
 * Math.round(magnitudes([3, 32, 32]).eps['pgd-l2'].small * 1e4) / 1e4 // 0.0714
 * @example
 * magnitudes([3, 224, 224]).rule // 'imagenet'
 */
export function magnitudes(inputShape: readonly [number, number, number], opts: MagnitudeOptions = {}): MagnitudeTable {
  if (!Array.isArray(inputShape) || inputShape.length !== 3 || !inputShape.every((v) => Number.isInteger(v) && v > 0)) {
    throw invalidOption('inputShape', 'three positive integers [C, H, W]', inputShape);
  }
  const d = inputShape[0] * inputShape[1] * inputShape[2];
  const asked = opts.rule ?? 'scaled-7.14';
  if (asked !== 'scaled-7.14' && asked !== 'unscaled') throw invalidOption('rule', 'one of scaled-7.14, unscaled', asked);
  const rule: MagnitudeRule = d === IMAGENET_D ? 'imagenet' : asked;
  const scale = rule === 'scaled-7.14' ? { l2: Math.sqrt(d / IMAGENET_D), l1: d / IMAGENET_D } : { l2: 1, l1: 1 };
  const eps = {} as Record<AttackId, Record<Tier, number>>;
  for (const a of ATTACK_IDS) {
    const norm = ATTACK_NORM[a];
    const f = norm === 'linf' ? 1 : scale[norm];
    eps[a] = { small: IMAGENET_EPS[norm].small * f, middle: IMAGENET_EPS[norm].middle * f, large: IMAGENET_EPS[norm].large * f };
  }
  const overridden: string[] = [];
  const ov = opts.overrides ?? {};
  if (ov === null || typeof ov !== 'object') throw invalidOption('overrides', 'an object { attack: { tier: eps } }', ov);
  for (const [a, tiers] of Object.entries(ov)) {
    if (!(ATTACK_IDS as readonly string[]).includes(a)) throw invalidOption('overrides attack', `one of ${ATTACK_IDS.join(', ')}`, a);
    for (const [t, v] of Object.entries(tiers ?? {})) {
      if (!(TIERS as readonly string[]).includes(t)) throw invalidOption(`overrides.${a} tier`, `one of ${TIERS.join(', ')}`, t);
      eps[a as AttackId][t as Tier] = checkEps(v, `overrides.${a}.${t}`);
      overridden.push(`${a}/${t}`);
    }
  }
  return { rule, d, scale, eps, overridden };
}

/**
 * Checks a list of attack ids.
 * @throws UsageError "Expected one of fgsm, pgd-linf, pgd-l2, pgd-l1, aa for attacks but received 'cw' of type string"
 * @example
 * checkAttacks(['fgsm', 'pgd-linf']) // ['fgsm', 'pgd-linf']
 */
export function checkAttacks(list: readonly unknown[], name = 'attacks'): AttackId[] {
  if (!Array.isArray(list) || list.length === 0) throw invalidOption(name, `a non-empty list of ${ATTACK_IDS.join(', ')}`, list);
  for (const a of list) if (!(ATTACK_IDS as readonly unknown[]).includes(a)) throw invalidOption(name, `one of ${ATTACK_IDS.join(', ')}`, a);
  if (new Set(list).size !== list.length) throw invalidOption(name, 'a list without duplicates', list.join(','));
  return list as AttackId[];
}

/**
 * Checks a list of tiers.
 * @throws UsageError "Expected one of small, middle, large for magnitudes but received 'huge' of type string"
 * @example
 * checkTiers(['small']) // ['small']
 */
export function checkTiers(list: readonly unknown[], name = 'magnitudes'): Tier[] {
  if (!Array.isArray(list) || list.length === 0) throw invalidOption(name, `a non-empty list of ${TIERS.join(', ')}`, list);
  for (const t of list) if (!(TIERS as readonly unknown[]).includes(t)) throw invalidOption(name, `one of ${TIERS.join(', ')}`, t);
  if (new Set(list).size !== list.length) throw invalidOption(name, 'a list without duplicates', list.join(','));
  return list as Tier[];
}
