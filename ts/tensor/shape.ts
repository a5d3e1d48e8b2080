/**
 * Shape arithmetic: element counts, contiguous strides, numpy broadcasting, and the index maps that
 * elementwise ops and reductions share.
 */
import { invalidOption, UsageError } from '../util/errors.ts';

export type Shape = readonly number[];

/** Number of elements of a shape (1 for a scalar `[]`). */
export function numel(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major strides of a shape. */
export function contiguousStrides(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

/**
 * Checks a shape: an array of non-negative integers.
 * @param name the argument named in the error
 * @throws UsageError when `shape` is not an array of integers >= 0
 * @example
 * checkShape('shape', [2, 3]) // [2, 3]
 */
export function checkShape(name: string, shape: unknown): number[] {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0 && d <= 2 ** 31)) {
    throw invalidOption(name, 'an array of integers >= 0', shape);
  }
  return shape.slice() as number[];
}

/** `[2,3]` as the error messages print it. */
export function fmtShape(s: Shape): string {
  return `[${s.join(', ')}]`;
}

/**
 * The numpy broadcast of two shapes.
 * @throws UsageError naming both shapes when they do not broadcast
 * @example
 * broadcastShapes([2, 1, 4], [3, 1]) // [2, 3, 4]
 */
export function broadcastShapes(a: Shape, b: Shape, op = 'broadcast'): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new UsageError(`${op}: shapes ${fmtShape(a)} and ${fmtShape(b)} do not broadcast (dimension ${i}: ${da} vs ${db})`);
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/**
 * For every element of `big` (row-major), the row-major offset of the element of `small` it reads
 * under broadcasting. `small` must broadcast to `big`. Null when the shapes are equal (identity).
 */
export function broadcastIndex(big: Shape, small: Shape): Int32Array | null {
  if (big.length === small.length && big.every((d, i) => d === small[i])) return null;
  const n = numel(big);
  const idx = new Int32Array(n);
  const sm = numel(small);
  if (sm === 1) return idx; // all zeros
  const nd = big.length;
  const sStr = contiguousStrides(small);
  const eff = new Array<number>(nd).fill(0);
  for (let i = 0; i < nd; i++) {
    const j = small.length - nd + i;
    if (j >= 0 && small[j] !== 1) eff[i] = sStr[j]!;
  }
  const pos = new Array<number>(nd).fill(0);
  let off = 0;
  for (let t = 0; t < n; t++) {
    idx[t] = off;
    for (let d = nd - 1; d >= 0; d--) {
      pos[d]!++;
      off += eff[d]!;
      if (pos[d]! < big[d]!) break;
      off -= eff[d]! * big[d]!;
      pos[d] = 0;
    }
  }
  return idx;
}

/** Normalises reduction axes (negative counts from the end); sorted, unique. */
export function normAxes(name: string, axes: number | readonly number[] | undefined, ndim: number): number[] {
  if (axes === undefined) return Array.from({ length: ndim }, (_, i) => i);
  const list = typeof axes === 'number' ? [axes] : [...axes];
  const out = new Set<number>();
  for (const a of list) {
    if (!Number.isInteger(a) || a < -ndim || a >= ndim) throw invalidOption(name, `integer axis in -${ndim}..${ndim - 1}`, a);
    out.add(a < 0 ? a + ndim : a);
  }
  return [...out].sort((x, y) => x - y);
}
