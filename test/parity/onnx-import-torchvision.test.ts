// ONNX import of torch-exported torchvision models (acceptance 2 of issue 3): resnet18 and mobilenet_v2 with
// random weights and non-trivial BN statistics, exported by torch 1.13 twice: folded (the exporter merges BN into
// the convolutions; mobilenet_v2's ReLU6 becomes Clip with Constant bounds) and with BatchNormalization nodes and
// torch's parameter names kept. On a [2, 3, 64, 64] normalised batch, the imported model's logits match torch's
// and onnxruntime-node's within 1e-4 (max |ours − ref| / max |ref|). The imported model is trainable: gradients
// reach every parameter and the input, an SGD step lowers the loss, and BN running statistics update in training
// mode. Fixtures from scripts/gen-torch-arch-fixtures.py; skipped, with the reason, without torch.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { Tensor } from '../../ts/tensor/index.ts';
import * as ag from '../../ts/autograd/index.ts';
import { repoRoot } from '../../ts/native/binding.ts';
import { readSafetensors, safetensorArray } from '../../ts/formats/safetensors.ts';
import { importOnnx, UnsupportedOnnxOpError } from '../../ts/formats/onnx-import.ts';
import { BatchNorm2d, Conv2d, Linear, SGD } from '../../ts/nn/index.ts';
import { createModel } from '../../ts/nn/models/index.ts';
import { DataType, makeGraph, makeModel, makeNode, makeValueInfo } from '../../ts/formats/onnx.ts';

const dir = join(repoRoot, 'test', '.generated', 'torch-arch');
const script = join(repoRoot, 'scripts', 'gen-torch-arch-fixtures.py');

function ensure(): string | null {
  const v = join(dir, 'versions.json');
  if (existsSync(v) && statSync(v).mtimeMs >= statSync(script).mtimeMs) return null;
  try {
    execFileSync('/usr/bin/python3', [script, dir], { stdio: 'pipe', timeout: 240000 });
    return null;
  } catch (e) {
    return `torch fixtures could not be generated (/usr/bin/python3 with python3-torch, torchvision and onnx needed): ${String((e as Error).message).split('\n')[0]}`;
  }
}

function loadTensors(path: string): Map<string, Tensor> {
  const f = readSafetensors(path);
  const out = new Map<string, Tensor>();
  for (const [name, t] of f.tensors) out.set(name, Tensor.from(Float32Array.from(safetensorArray(t) as ArrayLike<number>, Number), t.shape));
  return out;
}

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let d = 0;
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    s = Math.max(s, Math.abs(b[i]!));
  }
  return d / s;
}

async function ortRun(path: string, x: Tensor): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(readFileSync(path));
  const out = await s.run({ [s.inputNames[0]!]: new ort.Tensor('float32', x.contiguous().data.slice(), x.shape as number[]) });
  return out[s.outputNames[0]!]!.data as Float32Array;
}

describe('parity/onnx-import: torchvision exports vs torch and onnxruntime', function () {
  before(function () {
    const why = ensure();
    if (why) {
      console.log(`      skipped: ${why}`);
      this.skip();
    }
  });

  for (const arch of ['resnet18', 'mobilenet_v2']) {
    for (const variant of ['onnx', 'bn.onnx']) {
      it(`${arch}.${variant}: logits of torch and onnxruntime within 1e-4 relative`, async () => {
        const path = join(dir, `${arch}.${variant}`);
        const m = importOnnx(path).eval();
        const io = loadTensors(join(dir, `${arch}.io.safetensors`));
        const xn = io.get('xn')!;
        const y = ag.noGrad(() => m.call(xn));
        assert.deepEqual(y.shape, [2, 10]);
        const eTorch = relErr(y.toArray(), io.get('logits')!.toArray());
        const eOrt = relErr(y.toArray(), await ortRun(path, xn));
        console.log(`      ${arch}.${variant}: vs torch ${eTorch.toExponential(2)}, vs onnxruntime ${eOrt.toExponential(2)}`);
        assert.ok(eTorch < 1e-4 && eOrt < 1e-4);
        const layers = m.namedChildren().map(([, c]) => c);
        assert.equal(layers.filter((c) => c instanceof Conv2d).length, arch === 'resnet18' ? 20 : 52);
        assert.equal(layers.filter((c) => c instanceof Linear).length, 1);
        assert.equal(layers.filter((c) => c instanceof BatchNorm2d).length, variant === 'bn.onnx' ? (arch === 'resnet18' ? 20 : 52) : 0);
        if (variant === 'bn.onnx') {
          // torch's names survive: the imported state dict is torchvision's, so it loads into our own model
          const sd = m.stateDict();
          const ours = createModel(arch, { numClasses: 10 });
          const want = [...ours.stateDict().keys()].filter((k) => !k.startsWith('normalize.') && !k.endsWith('num_batches_tracked'));
          assert.deepEqual([...sd.keys()].filter((k) => !k.endsWith('num_batches_tracked')).sort(), [...want].sort());
          ours.loadStateDict(sd, false);
          const y2 = ag.noGrad(() => ours.eval().call(io.get('x')!));
          assert.ok(relErr(y2.toArray(), y.toArray()) < 1e-5);
        }
      });
    }
  }

  it('imported models train: gradients to every parameter and the input, an SGD step lowers the loss, BN statistics move', () => {
    const m = importOnnx(join(dir, 'mobilenet_v2.bn.onnx'));
    const io = loadTensors(join(dir, 'mobilenet_v2.io.safetensors'));
    const x = ag.param(io.get('xn')!.narrow(2, 0, 32).narrow(3, 0, 32).contiguous());
    const labels = [3, 7];
    m.eval();
    const loss0 = ag.crossEntropy(m.call(x), labels);
    ag.backward(loss0);
    for (const [n, p] of m.namedParameters()) assert.ok(p.grad && p.grad.toArray().some((v) => v !== 0), `${n} has no gradient`);
    assert.ok(x.grad!.toArray().some((v) => v !== 0));
    assert.ok(m.namedParameters().length >= 52 * 3 + 2);
    const opt = new SGD(m.parameters(), { lr: 0.05, momentum: 0.9 });
    opt.step();
    opt.zeroGrad();
    const loss1 = ag.noGrad(() => ag.crossEntropy(m.call(x), labels));
    assert.ok(loss1.item() < loss0.item(), `${loss1.item()} >= ${loss0.item()}`);
    const rm = m.stateDict().get('features.0.1.running_mean')!;
    const before = rm.toArray();
    ag.noGrad(() => m.train().call(x));
    assert.notDeepEqual(rm.toArray(), before);
  });

  it('names the unsupported op and its node', () => {
    const g = makeGraph([makeNode('Relu', ['x'], ['h'], {}, 'r0'), makeNode('Softmax', ['h'], ['y'], { axis: 1 }, 'head/softmax')], 'g',
      [makeValueInfo('x', DataType.FLOAT, ['N', 4])], [makeValueInfo('y', DataType.FLOAT, ['N', 4])]);
    assert.throws(() => importOnnx(makeModel(g)), (e: unknown) => e instanceof UnsupportedOnnxOpError && /unsupported op Softmax at node 'head\/softmax'; supported ops: Conv, BatchNormalization/.test(e.message));
  });
});
