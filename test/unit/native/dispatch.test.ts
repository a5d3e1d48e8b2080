import { strict as assert } from 'node:assert';
import { native } from '../../../ts/native/binding.ts';

function reference(src: Uint8Array, h: number, w: number, c: number, scale: number): Float32Array {
  const out = new Float32Array(h * w * c);
  for (let ch = 0; ch < c; ch++) for (let i = 0; i < h * w; i++) out[ch * h * w + i] = Math.fround(src[i * c + ch]! * Math.fround(scale));
  return out;
}

describe('native: dispatch and hwcToChw', () => {
  afterEach(() => native().setIsaCap('native'));

  it('reports the arch, features and a kernel per op', () => {
    const i = native().info();
    assert.ok(['x86_64', 'aarch64'].includes(i.arch));
    assert.ok(Array.isArray(i.features));
    assert.equal(typeof i.kernels.u8hwc_to_f32chw, 'string');
  });

  it('every ISA path equals the JS reference exactly, with byteOffset honoured', () => {
    const caps = ['scalar', 'native'];
    for (const cap of caps) {
      native().setIsaCap(cap);
      for (const [h, w, c] of [[1, 1, 1], [3, 5, 3], [7, 9, 1], [32, 32, 3], [5, 13, 4]] as const) {
        const backing = new Uint8Array(h * w * c + 3);
        for (let k = 0; k < backing.length; k++) backing[k] = (k * 37 + 11) & 255;
        const src = backing.subarray(3); // non-zero byteOffset
        const dstBacking = new Float32Array(h * w * c + 2);
        const dst = dstBacking.subarray(2);
        native().hwcToChw(src, h, w, c, dst, 1 / 255);
        assert.deepEqual(Array.from(dst), Array.from(reference(src, h, w, c, 1 / 255)), `cap=${cap} ${h}x${w}x${c}`);
        assert.equal(dstBacking[0], 0);
      }
    }
    native().setIsaCap('scalar');
    assert.equal(native().info().kernels.u8hwc_to_f32chw, 'u8chw_ref');
  });

  it('rejects bad arguments with a named error, never a crash', () => {
    const n = native();
    assert.throws(() => n.hwcToChw(new Float32Array(3) as unknown as Uint8Array, 1, 1, 3, new Float32Array(3), 1), /hwcToChw\(src\): expected Uint8Array but received Float32Array/);
    assert.throws(() => n.hwcToChw(new Uint8Array(3), 1, 1, 3, new Float32Array(2), 1), /dst has 2 floats, expected 3/);
    assert.throws(() => n.hwcToChw(new Uint8Array(3), -1, 1, 3, new Float32Array(3), 1), /hwcToChw\(h\): expected a non-negative integer/);
    assert.throws(() => n.hwcToChw(new Uint8Array(3), 1, 1, 3, new Float32Array(3), 'x' as unknown as number), /hwcToChw\(scale\): expected number but received string/);
    assert.throws(() => n.setIsaCap('sse9'), /expected one of native, scalar/);
  });
});
