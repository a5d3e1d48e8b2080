/**
 * GEMM / conv / packing / element-wise kernels through the TypeScript API: a JS int64-free reference loop
 * (plain numbers are exact here), lowbit int4/int2 == int8 container on random shapes incl. odd K, the
 * accumulator hazards (§e9), packing vectors (§b, §e13), quantize modes (§e8, §e10).
 */
import { strict as assert } from 'node:assert';
import { Rng } from '../../../ts/util/rng.ts';
import {
  avgPoolTflite, conv2d, dequantize, gemm, globalAvgPool, packedRowBytes, packInt, packRows, qadd, quantize, unpackInt, unpackRows,
} from '../../../ts/native/intq.ts';

function refGemm(a: ArrayLike<number>, w: ArrayLike<number>, m: number, n: number, k: number, az: number, wz: number[], bias?: number[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = bias ? bias[j]! : 0;
      const z = wz.length === 1 ? wz[0]! : wz[j]!;
      for (let kk = 0; kk < k; kk++) s += (a[i * k + kk]! - az) * (w[j * k + kk]! - z);
      out.push(s | 0);
    }
  return out;
}

describe('intq: GEMM, conv and lowbit', () => {
  it('gemm equals the reference loop over odd shapes, zero points and bias', () => {
    const rng = new Rng(11);
    for (let t = 0; t < 120; t++) {
      const m = 1 + rng.int(5), n = 1 + rng.int(9), k = 1 + rng.int(40);
      const aS = rng.int(2) === 0, wS = rng.int(2) === 0;
      const a = aS ? Int8Array.from({ length: m * k }, () => rng.int(256) - 128) : Uint8Array.from({ length: m * k }, () => rng.int(256));
      const w = wS ? Int8Array.from({ length: n * k }, () => rng.int(256) - 128) : Uint8Array.from({ length: n * k }, () => rng.int(256));
      const az = aS ? rng.int(256) - 128 : rng.int(256);
      const wz = Array.from({ length: rng.int(2) ? n : 1 }, () => (wS ? rng.int(256) - 128 : rng.int(256)));
      const bias = Array.from({ length: n }, () => rng.int(200001) - 100000);
      assert.deepEqual(Array.from(gemm(a, w, { m, n, k, aZeroPoint: az, wZeroPoint: wz, bias })), refGemm(a, w, m, n, k, az, wz, bias));
    }
  });

  it('lowbit int4 / int2 GEMM and conv equal the int8-container results exactly (odd K included)', () => {
    const rng = new Rng(12);
    for (const bits of [4, 2] as const)
      for (const signed of [true, false])
        for (let t = 0; t < 25; t++) {
          const m = 1 + rng.int(4), n = 1 + rng.int(6), k = 1 + rng.int(37);
          const lo = signed ? -(1 << (bits - 1)) : 0, hi = signed ? (1 << (bits - 1)) - 1 : (1 << bits) - 1;
          const vals = Array.from({ length: n * k }, () => lo + rng.int(hi - lo + 1));
          const a = Uint8Array.from({ length: m * k }, () => rng.int(256));
          const wz = [lo + rng.int(hi - lo + 1)];
          const c8 = gemm(a, Int8Array.from(vals), { m, n, k, aZeroPoint: rng.int(256), wZeroPoint: wz });
          const packed = packRows(vals, n, k, bits, signed);
          assert.equal(packed.length, n * packedRowBytes(k, bits));
          const az = 0;
          const g8 = gemm(a, Int8Array.from(vals), { m, n, k, aZeroPoint: az, wZeroPoint: wz });
          const gp = gemm(a, packed, { m, n, k, aZeroPoint: az, wZeroPoint: wz, bits, unsignedWeights: !signed });
          assert.deepEqual(Array.from(gp), Array.from(g8), `bits ${bits} signed ${signed} k ${k}`);
          assert.equal(c8.length, m * n);
          // conv: c = 3, 3x3 kernel -> K = 27 (odd, not a multiple of 8)
          const x = Int8Array.from({ length: 2 * 3 * 5 * 4 }, () => rng.int(256) - 128);
          const wc = Array.from({ length: 4 * 27 }, () => lo + rng.int(hi - lo + 1));
          const opts = { n: 2, c: 3, h: 5, w: 4, oc: 4, kh: 3, kw: 3, pads: [1, 1, 1, 0] as const, strides: [2, 1] as const, xZeroPoint: -3 };
          const r8 = conv2d(x, Int8Array.from(wc), opts);
          const rp = conv2d(x, packRows(wc, 4, 27, bits, signed), { ...opts, bits, unsignedWeights: !signed });
          assert.deepEqual(Array.from(rp.out), Array.from(r8.out));
        }
  });

  it('conv2d: depthwise equals per-channel GEMMs; padded taps read the zero point', () => {
    // depthwise 1x1 with zero point: out[c] = (x[c] - xz) * w[c]
    const x = Uint8Array.from([10, 20, 30]);
    const r = conv2d(x, Int8Array.from([1, -2, 3]), { c: 3, h: 1, w: 1, oc: 3, kh: 1, kw: 1, groups: 3, xZeroPoint: 5 });
    assert.deepEqual(Array.from(r.out), [5, -30, 75]);
    // 1x1 input, 3x3 kernel, pads 1: only the centre tap is real
    const p = conv2d(Uint8Array.from([9]), Int8Array.from([1, 1, 1, 1, 2, 1, 1, 1, 1]), { c: 1, h: 1, w: 1, oc: 1, kh: 3, kw: 3, pads: [1, 1, 1, 1], xZeroPoint: 4 });
    assert.deepEqual(Array.from(p.out), [10]);
  });

  it('§e9 accumulator hazards: A72 int16 pair wrap and VPMADDUBSW saturation', () => {
    const a = new Int8Array(16), w = new Int8Array(16);
    a[3] = a[11] = -128;
    w[3] = w[11] = -128;
    assert.deepEqual(Array.from(gemm(a, w, { m: 1, n: 1, k: 16 })), [32768]);
    assert.deepEqual(Array.from(gemm(a, w, { m: 1, n: 1, k: 16, hazard: 'a72-int16-pair' })), [-32768]);
    const u = Uint8Array.from([255, 255]), s = Int8Array.from([127, 127]);
    assert.deepEqual(Array.from(gemm(u, s, { m: 1, n: 1, k: 2 })), [64770]);
    assert.deepEqual(Array.from(gemm(u, s, { m: 1, n: 1, k: 2, hazard: 'maddubs-sat' })), [32767]);
  });
});

describe('intq: packing, quantize, add, pooling', () => {
  it('§b / §e13 packing vectors and round trips', () => {
    assert.deepEqual(Array.from(packInt([1, -2, 7, -8, 3], 4)), [0xe1, 0x87, 0x03]);
    assert.deepEqual(Array.from(packInt([1, -2, 0, -1, 1], 2)), [0xc9, 0x01]);
    assert.deepEqual(Array.from(packInt([0, 15, 8], 4, false)), [0xf0, 0x08]);
    assert.deepEqual(Array.from(packInt([-8], 4)), [0x08]);
    assert.deepEqual(Array.from(packInt([-2], 2)), [0x02]);
    for (const bits of [4, 2] as const)
      for (const n of [1, 3, 5, 7, 9, 13]) {
        const v = Array.from({ length: n }, (_, i) => (i % (1 << bits)) - (1 << (bits - 1)));
        assert.deepEqual(Array.from(unpackInt(packInt(v, bits), n, bits)), v);
        assert.deepEqual(Array.from(unpackRows(packRows(v, 1, n, bits), 1, n, bits)), v);
      }
    assert.equal(packedRowBytes(9, 2), 4);
    assert.equal(packedRowBytes(3, 4), 4);
  });

  it('§e8 / §e10 quantize: RNE divide, half-away divide, reciprocal multiply', () => {
    const x = new Float32Array(new Uint32Array([0xc039be76]).buffer);
    assert.deepEqual(Array.from(quantize(x, { variant: 'ort-mlas', scale: 0.0235 })), [-124]);
    assert.deepEqual(Array.from(quantize(x, { variant: 'xnnpack-fp32', scale: 0.0235 })), [-123]);
    const ties = Float32Array.from([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5]);
    for (const v of ['ort-mlas', 'onnx-ref', 'trt-gpu'] as const) assert.deepEqual(Array.from(quantize(ties, { variant: v, scale: 1 })), [-2, -2, 0, 0, 2, 2]);
    for (const v of ['tflite-double', 'tflite-single'] as const) assert.deepEqual(Array.from(quantize(ties, { variant: v, scale: 1 })), [-3, -2, -1, 1, 2, 3]);
    assert.deepEqual(Array.from(quantize(Float32Array.from([1e9, -1e9, NaN]), { mode: 'rne-divide', scale: 0.1, zeroPoint: 3, qmin: 0, qmax: 255 })), [255, 0, 0]);
    assert.deepEqual(Array.from(dequantize(Int32Array.from([-128, 5]), 0.1, 3)), [Math.fround(-131 * Math.fround(0.1)), Math.fround(2 * Math.fround(0.1))]);
  });

  it('add and pooling follow their definitions', () => {
    const a = Int32Array.from([1, -3, 100, -128]), b = Int32Array.from([2, -4, 100, -128]);
    for (const v of ['ort-mlas', 'tflite-double', 'tflite-single', 'xnnpack-fp32', 'onnx-ref'] as const)
      assert.deepEqual(Array.from(qadd(a, b, { variant: v, sa: 0.05, sb: 0.05, sy: 0.05 })), [3, -7, 127, -128], v);
    assert.deepEqual(Array.from(globalAvgPool(Int32Array.from([1, 2, 1, 4]), { variant: 'ort-mlas', channels: 2, image: 2, sx: 0.1, sy: 0.1 })), [2, 2]);
    assert.deepEqual(Array.from(globalAvgPool(Int32Array.from([1, 2, 1, 4]), { variant: 'tflite-single', channels: 2, image: 2, sx: 0.1, sy: 0.1 })), [2, 3]);
    assert.deepEqual(Array.from(avgPoolTflite(Int32Array.from([2, 3, -2, -3]), { c: 1, h: 2, w: 2, kh: 1, kw: 2 }).out), [3, -3]);
  });
});
