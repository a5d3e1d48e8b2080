/**
 * The adversarial suite: every requested attack at every requested tier on every sample, per-sample
 * flags, AR / WCAR (Eq. 3) / WCAR_RA, and the adversarial JSON of CONVENTIONS.md. One progress bar
 * (with ETA) per attack. Optionally writes every adversarial example as float32 NCHW .npy beside the
 * clean inputs and labels (`--save-adv <dir>`).
 *
 * Randomness: sample i under (attack, tier) draws from `new Rng(seed).fork('<attack>/<tier>').fork(i)`,
 * with i the sample's index in the source; results therefore do not depend on the batch size.
 *
 * Attacks are looked up in a registry: fgsm, pgd-linf, pgd-l2, pgd-l1 are built in; AutoAttack
 * (issue 12) registers `aa` through {@link registerAttack}, optionally reporting per-component counts.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { invalidOption, QrobustError, UsageError } from '../util/errors.ts';
import { Rng } from '../util/rng.ts';
import { startProgress } from '../util/progress.ts';
import { sampleSize, type AttackModel } from './model.ts';
import { argmaxRows, checkBatch, type AttackConfig } from './base.ts';
import { checkPerturbation } from './norms.ts';
import { FGSM } from './fgsm.ts';
import { PGD, PGDL1, PGDL2, type PgdOptions } from './pgd.ts';
import { ATTACK_IDS, ATTACK_NORM, checkAttacks, checkTiers, magnitudes, TIERS, type AttackId, type MagnitudeOptions, type MagnitudeTable, type Tier } from './magnitudes.ts';
import { AdversarialFlags, adversarialJson, type AdversarialJson, type ResultMeta } from './metrics.ts';
import { NpyWriter } from './npy.ts';

/** A batch of clean samples: n*C*H*W floats in [0,1] and n labels. */
export interface Batch {
  x: Float32Array;
  y: ArrayLike<number>;
  n: number;
}

/** Samples the suite can iterate several times (once for the clean pass, once per attack and tier). */
export interface SampleSource {
  /** total number of samples */
  readonly n: number;
  /** the samples in order, in batches of at most `size` */
  batches(size: number): Iterable<Batch> | AsyncIterable<Batch>;
}

/**
 * A source over samples in memory.
 * @param x n*C*H*W floats
 * @param y n labels
 * @throws UsageError when the lengths disagree
 * @example
 * arraySource(x, y).n // 4
 */
export function arraySource(x: Float32Array, y: ArrayLike<number>): SampleSource {
  const n = y.length;
  if (n < 1 || x.length % n !== 0) throw invalidOption('x', `a multiple of ${n} floats (one sample per label)`, x.length);
  const d = x.length / n;
  return {
    n,
    *batches(size: number) {
      for (let o = 0; o < n; o += size) {
        const m = Math.min(size, n - o);
        yield { x: x.subarray(o * d, (o + m) * d), y: Array.prototype.slice.call(y, o, o + m) as number[], n: m };
      }
    },
  };
}

/**
 * What an attack returns for a batch: the adversarial inputs, and optionally per-component flags (1 = newly
 * broken there) and per-component wall seconds (summed into `component_seconds` of the JSON).
 */
export type RunnerOutput = Float32Array | { adv: Float32Array; components?: Record<string, Uint8Array>; seconds?: Record<string, number> };

/** An attack bound to a model and an ε, as the suite runs it. */
export interface AttackRunner {
  perturb(x: Float32Array, y: ArrayLike<number>, n: number, rngs: readonly Rng[]): Promise<RunnerOutput>;
  config(): AttackConfig;
}

/** Builds a runner for (model, ε); `opts` carries suite-level hyperparameter overrides (e.g. steps). */
export type AttackFactory = (model: AttackModel, eps: number, opts: Readonly<Record<string, unknown>>) => AttackRunner;

const registry = new Map<AttackId, AttackFactory>([
  ['fgsm', (m, eps) => new FGSM(m, { eps })],
  ['pgd-linf', (m, eps, o) => new PGD(m, { ...(o as PgdOptions), eps })],
  ['pgd-l2', (m, eps, o) => new PGDL2(m, { ...(o as PgdOptions), eps })],
  ['pgd-l1', (m, eps, o) => new PGDL1(m, { ...(o as PgdOptions), eps })],
]);

/**
 * Registers (or replaces) the factory of an attack id; AutoAttack registers `aa` here.
 * @returns a function restoring the previous registration (for tests)
 * @throws UsageError for an id outside CONVENTIONS.md's list
 * @example
 * const restore = registerAttack('aa', (m, eps) => new FGSM(m, { eps })); // AutoAttack registers its runner here
 * const ok = availableAttacks().includes('aa');
 * restore();
 * ok // true
 */
export function registerAttack(id: AttackId, factory: AttackFactory): () => void {
  if (!(ATTACK_IDS as readonly string[]).includes(id)) throw invalidOption('attack id', `one of ${ATTACK_IDS.join(', ')}`, id);
  if (typeof factory !== 'function') throw invalidOption('factory', 'a function (model, eps, opts) => AttackRunner', factory);
  const prev = registry.get(id);
  registry.set(id, factory);
  return () => { if (prev) registry.set(id, prev); else registry.delete(id); };
}

/**
 * The ids with a registered factory, in CONVENTIONS.md order.
 * @example
 * availableAttacks().slice(0, 4) // ['fgsm', 'pgd-linf', 'pgd-l2', 'pgd-l1']
 */
export function availableAttacks(): AttackId[] {
  return ATTACK_IDS.filter((a) => registry.has(a));
}

/** Options of {@link runAdversarial}. */
export interface AdversarialOptions {
  /** attacks to run; default every registered one */
  attacks?: readonly AttackId[];
  /** tiers; default small, middle, large */
  tiers?: readonly Tier[];
  /** the run's seed (recorded) */
  seed: number;
  /** batch size; default 64 (RobustART's per-GPU batch) */
  batch?: number;
  /** an ε table, or options to build one from the model's input shape */
  magnitudes?: MagnitudeTable | MagnitudeOptions;
  /** per-attack hyperparameter overrides, e.g. `{ 'pgd-linf': { steps: 10 } }` (recorded) */
  attackOptions?: Partial<Record<AttackId, Record<string, unknown>>>;
  /** write clean.npy, labels.npy and <attack>-<tier>.npy here */
  saveAdv?: string;
  /** common JSON fields (model, data, target, subset, versions) */
  meta?: Omit<ResultMeta, 'seed' | 'seconds'>;
  /** include per-sample flags in the JSON; default true */
  perSample?: boolean;
  /**
   * Transfer targets (`--transfer-to`): other models (another checkpoint, a target's integer engine:
   * logits suffice) that classify the same clean inputs and the adversarial examples crafted on
   * `model`; reported under `transfer[<name>]` beside the white-box numbers.
   */
  transferTo?: readonly AttackModel[];
}

async function* iterate(src: SampleSource, size: number): AsyncGenerator<Batch> {
  for await (const b of src.batches(size) as AsyncIterable<Batch>) yield b;
}

/**
 * Runs the adversarial suite.
 * @param model the white-box target (needs `vjp` for the gradient attacks)
 * @param source the samples (iterated once for the clean pass and once per attack and tier)
 * @param opts attacks, tiers, seed, batch, magnitudes, save directory
 * @returns the adversarial JSON (CONVENTIONS.md) with `magnitudes`, `attack_config`, `rng`, by default
 *   `per_sample`, and `transfer` when transfer targets were given
 * @throws UsageError on an unknown or unregistered attack, an unknown tier, ε < 0, a bad batch or seed;
 *   PerturbationError when an attack leaves its threat model
 * @example
 * // with an nn model: runAdversarial(fromModule(net.eval(), { inputShape: [3, 32, 32] }), ...)
 * const json = await runAdversarial(model, arraySource(x, y), { attacks: ['fgsm', 'pgd-linf'], tiers: ['small'], seed: 0 });
 * [json.attacks, json.wcar.small <= Math.min(json.ar.fgsm.small, json.ar['pgd-linf'].small)] // [['fgsm', 'pgd-linf'], true]
 */
export async function runAdversarial(model: AttackModel, source: SampleSource, opts: AdversarialOptions): Promise<AdversarialJson> {
  const t0 = performance.now();
  if (!opts || typeof opts !== 'object') throw invalidOption('options', 'an object', opts);
  const seed = opts.seed;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw invalidOption('seed', 'integer 0..4294967295', seed);
  const attacks = checkAttacks(opts.attacks ?? availableAttacks());
  for (const a of attacks) if (!registry.has(a)) throw new UsageError(`attack '${a}' is not available in this build (registered: ${availableAttacks().join(', ')})`);
  const tiers = checkTiers(opts.tiers ?? TIERS);
  const batch = opts.batch ?? 64;
  if (!Number.isInteger(batch) || batch < 1 || batch > 65536) throw invalidOption('batch', 'integer 1..65536', batch);
  if (!source || !Number.isInteger(source.n) || source.n < 1 || typeof source.batches !== 'function') throw invalidOption('source', 'a SampleSource { n, batches(size) }', source);
  const table: MagnitudeTable = opts.magnitudes && 'eps' in opts.magnitudes ? opts.magnitudes : magnitudes(model.inputShape, (opts.magnitudes ?? {}) as MagnitudeOptions);
  const n = source.n;
  const d = sampleSize(model);
  const shape = model.inputShape;
  const flags = new AdversarialFlags(n);
  const transfer = (opts.transferTo ?? []).map((m, i) => {
    if (!m || typeof m.logits !== 'function') throw invalidOption(`transferTo[${i}]`, 'an AttackModel', m);
    if (m.numClasses !== model.numClasses || m.inputShape.some((v, k) => v !== shape[k])) {
      throw new UsageError(`transfer target '${m.name}' takes [${m.inputShape.join(', ')}] with ${m.numClasses} classes but '${model.name}' takes [${shape.join(', ')}] with ${model.numClasses}`);
    }
    return { model: m, flags: new AdversarialFlags(n) };
  });
  if (new Set(transfer.map((t) => t.model.name)).size !== transfer.length) throw invalidOption('transferTo', 'models with distinct names', transfer.map((t) => t.model.name).join(','));

  // Build every runner first so that a bad ε or option fails before any work.
  const runners = new Map<string, AttackRunner>();
  for (const a of attacks) for (const t of tiers) {
    const eps = table.eps[a]?.[t];
    runners.set(`${a}/${t}`, registry.get(a)!(model, eps as number, opts.attackOptions?.[a] ?? {}));
  }

  let save: { dir: string } | null = null;
  if (opts.saveAdv !== undefined) {
    if (typeof opts.saveAdv !== 'string' || opts.saveAdv.length === 0) throw invalidOption('saveAdv', 'a directory path', opts.saveAdv);
    mkdirSync(opts.saveAdv, { recursive: true });
    save = { dir: opts.saveAdv };
  }

  // Clean pass.
  {
    const p = startProgress('adversarial: clean', n);
    const xw = save ? new NpyWriter(join(save.dir, 'clean.npy'), 'float32', shape) : null;
    const yw = save ? new NpyWriter(join(save.dir, 'labels.npy'), 'int32', []) : null;
    let off = 0;
    try {
      for await (const b of iterate(source, batch)) {
        checkBatch(model, b.x, b.y, b.n);
        if (off + b.n > n) throw new QrobustError(`source yielded more than its n = ${n} samples`);
        flags.setClean(off, argmaxRows(await model.logits(b.x, b.n), b.n, model.numClasses), b.y);
        for (const tr of transfer) tr.flags.setClean(off, argmaxRows(await tr.model.logits(b.x, b.n), b.n, model.numClasses), b.y);
        xw?.append(b.x);
        yw?.append(Int32Array.from(b.y));
        off += b.n;
        p.tick(b.n);
      }
    } finally {
      xw?.close();
      yw?.close();
      p.stop();
    }
    if (off !== n) throw new QrobustError(`source yielded ${off} samples but declared n = ${n}`);
  }

  const attackConfig: Record<string, Partial<Record<Tier, AttackConfig>>> = {};
  const componentSeconds: Record<string, Record<string, Partial<Record<Tier, number>>>> = {};
  for (const a of attacks) {
    attackConfig[a] = {};
    const p = startProgress(`adversarial: ${a}`, n * tiers.length);
    try {
      for (const t of tiers) {
        const runner = runners.get(`${a}/${t}`)!;
        attackConfig[a]![t] = runner.config();
        const eps = table.eps[a][t];
        const base = new Rng(seed).fork(`${a}/${t}`);
        const w = save ? new NpyWriter(join(save.dir, `${a}-${t}.npy`), 'float32', shape) : null;
        let off = 0;
        try {
          for await (const b of iterate(source, batch)) {
            const rngs = Array.from({ length: b.n }, (_, i) => base.fork(off + i));
            const out = await runner.perturb(b.x, b.y, b.n, rngs);
            const adv = out instanceof Float32Array ? out : out.adv;
            if (!(adv instanceof Float32Array) || adv.length !== b.n * d) throw new QrobustError(`${a}/${t}: the attack returned ${adv instanceof Float32Array ? adv.length : typeof adv} values for ${b.n * d}`);
            // Every attack, registered ones included, is checked against its threat model here.
            checkPerturbation(`${a}/${t}`, b.x, adv, b.n, ATTACK_NORM[a], eps);
            flags.setAdversarial(a, t, off, argmaxRows(await model.logits(adv, b.n), b.n, model.numClasses), b.y);
            for (const tr of transfer) tr.flags.setAdversarial(a, t, off, argmaxRows(await tr.model.logits(adv, b.n), b.n, model.numClasses), b.y);
            if (!(out instanceof Float32Array) && out.components) {
              for (const [c, broken] of Object.entries(out.components)) flags.addComponent(a, c, t, broken.reduce((s, v) => s + (v ? 1 : 0), 0));
            }
            if (!(out instanceof Float32Array) && out.seconds) {
              for (const [c, sec] of Object.entries(out.seconds)) {
                const row = ((componentSeconds[a] ??= {})[c] ??= {});
                row[t] = (row[t] ?? 0) + sec;
              }
            }
            w?.append(adv);
            off += b.n;
            p.tick(b.n);
          }
        } finally {
          w?.close();
        }
      }
    } finally {
      p.stop();
    }
  }

  const json = adversarialJson(flags, attacks, tiers, { ...(opts.meta ?? {}), model: opts.meta?.model ?? model.name, seed, seconds: (performance.now() - t0) / 1000 }, opts.perSample ?? true);
  json.magnitudes = table;
  json.attack_config = attackConfig;
  json.rng = "per sample i: new Rng(seed).fork('<attack>/<tier>').fork(i) (xoshiro128**, ts/util/rng.ts)";
  json.batch = batch;
  if (Object.keys(componentSeconds).length > 0) json.component_seconds = componentSeconds;
  if (transfer.length > 0) {
    const out: Record<string, unknown> = {};
    for (const tr of transfer) {
      const tj = adversarialJson(tr.flags, attacks, tiers, { seed, model: tr.model.name }, opts.perSample ?? true);
      out[tr.model.name] = { model: tr.model.name, crafted_on: json.model, clean: tj.clean, ar: tj.ar, wcar: tj.wcar, wcar_ra: tj.wcar_ra, ...(tj.per_sample ? { per_sample: tj.per_sample } : {}) };
    }
    json.transfer = out;
  }
  if (save) {
    json.save_adv = save.dir;
    const { per_sample: _omit, ...rest } = json;
    writeFileSync(join(save.dir, 'adversarial.json'), `${JSON.stringify(rest, null, 2)}\n`);
  }
  return json;
}
