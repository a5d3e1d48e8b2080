// Modules: torch names and order of parameters/buffers, state-dict round trips and named errors,
// train/eval behaviour, resnet20's forward pass (shape, parameter count, seeded init, gradients to
// every parameter and to the input), and SGD against hand-computed updates.
import assert from 'node:assert/strict';
import { Tensor } from '../../../ts/tensor/index.ts';
import * as ag from '../../../ts/autograd/index.ts';
import { resnet18, resnet20, SGD, Sequential, Conv2d, BatchNorm2d, ReLU, Linear, Normalize, Flatten, GlobalAvgPool2d, Dropout } from '../../../ts/nn/index.ts';
import { Rng } from '../../../ts/util/rng.ts';
import { UsageError } from '../../../ts/util/errors.ts';

describe('nn/modules', () => {
  it('names parameters and buffers as torch, in torch order', () => {
    const m = new Sequential(new Conv2d(3, 4, 3, { padding: 1 }, new Rng(0)), new BatchNorm2d(4), new ReLU());
    assert.deepEqual([...m.stateDict().keys()], ['0.weight', '0.bias', '1.weight', '1.bias', '1.running_mean', '1.running_var', '1.num_batches_tracked']);
    assert.deepEqual(m.namedParameters().map(([n]) => n), ['0.weight', '0.bias', '1.weight', '1.bias']);
    assert.equal(m.call(Tensor.zeros([2, 3, 5, 5])).shape.join(), '2,4,5,5');
  });

  it('round-trips a state dict and names bad entries', () => {
    const a = resnet20({ seed: 1 });
    const b = resnet20({ seed: 2 });
    assert.notDeepEqual(a.conv1.weight.toArray(), b.conv1.weight.toArray());
    b.loadStateDict(a.stateDict());
    assert.deepEqual(a.conv1.weight.toArray(), b.conv1.weight.toArray());
    const sd = a.stateDict();
    sd.delete('fc.bias');
    assert.throws(() => b.loadStateDict(sd), /missing entry 'fc.bias'/);
    const sd2 = a.stateDict();
    sd2.set('fc.extra', Tensor.zeros([1]));
    assert.throws(() => b.loadStateDict(sd2), /unexpected entry 'fc.extra'/);
    const sd3 = a.stateDict();
    sd3.set('fc.weight', Tensor.zeros([3, 64]));
    assert.throws(() => b.loadStateDict(sd3), /'fc.weight' has shape \[3, 64\] but the model expects \[10, 64\]/);
  });

  it('rejects bad layer arguments with named errors', () => {
    assert.throws(() => new Conv2d(3, 4, 3, { groups: 2 }, new Rng(0)), /divisible by groups/);
    assert.throws(() => new Linear(0, 4, new Rng(0)), UsageError);
    assert.throws(() => new Linear(4, 4, undefined as never), /rng/);
    assert.throws(() => new Normalize([0.5, 0.5], [0.2]), UsageError);
    assert.throws(() => new Normalize([0.5], [0]), /std/);
    assert.throws(() => new Dropout(1, new Rng(0)), /p/);
    assert.throws(() => resnet20({ numClasses: 1 }), /numClasses/);
  });

  it('Normalize, Flatten, GlobalAvgPool2d', () => {
    assert.equal(new Normalize([0.5], [0.25]).call(Tensor.full([1, 1, 1, 1], 1)).item(), 2);
    assert.deepEqual(new Sequential(new GlobalAvgPool2d(), new Flatten()).call(Tensor.ones([2, 3, 4, 4])).shape, [2, 3]);
  });
});

describe('nn/resnet20', () => {
  it('forward: [N, 3, 32, 32] → [N, classes], 272,474 parameters, seeded, train vs eval', () => {
    const m = resnet20({ seed: 3, mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] });
    assert.equal(m.numParameters(), 272474);
    assert.equal(m.stateDict().size, 130); // 65 params + 3 buffers x 21 BNs + normalize mean/std
    assert.ok(m.stateDict().has('layer2.0.downsample.1.running_var'));
    const x = Tensor.rand([4, 3, 32, 32], new Rng(1));
    const y = m.call(x);
    assert.deepEqual(y.shape, [4, 10]);
    assert.ok(y.toArray().every(Number.isFinite));
    assert.equal(m.bn1.numBatchesTracked.item(), 1);
    const again = resnet20({ seed: 3, mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] });
    assert.deepEqual(again.call(x).toArray(), y.toArray());
    // eval uses running statistics: a single image gives the same logits alone or in a batch
    m.eval();
    const one = ag.noGrad(() => m.call(x.narrow(0, 1, 1)));
    const all = ag.noGrad(() => m.call(x));
    one.toArray().forEach((v, i) => assert.ok(Math.abs(v - all.get(1, i)) < 1e-4));
    assert.equal(m.bn1.numBatchesTracked.item(), 1);
    assert.throws(() => m.call(Tensor.zeros([1, 1, 32, 32])), /Normalize: expected \[N, 3, H, W\]/);
  });

  it('backward reaches every parameter and the input (the attack path)', () => {
    const m = resnet20({ seed: 4, numClasses: 5 });
    const x = ag.param(Tensor.rand([3, 3, 16, 16], new Rng(2)));
    const loss = ag.crossEntropy(m.call(x), [0, 4, 2], { labelSmoothing: 0.1 });
    ag.backward(loss);
    for (const [name, p] of m.namedParameters()) {
      assert.ok(p.grad, `${name} has no gradient`);
      assert.ok(p.grad.toArray().some((v) => v !== 0), `${name} has an all-zero gradient`);
    }
    assert.deepEqual(x.grad!.shape, [3, 3, 16, 16]);
    assert.ok(x.grad!.toArray().some((v) => v !== 0));
  });
});

describe('nn/resnet18', () => {
  it('has torchvision\'s 11,689,512 parameters at 1000 classes and runs at 32x32 and 48x40', () => {
    assert.equal(resnet18().numParameters(), 11689512);
    const m = resnet18({ numClasses: 7, seed: 2 });
    assert.deepEqual(ag.noGrad(() => m.eval().call(Tensor.rand([1, 3, 32, 32], new Rng(1)))).shape, [1, 7]);
    assert.deepEqual(ag.noGrad(() => m.call(Tensor.rand([2, 3, 48, 40], new Rng(1)))).shape, [2, 7]);
  });
});

describe('nn/SGD', () => {
  it('matches hand-computed torch updates (momentum, Nesterov, weight decay, groups)', () => {
    const p = ag.param(Tensor.from([1, -2]));
    const q = ag.param(Tensor.from([3]));
    const opt = new SGD([{ params: [p] }, { params: [q], weightDecay: 0 }], { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.01 });
    p.grad = Tensor.from([0.5, 0.5]);
    q.grad = Tensor.from([1]);
    opt.step();
    // p: g = 0.5 + 0.01 p; buf = g; g' = g + 0.9 buf = 1.9 g
    const g0 = [0.5 + 0.01, 0.5 - 0.02];
    const p1 = [1 - 0.1 * 1.9 * g0[0]!, -2 - 0.1 * 1.9 * g0[1]!];
    p.toArray().forEach((v, i) => assert.ok(Math.abs(v - p1[i]!) < 1e-6));
    assert.ok(Math.abs(q.item() - (3 - 0.1 * 1.9)) < 1e-6);
    opt.step(); // same grads: buf = 0.9 buf + g; g' = g + 0.9 buf
    const g1 = [0.5 + 0.01 * p1[0]!, 0.5 + 0.01 * p1[1]!];
    const buf = [0.9 * g0[0]! + g1[0]!, 0.9 * g0[1]! + g1[1]!];
    const p2 = [p1[0]! - 0.1 * (g1[0]! + 0.9 * buf[0]!), p1[1]! - 0.1 * (g1[1]! + 0.9 * buf[1]!)];
    p.toArray().forEach((v, i) => assert.ok(Math.abs(v - p2[i]!) < 1e-6));
    opt.zeroGrad();
    assert.equal(p.grad, null);
    assert.throws(() => new SGD([p], { lr: -1 }), /lr/);
  });

  it('matches hand-computed updates with plain momentum + dampening, and without momentum', () => {
    const p = ag.param(Tensor.from([1]));
    const opt = new SGD([p], { lr: 0.1, momentum: 0.9, dampening: 0.1 });
    p.grad = Tensor.from([0.5]);
    opt.step(); // buf = g = 0.5 (no dampening on the first step); p = 1 − 0.05
    assert.equal(p.data[0], Math.fround(0.95));
    opt.step(); // buf = 0.9·0.5 + 0.9·0.5 = 0.9; p = 0.95 − 0.09
    assert.ok(Math.abs(p.data[0]! - 0.86) < 1e-6);
    const q = ag.param(Tensor.from([2, -4]));
    const plain = new SGD([q], { lr: 0.1, weightDecay: 0.5 });
    q.grad = Tensor.from([1, 0]);
    plain.step(); // g = grad + 0.5·q = [2, −2]
    assert.deepEqual(q.toArray(), [Math.fround(1.8), Math.fround(-3.8)]);
    assert.throws(() => new SGD([p], { lr: 0.1, nesterov: true }), /Nesterov/);
  });
});
