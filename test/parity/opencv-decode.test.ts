/**
 * Parity of `dec-opencv` with Debian's python3-opencv (scripts/gen-opencv-fixtures.py):
 * - `preprocess --decode-only --pipeline dec-opencv` (the CLI, in process) writes exactly
 *   cv2.cvtColor(cv2.imdecode(buf, IMREAD_COLOR), COLOR_BGR2RGB) for every committed fixture (colour
 *   4:2:0 and 4:4:4, odd size, greyscale, EXIF orientation 6, RGB stripes): identical bytes;
 * - EXIF orientation: OpenCV rotates the orientation-6 file (80x48 stored, 48x80 decoded), Pillow
 *   (`dec-pil`) does not; with IMREAD_IGNORE_ORIENTATION OpenCV gives Pillow's bytes;
 * - RGB, not BGR: every pipeline id (all 29) hands the model red on the left of the stripes fixture,
 *   green in the middle and blue on the right;
 * - OpenCV decodes colour JPEGs exactly as our libjpeg (islow, fancy upsampling), i.e. dec-opencv = dec-pil
 *   on files without EXIF orientation.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cvDecode } from '../../ts/native/opencv.ts';
import { PIPELINE_IDS } from '../../ts/systematic/pipelines.ts';
import { decodeWith, preprocess } from '../../ts/systematic/preprocess.ts';
import { compareBytes, runCliInProcess } from '../unit/systematic/pil-fixtures.ts';
import { committedJpegs, cvFixture, cvFixtures, ffmpegPresent, readPngRgb } from '../unit/systematic/opencv-fixtures.ts';

describe('parity: dec-opencv against python3-opencv', function () {
  this.timeout(60000);
  let tmp = '';
  before(function () {
    if (!cvFixtures()) this.skip();
    tmp = mkdtempSync(join(tmpdir(), 'qrb-cv-'));
  });
  after(() => { if (tmp) rmSync(tmp, { recursive: true, force: true }); });

  it('preprocess --decode-only with dec-opencv equals cv2.imdecode as RGB on every fixture (identical bytes)', async () => {
    const m = cvFixtures()!;
    const jpegs = committedJpegs();
    assert.ok(jpegs.length >= 6);
    for (const j of jpegs) {
      const want = m.decode.find((d) => d.jpeg === j.name && d.flags === 'color')!;
      const out = join(tmp, `${j.name}.png`);
      const r = await runCliInProcess(['preprocess', '--in', j.path, '--pipeline', 'dec-opencv', '--decode-only', '--out', out]);
      assert.equal(r.code, 0, r.stderr);
      const got = await readPngRgb(out);
      assert.deepEqual([got.width, got.height], [want.width, want.height], j.name);
      assert.equal(compareBytes(got.data, cvFixture(want.file)).mismatches, 0, j.name);
    }
  });

  it('EXIF orientation: OpenCV rotates as cv2 does, Pillow ignores it; IMREAD_IGNORE_ORIENTATION gives Pillow\'s bytes', async () => {
    const m = cvFixtures()!;
    const ex = committedJpegs().find((j) => j.name.startsWith('exif6_'))!;
    const cv = await decodeWith(ex.bytes, ex.name, 'dec-opencv');
    const pil = await decodeWith(ex.bytes, ex.name, 'dec-pil');
    assert.deepEqual([pil.width, pil.height], [80, 48]);
    assert.deepEqual([cv.width, cv.height], [48, 80]);
    const ign = m.decode.find((d) => d.jpeg === ex.name && d.flags === 'ignore')!;
    const cvIgnore = await cvDecode(ex.bytes, { ignoreOrientation: true });
    assert.equal(compareBytes(cvIgnore.data, cvFixture(ign.file)).mismatches, 0);
    assert.equal(compareBytes(cvIgnore.data, pil.data).mismatches, 0);
    // orientation 6 = rotate 90 degrees clockwise: decoded (x, y) is stored (y, H-1-x)
    let same = 0;
    for (let y = 0; y < 80; y++) {
      for (let x = 0; x < 48; x++) {
        const a = (y * 48 + x) * 3;
        const b = ((47 - x) * 80 + y) * 3;
        if (cv.data[a] === pil.data[b] && cv.data[a + 1] === pil.data[b + 1] && cv.data[a + 2] === pil.data[b + 2]) same++;
      }
    }
    assert.equal(same, 48 * 80);
  });

  it('on files without EXIF orientation dec-opencv decodes exactly as dec-pil (same libjpeg-turbo islow)', async () => {
    for (const j of committedJpegs().filter((x) => !x.name.startsWith('exif'))) {
      const a = await decodeWith(j.bytes, j.name, 'dec-opencv');
      const b = await decodeWith(j.bytes, j.name, 'dec-pil');
      assert.equal(compareBytes(a.data, b.data).mismatches, 0, j.name);
    }
  });

  it('every pipeline hands the model RGB: red, green, blue stripes stay in that order', async function () {
    const st = committedJpegs().find((j) => j.name.startsWith('stripes_rgb'))!;
    const ids = PIPELINE_IDS.filter((id) => ffmpegPresent() || !id.startsWith('dec-ffmpeg'));
    assert.ok(ids.length >= (ffmpegPresent() ? 29 : 27));
    for (const id of ids) {
      const x = await preprocess(st.bytes, st.name, { pipeline: id, size: 16, mode: 'square' });
      // 48x16 -> 18x18 -> centre 16x16: columns 0-3 red, 7-8 green, 12-15 blue
      for (const [cols, ch] of [[[0, 1, 2, 3], 0], [[7, 8], 1], [[12, 13, 14, 15], 2]] as const) {
        const mean = [0, 0, 0];
        for (let y = 4; y < 12; y++) for (const c of cols) for (let k = 0; k < 3; k++) mean[k]! += x.data[(y * 16 + c) * 3 + k]! / (8 * cols.length);
        for (let k = 0; k < 3; k++) {
          if (k === ch) assert.ok(mean[k]! > 170, `${id}: channel ${k} of stripe ${ch} is ${mean[k]}`);
          else assert.ok(mean[k]! < 90, `${id}: channel ${k} of stripe ${ch} is ${mean[k]}`);
        }
      }
    }
  });
});
