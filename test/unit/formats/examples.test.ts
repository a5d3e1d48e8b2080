/**
 * Executes the TSDoc `@example` of every public function in ts/formats and ts/cli/inspect.ts (STYLE.md: examples
 * that tests execute). A line `expr // => expected` asserts deepStrictEqual(expr, expected); other lines run as
 * statements; the block runs as one async function with the modules' exports in scope.
 */
import { strict as assert } from 'node:assert';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { Command } from 'commander';
import * as onnx from '../../../ts/formats/onnx.ts';
import * as safetensors from '../../../ts/formats/safetensors.ts';
import * as io from '../../../ts/formats/io.ts';
import * as inspect from '../../../ts/cli/inspect.ts';
import { repoRoot } from '../../../ts/native/binding.ts';
import { torchFixtures } from './fixtures.ts';

const FILES = ['ts/formats/onnx-descriptor.ts', 'ts/formats/onnx.ts', 'ts/formats/safetensors.ts', 'ts/formats/io.ts', 'ts/cli/inspect.ts'];
const scope: Record<string, unknown> = { ...onnx, ...safetensors, ...io, ...inspect, readFileSync, ort, Command };
const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (...args: string[]) => (...a: unknown[]) => Promise<void>;

interface Example { file: string; name: string; code: string }

function examples(file: string): { examples: Example[]; undocumented: string[] } {
  const src = readFileSync(join(repoRoot, file), 'utf8');
  const out: Example[] = [];
  const undocumented: string[] = [];
  const re = /(\/\*\*(?:(?!\*\/)[\s\S])*\*\/\s*)?export (?:async )?(?:function|const) (\w+)/g;
  for (let m = re.exec(src); m; m = re.exec(src)) {
    const doc = m[1] ?? '';
    const name = m[2]!;
    const at = doc.indexOf('@example');
    if (at < 0) {
      if (/export (?:async )?function/.test(m[0])) undocumented.push(name);
      continue;
    }
    const body = doc.slice(at + '@example'.length).split('\n').slice(1)
      .map((l) => l.replace(/^\s*\*\/?\s?/, ''))
      .filter((l) => !l.startsWith('/'));
    const end = body.findIndex((l) => l.startsWith('@'));
    out.push({ file, name, code: (end < 0 ? body : body.slice(0, end)).join('\n').trim() });
  }
  return { examples: out, undocumented };
}

function compile(ex: Example): (check: (a: unknown, b: unknown, line: string) => void) => Promise<void> {
  const lines = ex.code.split('\n').map((l) => {
    const m = /^(.*?)\s*\/\/ => (.*)$/.exec(l);
    return m ? `__check(${m[1]}, ${m[2]}, ${JSON.stringify(l)});` : l;
  });
  const fn = new AsyncFunction(...Object.keys(scope), '__check', lines.join('\n'));
  return (check) => fn(...Object.values(scope), check);
}

describe('formats: TSDoc examples run', function () {
  let haveTorch = false;
  before(function () {
    this.timeout(300000);
    mkdirSync(join(repoRoot, 'test', '.generated', 'formats'), { recursive: true });
    haveTorch = !('skip' in torchFixtures());
  });

  for (const file of FILES) {
    const { examples: list, undocumented } = examples(file);
    it(`${file}: every exported function has an @example`, () => {
      assert.deepEqual(undocumented, []);
      assert.ok(list.length > 0);
    });
    for (const ex of list) {
      it(`${file}: ${ex.name}`, async function () {
        if (ex.code.includes('test/.generated/torch') && !haveTorch) this.skip();
        assert.ok(ex.code.length > 0);
        let checks = 0;
        await compile(ex)((a, b, line) => {
          checks++;
          assert.deepStrictEqual(a, b, line);
        });
        assert.ok(checks > 0, `the example of ${ex.name} checks nothing (add \`// => expected\`)`);
      });
    }
  }
});
