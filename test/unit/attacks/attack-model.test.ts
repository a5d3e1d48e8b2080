// The nn → AttackModel adapter (ts/eval/attack-model.ts): its input gradient matches central finite
// differences of the seeded loss on a tiny conv net (element-wise on a smooth tanh net, directional on
// a ReLU/BN net), parameters are frozen only during the VJP and keep no .grad, logits agree with a
// plain forward, and bad uses are named errors.
import assert from 'node:assert/strict';
import { Rng } from '../../../ts/util/rng.ts';
import { UsageError } from '../../../ts/util/errors.ts';
import { Tensor } from '../../../ts/tensor/index.ts';
import * as ag from '../../../ts/autograd/index.ts';
import { BatchNorm2d, Conv2d, Flatten, GlobalAvgPool2d, Linear, ReLU, Sequential } from '../../../ts/nn/index.ts';
import { fromFunction, fromModule } from '../../../ts/eval/attack-model.ts';
import type { AttackModel } from '../../../ts/attacks/model.ts';

const SHAPE = [3, 6, 6] as const;
const D = 108;

function smoothNet(seed: number): { fn: (x: Tensor) => Tensor; params: Tensor[] } {
  const rng = new Rng(seed);
  const w1 = ag.param(Tensor.randn([4, 3, 3, 3], rng, 0.4));
  const b1 = ag.param(Tensor.randn([4], rng, 0.1));
  const w2 = ag.param(Tensor.randn([5, 4 * 3 * 3], rng, 0.3));
  const b2 = ag.param(Tensor.randn([5], rng, 0.1));
  return { fn: (x) => ag.linear(ag.flatten(ag.tanh(ag.conv2d(x, w1, b1, { stride: 2, padding: 1 }))), w2, b2), params: [w1, b1, w2, b2] };
}

function reluNet(seed: number): Sequential {
  const rng = new Rng(seed);
  const m = new Sequential(new Conv2d(3, 6, 3, { padding: 1 }, rng), new BatchNorm2d(6), new ReLU(), new Conv2d(6, 8, 3, { stride: 2, padding: 1 }, rng), new ReLU(), new GlobalAvgPool2d(), new Flatten(), new Linear(8, 4, rng));
  // non-trivial running statistics so eval-mode BN is not the identity
  const bn = m.layers[1] as BatchNorm2d;
  bn.stateDict().get('running_mean')!.data.set([0.1, -0.2, 0.05, 0, 0.3, -0.1]);
  bn.stateDict().get('running_var')!.data.set([0.5, 2, 1, 1.5, 0.8, 1.2]);
  return m.eval();
}

/** L(x) = Σ r·z(x) in float64, through the model's logits */
async function seededLoss(m: AttackModel, x: Float32Array, n: number, r: Float32Array): Promise<number> {
  const z = await m.logits(x, n);
  let s = 0;
  for (let i = 0; i < z.length; i++) s += r[i]! * z[i]!;
  return s;
}

describe('eval/attack-model: the nn adapter', () => {
  const n = 2;
  const rng = new Rng(5);
  const x = Float32Array.from({ length: n * D }, () => 0.1 + 0.8 * rng.uniform());

  it('input gradient of a smooth conv net matches central differences element-wise', async () => {
    const { fn, params } = smoothNet(1);
    const m = fromFunction(fn, { inputShape: SHAPE, numClasses: 5, params, name: 'tiny' });
    const r = Float32Array.from({ length: n * 5 }, () => rng.normal());
    let seen: Float32Array | null = null;
    const { logits, grad } = await m.vjp!(x, n, (z) => { seen = z; return r; });
    assert.deepEqual([...seen!], [...logits]);
    assert.deepEqual([...logits], [...(await m.logits(x, n))]);
    const h = 1e-2;
    let worst = 0;
    for (let j = 0; j < x.length; j++) {
      const xp = x.slice(); xp[j]! += h;
      const xm = x.slice(); xm[j]! -= h;
      const num = ((await seededLoss(m, xp, n, r)) - (await seededLoss(m, xm, n, r))) / (2 * h);
      const err = Math.abs(num - grad[j]!) / (1e-3 + 1e-2 * Math.abs(num));
      worst = Math.max(worst, err);
    }
    assert.ok(worst <= 1, `worst error ratio ${worst}`);
    for (const p of params) { assert.equal(p.requiresGrad, true); assert.equal(p.grad, null); }
  });

  it('directional derivative of a ReLU/BN module matches central differences', async () => {
    const net = reluNet(2);
    const m = fromModule(net, { inputShape: SHAPE, numClasses: 4, name: 'relu-bn' });
    const r = Float32Array.from({ length: n * 4 }, () => rng.normal());
    const { grad } = await m.vjp!(x, n, () => r);
    for (let t = 0; t < 5; t++) {
      const v = Float32Array.from({ length: x.length }, () => rng.normal());
      const h = 1e-3;
      const num = ((await seededLoss(m, x.map((a, j) => a + h * v[j]!), n, r)) - (await seededLoss(m, x.map((a, j) => a - h * v[j]!), n, r))) / (2 * h);
      const ana = grad.reduce((s, g, j) => s + g * v[j]!, 0);
      assert.ok(Math.abs(num - ana) <= 2e-3 + 2e-2 * Math.abs(num), `directional ${ana} vs ${num}`);
    }
    for (const p of net.parameters()) { assert.equal(p.requiresGrad, true); assert.equal(p.grad, null); }
    // logits equal a plain forward pass
    const z = ag.noGrad(() => net.call(Tensor.from(x.slice(), [n, ...SHAPE]))).contiguous().data;
    assert.deepEqual([...(await m.logits(x, n))], [...z]);
  });

  it('names bad uses', async () => {
    const net = reluNet(3);
    assert.throws(() => fromModule(net.train(), { inputShape: SHAPE, numClasses: 4 }), (e: unknown) => e instanceof UsageError && /training mode/.test(e.message));
    net.eval();
    assert.throws(() => fromModule(net, { inputShape: SHAPE }), /integer >= 2 for numClasses/);
    assert.throws(() => fromModule(net, { inputShape: [3, 6] as unknown as [number, number, number], numClasses: 4 }), /inputShape/);
    const wrongK = fromModule(net, { inputShape: SHAPE, numClasses: 7, name: 'k7' });
    await assert.rejects(wrongK.logits(x, n), /model 'k7' returned \[2, 4\] logits; expected \[2, 7\]/);
    const m = fromModule(net, { inputShape: SHAPE, numClasses: 4 });
    await assert.rejects(m.logits(x, 3), /324 floats/);
    await assert.rejects(m.vjp!(x, n, () => new Float32Array(3)), /dLoss\/dLogits/);
    for (const p of net.parameters()) assert.equal(p.requiresGrad, true, 'restored after a failing seed');
  });
});
