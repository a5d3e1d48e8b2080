// The tape's recycling of dead gradient buffers (ts/tensor/pool.ts, ts/autograd/graph.ts): training
// with recycling gives bitwise the numbers of training without it; buffers are really recycled; and
// nothing the caller can reach (leaf .grad, grad() results, activations, gradOutput) is ever reused.
import assert from 'node:assert/strict';
import { Tensor } from '../../../ts/tensor/index.ts';
import { clearBufferPool, pooledBytes, setBufferPoolLimit } from '../../../ts/tensor/pool.ts';
import * as ag from '../../../ts/autograd/index.ts';
import { SGD } from '../../../ts/nn/index.ts';
import { Rng } from '../../../ts/util/rng.ts';

// A small residual conv net with every tape pattern: pass-through (add), views (reshape), shared
// subexpressions (h used twice), accumulation into parameters used twice.
function makeNet(seed: number) {
  const rng = new Rng(seed);
  const w1 = ag.param(Tensor.randn([8, 3, 3, 3], rng, 0.3));
  const w2 = ag.param(Tensor.randn([8, 8, 3, 3], rng, 0.2));
  const g1 = ag.param(Tensor.ones([8]));
  const b1 = ag.param(Tensor.zeros([8]));
  const fc = ag.param(Tensor.randn([5, 8 * 16 * 16], rng, 0.01));
  const params = [w1, w2, g1, b1, fc];
  const forward = (x: Tensor) => {
    const h = ag.relu(ag.batchnorm2d(ag.conv2d(x, w1, null, { padding: 1 }), g1, b1, null, null, { training: true }));
    const r = ag.relu(ag.add(ag.conv2d(h, w2, null, { padding: 1 }), h));
    const z = ag.add(ag.conv2d(r, w2, null, { padding: 1 }), ag.mul(r, h)); // w2 used twice
    return ag.linear(ag.reshape(z, [z.shape[0]!, -1]), fc, null);
  };
  return { params, forward };
}

function train(recycle: boolean): { losses: number[]; params: number[][]; inputGrad: number[] } {
  clearBufferPool();
  const prevLimit = setBufferPoolLimit(recycle ? 512 * 1024 * 1024 : 0);
  try {
    return trainSteps();
  } finally {
    setBufferPoolLimit(prevLimit);
  }
}

function trainSteps(): { losses: number[]; params: number[][]; inputGrad: number[] } {
  const net = makeNet(3);
  const opt = new SGD(net.params, { lr: 0.05, momentum: 0.9 });
  const rng = new Rng(9);
  const losses: number[] = [];
  let inputGrad: Tensor | null = null;
  for (let step = 0; step < 4; step++) {
    const x = ag.param(Tensor.randn([4, 3, 16, 16], rng));
    const labels = [0, 1, 2, 3];
    opt.zeroGrad();
    const loss = ag.crossEntropy(net.forward(x), labels);
    ag.backward(loss);
    losses.push(loss.item());
    opt.step();
    if (step === 1) {
      const out = ag.sum(net.forward(x));
      inputGrad = ag.grad(out, [x])[0]!;
    }
  }
  return { losses, params: net.params.map((p) => Array.from(p.data)), inputGrad: Array.from(inputGrad!.data) };
}

describe('autograd/buffer pool: recycled gradient buffers', () => {
  afterEach(() => clearBufferPool());

  it('training with recycling = training without it (bitwise)', () => {
    const a = train(true);
    const b = train(false);
    assert.equal(pooledBytes(), 0);
    assert.deepEqual(a.losses, b.losses);
    assert.deepEqual(a.params, b.params);
    assert.deepEqual(a.inputGrad, b.inputGrad);
  });

  it('a backward pass leaves dead gradient buffers in the pool, and the next pass takes them', () => {
    const net = makeNet(4);
    const x = Tensor.randn([4, 3, 16, 16], new Rng(1));
    clearBufferPool();
    ag.backward(ag.sum(net.forward(x)));
    const after1 = pooledBytes();
    assert.ok(after1 >= 4 * 8 * 16 * 16 * 4, `pooled ${after1} bytes`);
    ag.backward(ag.sum(net.forward(x)));
    assert.ok(pooledBytes() <= after1 + 4 * 8 * 16 * 16 * 4 * 4, 'the second pass reused buffers instead of growing the pool');
  });

  it('what the caller holds is never recycled: .grad, grad() results, activations, gradOutput', () => {
    const net = makeNet(5);
    const rng = new Rng(2);
    const x = ag.param(Tensor.randn([4, 3, 16, 16], rng));
    const hidden = ag.relu(ag.conv2d(x, net.params[0]!, null, { padding: 1 }));
    const y = ag.mul(hidden, hidden);
    const gOut = Tensor.randn(y.shape, rng);
    const keepGOut = Array.from(gOut.data);
    const [gx, gh] = ag.grad(y, [x, hidden], gOut);
    const keep = [Array.from(gx!.data), Array.from(gh!.data), Array.from(hidden.data)];
    ag.backward(y, gOut);
    const keepLeaf = Array.from(x.grad!.data);
    // churn: several more passes that allocate and recycle buffers of the same sizes
    for (let i = 0; i < 3; i++) ag.backward(ag.sum(ag.mul(ag.relu(ag.conv2d(Tensor.randn([4, 3, 16, 16], rng), net.params[0]!, null, { padding: 1 })), 2)));
    assert.deepEqual(Array.from(gx!.data), keep[0]);
    assert.deepEqual(Array.from(gh!.data), keep[1]);
    assert.deepEqual(Array.from(hidden.data), keep[2]);
    assert.deepEqual(Array.from(gOut.data), keepGOut);
    assert.deepEqual(Array.from(x.grad!.data), keepLeaf);
  });
});

describe('autograd/buffer pool: limit', () => {
  it('a zero limit disables recycling; bad limits are errors', () => {
    const prev = setBufferPoolLimit(0);
    try {
      ag.backward(ag.sum(ag.relu(ag.mul(ag.param(Tensor.randn([8192], new Rng(3))), 2))));
      assert.equal(pooledBytes(), 0);
      assert.throws(() => setBufferPoolLimit(-1), /bytes >= 0/);
      assert.throws(() => setBufferPoolLimit(NaN), /bytes >= 0/);
    } finally {
      setBufferPoolLimit(prev);
    }
  });
});
