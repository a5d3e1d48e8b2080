/** Differentiable shape ops: reshape and flatten (zero-copy views of contiguous inputs). */
import { invalidOption } from '../util/errors.ts';
import { Tensor } from '../tensor/tensor.ts';
import { record } from './graph.ts';

/**
 * The same elements in a new shape (one entry may be -1).
 * @throws UsageError when the element counts differ
 * @example
 * reshape(Tensor.zeros([2, 3]), [3, -1]).shape // [3, 2]
 */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  if (!(x instanceof Tensor)) throw invalidOption('x', 'a Tensor', x);
  const out = x.view(shape);
  return record('reshape', [x], out, (g) => [g.view(x.shape)]);
}

/**
 * Flattens axes startDim..end into one (torch.flatten(x, 1) by default: [N, C, H, W] → [N, C·H·W]).
 * @throws UsageError when startDim is outside the tensor
 * @example
 * flatten(Tensor.zeros([2, 3, 4, 5])).shape // [2, 60]
 */
export function flatten(x: Tensor, startDim = 1): Tensor {
  if (!(x instanceof Tensor)) throw invalidOption('x', 'a Tensor', x);
  if (!Number.isInteger(startDim) || startDim < 0 || startDim >= Math.max(1, x.ndim)) throw invalidOption('startDim', `integer 0..${Math.max(0, x.ndim - 1)}`, startDim);
  return reshape(x, [...x.shape.slice(0, startDim), -1]);
}
