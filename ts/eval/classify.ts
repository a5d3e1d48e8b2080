/**
 * The bridge from an nn {@link Module} to the suites' abstract classifier (ts/systematic/suite.ts
 * `Classifier`: NCHW float32 in [0, 1] → top-1 indices). Forward passes run in eval mode without the tape,
 * in chunks of `batch` images, so a large request never holds more than one chunk's activations.
 */
import { invalidOption } from '../util/errors.ts';
import { int } from '../util/is.ts';
import { Tensor } from '../tensor/tensor.ts';
import { fmtShape } from '../tensor/shape.ts';
import { noGrad } from '../autograd/index.ts';
import type { Module } from '../nn/module.ts';
import type { Classifier } from '../systematic/suite.ts';

/** Options of {@link moduleLogits} / {@link moduleClassifier}. */
export interface ClassifyOptions {
  /** input size S of the 3 x S x S images (default 32) */
  size?: number;
  /** images per forward pass (default 128) */
  batch?: number;
}

/**
 * Logits of `n` images, in eval mode and without recording.
 * @param model the module (left in eval mode)
 * @param x n x 3 x S x S float32 in [0, 1]
 * @param n the number of images
 * @param opts `size`, `batch`
 * @returns n x K logits, row-major
 * @throws UsageError when `x` does not hold n x 3 x S x S values or the model does not return [n, K]
 * @example
 * const z = moduleLogits(resnet20(), new Float32Array(2 * 3 * 32 * 32), 2); // 20 values
 */
export function moduleLogits(model: Module, x: Float32Array, n: number, opts: ClassifyOptions = {}): { logits: Float32Array; numClasses: number } {
  const size = int('size', opts.size ?? 32, 1);
  const batch = int('--batch', opts.batch ?? 128, 1);
  int('n', n, 1);
  const d = 3 * size * size;
  if (!(x instanceof Float32Array) || x.length !== n * d) throw invalidOption('x', `${n * d} floats (${n} x 3 x ${size} x ${size})`, x instanceof Float32Array ? x.length : x);
  model.eval();
  let out: Float32Array | null = null;
  let k = 0;
  for (let s = 0; s < n; s += batch) {
    const m = Math.min(batch, n - s);
    const z = noGrad(() => model.call(Tensor.from(x.subarray(s * d, (s + m) * d), [m, 3, size, size])));
    if (z.ndim !== 2 || z.shape[0] !== m) throw invalidOption('model output', `[${m}, K] logits`, fmtShape(z.shape));
    if (!out) {
      k = z.shape[1]!;
      out = new Float32Array(n * k);
    }
    out.set(z.contiguous().data, s * k);
  }
  return { logits: out!, numClasses: k };
}

/**
 * Top-1 class of each row of a logits matrix (the first maximum on ties, as torch.argmax).
 * @param logits n x K, row-major
 * @param k classes K
 * @throws never
 * @example
 * Array.from(argmax(Float32Array.of(0, 2, 1, 5, 0, 0), 3)) // [1, 0]
 */
export function argmax(logits: Float32Array, k: number): Int32Array {
  const n = logits.length / k;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (logits[i * k + j]! > logits[i * k + best]!) best = j;
    out[i] = best;
  }
  return out;
}

/**
 * The suites' {@link Classifier} over a module.
 * @param model the module (put in eval mode)
 * @param opts `size`, `batch`
 * @throws UsageError on bad options; the classifier throws as {@link moduleLogits}
 * @example
 * const classify = moduleClassifier(model, { size: 32 });
 * const top1 = await classify(x, n); // Int32Array(n)
 */
export function moduleClassifier(model: Module, opts: ClassifyOptions = {}): Classifier {
  int('size', opts.size ?? 32, 1);
  int('--batch', opts.batch ?? 128, 1);
  return async (x, n) => {
    const { logits, numClasses } = moduleLogits(model, x, n, opts);
    return argmax(logits, numClasses);
  };
}
