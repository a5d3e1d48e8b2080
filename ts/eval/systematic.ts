/**
 * `eval --suite systematic`: the ImageNet-S sweep of ts/systematic/suite.ts over a data split and a module.
 * Samples are read lazily from the split (stored-pixel data sets have no decoder to vary and are refused by
 * name); the JSON is the suite's plus the common fields.
 */
import { QrobustError } from '../util/errors.ts';
import { int } from '../util/is.ts';
import type { Module } from '../nn/module.ts';
import type { Split } from '../data/types.ts';
import { runSystematic, type SystematicResult, type SystematicSample } from '../systematic/suite.ts';
import { moduleClassifier } from './classify.ts';
import { commonFields, type CommonFields, type EvalContext } from './common.ts';

/** The systematic JSON: the suite's fields (sr, accuracy, extras, skipped, size) and the common ones. */
export type SystematicEvalResult = Omit<SystematicResult, 'n' | 'suite'> & CommonFields & { suite: 'systematic' };

/**
 * The samples `indices` of a split as lazily read systematic-suite samples (encoded files only).
 * @throws never; reading a sample stored as pixels throws QrobustError
 */
export function systematicSamples(split: Split, indices: Int32Array): SystematicSample[] {
  return Array.from(indices, (i) => ({
    file: split.locate(i),
    label: split.labels[i]!,
    read: async () => {
      const s = await split.get(i);
      if (s.kind !== 'encoded') throw new QrobustError(`${s.file}: stored pixels have no decoder to vary (the systematic suite needs encoded files)`);
      return s.bytes;
    },
  }));
}

/**
 * Runs the 14 systematic pipelines (and the extras unless `extras: false`) on `ctx.indices` of a split.
 * @param model the model
 * @param split a split of encoded files (JPEG/PNG)
 * @param ctx indices, names, seed, subset, size, batch
 * @param opts `extras` (default true), `onProgress(done, total)`
 * @returns the systematic JSON with the common fields
 * @throws QrobustError when a sample is stored as pixels, a library is missing or nothing decodes
 * @example
 * const r = await evaluateSystematic(model, ds.split('test'), { modelName: 'm', dataName: ds.name, indices });
 * r.sr // population std of the 14 accuracies
 */
export async function evaluateSystematic(model: Module, split: Split, ctx: EvalContext, opts: { extras?: boolean; onProgress?: (done: number, total: number) => void } = {}): Promise<SystematicEvalResult> {
  const t0 = performance.now();
  const size = int('size', ctx.size ?? 32, 1);
  const samples = systematicSamples(split, ctx.indices);
  const r = await runSystematic(samples, moduleClassifier(model, { size, batch: ctx.batch ?? 128 }), { size, batch: ctx.batch ?? 128, extras: opts.extras ?? true, onProgress: opts.onProgress });
  const common = await commonFields('systematic', ctx, r.n, (performance.now() - t0) / 1000);
  const { suite: _s, n: _n, ...rest } = r;
  return { ...common, suite: 'systematic', ...rest };
}
