/**
 * Runs every TSDoc @example of the architecture and ONNX import / export files (ts/nn/models/{index,common,
 * resnet50,mobilenet-v2,regnet}.ts, ts/formats/onnx-{import,export}.ts): each example's last line is
 * `expression // expected`; earlier lines are statements (await allowed). The value must deep-equal the expected
 * literal. In scope: the registry's exports, the common helpers, importOnnx / exportOnnx(Bytes), encodeModel /
 * decodeModel, ort, Tensor, ag, Rng, Linear, and `t` (a one-element tensor).
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { repoRoot } from '../../../ts/native/binding.ts';
import * as models from '../../../ts/nn/models/index.ts';
import * as common from '../../../ts/nn/models/common.ts';
import * as imp from '../../../ts/formats/onnx-import.ts';
import * as exp from '../../../ts/formats/onnx-export.ts';
import { decodeModel, encodeModel } from '../../../ts/formats/onnx.ts';
import { Rng } from '../../../ts/util/rng.ts';
import { Tensor } from '../../../ts/tensor/index.ts';
import * as ag from '../../../ts/autograd/index.ts';
import { Linear } from '../../../ts/nn/index.ts';

const FILES = ['ts/nn/models/index.ts', 'ts/nn/models/common.ts', 'ts/nn/models/resnet50.ts', 'ts/nn/models/mobilenet-v2.ts', 'ts/nn/models/regnet.ts', 'ts/formats/onnx-import.ts', 'ts/formats/onnx-export.ts'];

function examples(file: string): string[][] {
  const src = readFileSync(join(repoRoot, file), 'utf8');
  const out: string[][] = [];
  const re = /@example\n((?:\s*\*(?! @)(?!\/).*\n)+)/g;
  for (const m of src.matchAll(re)) out.push(m[1]!.split('\n').map((l) => l.replace(/^\s*\* ?/, '')).filter((l) => l.trim().length > 0));
  return out;
}

const scope: Record<string, unknown> = { ...models, ...common, ...imp, ...exp, decodeModel, encodeModel, ort, Tensor, ag, Rng, Linear, t: Tensor.from([1]) };
const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (...args: string[]) => (...a: unknown[]) => Promise<unknown>;

describe('nn/models and ONNX import / export: TSDoc examples run', () => {
  for (const file of FILES) {
    const ex = examples(file);
    it(`${file}: ${ex.length} examples`, async () => {
      assert.ok(ex.length > 0);
      for (const lines of ex) {
        const last = lines[lines.length - 1]!;
        const cut = last.lastIndexOf(' // ');
        assert.ok(cut > 0, `${file}: example without '// expected': ${last}`);
        const expr = last.slice(0, cut);
        const expected = last.slice(cut + 4).trim();
        const body = `${lines.slice(0, -1).join('\n')}\nreturn (${expr});`;
        const fn = new AsyncFunction(...Object.keys(scope), body);
        const got = await fn(...Object.values(scope));
        // eslint-disable-next-line no-new-func
        const want = new Function(`return (${expected});`)() as unknown;
        assert.deepEqual(JSON.parse(JSON.stringify(got)), JSON.parse(JSON.stringify(want)), `${file}: ${lines.join(' / ')}`);
      }
    });
  }
});
