/**
 * Checked wrappers over the native float primitives (convolution and GEMM). Arguments are checked
 * here, before the native call, with errors that name the option; native code re-checks.
 * All calls are synchronous (a resnet20 layer at batch 128 takes a few ms).
 *
 * The backend defaults to 'auto' (oneDNN > OpenBLAS > scalar twin); {@link setFloatBackend} changes
 * the default for the whole process (tests force the scalar twin with it).
 */
import { invalidOption, UsageError } from '../util/errors.ts';
import { native } from '../native/binding.ts';
import type { Conv2dGeometry, FloatBackendName, FloatInfo } from '../native/float.ts';
import { Tensor } from './tensor.ts';
import { fmtShape } from './shape.ts';

export type { Conv2dGeometry, FloatBackendName, FloatInfo };

// oneDNN runs on libgomp, which reads its wait policy once, when the addon is loaded. GOMP's default
// (spin, then sleep) is pathological when the cores are shared (Node's own threads, other processes):
// measured on the 2-core dev machine under load, a 5x5 convolution took 16 ms instead of 0.05 ms and a
// resnet20 layer 23 ms instead of 5 ms. Passive waiting costs a few µs per parallel region, which is
// noise at layer sizes. An explicit OMP_WAIT_POLICY in the environment wins. This must run before the
// first native() call, which is lazy, so importing this module early is enough.
if (process.env.OMP_WAIT_POLICY === undefined) process.env.OMP_WAIT_POLICY = 'passive';

const BACKENDS = ['auto', 'ref', 'dnnl', 'openblas'] as const satisfies readonly FloatBackendName[];
let defaultBackend: FloatBackendName = 'auto';

/**
 * Sets the backend used when a call names none; returns the previous one.
 * @param name auto | ref | dnnl | openblas (must be compiled in, see {@link floatInfo})
 * @throws UsageError on an unknown or absent backend
 * @example
 * const prev = setFloatBackend('ref'); setFloatBackend(prev);
 */
export function setFloatBackend(name: FloatBackendName): FloatBackendName {
  const b = checkBackend(name);
  const prev = defaultBackend;
  defaultBackend = b;
  return prev;
}

/** The backend used when a call names none. */
export function getFloatBackend(): FloatBackendName {
  return defaultBackend;
}

/**
 * What this addon's float engine runs on: the backends `auto` picks, those compiled in, threads.
 * @throws QrobustError when the addon is not built
 * @example
 * floatInfo().available.includes('ref') // true
 */
export function floatInfo(): FloatInfo {
  return native().floatInfo();
}

function checkBackend(name: unknown): FloatBackendName {
  if (typeof name !== 'string' || !(BACKENDS as readonly string[]).includes(name)) throw invalidOption('backend', `one of ${BACKENDS.join(', ')}`, name);
  if (name !== 'auto' && !floatInfo().available.includes(name as FloatBackendName)) {
    throw invalidOption('backend', `one of the compiled-in backends auto, ${floatInfo().available.join(', ')}`, name);
  }
  return name as FloatBackendName;
}

/** Convolution options as torch's conv2d: a number or an [h, w] pair each. */
export interface Conv2dOptions {
  stride?: number | readonly [number, number];
  padding?: number | readonly [number, number];
  dilation?: number | readonly [number, number];
  groups?: number;
}

function pair(name: string, v: number | readonly [number, number] | undefined, dflt: number, min: number): [number, number] {
  if (v === undefined) return [dflt, dflt];
  const p = typeof v === 'number' ? [v, v] : v;
  if (!Array.isArray(p) && typeof v !== 'number') throw invalidOption(name, `integer >= ${min} or a pair of them`, v);
  if (p.length !== 2 || !p.every((x) => Number.isInteger(x) && x >= min && x <= 2 ** 31)) throw invalidOption(name, `integer >= ${min} or a pair of them`, v);
  return [p[0]!, p[1]!];
}

function requireContiguous4d(name: string, t: Tensor): void {
  if (!(t instanceof Tensor)) throw invalidOption(name, 'a Tensor', t);
  if (t.ndim !== 4) throw new UsageError(`Expected a 4-d NCHW tensor for ${name} but received shape ${fmtShape(t.shape)}`);
}

/**
 * The checked geometry of conv2d(x, w) with torch's output-size rule.
 * @param xShape [N, Cin, H, W]
 * @param wShape [Cout, Cin/groups, KH, KW]
 * @throws UsageError naming the mismatching dimension or option
 * @example
 * conv2dGeometry([1, 3, 32, 32], [16, 3, 3, 3], { padding: 1 }).cout // 16
 */
export function conv2dGeometry(xShape: readonly number[], wShape: readonly number[], opts: Conv2dOptions = {}): Conv2dGeometry {
  const [strideH, strideW] = pair('stride', opts.stride, 1, 1);
  const [padH, padW] = pair('padding', opts.padding, 0, 0);
  const [dilationH, dilationW] = pair('dilation', opts.dilation, 1, 1);
  const groups = opts.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1) throw invalidOption('groups', 'integer >= 1', groups);
  if (xShape.length !== 4) throw new UsageError(`Expected a 4-d NCHW input for conv2d but received shape ${fmtShape(xShape)}`);
  if (wShape.length !== 4) throw new UsageError(`Expected 4-d [Cout, Cin/groups, KH, KW] weights for conv2d but received shape ${fmtShape(wShape)}`);
  const [n, cin, h, w] = xShape as [number, number, number, number];
  const [cout, cig, kh, kw] = wShape as [number, number, number, number];
  if (cin % groups !== 0 || cout % groups !== 0) throw new UsageError(`conv2d: input channels ${cin} and output channels ${cout} must be divisible by groups ${groups}`);
  if (cig * groups !== cin) throw new UsageError(`conv2d: weights ${fmtShape(wShape)} expect ${cig * groups} input channels (groups ${groups}) but the input ${fmtShape(xShape)} has ${cin}`);
  if ([n, cin, h, w, cout, kh, kw].some((d) => d < 1)) throw new UsageError(`conv2d: empty input ${fmtShape(xShape)} or weights ${fmtShape(wShape)}`);
  if (h + 2 * padH < dilationH * (kh - 1) + 1 || w + 2 * padW < dilationW * (kw - 1) + 1) {
    throw new UsageError(`conv2d: kernel ${kh}x${kw} (dilation ${dilationH}x${dilationW}) is larger than the padded input ${h + 2 * padH}x${w + 2 * padW}`);
  }
  return { n, cin, h, w, cout, kh, kw, strideH, strideW, padH, padW, dilationH, dilationW, groups };
}

/** Output spatial size of a geometry. */
export function conv2dOutSize(g: Conv2dGeometry): [number, number] {
  return [
    Math.floor((g.h + 2 * g.padH - g.dilationH * (g.kh - 1) - 1) / g.strideH) + 1,
    Math.floor((g.w + 2 * g.padW - g.dilationW * (g.kw - 1) - 1) / g.strideW) + 1,
  ];
}

/**
 * y = conv2d(x, w) + b (not recorded for autograd; see ts/autograd conv2d).
 * @param x [N, Cin, H, W]
 * @param w [Cout, Cin/groups, KH, KW]
 * @param b [Cout] or null
 * @throws UsageError on mismatching shapes or options
 * @example
 * conv2dForward(Tensor.ones([1, 1, 3, 3]), Tensor.ones([1, 1, 2, 2]), null).toArray() // [4, 4, 4, 4]
 */
export function conv2dForward(x: Tensor, w: Tensor, b: Tensor | null, opts: Conv2dOptions = {}, backend?: FloatBackendName): Tensor {
  requireContiguous4d('x', x);
  requireContiguous4d('w', w);
  const g = conv2dGeometry(x.shape, w.shape, opts);
  if (b !== null && (!(b instanceof Tensor) || b.ndim !== 1 || b.shape[0] !== g.cout)) {
    throw invalidOption('bias', `a [${g.cout}] tensor or null`, b instanceof Tensor ? fmtShape(b.shape) : b);
  }
  const be = backend === undefined ? defaultBackend : checkBackend(backend);
  const [oh, ow] = conv2dOutSize(g);
  const y = Tensor.empty([g.n, g.cout, oh, ow]);
  native().f32Conv2dForward(g, x.contiguous().data, w.contiguous().data, b ? b.contiguous().data : null, y.data, be);
  return y;
}

/**
 * dx of conv2d for an output gradient dy (overwrites; not recorded).
 * @throws UsageError when dy's shape does not match the geometry
 */
export function conv2dBackwardData(g: Conv2dGeometry, dy: Tensor, w: Tensor, backend?: FloatBackendName): Tensor {
  const [oh, ow] = conv2dOutSize(g);
  expectShape('dy', dy, [g.n, g.cout, oh, ow]);
  expectShape('w', w, [g.cout, g.cin / g.groups, g.kh, g.kw]);
  const be = backend === undefined ? defaultBackend : checkBackend(backend);
  const dx = Tensor.empty([g.n, g.cin, g.h, g.w]);
  native().f32Conv2dBackwardData(g, dy.contiguous().data, w.contiguous().data, dx.data, be);
  return dx;
}

/**
 * dw (and db when `withBias`) of conv2d for input x and output gradient dy (not recorded).
 * @throws UsageError when shapes do not match the geometry
 */
export function conv2dBackwardWeights(g: Conv2dGeometry, x: Tensor, dy: Tensor, withBias: boolean, backend?: FloatBackendName): { dw: Tensor; db: Tensor | null } {
  const [oh, ow] = conv2dOutSize(g);
  expectShape('x', x, [g.n, g.cin, g.h, g.w]);
  expectShape('dy', dy, [g.n, g.cout, oh, ow]);
  const be = backend === undefined ? defaultBackend : checkBackend(backend);
  const dw = Tensor.zeros([g.cout, g.cin / g.groups, g.kh, g.kw]);
  const db = withBias ? Tensor.zeros([g.cout]) : null;
  native().f32Conv2dBackwardWeights(g, x.contiguous().data, dy.contiguous().data, dw.data, db ? db.data : null, be);
  return { dw, db };
}

/**
 * dx and/or dw (+ db) of conv2d in one native call: dy is reordered once for both library
 * primitives (the autograd rule's path; same numbers as the two calls above).
 * @throws UsageError when shapes do not match the geometry
 */
export function conv2dBackward(g: Conv2dGeometry, x: Tensor, dy: Tensor, w: Tensor, want: { dx: boolean; dw: boolean; db: boolean }, backend?: FloatBackendName): { dx: Tensor | null; dw: Tensor | null; db: Tensor | null } {
  const [oh, ow] = conv2dOutSize(g);
  expectShape('x', x, [g.n, g.cin, g.h, g.w]);
  expectShape('dy', dy, [g.n, g.cout, oh, ow]);
  expectShape('w', w, [g.cout, g.cin / g.groups, g.kh, g.kw]);
  const be = backend === undefined ? defaultBackend : checkBackend(backend);
  const wantW = want.dw || want.db;
  const dx = want.dx ? Tensor.empty([g.n, g.cin, g.h, g.w]) : null;
  const dw = wantW ? Tensor.zeros([g.cout, g.cin / g.groups, g.kh, g.kw]) : null;
  const db = want.db ? Tensor.zeros([g.cout]) : null;
  if (dx || dw) native().f32Conv2dBackward(g, x.contiguous().data, dy.contiguous().data, w.contiguous().data, dx ? dx.data : null, dw ? dw.data : null, db ? db.data : null, be);
  return { dx, dw: want.dw ? dw : null, db };
}

/**
 * C = op(A) · op(B) for 2-d tensors, op = transpose when asked (not recorded).
 * @param a [M, K] (or [K, M] with transA)
 * @param b [K, N] (or [N, K] with transB)
 * @throws UsageError when inner dimensions differ
 * @example
 * matmul(Tensor.from([1, 2], [1, 2]), Tensor.from([3, 4], [2, 1])).item() // 11
 */
export function matmul(a: Tensor, b: Tensor, transA = false, transB = false, backend?: FloatBackendName): Tensor {
  if (!(a instanceof Tensor) || a.ndim !== 2) throw invalidOption('a', 'a 2-d tensor', a instanceof Tensor ? fmtShape(a.shape) : a);
  if (!(b instanceof Tensor) || b.ndim !== 2) throw invalidOption('b', 'a 2-d tensor', b instanceof Tensor ? fmtShape(b.shape) : b);
  const m = transA ? a.shape[1]! : a.shape[0]!;
  const k = transA ? a.shape[0]! : a.shape[1]!;
  const k2 = transB ? b.shape[1]! : b.shape[0]!;
  const n = transB ? b.shape[0]! : b.shape[1]!;
  if (k !== k2) throw new UsageError(`matmul: inner dimensions differ: ${fmtShape(a.shape)}${transA ? 'ᵀ' : ''} · ${fmtShape(b.shape)}${transB ? 'ᵀ' : ''}`);
  const c = Tensor.zeros([m, n]);
  if (m === 0 || n === 0) return c;
  if (k === 0) return c;
  const be = backend === undefined ? defaultBackend : checkBackend(backend);
  native().f32Gemm(transA, transB, m, n, k, 1, a.contiguous().data, a.shape[1]!, b.contiguous().data, b.shape[1]!, 0, c.data, n, be);
  return c;
}

function expectShape(name: string, t: Tensor, want: number[]): void {
  if (!(t instanceof Tensor) || t.ndim !== want.length || t.shape.some((d, i) => d !== want[i])) {
    throw new UsageError(`Expected shape ${fmtShape(want)} for ${name} but received ${t instanceof Tensor ? fmtShape(t.shape) : String(t)}`);
  }
}

// ---- batchnorm and ReLU kernels (native, threaded; the TS loops in ts/autograd are their reference) ----

function nchw(name: string, x: Tensor): [number, number, number] {
  if (!(x instanceof Tensor) || x.ndim !== 4) throw invalidOption(name, 'a 4-d NCHW tensor', x instanceof Tensor ? fmtShape(x.shape) : x);
  const [n, c, h, w] = x.shape as [number, number, number, number];
  if (n * c * h * w === 0) throw invalidOption(name, 'a non-empty tensor', fmtShape(x.shape));
  return [n, c, h * w];
}

function perChannel(name: string, v: Float32Array | null, c: number): void {
  if (v !== null && (!(v instanceof Float32Array) || v.length !== c)) throw invalidOption(name, `a Float32Array of ${c} values or null`, v);
}

/**
 * Per-channel mean and biased variance of an NCHW tensor (double accumulation).
 * @throws UsageError when x is not a non-empty 4-d tensor
 * @example
 * bnStats(Tensor.from([1, 3], [2, 1, 1, 1])).variance[0] // 1
 */
export function bnStats(x: Tensor): { mean: Float32Array; variance: Float32Array } {
  const [n, c, hw] = nchw('x', x);
  const mean = new Float32Array(c);
  const variance = new Float32Array(c);
  native().f32BnStats(n, c, hw, x.contiguous().data, mean, variance);
  return { mean, variance };
}

/**
 * y = (x − mean)/√(variance + eps)·γ + β per channel (not recorded).
 * @throws UsageError on mismatching lengths or eps ≤ 0
 */
export function bnApply(x: Tensor, mean: Float32Array, variance: Float32Array, gamma: Float32Array | null, beta: Float32Array | null, eps: number): Tensor {
  const [n, c, hw] = nchw('x', x);
  for (const [k, v] of [['mean', mean], ['variance', variance], ['gamma', gamma], ['beta', beta]] as const) perChannel(k, v, c);
  if (typeof eps !== 'number' || !(eps > 0)) throw invalidOption('eps', 'number > 0', eps);
  const y = Tensor.empty(x.shape);
  native().f32BnApply(n, c, hw, x.contiguous().data, mean, variance, gamma, beta, eps, y.data);
  return y;
}

/**
 * Gradients of {@link bnApply} for an output gradient dy; `batchStats` when mean/variance came from x.
 * @throws UsageError on mismatching shapes or lengths
 */
export function bnBackward(x: Tensor, dy: Tensor, mean: Float32Array, variance: Float32Array, gamma: Float32Array | null, eps: number, batchStats: boolean,
  want: { dx: boolean; dgamma: boolean; dbeta: boolean }): { dx: Tensor | null; dgamma: Tensor | null; dbeta: Tensor | null } {
  const [n, c, hw] = nchw('x', x);
  expectShape('dy', dy, [...x.shape]);
  for (const [k, v] of [['mean', mean], ['variance', variance], ['gamma', gamma]] as const) perChannel(k, v, c);
  const dx = want.dx ? Tensor.empty(x.shape) : null;
  const dgamma = want.dgamma ? Tensor.zeros([c]) : null;
  const dbeta = want.dbeta ? Tensor.zeros([c]) : null;
  native().f32BnBackward(n, c, hw, x.contiguous().data, dy.contiguous().data, mean, variance, gamma, eps, batchStats, dx ? dx.data : null, dgamma ? dgamma.data : null, dbeta ? dbeta.data : null);
  return { dx, dgamma, dbeta };
}

/** max(x, 0), threaded (not recorded). @example reluForward(Tensor.from([-1, 2])).toArray() // [0, 2] */
export function reluForward(x: Tensor): Tensor {
  if (!(x instanceof Tensor)) throw invalidOption('x', 'a Tensor', x);
  const y = Tensor.empty(x.shape);
  if (y.size > 0) native().f32Relu(x.contiguous().data, y.data);
  return y;
}

/** dy where x > 0, else 0 (not recorded). @throws UsageError when shapes differ */
export function reluBackward(x: Tensor, dy: Tensor): Tensor {
  expectShape('dy', dy, [...x.shape]);
  const dx = Tensor.empty(x.shape);
  if (dx.size > 0) native().f32ReluBackward(x.contiguous().data, dy.contiguous().data, dx.data);
  return dx;
}

/**
 * a + b for tensors of the same shape, threaded (not recorded; broadcasting lives in ts/autograd add).
 * @throws UsageError when the shapes differ
 * @example addSameShape(Tensor.from([1, 2]), Tensor.from([3, 4])).toArray() // [4, 6]
 */
export function addSameShape(a: Tensor, b: Tensor): Tensor {
  if (!(a instanceof Tensor)) throw invalidOption('a', 'a Tensor', a);
  expectShape('b', b, [...a.shape]);
  const y = Tensor.empty(a.shape);
  if (y.size > 0) native().f32Add(a.contiguous().data, b.contiguous().data, y.data);
  return y;
}

/**
 * acc += g in place, threaded (gradient accumulation; not recorded).
 * @throws UsageError when the shapes differ or acc is not contiguous
 * @example const a = Tensor.from([1, 2]); addInPlace(a, Tensor.from([3, 4])); a.toArray() // [4, 6]
 */
export function addInPlace(acc: Tensor, g: Tensor): void {
  if (!(acc instanceof Tensor) || !acc.isContiguous()) throw invalidOption('acc', 'a contiguous Tensor', acc instanceof Tensor ? fmtShape(acc.shape) : acc);
  expectShape('g', g, [...acc.shape]);
  if (acc.size > 0) native().f32Add(acc.data, g.contiguous().data, acc.data);
}

/** Options of one SGD update (torch.optim.SGD's; `first` starts the momentum buffer from the gradient). */
export interface SgdStepOptions {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
  first: boolean;
}

/**
 * One SGD update of `p` (and its momentum buffer) in place, native and threaded: the same bits as
 * the TS loop in ts/nn/optim.ts (its reference; both round to float32 at the same points).
 * @throws UsageError on mismatching lengths or a missing buffer with momentum
 */
export function sgdStep(p: Float32Array, g: Float32Array, buf: Float32Array | null, o: SgdStepOptions): void {
  if (!(p instanceof Float32Array)) throw invalidOption('p', 'a Float32Array', p);
  if (!(g instanceof Float32Array) || g.length !== p.length) throw invalidOption('g', `a Float32Array of ${p.length} values`, g instanceof Float32Array ? g.length : g);
  if (buf !== null && (!(buf instanceof Float32Array) || buf.length !== p.length)) throw invalidOption('buf', `a Float32Array of ${p.length} values or null`, buf instanceof Float32Array ? buf.length : buf);
  if (o.momentum !== 0 && buf === null) throw invalidOption('buf', 'a momentum buffer (momentum is not 0)', buf);
  if (p.length > 0) native().f32SgdStep(p, g, buf, o.lr, o.momentum, o.dampening, o.weightDecay, o.nesterov, o.first);
}
