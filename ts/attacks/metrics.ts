/**
 * Per-sample results of the adversarial suite and the numbers computed from them (PROTOCOL.md §2, §7.1):
 * - a sample is *robust* to (attack, tier) when the model classifies its adversarial example correctly;
 * - AR(attack, tier) = 100·#robust / n (accuracy under that attack, every sample);
 * - WCAR (paper Eq. 3) = 100·#{clean-correct ∧ robust to every attack run at that tier} / n
 *   (a clean-misclassified sample counts as broken);
 * - WCAR_RA (RobustART's WCAR_evaluator) = the same count / #clean-correct.
 * WCAR is over the attacks actually run (listed in the JSON), so WCAR ≤ min AR always holds.
 * AutoAttack (issue 12) reports its per-sample flags like any attack, and optionally per-component
 * counts of newly broken points through {@link AdversarialFlags.addComponent} (`aa_components`).
 */
import { invalidOption, QrobustError } from '../util/errors.ts';
import type { AttackId, Tier } from './magnitudes.ts';

/** Per-sample flags of one run. */
export class AdversarialFlags {
  readonly n: number;
  readonly labels: Int32Array;
  /** 1 where the clean input is classified correctly */
  readonly cleanCorrect: Uint8Array;
  /** attack → tier → 1 where the adversarial example is classified correctly */
  readonly robust = new Map<string, Map<Tier, Uint8Array>>();
  /** attack → component → tier → points newly broken by that component */
  readonly components = new Map<string, Map<string, Map<Tier, number>>>();
  private cleanSet: Uint8Array;
  private readonly robustSet = new Map<string, Map<Tier, Uint8Array>>();

  /**
   * @param n number of samples
   * @throws UsageError when n is not a positive integer
   * @example
   * new AdversarialFlags(100).n // 100
   */
  constructor(n: number) {
    if (!Number.isInteger(n) || n < 1) throw invalidOption('n', 'integer >= 1', n);
    this.n = n;
    this.labels = new Int32Array(n);
    this.cleanCorrect = new Uint8Array(n);
    this.cleanSet = new Uint8Array(n);
  }

  private range(offset: number, count: number): void {
    if (!Number.isInteger(offset) || offset < 0 || offset + count > this.n) throw new QrobustError(`flags: samples ${offset}..${offset + count - 1} outside 0..${this.n - 1}`);
  }

  /**
   * Records clean predictions of samples offset..offset+count−1.
   * @throws QrobustError when the range leaves 0..n−1
   * @example
   * const f = new AdversarialFlags(2);
 * f.setClean(0, new Int32Array([1, 2]), [1, 0]);
 * Array.from(f.cleanCorrect) // [1, 0]
   */
  setClean(offset: number, preds: ArrayLike<number>, labels: ArrayLike<number>): void {
    this.range(offset, preds.length);
    for (let i = 0; i < preds.length; i++) {
      this.labels[offset + i] = labels[i]!;
      this.cleanCorrect[offset + i] = preds[i] === labels[i] ? 1 : 0;
      this.cleanSet[offset + i] = 1;
    }
  }

  /**
   * Records predictions on the adversarial examples of (attack, tier) for samples offset..
   * @throws QrobustError when the range leaves 0..n−1 or the labels differ from the clean pass
   * @example
   * const f = new AdversarialFlags(2);
 * f.setAdversarial('fgsm', 'small', 0, new Int32Array([1, 1]), [1, 0]);
 * Array.from(f.flags('fgsm', 'small')) // [1, 0]
   */
  setAdversarial(attack: string, tier: Tier, offset: number, preds: ArrayLike<number>, labels: ArrayLike<number>): void {
    this.range(offset, preds.length);
    const get = (m: Map<string, Map<Tier, Uint8Array>>) => {
      let t = m.get(attack);
      if (!t) { t = new Map(); m.set(attack, t); }
      let a = t.get(tier);
      if (!a) { a = new Uint8Array(this.n); t.set(tier, a); }
      return a;
    };
    const r = get(this.robust);
    const s = get(this.robustSet);
    for (let i = 0; i < preds.length; i++) {
      if (this.cleanSet[offset + i] && this.labels[offset + i] !== labels[i]) throw new QrobustError(`flags: sample ${offset + i} has label ${labels[i]} under ${attack}/${tier} but ${this.labels[offset + i]} in the clean pass`);
      r[offset + i] = preds[i] === labels[i] ? 1 : 0;
      s[offset + i] = 1;
    }
  }

  /**
   * Adds points newly broken by a component of a composite attack (AutoAttack's apgd-ce, apgd-t, fab-t, square).
   * @example
   * const f = new AdversarialFlags(8);
 * f.addComponent('aa', 'apgd-ce', 'small', 3);
 * f.components.get('aa').get('apgd-ce').get('small') // 3
   */
  addComponent(attack: string, component: string, tier: Tier, count: number): void {
    if (!Number.isInteger(count) || count < 0) throw invalidOption('count', 'integer >= 0', count);
    let c = this.components.get(attack);
    if (!c) { c = new Map(); this.components.set(attack, c); }
    let t = c.get(component);
    if (!t) { t = new Map(); c.set(component, t); }
    t.set(tier, (t.get(tier) ?? 0) + count);
  }

  /** Throws unless every sample has a clean prediction and a prediction under every (attack, tier) recorded. */
  assertComplete(): void {
    const missing = this.cleanSet.indexOf(0);
    if (missing >= 0) throw new QrobustError(`flags: sample ${missing} has no clean prediction`);
    for (const [a, tiers] of this.robustSet) for (const [t, s] of tiers) {
      const m = s.indexOf(0);
      if (m >= 0) throw new QrobustError(`flags: sample ${m} has no prediction under ${a}/${t}`);
    }
  }

  /** The robust flags of (attack, tier). @throws QrobustError when that pair was not run */
  flags(attack: string, tier: Tier): Uint8Array {
    const f = this.robust.get(attack)?.get(tier);
    if (!f) throw new QrobustError(`flags: ${attack}/${tier} was not run`);
    return f;
  }
}

function pct(count: number, of: number): number | null {
  return of === 0 ? null : (100 * count) / of;
}

/**
 * Clean top-1 in percent.
 * @example
 * const f = new AdversarialFlags(4);
 * f.setClean(0, [0, 1, 2, 0], [0, 1, 2, 3]);
 * cleanAccuracy(f) // 75
 */
export function cleanAccuracy(f: AdversarialFlags): number {
  let c = 0;
  for (const v of f.cleanCorrect) c += v;
  return (100 * c) / f.n;
}

/**
 * AR: accuracy under (attack, tier) in percent, over all samples.
 * @throws QrobustError when the pair was not run
 * @example
 * const f = new AdversarialFlags(4);
 * f.setAdversarial('pgd-linf', 'small', 0, [0, 0, 0, 0], [0, 1, 2, 3]);
 * robustAccuracy(f, 'pgd-linf', 'small') // 25
 */
export function robustAccuracy(f: AdversarialFlags, attack: string, tier: Tier): number {
  let c = 0;
  for (const v of f.flags(attack, tier)) c += v;
  return (100 * c) / f.n;
}

/**
 * WCAR at one tier over the given attacks: `eq3` (all samples, Eq. 3) and `ra` (clean-correct
 * samples, RobustART's code; null when no sample is clean-correct), in percent.
 * @param attacks the attacks run (at least one)
 * @throws UsageError on an empty list; QrobustError when an attack was not run at that tier
 * @example
 * const f = new AdversarialFlags(4);
 * f.setClean(0, [0, 1, 2, 0], [0, 1, 2, 3]);
 * f.setAdversarial('fgsm', 'small', 0, [0, 1, 0, 3], [0, 1, 2, 3]);
 * f.setAdversarial('pgd-linf', 'small', 0, [0, 0, 0, 3], [0, 1, 2, 3]);
 * worstCaseAccuracy(f, ['fgsm', 'pgd-linf'], 'small') // { eq3: 25, ra: 100 / 3, count: 1 }
 */
export function worstCaseAccuracy(f: AdversarialFlags, attacks: readonly string[], tier: Tier): { eq3: number; ra: number | null; count: number } {
  if (attacks.length === 0) throw invalidOption('attacks', 'at least one attack', attacks);
  const all = attacks.map((a) => f.flags(a, tier));
  let count = 0;
  let clean = 0;
  for (let i = 0; i < f.n; i++) {
    if (!f.cleanCorrect[i]) continue;
    clean++;
    if (all.every((r) => r[i] === 1)) count++;
  }
  return { eq3: (100 * count) / f.n, ra: pct(count, clean), count };
}

/** Common fields of every evaluation JSON (CONVENTIONS.md). */
export interface ResultMeta {
  model?: string;
  data?: string | null;
  target?: string | null;
  seed: number;
  subset?: unknown;
  versions?: Record<string, string | null>;
  seconds?: number;
}

/** The adversarial suite's JSON (CONVENTIONS.md), plus what it needs to be re-run and audited. */
export interface AdversarialJson {
  suite: 'adversarial';
  model: string;
  data: string | null;
  target: string | null;
  n: number;
  seed: number;
  subset: unknown;
  versions: Record<string, string | null>;
  seconds: number;
  attacks: string[];
  tiers: Tier[];
  clean: number;
  wcar: Partial<Record<Tier, number>>;
  wcar_ra: Partial<Record<Tier, number | null>>;
  ar: Record<string, Partial<Record<Tier, number>>>;
  aa_components: Record<string, Partial<Record<Tier, number>>>;
  [extra: string]: unknown;
}

/**
 * Builds the adversarial JSON from the flags. `aa` appears in `ar` (and in WCAR) when it was run;
 * `aa_components` holds whatever components recorded counts (empty otherwise).
 * @param f the flags (complete)
 * @param attacks the attacks run, in order
 * @param tiers the tiers run
 * @param meta common fields
 * @param perSample include `per_sample` (labels, clean_correct and robust flags as '0'/'1' strings)
 * @throws QrobustError when a flag is missing
 * @example
 * const f = new AdversarialFlags(2);
 * f.setClean(0, [0, 1], [0, 1]);
 * f.setAdversarial('fgsm', 'small', 0, [0, 0], [0, 1]);
 * const json = adversarialJson(f, ['fgsm'], ['small'], { model: 'resnet20', seed: 0 });
 * [json.ar.fgsm.small, json.wcar.small, json.wcar_ra.small] // [50, 50, 50]
 */
export function adversarialJson(f: AdversarialFlags, attacks: readonly AttackId[] | readonly string[], tiers: readonly Tier[], meta: ResultMeta, perSample = true): AdversarialJson {
  f.assertComplete();
  const ar: Record<string, Partial<Record<Tier, number>>> = {};
  for (const a of attacks) {
    ar[a] = {};
    for (const t of tiers) ar[a]![t] = robustAccuracy(f, a, t);
  }
  const wcar: Partial<Record<Tier, number>> = {};
  const wcarRa: Partial<Record<Tier, number | null>> = {};
  for (const t of tiers) {
    const w = worstCaseAccuracy(f, attacks, t);
    wcar[t] = w.eq3;
    wcarRa[t] = w.ra;
  }
  const aaComponents: Record<string, Partial<Record<Tier, number>>> = {};
  for (const [, comps] of f.components) for (const [c, byTier] of comps) aaComponents[c] = Object.fromEntries(byTier);
  const json: AdversarialJson = {
    suite: 'adversarial',
    model: meta.model ?? 'model',
    data: meta.data ?? null,
    target: meta.target ?? null,
    n: f.n,
    seed: meta.seed,
    subset: meta.subset ?? null,
    versions: meta.versions ?? {},
    seconds: meta.seconds ?? 0,
    attacks: [...attacks],
    tiers: [...tiers],
    clean: cleanAccuracy(f),
    wcar,
    wcar_ra: wcarRa,
    ar,
    aa_components: aaComponents,
  };
  if (perSample) {
    const bits = (a: Uint8Array) => Array.from(a, (v) => (v ? '1' : '0')).join('');
    const robust: Record<string, Partial<Record<Tier, string>>> = {};
    for (const a of attacks) {
      robust[a] = {};
      for (const t of tiers) robust[a]![t] = bits(f.flags(a, t));
    }
    json.per_sample = { labels: Array.from(f.labels), clean_correct: bits(f.cleanCorrect), robust };
  }
  return json;
}

/**
 * Rebuilds flags from a JSON written with `per_sample` (to recompute or merge results).
 * @throws QrobustError when the JSON has no per_sample block or its lengths disagree
 * @example
 * const f = new AdversarialFlags(2);
 * f.setClean(0, [0, 1], [0, 1]);
 * f.setAdversarial('fgsm', 'small', 0, [0, 0], [0, 1]);
 * const json = JSON.parse(JSON.stringify(adversarialJson(f, ['fgsm'], ['small'], { seed: 0 })));
 * worstCaseAccuracy(flagsFromJson(json), json.attacks, 'small').eq3 // 50
 */
export function flagsFromJson(json: AdversarialJson): AdversarialFlags {
  const ps = json.per_sample as { labels: number[]; clean_correct: string; robust: Record<string, Partial<Record<Tier, string>>> } | undefined;
  if (!ps) throw new QrobustError('adversarial JSON has no per_sample block (written with perSample = false)');
  const f = new AdversarialFlags(json.n);
  if (ps.labels.length !== json.n || ps.clean_correct.length !== json.n) throw new QrobustError(`per_sample: lengths disagree with n = ${json.n}`);
  const parse = (s: string) => Uint8Array.from(s, (c) => (c === '1' ? 1 : 0));
  const cc = parse(ps.clean_correct);
  const labels = Int32Array.from(ps.labels);
  // predictions consistent with the flags: the label where correct, another class where not
  const predsFor = (ok: Uint8Array) => Int32Array.from(labels, (y, i) => (ok[i] ? y : y === 0 ? 1 : 0));
  f.setClean(0, predsFor(cc), labels);
  for (const [a, tiers] of Object.entries(ps.robust)) for (const [t, s] of Object.entries(tiers)) {
    if (s === undefined || s.length !== json.n) throw new QrobustError(`per_sample.robust.${a}.${t}: length disagrees with n = ${json.n}`);
    f.setAdversarial(a, t as Tier, 0, predsFor(parse(s)), labels);
  }
  return f;
}
