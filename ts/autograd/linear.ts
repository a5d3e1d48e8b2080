/** linear (y = x·Wᵀ + b) and matmul, forward beside backward, through the native GEMM. */
import { invalidOption, UsageError } from '../util/errors.ts';
import { Tensor } from '../tensor/tensor.ts';
import { fmtShape } from '../tensor/shape.ts';
import { matmul as gemm } from '../tensor/float-kernels.ts';
import { needsGrad, record } from './graph.ts';

/**
 * Fully connected layer as torch.nn.functional.linear.
 * @param x [N, in]
 * @param w [out, in]
 * @param b [out] or null
 * @throws UsageError on mismatching shapes
 * @example
 * linear(Tensor.ones([2, 3]), Tensor.ones([4, 3]), Tensor.zeros([4])).shape // [2, 4]
 */
export function linear(x: Tensor, w: Tensor, b: Tensor | null = null): Tensor {
  if (!(x instanceof Tensor) || x.ndim !== 2) throw invalidOption('x', 'a 2-d [N, in] tensor', x instanceof Tensor ? fmtShape(x.shape) : x);
  if (!(w instanceof Tensor) || w.ndim !== 2) throw invalidOption('w', 'a 2-d [out, in] tensor', w instanceof Tensor ? fmtShape(w.shape) : w);
  const [n, fin] = x.shape as [number, number];
  const fout = w.shape[0]!;
  if (w.shape[1] !== fin) throw new UsageError(`linear: weights ${fmtShape(w.shape)} expect ${w.shape[1]} input features but the input ${fmtShape(x.shape)} has ${fin}`);
  if (b !== null && (!(b instanceof Tensor) || b.ndim !== 1 || b.shape[0] !== fout)) throw invalidOption('bias', `a [${fout}] tensor or null`, b instanceof Tensor ? fmtShape(b.shape) : b);
  const y = gemm(x, w, false, true);
  if (b) {
    const yd = y.data;
    const bd = b.contiguous().data;
    for (let i = 0; i < n; i++) for (let j = 0; j < fout; j++) yd[i * fout + j]! += bd[j]!;
  }
  const inputs = b ? [x, w, b] : [x, w];
  return record('linear', inputs, y, (g) => {
    const dx = needsGrad(x) ? gemm(g, w) : null;
    const dw = needsGrad(w) ? gemm(g, x, true, false) : null;
    let db: Tensor | null = null;
    if (b && needsGrad(b)) {
      const gd = g.contiguous().data;
      const acc = new Float64Array(fout);
      for (let i = 0; i < n; i++) for (let j = 0; j < fout; j++) acc[j]! += gd[i * fout + j]!;
      db = Tensor.from(Float32Array.from(acc), [fout]);
    }
    return b ? [dx, dw, db] : [dx, dw];
  });
}

/**
 * Matrix product of 2-d tensors.
 * @throws UsageError when inner dimensions differ
 * @example
 * matmul(Tensor.ones([2, 3]), Tensor.ones([3, 4])).shape // [2, 4]
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  const y = gemm(a, b);
  return record('matmul', [a, b], y, (g) => [needsGrad(a) ? gemm(g, b, false, true) : null, needsGrad(b) ? gemm(a, g, true, false) : null]);
}
