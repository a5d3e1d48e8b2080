/**
 * `eval --suite adversarial`: the attacks of ts/attacks (FGSM, PGD-ℓ∞/ℓ2/ℓ1, AutoAttack) run on a data split
 * through an nn Module, with the common fields of CONVENTIONS.md. The data are read lazily, a batch at a time,
 * through the reference ONECROP pipeline (the same inputs as the clean suite); the module becomes an
 * {@link AttackModel} through ts/eval/attack-model.ts (input gradients through the tape, straight-through for a
 * fake-quant model). Transfer models (`--transfer-to`) only need logits.
 *
 * Also here: the parsers of the suite's CLI values (`--attacks`, `--magnitudes`, `--eps`, `--eps-rule`,
 * `--pgd-steps`, `--aa-version`), so that eval.ts stays a thin dispatcher and the parsing is unit-testable.
 */
import { int } from '../util/is.ts';
import { QrobustError, invalidOption } from '../util/errors.ts';
import type { Module } from '../nn/module.ts';
import type { Split } from '../data/types.ts';
import { buildBatch } from '../data/batch.ts';
import { batchOrder } from '../data/subset.ts';
import {
  ATTACK_IDS, TIERS, AA_VERSIONS, checkAttacks, checkTiers, runAdversarial,
  type AdversarialJson, type AttackId, type AttackModel, type MagnitudeOptions, type SampleSource, type Tier,
} from '../attacks/index.ts';
import { fromModule } from './attack-model.ts';
import { moduleLogits } from './classify.ts';
import { commonFields, type EvalContext } from './common.ts';

/** The adversarial JSON of CONVENTIONS.md (with the suite's audit fields: magnitudes, attack_config, rng, per_sample). */
export type AdversarialEvalResult = AdversarialJson;

/** A model evaluated on the adversarial examples crafted on the attacked one (`--transfer-to`). */
export interface TransferModel {
  /** the name it is reported under (the path given) */
  name: string;
  module: Module;
}

/** The name a deployed model is reported under in `transfer` (`eval --transfer-to <id>`, the runner's target cells). */
export function targetTransferName(targetId: string): string {
  return `target:${targetId}`;
}

/**
 * A deployed integer model (ts/deploy `loadDeployModel` / `deployQatModel`) as a transfer model: it classifies the
 * adversarial examples crafted on the fake-quant model, fed as the model-input pixels they are (the target's
 * decode / resize pipeline is not applied to them). Used by `eval --transfer-to <target>` and by the runner's
 * adversarial cells on a target.
 * @param dep the deployed model
 * @returns the transfer model, named `target:<id>`
 * @example
 * deployedTransfer(await loadDeployModel('q.safetensors', 'rpi4-tflite')).name // 'target:rpi4-tflite'
 */
export function deployedTransfer(dep: { module: Module; target: { id: string } }): TransferModel {
  return { name: targetTransferName(dep.target.id), module: dep.module };
}

/**
 * The adversarial result of a deployed model: the white-box run on the fake-quant model with the deployed model
 * as a transfer model, seen from the deployed model. `clean`, `ar`, `wcar`, `wcar_ra` and `per_sample` are the
 * deployed model's (what the report's tables read); the white-box numbers of the model the examples were crafted
 * on move to `crafted_on`; `mode` is `transfer`.
 * @param r a result of {@link evaluateAdversarial} / runAdversarial with `transfer[name]`
 * @param name the transfer model's name ({@link targetTransferName})
 * @param target the target id written into `target`
 * @throws QrobustError when `r` has no transfer result under `name`
 * @example
 * const cell = transferView(r, 'target:x86-onnxruntime', 'x86-onnxruntime'); cell.wcar.small === r.transfer['target:x86-onnxruntime'].wcar.small // true
 */
export function transferView(r: AdversarialEvalResult, name: string, target: string): AdversarialEvalResult {
  const tr = (r.transfer as Record<string, Record<string, unknown>> | undefined)?.[name];
  if (!tr) throw new QrobustError(`adversarial result of ${r.model} has no transfer result for ${name}`);
  const { transfer: _t, per_sample: ps, clean, ar, wcar, wcar_ra, aa_components, ...rest } = r;
  return {
    ...rest,
    target,
    mode: 'transfer',
    clean: tr.clean as number,
    ar: tr.ar as AdversarialEvalResult['ar'],
    wcar: tr.wcar as AdversarialEvalResult['wcar'],
    wcar_ra: tr.wcar_ra as AdversarialEvalResult['wcar_ra'],
    // AutoAttack's components broke points of the crafting model, not of this one
    aa_components: {},
    ...(tr.per_sample ? { per_sample: tr.per_sample } : {}),
    crafted_on: { model: r.model, target: r.target ?? 'reference', clean, ar, wcar, wcar_ra, aa_components, ...(ps ? { per_sample: ps } : {}) },
  };
}

/** Options of {@link evaluateAdversarial}. */
export interface AdversarialEvalOptions {
  /** attacks to run (default: all five of CONVENTIONS.md) */
  attacks?: readonly AttackId[];
  /** magnitude tiers (default small, middle, large) */
  tiers?: readonly Tier[];
  /** ε rule and per-attack, per-tier overrides (default: the §7.14 scaling for the input size) */
  magnitudes?: MagnitudeOptions;
  /** per-attack hyperparameter overrides (recorded in `attack_config`) */
  attackOptions?: Partial<Record<AttackId, Record<string, unknown>>>;
  /** write clean.npy, labels.npy, <attack>-<tier>.npy and adversarial.json here */
  saveAdv?: string;
  /** models that also classify the adversarial examples */
  transferTo?: readonly TransferModel[];
  /** keep the per-sample flags in the JSON (default true) */
  perSample?: boolean;
}

/**
 * The samples `indices` of a split as an attack {@link SampleSource}: each pass decodes the batches again
 * through the reference pipeline (nothing is held in memory but one batch).
 * @param split the split
 * @param indices the sample indices, in order
 * @param opts `size` (S of the 3 x S x S input), `preprocess` id (default `dec-pil`)
 * @throws UsageError for an empty index list or a bad size
 * @example
 * const src = splitSource(ds.split('test'), Int32Array.of(0, 1, 2), { size: 32 });
 * src.n // 3
 */
export function splitSource(split: Split, indices: Int32Array, opts: { size?: number; preprocess?: string } = {}): SampleSource {
  if (!(indices instanceof Int32Array) || indices.length === 0) throw invalidOption('indices', 'a non-empty Int32Array of sample indices', indices);
  const size = int('size', opts.size ?? 32, 1, 4096);
  return {
    n: indices.length,
    async *batches(b: number) {
      const order = batchOrder(indices, b);
      // decode the next batch while the current one is attacked
      let next = order.length > 0 ? buildBatch(split, order[0]!, { size, preprocess: opts.preprocess }) : null;
      for (let i = 0; i < order.length; i++) {
        const cur = await next!;
        next = i + 1 < order.length ? buildBatch(split, order[i + 1]!, { size, preprocess: opts.preprocess }) : null;
        yield { x: cur.x, y: cur.y, n: cur.y.length };
      }
    },
  };
}

/**
 * Runs the adversarial suite on `ctx.indices` of a split.
 * @param model the attacked module (white box; put in eval mode)
 * @param split the test split
 * @param ctx names, indices, subset record, seed, size, preprocess, batch (see {@link EvalContext})
 * @param opts attacks, tiers, magnitudes, attack options, `saveAdv`, transfer models, per-sample flags
 * @returns the adversarial JSON: common fields, `attacks`, `tiers`, `clean`, `ar`, `wcar`, `wcar_ra`,
 *   `aa_components`, `magnitudes`, `attack_config`, `rng`, `per_sample`, and `transfer` when asked
 * @throws UsageError for unknown attacks or tiers, ε < 0, bad options, transfer models of another shape;
 *   PerturbationError / AutoAttackCheckError when an attack leaves its threat model
 * @example
 * const r = await evaluateAdversarial(net, ds.split('test'), { modelName: 'm', dataName: ds.name, indices, seed: 0 }, { attacks: ['fgsm'], tiers: ['small'] });
 * r.ar.fgsm.small <= r.clean // true
 */
export async function evaluateAdversarial(model: Module, split: Split, ctx: EvalContext, opts: AdversarialEvalOptions = {}): Promise<AdversarialEvalResult> {
  const size = int('size', ctx.size ?? 32, 1, 4096);
  const seed = int('--seed', ctx.seed ?? 0, 0, 0xffffffff);
  const batch = int('--batch', ctx.batch ?? 64, 1, 65536);
  const inputShape = [3, size, size] as const;
  // the class count from one forward pass (an imported ONNX module has no config to read it from)
  const classes = (m: Module) => moduleLogits(m, new Float32Array(3 * size * size), 1, { size }).numClasses;
  const attacked = fromModule(model.eval(), { inputShape, name: ctx.modelName, numClasses: classes(model) });
  const transferTo: AttackModel[] = (opts.transferTo ?? []).map((t) => fromModule(t.module.eval(), { inputShape, name: t.name, numClasses: classes(t.module) }));
  const common = await commonFields('adversarial', ctx, ctx.indices.length, 0);
  return runAdversarial(attacked, splitSource(split, ctx.indices, { size, preprocess: ctx.preprocess }), {
    attacks: opts.attacks ? checkAttacks(opts.attacks, '--attacks') : [...ATTACK_IDS],
    tiers: opts.tiers ? checkTiers(opts.tiers, '--magnitudes') : [...TIERS],
    seed,
    batch,
    magnitudes: opts.magnitudes,
    attackOptions: opts.attackOptions,
    saveAdv: opts.saveAdv,
    transferTo,
    perSample: opts.perSample ?? true,
    meta: { model: common.model, data: common.data, target: common.target, subset: common.subset, versions: common.versions as unknown as Record<string, string | null> },
  });
}

/**
 * Parses `--eps`: comma-separated `attack/tier=value` overrides of the magnitude table, e.g.
 * `pgd-l2/small=0.1,fgsm/large=0.03` (values in [0,1] pixel units; `x/255` is accepted for ℓ∞ budgets).
 * @param s the flag's value
 * @returns the overrides for {@link MagnitudeOptions}
 * @throws UsageError naming `--eps` for a malformed entry, an unknown attack or tier, a value that is not a
 *   number or is negative, or an entry given twice
 * @example
 * parseEpsOverrides('pgd-l2/small=0.1,fgsm/large=8/255') // { 'pgd-l2': { small: 0.1 }, fgsm: { large: 0.03137254901960784 } }
 */
export function parseEpsOverrides(s: string): NonNullable<MagnitudeOptions['overrides']> {
  const out: Partial<Record<AttackId, Partial<Record<Tier, number>>>> = {};
  const items = s.split(',').map((x) => x.trim()).filter((x) => x.length > 0);
  if (items.length === 0) throw invalidOption('--eps', 'comma-separated attack/tier=value entries, e.g. pgd-l2/small=0.1', s);
  for (const it of items) {
    const m = /^([a-z0-9-]+)\/([a-z]+)=(.+)$/.exec(it);
    if (!m) throw invalidOption('--eps', 'entries of the form attack/tier=value, e.g. pgd-l2/small=0.1', it);
    const [, a, t, v] = m as unknown as [string, string, string, string];
    if (!(ATTACK_IDS as readonly string[]).includes(a)) throw invalidOption('--eps attack', `one of ${ATTACK_IDS.join(', ')}`, a);
    if (!(TIERS as readonly string[]).includes(t)) throw invalidOption('--eps tier', `one of ${TIERS.join(', ')}`, t);
    const frac = /^\s*([0-9.eE+-]+)\s*\/\s*255\s*$/.exec(v);
    const value = frac ? Number(frac[1]) / 255 : /^\s*[0-9.eE+-]+\s*$/.test(v) ? Number(v) : NaN;
    if (!Number.isFinite(value) || value < 0) throw invalidOption(`--eps ${a}/${t}`, 'a number >= 0 (or k/255)', v);
    const row = (out[a as AttackId] ??= {});
    if (row[t as Tier] !== undefined) throw invalidOption('--eps', 'each attack/tier at most once', it);
    row[t as Tier] = value;
  }
  return out;
}

/** The raw values of the suite's CLI flags (strings as commander gives them). */
export interface AdversarialFlagValues {
  attacks?: string;
  magnitudes?: string;
  eps?: string;
  epsRule?: string;
  pgdSteps?: string;
  aaVersion?: string;
}

/**
 * Turns the suite's CLI flags into {@link AdversarialEvalOptions} (all checks before any work).
 * @param f the flag values
 * @returns attacks, tiers, magnitudes and attack options
 * @throws UsageError naming the flag, the allowed values and what was received
 * @example
 * parseAdversarialFlags({ attacks: 'fgsm,aa', magnitudes: 'small', aaVersion: 'aa-demo' }).attackOptions // { aa: { version: 'aa-demo' } }
 */
export function parseAdversarialFlags(f: AdversarialFlagValues): Required<Pick<AdversarialEvalOptions, 'attacks' | 'tiers' | 'magnitudes' | 'attackOptions'>> {
  const list = (name: string, s: string | undefined, all: readonly string[]) => {
    if (s === undefined) return [...all];
    const items = s.split(',').map((x) => x.trim()).filter((x) => x.length > 0);
    if (items.length === 1 && items[0] === 'all') return [...all];
    return items;
  };
  const attacks = checkAttacks(list('--attacks', f.attacks, ATTACK_IDS), '--attacks');
  const tiers = checkTiers(list('--magnitudes', f.magnitudes, TIERS), '--magnitudes');
  const rule = f.epsRule ?? 'scaled-7.14';
  if (rule !== 'scaled-7.14' && rule !== 'unscaled') throw invalidOption('--eps-rule', 'one of scaled-7.14, unscaled', rule);
  const magnitudes: MagnitudeOptions = { rule, ...(f.eps !== undefined ? { overrides: parseEpsOverrides(f.eps) } : {}) };
  const attackOptions: Partial<Record<AttackId, Record<string, unknown>>> = {};
  if (f.pgdSteps !== undefined) {
    if (!/^\d+$/.test(f.pgdSteps.trim())) throw invalidOption('--pgd-steps', 'an integer 1..10000', f.pgdSteps);
    const steps = int('--pgd-steps', Number(f.pgdSteps), 1, 10000);
    for (const a of ['pgd-linf', 'pgd-l2', 'pgd-l1'] as const) attackOptions[a] = { steps };
  }
  if (f.aaVersion !== undefined) {
    if (!(AA_VERSIONS as readonly string[]).includes(f.aaVersion)) throw invalidOption('--aa-version', `one of ${AA_VERSIONS.join(', ')}`, f.aaVersion);
    attackOptions.aa = { version: f.aaVersion };
  }
  return { attacks, tiers, magnitudes, attackOptions };
}

/**
 * The human-readable table of an adversarial result (stdout without `--json`).
 * @param r the result
 * @returns lines: clean, AR per attack and tier, both WCARs, AutoAttack components, transfer models
 * @example
 * formatAdversarialTable(r).split('\n')[0] // 'adversarial: 100 images, clean 91.00%, attacks fgsm, ...'
 */
export function formatAdversarialTable(r: AdversarialEvalResult): string {
  const tiers = r.tiers;
  const f = (v: number | null | undefined) => (v === null || v === undefined ? '   n/a' : v.toFixed(2).padStart(6));
  const eps = r.magnitudes as { eps: Record<string, Record<string, number>>; rule: string } | undefined;
  const lines = [
    `adversarial: ${r.n} images, clean ${r.clean.toFixed(2)}%, attacks ${r.attacks.join(', ')}, seed ${r.seed}, ε rule ${eps?.rule ?? '?'}, ${r.seconds.toFixed(1)} s`,
    `  ${'AR %'.padEnd(20)}${tiers.map((t) => t.padStart(8)).join('')}`,
  ];
  for (const a of r.attacks) lines.push(`  ${a.padEnd(20)}${tiers.map((t) => `  ${f(r.ar[a]?.[t])}`).join('')}    ε ${tiers.map((t) => (eps?.eps[a]?.[t] ?? NaN).toPrecision(4)).join(' / ')}`);
  lines.push(`  ${'WCAR (Eq. 3)'.padEnd(20)}${tiers.map((t) => `  ${f(r.wcar[t])}`).join('')}`);
  lines.push(`  ${'WCAR_RA'.padEnd(20)}${tiers.map((t) => `  ${f(r.wcar_ra[t])}`).join('')}`);
  for (const [c, byTier] of Object.entries(r.aa_components)) lines.push(`  aa: ${c.padEnd(16)}${tiers.map((t) => String(byTier[t] ?? 0).padStart(8)).join('')}   (points newly broken)`);
  const tr = (r.transfer ?? {}) as Record<string, { clean: number; ar: Record<string, Partial<Record<Tier, number>>>; wcar: Partial<Record<Tier, number>> }>;
  for (const [name, t] of Object.entries(tr)) {
    lines.push(`  transfer to ${name}: clean ${t.clean.toFixed(2)}%`);
    for (const a of r.attacks) lines.push(`    ${a.padEnd(18)}${tiers.map((k) => `  ${f(t.ar[a]?.[k])}`).join('')}`);
    lines.push(`    ${'WCAR (Eq. 3)'.padEnd(18)}${tiers.map((k) => `  ${f(t.wcar[k])}`).join('')}`);
  }
  return lines.join('\n');
}
