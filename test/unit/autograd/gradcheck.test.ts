// Every primitive's backward against central finite differences (float32 storage, ε = 1e-2,
// |analytic − numeric| ≤ 2e-3 + 1e-2·|numeric| unless stated), over awkward shapes: odd sizes,
// stride 2, padding, dilation, groups and depthwise, broadcasting. Inputs of non-smooth ops are
// moved away from their kinks first. Convolution and GEMM run on the default backend here (oneDNN
// when built in) and on the scalar twin in the last block.
import assert from 'node:assert/strict';
import { Tensor, setFloatBackend } from '../../../ts/tensor/index.ts';
import * as ag from '../../../ts/autograd/index.ts';
import { Rng } from '../../../ts/util/rng.ts';

const rng = new Rng(2024);
const rn = (shape: number[], std = 1) => Tensor.randn(shape, rng, std);

function check(name: string, fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[], opts: ag.GradcheckOptions = {}): void {
  const r = ag.gradcheck(fn, inputs, opts);
  assert.ok(r.checked > 0, `${name}: nothing checked`);
  assert.ok(r.ok, `${name}: gradcheck failed, worst ${JSON.stringify(r.worst)} (max abs error ${r.maxAbsError})`);
}

describe('autograd/gradcheck: every primitive', () => {
  it('add, sub, mul, div with broadcasting', () => {
    check('add', (a, b) => ag.add(a, b), [rn([2, 3, 5]), rn([3, 1])]);
    check('sub', (a, b) => ag.sub(a, b), [rn([4, 1, 3]), rn([2, 3])]);
    check('mul', (a, b) => ag.mul(a, b), [rn([2, 3, 5]), rn([1, 5])]);
    check('mul same', (a, b) => ag.mul(a, b), [rn([7]), rn([7])]);
    const den = ag.awayFromKinks(rn([3, 1]), [0], 0.5);
    check('div', (a, b) => ag.div(a, b), [rn([3, 4]), den]);
    check('neg', (a) => ag.neg(a), [rn([5])]);
  });

  it('relu, relu6, clamp, abs, sign, round (away from kinks), tanh, where', () => {
    const x = ag.awayFromKinks(rn([3, 7], 3), [0, 6, -1, 1.5], 0.05);
    check('relu', (a) => ag.relu(a), [x]);
    check('relu6', (a) => ag.relu6(a), [x]);
    check('clamp', (a) => ag.clamp(a, -1, 1.5), [x]);
    check('clamp min only', (a) => ag.clamp(a, 0), [x]);
    check('abs', (a) => ag.abs(a), [x]);
    check('sign', (a) => ag.sign(a), [x]);
    check('round', (a) => ag.round(a), [ag.awayFromKinks(rn([11], 3), [0.5], 0.05, 1)]);
    check('tanh', (a) => ag.tanh(a), [rn([2, 9])]);
    const cond = Tensor.from([1, 0, 0, 1, 1], [5]);
    check('where', (a, b) => ag.where(cond, a, b), [rn([3, 5]), rn([1, 5])]);
  });

  it('sum, mean, max over axes, keepdim', () => {
    check('sum all', (a) => ag.sum(a), [rn([3, 4, 5])]);
    check('sum dim', (a) => ag.sum(a, { dim: [0, 2] }), [rn([3, 4, 5])]);
    check('mean keepdim', (a) => ag.mean(a, { dim: -1, keepdim: true }), [rn([3, 4, 5])]);
    // distinct values so that no tie sits within ε of the maximum
    const perm = new Rng(5).permutation(60);
    const distinct = Tensor.from(Float32Array.from(perm, (v) => v * 0.1), [3, 4, 5]);
    check('max all', (a) => ag.max(a), [distinct]);
    check('max dim', (a) => ag.max(a, { dim: 1 }), [distinct]);
  });

  it('reshape and flatten', () => {
    check('reshape', (a) => ag.mul(ag.reshape(a, [5, -1]), ag.reshape(a, [5, -1])), [rn([2, 5, 3])]);
    check('flatten', (a) => ag.flatten(a), [rn([2, 3, 2, 2])]);
  });

  const convCases: { name: string; x: number[]; w: number[]; opts: Parameters<typeof ag.conv2d>[3]; bias: boolean }[] = [
    { name: 'plain 3x3 pad 1', x: [2, 3, 5, 5], w: [4, 3, 3, 3], opts: { padding: 1 }, bias: true },
    { name: 'stride 2, odd size', x: [1, 2, 7, 6], w: [3, 2, 3, 3], opts: { stride: 2, padding: 1 }, bias: false },
    { name: 'dilation 2, rect kernel', x: [1, 2, 7, 7], w: [2, 2, 3, 2], opts: { dilation: 2, padding: [2, 1] }, bias: true },
    { name: 'groups 2', x: [2, 4, 5, 5], w: [6, 2, 3, 3], opts: { groups: 2, padding: 1 }, bias: true },
    { name: 'depthwise stride 2', x: [1, 3, 6, 6], w: [3, 1, 3, 3], opts: { groups: 3, stride: 2, padding: 1 }, bias: true },
    { name: '1x1 stride 2 (downsample)', x: [2, 3, 5, 5], w: [4, 3, 1, 1], opts: { stride: 2 }, bias: false },
  ];
  for (const c of convCases) {
    it(`conv2d: ${c.name}`, () => {
      const inputs = [rn(c.x), rn(c.w, 0.5), ...(c.bias ? [rn([c.w[0]!])] : [])];
      check(c.name, (x, w, b) => ag.conv2d(x!, w!, b ?? null, c.opts), inputs);
    });
  }

  it('linear and matmul', () => {
    check('linear', (x, w, b) => ag.linear(x!, w!, b!), [rn([3, 5]), rn([4, 5]), rn([4])]);
    check('linear no bias', (x, w) => ag.linear(x!, w!), [rn([1, 7]), rn([3, 7])]);
    check('matmul', (a, b) => ag.matmul(a!, b!), [rn([3, 5]), rn([5, 2])]);
  });

  it('batchnorm2d: training (batch stats), eval (running stats), no affine', () => {
    const x = rn([3, 2, 3, 2], 2);
    const g = Tensor.from([1.5, -0.5]);
    const b = Tensor.from([0.1, 0.2]);
    check('bn train', (a, w, bb) => ag.batchnorm2d(a!, w!, bb!, null, null, { training: true }), [x, g, b], { atol: 3e-3 });
    check('bn train odd', (a) => ag.batchnorm2d(a!, null, null, Tensor.zeros([3]), Tensor.ones([3]), { training: true }), [rn([2, 3, 3, 1])], { atol: 3e-3 });
    const rm = Tensor.from([0.3, -0.2]);
    const rv = Tensor.from([2.0, 0.5]);
    check('bn eval', (a, w, bb) => ag.batchnorm2d(a!, w!, bb!, rm, rv, { training: false }), [x, g, b]);
  });

  it('maxPool2d, avgPool2d (padding, stride, count_include_pad), globalAvgPool2d', () => {
    const perm = new Rng(9).permutation(2 * 3 * 7 * 7);
    const distinct = Tensor.from(Float32Array.from(perm, (v) => v * 0.05), [2, 3, 7, 7]);
    check('maxpool 3/2 pad 1', (a) => ag.maxPool2d(a!, { kernel: 3, stride: 2, padding: 1 }), [distinct]);
    check('maxpool 2', (a) => ag.maxPool2d(a!, { kernel: 2 }), [distinct]);
    check('avgpool 3/2 pad 1', (a) => ag.avgPool2d(a!, { kernel: 3, stride: 2, padding: 1 }), [rn([2, 2, 5, 6])]);
    check('avgpool exclude pad', (a) => ag.avgPool2d(a!, { kernel: [3, 2], stride: [1, 2], padding: [1, 1], countIncludePad: false }), [rn([1, 2, 5, 5])]);
    check('gap', (a) => ag.globalAvgPool2d(a!), [rn([2, 3, 3, 5])]);
  });

  it('crossEntropy: plain, label smoothing, sum and none reductions', () => {
    const y = [2, 0, 4];
    check('ce', (z) => ag.crossEntropy(z!, y), [rn([3, 5], 2)]);
    check('ce ls', (z) => ag.crossEntropy(z!, y, { labelSmoothing: 0.1 }), [rn([3, 5], 2)]);
    check('ce sum', (z) => ag.crossEntropy(z!, y, { reduction: 'sum', labelSmoothing: 0.3 }), [rn([3, 5], 2)]);
    check('ce none', (z) => ag.crossEntropy(z!, y, { reduction: 'none' }), [rn([3, 5], 2)]);
  });

  it('dropout (the mask is fixed by a seed built inside fn)', () => {
    check('dropout', (a) => ag.dropout(a!, 0.3, new Rng(11)), [rn([4, 5])]);
  });

  it('a small network end to end (conv, bn, relu, pool, linear, ce) on the scalar twin', () => {
    const prev = setFloatBackend('ref');
    try {
      const x = rn([2, 2, 6, 6]);
      const w1 = rn([3, 2, 3, 3], 0.5);
      const w2 = rn([4, 3], 0.5);
      const net = (xx: Tensor, a: Tensor, b: Tensor) => {
        let h = ag.conv2d(xx, a, null, { padding: 1, stride: 2 });
        h = ag.batchnorm2d(h, null, null, null, null, { training: true });
        h = ag.tanh(h);
        h = ag.flatten(ag.globalAvgPool2d(h));
        return ag.crossEntropy(ag.linear(h, b), [1, 3], { labelSmoothing: 0.1 });
      };
      check('net', net, [x, w1, w2], { atol: 3e-3 });
    } finally {
      setFloatBackend(prev);
    }
  });
});
