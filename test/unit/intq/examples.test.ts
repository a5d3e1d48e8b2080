/**
 * Runs every TSDoc @example of ts/native/intq.ts and ts/cli/requant.ts: each example's last line is
 * `expression // expected` (or `// => expected`); earlier lines are statements. The expression's value must
 * deep-equal the expected literal.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { repoRoot } from '../../../ts/native/binding.ts';
import * as intq from '../../../ts/native/intq.ts';
import * as requantCli from '../../../ts/cli/requant.ts';

function examples(file: string): string[][] {
  const src = readFileSync(join(repoRoot, file), 'utf8');
  const out: string[][] = [];
  const re = /@example\n((?:\s*\*(?! @)(?!\/).*\n)+)/g;
  for (const m of src.matchAll(re)) {
    const lines = m[1]!.split('\n').map((l) => l.replace(/^\s*\* ?/, '')).filter((l) => l.trim().length > 0);
    out.push(lines);
  }
  return out;
}

const scope: Record<string, unknown> = { ...intq, ...requantCli, Command };

describe('intq: TSDoc examples run', () => {
  for (const file of ['ts/native/intq.ts', 'ts/cli/requant.ts']) {
    const blocks = examples(file);
    it(`${file}: ${blocks.length} examples`, () => {
      assert.ok(blocks.length >= 5);
      for (const lines of blocks) {
        const last = lines[lines.length - 1]!;
        const cut = last.indexOf(' //');
        assert.ok(cut > 0, `example without an expected value: ${last}`);
        const expr = last.slice(0, cut);
        const expected = last.slice(cut + 3).replace(/^\s*=>/, '').trim();
        const body = `${lines.slice(0, -1).join('\n')}\nreturn (${expr});`;
        const names = Object.keys(scope);
        const got = new Function(...names, body)(...names.map((n) => scope[n]));
        const want = new Function(`return (${expected});`)();
        assert.deepEqual(got, want, `${file}: ${last}`);
      }
    });
  }
});
