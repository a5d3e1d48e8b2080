/**
 * Fast integer kernels through the addon (ts/native/intq-fast.ts): GEMM, conv and batch-1 GEMV results equal
 * the reference kernels (intqGemm / intqConv + intqRequantize) exactly on every kernel this CPU can run (ISA cap
 * per kernel), argument errors name the argument, and the TSDoc examples hold. The exhaustive shape sweep is the
 * ctest suites intq_fast_*; this checks the binding and the epilogue options end to end.
 */
import { strict as assert } from 'node:assert';
import { native } from '../../../ts/native/binding.ts';
import { fastKernels, packGemmWeights, setFastThreads } from '../../../ts/native/intq-fast.ts';
import { Rng } from '../../../ts/util/rng.ts';

const nat = native();
const VARIANTS = ['tflite-double', 'tflite-single', 'xnnpack-fp32', 'xnnpack-rndnu', 'ort-mlas', 'onnx-ref'];

function bytes(rng: Rng, n: number, signed: boolean): Int8Array | Uint8Array {
  const a = signed ? new Int8Array(n) : new Uint8Array(n);
  for (let i = 0; i < n; i++) a[i] = signed ? rng.int(256) - 128 : rng.int(256);
  return a;
}

/** ISA rung of each kernel this CPU can run, from the kernel name's last part. */
function caps(): string[] {
  return fastKernels().all.filter((k) => k.available).map((k) => k.name.split('_').pop()!);
}

function requantRef(acc: Int32Array, variant: string, multipliers: Float64Array, inner: number, zeroPoint: number, qmin: number, qmax: number): Int32Array {
  const out = new Int32Array(acc.length);
  nat.intqRequantize(acc, out, { variant, multipliers, inner, zeroPoint, qmin, qmax });
  return out;
}

describe('intq-fast: kernels equal the reference through the binding', () => {
  afterEach(() => nat.setIsaCap('native'));

  it('GEMM: every kernel, every integer variant, s8 and u8 outputs, int32 accumulators', () => {
    const rng = new Rng(5);
    for (const cap of caps()) {
      nat.setIsaCap(cap);
      for (let t = 0; t < 12; t++) {
        const m = 1 + rng.int(9), n = 1 + rng.int(70), k = 1 + rng.int(40);
        const aSigned = rng.int(2) === 1, wSigned = rng.int(2) === 1;
        const a = bytes(rng, m * k, aSigned), w = bytes(rng, n * k, wSigned);
        const aZeroPoint = aSigned ? rng.int(256) - 128 : rng.int(256);
        const bias = Int32Array.from({ length: n }, () => rng.int(20001) - 10000);
        const ref = new Int32Array(m * n);
        nat.intqGemm(a, w, ref, { m, n, k, aZeroPoint, bias });
        const packed = nat.intqFastPackGemm(w, { n, k });
        const acc = new Int32Array(m * n);
        nat.intqFastGemm(packed, a, acc, { m, aZeroPoint, bias, threads: 1 + rng.int(2) });
        assert.deepEqual(acc, ref, `${cap} acc ${m}x${n}x${k}`);
        const variant = VARIANTS[rng.int(VARIANTS.length)]!;
        const multipliers = Float64Array.from({ length: n }, () => rng.uniform() * 0.01);
        const outS8 = rng.int(2) === 1;
        const [qmin, qmax] = outS8 ? [-128, 127] : [0, 255];
        const zeroPoint = outS8 ? -5 : 130;
        const want = requantRef(ref, variant, multipliers, 1, zeroPoint, qmin, qmax);
        const out = outS8 ? new Int8Array(m * n) : new Uint8Array(m * n);
        nat.intqFastGemm(packed, a, out, { m, aZeroPoint, bias, variant, multipliers, zeroPoint, qmin, qmax });
        assert.deepEqual(Array.from(out), Array.from(want), `${cap} ${variant} ${m}x${n}x${k}`);
      }
    }
  });

  it('conv: groups, stride, padding; per-channel multipliers', () => {
    const rng = new Rng(6);
    for (const cap of caps()) {
      nat.setIsaCap(cap);
      const shape = { n: 1, c: 6, h: 9, w: 7, oc: 4, kh: 3, kw: 3, groups: 2, strideH: 2, strideW: 1, padTop: 1, padLeft: 1, padBottom: 1, padRight: 0 };
      const x = bytes(rng, 6 * 9 * 7, false), w = bytes(rng, 4 * 3 * 9, true);
      const oh = 5, ow = 6;
      const ref = new Int32Array(4 * oh * ow);
      nat.intqConv(x, w, ref, { ...shape, xZeroPoint: 17 });
      const packed = nat.intqFastPackConv(w, shape);
      const acc = new Int32Array(ref.length);
      nat.intqFastConv(packed, x, acc, { ...shape, xZeroPoint: 17 });
      assert.deepEqual(acc, ref, cap);
      const multipliers = Float64Array.from([0.001, 0.002, 0.0005, 0.003]);
      const want = requantRef(ref, 'ort-mlas', multipliers, oh * ow, 3, -128, 127);
      const out = new Int8Array(ref.length);
      nat.intqFastConv(packed, x, out, { ...shape, xZeroPoint: 17, variant: 'ort-mlas', multipliers, zeroPoint: 3 });
      assert.deepEqual(Array.from(out), Array.from(want), cap);
    }
  });

  it('GEMV: int4 and int2 packed rows (odd K) equal the reference', () => {
    const rng = new Rng(7);
    for (const bits of [4, 2] as const) {
      const n = 37, k = 45, lo = -(1 << (bits - 1));
      const vals = Int8Array.from({ length: n * k }, () => lo + rng.int(1 << bits));
      const packed = new Uint8Array(n * Math.ceil(k / 8) * bits);
      nat.intqPack(vals, bits, true, packed, n, k);
      const x = bytes(rng, k, false);
      const ref = new Int32Array(n);
      nat.intqGemm(x, packed, ref, { m: 1, n, k, aZeroPoint: 9, bits });
      for (const cap of ['scalar', 'native']) {
        nat.setIsaCap(cap);
        const p = nat.intqFastPackGemv(packed, { n, k, bits });
        const out = new Int32Array(n);
        nat.intqFastGemv(p, x, out, { xZeroPoint: 9 });
        assert.deepEqual(out, ref, `int${bits} ${cap}`);
      }
    }
  });

  it('errors name the argument', () => {
    const p = packGemmWeights(new Int8Array(6), 2, 3);
    assert.throws(() => nat.intqFastGemm({ kind: 'conv', handle: null } as never, new Int8Array(3), new Int32Array(2), { m: 1 }), /intqFastGemm\(packed\)/);
    assert.throws(() => nat.intqFastGemm(p, new Int8Array(4), new Int32Array(2), { m: 1 }), /gemm\(a\)/);
    assert.throws(() => nat.intqFastGemm(p, new Int8Array(3), new Int8Array(2), { m: 1 }), /variant/);
    assert.throws(() => nat.intqFastGemm(p, new Int8Array(3), new Int8Array(2), { m: 1, variant: 'ort-mlas' }), /multipliers/);
    assert.throws(() => nat.intqFastGemm(p, new Int8Array(3), new Int8Array(2), { m: 1, variant: 'nope', multipliers: new Float64Array([1]) }), /variant/);
    assert.throws(() => packGemmWeights(new Int8Array(6), 0, 3), /n/);
  });

  it('TSDoc examples', () => {
    assert.equal(setFastThreads(1), 1);
    assert.equal(typeof fastKernels().gemm, 'string');
    assert.equal(packGemmWeights(new Int8Array([1, 2, 3, 4, 5, 6]), 2, 3).kind, 'gemm');
  });
});
