import { strict as assert } from 'node:assert';
import { mkdtempSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CORRUPTIONS, corrupt } from '../../../ts/corrupt/index.ts';
import { UsageError } from '../../../ts/util/errors.ts';
import { Rng } from '../../../ts/util/rng.ts';
import { corruptFixtures, runCli } from './fixtures.ts';
import { writePng } from '../../../ts/systematic/preprocess.ts';

const img = { data: new Uint8Array(32 * 32 * 3).fill(100), width: 32, height: 32, channels: 3 };

describe('corrupt/errors', () => {
  it('unknown corruption: a UsageError listing the 15', async () => {
    await assert.rejects(corrupt(img, 'speckle_noise', 1, new Rng(0)), (e: Error) =>
      e instanceof UsageError && /Unknown corruption 'speckle_noise'/.test(e.message) && CORRUPTIONS.every((c) => e.message.includes(c)));
  });

  it('severity outside 1..5 (or not an integer): a UsageError naming it', async () => {
    for (const s of [0, 6, 2.5, Number.NaN]) {
      await assert.rejects(corrupt(img, 'fog', s, new Rng(0)), /Expected integer 1\.\.5 for severity but received/);
    }
  });

  it('wrong image shape: named errors for channels, length and type', async () => {
    await assert.rejects(corrupt({ ...img, channels: 1, data: new Uint8Array(32 * 32) }, 'fog', 1, new Rng(0)), /image\.channels/);
    await assert.rejects(corrupt({ ...img, data: new Uint8Array(10) }, 'fog', 1, new Rng(0)), /Expected 3072 bytes \(32x32x3 HWC\) for image\.data but received 10/);
    await assert.rejects(corrupt({ ...img, data: new Float32Array(3072) as unknown as Uint8Array }, 'fog', 1, new Rng(0)), /image\.data/);
    await assert.rejects(corrupt({ ...img, width: 0 }, 'fog', 1, new Rng(0)), /image\.width/);
  });

  describe('qrobust corrupt (CLI)', function () {
    this.timeout(60000);
    let dir = '';
    before(async function () {
      if (!corruptFixtures()) this.skip();
      dir = mkdtempSync(join(tmpdir(), 'qrb-corrupt-'));
      const data = new Uint8Array(40 * 48 * 3);
      for (let i = 0; i < data.length; i++) data[i] = (i * 7) % 256;
      await writePng({ data, width: 48, height: 40, channels: 3 }, join(dir, 'in.png'));
    });

    it('writes the PNG and one JSON line', () => {
      const out = join(dir, 'out.png');
      const r = runCli(['corrupt', '--in', join(dir, 'in.png'), '--corruption', 'zoom_blur', '--severity', '3', '--seed', '7', '--out', out, '--json']);
      assert.equal(r.code, 0, r.stderr);
      const j = JSON.parse(r.stdout.trim());
      assert.equal(j.corruption, 'zoom_blur');
      assert.equal(j.column, 32);
      assert.ok(existsSync(out) && readFileSync(out).length > 100);
    });

    it('named usage errors exit 2 with one line', () => {
      const base = ['corrupt', '--in', join(dir, 'in.png'), '--out', join(dir, 'x.png')];
      const cases: [string[], RegExp][] = [
        [[...base, '--corruption', 'nope', '--severity', '1'], /Unknown corruption 'nope': expected one of gaussian_noise, .*jpeg_compression/],
        [[...base, '--corruption', 'fog', '--severity', '6'], /Expected integer 1\.\.5 for --severity but received 6/],
        [[...base, '--corruption', 'fog', '--severity', '1', '--column', '100'], /column/],
        [['corrupt', '--in', join(dir, 'missing.png'), '--out', join(dir, 'x.png'), '--corruption', 'fog', '--severity', '1'], /Expected an existing file for --in/],
      ];
      for (const [args, re] of cases) {
        const r = runCli(args);
        assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr, re);
        assert.equal(r.stderr.trim().split('\n').length, 1);
      }
    });
  });
});
