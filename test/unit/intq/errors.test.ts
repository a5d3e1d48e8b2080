/**
 * Bad arguments: the TypeScript wrappers throw a UsageError naming the argument before any native call,
 * and the native functions called directly with garbage throw a named JS error (never a crash).
 */
import { strict as assert } from 'node:assert';
import { UsageError } from '../../../ts/util/errors.ts';
import { native } from '../../../ts/native/binding.ts';
import {
  avgPoolTflite, conv2d, dequantize, formMultiplier, gemm, globalAvgPool, packInt, packRows, qadd, quantize, requantize, unpackInt, unpackRows,
} from '../../../ts/native/intq.ts';
import type { Variant } from '../../../ts/native/intq.ts';

function usage(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof UsageError && re.test(e.message), `expected UsageError matching ${re}`);
}

describe('intq: bad arguments throw named errors', () => {
  it('TypeScript checks: shapes, dtypes, bits, packing lengths, scales', () => {
    usage(() => requantize(Int32Array.from([1]), { variant: 'tflite' as Variant, multiplier: 1 }), /for variant but received 'tflite'/);
    usage(() => requantize(new Float32Array(1) as unknown as Int32Array, { variant: 'ort-mlas', multiplier: 1 }), /an Int32Array for acc/);
    usage(() => requantize(Int32Array.from([1]), { variant: 'ort-mlas', multiplier: NaN }), /multiplier\[0\]/);
    usage(() => requantize(Int32Array.from([1]), { variant: 'ort-mlas', scales: { sx: 0, sw: 1, sy: 1 } }), /a finite number > 0 for scales.sx but received 0/);
    usage(() => requantize(Int32Array.from([1]), { variant: 'ort-mlas', scales: { sx: 1, sw: 1, sy: Infinity } }), /scales.sy/);
    usage(() => requantize(Int32Array.from([1]), { variant: 'ort-mlas', multiplier: 1, qmin: 5, qmax: 4 }), /for qmax/);
    usage(() => requantize(Int32Array.from([1]), { variant: 'trt-gpu', multiplier: 1, zeroPoint: 3 }), /trt-gpu is symmetric/);
    usage(() => requantize(Int32Array.from([1]), { variant: 'ort-mlas', multiplier: 1, depthwiseUpward: true }), /depthwiseUpward/);
    usage(() => requantize(Int32Array.from([1]), { variant: 'trt-gpu', multiplier: [1, 2], beta: [1] }), /2 values \(one per channel\) for beta/);
    usage(() => requantize(Int32Array.from([1]), { variant: 'ort-mlas' }), /multiplier or opts.scales/);
    usage(() => formMultiplier('ort-mlas', -1), /for multiplier but received -1/);
    usage(() => gemm(Int8Array.from([1, 2]), Int8Array.from([1]), { m: 1, n: 1, k: 2 }), /2 elements .* for weights but received length 1/);
    usage(() => gemm(Int8Array.from([1, 2]), Int8Array.from([1, 2]), { m: 1, n: 1, k: 3 }), /3 elements \(m × k\) for a/);
    usage(() => gemm(Int8Array.from([1]), Int8Array.from([1]), { m: 1, n: 1, k: 1, aZeroPoint: 200 }), /integer -128..127 for aZeroPoint but received 200/);
    usage(() => gemm(Uint8Array.from([1]), Uint8Array.from([1]), { m: 1, n: 1, k: 1, wZeroPoint: -1 }), /wZeroPoint\[0\]/);
    usage(() => gemm(Int8Array.from([1]), Int8Array.from([1]), { m: 1, n: 1, k: 1, bits: 3 as 8 }), /one of 8, 4, 2 for bits but received 3/);
    usage(() => gemm(Int8Array.from([1]), Uint8Array.from([1, 2]), { m: 1, n: 1, k: 1, bits: 4 }), /4 packed bytes .* for weights/);
    usage(() => gemm(Int8Array.from([1]), Int8Array.from([1]), { m: 1, n: 1, k: 1, bits: 4 }), /a Uint8Array of packed int4 rows for weights/);
    usage(() => gemm(Uint8Array.from([1]), Uint8Array.from([1]), { m: 1, n: 1, k: 1, hazard: 'a72-int16-pair' }), /a72-int16-pair only with Int8Array/);
    usage(() => gemm(Int8Array.from([1]), Int8Array.from([1]), { m: 1, n: 1, k: 1, hazard: 'maddubs' as 'none' }), /for hazard/);
    usage(() => gemm(Int8Array.from([1]), Int8Array.from([1]), { m: 1, n: 1, k: 1, bias: [1, 2] }), /1 int32 values for bias/);
    usage(() => gemm([1] as unknown as Int8Array, Int8Array.from([1]), { m: 1, n: 1, k: 1 }), /Int8Array \(int8\) or Uint8Array \(uint8\) for a/);
    usage(() => conv2d(Int8Array.from([1, 2, 3, 4]), Int8Array.from([1]), { c: 1, h: 2, w: 2, oc: 1, kh: 3, kw: 3 }), /fits the padded input/);
    usage(() => conv2d(Int8Array.from([1, 2, 3, 4]), Int8Array.from([1]), { c: 2, h: 1, w: 2, oc: 3, kh: 1, kw: 1, groups: 2 }), /a divisor of c \(2\) and oc \(3\) for groups/);
    usage(() => conv2d(Int8Array.from([1]), Int8Array.from([1]), { c: 1, h: 1, w: 1, oc: 1, kh: 1, kw: 1, strides: [0, 1] }), /strides\[0\]/);
    usage(() => packInt([8], 4), /int4 integer -8..7 for values\[0\] but received 8/);
    usage(() => packInt([1], 3 as 4), /one of 4, 2 for bits/);
    usage(() => unpackInt(Uint8Array.from([1]), 3, 4), /2 bytes for 3 values for packed/);
    usage(() => packRows([1, 2], 1, 3, 2), /3 values \(rows × k\)/);
    usage(() => unpackRows(Uint8Array.from([1]), 1, 9, 2), /4 bytes for packed/);
    usage(() => quantize(Float32Array.from([1]), { variant: 'ort-mlas', scale: 0 }), /finite number > 0 for scale but received 0/);
    usage(() => quantize(Float32Array.from([1]), { variant: 'ort-mlas', scale: 1, zeroPoint: 300 }), /for zeroPoint but received 300/);
    usage(() => dequantize(Int32Array.from([1]), NaN), /for scale/);
    usage(() => qadd(Int32Array.from([1]), Int32Array.from([1, 2]), { variant: 'ort-mlas', sa: 1, sb: 1, sy: 1 }), /1 values \(the length of a\) for b/);
    usage(() => qadd(Int32Array.from([1]), Int32Array.from([1]), { variant: 'trt-gpu' as 'ort-mlas', sa: 1, sb: 1, sy: 1 }), /for variant/);
    usage(() => globalAvgPool(Int32Array.from([1, 2, 3]), { variant: 'ort-mlas', channels: 2, image: 2, sx: 1, sy: 1 }), /4 values \(channels × image\)/);
    usage(() => avgPoolTflite(Int32Array.from([1]), { c: 1, h: 1, w: 1, kh: 2, kw: 2, pads: [2, 0, 0, 0] }), /pads\[0\]/);
  });

  it('native functions re-check and throw named JS errors, never crash', () => {
    const n = native();
    assert.throws(() => n.intqMultiplier('nope', 1), /intqMultiplier\(variant\): expected one of tflite-double/);
    assert.throws(() => n.intqMultiplier('ort-mlas', 300), /expected a finite real multiplier in \[0, 256\)/);
    assert.throws(() => n.intqRequantize(Int32Array.from([1]), new Int32Array(2), { variant: 'ort-mlas', multipliers: Float64Array.from([1]) }), /intqRequantize\(out\)/);
    assert.throws(() => n.intqRequantize(Int32Array.from([1]), new Int32Array(1), { variant: 'ort-mlas' }), /expected multipliers/);
    assert.throws(() => n.intqRequantize(Int32Array.from([1]), new Int32Array(1), { variant: 'ort-mlas', multipliers: new Float64Array(0) }), /at least one channel/);
    assert.throws(() => n.intqRequantize(Int32Array.from([1]), new Int32Array(1), { variant: 'trt-gpu', multipliers: Float64Array.from([1]), zeroPoint: 2 }), /symmetric only/);
    assert.throws(() => n.intqGemm(Int8Array.from([1]), Int8Array.from([1]), new Int32Array(1), { m: 1, n: 1, k: 2 }), /gemm\(a\): expected 2 elements/);
    assert.throws(() => n.intqGemm(Int8Array.from([1]), Int8Array.from([1]), new Int32Array(1), { m: 1, n: 1 }), /intqGemm\(opts\)\.k: expected non-negative integer but received undefined/);
    assert.throws(() => n.intqGemm(Int8Array.from([1]), Int8Array.from([1]), new Int32Array(1), { m: 2 ** 40, n: 2 ** 40, k: 2 ** 40 }), /gemm\(shape\): size overflows/);
    assert.throws(() => n.intqGemm(Int8Array.from([1]), Int8Array.from([1]), new Int32Array(1), { m: 1, n: 1, k: 1, hazard: 9 }), /gemm\(hazard\)/);
    assert.throws(() => n.intqGemm(Int8Array.from([1]), Int8Array.from([1]), new Int32Array(1), { m: 1, n: 1, k: 1, bias: new Float32Array(1) }), /bias: expected Int32Array but received Float32Array/);
    assert.throws(() => n.intqConv(Int8Array.from([1]), Int8Array.from([1]), new Int32Array(1), { c: 1, h: 1, w: 1, oc: 1, kh: 1, kw: 1, groups: 0 }), /conv\(shape\)/);
    assert.throws(() => n.intqConv(Int8Array.from([1]), Int8Array.from([1]), new Int32Array(1), { c: 1, h: 2 ** 30, w: 2 ** 30, oc: 1, kh: 1, kw: 1 }), /conv\(shape\)/);
    assert.throws(() => n.intqPack(Int8Array.from([9]), 4, true, new Uint8Array(1)), /pack\(values\[0\]\): expected an integer in \[-8, 7\]/);
    assert.throws(() => n.intqPack(Int8Array.from([1]), 4, 'yes' as unknown as boolean, new Uint8Array(1)), /intqPack\(signed\): expected boolean/);
    assert.throws(() => n.intqUnpack(new Uint8Array(1), 2, true, new Int8Array(9)), /unpack\(packed\): expected 3 bytes/);
    assert.throws(() => n.intqQuantize(Float32Array.from([1]), new Int32Array(1), 7, 1, 0, -128, 127), /quantize\(mode\)/);
    assert.throws(() => n.intqQuantize(Float32Array.from([1]), new Int32Array(1), 0, -1, 0, -128, 127), /quantize\(scale\)/);
    assert.throws(() => n.intqAdd('trt-gpu', Int32Array.from([1]), Int32Array.from([1]), new Int32Array(1), { sa: 1, sb: 1, sy: 1 }), /add\(variant\)/);
    assert.throws(() => n.intqGlobalAvgPool('ort-mlas', Int32Array.from([1]), new Int32Array(1), { channels: 1, image: 1, sx: 1, sy: 1e-30 }), /outside MLAS's range/);
    assert.throws(() => n.intqAvgPoolTflite(Int32Array.from([1]), new Int32Array(4), { c: 1, h: 1, w: 1, kh: 1, kw: 1 }), /avgPool\(out\)/);
  });
});
