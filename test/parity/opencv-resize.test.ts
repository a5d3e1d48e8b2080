/**
 * Parity of the `rs-opencv-*` resizers with Debian's python3-opencv (scripts/gen-opencv-fixtures.py):
 * - `preprocess --resize-only WxH` (the CLI, in process) with every rs-opencv id (nearest, linear, area,
 *   cubic, lanczos4, nearest_exact, linear_exact) equals cv2.resize on lossless PNG inputs, upscaling and
 *   downscaling, square and odd sizes: identical bytes, 77 cases;
 * - the whole pipeline (decode, square resize to floor(S*8/7), centre crop S) equals cv2's for S = 32 and
 *   224 on the colour JPEG fixtures (4:2:0, 4:4:4, odd-sized): identical bytes.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeWith, preprocess, resizeWith } from '../../ts/systematic/preprocess.ts';
import { compareBytes, runCliInProcess } from '../unit/systematic/pil-fixtures.ts';
import { CV_FIXTURE_DIR, committedJpegs, cvFixture, cvFixtures, readPngRgb } from '../unit/systematic/opencv-fixtures.ts';

const ID: Record<string, string> = {
  nearest: 'rs-opencv-nearest', linear: 'rs-opencv-linear', cubic: 'rs-opencv-cubic', area: 'rs-opencv-area',
  lanczos4: 'rs-opencv-lanczos4', nearest_exact: 'rs-opencv-nearest_exact', linear_exact: 'rs-opencv-linear_exact',
};

describe('parity: rs-opencv-* against cv2.resize', function () {
  this.timeout(60000);
  let tmp = '';
  before(function () {
    if (!cvFixtures()) this.skip();
    tmp = mkdtempSync(join(tmpdir(), 'qrb-cvr-'));
  });
  after(() => { if (tmp) rmSync(tmp, { recursive: true, force: true }); });

  it('--resize-only with every rs-opencv id equals cv2.resize (up, down, odd sizes; identical bytes)', async () => {
    const m = cvFixtures()!;
    const seen = new Set<string>();
    const bad: string[] = [];
    let viaCli = 0;
    for (const c of m.resize) {
      const src = m.inputs[c.source]!;
      const png = join(CV_FIXTURE_DIR, src.png);
      const id = ID[c.interpolation]!;
      let got: { data: Uint8Array; width: number; height: number };
      if (!seen.has(`${c.source}/${c.interpolation}`)) {
        // The first case of each source x interpolation goes through the real CLI ...
        const out = join(tmp, 'rs.png');
        const r = await runCliInProcess(['preprocess', '--in', png, '--pipeline', id, '--resize-only', `${c.width}x${c.height}`, '--out', out]);
        assert.equal(r.code, 0, r.stderr);
        got = await readPngRgb(out);
        viaCli++;
      } else {
        // ... the rest through the same functions it calls.
        const { readFileSync } = await import('node:fs');
        const dec = await decodeWith(new Uint8Array(readFileSync(png)), png, id);
        got = await resizeWith(dec, c.width, c.height, id);
      }
      seen.add(`${c.source}/${c.interpolation}`);
      assert.deepEqual([got.width, got.height], [c.width, c.height]);
      const cmp = compareBytes(got.data, cvFixture(c.file));
      if (cmp.mismatches) bad.push(`${c.file}: ${cmp.mismatches} bytes differ (max ${cmp.maxDiff})`);
    }
    assert.deepEqual(bad, []);
    assert.equal(new Set(m.resize.map((c) => c.interpolation)).size, 7);
    assert.equal(viaCli, 14);
    assert.ok(m.resize.some((c) => c.width > m.inputs[c.source]!.width) && m.resize.some((c) => c.width < m.inputs[c.source]!.width));
  });

  it('whole rs-opencv-* pipelines (square resize + centre crop, S = 32 and 224) equal cv2 on colour JPEGs', async () => {
    const m = cvFixtures()!;
    const jpegs = new Map(committedJpegs().map((j) => [j.name, j]));
    const bad: string[] = [];
    for (const c of m.pipelines) {
      const j = jpegs.get(c.jpeg)!;
      const x = await preprocess(j.bytes, j.name, { pipeline: ID[c.interpolation]!, size: c.size, mode: 'square' });
      const cmp = compareBytes(x.data, cvFixture(c.file));
      if (cmp.mismatches) bad.push(`${c.file}: ${cmp.mismatches} differ (max ${cmp.maxDiff})`);
    }
    assert.deepEqual(bad, []);
    assert.equal(m.pipelines.length, 42);
  });
});
