/**
 * Reductions, forward beside backward: sum, mean, max over chosen axes (all by default), with
 * keepdim. Accumulation is in float64.
 */
import { invalidOption } from '../util/errors.ts';
import { Tensor } from '../tensor/tensor.ts';
import { broadcastIndex, normAxes } from '../tensor/shape.ts';
import { record } from './graph.ts';

/** Axes to reduce (negative from the end; all when omitted) and whether to keep them as size 1. */
export interface ReduceOptions {
  dim?: number | readonly number[];
  keepdim?: boolean;
}

function plan(x: Tensor, opts: ReduceOptions) {
  if (!(x instanceof Tensor)) throw invalidOption('x', 'a Tensor', x);
  const axes = normAxes('dim', opts.dim, x.ndim);
  const keep = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const outShape = opts.keepdim ? keep : x.shape.filter((_, i) => !axes.includes(i));
  const idx = broadcastIndex(x.shape, keep);
  const count = axes.reduce((n, a) => n * x.shape[a]!, 1);
  return { keep, outShape, idx, count };
}

function reduceSum(op: string, x: Tensor, opts: ReduceOptions, scale: (count: number) => number): Tensor {
  const { keep, outShape, idx, count } = plan(x, opts);
  const xd = x.contiguous().data;
  const acc = new Float64Array(keep.reduce((a, b) => a * b, 1));
  for (let i = 0; i < xd.length; i++) acc[idx ? idx[i]! : i]! += xd[i]!;
  const s = scale(count);
  const out = Tensor.zeros(outShape);
  const o = out.data;
  for (let i = 0; i < o.length; i++) o[i] = acc[i]! * s;
  return record(op, [x], out, (g) => {
    const gd = g.contiguous().data;
    const gx = new Float32Array(xd.length);
    for (let i = 0; i < gx.length; i++) gx[i] = gd[idx ? idx[i]! : i]! * s;
    return [Tensor.from(gx, x.shape)];
  });
}

/**
 * Sum over axes.
 * @throws UsageError on an axis outside the tensor
 * @example
 * sum(Tensor.from([1, 2, 3, 4], [2, 2]), { dim: 1 }).toArray() // [3, 7]
 */
export function sum(x: Tensor, opts: ReduceOptions = {}): Tensor {
  return reduceSum('sum', x, opts, () => 1);
}

/** Mean over axes. @example mean(Tensor.from([1, 2, 3, 4])).item() // 2.5 */
export function mean(x: Tensor, opts: ReduceOptions = {}): Tensor {
  return reduceSum('mean', x, opts, (n) => 1 / n);
}

/**
 * Maximum over axes. NOTE: ties share the gradient equally (torch.amax semantics), so the gradient
 * of max|w| in DoReFa does not depend on which of equal weights comes first.
 * @example
 * max(Tensor.from([1, 5, 3, 2], [2, 2]), { dim: 0 }).toArray() // [3, 5]
 */
export function max(x: Tensor, opts: ReduceOptions = {}): Tensor {
  const { keep, outShape, idx } = plan(x, opts);
  const xd = x.contiguous().data;
  const m = new Float32Array(keep.reduce((a, b) => a * b, 1)).fill(-Infinity);
  for (let i = 0; i < xd.length; i++) {
    const j = idx ? idx[i]! : i;
    const v = xd[i]!;
    if (v > m[j]! || Number.isNaN(v)) m[j] = v;
  }
  const out = Tensor.from(m, outShape);
  return record('max', [x], out, (g) => {
    const gd = g.contiguous().data;
    const ties = new Float32Array(m.length);
    for (let i = 0; i < xd.length; i++) {
      const j = idx ? idx[i]! : i;
      if (xd[i] === m[j]) ties[j]!++;
    }
    const gx = new Float32Array(xd.length);
    for (let i = 0; i < xd.length; i++) {
      const j = idx ? idx[i]! : i;
      if (xd[i] === m[j]) gx[i] = gd[j]! / ties[j]!;
    }
    return [Tensor.from(gx, x.shape)];
  });
}
