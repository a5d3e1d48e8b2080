/**
 * The clean suite: top-1 accuracy (percent) on the reference pipeline (ONECROP through the preprocess hook,
 * `dec-pil` by default). The next batch is decoded while the current one runs through the model.
 */
import { int } from '../util/is.ts';
import type { Module } from '../nn/module.ts';
import type { Split } from '../data/types.ts';
import { buildBatch, type Batch } from '../data/batch.ts';
import { batchOrder } from '../data/subset.ts';
import { moduleLogits, argmax } from './classify.ts';
import { commonFields, type CommonFields, type EvalContext } from './common.ts';

/** The clean suite's JSON. */
export interface CleanResult extends CommonFields {
  suite: 'clean';
  /** top-1 accuracy, percent, unrounded */
  top1: number;
  correct: number;
  /** chance level times 2 (CONVENTIONS.md NC rule for a float model) */
  ncThreshold: number;
  /** not converged: top1 below ncThreshold */
  nc: boolean;
}

/**
 * Evaluates top-1 accuracy on `ctx.indices` of a split.
 * @param model the model (run in eval mode)
 * @param split the split to read
 * @param ctx indices, subset record, names, size, preprocess, batch (see {@link EvalContext})
 * @param opts `onBatch(images, total)`: called after each batch with the images done so far and the total
 * @returns the clean JSON with the common fields
 * @throws UsageError for bad options; QrobustError when a sample cannot be read or decoded
 * @example
 * const r = await evaluateClean(model, ds.split('test'), { modelName: 'm', dataName: ds.name, indices });
 * r.top1 // e.g. 91.2
 */
export async function evaluateClean(model: Module, split: Split, ctx: EvalContext, opts: { onBatch?: (done: number, total: number) => void } = {}): Promise<CleanResult> {
  const t0 = performance.now();
  const size = int('size', ctx.size ?? 32, 1);
  const batches = batchOrder(ctx.indices, int('--batch', ctx.batch ?? 128, 1));
  let correct = 0;
  let done = 0;
  let k = 2;
  const load = (i: number): Promise<Batch> | null => (i < batches.length ? buildBatch(split, batches[i]!, { size, preprocess: ctx.preprocess }) : null);
  let next = load(0);
  for (let i = 0; i < batches.length; i++) {
    const b = await next!;
    next = load(i + 1);
    const { logits, numClasses } = moduleLogits(model, b.x, b.y.length, { size, batch: b.y.length });
    k = numClasses;
    const top = argmax(logits, numClasses);
    for (let j = 0; j < top.length; j++) if (top[j] === b.y[j]) correct++;
    done += b.y.length;
    opts.onBatch?.(done, ctx.indices.length);
  }
  const n = ctx.indices.length;
  const top1 = n === 0 ? 0 : (100 * correct) / n;
  const ncThreshold = 200 / k;
  const common = await commonFields('clean', ctx, n, (performance.now() - t0) / 1000);
  return { ...common, suite: 'clean', top1, correct, ncThreshold, nc: top1 < ncThreshold };
}
