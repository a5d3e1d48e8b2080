/**
 * Parity of `dec-ffmpeg` / `dec-ffmpeg-accurate` with the ffmpeg program itself:
 * - `dec-ffmpeg` / `dec-ffmpeg-accurate` decode exactly what
 *   `ffmpeg -i file [-sws_flags bilinear+accurate_rnd+full_chroma_int] -f rawvideo -pix_fmt rgb24 -` writes, on
 *   every committed fixture (colour 4:2:0 and 4:4:4, odd size, greyscale, EXIF, stripes): identical bytes,
 *   through `preprocess --decode-only` (the CLI, in process) for the colour 4:2:0 and 4:4:4 files and
 *   through the batch decoder for all;
 * - one ffmpeg process for many images of different sizes gives the same bytes as one process per file
 *   (`-autoscale 0` keeps each frame's own size), also on the issue-6 fixtures (progressive, restart
 *   markers, 4:2:2, 4:4:0, CMYK, 1x1) when they are generated;
 * - a corrupt or non-JPEG file in a batch fails alone, with its name; the others still decode exactly;
 * - a missing ffmpeg program is a named error.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FfmpegNotFoundError, ffmpegDecodeMany, jpegFrameSize } from '../../ts/systematic/ffmpeg.ts';
import { decodeManyWith } from '../../ts/systematic/preprocess.ts';
import { readFileSync, readdirSync } from 'node:fs';
import { FIXTURE_DIR, compareBytes, pilFixtures, runCliInProcess } from '../unit/systematic/pil-fixtures.ts';
import { committedJpegs, ffmpegPresent, ffmpegProgramRgb, readPngRgb } from '../unit/systematic/opencv-fixtures.ts';

const ACCURATE = 'bilinear+accurate_rnd+full_chroma_int';

describe('parity: dec-ffmpeg against the ffmpeg program', function () {
  this.timeout(60000);
  let tmp = '';
  before(function () {
    if (!ffmpegPresent()) this.skip();
    tmp = mkdtempSync(join(tmpdir(), 'qrb-ff-'));
  });
  after(() => { if (tmp) rmSync(tmp, { recursive: true, force: true }); });

  it('preprocess --decode-only equals ffmpeg -f rawvideo -pix_fmt rgb24 (default and accurate swscale; identical bytes)', async () => {
    const jpegs = committedJpegs();
    for (const [id, flags] of [['dec-ffmpeg', undefined], ['dec-ffmpeg-accurate', ACCURATE]] as const) {
      for (const j of jpegs.filter((x) => /^photo(420|444)_128/.test(x.name))) {
        const out = join(tmp, `${id}-${j.name}.png`);
        const r = await runCliInProcess(['preprocess', '--in', j.path, '--pipeline', id, '--decode-only', '--out', out]);
        assert.equal(r.code, 0, r.stderr);
        const got = await readPngRgb(out);
        const size = jpegFrameSize(j.bytes)!;
        assert.deepEqual([got.width, got.height], [size.width, size.height], j.name);
        assert.equal(compareBytes(got.data, ffmpegProgramRgb(j.path, flags)).mismatches, 0, `${id} ${j.name}`);
      }
      const all = await decodeManyWith(jpegs.map((j) => ({ bytes: j.bytes, file: j.name })), id);
      all.forEach((o, i) => {
        assert.ok(!(o instanceof Error), String(o));
        assert.equal(compareBytes(o.data, ffmpegProgramRgb(jpegs[i]!.path, flags)).mismatches, 0, `${id} ${jpegs[i]!.name}`);
      });
    }
    const kinds = new Set(jpegs.map((j) => j.name.replace(/_.*/, '')));
    for (const k of ['photo420', 'photo444', 'grey', 'exif6']) assert.ok(kinds.has(k), k);
    // the two swscale settings really differ on 4:2:0 colour (so the flag reaches ffmpeg)
    const p420 = jpegs.find((j) => j.name.startsWith('photo420_128'))!;
    assert.ok(compareBytes(ffmpegProgramRgb(p420.path), ffmpegProgramRgb(p420.path, ACCURATE)).mismatches > 0);
  });

  it('one process for many images of different sizes gives the per-file bytes', async () => {
    const jpegs = committedJpegs();
    const items = [...jpegs, ...jpegs.slice().reverse()].map((j) => ({ bytes: j.bytes, file: j.name, path: j.path }));
    const out = await ffmpegDecodeMany(items);
    assert.equal(out.length, items.length);
    out.forEach((o, i) => {
      assert.ok(!(o instanceof Error), String(o));
      assert.equal(compareBytes(o.data, ffmpegProgramRgb(items[i]!.path)).mismatches, 0, items[i]!.file);
    });
  });

  it('one process for the issue-6 fixtures (progressive, restarts, 4:2:2, 4:4:0, CMYK, 1x1) gives the per-file bytes', async function () {
    if (!pilFixtures()) return this.skip();
    const dir = join(FIXTURE_DIR, 'jpeg');
    const items = readdirSync(dir).filter((f) => f.endsWith('.jpg')).sort().map((f) => ({ file: f, path: join(dir, f), bytes: new Uint8Array(readFileSync(join(dir, f))) }));
    assert.ok(items.length >= 12);
    const out = await ffmpegDecodeMany(items);
    out.forEach((o, i) => {
      assert.ok(!(o instanceof Error), String(o));
      assert.equal(compareBytes(o.data, ffmpegProgramRgb(items[i]!.path)).mismatches, 0, items[i]!.file);
    });
  });

  it('a corrupt or non-JPEG file fails alone, naming it; the rest decode exactly', async () => {
    const [a, b] = committedJpegs().filter((j) => j.name.startsWith('photo'));
    const broken = new Uint8Array(a!.bytes);
    broken.fill(0x00, 200, 400); // inside the entropy-coded data: ffmpeg reports errors
    const items = [
      { bytes: a!.bytes, file: 'a.jpg' },
      { bytes: broken, file: 'broken.jpg' },
      { bytes: new Uint8Array([1, 2, 3, 4]), file: 'notjpeg.bin' },
      { bytes: b!.bytes, file: 'b.jpg' },
    ];
    const out = await decodeManyWith(items, 'dec-ffmpeg');
    assert.ok(!(out[0] instanceof Error) && compareBytes(out[0]!.data, ffmpegProgramRgb(a!.path)).mismatches === 0);
    assert.ok(!(out[3] instanceof Error) && compareBytes(out[3]!.data, ffmpegProgramRgb(b!.path)).mismatches === 0);
    // notjpeg.bin is not a JPEG: it goes to the lossless decoder (sharp), which cannot read it either
    assert.ok(out[2] instanceof Error && /notjpeg\.bin/.test(out[2].message), String(out[2]));
    assert.ok(out[1] instanceof Error && /ffmpeg cannot decode broken\.jpg/.test(out[1].message), String(out[1]));
  });

  it('a missing ffmpeg program is a named error', async () => {
    const j = committedJpegs()[0]!;
    await assert.rejects(ffmpegDecodeMany([{ bytes: j.bytes, file: j.name }], { program: join(tmp, 'no-such-ffmpeg') }),
      (e: unknown) => e instanceof FfmpegNotFoundError && /apt-get install ffmpeg/.test(e.message));
  });
});
