// ONNX import, operator by operator, against onnxruntime-node on small hand-built graphs: the attribute variants
// torch does not emit for the torchvision models (Gemm transB = 0 with alpha / beta, MatMul + Add on 3-d inputs
// fused into one Linear, the Shape → Gather → Unsqueeze → Concat → Reshape chain, AveragePool with and without
// count_include_pad, padded MaxPool, general Clip, broadcasting Sub / Mul / Div, Flatten axis 2, Identity,
// Constant), then the named errors for variants we do not map. Bound: 1e-5 relative (max |ours − ort| / max |ort|).
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { Tensor } from '../../ts/tensor/index.ts';
import * as ag from '../../ts/autograd/index.ts';
import { Rng } from '../../ts/util/rng.ts';
import { UsageError } from '../../ts/util/errors.ts';
import { Linear } from '../../ts/nn/index.ts';
import { DataType, encodeModel, makeGraph, makeModel, makeNode, makeValueInfo, tensorFromArray, type NodeProto, type TensorProto } from '../../ts/formats/onnx.ts';
import { importOnnx, UnsupportedOnnxOpError } from '../../ts/formats/onnx-import.ts';

const rand = (shape: number[], seed: number): Tensor => Tensor.randn(shape, new Rng(seed));
const f32 = (name: string, t: Tensor): TensorProto => tensorFromArray(name, DataType.FLOAT, t.shape as number[], t.data);

async function check(nodes: NodeProto[], inits: TensorProto[], x: Tensor, label: string): Promise<ReturnType<typeof importOnnx>> {
  const g = makeGraph(nodes, label, [makeValueInfo('x', DataType.FLOAT, x.shape as number[])], [makeValueInfo('y', DataType.FLOAT)], inits);
  const bytes = encodeModel(makeModel(g));
  const s = await ort.InferenceSession.create(bytes);
  const ref = (await s.run({ x: new ort.Tensor('float32', x.data.slice(), x.shape as number[]) })).y!;
  const m = importOnnx(bytes).eval();
  const y = ag.noGrad(() => m.call(x));
  assert.deepEqual(y.shape, ref.dims, label);
  const a = y.toArray();
  const b = ref.data as Float32Array;
  let d = 0;
  let sc = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    sc = Math.max(sc, Math.abs(b[i]!));
  }
  assert.ok(d / sc < 1e-5, `${label}: ${d / sc}`);
  return m;
}

describe('parity/onnx-import: operators vs onnxruntime', () => {
  it('MatMul + Add on a 3-d input becomes one Linear with a bias', async () => {
    const m = await check([makeNode('MatMul', ['x', 'W'], ['h'], {}, 'mm'), makeNode('Add', ['h', 'b'], ['y'], {}, 'add')],
      [f32('W', rand([4, 5], 1)), f32('b', rand([5], 2))], rand([2, 3, 4], 3), 'matmul-add');
    const layers = m.namedChildren().map(([, c]) => c);
    assert.equal(layers.length, 1);
    assert.ok(layers[0] instanceof Linear && layers[0].bias !== null);
    assert.equal(m.parameters().length, 2);
  });

  it('Shape → Gather → Unsqueeze → Concat → Reshape, then Gemm with transB = 0, alpha and beta', async () => {
    await check([
      makeNode('Shape', ['x'], ['s'], {}, 'shape'),
      makeNode('Gather', ['s', 'i0'], ['n'], { axis: 0 }, 'gather'),
      makeNode('Unsqueeze', ['n', 'ax'], ['n1'], {}, 'unsq'),
      makeNode('Concat', ['n1', 'm1'], ['shp'], { axis: 0 }, 'concat'),
      makeNode('Reshape', ['x', 'shp'], ['f'], {}, 'reshape'),
      makeNode('Gemm', ['f', 'B', 'C'], ['y'], { alpha: 0.5, beta: { f: 2 }, transB: 0 }, 'gemm'),
    ], [tensorFromArray('i0', DataType.INT64, [], [0]), tensorFromArray('ax', DataType.INT64, [1], [0]), tensorFromArray('m1', DataType.INT64, [1], [-1]), f32('B', rand([48, 6], 4)), f32('C', rand([6], 5))],
    rand([2, 3, 4, 4], 6), 'shape-chain-gemm');
  });

  it('pools, Clip, broadcasting arithmetic, Flatten axis 2, Identity, Constant', async () => {
    const x = rand([2, 3, 7, 7], 7);
    await check([makeNode('AveragePool', ['x'], ['y'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [2, 2], count_include_pad: 0 }, 'ap0')], [], x, 'avgpool-exclude-pad');
    await check([makeNode('AveragePool', ['x'], ['y'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [2, 2], count_include_pad: 1 }, 'ap1')], [], x, 'avgpool-include-pad');
    await check([makeNode('MaxPool', ['x'], ['y'], { kernel_shape: [3, 2], pads: [1, 1, 1, 1], strides: [2, 1] }, 'mp')], [], x, 'maxpool');
    await check([
      makeNode('Constant', [], ['lo'], { value: tensorFromArray('lo', DataType.FLOAT, [], [-0.5]) }, 'c0'),
      makeNode('Constant', [], ['hi'], { value: tensorFromArray('hi', DataType.FLOAT, [], [0.7]) }, 'c1'),
      makeNode('Sub', ['x', 'mu'], ['a'], {}, 'sub'),
      makeNode('Mul', ['a', 'sc'], ['b'], {}, 'mul'),
      makeNode('Div', ['b', 'dv'], ['c'], {}, 'div'),
      makeNode('Clip', ['c', 'lo', 'hi'], ['d'], {}, 'clip'),
      makeNode('Identity', ['d'], ['e'], {}, 'id'),
      makeNode('Flatten', ['e'], ['y'], { axis: 2 }, 'flat'),
    ], [f32('mu', rand([1, 3, 1, 1], 8)), f32('sc', rand([7], 9)), f32('dv', Tensor.full([1], 1.5))], x, 'arith-clip-flatten');
  });

  it('names the variants it does not map', () => {
    const one = (n: NodeProto, inits: TensorProto[] = []) => encodeModel(makeModel(makeGraph([n], 'g', [makeValueInfo('x', DataType.FLOAT, [1, 3, 4, 4])], [makeValueInfo('y', DataType.FLOAT)], inits)));
    assert.throws(() => importOnnx(one(makeNode('Conv', ['x', 'w'], ['y'], { pads: [0, 0, 1, 1], kernel_shape: [2, 2] }, 'convA'), [f32('w', rand([2, 3, 2, 2], 1))])),
      (e: unknown) => e instanceof UnsupportedOnnxOpError && /unsupported Conv variant \(asymmetric pads \[0, 0, 1, 1\]\) at node 'convA'/.test(e.message));
    assert.throws(() => importOnnx(one(makeNode('Conv', ['x', 'w'], ['y'], {}, 'convB'))), /Conv variant \(weight must be a constant 4-d tensor\) at node 'convB'/);
    assert.throws(() => importOnnx(one(makeNode('Gemm', ['x', 'w'], ['y'], { transA: 1 }, 'g1'), [f32('w', rand([3, 3], 1))])), /Gemm variant \(transA = 1\)/);
    assert.throws(() => importOnnx(one(makeNode('LSTM', ['x'], ['y'], {}, 'rnn'))), /unsupported op LSTM at node 'rnn'/);
    const two = makeGraph([makeNode('Add', ['x', 'z'], ['y'])], 'g', [makeValueInfo('x', DataType.FLOAT, [1]), makeValueInfo('z', DataType.FLOAT, [1])], [makeValueInfo('y', DataType.FLOAT)]);
    assert.throws(() => importOnnx(makeModel(two)), (e: unknown) => e instanceof UsageError && /expected one data input but the graph has 2 \(x, z\)/.test(e.message));
    assert.throws(() => importOnnx(42 as never), /Expected an .onnx path, bytes or a decoded model for src/);
  });
});
