/**
 * Pooling on NCHW, forward beside backward: maxPool2d, avgPool2d (torch semantics, floor mode) and
 * globalAvgPool2d ([N, C, H, W] → [N, C, 1, 1], as AdaptiveAvgPool2d(1) and ONNX GlobalAveragePool).
 */
import { invalidOption, UsageError } from '../util/errors.ts';
import { Tensor } from '../tensor/tensor.ts';
import { fmtShape } from '../tensor/shape.ts';
import { record } from './graph.ts';

export interface Pool2dOptions {
  /** Window; a number or [kh, kw]. */
  kernel: number | readonly [number, number];
  /** Defaults to the kernel. */
  stride?: number | readonly [number, number];
  /** Implicit padding (−∞ for max, 0 for avg); at most half the kernel, as torch. Default 0. */
  padding?: number | readonly [number, number];
  /** avgPool2d only: count padded zeros in the divisor (torch default true). */
  countIncludePad?: boolean;
}

function pair(name: string, v: number | readonly [number, number], min: number): [number, number] {
  const p = typeof v === 'number' ? [v, v] : v;
  if (!Array.isArray(p) || p.length !== 2 || !p.every((x) => Number.isInteger(x) && x >= min)) throw invalidOption(name, `integer >= ${min} or a pair of them`, v);
  return [p[0]!, p[1]!];
}

function geometry(op: string, x: Tensor, o: Pool2dOptions) {
  if (!(x instanceof Tensor) || x.ndim !== 4) throw invalidOption('x', 'a 4-d NCHW tensor', x instanceof Tensor ? fmtShape(x.shape) : x);
  if (o === null || typeof o !== 'object') throw invalidOption('options', 'an object with kernel', o);
  const [kh, kw] = pair('kernel', o.kernel, 1);
  const [sh, sw] = o.stride === undefined ? [kh, kw] : pair('stride', o.stride, 1);
  const [ph, pw] = o.padding === undefined ? [0, 0] : pair('padding', o.padding, 0);
  if (2 * ph > kh || 2 * pw > kw) throw new UsageError(`${op}: padding ${ph}x${pw} must be at most half the kernel ${kh}x${kw}`);
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const oh = Math.floor((h + 2 * ph - kh) / sh) + 1;
  const ow = Math.floor((w + 2 * pw - kw) / sw) + 1;
  if (oh < 1 || ow < 1) throw new UsageError(`${op}: kernel ${kh}x${kw} is larger than the padded input ${h + 2 * ph}x${w + 2 * pw}`);
  return { n, c, h, w, kh, kw, sh, sw, ph, pw, oh, ow };
}

/**
 * Max pooling. NOTE: the gradient goes to the first maximum in scan order (as torch's CPU kernel).
 * @throws UsageError on a bad shape or options
 * @example
 * maxPool2d(Tensor.from([1, 2, 3, 4], [1, 1, 2, 2]), { kernel: 2 }).item() // 4
 */
export function maxPool2d(x: Tensor, opts: Pool2dOptions): Tensor {
  const { n, c, h, w, kh, kw, sh, sw, ph, pw, oh, ow } = geometry('maxPool2d', x, opts);
  const xd = x.contiguous().data;
  const out = Tensor.zeros([n, c, oh, ow]);
  const o = out.data;
  const arg = new Int32Array(o.length);
  for (let p = 0; p < n * c; p++) {
    const xb = p * h * w;
    for (let i = 0; i < oh; i++)
      for (let j = 0; j < ow; j++) {
        let best = -Infinity;
        let bi = -1;
        for (let a = 0; a < kh; a++) {
          const ih = i * sh - ph + a;
          if (ih < 0 || ih >= h) continue;
          for (let b = 0; b < kw; b++) {
            const iw = j * sw - pw + b;
            if (iw < 0 || iw >= w) continue;
            const v = xd[xb + ih * w + iw]!;
            if (v > best || Number.isNaN(v) || bi < 0) {
              best = v;
              bi = xb + ih * w + iw;
              if (Number.isNaN(v)) break;
            }
          }
        }
        const t = (p * oh + i) * ow + j;
        o[t] = best;
        arg[t] = bi;
      }
  }
  return record('maxPool2d', [x], out, (g) => {
    const gd = g.contiguous().data;
    const gx = new Float32Array(xd.length);
    for (let t = 0; t < gd.length; t++) gx[arg[t]!]! += gd[t]!;
    return [Tensor.from(gx, x.shape)];
  });
}

/**
 * Average pooling (floor mode; padded zeros counted unless countIncludePad is false).
 * @throws UsageError on a bad shape or options
 * @example
 * avgPool2d(Tensor.from([1, 2, 3, 4], [1, 1, 2, 2]), { kernel: 2 }).item() // 2.5
 */
export function avgPool2d(x: Tensor, opts: Pool2dOptions): Tensor {
  const { n, c, h, w, kh, kw, sh, sw, ph, pw, oh, ow } = geometry('avgPool2d', x, opts);
  const include = opts.countIncludePad ?? true;
  const xd = x.contiguous().data;
  const out = Tensor.zeros([n, c, oh, ow]);
  const o = out.data;
  // Divisor per output position (the same for every plane).
  const div = new Float64Array(oh * ow);
  for (let i = 0; i < oh; i++)
    for (let j = 0; j < ow; j++) {
      const h0 = i * sh - ph;
      const w0 = j * sw - pw;
      const h1 = Math.min(h0 + kh, h + ph);
      const w1 = Math.min(w0 + kw, w + pw);
      div[i * ow + j] = include ? (h1 - h0) * (w1 - w0) : (Math.min(h1, h) - Math.max(h0, 0)) * (Math.min(w1, w) - Math.max(w0, 0));
    }
  const each = (p: number, i: number, j: number, fn: (idx: number) => void): void => {
    const xb = p * h * w;
    for (let a = 0; a < kh; a++) {
      const ih = i * sh - ph + a;
      if (ih < 0 || ih >= h) continue;
      for (let b = 0; b < kw; b++) {
        const iw = j * sw - pw + b;
        if (iw >= 0 && iw < w) fn(xb + ih * w + iw);
      }
    }
  };
  for (let p = 0; p < n * c; p++)
    for (let i = 0; i < oh; i++)
      for (let j = 0; j < ow; j++) {
        let s = 0;
        each(p, i, j, (k) => (s += xd[k]!));
        o[(p * oh + i) * ow + j] = s / div[i * ow + j]!;
      }
  return record('avgPool2d', [x], out, (g) => {
    const gd = g.contiguous().data;
    const gx = new Float32Array(xd.length);
    for (let p = 0; p < n * c; p++)
      for (let i = 0; i < oh; i++)
        for (let j = 0; j < ow; j++) {
          const v = gd[(p * oh + i) * ow + j]! / div[i * ow + j]!;
          each(p, i, j, (k) => (gx[k]! += v));
        }
    return [Tensor.from(gx, x.shape)];
  });
}

/**
 * Mean over H and W: [N, C, H, W] → [N, C, 1, 1].
 * @throws UsageError when x is not 4-d
 * @example
 * globalAvgPool2d(Tensor.ones([2, 3, 4, 4])).shape // [2, 3, 1, 1]
 */
export function globalAvgPool2d(x: Tensor): Tensor {
  if (!(x instanceof Tensor) || x.ndim !== 4) throw invalidOption('x', 'a 4-d NCHW tensor', x instanceof Tensor ? fmtShape(x.shape) : x);
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const hw = h * w;
  const xd = x.contiguous().data;
  const out = Tensor.zeros([n, c, 1, 1]);
  const o = out.data;
  for (let p = 0; p < n * c; p++) {
    let s = 0;
    for (let i = 0; i < hw; i++) s += xd[p * hw + i]!;
    o[p] = s / hw;
  }
  return record('globalAvgPool2d', [x], out, (g) => {
    const gd = g.contiguous().data;
    // every element is written below, so no zero fill (a recycled buffer when the tape has one)
    const gt = Tensor.empty(x.shape);
    const gx = gt.data;
    for (let p = 0; p < n * c; p++) gx.fill(gd[p]! / hw, p * hw, (p + 1) * hw);
    return [gt];
  });
}
