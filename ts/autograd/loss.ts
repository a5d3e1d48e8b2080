/**
 * Softmax cross-entropy with label smoothing, forward beside backward, as
 * torch.nn.functional.cross_entropy(logits, target, label_smoothing=ε, reduction):
 *   q = (1 − ε)·onehot(y) + ε/C,   loss_i = −Σ_c q_c · log softmax(z_i)_c
 *   d loss_i / d z_i = softmax(z_i) − q
 * Computed in float64 with the max subtracted (stable for large logits).
 */
import { invalidOption, UsageError } from '../util/errors.ts';
import { Tensor } from '../tensor/tensor.ts';
import { fmtShape } from '../tensor/shape.ts';
import { record } from './graph.ts';

export interface CrossEntropyOptions {
  /** ε in [0, 1]; default 0. */
  labelSmoothing?: number;
  /** 'mean' (default) over the batch, 'sum', or 'none' (a [N] tensor). */
  reduction?: 'mean' | 'sum' | 'none';
}

/**
 * Cross-entropy of logits against integer class labels.
 * @param logits [N, C]
 * @param target N labels in 0..C−1
 * @throws UsageError on shapes, labels out of range, or bad options
 * @example
 * crossEntropy(Tensor.from([0, 0], [1, 2]), [1]).item() // ≈ 0.6931 (log 2)
 */
export function crossEntropy(logits: Tensor, target: ArrayLike<number>, opts: CrossEntropyOptions = {}): Tensor {
  if (!(logits instanceof Tensor) || logits.ndim !== 2) throw invalidOption('logits', 'a 2-d [N, C] tensor', logits instanceof Tensor ? fmtShape(logits.shape) : logits);
  const [n, c] = logits.shape as [number, number];
  if (target === null || typeof target !== 'object' || typeof target.length !== 'number') throw invalidOption('target', `an array of ${n} labels`, target);
  if (target.length !== n) throw new UsageError(`crossEntropy: ${target.length} labels for a batch of ${n}`);
  for (let i = 0; i < n; i++) {
    const y = target[i]!;
    if (!Number.isInteger(y) || y < 0 || y >= c) throw invalidOption(`target[${i}]`, `integer 0..${c - 1}`, y);
  }
  const eps = opts.labelSmoothing ?? 0;
  if (typeof eps !== 'number' || !(eps >= 0 && eps <= 1)) throw invalidOption('labelSmoothing', 'number in [0, 1]', eps);
  const reduction = opts.reduction ?? 'mean';
  if (!['mean', 'sum', 'none'].includes(reduction)) throw invalidOption('reduction', 'one of mean, sum, none', reduction);
  const z = logits.contiguous().data;
  const prob = new Float64Array(n * c);
  const losses = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let mx = -Infinity;
    for (let k = 0; k < c; k++) mx = Math.max(mx, z[i * c + k]!);
    let se = 0;
    for (let k = 0; k < c; k++) {
      const e = Math.exp(z[i * c + k]! - mx);
      prob[i * c + k] = e;
      se += e;
    }
    const lse = mx + Math.log(se);
    let l = 0;
    for (let k = 0; k < c; k++) {
      prob[i * c + k]! /= se;
      const q = (k === target[i] ? 1 - eps : 0) + eps / c;
      if (q !== 0) l -= q * (z[i * c + k]! - lse);
    }
    losses[i] = l;
  }
  let out: Tensor;
  if (reduction === 'none') out = Tensor.from(Float32Array.from(losses), [n]);
  else {
    let s = 0;
    for (let i = 0; i < n; i++) s += losses[i]!;
    out = Tensor.scalar(reduction === 'mean' ? s / n : s);
  }
  return record('crossEntropy', [logits], out, (g) => {
    const gd = g.contiguous().data;
    const gz = new Float32Array(n * c);
    for (let i = 0; i < n; i++) {
      const gi = reduction === 'none' ? gd[i]! : reduction === 'mean' ? gd[0]! / n : gd[0]!;
      for (let k = 0; k < c; k++) {
        const q = (k === target[i] ? 1 - eps : 0) + eps / c;
        gz[i * c + k] = gi * (prob[i * c + k]! - q);
      }
    }
    return [Tensor.from(gz, logits.shape)];
  });
}
