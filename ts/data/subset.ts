/**
 * Seeded subsets (`--test-limit N`, `--train-limit N`), shuffles and batch orders. Every choice takes a seed or
 * an {@link Rng} (never Math.random) and the chosen subset is summarised by a {@link SubsetRecord} that results
 * store, so a run can be repeated exactly.
 *
 * Subsets are **stratified** by default: class k gets floor(N * n_k / total) samples, the remainder going to the
 * classes with the largest fractional parts (ties to the lower class), each class's samples being the first of
 * a permutation drawn from `new Rng(seed).fork('class:<k>')`. `plain` takes the first N of one permutation drawn
 * from `new Rng(seed)`. Either way the indices are returned ascending (dataset order).
 */
import { createHash } from 'node:crypto';
import { Rng } from '../util/rng.ts';
import { int, oneOf } from '../util/is.ts';

/** How a subset was drawn. */
export type SubsetMethod = 'stratified' | 'plain';

/** What results record about the subset they ran on. */
export interface SubsetRecord {
  /** `all` when no limit applied (or the limit covered the split) */
  method: SubsetMethod | 'all';
  seed: number;
  split: string;
  /** samples chosen */
  n: number;
  /** samples in the split */
  of: number;
  /** the first 16 hex digits of sha256 over the chosen indices as u32 little endian */
  sha256: string;
}

/**
 * sha256 (first 16 hex digits) of indices written as u32 little endian.
 * @param indices the chosen indices
 * @throws never
 * @example
 * indicesDigest(Int32Array.of(0, 1)).length // 16
 */
export function indicesDigest(indices: Int32Array): string {
  const b = Buffer.alloc(indices.length * 4);
  for (let i = 0; i < indices.length; i++) b.writeUInt32LE(indices[i]!, i * 4);
  return createHash('sha256').update(b).digest('hex').slice(0, 16);
}

/**
 * Chooses a seeded subset of a split.
 * @param labels the split's labels (see Split.labels)
 * @param limit how many to keep; undefined/null or >= the split size keeps all
 * @param seed the seed (recorded)
 * @param opts `method` (default `stratified`), `split` (the name recorded)
 * @throws UsageError for a negative limit, a bad seed or method
 * @example
 * const { indices, record } = selectSubset(split.labels, 1000, 0, { split: 'test' });
 * record.method // 'stratified'
 */
export function selectSubset(
  labels: Int32Array,
  limit: number | null | undefined,
  seed: number,
  opts: { method?: SubsetMethod; split?: string } = {},
): { indices: Int32Array; record: SubsetRecord } {
  int('--seed', seed, 0, 0xffffffff);
  const method = oneOf('subset method', opts.method ?? 'stratified', ['stratified', 'plain'] as const);
  const total = labels.length;
  const split = opts.split ?? 'test';
  if (limit === undefined || limit === null || int('--test-limit', limit, 0) >= total) {
    const indices = Int32Array.from({ length: total }, (_, i) => i);
    return { indices, record: { method: 'all', seed, split, n: total, of: total, sha256: indicesDigest(indices) } };
  }
  let chosen: number[];
  if (method === 'plain') {
    chosen = Array.from(new Rng(seed).permutation(total).subarray(0, limit));
  } else {
    const byClass = new Map<number, number[]>();
    for (let i = 0; i < total; i++) {
      const l = labels[i]!;
      let a = byClass.get(l);
      if (!a) byClass.set(l, (a = []));
      a.push(i);
    }
    const classes = [...byClass.keys()].sort((a, b) => a - b);
    const quota = classes.map((k) => Math.floor((limit * byClass.get(k)!.length) / total));
    const frac = classes.map((k, j) => ({ j, f: (limit * byClass.get(k)!.length) / total - quota[j]! }));
    frac.sort((a, b) => b.f - a.f || a.j - b.j);
    let left = limit - quota.reduce((a, b) => a + b, 0);
    for (const { j } of frac) {
      if (left === 0) break;
      if (quota[j]! < byClass.get(classes[j]!)!.length) {
        quota[j]!++;
        left--;
      }
    }
    const root = new Rng(seed);
    chosen = [];
    classes.forEach((k, j) => {
      const members = byClass.get(k)!;
      const perm = root.fork(`class:${k}`).permutation(members.length);
      for (let t = 0; t < quota[j]!; t++) chosen.push(members[perm[t]!]!);
    });
  }
  const indices = Int32Array.from(chosen.sort((a, b) => a - b));
  return { indices, record: { method, seed, split, n: indices.length, of: total, sha256: indicesDigest(indices) } };
}

/**
 * A seeded shuffle of `indices` (a new array; the input is unchanged).
 * @param indices sample indices
 * @param rng the generator (e.g. `new Rng(seed).fork('epoch:3')`)
 * @example
 * shuffled(Int32Array.of(0, 1, 2, 3), new Rng(1)) // a permutation, the same for the same seed
 */
export function shuffled(indices: Int32Array, rng: Rng): Int32Array {
  return rng.shuffle(Int32Array.from(indices)) as Int32Array;
}

/**
 * Splits indices into batches, optionally shuffled first.
 * @param indices the samples, in order
 * @param batch batch size B (>= 1)
 * @param opts `shuffle`: an Rng to shuffle with; `dropLast`: drop a final short batch
 * @throws UsageError for a bad batch size
 * @example
 * batchOrder(Int32Array.of(0, 1, 2, 3, 4), 2).map((b) => b.length) // [2, 2, 1]
 */
export function batchOrder(indices: Int32Array, batch: number, opts: { shuffle?: Rng; dropLast?: boolean } = {}): Int32Array[] {
  int('--batch', batch, 1);
  const order = opts.shuffle ? shuffled(indices, opts.shuffle) : indices;
  const out: Int32Array[] = [];
  for (let s = 0; s < order.length; s += batch) {
    const b = order.subarray(s, Math.min(order.length, s + batch));
    if (b.length < batch && opts.dropLast) break;
    out.push(Int32Array.from(b));
  }
  return out;
}
