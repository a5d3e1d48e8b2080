import { strict as assert } from 'node:assert';
import {
  adjustBrightness, adjustContrast, adjustSaturation, colorJitter, hflip, padCrop, randomCropFlip, randomResizedCropBox, resizedCrop,
} from '../../../ts/data/augment.ts';
import { Rng } from '../../../ts/util/rng.ts';
import type { HwcImage } from '../../../ts/data/types.ts';
import { pixels } from './fixtures.ts';

const img = (seed: number, w: number, h: number, c = 3): HwcImage => ({ data: pixels(seed, w, h, c), width: w, height: h, channels: c });
const at = (m: HwcImage, y: number, x: number, k: number): number => m.data[(y * m.width + x) * m.channels + k]!;

describe('data: augment', () => {
  it('hflip mirrors columns; twice is the identity', () => {
    const a = img(1, 7, 5);
    const f = hflip(a);
    for (let y = 0; y < 5; y++) for (let x = 0; x < 7; x++) for (let k = 0; k < 3; k++) assert.equal(at(f, y, x, k), at(a, y, 6 - x, k));
    assert.deepEqual(hflip(f).data, a.data);
  });

  it('crop with padding 0 and no flip is the identity; with padding, zeros outside and shifted pixels inside', () => {
    const a = img(2, 32, 32);
    for (const seed of [0, 1, 2, 3]) assert.deepEqual(randomCropFlip(a, new Rng(seed), { size: 32, padding: 0, flipP: 0 }).data, a.data);
    const p = padCrop(a, 32, 4, 0, 8); // shifted 4 rows down, 4 columns left
    for (let y = 0; y < 32; y++) {
      for (let x = 0; x < 32; x++) {
        const sy = y - 4;
        const sx = x + 4;
        const want = sy < 0 || sx >= 32 ? 0 : at(a, sy, sx, 1);
        assert.equal(at(p, y, x, 1), want);
      }
    }
    assert.throws(() => padCrop(a, 32, 4, 9, 0), /Expected integer 0\.\.8 for top but received 9/);
  });

  it('random crop + flip: same seed same output, different seeds differ, offsets cover the whole range', () => {
    const a = img(3, 32, 32);
    const o1 = randomCropFlip(a, new Rng(42));
    assert.deepEqual(randomCropFlip(a, new Rng(42)).data, o1.data);
    let differs = 0;
    for (let s = 0; s < 10; s++) if (Buffer.compare(Buffer.from(randomCropFlip(a, new Rng(s)).data), Buffer.from(o1.data)) !== 0) differs++;
    assert.ok(differs >= 9);
    // an image whose pixels encode their position: output (4,4) reads source (top, left) of the padded crop
    const pos: HwcImage = { data: new Uint8Array(32 * 32 * 3), width: 32, height: 32, channels: 3 };
    for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) pos.data.set([y + 1, x + 1, 0], (y * 32 + x) * 3);
    const tops = new Set<number>();
    const lefts = new Set<number>();
    let flips = 0;
    for (let s = 0; s < 400; s++) {
      const plain = randomCropFlip(pos, new Rng(s), { flipP: 0 });
      tops.add(at(plain, 4, 4, 0) - 1);
      lefts.add(at(plain, 4, 4, 1) - 1);
      const maybe = randomCropFlip(pos, new Rng(s), { flipP: 0.5 });
      if (Buffer.compare(Buffer.from(maybe.data), Buffer.from(plain.data)) !== 0) {
        assert.deepEqual(maybe.data, hflip(plain).data, 'the same crop, mirrored');
        flips++;
      }
    }
    assert.deepEqual([...tops].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
    assert.deepEqual([...lefts].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
    assert.ok(flips > 150 && flips < 250, String(flips));
  });

  it('RandomResizedCrop boxes stay in bounds, respect scale/ratio when accepted, and fall back to the centre', () => {
    for (let s = 0; s < 3000; s++) {
      const r = new Rng(s);
      const w = 1 + r.int(600);
      const h = 1 + r.int(600);
      const b = randomResizedCropBox(r, w, h);
      assert.ok(b.top >= 0 && b.left >= 0 && b.width >= 1 && b.height >= 1, JSON.stringify(b));
      assert.ok(b.top + b.height <= h && b.left + b.width <= w, `${w}x${h} ${JSON.stringify(b)}`);
    }
    // a square 500x500 image: accepted boxes have area fraction <= 1 and ratio within [3/4, 4/3] up to rounding
    for (let s = 0; s < 500; s++) {
      const b = randomResizedCropBox(new Rng(s), 500, 500);
      const ratio = b.width / b.height;
      assert.ok(ratio > 0.74 && ratio < 1.35, String(ratio));
      assert.ok((b.width * b.height) / 250000 >= 0.07);
    }
    // 1000x10: no attempt can fit (h >= 24 > 10), so the fallback: h = 10, w = round(10 * 4/3) = 13, centred
    assert.deepEqual(randomResizedCropBox(new Rng(5), 1000, 10), { top: 0, left: 493, height: 10, width: 13 });
    // 10x1000: w = 10, h = round(10 / (3/4)) = 13, centred
    assert.deepEqual(randomResizedCropBox(new Rng(5), 10, 1000), { top: 493, left: 0, height: 13, width: 10 });
    // scale (1, 1) on a square: the whole image
    assert.deepEqual(randomResizedCropBox(new Rng(0), 64, 64, [1, 1], [1, 1]), { top: 0, left: 0, height: 64, width: 64 });
    assert.deepEqual(randomResizedCropBox(new Rng(9), 321, 123), randomResizedCropBox(new Rng(9), 321, 123));
  });

  it('resizedCrop: identity at scale 1, constants stay constant, the box alone is read', () => {
    const a = img(4, 20, 12);
    assert.deepEqual(resizedCrop(a, { top: 0, left: 0, height: 12, width: 20 }, 20, 12).data, a.data);
    const flat: HwcImage = { data: new Uint8Array(40 * 30 * 3).fill(77), width: 40, height: 30, channels: 3 };
    assert.ok(resizedCrop(flat, { top: 3, left: 5, height: 20, width: 25 }, 7, 9).data.every((v) => v === 77));
    // pixels outside the box do not leak in: a 255 frame around a 0 box
    const framed: HwcImage = { data: new Uint8Array(30 * 30 * 3).fill(255), width: 30, height: 30, channels: 3 };
    for (let y = 10; y < 20; y++) for (let x = 10; x < 20; x++) for (let k = 0; k < 3; k++) framed.data[(y * 30 + x) * 3 + k] = 0;
    assert.ok(resizedCrop(framed, { top: 10, left: 10, height: 10, width: 10 }, 4, 4).data.every((v) => v === 0));
    assert.ok(resizedCrop(framed, { top: 10, left: 10, height: 10, width: 10 }, 23, 17).data.every((v) => v === 0));
  });

  it('ColorJitter pieces: factor 1 is the identity, exact Pillow-style arithmetic', () => {
    const a = img(5, 9, 7);
    for (const f of [adjustBrightness, adjustContrast, adjustSaturation]) assert.deepEqual(f(a, 1).data, a.data);
    const b = adjustBrightness(a, 0.5);
    a.data.forEach((v, i) => assert.equal(b.data[i], Math.trunc(v * 0.5)));
    assert.ok(adjustBrightness(a, 3).data.every((v, i) => v === Math.min(255, a.data[i]! * 3)));
    const g = adjustSaturation(a, 0);
    for (let i = 0; i < g.data.length; i += 3) {
      const l = (a.data[i]! * 19595 + a.data[i + 1]! * 38470 + a.data[i + 2]! * 7471 + 0x8000) >> 16;
      assert.deepEqual([g.data[i], g.data[i + 1], g.data[i + 2]], [l, l, l]);
    }
    const flat = adjustContrast(a, 0);
    assert.ok(flat.data.every((v) => v === flat.data[0]), 'contrast 0 = the mean grey everywhere');
  });

  it('ColorJitter: zero strengths are the identity; seeded; different seeds differ', () => {
    const a = img(6, 16, 16);
    assert.deepEqual(colorJitter(a, new Rng(3), { brightness: 0, contrast: 0, saturation: 0 }).data, a.data);
    const cfg = { brightness: 0.4, contrast: 0.4, saturation: 0.4 };
    const o = colorJitter(a, new Rng(11), cfg);
    assert.deepEqual(colorJitter(a, new Rng(11), cfg).data, o.data);
    assert.notDeepEqual(colorJitter(a, new Rng(12), cfg).data, o.data);
    assert.notDeepEqual(o.data, a.data);
  });
});
