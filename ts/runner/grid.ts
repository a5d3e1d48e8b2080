/**
 * The benchmark grid: models (the FP model of each architecture, one QAT model per (arch, method, bits))
 * and evaluation cells (model × suite × target), their ids, their order, and `--shard i/n`.
 *
 * Ids (fixed; the store, `status` and the report key on them):
 * - model: `<arch>/fp/32` and `<arch>/<method>/<bits>`
 * - cell:  `<model id>/<suite>/<target>`, e.g. `resnet20/lsq/4/corruption/reference`
 *
 * Sharding assigns whole model lines (a model and all its cells) to shards round-robin in grid order, so a
 * QAT model is trained by exactly one shard. Every shard that owns a QAT line needs the FP model: it trains
 * it (deterministically, the same bytes in every shard) or reuses one given with `--fp`.
 */
import { UsageError, invalidOption } from '../util/errors.ts';
import { TARGET_IDS } from '../targets/index.ts';

/** Suites in report order. */
export const RUN_SUITES = ['clean', 'adversarial', 'corruption', 'systematic'] as const;
export type RunSuite = (typeof RUN_SUITES)[number];
/** QAT methods (CONVENTIONS.md). */
export const METHODS = ['dorefa', 'pact', 'lsq'] as const;
export type Method = (typeof METHODS)[number];
/** Bit widths (CONVENTIONS.md). */
export const BITS = [2, 4, 6, 8] as const;
/** The FP model's method and bits in ids. */
export const FP_METHOD = 'fp';
export const FP_BITS = 32;

/** One model of the grid. */
export interface ModelUnit {
  id: string;
  arch: string;
  /** 'fp' or a QAT method */
  method: string;
  /** 32 for FP */
  bits: number;
}

/** One evaluation cell. */
export interface Cell {
  id: string;
  model: ModelUnit;
  suite: RunSuite;
  target: string;
}

/** The grid's axes. */
export interface GridSpec {
  archs: readonly string[];
  methods: readonly Method[];
  bits: readonly number[];
  suites: readonly RunSuite[];
  targets: readonly string[];
}

/** `resnet20/fp/32`, `resnet20/lsq/4`. */
export function modelId(arch: string, method: string, bits: number): string {
  return `${arch}/${method}/${bits}`;
}

/** `resnet20/lsq/4/clean/reference`. */
export function cellId(model: ModelUnit, suite: string, target: string): string {
  return `${model.id}/${suite}/${target}`;
}

/**
 * The model lines of a grid in order: per architecture, FP first, then methods × bits.
 * @example
 * gridModels({ archs: ['resnet20'], methods: ['lsq'], bits: [2, 4], suites: ['clean'], targets: ['reference'] }).map((m) => m.id)
 * // ['resnet20/fp/32', 'resnet20/lsq/2', 'resnet20/lsq/4']
 */
export function gridModels(g: GridSpec): ModelUnit[] {
  const out: ModelUnit[] = [];
  for (const arch of g.archs) {
    out.push({ id: modelId(arch, FP_METHOD, FP_BITS), arch, method: FP_METHOD, bits: FP_BITS });
    for (const method of g.methods) for (const bits of g.bits) out.push({ id: modelId(arch, method, bits), arch, method, bits });
  }
  return out;
}

/** The cells of one model line, suites in {@link RUN_SUITES} order, then targets. */
export function modelCells(m: ModelUnit, g: GridSpec): Cell[] {
  const out: Cell[] = [];
  for (const suite of RUN_SUITES) {
    if (!g.suites.includes(suite)) continue;
    for (const target of g.targets) out.push({ id: cellId(m, suite, target), model: m, suite, target });
  }
  return out;
}

/** The target every grid can evaluate without deploying: the fake-quant / float models in our float engine. */
export const REFERENCE_TARGET = 'reference';

/** A `--targets` entry that is not a shipped target id (exit code 2). */
export class UnknownRunTargetError extends UsageError {
  constructor(readonly flag: string, readonly id: string) {
    super(`Expected target ids among ${TARGET_IDS.join(', ')} for ${flag} but received '${id}'`);
    this.name = 'UnknownRunTargetError';
  }
}

/**
 * Checks the grid's targets: shipped target ids only (ids appear in cell ids, so no .json paths), no duplicates.
 * @param targets the ids
 * @param flag the flag named in the error
 * @returns the ids, first occurrence order
 * @throws UnknownRunTargetError naming the flag, every allowed id and the id received; UsageError for an empty list
 * @example
 * checkRunTargets(['reference', 'rpi4-tflite']) // ['reference', 'rpi4-tflite']
 */
export function checkRunTargets(targets: readonly string[], flag = '--targets'): string[] {
  if (targets.length === 0) throw invalidOption(flag, `one or more target ids of ${TARGET_IDS.join(', ')}`, '(none)');
  for (const t of targets) if (!(TARGET_IDS as readonly string[]).includes(t)) throw new UnknownRunTargetError(flag, t);
  return [...new Set(targets)];
}

/** A parsed `--shard i/n` (1 ≤ i ≤ n). */
export interface Shard {
  index: number;
  count: number;
}

/**
 * Parses `--shard i/n`.
 * @throws UsageError unless 1 ≤ i ≤ n ≤ 1000
 * @example
 * parseShard('2/3') // { index: 2, count: 3 }
 */
export function parseShard(s: string | undefined): Shard {
  if (s === undefined) return { index: 1, count: 1 };
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(s);
  const i = m ? Number(m[1]) : NaN;
  const n = m ? Number(m[2]) : NaN;
  if (!m || !(n >= 1 && n <= 1000) || !(i >= 1 && i <= n)) throw invalidOption('--shard', 'i/n with 1 <= i <= n (e.g. 1/2)', s);
  return { index: i, count: n };
}

/**
 * The model lines a shard owns (round-robin over the grid's lines).
 * @example
 * shardModels(['a', 'b', 'c'], { index: 2, count: 2 }) // ['b']
 */
export function shardModels<T>(lines: readonly T[], shard: Shard): T[] {
  return lines.filter((_, k) => k % shard.count === shard.index - 1);
}
