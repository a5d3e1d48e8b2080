/**
 * Runs every TSDoc @example of the issue-11 files (ts/attacks/{norms,base,fgsm,pgd,magnitudes,metrics,
 * suite,npy}.ts, ts/eval/attack-model.ts): each example's last line is `expression // expected`;
 * earlier lines are statements (await allowed). The value must deep-equal the expected literal. In
 * scope: everything ts/attacks/index.ts and the adapter export, Rng, Tensor, ag, resnet20, and a
 * batch: `model` (a linear classifier over [3, 4, 4] with 3 classes), `x` (4 samples in [0,1]), `y`, `n` = 4.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../../ts/native/binding.ts';
import * as attacks from '../../../ts/attacks/index.ts';
import * as adapter from '../../../ts/eval/attack-model.ts';
import { Rng } from '../../../ts/util/rng.ts';
import { setQuiet } from '../../../ts/util/progress.ts';
import { Tensor } from '../../../ts/tensor/index.ts';
import * as ag from '../../../ts/autograd/index.ts';
import { resnet20 } from '../../../ts/nn/index.ts';

function examples(file: string): string[][] {
  const src = readFileSync(join(repoRoot, file), 'utf8');
  const out: string[][] = [];
  const re = /@example\n((?:\s*\*(?! @)(?!\/).*\n)+)/g;
  for (const m of src.matchAll(re)) {
    out.push(m[1]!.split('\n').map((l) => l.replace(/^\s*\* ?/, '')).filter((l) => l.trim().length > 0));
  }
  return out;
}

const rng = new Rng(0);
const n = 4;
const model = attacks.linearModel(Float32Array.from({ length: 3 * 48 }, () => rng.normal()), new Float32Array(3), [3, 4, 4], 'example');
const x = Float32Array.from({ length: n * 48 }, () => rng.uniform());
const y = [0, 1, 2, 0];
const scope: Record<string, unknown> = { ...attacks, ...adapter, Rng, Tensor, ag, resnet20, model, x, y, n };
const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (...args: string[]) => (...a: unknown[]) => Promise<unknown>;

describe('attacks: TSDoc examples run', function () {
  this.timeout(60000);
  before(() => setQuiet(true));
  after(() => setQuiet(false));
  const files = ['norms', 'base', 'fgsm', 'pgd', 'magnitudes', 'metrics', 'suite', 'npy'].map((f) => `ts/attacks/${f}.ts`).concat('ts/eval/attack-model.ts');
  for (const file of files) {
    it(file, async () => {
      const ex = examples(file);
      assert.ok(ex.length > 0, `${file} has no examples`);
      for (const lines of ex) {
        const last = lines[lines.length - 1]!;
        const cut = last.lastIndexOf(' //');
        assert.ok(cut > 0, `${file}: example without an expected value: ${last}`);
        const body = `${lines.slice(0, -1).join('\n')}\nreturn (${last.slice(0, cut)});`;
        const names = Object.keys(scope);
        const got = await new AsyncFunction(...names, body)(...names.map((k) => scope[k]));
        const want = new Function(`return (${last.slice(cut + 3).trim()});`)();
        assert.deepEqual(got, want, `${file}: ${last}`);
      }
    });
  }
});
