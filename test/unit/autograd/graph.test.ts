// The tape: accumulation into leaves, input gradients via grad(), noGrad, shared subexpressions,
// and named errors; plus hand-computed forward values of the primitives whose semantics matter
// (round half to even, relu6/clamp boundary gradients, label smoothing, running statistics).
import assert from 'node:assert/strict';
import { Tensor } from '../../../ts/tensor/index.ts';
import * as ag from '../../../ts/autograd/index.ts';
import { Rng } from '../../../ts/util/rng.ts';
import { UsageError } from '../../../ts/util/errors.ts';

const near = (a: number[], b: number[], tol = 1e-5) => a.forEach((v, i) => assert.ok(Math.abs(v - b[i]!) <= tol, `index ${i}: ${v} vs ${b[i]}`));

describe('autograd/graph', () => {
  it('accumulates into leaves, through a shared subexpression', () => {
    const x = ag.param(Tensor.from([1, 2, 3]));
    const y = ag.mul(x, x); // used twice below
    ag.backward(ag.sum(ag.add(y, y)));
    assert.deepEqual(x.grad!.toArray(), [4, 8, 12]);
    ag.backward(ag.sum(x));
    assert.deepEqual(x.grad!.toArray(), [5, 9, 13]);
    ag.zeroGrad([x]);
    assert.equal(x.grad, null);
  });

  it('grad() gives input gradients without touching .grad (the attack path)', () => {
    const img = ag.param(Tensor.from([0.2, 0.7], [1, 2]));
    const w = ag.param(Tensor.from([1, -1, 2, 0.5], [2, 2]));
    const loss = ag.crossEntropy(ag.linear(img, w), [0]);
    const [gImg, gW] = ag.grad(loss, [img, w]);
    assert.deepEqual(gImg!.shape, [1, 2]);
    assert.deepEqual(gW!.shape, [2, 2]);
    assert.equal(img.grad, null);
    assert.equal(w.grad, null);
    // gradient wrt an intermediate
    const h = ag.linear(img, w);
    const [gh] = ag.grad(ag.crossEntropy(h, [1]), [h]);
    assert.ok(Math.abs(gh!.sum()) < 1e-6); // softmax − onehot sums to 0
  });

  it('noGrad records nothing; backward on a non-recorded output is a named error', () => {
    const x = ag.param(Tensor.from([1, 2]));
    const y = ag.noGrad(() => ag.relu(x));
    assert.equal(y.gradFn, null);
    assert.equal(ag.isGradEnabled(), true);
    assert.throws(() => ag.backward(y), /does not require grad/);
    assert.throws(() => ag.backward(ag.mul(x, 2)), /not a scalar/);
    ag.backward(ag.mul(x, 2), Tensor.from([1, 1]));
    assert.deepEqual(x.grad!.toArray(), [2, 2]);
    assert.throws(() => ag.backward(ag.mul(x, 2), Tensor.from([1])), /shape/);
  });

  it('does not record when no input needs a gradient', () => {
    assert.equal(ag.relu(Tensor.from([1])).gradFn, null);
  });
});

describe('autograd/forward semantics', () => {
  it('round is half-to-even; sign, abs, clamp, relu6 values', () => {
    assert.deepEqual(ag.round(Tensor.from([0.5, 1.5, 2.5, -0.5, -1.5, 2.4])).toArray(), [0, 2, 2, -0, -2, 2]);
    assert.deepEqual(ag.sign(Tensor.from([-3, 0, 2])).toArray(), [-1, 0, 1]);
    assert.deepEqual(ag.relu6(Tensor.from([-1, 3, 9])).toArray(), [0, 3, 6]);
    assert.deepEqual(ag.clamp(Tensor.from([-2, 0.5, 3]), 0, 1).toArray(), [0, 0.5, 1]);
    assert.throws(() => ag.clamp(Tensor.from([1]), 2, 1), UsageError);
  });

  it('relu6 has zero gradient at the boundaries, clamp has one (as torch)', () => {
    const x = ag.param(Tensor.from([0, 6, 3]));
    ag.backward(ag.sum(ag.relu6(x)));
    assert.deepEqual(x.grad!.toArray(), [0, 0, 1]);
    const z = ag.param(Tensor.from([0, 6, 3]));
    ag.backward(ag.sum(ag.clamp(z, 0, 6)));
    assert.deepEqual(z.grad!.toArray(), [1, 1, 1]);
  });

  it('max shares the gradient between ties', () => {
    const x = ag.param(Tensor.from([1, 3, 3]));
    ag.backward(ag.max(x));
    assert.deepEqual(x.grad!.toArray(), [0, 0.5, 0.5]);
  });

  it('cross-entropy with label smoothing matches the closed form', () => {
    // logits 0 everywhere over C = 4: every log p = −log 4, so the loss is log 4 whatever ε.
    near([ag.crossEntropy(Tensor.zeros([2, 4]), [1, 3], { labelSmoothing: 0.2 }).item()], [Math.log(4)]);
    // z = [2, 0], y = 0, ε = 0.1: q = [0.95, 0.05]
    const lse = Math.log(Math.exp(2) + 1);
    const want = -(0.95 * (2 - lse) + 0.05 * (0 - lse));
    near([ag.crossEntropy(Tensor.from([2, 0], [1, 2]), [0], { labelSmoothing: 0.1 }).item()], [want]);
    assert.throws(() => ag.crossEntropy(Tensor.zeros([2, 4]), [1, 4]), /target\[1\]/);
    assert.throws(() => ag.crossEntropy(Tensor.zeros([2, 4]), [1]), /1 labels for a batch of 2/);
  });

  it('batchnorm2d updates running statistics as torch (unbiased variance, momentum)', () => {
    const x = Tensor.from([1, 2, 3, 6], [4, 1, 1, 1]);
    const rm = Tensor.zeros([1]);
    const rv = Tensor.ones([1]);
    ag.batchnorm2d(x, null, null, rm, rv, { training: true, momentum: 0.1 });
    // mean 3, biased var 3.5, unbiased 14/3
    near(rm.toArray(), [0.3]);
    near(rv.toArray(), [0.9 + 0.1 * (14 / 3)]);
    const y = ag.batchnorm2d(x, null, null, rm, rv, { training: false });
    near(y.toArray(), [1, 2, 3, 6].map((v) => (v - 0.3) / Math.sqrt(rv.item() + 1e-5)));
    assert.throws(() => ag.batchnorm2d(Tensor.zeros([1, 2, 1, 1]), null, null, null, null, { training: true }), /more than one value/);
    assert.throws(() => ag.batchnorm2d(x, Tensor.ones([2]), null, null, null), /weight/);
  });

  it('dropout is seeded, scaled, and the identity in eval', () => {
    const x = Tensor.ones([1000]);
    const a = ag.dropout(x, 0.25, new Rng(3)).toArray();
    const b = ag.dropout(x, 0.25, new Rng(3)).toArray();
    assert.deepEqual(a, b);
    assert.ok(a.every((v) => v === 0 || Math.abs(v - 4 / 3) < 1e-6));
    const kept = a.filter((v) => v !== 0).length;
    assert.ok(kept > 700 && kept < 800, `kept ${kept}`);
    assert.equal(ag.dropout(x, 0.25, new Rng(3), false), x);
    assert.throws(() => ag.dropout(x, 1, new Rng(3)), /p/);
  });

  it('pooling values (max with padding, avg with and without padded zeros)', () => {
    const x = Tensor.from([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 1, 3, 3]);
    assert.deepEqual(ag.maxPool2d(x, { kernel: 3, stride: 2, padding: 1 }).toArray(), [5, 6, 8, 9]);
    near(ag.avgPool2d(x, { kernel: 3, stride: 2, padding: 1 }).toArray(), [12 / 9, 16 / 9, 24 / 9, 28 / 9]);
    near(ag.avgPool2d(x, { kernel: 3, stride: 2, padding: 1, countIncludePad: false }).toArray(), [3, 4, 6, 7]);
    near(ag.globalAvgPool2d(x).toArray(), [5]);
    assert.throws(() => ag.maxPool2d(x, { kernel: 2, padding: 2 }), /at most half/);
  });
});

describe('autograd/graph: gradient accumulation does not alias', () => {
  it('x + x, y used three times, and grad() of an intermediate that passes its gradient through', () => {
    const x = ag.param(Tensor.from([1, 2]));
    ag.backward(ag.sum(ag.add(x, x)));
    assert.deepEqual(x.grad!.toArray(), [2, 2]);
    const z = ag.param(Tensor.from([3]));
    const y = ag.mul(z, 2);
    const s = ag.add(ag.add(y, y), y); // three contributions to y's gradient
    const out = ag.add(s, s);
    const [gy, gs] = ag.grad(ag.sum(out), [y, s]);
    assert.deepEqual(gs!.toArray(), [2]);
    assert.deepEqual(gy!.toArray(), [6]);
  });
});
