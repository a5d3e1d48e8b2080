/**
 * Parity of the libjpeg binding:
 * - decoder: identical bytes to `djpeg -dct int|fast|float [-nosmooth]` on every fixture JPEG (4:2:0,
 *   4:4:4, 4:2:2, 4:4:0, greyscale, progressive, restart markers, odd and 1x1 sizes), and to Pillow's
 *   Image.open(f).convert('RGB') for islow + fancy upsampling (the `dec-pil` decoder);
 * - encoder: our encode at quality q, decoded, equals Pillow's save(quality=q) decoded, for 8 qualities
 *   (1..100) on four images (and the files are byte-identical);
 * - robustness: truncations and bit flips of every fixture (seeded) give an image or a named error.
 */
import { strict as assert } from 'node:assert';
import { DCT_METHODS, jpegDecode, jpegEncode, type DctMethod } from '../../ts/native/image.ts';
import { Rng } from '../../ts/util/rng.ts';
import { compareBytes, fixture, pilFixtures, readPnm } from '../unit/systematic/pil-fixtures.ts';

const DJPEG_DCT: Record<string, DctMethod> = { int: 'islow', fast: 'ifast', float: 'float' };

describe('parity: libjpeg decode/encode against djpeg and Pillow', function () {
  this.timeout(120000);
  before(function () {
    if (!pilFixtures()) this.skip();
  });

  it('decodes every fixture exactly as djpeg does, for all 3 IDCTs x fancy upsampling on/off', async function () {
    const m = pilFixtures()!;
    if (!m.versions.djpeg) return this.skip();
    const kinds = new Set<string>();
    let compared = 0;
    const bad: string[] = [];
    for (const j of m.jpeg) {
      const bytes = fixture(j.file);
      for (const [key, rel] of Object.entries(j.djpeg)) {
        const [dct, ns] = key.split('-') as [string, string | undefined];
        const got = await jpegDecode(bytes, { dct: DJPEG_DCT[dct]!, fancyUpsampling: ns !== 'nosmooth' });
        kinds.add(got.progressive ? 'progressive' : got.subsampling);
        const want = readPnm(fixture(rel));
        assert.equal(got.width, want.width, j.id);
        assert.equal(got.height, want.height, j.id);
        const cmp = compareBytes(got.data, want.data);
        if (cmp.mismatches) bad.push(`${j.id} ${key}: ${cmp.mismatches} bytes differ (max ${cmp.maxDiff})`);
        compared++;
      }
    }
    assert.deepEqual(bad, []);
    assert.ok(compared >= 60, `${compared} comparisons`);
    for (const k of ['4:2:0', '4:4:4', '4:2:2', 'grey', 'progressive']) assert.ok(kinds.has(k), `no ${k} fixture`);
  });

  it('islow + fancy upsampling equals Pillow convert("RGB") on every fixture', async function () {
    const m = pilFixtures()!;
    for (const j of m.jpeg) {
      const got = await jpegDecode(fixture(j.file));
      assert.equal(compareBytes(got.data, fixture(j.pillow)).mismatches, 0, j.id);
    }
  });

  it('encode(q) then decode equals Pillow save(quality=q) then decode', async function () {
    const m = pilFixtures()!;
    const qualities = new Set<number>();
    let sameFile = 0;
    for (const c of m.encode) {
      const src = m.inputs[c.source]!;
      const jpg = await jpegEncode({ data: fixture(src.file), width: src.width, height: src.height, channels: 3 }, c.quality);
      const dec = await jpegDecode(jpg);
      assert.equal(compareBytes(dec.data, fixture(c.decoded)).mismatches, 0, c.id);
      if (compareBytes(jpg, fixture(c.jpeg)).mismatches === 0) sameFile++;
      qualities.add(c.quality);
    }
    assert.ok(qualities.size >= 5);
    // Stronger than required: with Pillow's defaults (JFIF header, no optimisation) the files are identical too.
    assert.equal(sameFile, m.encode.length, `${sameFile}/${m.encode.length} encoded files byte-identical to Pillow's`);
  });

  it('ignores EXIF orientation and converts CMYK to RGB exactly as Pillow does', async function () {
    const m = pilFixtures()!;
    const ex = m.jpeg.find((j) => j.id.startsWith('exif_orient6'))!;
    const img = await jpegDecode(fixture(ex.file));
    assert.deepEqual([img.width, img.height], [ex.width, ex.height]);
    assert.equal(compareBytes(img.data, fixture(ex.pillow)).mismatches, 0);
    assert.equal(m.cmyk.mode, 'CMYK');
    const cmyk = await jpegDecode(fixture(m.cmyk.file));
    assert.equal(cmyk.components, 4);
    assert.equal(compareBytes(cmyk.data, fixture(m.cmyk.pillow)).mismatches, 0);
  });

  it('truncated or bit-flipped fixtures give an image or a named error, never a crash', async function () {
    const m = pilFixtures()!;
    const rng = new Rng(6);
    let images = 0;
    let errors = 0;
    for (const j of m.jpeg) {
      const good = fixture(j.file);
      for (let k = 0; k < 12; k++) {
        const bad = new Uint8Array(good);
        let data: Uint8Array = bad;
        if (k % 2 === 0) data = bad.subarray(0, rng.int(good.length));
        else for (let f = 0; f < 1 + rng.int(6); f++) bad[rng.int(bad.length)] ^= 1 << rng.int(8);
        try {
          const img = await jpegDecode(data, { dct: DCT_METHODS[k % 3]! });
          assert.equal(img.data.length, img.width * img.height * 3);
          images++;
        } catch (e) {
          assert.match((e as Error).message, /JPEG|empty/);
          errors++;
        }
      }
    }
    assert.ok(images > 0 && errors > 0, `${images} images, ${errors} errors`);
  });
});
