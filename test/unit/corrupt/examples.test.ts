/**
 * Runs every TSDoc @example of ts/corrupt/*.ts, ts/native/corrupt.ts and ts/cli/corrupt.ts: each example's
 * last line is `expression // expected`; earlier lines are statements (await allowed). The expression's
 * value must deep-equal the expected literal. `img` (32x32 grey) is in scope, with everything the
 * files export, Rng and Command.
 */
import { strict as assert } from 'node:assert';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { repoRoot } from '../../../ts/native/binding.ts';
import * as corruptApi from '../../../ts/corrupt/index.ts';
import * as common from '../../../ts/corrupt/common.ts';
import * as hsv from '../../../ts/corrupt/hsv.ts';
import * as poissonMod from '../../../ts/corrupt/poisson.ts';
import * as blur from '../../../ts/corrupt/blur.ts';
import * as weather from '../../../ts/corrupt/weather.ts';
import * as nativeCorrupt from '../../../ts/native/corrupt.ts';
import * as cli from '../../../ts/cli/corrupt.ts';
import { Rng } from '../../../ts/util/rng.ts';
import { corruptFixtures } from './fixtures.ts';

function examples(file: string): string[][] {
  const src = readFileSync(join(repoRoot, file), 'utf8');
  const out: string[][] = [];
  const re = /@example\n((?:\s*\*(?! @)(?!\/).*\n)+)/g;
  for (const m of src.matchAll(re)) {
    out.push(m[1]!.split('\n').map((l) => l.replace(/^\s*\* ?/, '')).filter((l) => l.trim().length > 0));
  }
  return out;
}

const img = { data: new Uint8Array(32 * 32 * 3).fill(120), width: 32, height: 32, channels: 3 };
const scope: Record<string, unknown> = { ...corruptApi, ...common, ...hsv, ...poissonMod, ...blur, ...weather, ...nativeCorrupt, ...cli, Rng, Command, img };
const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (...args: string[]) => (...a: unknown[]) => Promise<unknown>;

describe('corrupt: TSDoc examples run', function () {
  this.timeout(60000);
  before(function () {
    if (!corruptFixtures()) this.skip(); // examples call the addon
  });
  const files = [...readdirSync(join(repoRoot, 'ts', 'corrupt')).filter((f) => f.endsWith('.ts')).map((f) => `ts/corrupt/${f}`), 'ts/native/corrupt.ts', 'ts/cli/corrupt.ts'];
  for (const file of files) {
    it(file, async () => {
      for (const lines of examples(file)) {
        const last = lines[lines.length - 1]!;
        const cut = last.lastIndexOf(' //');
        assert.ok(cut > 0, `${file}: example without an expected value: ${last}`);
        const body = `${lines.slice(0, -1).join('\n')}\nreturn (${last.slice(0, cut)});`;
        const names = Object.keys(scope);
        const got = await new AsyncFunction(...names, body)(...names.map((n) => scope[n]));
        const want = new Function(`return (${last.slice(cut + 3).trim()});`)();
        assert.deepEqual(got, want, `${file}: ${last}`);
      }
    });
  }
});
