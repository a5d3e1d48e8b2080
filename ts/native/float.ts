/**
 * Typed contract of the float engine primitives in the addon (native/binding/float.cc).
 * Layouts: x [N, Cin, H, W], w [Cout, Cin/groups, KH, KW], y [N, Cout, OH, OW], contiguous float32;
 * GEMM is row-major with leading dimensions. Every call is synchronous (a few ms for real layers).
 * Use the checked wrappers in ts/tensor/float-kernels.ts rather than these directly.
 */

/** Backend names: `auto` (oneDNN > OpenBLAS > scalar twin), or one by name. */
export type FloatBackendName = 'auto' | 'ref' | 'dnnl' | 'openblas';

/** Convolution geometry; dilation as torch (1 = dense). */
export interface Conv2dGeometry {
  n: number; cin: number; h: number; w: number;
  cout: number; kh: number; kw: number;
  strideH: number; strideW: number; padH: number; padW: number;
  dilationH: number; dilationW: number; groups: number;
}

export interface FloatInfo {
  /** Backend `auto` uses for convolution ('dnnl' or 'ref'). */
  conv: 'dnnl' | 'ref';
  /** Backend `auto` uses for GEMM. */
  gemm: 'dnnl' | 'openblas' | 'ref';
  /** Backends compiled in. */
  available: FloatBackendName[];
  /** Threads of the library pools (OMP_NUM_THREADS, default = cores). */
  threads: number;
  /** oneDNN version, null when absent. */
  dnnl: string | null;
}

export interface FloatNative {
  floatInfo(): FloatInfo;
  f32Conv2dForward(p: Conv2dGeometry, x: Float32Array, w: Float32Array, b: Float32Array | null, y: Float32Array, backend: FloatBackendName): void;
  f32Conv2dBackwardData(p: Conv2dGeometry, dy: Float32Array, w: Float32Array, dx: Float32Array, backend: FloatBackendName): void;
  f32Conv2dBackwardWeights(p: Conv2dGeometry, x: Float32Array, dy: Float32Array, dw: Float32Array, db: Float32Array | null, backend: FloatBackendName): void;
  /** Both gradients in one call (dy reordered once); null outputs are skipped, db needs dw. */
  f32Conv2dBackward(p: Conv2dGeometry, x: Float32Array, dy: Float32Array, w: Float32Array, dx: Float32Array | null, dw: Float32Array | null, db: Float32Array | null, backend: FloatBackendName): void;
  f32Gemm(transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number,
    a: Float32Array, lda: number, b: Float32Array, ldb: number, beta: number, c: Float32Array, ldc: number, backend: FloatBackendName): void;
  /** Per-channel mean and biased variance of x [n, c, hw]. */
  f32BnStats(n: number, c: number, hw: number, x: Float32Array, mean: Float32Array, variance: Float32Array): void;
  /** y = (x − mean)/√(var + eps)·γ + β (γ, β null = 1, 0). */
  f32BnApply(n: number, c: number, hw: number, x: Float32Array, mean: Float32Array, variance: Float32Array,
    gamma: Float32Array | null, beta: Float32Array | null, eps: number, y: Float32Array): void;
  /** Gradients of f32BnApply; batchStats adds the mean/variance terms (training). Null outputs are skipped. */
  f32BnBackward(n: number, c: number, hw: number, x: Float32Array, dy: Float32Array, mean: Float32Array, variance: Float32Array,
    gamma: Float32Array | null, eps: number, batchStats: boolean, dx: Float32Array | null, dgamma: Float32Array | null, dbeta: Float32Array | null): void;
  f32Relu(x: Float32Array, y: Float32Array): void;
  f32ReluBackward(x: Float32Array, dy: Float32Array, dx: Float32Array): void;
  /** y = a + b elementwise, threaded; y may be a (in-place accumulation). */
  f32Add(a: Float32Array, b: Float32Array, y: Float32Array): void;
  /** One torch.optim.SGD update in place (p, buf); same bits as ts/nn/optim.ts's loop. */
  f32SgdStep(p: Float32Array, g: Float32Array, buf: Float32Array | null, lr: number, momentum: number, dampening: number, weightDecay: number, nesterov: boolean, first: boolean): void;
}
