/**
 * The batch builder: samples -> model input `x` (Float32Array, N x 3 x S x S, values in [0,1]) and labels
 * `y` (Int32Array). Each sample goes through a {@link ToInput} (by default the preprocess hook chosen by id,
 * `dec-pil`; augmentations from augment.ts plug in here), and the addon's `hwcToChw` writes it planar with
 * scale 1/255 straight into its slot of `x`.
 */
import { QrobustError } from '../util/errors.ts';
import { int } from '../util/is.ts';
import { Rng } from '../util/rng.ts';
import { native } from '../native/binding.ts';
import { createPreprocess, toRgb, DEFAULT_PREPROCESS_ID, type RgbImage } from './preprocess.ts';
import { batchOrder } from './subset.ts';
import type { Sample, Split } from './types.ts';

/** One batch. */
export interface Batch {
  /** N x 3 x S x S, in [0,1] */
  x: Float32Array;
  /** N labels */
  y: Int32Array;
  /** the sample indices, in batch order */
  indices: Int32Array;
  shape: [number, number, number, number];
}

/**
 * Sample -> S x S RGB model input. `rng` is the sample's own generator (forked per sample index) when the
 * batch was given one, else null.
 */
export type ToInput = (sample: Sample, rng: Rng | null) => Promise<RgbImage>;

/** Options of {@link buildBatch}. */
export interface BatchOptions {
  /** model input size S (default 32) */
  size?: number;
  /** preprocess id for the default ToInput (default `dec-pil`) */
  preprocess?: string;
  /** replaces the default ToInput (e.g. an augmentation transform) */
  toInput?: ToInput;
  /** seeds per-sample randomness: sample i gets `rng.fork(i)`, so results do not depend on completion order */
  rng?: Rng;
  /** samples decoded concurrently (default 16) */
  concurrency?: number;
}

/**
 * The default ToInput: the preprocess hook `id` at size `size` (encoded samples through `encoded`, stored
 * pixels through `pixels`).
 * @param id preprocess id (default `dec-pil`)
 * @param size model input size S
 * @throws UsageError for an unknown id
 * @example
 * const f = evalInput('dec-pil', 32); const img = await f(await split.get(0), null);
 */
export function evalInput(id: string = DEFAULT_PREPROCESS_ID, size = 32): ToInput {
  const pre = createPreprocess(id, size);
  return (s) => (s.kind === 'encoded' ? pre.encoded(s.bytes, s.file) : pre.pixels(s, s.file));
}

/**
 * A ToInput that takes stored pixels as they are (grey replicated to RGB): for data already at the model size,
 * e.g. CIFAR-10 in the CIFAR recipe. The batch builder rejects a sample of another size.
 * @throws QrobustError (at use) for an encoded sample
 * @example
 * await buildBatch(cifarTest, idx, { size: 32, toInput: rawInput() });
 */
export function rawInput(): ToInput {
  return async (s) => {
    if (s.kind !== 'pixels') throw new QrobustError(`rawInput takes stored pixels but ${s.file} is an encoded file; use the preprocess hook`);
    return toRgb(s);
  };
}

/**
 * Builds one batch.
 * @param split the split to read
 * @param indices sample indices, in batch order
 * @param opts see {@link BatchOptions}
 * @throws UsageError for bad sizes; QrobustError when a sample cannot be read or decoded, or a ToInput
 *   returns the wrong shape
 * @example
 * const b = await buildBatch(ds.split('test'), Int32Array.of(0, 1, 2), { size: 32 });
 * b.shape // [3, 3, 32, 32]
 */
export async function buildBatch(split: Split, indices: ArrayLike<number>, opts: BatchOptions = {}): Promise<Batch> {
  const size = int('size', opts.size ?? 32, 1, 4096);
  const n = indices.length;
  const plane = 3 * size * size;
  const x = new Float32Array(n * plane);
  const y = new Int32Array(n);
  const idx = Int32Array.from(indices);
  const toInput = opts.toInput ?? evalInput(opts.preprocess, size);
  const conv = native();
  let next = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const k = next++;
      if (k >= n) return;
      const i = idx[k]!;
      const sample = await split.get(i);
      const img = await toInput(sample, opts.rng ? opts.rng.fork(i) : null);
      if (img.width !== size || img.height !== size || img.channels !== 3 || img.data.length !== plane) {
        throw new QrobustError(`Expected a ${size}x${size}x3 model input for ${sample.file} but the transform gave ${img.width}x${img.height}x${img.channels}`);
      }
      conv.hwcToChw(img.data, size, size, 3, x.subarray(k * plane, (k + 1) * plane), 1 / 255);
      y[k] = sample.label;
    }
  };
  const width = Math.max(1, Math.min(n, int('concurrency', opts.concurrency ?? 16, 1, 1024)));
  await Promise.all(Array.from({ length: width }, worker));
  return { x, y, indices: idx, shape: [n, 3, size, size] };
}

/**
 * Iterates over batches of `indices` (default: the whole split), optionally shuffled with `shuffle`.
 * @param split the split
 * @param opts `batch` size B, `indices`, `shuffle` (an Rng; the same one gives the same order), `dropLast`,
 *   and the {@link BatchOptions}
 * @throws as {@link buildBatch}
 * @example
 * for await (const b of iterateBatches(ds.split('test'), { batch: 64 })) console.log(b.shape);
 */
export async function* iterateBatches(
  split: Split,
  opts: BatchOptions & { batch: number; indices?: Int32Array; shuffle?: Rng; dropLast?: boolean },
): AsyncGenerator<Batch> {
  const indices = opts.indices ?? Int32Array.from({ length: split.length }, (_, i) => i);
  for (const b of batchOrder(indices, opts.batch, { shuffle: opts.shuffle, dropLast: opts.dropLast })) yield buildBatch(split, b, opts);
}
