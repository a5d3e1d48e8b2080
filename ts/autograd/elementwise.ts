/**
 * Elementwise primitives, each forward beside its backward: add, sub, mul, div (numpy broadcasting),
 * neg, relu, relu6, clamp, sign, abs, tanh, round, where. Plain loops over Float32Array: these are
 * memory-bound and a JS loop runs near memory speed at the sizes of resnet20/CIFAR.
 */
import { invalidOption, UsageError } from '../util/errors.ts';
import { Tensor } from '../tensor/tensor.ts';
import { broadcastIndex, broadcastShapes, numel, type Shape } from '../tensor/shape.ts';
import { addSameShape, getFloatBackend, reluBackward, reluForward } from '../tensor/float-kernels.ts';
import { record } from './graph.ts';

function asTensor(name: string, v: Tensor | number): Tensor {
  if (v instanceof Tensor) return v;
  if (typeof v === 'number' && !Number.isNaN(v)) return Tensor.scalar(v);
  throw invalidOption(name, 'a Tensor or a number', v);
}

/** Sums a gradient of shape `from` down to the broadcast input shape `to`. */
export function sumTo(g: Tensor, to: Shape): Tensor {
  const idx = broadcastIndex(g.shape, to);
  if (idx === null) return g;
  const out = new Float64Array(numel(to));
  const gd = g.contiguous().data;
  for (let i = 0; i < gd.length; i++) out[idx[i]!]! += gd[i]!;
  return Tensor.from(Float32Array.from(out), to);
}

type BinaryOp = 'add' | 'sub' | 'mul' | 'div';

/**
 * o[r·L + i] = a[r·L + i] ∘ s[map[r]] for a full-shape operand and one that is constant over the
 * last dims of the output (per-channel normalisation, biases): one value per run of L, no per-element
 * index map and no per-element closure call. `fullFirst` says which side of ∘ the full operand is.
 * Same float64-then-float32 arithmetic as the generic loop, so the results are identical.
 */
function runBroadcast(op: BinaryOp, full: Float32Array, small: Float32Array, map: Int32Array | null, runs: number, len: number, o: Float32Array, fullFirst: boolean): void {
  for (let r = 0; r < runs; r++) {
    const v = small[map ? map[r]! : r]!;
    const base = r * len;
    const end = base + len;
    switch (fullFirst ? op : (`r${op}` as const)) {
      case 'add': case 'radd': for (let i = base; i < end; i++) o[i] = full[i]! + v; break;
      case 'sub': for (let i = base; i < end; i++) o[i] = full[i]! - v; break;
      case 'rsub': for (let i = base; i < end; i++) o[i] = v - full[i]!; break;
      case 'mul': case 'rmul': for (let i = base; i < end; i++) o[i] = full[i]! * v; break;
      case 'div': for (let i = base; i < end; i++) o[i] = full[i]! / v; break;
      case 'rdiv': for (let i = base; i < end; i++) o[i] = v / full[i]!; break;
    }
  }
}

/** When `small` broadcasts to `shape` by repeating each value over the trailing L ≥ 16 elements: [runs, L, map of the runs]. */
function trailingRuns(shape: Shape, small: Shape): [number, number, Int32Array | null] | null {
  const nd = shape.length;
  let k = 0; // trailing output dims where small is 1 (or absent)
  while (k < nd) {
    const j = small.length - 1 - k;
    if (j >= 0 && small[j] !== 1) break;
    k++;
  }
  if (k === 0) return null;
  const outer = shape.slice(0, nd - k);
  const len = numel(shape.slice(nd - k));
  if (len < 16) return null;
  const smallOuter = small.slice(0, Math.max(0, small.length - k));
  const aligned = [...new Array<number>(Math.max(0, outer.length - smallOuter.length)).fill(1), ...smallOuter];
  return [numel(outer), len, outer.length === 0 ? null : broadcastIndex(outer, aligned)];
}

function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function binary(op: BinaryOp, a: Tensor, b: Tensor, f: (x: number, y: number) => number,
  grads: (g: Float32Array, ad: Float32Array, bd: Float32Array, ia: Int32Array | null, ib: Int32Array | null, ga: Float32Array | null, gb: Float32Array | null) => void): Tensor {
  const shape = broadcastShapes(a.shape, b.shape, op);
  const ad = a.contiguous().data;
  const bd = b.contiguous().data;
  const out = Tensor.zeros(shape);
  const o = out.data;
  const aFull = sameShape(shape, a.shape);
  const bFull = sameShape(shape, b.shape);
  const runs = aFull && !bFull ? trailingRuns(shape, b.shape) : bFull && !aFull ? trailingRuns(shape, a.shape) : null;
  let ia: Int32Array | null | undefined;
  let ib: Int32Array | null | undefined;
  if (runs) {
    runBroadcast(op, aFull ? ad : bd, aFull ? bd : ad, runs[2], runs[0], runs[1], o, aFull);
  } else {
    ia = broadcastIndex(shape, a.shape);
    ib = broadcastIndex(shape, b.shape);
    if (!ia && !ib) for (let i = 0; i < o.length; i++) o[i] = f(ad[i]!, bd[i]!);
    else for (let i = 0; i < o.length; i++) o[i] = f(ad[ia ? ia[i]! : i]!, bd[ib ? ib[i]! : i]!);
  }
  return record(op, [a, b], out, (g) => {
    ia ??= broadcastIndex(shape, a.shape);
    ib ??= broadcastIndex(shape, b.shape);
    const gd = g.contiguous().data;
    const wantA = a.requiresGrad || a.gradFn !== null;
    const wantB = b.requiresGrad || b.gradFn !== null;
    const ga = wantA ? new Float32Array(o.length) : null;
    const gb = wantB ? new Float32Array(o.length) : null;
    grads(gd, ad, bd, ia, ib, ga, gb);
    return [ga ? sumTo(Tensor.from(ga, shape), a.shape) : null, gb ? sumTo(Tensor.from(gb, shape), b.shape) : null];
  });
}

/**
 * a + b with broadcasting.
 * @throws UsageError when the shapes do not broadcast
 * @example
 * add(Tensor.from([1, 2]), 1).toArray() // [2, 3]
 */
export function add(a: Tensor | number, b: Tensor | number): Tensor {
  if (a instanceof Tensor && b instanceof Tensor && a.ndim === b.ndim && a.shape.every((d, i) => d === b.shape[i])) {
    // Same shapes (residual connections): no index maps, gradients passed through as they are;
    // native and threaded unless the float backend is 'ref' (the loop below is its reference).
    if (getFloatBackend() !== 'ref') return record('add', [a, b], addSameShape(a, b), (g) => [g, g]);
    const ad = a.contiguous().data;
    const bd = b.contiguous().data;
    const out = Tensor.zeros(a.shape);
    const o = out.data;
    for (let i = 0; i < o.length; i++) o[i] = ad[i]! + bd[i]!;
    return record('add', [a, b], out, (g) => [g, g]);
  }
  return binary('add', asTensor('a', a), asTensor('b', b), (x, y) => x + y, (g, _ad, _bd, _ia, _ib, ga, gb) => {
    if (ga) ga.set(g);
    if (gb) gb.set(g);
  });
}

/** a − b with broadcasting. @example sub(Tensor.from([3]), 1).item() // 2 */
export function sub(a: Tensor | number, b: Tensor | number): Tensor {
  return binary('sub', asTensor('a', a), asTensor('b', b), (x, y) => x - y, (g, _ad, _bd, _ia, _ib, ga, gb) => {
    if (ga) ga.set(g);
    if (gb) for (let i = 0; i < g.length; i++) gb[i] = -g[i]!;
  });
}

/** a · b with broadcasting. @example mul(Tensor.from([2, 3]), Tensor.from([4])).toArray() // [8, 12] */
export function mul(a: Tensor | number, b: Tensor | number): Tensor {
  return binary('mul', asTensor('a', a), asTensor('b', b), (x, y) => x * y, (g, ad, bd, ia, ib, ga, gb) => {
    for (let i = 0; i < g.length; i++) {
      const av = ad[ia ? ia[i]! : i]!;
      const bv = bd[ib ? ib[i]! : i]!;
      if (ga) ga[i] = g[i]! * bv;
      if (gb) gb[i] = g[i]! * av;
    }
  });
}

/** a / b with broadcasting. @example div(Tensor.from([6]), 3).item() // 2 */
export function div(a: Tensor | number, b: Tensor | number): Tensor {
  return binary('div', asTensor('a', a), asTensor('b', b), (x, y) => x / y, (g, ad, bd, ia, ib, ga, gb) => {
    for (let i = 0; i < g.length; i++) {
      const av = ad[ia ? ia[i]! : i]!;
      const bv = bd[ib ? ib[i]! : i]!;
      if (ga) ga[i] = g[i]! / bv;
      if (gb) gb[i] = (-g[i]! * av) / (bv * bv);
    }
  });
}

/**
 * where(cond, a, b): a where cond ≠ 0, else b (broadcasting all three). cond gets no gradient.
 * @example
 * where(Tensor.from([1, 0]), Tensor.from([5, 5]), 7).toArray() // [5, 7]
 */
export function where(cond: Tensor, a: Tensor | number, b: Tensor | number): Tensor {
  if (!(cond instanceof Tensor)) throw invalidOption('cond', 'a Tensor', cond);
  const at = asTensor('a', a);
  const bt = asTensor('b', b);
  const shape = broadcastShapes(broadcastShapes(cond.shape, at.shape, 'where'), bt.shape, 'where');
  const ic = broadcastIndex(shape, cond.shape);
  const ia = broadcastIndex(shape, at.shape);
  const ib = broadcastIndex(shape, bt.shape);
  const cd = cond.contiguous().data;
  const ad = at.contiguous().data;
  const bd = bt.contiguous().data;
  const out = Tensor.zeros(shape);
  const o = out.data;
  const mask = new Uint8Array(o.length);
  for (let i = 0; i < o.length; i++) {
    mask[i] = cd[ic ? ic[i]! : i] !== 0 ? 1 : 0;
    o[i] = mask[i] ? ad[ia ? ia[i]! : i]! : bd[ib ? ib[i]! : i]!;
  }
  return record('where', [at, bt], out, (g) => {
    const gd = g.contiguous().data;
    const ga = new Float32Array(o.length);
    const gb = new Float32Array(o.length);
    for (let i = 0; i < o.length; i++) {
      if (mask[i]) ga[i] = gd[i]!;
      else gb[i] = gd[i]!;
    }
    return [sumTo(Tensor.from(ga, shape), at.shape), sumTo(Tensor.from(gb, shape), bt.shape)];
  });
}

/** A unary op whose gradient factor is a function of the input x and output y. */
function unary(op: string, x: Tensor, f: (v: number) => number, dfdx: ((x: number, y: number) => number) | null): Tensor {
  if (!(x instanceof Tensor)) throw invalidOption('x', 'a Tensor', x);
  const xd = x.contiguous().data;
  const out = Tensor.zeros(x.shape);
  const o = out.data;
  for (let i = 0; i < o.length; i++) o[i] = f(xd[i]!);
  return record(op, [x], out, (g) => {
    const gd = g.contiguous().data;
    const gx = new Float32Array(o.length);
    if (dfdx) for (let i = 0; i < gx.length; i++) gx[i] = gd[i]! * dfdx(xd[i]!, o[i]!);
    return [Tensor.from(gx, x.shape)];
  });
}

/** −x. @example neg(Tensor.from([1])).item() // -1 */
export function neg(x: Tensor): Tensor {
  return unary('neg', x, (v) => -v, () => -1);
}

/** max(x, 0); gradient 1 where x > 0. @example relu(Tensor.from([-1, 2])).toArray() // [0, 2] */
export function relu(x: Tensor): Tensor {
  // Hot in every CNN: native and threaded unless the float backend is 'ref'; the loops below are the
  // reference (written out instead of going through the generic, megamorphic unary helper).
  if (!(x instanceof Tensor)) throw invalidOption('x', 'a Tensor', x);
  if (getFloatBackend() !== 'ref') {
    const y = reluForward(x);
    return record('relu', [x], y, (g) => [reluBackward(x, g)]);
  }
  const xd = x.contiguous().data;
  const out = Tensor.zeros(x.shape);
  const o = out.data;
  for (let i = 0; i < o.length; i++) {
    const v = xd[i]!;
    o[i] = v > 0 ? v : 0;
  }
  return record('relu', [x], out, (g) => {
    const gd = g.contiguous().data;
    const gx = new Float32Array(o.length);
    for (let i = 0; i < gx.length; i++) gx[i] = xd[i]! > 0 ? gd[i]! : 0;
    return [Tensor.from(gx, x.shape)];
  });
}

/**
 * min(max(x, 0), 6). NOTE: as torch (hardtanh), the gradient is 1 only strictly inside (0, 6).
 * @example relu6(Tensor.from([-1, 3, 9])).toArray() // [0, 3, 6]
 */
export function relu6(x: Tensor): Tensor {
  return unary('relu6', x, (v) => (v > 0 ? (v < 6 ? v : 6) : 0), (v) => (v > 0 && v < 6 ? 1 : 0));
}

/**
 * Clamps to [min, max] (either may be omitted). NOTE: as torch.clamp, the gradient is 1 where
 * min ≤ x ≤ max, boundaries included (unlike relu6).
 * @throws UsageError when min > max or neither is given
 * @example clamp(Tensor.from([-2, 0.5, 3]), 0, 1).toArray() // [0, 0.5, 1]
 */
export function clamp(x: Tensor, min?: number, max?: number): Tensor {
  if (min === undefined && max === undefined) throw new UsageError('clamp: give min, max or both');
  const lo = min ?? -Infinity;
  const hi = max ?? Infinity;
  if (typeof lo !== 'number' || typeof hi !== 'number' || Number.isNaN(lo) || Number.isNaN(hi) || lo > hi) {
    throw invalidOption('clamp bounds', 'numbers with min <= max', `${String(min)}..${String(max)}` as unknown);
  }
  return unary('clamp', x, (v) => (v < lo ? lo : v > hi ? hi : v), (v) => (v >= lo && v <= hi ? 1 : 0));
}

/** −1, 0 or 1 (NaN stays NaN); zero gradient. @example sign(Tensor.from([-3, 0, 2])).toArray() // [-1, 0, 1] */
export function sign(x: Tensor): Tensor {
  return unary('sign', x, (v) => (v > 0 ? 1 : v < 0 ? -1 : v), null);
}

/** |x|; gradient sign(x) (0 at 0, as torch). @example abs(Tensor.from([-3])).item() // 3 */
export function abs(x: Tensor): Tensor {
  return unary('abs', x, Math.abs, (v) => (v > 0 ? 1 : v < 0 ? -1 : 0));
}

/** tanh(x); gradient 1 − tanh². @example tanh(Tensor.from([0])).item() // 0 */
export function tanh(x: Tensor): Tensor {
  return unary('tanh', x, Math.tanh, (_v, y) => 1 - y * y);
}

/** Round half to even (torch.round / fake-quant). */
export function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Rounds half to even, as torch.round. NOTE: its true gradient is zero almost everywhere; the
 * straight-through estimators of quantisation-aware training are separate ops (ts/quant).
 * @example round(Tensor.from([0.5, 1.5, 2.5, -0.5])).toArray() // [0, 2, 2, -0]
 */
export function round(x: Tensor): Tensor {
  return unary('round', x, roundHalfEven, null);
}
