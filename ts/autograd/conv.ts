/**
 * conv2d (stride, padding, dilation, groups incl. depthwise), forward beside backward, through the
 * native float primitives (oneDNN or the scalar twin, see ts/tensor/float-kernels.ts).
 */
import { invalidOption } from '../util/errors.ts';
import { Tensor } from '../tensor/tensor.ts';
import { conv2dBackward, conv2dForward, conv2dGeometry, type Conv2dOptions } from '../tensor/float-kernels.ts';
import { needsGrad, record } from './graph.ts';

/**
 * 2-d convolution as torch.nn.functional.conv2d.
 * @param x [N, Cin, H, W]
 * @param w [Cout, Cin/groups, KH, KW]
 * @param b [Cout] or null
 * @throws UsageError on mismatching shapes or bad options (named)
 * @example
 * conv2d(Tensor.ones([1, 2, 5, 5]), Tensor.ones([4, 1, 3, 3]), null, { groups: 2, padding: 1 }).shape // [1, 4, 5, 5]
 */
export function conv2d(x: Tensor, w: Tensor, b: Tensor | null = null, opts: Conv2dOptions = {}): Tensor {
  if (!(x instanceof Tensor)) throw invalidOption('x', 'a Tensor', x);
  if (!(w instanceof Tensor)) throw invalidOption('w', 'a Tensor', w);
  const g = conv2dGeometry(x.shape, w.shape, opts);
  const y = conv2dForward(x, w, b, opts);
  const inputs = b ? [x, w, b] : [x, w];
  return record('conv2d', inputs, y, (gy) => {
    // one native call for both gradients (dy reordered once)
    const { dx, dw, db } = conv2dBackward(g, x, gy, w, { dx: needsGrad(x), dw: needsGrad(w), db: b !== null && needsGrad(b) });
    return b ? [dx, dw, db] : [dx, dw];
  });
}
