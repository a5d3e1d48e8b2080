// Tensor views (shape/strides/offset), zero-copy host storage, broadcasting maps, and the checked
// native float wrappers (shapes and options rejected before the native call).
import assert from 'node:assert/strict';
import { Tensor, HostStorage, broadcastShapes, broadcastIndex, normAxes, conv2dGeometry, conv2dForward, matmul, floatInfo, setFloatBackend } from '../../../ts/tensor/index.ts';
import { Rng } from '../../../ts/util/rng.ts';
import { UsageError, QrobustError } from '../../../ts/util/errors.ts';

describe('tensor/Tensor', () => {
  it('wraps a Float32Array zero-copy and honours views', () => {
    const buf = new Float32Array(24).map((_, i) => i);
    const t = Tensor.from(buf, [2, 3, 4]);
    assert.equal(t.data.buffer, buf.buffer);
    assert.deepEqual(t.strides, [12, 4, 1]);
    t.data[5] = 100;
    assert.equal(buf[5], 100);
    const p = t.permute([2, 0, 1]);
    assert.equal(p.isContiguous(), false);
    assert.throws(() => p.data, QrobustError);
    assert.equal(p.get(1, 1, 2), t.get(1, 2, 1));
    const c = p.contiguous();
    assert.deepEqual(c.shape, [4, 2, 3]);
    assert.equal(c.get(3, 1, 0), t.get(1, 0, 3));
    const n = t.narrow(0, 1, 1);
    assert.equal(n.isContiguous(), true);
    assert.equal(n.data.byteOffset, 12 * 4);
    assert.equal(n.data[0], 12);
    assert.deepEqual(t.view([6, -1]).shape, [6, 4]);
    assert.throws(() => t.view([5, 5]), UsageError);
    assert.throws(() => t.permute([0, 0, 1]), UsageError);
    assert.throws(() => t.narrow(1, 2, 2), UsageError);
    assert.throws(() => new Tensor(new HostStorage(new Float32Array(4)), [5]), UsageError);
  });

  it('builds seeded random tensors and checks shapes', () => {
    const a = Tensor.randn([3, 4], new Rng(3));
    const b = Tensor.randn([3, 4], new Rng(3));
    assert.deepEqual(a.toArray(), b.toArray());
    assert.throws(() => Tensor.zeros([2, -1]), UsageError);
    assert.throws(() => Tensor.from([1, 2, 3], [2, 2]), UsageError);
    assert.equal(Tensor.scalar(2.5).item(), 2.5);
    assert.equal(Tensor.full([2, 3], 7).sum(), 42);
  });

  it('broadcasts like numpy', () => {
    assert.deepEqual(broadcastShapes([2, 1, 4], [3, 1]), [2, 3, 4]);
    assert.throws(() => broadcastShapes([2, 3], [4]), /do not broadcast/);
    assert.equal(broadcastIndex([2, 3], [2, 3]), null);
    assert.deepEqual(Array.from(broadcastIndex([2, 3], [3])!), [0, 1, 2, 0, 1, 2]);
    assert.deepEqual(Array.from(broadcastIndex([2, 3], [2, 1])!), [0, 0, 0, 1, 1, 1]);
    assert.deepEqual(Array.from(broadcastIndex([2, 2, 2], [2, 1, 2])!), [0, 1, 0, 1, 2, 3, 2, 3]);
    assert.deepEqual(normAxes('dim', [-1, 0], 3), [0, 2]);
    assert.throws(() => normAxes('dim', 3, 3), UsageError);
  });
});

describe('tensor/float-kernels', () => {
  it('reports its backends', () => {
    const info = floatInfo();
    assert.ok(info.available.includes('ref'));
    assert.ok(['dnnl', 'ref'].includes(info.conv));
    assert.throws(() => setFloatBackend('cuda' as never), UsageError);
  });

  it('computes a hand-checked convolution and GEMM', () => {
    const x = Tensor.from([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 1, 3, 3]);
    assert.deepEqual(conv2dForward(x, Tensor.ones([1, 1, 2, 2]), null).toArray(), [12, 16, 24, 28]);
    assert.deepEqual(conv2dForward(x, Tensor.ones([1, 1, 2, 2]), Tensor.from([1]), {}, 'ref').toArray(), [13, 17, 25, 29]);
    assert.equal(matmul(Tensor.from([1, 2], [1, 2]), Tensor.from([3, 4], [2, 1])).item(), 11);
    assert.deepEqual(matmul(Tensor.from([1, 2, 3, 4], [2, 2]), Tensor.from([1, 0, 0, 1], [2, 2]), true, false).toArray(), [1, 3, 2, 4]);
  });

  it('rejects bad shapes and options before the native call', () => {
    const x = Tensor.zeros([1, 4, 5, 5]);
    assert.throws(() => conv2dGeometry([1, 4, 5, 5], [6, 4, 3, 3], { groups: 3 }), /divisible by groups/);
    assert.throws(() => conv2dGeometry([1, 4, 5, 5], [6, 2, 3, 3]), /expect 2 input channels/);
    assert.throws(() => conv2dGeometry([1, 4, 5], [6, 4, 3, 3]), /4-d NCHW/);
    assert.throws(() => conv2dGeometry([1, 4, 2, 2], [6, 4, 3, 3]), /larger than the padded input/);
    assert.throws(() => conv2dGeometry([1, 4, 5, 5], [6, 4, 3, 3], { stride: 0 }), /Expected integer >= 1 or a pair of them for stride/);
    assert.throws(() => conv2dGeometry([1, 4, 5, 5], [6, 4, 3, 3], { padding: [1] as never }), UsageError);
    assert.throws(() => conv2dForward(x, Tensor.zeros([6, 4, 3, 3]), Tensor.zeros([5])), /bias/);
    assert.throws(() => conv2dForward(x, Tensor.zeros([6, 4, 3, 3]), null, {}, 'nope' as never), /backend/);
    assert.throws(() => matmul(Tensor.zeros([2, 3]), Tensor.zeros([2, 3])), /inner dimensions/);
  });
});
