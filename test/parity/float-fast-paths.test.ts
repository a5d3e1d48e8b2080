// The optimised paths of the float engine against their references: the native SGD update against
// ts/nn/optim.ts's loop (bitwise); conv2d's combined backward call
// against the two separate calls (bitwise, every backend, awkward geometries), and
// elementwise broadcasting add/sub/mul/div over trailing runs (per-channel normalisation, biases) on awkward
// shapes, both operand orders, and their gradients; Tensor.empty's contract. Exact equality: the
// fast paths do the same float64-then-float32 arithmetic as the references.
import assert from 'node:assert/strict';
import { Tensor, broadcastIndex, broadcastShapes, conv2dBackward, conv2dBackwardData, conv2dBackwardWeights, conv2dGeometry, floatInfo, setFloatBackend, sgdStep, type Conv2dOptions, type FloatBackendName } from '../../ts/tensor/index.ts';
import { SGD, type SgdOptions } from '../../ts/nn/index.ts';
import * as ag from '../../ts/autograd/index.ts';
import { Rng } from '../../ts/util/rng.ts';

type Op = 'add' | 'sub' | 'mul' | 'div';
const F: Record<Op, (x: number, y: number) => number> = { add: (x, y) => x + y, sub: (x, y) => x - y, mul: (x, y) => x * y, div: (x, y) => x / y };

function reference(op: Op, a: Tensor, b: Tensor): Float32Array {
  const shape = broadcastShapes(a.shape, b.shape);
  const ia = broadcastIndex(shape, a.shape);
  const ib = broadcastIndex(shape, b.shape);
  const n = shape.reduce((p, q) => p * q, 1);
  const o = new Float32Array(n);
  for (let i = 0; i < n; i++) o[i] = F[op](a.data[ia ? ia[i]! : i]!, b.data[ib ? ib[i]! : i]!);
  return o;
}

describe('parity/float-fast-paths: optimised elementwise paths vs reference loops', () => {
  const rng = new Rng(31);
  const cases: [number[], number[]][] = [
    [[2, 3, 5, 7], [1, 3, 1, 1]], // per channel, run 35
    [[4, 3, 6, 6], [3, 1, 1]], // shorter small shape
    [[3, 17], [3, 1]], // row broadcast, run 17
    [[2, 5, 4, 4], []], // scalar (one run over everything)
    [[2, 5, 4, 4], [1]],
    [[2, 3, 2, 2], [1, 3, 1, 1]], // run 4 < 16: generic path
    [[2, 3, 4, 5], [1, 1, 4, 5]], // leading broadcast: generic path
    [[6, 2, 3, 8], [6, 1, 1, 1]], // per sample, run 48
  ];
  for (const [big, small] of cases)
    for (const op of ['add', 'sub', 'mul', 'div'] as const)
      it(`${op} ${JSON.stringify(big)} with ${JSON.stringify(small)}, both orders, and gradients`, () => {
        const x = Tensor.randn(big, rng);
        const s = Tensor.rand(small, rng, 0.5, 2);
        const fns = { add: ag.add, sub: ag.sub, mul: ag.mul, div: ag.div };
        for (const [a, b] of [[x, s], [s, x]] as const) {
          const pa = ag.param(a.clone());
          const pb = ag.param(b.clone());
          const y = fns[op](pa, pb);
          assert.deepEqual(Array.from(y.data), Array.from(reference(op, a, b)));
          // gradients of Σ r·y by the chain rule, written out
          const r = Tensor.randn(y.shape, rng);
          ag.backward(y, r);
          const shape = y.shape;
          const ia = broadcastIndex(shape, a.shape);
          const ib = broadcastIndex(shape, b.shape);
          const ga = new Float64Array(a.size);
          const gb = new Float64Array(b.size);
          for (let i = 0; i < r.size; i++) {
            const av = a.data[ia ? ia[i]! : i]!;
            const bv = b.data[ib ? ib[i]! : i]!;
            const g = r.data[i]!;
            const [da, db] = op === 'add' ? [g, g] : op === 'sub' ? [g, -g] : op === 'mul' ? [g * bv, g * av] : [g / bv, (-g * av) / (bv * bv)];
            ga[ia ? ia[i]! : i]! += Math.fround(da);
            gb[ib ? ib[i]! : i]! += Math.fround(db);
          }
          pa.grad!.data.forEach((v, i) => assert.ok(Math.abs(v - ga[i]!) <= 1e-5 * (1 + Math.abs(ga[i]!)), `${op} da[${i}] ${v} vs ${ga[i]}`));
          pb.grad!.data.forEach((v, i) => assert.ok(Math.abs(v - gb[i]!) <= 1e-5 * (1 + Math.abs(gb[i]!)), `${op} db[${i}] ${v} vs ${gb[i]}`));
        }
      });

  it('Tensor.empty: shape, contiguity, own storage; small sizes are zeroed', () => {
    for (const shape of [[0], [3], [2, 3, 4], [64, 64], [2, 3, 33, 33]]) {
      const t = Tensor.empty(shape);
      assert.deepEqual(t.shape, shape);
      assert.ok(t.isContiguous());
      assert.equal(t.data.length, t.size);
      t.data.fill(1);
      assert.equal(t.sum(), t.size);
    }
    assert.ok(Tensor.empty([100]).data.every((v) => v === 0));
    const a = Tensor.empty([1 << 15]);
    const b = Tensor.empty([1 << 15]);
    a.data.fill(2);
    assert.notEqual(a.data.buffer, b.data.buffer);
    assert.throws(() => Tensor.empty([-1]), /shape/);
  });
});

describe('parity/float-fast-paths: conv2d backward in one native call', () => {
  const rng = new Rng(41);
  const cases: { x: number[]; w: number[]; o: Conv2dOptions; bias: boolean }[] = [
    { x: [2, 3, 7, 9], w: [5, 3, 3, 3], o: { padding: 1 }, bias: true },
    { x: [1, 4, 8, 8], w: [4, 1, 3, 3], o: { padding: 1, groups: 4 }, bias: false }, // depthwise
    { x: [3, 6, 11, 10], w: [4, 3, 2, 3], o: { stride: [2, 3], padding: [1, 0], groups: 2 }, bias: true },
    { x: [2, 2, 9, 9], w: [3, 2, 3, 3], o: { dilation: 2, padding: 2 }, bias: false },
    { x: [1, 2, 6, 6], w: [2, 2, 3, 3], o: { stride: 3, padding: 1 }, bias: true }, // negative effective right padding
    { x: [4, 16, 8, 8], w: [32, 16, 1, 1], o: { stride: 2 }, bias: false }, // projection shortcut
  ];
  const backends: FloatBackendName[] = floatInfo().available.includes('dnnl') ? ['ref', 'dnnl', 'auto'] : ['ref', 'auto'];
  for (const c of cases)
    for (const be of backends)
      it(`${JSON.stringify(c.x)} * ${JSON.stringify(c.w)} ${JSON.stringify(c.o)} bias=${c.bias} on ${be}: = the two separate calls`, () => {
        const g = conv2dGeometry(c.x, c.w, c.o);
        const x = Tensor.randn(c.x, rng);
        const w = Tensor.randn(c.w, rng);
        const [oh, ow] = [Math.floor((g.h + 2 * g.padH - g.dilationH * (g.kh - 1) - 1) / g.strideH) + 1, Math.floor((g.w + 2 * g.padW - g.dilationW * (g.kw - 1) - 1) / g.strideW) + 1];
        const dy = Tensor.randn([g.n, g.cout, oh, ow], rng);
        const sepDx = conv2dBackwardData(g, dy, w, be);
        const sepW = conv2dBackwardWeights(g, x, dy, c.bias, be);
        const all = conv2dBackward(g, x, dy, w, { dx: true, dw: true, db: c.bias }, be);
        assert.deepEqual(Array.from(all.dx!.data), Array.from(sepDx.data));
        assert.deepEqual(Array.from(all.dw!.data), Array.from(sepW.dw.data));
        if (c.bias) assert.deepEqual(Array.from(all.db!.data), Array.from(sepW.db!.data));
        const onlyDx = conv2dBackward(g, x, dy, w, { dx: true, dw: false, db: false }, be);
        assert.equal(onlyDx.dw, null);
        assert.deepEqual(Array.from(onlyDx.dx!.data), Array.from(sepDx.data));
        const onlyW = conv2dBackward(g, x, dy, w, { dx: false, dw: true, db: c.bias }, be);
        assert.equal(onlyW.dx, null);
        assert.deepEqual(Array.from(onlyW.dw!.data), Array.from(sepW.dw.data));
        if (c.bias) {
          const onlyB = conv2dBackward(g, x, dy, w, { dx: false, dw: false, db: true }, be);
          assert.equal(onlyB.dw, null);
          assert.deepEqual(Array.from(onlyB.db!.data), Array.from(sepW.db!.data));
        }
      });

  it('checks shapes before the native call', () => {
    const g = conv2dGeometry([1, 2, 4, 4], [3, 2, 3, 3], {});
    assert.throws(() => conv2dBackward(g, Tensor.zeros([1, 2, 4, 4]), Tensor.zeros([1, 3, 3, 3]), Tensor.zeros([3, 2, 3, 3]), { dx: true, dw: true, db: false }), /dy/);
    assert.throws(() => conv2dBackward(g, Tensor.zeros([1, 2, 5, 4]), Tensor.zeros([1, 3, 2, 2]), Tensor.zeros([3, 2, 3, 3]), { dx: true, dw: true, db: false }), /for x/);
  });
});

describe('parity/float-fast-paths: native SGD update = the TS loop (bitwise)', () => {
  const optsList: SgdOptions[] = [
    { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 5e-4 },
    { lr: 0.1, momentum: 0.9, dampening: 0.1 },
    { lr: 0.3, weightDecay: 1e-2 },
    { lr: 0.01 },
  ];
  for (const opts of optsList)
    it(`three steps with ${JSON.stringify(opts)} over sizes around the native threshold and the thread split`, () => {
      const run = (be: FloatBackendName) => {
        const prev = setFloatBackend(be);
        try {
          const rng = new Rng(8);
          const params = [16383, 16384, 65537, 200003].map((n) => ag.param(Tensor.randn([n], rng)));
          const opt = new SGD([{ params: params.slice(0, 2) }, { params: params.slice(2), weightDecay: 0.02 }], opts);
          for (let s = 0; s < 3; s++) {
            for (const p of params) p.grad = Tensor.randn(p.shape, rng, 0.1);
            opt.step();
          }
          return params.map((p) => p.data);
        } finally {
          setFloatBackend(prev);
        }
      };
      const a = run('auto');
      const r = run('ref');
      a.forEach((v, i) => assert.ok(v.every((x, j) => Object.is(x, r[i]![j])), `param ${i} differs`));
    });

  it('sgdStep checks its arguments', () => {
    const p = new Float32Array(4);
    const o = { lr: 0.1, momentum: 0.9, dampening: 0, weightDecay: 0, nesterov: false, first: true };
    assert.throws(() => sgdStep(p, new Float32Array(3), new Float32Array(4), o), /g/);
    assert.throws(() => sgdStep(p, new Float32Array(4), null, o), /buf/);
    assert.throws(() => sgdStep(p, new Float32Array(4), new Float32Array(4), { ...o, lr: -1 }), /lr/);
  });
});
