// Runs every TSDoc @example of the AutoAttack files (ts/attacks/{aa-common,aa-toy-models,dlr,apgd,fab,
// square,autoattack,aa-register}.ts). A line `code // literal` is an expression whose value must deep-equal the
// literal; other lines are statements (await allowed). In scope: everything those files export,
// linearModel, Rng, and a 10-class toy setup: `model` / `m` (ReLU net on 1×4×4), `x` (10 samples),
// `y` (its predictions), `linear` (a linear classifier), `integerModel` (logits only).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as common from '../../../ts/attacks/aa-common.ts';
import * as toy from '../../../ts/attacks/aa-toy-models.ts';
import * as dlr from '../../../ts/attacks/dlr.ts';
import * as apgdMod from '../../../ts/attacks/apgd.ts';
import * as fab from '../../../ts/attacks/fab.ts';
import * as sq from '../../../ts/attacks/square.ts';
import * as aa from '../../../ts/attacks/autoattack.ts';
import * as reg from '../../../ts/attacks/aa-register.ts';
import { linearModel, type AttackModel } from '../../../ts/attacks/model.ts';
import { Rng } from '../../../ts/util/rng.ts';

const FILES = ['aa-common', 'aa-toy-models', 'dlr', 'apgd', 'fab', 'square', 'autoattack', 'aa-register'];

function examples(file: string): string[][] {
  const src = readFileSync(new URL(`../../../ts/attacks/${file}.ts`, import.meta.url), 'utf8');
  const out: string[][] = [];
  for (const m of src.matchAll(/@example\n((?:\s*\*(?! @)(?!\/).*\n)+)/g)) {
    out.push(m[1]!.split('\n').map((l) => l.replace(/^\s*\* ?/, '')).filter((l) => l.trim().length > 0));
  }
  return out;
}

const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (...args: string[]) => (...a: unknown[]) => Promise<unknown>;

async function scope(): Promise<Record<string, unknown>> {
  const model = toy.mlpModel(4, [1, 4, 4], 16, 10);
  const r = new Rng(3);
  const x = new Float32Array(10 * 16).map(() => r.uniform());
  const z = await model.logits(x, 10);
  const y = new Int32Array(10);
  for (let i = 0; i < 10; i++) for (let c = 1; c < 10; c++) if (z[i * 10 + c]! > z[i * 10 + y[i]!]!) y[i] = c;
  const rw = new Rng(8);
  const linear = linearModel(new Float32Array(160).map(() => rw.normal()), new Float32Array(10), [1, 4, 4]);
  const integerModel: AttackModel = { numClasses: 10, inputShape: [1, 4, 4], name: 'int', logits: model.logits };
  return { ...common, ...toy, ...dlr, ...apgdMod, ...fab, ...sq, ...aa, ...reg, linearModel, Rng, model, m: model, x, y, linear, integerModel };
}

describe('attacks/aa TSDoc examples run', () => {
  for (const file of FILES) {
    it(`${file}.ts`, async () => {
      const ex = examples(file);
      assert.ok(ex.length >= 1, `${file}: expected examples`);
      let checked = 0;
      const sc = await scope();
      for (const lines of ex) {
        const body: string[] = [];
        const checks: [string, unknown][] = [];
        for (const line of lines) {
          const m = /^(.*?)\s*\/\/\s*(.+)$/.exec(line);
          let expected: unknown;
          let literal = false;
          if (m && m[1]!.trim() && !/^(const|let|var)\s/.test(m[1]!)) {
            try {
              expected = new Function(`return (${m[2]});`)();
              literal = true;
            } catch {
              literal = false;
            }
          }
          if (literal) {
            const k = checks.length;
            checks.push([m![1]!, expected]);
            body.push(`__got[${k}] = (${m![1]!});`);
          } else if (!line.trim().startsWith('//')) body.push(line);
        }
        const names = Object.keys(sc);
        const code = `{\n${body.join('\n')}\n}`;
        const got: unknown[] = [];
        await new AsyncFunction('__got', ...names, code)(got, ...names.map((n) => sc[n]));
        checks.forEach(([expr, want], k) => assert.deepEqual(got[k], want, `${file}: ${expr}`));
        checked += checks.length;
      }
      assert.ok(checked >= ex.length, `${file}: ${checked} checked values in ${ex.length} examples`);
    });
  }
});
