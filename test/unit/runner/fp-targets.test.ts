/**
 * The FP model under an fp16 target (docs/runner.md "Targets"): ts/deploy/float-graph.ts turns a float model into a
 * deploy graph of float nodes (BN folded into the convolutions). Run in float32 (an integer target's float ops) it
 * gives the model's logits; under jetson-nano-fp16 every value is rounded to binary16, close to but not equal to them.
 */
import { strict as assert } from 'node:assert';
import { Tensor } from '../../../ts/tensor/tensor.ts';
import { noGrad } from '../../../ts/autograd/index.ts';
import { buildModel } from '../../../ts/train/models.ts';
import { loadTarget } from '../../../ts/targets/index.ts';
import { DeployModule } from '../../../ts/deploy/model.ts';
import { floatDeployGraph } from '../../../ts/deploy/float-graph.ts';
import { Rng } from '../../../ts/util/rng.ts';
import { float16BitsToFloat32, float32ToFloat16Bits } from '../../../ts/formats/onnx.ts';

function randomBn(model: ReturnType<typeof buildModel>, seed: number): void {
  const rng = new Rng(seed);
  const state = new Map<string, Tensor>();
  for (const [k, t] of model.stateDict()) {
    const d = Float32Array.from(t.contiguous().data);
    if (k.endsWith('running_mean')) for (let i = 0; i < d.length; i++) d[i] = 0.1 * (rng.uniform() - 0.5);
    else if (k.endsWith('running_var')) for (let i = 0; i < d.length; i++) d[i] = 0.5 + 1.5 * rng.uniform();
    else if (/(bn\d|downsample\.1)\.(weight|bias)$/.test(k)) for (let i = 0; i < d.length; i++) d[i] = k.endsWith('weight') ? 0.5 + rng.uniform() : 0.1 * (rng.uniform() - 0.5);
    state.set(k, Tensor.from(d, t.shape));
  }
  model.loadStateDict(state, true);
}

const maxRel = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let d = 0, s = 0;
  for (let i = 0; i < a.length; i++) { d = Math.max(d, Math.abs(a[i]! - b[i]!)); s = Math.max(s, Math.abs(b[i]!)); }
  return d / s;
};

describe('runner: the FP model as a float deploy graph (fp16 targets)', function () {
  this.timeout(120000);
  for (const arch of ['resnet20', 'resnet18']) {
    it(`${arch}: float32 = the model (BN folded); jetson-nano-fp16 rounds to binary16`, () => {
      const model = buildModel(arch, { numClasses: 10, mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25], seed: 3 });
      randomBn(model, 4);
      model.eval();
      const rng = new Rng(5);
      const x = Tensor.from(Float32Array.from({ length: 2 * 3 * 32 * 32 }, () => rng.uniform()), [2, 3, 32, 32]);
      const ref = noGrad(() => model.call(x)).toArray() as number[];
      const f32 = loadTarget('x86-onnxruntime');
      const g32 = floatDeployGraph(model, { inputSize: 32 }, f32);
      assert.ok(g32.nodes.every((n) => n.op === 'float' || n.op === 'flatten' || n.op === 'qmaxpool'));
      assert.match(g32.conversions[0]!, /BatchNormalization folded/);
      const y32 = noGrad(() => new DeployModule(g32, f32).call(x)).toArray() as number[];
      assert.ok(maxRel(y32, ref) < 1e-5, `float32 graph vs model: ${maxRel(y32, ref)}`);
      const t16 = loadTarget('jetson-nano-fp16');
      const g16 = floatDeployGraph(model, { inputSize: 32 }, t16);
      assert.match(g16.conversions.join(' '), /binary16/);
      const y16 = noGrad(() => new DeployModule(g16, t16).call(x)).toArray() as number[];
      const e = maxRel(y16, ref);
      assert.ok(e > 0 && e < 2e-2, `fp16 graph vs model: ${e}`);
      // every logit is a binary16 value
      for (const v of y16) assert.equal(float16BitsToFloat32(float32ToFloat16Bits(v)), v);
    });
  }
});
