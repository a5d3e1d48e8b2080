/**
 * sharp and jpeg-js pipelines against their libraries called directly:
 * - `dec-sharp` equals `sharp(bytes).raw()` (grey replicated), and, as ECOSYSTEM.md measured, libvips'
 *   JPEG decode equals dec-pil (libjpeg-turbo islow, fancy upsampling) on every fixture without EXIF;
 * - `rs-sharp-<kernel>` equals `sharp(raw).resize(w, h, {kernel, fit: 'fill'})` of the dec-pil pixels, for
 *   all 8 kernels, down and up; and from raw pixels there is no JPEG shrink-on-load (compared with
 *   resizing the JPEG file itself, which libvips shrinks in the DCT domain at 4x);
 * - `dec-jpegjs` equals `jpeg.decode(bytes, {useTArray, formatAsRGBA: false})`, and jpeg-js upsamples
 *   chroma without fancy upsampling: within 4 levels of dec-nvjpeg-like (libjpeg -nosmooth).
 */
import { strict as assert } from 'node:assert';
import jpeg from 'jpeg-js';
import sharp from 'sharp';
import { SHARP_KERNELS } from '../../ts/systematic/pipelines.ts';
import { decodeWith, preprocess, resizeWith } from '../../ts/systematic/preprocess.ts';
import { imageAvailable } from '../../ts/native/image.ts';
import { compareBytes } from '../unit/systematic/pil-fixtures.ts';
import { committedJpegs } from '../unit/systematic/opencv-fixtures.ts';

describe('parity: sharp and jpeg-js pipelines against the libraries', function () {
  this.timeout(60000);
  before(function () {
    if (!imageAvailable()) this.skip();
  });

  it('dec-sharp equals sharp(bytes).raw(), and equals dec-pil on files without EXIF', async () => {
    for (const j of committedJpegs()) {
      const got = await decodeWith(j.bytes, j.name, 'dec-sharp');
      const { data, info } = await sharp(j.bytes).raw().toBuffer({ resolveWithObject: true });
      assert.deepEqual([got.width, got.height], [info.width, info.height]);
      for (let i = 0, n = info.width * info.height; i < n; i++) {
        for (let c = 0; c < 3; c++) {
          if (got.data[i * 3 + c] !== data[i * info.channels + (info.channels === 1 ? 0 : c)]) assert.fail(`${j.name}: pixel ${i}`);
        }
      }
      if (!j.name.startsWith('exif')) assert.equal(compareBytes(got.data, (await decodeWith(j.bytes, j.name, 'dec-pil')).data).mismatches, 0, j.name);
    }
  });

  it('rs-sharp-<kernel> equals sharp resize of the dec-pil pixels for all 8 kernels (down and up)', async () => {
    const j = committedJpegs().find((x) => x.name.startsWith('photo420_128'))!;
    const dec = await decodeWith(j.bytes, j.name, 'dec-pil');
    for (const kernel of SHARP_KERNELS) {
      for (const [w, h] of [[36, 36], [200, 150], [45, 77]] as const) {
        const got = await resizeWith(dec, w, h, `rs-sharp-${kernel}`);
        const want = await sharp(dec.data, { raw: { width: dec.width, height: dec.height, channels: 3 } }).resize(w, h, { kernel, fit: 'fill' }).raw().toBuffer();
        assert.equal(compareBytes(got.data, new Uint8Array(want)).mismatches, 0, `${kernel} ${w}x${h}`);
      }
    }
    // the whole pipeline: square resize then the centre crop of that
    const x = await preprocess(j.bytes, j.name, { pipeline: 'rs-sharp-lanczos3', size: 32, mode: 'square' });
    const full = await sharp(dec.data, { raw: { width: dec.width, height: dec.height, channels: 3 } }).resize(36, 36, { kernel: 'lanczos3', fit: 'fill' })
      .extract({ left: 2, top: 2, width: 32, height: 32 }).raw().toBuffer();
    assert.equal(compareBytes(x.data, new Uint8Array(full)).mismatches, 0);
    // resizing the JPEG file directly lets libvips shrink on load at 4x: a different result (why we decode to raw first)
    const onLoad = await sharp(j.bytes).resize(32, 24, { kernel: 'lanczos3', fit: 'fill' }).raw().toBuffer();
    const fromRaw = await resizeWith(dec, 32, 24, 'rs-sharp-lanczos3');
    assert.ok(compareBytes(fromRaw.data, new Uint8Array(onLoad)).mismatches > 0);
  });

  it('dec-jpegjs equals jpeg-js called directly, and is within 4 levels of libjpeg without fancy upsampling', async () => {
    for (const j of committedJpegs()) {
      const got = await decodeWith(j.bytes, j.name, 'dec-jpegjs');
      const want = jpeg.decode(j.bytes, { useTArray: true, formatAsRGBA: false });
      assert.deepEqual([got.width, got.height], [want.width, want.height]);
      assert.equal(compareBytes(got.data, want.data).mismatches, 0, j.name);
      const nv = await decodeWith(j.bytes, j.name, 'dec-nvjpeg-like');
      assert.ok(compareBytes(got.data, nv.data).maxDiff <= 4, `${j.name}: ${compareBytes(got.data, nv.data).maxDiff}`);
    }
  });
});
