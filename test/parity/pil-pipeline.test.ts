/**
 * End-to-end parity of the implemented pipelines with Pillow: decode + resize + centre crop for
 * ONECROP and the ImageNet-S square resize, at S = 224 and 32, for every Pillow filter (`rs-pil-*`,
 * `dec-pil`) and for the libjpeg extras (`dec-nvjpeg-like` = djpeg -nosmooth, `dec-tf-fast` =
 * djpeg -dct fast, each followed by Pillow bilinear), on colour, greyscale, portrait and progressive
 * JPEGs. Then the CLI: `qrobust preprocess` for every implemented id, `--resize-only` and
 * `--decode-only` on a lossless PNG, and its error exits.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { pilExactPipelineIds } from '../../ts/systematic/pipelines.ts';
import { pilPreprocessProvider, preprocess } from '../../ts/systematic/preprocess.ts';
import { FIXTURE_DIR, compareBytes, fixture, pilFixtures, runCliInProcess, runCliProcess } from '../unit/systematic/pil-fixtures.ts';

function pipelineIdFor(decoder: string, filter: string): string[] {
  if (decoder === 'nvjpeg-like') return ['dec-nvjpeg-like'];
  if (decoder === 'tf-fast') return ['dec-tf-fast'];
  return filter === 'bilinear' ? ['dec-pil', 'rs-pil-bilinear'] : [`rs-pil-${filter}`];
}

async function readPng(path: string): Promise<{ data: Uint8Array; width: number; height: number; channels: number }> {
  const { data, info } = await sharp(path).raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height, channels: info.channels };
}

describe('parity: pipelines (decode + resize + crop) against Pillow', function () {
  this.timeout(120000);
  let tmp = '';
  before(function () {
    if (!pilFixtures()) this.skip();
    tmp = mkdtempSync(join(tmpdir(), 'qrb-pre-'));
  });
  after(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('preprocess() equals Pillow for every case (ONECROP and square, S = 224 and 32)', async function () {
    const m = pilFixtures()!;
    const bad: string[] = [];
    const ids = new Set<string>();
    for (const c of m.pipelines) {
      const bytes = fixture(`jpeg/${c.jpeg}.jpg`);
      for (const id of pipelineIdFor(c.decoder, c.filter)) {
        const out = await preprocess(bytes, c.jpeg, { pipeline: id, size: c.size, mode: c.mode });
        assert.equal(out.width, c.size);
        assert.equal(out.height, c.size);
        assert.equal(out.channels, 3);
        const cmp = compareBytes(out.data, fixture(c.file));
        if (cmp.mismatches) bad.push(`${c.id} via ${id}: ${cmp.mismatches} bytes differ (max ${cmp.maxDiff})`);
        ids.add(id);
      }
    }
    assert.deepEqual(bad, []);
    // dec-nvjpeg-like / dec-tf-fast references come from djpeg (libjpeg-turbo-progs); without it they are not generated.
    const expected = pilExactPipelineIds().filter((id) => m.versions.djpeg || !['dec-nvjpeg-like', 'dec-tf-fast'].includes(id));
    assert.deepEqual([...ids].sort(), expected.sort());
  });

  it('the data-layer provider (ONECROP) gives the same bytes', async function () {
    const m = pilFixtures()!;
    const c = m.pipelines.find((p) => p.decoder === 'pil' && p.filter === 'bilinear' && p.mode === 'onecrop' && p.size === 32)!;
    const prov = pilPreprocessProvider('dec-pil');
    assert.equal(prov.standIn, false);
    assert.match(prov.impl, /^pil-exact\/1\/dec-pil\//);
    const out = await prov.create(32).encoded(fixture(`jpeg/${c.jpeg}.jpg`), c.jpeg);
    assert.equal(compareBytes(out.data, fixture(c.file)).mismatches, 0);
  });

  it('a corrupt or truncated JPEG is a named error for that file', async function () {
    const good = fixture('jpeg/rgb420_227x149.jpg');
    await assert.rejects(preprocess(good.subarray(0, good.length - 100), 'cut.jpg'), /cut\.jpg: truncated JPEG/);
    const bad = new Uint8Array(good);
    bad.fill(0, 3, 40);
    await assert.rejects(preprocess(bad, 'broken.jpg'), /broken\.jpg: corrupt JPEG/);
  });

  it('CLI (in process): every libjpeg + Pillow pipeline id writes Pillow\'s bytes as PNG', async function () {
    const m = pilFixtures()!;
    for (const id of pilExactPipelineIds()) {
      const dec = id === 'dec-nvjpeg-like' ? 'nvjpeg-like' : id === 'dec-tf-fast' ? 'tf-fast' : 'pil';
      const filter = id.startsWith('rs-pil-') ? id.slice('rs-pil-'.length) : 'bilinear';
      const c = m.pipelines.find((p) => p.jpeg === 'rgb420_227x149' && p.decoder === dec && p.filter === filter && p.size === 32 && p.mode === 'square');
      if (!c) continue; // djpeg-based reference missing (no libjpeg-turbo-progs)
      const out = join(tmp, `${id}.png`);
      const r = await runCliInProcess(['preprocess', '--in', join(FIXTURE_DIR, `jpeg/${c.jpeg}.jpg`), '--pipeline', id, '--size', '32', '--out', out]);
      assert.equal(r.code, 0, r.stderr);
      const png = await readPng(out);
      assert.deepEqual([png.width, png.height, png.channels], [32, 32, 3]);
      assert.equal(compareBytes(png.data, fixture(c.file)).mismatches, 0, id);
    }
  });

  it('CLI: --mode onecrop, --crop none, --resize-only and --decode-only on a lossless PNG', async function () {
    const m = pilFixtures()!;
    const src = m.inputs.photo120x90!;
    const pngIn = join(tmp, 'photo.png');
    await sharp(fixture(src.file), { raw: { width: src.width, height: src.height, channels: 3 } }).png().toFile(pngIn);
    // --decode-only: the exact pixels back
    let r = await runCliInProcess(['preprocess', '--in', pngIn, '--decode-only', '--out', join(tmp, 'dec.png')]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(compareBytes((await readPng(join(tmp, 'dec.png'))).data, fixture(src.file)).mismatches, 0);
    // --resize-only WxH: Pillow's resize of the PNG's pixels
    for (const [id, filter] of [['rs-pil-hamming', 'hamming'], ['dec-pil', 'bilinear'], ['rs-pil-nearest', 'nearest']] as const) {
      const c = m.resize.find((x) => x.source === 'photo120x90' && x.filter === filter && x.width === 45)!;
      r = await runCliInProcess(['preprocess', '--in', pngIn, '--pipeline', id, '--resize-only', `${c.width}x${c.height}`, '--out', join(tmp, 'rs.png'), '--json']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(JSON.parse(r.stdout).stage, 'resize');
      assert.equal(compareBytes((await readPng(join(tmp, 'rs.png'))).data, fixture(c.file)).mismatches, 0, id);
    }
    // --crop none: the whole resized image (square 36x36 for S=32)
    r = await runCliInProcess(['preprocess', '--in', pngIn, '--pipeline', 'rs-pil-lanczos', '--size', '32', '--crop', 'none', '--out', join(tmp, 'nc.png'), '--json']);
    assert.equal(r.code, 0, r.stderr);
    const nc = JSON.parse(r.stdout);
    assert.deepEqual([nc.width, nc.height], [36, 36]);
    const lz = m.resize.find((x) => x.source === 'photo120x90' && x.filter === 'lanczos' && x.width === 36)!;
    assert.equal(compareBytes((await readPng(join(tmp, 'nc.png'))).data, fixture(lz.file)).mismatches, 0);
    // --mode onecrop on a JPEG
    const c1 = m.pipelines.find((p) => p.jpeg === 'portrait_75x131' && p.decoder === 'pil' && p.filter === 'bicubic' && p.size === 224 && p.mode === 'onecrop')!;
    r = await runCliInProcess(['preprocess', '--in', join(FIXTURE_DIR, 'jpeg/portrait_75x131.jpg'), '--pipeline', 'rs-pil-bicubic', '--mode', 'onecrop', '--out', join(tmp, 'oc.png')]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(compareBytes((await readPng(join(tmp, 'oc.png'))).data, fixture(c1.file)).mismatches, 0);
  });

  it('CLI errors: one line; exit 2 for usage (listing allowed ids), 1 for runtime failures naming the file', async () => {
    const jpg = join(FIXTURE_DIR, 'jpeg/rgb420_227x149.jpg');
    let r = runCliProcess(['preprocess', '--in', jpg, '--pipeline', 'dec-nope', '--out', join(tmp, 'x.png')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /Expected one of dec-pil, dec-opencv, .*rs-pil-lanczos.* for --pipeline but received 'dec-nope'/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    writeFileSync(join(tmp, 'junk.jpg'), new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 16, 1, 2, 3]));
    r = await runCliInProcess(['preprocess', '--in', join(tmp, 'junk.jpg'), '--pipeline', 'dec-opencv', '--out', join(tmp, 'x.png')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /junk\.jpg/);
    r = await runCliInProcess(['preprocess', '--in', jpg, '--resize-only', '12by5', '--out', join(tmp, 'x.png')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--resize-only/);
    r = await runCliInProcess(['preprocess', '--in', join(tmp, 'missing.jpg'), '--out', join(tmp, 'x.png')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /missing\.jpg/);
    const cut = join(tmp, 'cut.jpg');
    writeFileSync(cut, readFileSync(jpg).subarray(0, 2000));
    r = runCliProcess(['preprocess', '--in', cut, '--out', join(tmp, 'x.png')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cut\.jpg: truncated JPEG/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  });
});
