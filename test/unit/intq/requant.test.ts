/**
 * Requantization through the TypeScript API: every INTEGER.md §e vector for every variant it concerns,
 * multiplier formation as each stack does it, fp16 fallback, trt beta, and the §e12 rules.
 */
import { strict as assert } from 'node:assert';
import { formMultiplier, requantize, VARIANTS } from '../../../ts/native/intq.ts';
import type { Variant } from '../../../ts/native/intq.ts';

const WIDE = { qmin: -2147483648, qmax: 2147483647 };
const rq = (variant: Variant, m: number, acc: number[], extra: object = WIDE): number[] =>
  Array.from(requantize(Int32Array.from(acc), { variant, multiplier: m, ...extra }));

const RHU: Variant[] = ['tflite-double', 'tflite-single', 'xnnpack-rndnu'];
const RNE: Variant[] = ['xnnpack-fp32', 'ort-mlas', 'onnx-ref', 'trt-gpu'];

describe('intq: requantization vectors (INTEGER.md §e)', () => {
  it('§e1 ties at M = 0.5: round half up vs half even', () => {
    const acc = [-3, -2, -1, 0, 1, 2, 3];
    for (const v of RHU) assert.deepEqual(rq(v, 0.5, acc), [-1, -1, 0, 0, 1, 1, 2], v);
    for (const v of RNE) assert.deepEqual(rq(v, 0.5, acc), [-2, -1, 0, 0, 0, 1, 2], v);
  });

  it('§e2 double vs single rounding at M = 0.25', () => {
    const acc = [-10, -6, -2, 2, 10];
    assert.deepEqual(rq('tflite-double', 0.25, acc), [-3, -2, -1, 1, 3]);
    assert.deepEqual(rq('tflite-single', 0.25, acc), [-2, -1, 0, 1, 3]);
    assert.deepEqual(rq('xnnpack-rndnu', 0.25, acc), [-2, -1, 0, 1, 3]);
    for (const v of RNE) assert.deepEqual(rq(v, 0.25, acc), [-2, -2, 0, 0, 2], v);
  });

  it('§e3 non-tie double-rounding error', () => {
    const m = 0.021454659224142497;
    assert.deepEqual(formMultiplier('tflite-double', m), { ...formMultiplier('tflite-double', m), q: 1474352955, shift: -5 });
    assert.deepEqual(rq('tflite-double', m, [-7527]), [-162]);
    for (const v of ['tflite-single', 'xnnpack-fp32', 'ort-mlas', 'xnnpack-rndnu', 'onnx-ref', 'trt-gpu'] as const) assert.deepEqual(rq(v, m, [-7527]), [-161], v);
  });

  it('§e5 QuantizeMultiplier edges', () => {
    const qm = (m: number, v: Variant = 'tflite-double'): [number, number] => {
      const r = formMultiplier(v, m);
      return [r.q, r.shift];
    };
    assert.deepEqual(qm(1), [2 ** 30, 1]);
    assert.deepEqual(qm(1 - 2 ** -33), [2 ** 30, 1]);
    assert.deepEqual(qm(2 ** -31), [2 ** 30, -30]);
    assert.deepEqual(qm(2 ** -32), [2 ** 30, -31]);
    assert.deepEqual(qm(2 ** -33), [0, 0]);
    assert.deepEqual(qm(3), [1610612736, 2]);
    assert.deepEqual(qm(255.9), [2146644787, 8]);
    assert.deepEqual(qm(0.5 + 2 ** -32), [1073741825, 0]);
  });

  it('§e6 the int32 pre-shift wraps in the double path only', () => {
    assert.deepEqual(rq('tflite-double', 3, [2 ** 29 + 1]), [-1610612733]);
    assert.deepEqual(rq('tflite-single', 3, [2 ** 29 + 1]), [1610612739]);
  });

  it('§e7 int32 -> float32 precision: exact 65.4999981', () => {
    // NOTE: INTEGER.md says "tflite-* give 65"; double rounding gives 66 (RHU(acc/2) then an exact .5 tie).
    assert.deepEqual(rq('tflite-double', 2 ** -19, [34340863]), [66]);
    for (const v of ['tflite-single', 'xnnpack-rndnu', 'onnx-ref'] as const) assert.deepEqual(rq(v, 2 ** -19, [34340863]), [65], v);
    for (const v of ['xnnpack-fp32', 'ort-mlas', 'trt-gpu'] as const) assert.deepEqual(rq(v, 2 ** -19, [34340863]), [66], v);
  });

  it('§e11 uint8 legacy maps to int8 by subtracting 128', () => {
    const acc = [-5000, -77, 0, 13, 999, 40000];
    for (const v of VARIANTS.filter((x) => x !== 'fp16-fallback' && x !== 'trt-gpu')) {
      const u8 = rq(v, 0.0123, acc, { zeroPoint: 140, qmin: 0, qmax: 255 });
      const s8 = rq(v, 0.0123, acc, { zeroPoint: 12, qmin: -128, qmax: 127 });
      assert.deepEqual(u8.map((x) => x - 128), s8, v);
    }
  });

  it('§e12 M = 0 or sw = 0 gives the zero point; M >= 256 is rejected', () => {
    for (const v of VARIANTS.filter((x) => x !== 'fp16-fallback')) {
      const zp = v === 'trt-gpu' ? 0 : 7;
      assert.deepEqual(rq(v, 0, [-99999, 0, 12345], { zeroPoint: zp }), [zp, zp, zp], v);
      const out = requantize(Int32Array.from([5000, -5000]), { variant: v, scales: { sx: 0.5, sw: [0, 0.01], sy: 0.1 }, zeroPoint: zp, inner: 1 });
      assert.equal(out[0], zp, v);
      assert.throws(() => rq(v, 256, [1]), /Expected a real multiplier in \[0, 256\) for multiplier\[0\]/);
    }
  });

  it('multipliers are formed in each stack\'s precision and order', () => {
    const sx = 0.0123, sw = 0.00456, sy = 0.0789;
    const f32 = formMultiplier('ort-mlas', { sx, sw, sy });
    assert.equal(f32.m32, Math.fround(Math.fround(Math.fround(sx) * Math.fround(sw)) / Math.fround(sy)));
    const d = formMultiplier('tflite-double', { sx, sw, sy });
    assert.equal(d.m64, (Math.fround(sx) * Math.fround(sw)) / Math.fround(sy));
    const r = formMultiplier('xnnpack-rndnu', 0.25);
    assert.equal(r.rndnuMultiplier, 1 << 23);
    assert.equal(r.rndnuShift, 25);
    // with the same float32 M, single rounding and rndnu agree exactly (mantissa << 7 = q)
    const m32 = Math.fround(0.0173);
    const acc = Array.from({ length: 200 }, (_, i) => (i - 100) * 977 + (i % 7));
    assert.deepEqual(rq('tflite-single', m32, acc), rq('xnnpack-rndnu', m32, acc));
    assert.equal(formMultiplier('tflite-single', m32).q, formMultiplier('xnnpack-rndnu', m32).rndnuMultiplier * 128);
  });

  it('per-channel layout, ReLU fusion, depthwise kUpward, trt beta, fp16 fallback', () => {
    const acc = Int32Array.from([10, 10, 10, 10, 10, 10, 10, 10]);
    const out = requantize(acc, { variant: 'trt-gpu', multiplier: [1, 0.5], inner: 2, beta: [0.25, -3] });
    assert.deepEqual(Array.from(out), [10, 10, 2, 2, 10, 10, 2, 2]);
    assert.deepEqual(rq('ort-mlas', 0.5, [-100, 100, 1000], { zeroPoint: -5, qmin: -5, qmax: 127 }), [-5, 45, 127]);
    assert.deepEqual(rq('tflite-double', 0.25, [-6], { ...WIDE, depthwiseUpward: true }), [-1]);
    const h = requantize(Int32Array.from([1234567, 2049]), { variant: 'fp16-fallback', multiplier: [0.001, 1], zeroPoint: 0, inner: 1 });
    assert.ok(h instanceof Float32Array);
    assert.equal(h[0], 1235);
    assert.equal(h[1], 2048);
  });
});
