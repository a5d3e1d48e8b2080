// State dicts written by torch load into our architectures by name, and eval-mode logits match torch's.
// torchvision resnet18, resnet50, mobilenet_v2 and the RegNet of PROTOCOL.md §5 (regnetx_600mf) with 10 classes, random
// weights and non-trivial BN statistics (γ, β, running mean / var all random), on a [2, 3, 64, 64] batch in [0, 1]:
// our model normalises inside, torch got the normalised batch. Fixtures from scripts/gen-torch-arch-fixtures.py
// (Debian python3-torch) in test/.generated/torch-arch; skipped, with the reason, without torch.
// Metric: max |ours − torch| / max |torch| over the logits; bound 1e-4.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Tensor } from '../../../ts/tensor/index.ts';
import * as ag from '../../../ts/autograd/index.ts';
import { repoRoot } from '../../../ts/native/binding.ts';
import { readSafetensors, safetensorArray } from '../../../ts/formats/safetensors.ts';
import { createModel, loadReferenceWeights, regnetFromTorchvision } from '../../../ts/nn/models/index.ts';

const dir = join(repoRoot, 'test', '.generated', 'torch-arch');
const script = join(repoRoot, 'scripts', 'gen-torch-arch-fixtures.py');

/** Runs the generator when its output is missing or older than the script; returns a skip reason or null. */
export function ensureArchFixtures(): string | null {
  const v = join(dir, 'versions.json');
  if (existsSync(v) && statSync(v).mtimeMs >= statSync(script).mtimeMs) return null;
  try {
    execFileSync('/usr/bin/python3', [script, dir], { stdio: 'pipe', timeout: 240000 });
    return null;
  } catch (e) {
    return `torch fixtures could not be generated (/usr/bin/python3 with python3-torch, torchvision and onnx needed): ${String((e as Error).message).split('\n')[0]}`;
  }
}

/** A safetensors file as float32 tensors by name (int64 counters converted). */
function loadTensors(path: string): Map<string, Tensor> {
  const f = readSafetensors(path);
  const out = new Map<string, Tensor>();
  for (const [name, t] of f.tensors) out.set(name, Tensor.from(Float32Array.from(safetensorArray(t) as ArrayLike<number>, Number), t.shape));
  return out;
}

function relErr(ours: Tensor, ref: Tensor): number {
  assert.deepEqual(ours.shape, ref.shape);
  const a = ours.toArray();
  const b = ref.toArray();
  let d = 0;
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    s = Math.max(s, Math.abs(b[i]!));
  }
  return d / s;
}

describe('nn/models vs torch: state dicts load by name, logits match', function () {
  before(function () {
    const why = ensureArchFixtures();
    if (why) {
      console.log(`      skipped: ${why}`);
      this.skip();
    }
  });

  for (const arch of ['mobilenet_v2', 'regnetx_600mf', 'resnet18', 'resnet50']) {
    it(`${arch}: torchvision state dict → our names, eval logits within 1e-4 relative`, () => {
      const raw = loadTensors(join(dir, `${arch}.safetensors`));
      const sd = arch === 'regnetx_600mf' ? regnetFromTorchvision(raw) : raw;
      const m = createModel(arch, { numClasses: 10, seed: 9 });
      const own = [...m.stateDict().keys()].filter((k) => !k.startsWith('normalize.'));
      // the same names in the same (state_dict) order, and shapes
      assert.deepEqual([...sd.keys()], own);
      // the published (torchvision) names load through loadReferenceWeights, RegNet's converted there
      assert.equal(loadReferenceWeights(m, raw).length, own.length);
      assert.equal(m.stateDict().get(own[3]!)!.toArray()[0], sd.get(own[3]!)!.toArray()[0]);
      const io = loadTensors(join(dir, `${arch}.io.safetensors`));
      const y = ag.noGrad(() => m.eval().call(io.get('x')!));
      const ref = io.get('logits')!;
      const e = relErr(y, ref);
      console.log(`      ${arch}: max |ours − torch| / max |torch| = ${e.toExponential(2)} (max |logit| ${Math.max(...ref.toArray().map(Math.abs)).toFixed(3)})`);
      assert.ok(e < 1e-4, `${arch}: relative error ${e}`);
    });
  }
});
