/**
 * Pillow parity of the resampler: every resize case of scripts/gen-pil-fixtures.py (>= 200, all six
 * filters, up and down, odd / prime / tiny / large sizes, noise and 0/255 checkerboards) and every
 * Image.reduce case must match Pillow byte for byte. Also: a window of the output equals the same crop
 * of the full output (the ONECROP fast path).
 */
import { strict as assert } from 'node:assert';
import { pilReduce, pilResize, type PilFilter } from '../../ts/native/image.ts';
import { compareBytes, fixture, pilFixtures, skipReason } from '../unit/systematic/pil-fixtures.ts';

describe('parity: Pillow resize and reduce (bit-exact)', function () {
  this.timeout(120000);
  before(function () {
    if (!pilFixtures()) this.skip();
  });

  it('matches Pillow im.resize with zero mismatched bytes on every case', async function () {
    const m = pilFixtures();
    if (!m) return this.skip();
    assert.ok(m.resize.length >= 200, `only ${m.resize.length} resize cases`);
    const filters = new Set(m.resize.map((c) => c.filter));
    assert.equal(filters.size, 6);
    const bad: string[] = [];
    let bytes = 0;
    for (const c of m.resize) {
      const src = m.inputs[c.source]!;
      const out = await pilResize({ data: fixture(src.file), width: src.width, height: src.height, channels: 3 }, c.width, c.height, c.filter as PilFilter);
      const want = fixture(c.file);
      const cmp = compareBytes(out.data, want);
      bytes += want.length;
      if (cmp.mismatches) bad.push(`${c.id}: ${cmp.mismatches} bytes differ (max ${cmp.maxDiff})`);
    }
    assert.deepEqual(bad, [], `Pillow ${m.versions.pillow}: ${bad.length}/${m.resize.length} cases differ`);
    assert.ok(bytes > 1e6);
  });

  it('matches Pillow im.reduce with zero mismatched bytes', async function () {
    const m = pilFixtures();
    if (!m) return this.skip();
    const bad: string[] = [];
    for (const c of m.reduce) {
      const src = m.inputs[c.source]!;
      const out = await pilReduce({ data: fixture(src.file), width: src.width, height: src.height, channels: 3 }, c.fx, c.fy);
      assert.equal(out.width, c.width);
      assert.equal(out.height, c.height);
      const cmp = compareBytes(out.data, fixture(c.file));
      if (cmp.mismatches) bad.push(`${c.id}: ${cmp.mismatches} bytes differ (max ${cmp.maxDiff})`);
    }
    assert.deepEqual(bad, []);
  });

  it('a window of the output is the same crop of the full Pillow output', async function () {
    const m = pilFixtures();
    if (!m) return this.skip();
    for (const c of m.resize.filter((r) => r.width >= 20 && r.height >= 20)) {
      const src = m.inputs[c.source]!;
      const win = { x: Math.floor(c.width / 5), y: Math.floor(c.height / 7), width: Math.ceil(c.width / 2), height: Math.ceil(c.height / 3) };
      const out = await pilResize({ data: fixture(src.file), width: src.width, height: src.height, channels: 3 }, c.width, c.height, c.filter as PilFilter, win);
      const full = fixture(c.file);
      for (let y = 0; y < win.height; y++) {
        const a = out.data.subarray(y * win.width * 3, (y + 1) * win.width * 3);
        const o = ((win.y + y) * c.width + win.x) * 3;
        assert.equal(compareBytes(a, full.subarray(o, o + win.width * 3)).mismatches, 0, `${c.id} row ${y}`);
      }
    }
  });

  it('skips with a reason when Pillow or libjpeg is missing', () => {
    if (pilFixtures()) return;
    assert.ok(skipReason().length > 0);
  });
});
