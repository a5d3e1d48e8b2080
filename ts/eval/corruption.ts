/**
 * `eval --suite corruption`: the 15 ImageNet-C corruptions at the chosen severities (ts/corrupt/suite.ts),
 * applied to each test image after the reference ONECROP (so a 32 x 32 input uses the CIFAR-10-C column),
 * classified, and summarised as NR (mean top-1 over the cells) with per-corruption, per-severity accuracies.
 *
 * Each image is preprocessed once. Its generator in a cell is derived from (seed, corruption, severity,
 * the sample's index in the split), so a sample's corrupted version does not depend on the subset, the
 * batching or the order.
 */
import { int } from '../util/is.ts';
import type { Module } from '../nn/module.ts';
import type { Split } from '../data/types.ts';
import { evalInput } from '../data/batch.ts';
import type { RgbImage } from '../data/preprocess.ts';
import { native } from '../native/binding.ts';
import { CORRUPTIONS } from '../corrupt/tables.ts';
import { corruptionCells, corruptSample, noiseRobustness } from '../corrupt/suite.ts';
import { moduleLogits, argmax } from './classify.ts';
import { commonFields, type CommonFields, type EvalContext } from './common.ts';

/** The corruption JSON. */
export interface CorruptionEvalResult extends CommonFields {
  suite: 'corruption';
  /** mean top-1 % over every cell run (the paper's NR when all 15 x 5 ran) */
  nr: number;
  /** top-1 % per corruption and severity: `{gaussian_noise: {"1": …}, …}` */
  accuracy: Record<string, Record<string, number>>;
  /** mean top-1 % per corruption over the severities run */
  perCorruption: Record<string, number>;
  severities: number[];
  /** the frost textures used (procedural unless a folder of the reference photographs was given) */
  frost: 'procedural' | 'photographs';
}

/**
 * Runs the corruption grid on `ctx.indices` of a split.
 * @param model the model
 * @param split the test split
 * @param ctx indices, names, seed (the corruption draws), subset, size, preprocess, batch
 * @param opts `severities` (default 1..5), `corruptions` (default all 15), `frostDir`, `onCell(done, total)`
 *   (called per cell and chunk of 512 samples)
 * @returns the corruption JSON with the common fields
 * @throws UsageError for an unknown corruption or bad severities; QrobustError when a sample cannot be decoded
 * @example
 * const r = await evaluateCorruption(model, ds.split('test'), { modelName: 'm', dataName: ds.name, indices, seed: 0 }, { severities: [1] });
 * Object.keys(r.accuracy).length // 15
 */
export async function evaluateCorruption(
  model: Module, split: Split, ctx: EvalContext,
  opts: { severities?: readonly number[]; corruptions?: readonly string[]; frostDir?: string; onCell?: (done: number, total: number) => void } = {},
): Promise<CorruptionEvalResult> {
  const t0 = performance.now();
  const size = int('size', ctx.size ?? 32, 1);
  const batch = int('--batch', ctx.batch ?? 128, 1);
  const seed = int('--seed', ctx.seed ?? 0, 0, 0xffffffff);
  const severities = [...(opts.severities ?? [1, 2, 3, 4, 5])];
  const cells = corruptionCells(opts.corruptions ?? CORRUPTIONS, severities);
  const toInput = evalInput(ctx.preprocess, size);
  const idx = ctx.indices;
  const plane = 3 * size * size;
  const conv = native();
  const correct = new Int32Array(cells.length);
  // Samples are preprocessed a chunk at a time (a whole ImageNet split would not fit in memory at 224).
  const chunk = Math.max(batch, 512);
  const totalWork = cells.length * Math.ceil(idx.length / chunk);
  let work = 0;
  for (let c0 = 0; c0 < idx.length; c0 += chunk) {
    const ids = idx.subarray(c0, Math.min(idx.length, c0 + chunk));
    const clean: RgbImage[] = new Array(ids.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      for (;;) {
        const k = next++;
        if (k >= ids.length) return;
        clean[k] = await toInput(await split.get(ids[k]!), null);
      }
    };
    await Promise.all(Array.from({ length: Math.min(16, ids.length) }, worker));
    const labels = Int32Array.from(ids, (i) => split.labels[i]!);
    for (let ci = 0; ci < cells.length; ci++) {
      const cell = cells[ci]!;
      for (let s = 0; s < ids.length; s += batch) {
        const m = Math.min(batch, ids.length - s);
        const imgs = await Promise.all(Array.from({ length: m }, (_, k) => corruptSample(clean[s + k]!, cell, seed, ids[s + k]!, { frostDir: opts.frostDir })));
        const x = new Float32Array(m * plane);
        imgs.forEach((img, k) => conv.hwcToChw(img.data, size, size, 3, x.subarray(k * plane, (k + 1) * plane), 1 / 255));
        const { logits, numClasses } = moduleLogits(model, x, m, { size, batch });
        const top = argmax(logits, numClasses);
        for (let k = 0; k < m; k++) if (top[k] === labels[s + k]) correct[ci]!++;
      }
      opts.onCell?.(++work, totalWork);
    }
  }
  const accuracy: Record<string, Record<string, number>> = {};
  cells.forEach((cell, ci) => {
    (accuracy[cell.corruption] ??= {})[String(cell.severity)] = idx.length ? (100 * correct[ci]!) / idx.length : 0;
  });
  const { nr, perCorruption } = noiseRobustness(accuracy);
  const common = await commonFields('corruption', ctx, idx.length, (performance.now() - t0) / 1000);
  return { ...common, suite: 'corruption', nr, accuracy, perCorruption, severities, frost: opts.frostDir ? 'photographs' : 'procedural' };
}
