/**
 * Runs every TSDoc @example of the issue-7 modules (ts/native/opencv.ts, ts/systematic/ffmpeg.ts,
 * ts/systematic/suite.ts, ts/systematic/pipelines.ts): each example's last line is `expression // expected`;
 * earlier lines are statements (awaits allowed). In scope: every export of those modules, `bytes` (the
 * committed 128x96 colour JPEG) and `img` (its dec-pil decode).
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../../ts/native/binding.ts';
import { opencvAvailable } from '../../../ts/native/opencv.ts';
import * as opencv from '../../../ts/native/opencv.ts';
import * as ffmpeg from '../../../ts/systematic/ffmpeg.ts';
import * as suite from '../../../ts/systematic/suite.ts';
import * as pipelines from '../../../ts/systematic/pipelines.ts';
import { decodeWith } from '../../../ts/systematic/preprocess.ts';
import { ffmpegPresent } from './opencv-fixtures.ts';

function examples(file: string): string[][] {
  const src = readFileSync(join(repoRoot, file), 'utf8');
  const out: string[][] = [];
  const re = /@example\n((?:\s*\*(?! @)(?!\/).*\n)+)/g;
  for (const m of src.matchAll(re)) out.push(m[1]!.split('\n').map((l) => l.replace(/^\s*\* ?/, '')).filter((l) => l.trim().length > 0));
  return out;
}

const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (...args: string[]) => (...a: unknown[]) => Promise<unknown>;

describe('systematic: TSDoc examples run', function () {
  this.timeout(60000);
  before(function () {
    if (!opencvAvailable() || !ffmpegPresent()) this.skip();
  });
  for (const file of ['ts/native/opencv.ts', 'ts/systematic/ffmpeg.ts', 'ts/systematic/suite.ts', 'ts/systematic/pipelines.ts']) {
    it(file, async () => {
      const b = readFileSync(join(repoRoot, 'test/fixtures/systematic/photo420_128x96.jpg'));
      const bytes = new Uint8Array(b.buffer, b.byteOffset, b.length);
      const scope: Record<string, unknown> = { ...opencv, ...ffmpeg, ...suite, ...pipelines, bytes, img: await decodeWith(bytes, 'x.jpg', 'dec-pil') };
      const blocks = examples(file);
      assert.ok(blocks.length >= 3, `${file}: ${blocks.length} examples`);
      for (const lines of blocks) {
        const last = lines[lines.length - 1]!;
        const cut = last.lastIndexOf(' // ');
        assert.ok(cut > 0, `example without an expected value: ${last}`);
        const body = `${lines.slice(0, -1).join('\n')}\nreturn (${last.slice(0, cut)});`;
        const names = Object.keys(scope);
        const got = await new AsyncFunction(...names, body)(...names.map((n) => scope[n]));
        const want = new Function(`return (${last.slice(cut + 4).replace(/^=>\s*/, '')});`)();
        assert.deepEqual(got, want, `${file}: ${lines.join(' | ')}`);
      }
    });
  }
});
