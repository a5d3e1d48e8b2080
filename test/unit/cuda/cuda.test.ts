// The CUDA binding from TypeScript. CI (and this dev VM) has no GPU: the addon must load, report the named
// "no CUDA device" condition, check arguments before any device use, and throw CudaUnavailableError for valid
// calls. Where Node runs beside a GPU the last test compares the tensor-core GEMM with the reference
// (the lent GPU machines have no Node: there the ctest suites native/tests/cuda prove the kernels).
import { strict as assert } from 'node:assert';
import {
  CudaUnavailableError, cudaAvailable, cudaConvS8, cudaGemmS8, cudaInfo, parseDevice, requireCuda, resolveDevice,
} from '../../../ts/native/cuda.ts';
import { gemm, requantize } from '../../../ts/native/intq.ts';
import { QrobustError, UsageError } from '../../../ts/util/errors.ts';
import { Rng } from '../../../ts/util/rng.ts';

describe('cuda binding', () => {
  it('reports the build and the device, or the named reason', () => {
    const i = cudaInfo();
    assert.equal(typeof i.compiled, 'boolean');
    assert.ok(Array.isArray(i.archs));
    if (i.compiled) assert.ok(i.archs.length > 0 && i.archs.every((a) => /^sm_\d+$/.test(a)), i.archs.join(','));
    else assert.deepEqual(i.archs, []);
    assert.equal(cudaAvailable(), i.available);
    if (i.available) {
      assert.notEqual(i.device, 'none');
      assert.equal(i.reason, '');
    } else {
      assert.equal(i.device, 'none');
      assert.match(i.reason, /^no CUDA device: /);
      if (!i.compiled) assert.match(i.reason, /CUDA not compiled/);
    }
  });

  it('--device parsing and resolution name the option and the condition', () => {
    assert.equal(parseDevice('cpu'), 'cpu');
    assert.equal(parseDevice('cuda'), 'cuda');
    assert.throws(() => parseDevice('gpu'), (e: unknown) => e instanceof UsageError && /--device/.test(e.message) && /cpu, cuda/.test(e.message) && /'gpu'/.test(e.message));
    assert.equal(resolveDevice('cpu'), 'cpu');
    if (!cudaAvailable()) {
      assert.throws(() => resolveDevice('cuda'), (e: unknown) => e instanceof CudaUnavailableError && e instanceof QrobustError && /^no CUDA device: /.test(e.message));
      assert.throws(() => requireCuda(), CudaUnavailableError);
    } else {
      assert.equal(resolveDevice('cuda'), 'cuda');
    }
  });

  it('checks arguments before touching the device', () => {
    const a = new Int8Array(6), w = new Int8Array(6);
    assert.throws(() => cudaGemmS8(new Int8Array(5), w, { m: 2, n: 2, k: 3 }), (e: unknown) => e instanceof UsageError && /for a /.test(e.message));
    assert.throws(() => cudaGemmS8(a, new Uint8Array(6), { m: 2, n: 2, k: 3 }), (e: unknown) => e instanceof UsageError && /weights/.test(e.message));
    assert.throws(() => cudaGemmS8(a, w, { m: 2, n: 2, k: 3 }, { bits: 4 }), (e: unknown) => e instanceof UsageError && /packed 4-bit/.test(e.message));
    assert.throws(() => cudaGemmS8(a, w, { m: 2, n: 2, k: 3 }, { alpha: new Float32Array(3) }), (e: unknown) => e instanceof UsageError && /alpha/.test(e.message));
    assert.throws(() => cudaGemmS8(a, w, { m: 2, n: 2, k: 3 }, { beta: new Float32Array(2) }), (e: unknown) => e instanceof UsageError && /beta needs alpha/.test(e.message));
    assert.throws(() => cudaGemmS8(a, w, { m: 2, n: 2, k: 3 }, { alpha: new Float32Array(1), qmin: 3, qmax: 2 }), (e: unknown) => e instanceof UsageError && /qmin/.test(e.message));
    assert.throws(() => cudaConvS8(new Int8Array(12), new Int8Array(8), { c: 3, h: 2, w: 2, oc: 2, kh: 1, kw: 1, groups: 2 }), (e: unknown) => e instanceof UsageError && /groups/.test(e.message));
  });

  it('valid calls without a GPU throw CudaUnavailableError (never crash)', function () {
    if (cudaAvailable()) this.skip();
    assert.throws(() => cudaGemmS8(new Int8Array(6), new Int8Array(6), { m: 2, n: 2, k: 3 }), (e: unknown) => e instanceof CudaUnavailableError && /^no CUDA device: /.test(e.message));
    assert.throws(() => cudaConvS8(new Int8Array(4), new Int8Array(1), { c: 1, h: 2, w: 2, oc: 1, kh: 1, kw: 1 }), CudaUnavailableError);
  });

  it('with a GPU: trt-gpu GEMM equals the reference (runs only where Node has a GPU)', function () {
    if (!cudaAvailable()) this.skip();
    const rng = new Rng(1401);
    const m = 37, n = 29, k = 71;
    const a = Int8Array.from({ length: m * k }, () => rng.int(256) - 128);
    const w = Int8Array.from({ length: n * k }, () => rng.int(256) - 128);
    const bias = Int32Array.from({ length: n }, () => rng.int(10001) - 5000);
    const alpha = Float32Array.from({ length: n }, () => 0.001 + rng.uniform() * 0.01);
    const beta = Float32Array.from({ length: n }, () => rng.uniform() * 8 - 4);
    const acc = gemm(a, w, { m, n, k, bias });
    const want = requantize(acc, { variant: 'trt-gpu', multiplier: Array.from(alpha), beta });
    assert.deepEqual(Array.from(cudaGemmS8(a, w, { m, n, k }, { bias })), Array.from(acc));
    assert.deepEqual(Array.from(cudaGemmS8(a, w, { m, n, k }, { bias, alpha, beta })), Array.from(want));
  });
});
