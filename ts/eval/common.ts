/**
 * The common fields of every evaluation JSON (CONVENTIONS.md "Suites and their JSON"):
 * `{suite, model, data, target, n, seed, subset, versions, seconds}`, and the context the suites share.
 */
import { int } from '../util/is.ts';
import type { SubsetRecord } from '../data/subset.ts';
import { indicesDigest } from '../data/subset.ts';
import { runVersions, type Versions } from './versions.ts';

/** What every suite of one `eval` run shares. */
export interface EvalContext {
  /** the model as named by the user (checkpoint path) */
  modelName: string;
  /** the canonical data name */
  dataName: string;
  /** the split's sample indices to evaluate (ascending) */
  indices: Int32Array;
  /** the subset record of those indices (default: `all` over them) */
  subset?: SubsetRecord;
  /** the run's seed (subset choice, corruption draws) */
  seed?: number;
  /** model input size S (default 32) */
  size?: number;
  /** preprocess id of the clean / corruption suites (default `dec-pil`) */
  preprocess?: string;
  /** images per forward pass (default 128) */
  batch?: number;
  /** deployment target (only `reference` exists so far) */
  target?: string;
}

/** The common fields, in CONVENTIONS.md order. */
export interface CommonFields {
  suite: string;
  model: string;
  data: string;
  target: string;
  n: number;
  seed: number;
  subset: SubsetRecord;
  versions: Versions;
  seconds: number;
}

/**
 * Builds the common fields of one suite's result.
 * @param suite the suite name
 * @param ctx the run's context
 * @param n samples counted
 * @param seconds wall time of the suite
 * @throws UsageError for a bad seed
 * @example
 * const c = await commonFields('clean', { modelName: 'm.safetensors', dataName: 'fashion-mnist', indices: Int32Array.of(0, 1) }, 2, 0.5);
 * c.target // 'reference'
 */
export async function commonFields(suite: string, ctx: EvalContext, n: number, seconds: number): Promise<CommonFields> {
  const seed = int('--seed', ctx.seed ?? 0, 0, 0xffffffff);
  const subset = ctx.subset ?? { method: 'all', seed, split: 'test', n: ctx.indices.length, of: ctx.indices.length, sha256: indicesDigest(ctx.indices) };
  return { suite, model: ctx.modelName, data: ctx.dataName, target: ctx.target ?? 'reference', n, seed, subset, versions: await runVersions(), seconds };
}
