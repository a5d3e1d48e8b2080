#!/usr/bin/python3
"""User-style quantized ONNX models for the deploy import parity test (test/parity/deploy-qonnx.test.ts).

Built with Debian's python3-onnx (onnx.helper), random weights from a fixed numpy seed, as ORT's
quantization tools / PyTorch / MQBench lay them out:
  qlinear.onnx  QuantizeLinear -> QLinearConv (per-channel, pads) -> QLinearConv (depthwise, stride 2)
                -> QLinearConv 1x1 -> QLinearAdd (com.microsoft) -> QLinearGlobalAveragePool (com.microsoft)
                -> Flatten -> QLinearMatMul -> DequantizeLinear
  integer.onnx  QuantizeLinear -> ConvInteger (stride 2, zero points) -> int32 output, Cast -> Mul (scale)
                -> Relu -> QuantizeLinear -> Flatten -> MatMulInteger -> int32 output
  qdq.onnx      float input -> Q/DQ pairs around Conv (per-channel int8 weights, int32 bias DQ), Relu,
                depthwise strided Conv, Add, GlobalAveragePool, Flatten, Gemm (the QDQ form ORT fuses)
  qdq-s8.onnx   the same QDQ graph with int8 activations
Usage: gen-qonnx-fixtures.py --out DIR   (writes DIR/*.onnx and DIR/manifest.json with tool versions)
"""
import argparse, json, os, sys
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(20261125)


def const(name, arr):
    return numpy_helper.from_array(np.asarray(arr), name)


def per_channel_w(oc, shape, dtype=np.int8, pow2=False):
    w = rng.integers(-128, 128, size=(oc,) + shape).astype(dtype)
    s = (rng.uniform(0.5, 1.5, size=oc) * 2.0 ** -7).astype(np.float32)
    if pow2:  # power-of-two scales: acc * M lands on exact .5 ties (round-half-even vs half-up discriminates)
        s = (2.0 ** -rng.integers(7, 9, size=oc)).astype(np.float32)
    return w, s


def qlinear_model():
    inits, nodes = [], []
    C0, C1, NCLS = 3, 8, 10
    inits += [const('x_s', np.float32(1 / 255 * 1.3)), const('x_z', np.uint8(7))]
    nodes.append(helper.make_node('QuantizeLinear', ['x', 'x_s', 'x_z'], ['xq']))
    # conv1: per-channel, 3x3 pad 1
    w1, s1 = per_channel_w(C1, (C0, 3, 3))
    b1 = rng.integers(-3000, 3000, size=C1).astype(np.int32)
    inits += [const('w1', w1), const('w1_s', s1), const('w1_z', np.zeros(C1, np.int8)), const('b1', b1),
              const('y1_s', np.float32(0.05)), const('y1_z', np.uint8(128))]
    nodes.append(helper.make_node('QLinearConv', ['xq', 'x_s', 'x_z', 'w1', 'w1_s', 'w1_z', 'y1_s', 'y1_z', 'b1'], ['y1'],
                                  pads=[1, 1, 1, 1], kernel_shape=[3, 3]))
    # conv2: depthwise, stride 2
    w2, s2 = per_channel_w(C1, (1, 3, 3))
    b2 = rng.integers(-2000, 2000, size=C1).astype(np.int32)
    inits += [const('w2', w2), const('w2_s', s2), const('w2_z', np.zeros(C1, np.int8)), const('b2', b2),
              const('y2_s', np.float32(0.07)), const('y2_z', np.uint8(120))]
    nodes.append(helper.make_node('QLinearConv', ['y1', 'y1_s', 'y1_z', 'w2', 'w2_s', 'w2_z', 'y2_s', 'y2_z', 'b2'], ['y2'],
                                  pads=[1, 1, 1, 1], strides=[2, 2], group=C1, kernel_shape=[3, 3]))
    # conv3: 1x1 per-tensor
    w3 = rng.integers(-128, 128, size=(C1, C1, 1, 1)).astype(np.int8)
    inits += [const('w3', w3), const('w3_s', np.float32(0.011)), const('w3_z', np.int8(0)),
              const('y3_s', np.float32(0.06)), const('y3_z', np.uint8(131))]
    nodes.append(helper.make_node('QLinearConv', ['y2', 'y2_s', 'y2_z', 'w3', 'w3_s', 'w3_z', 'y3_s', 'y3_z'], ['y3']))
    inits += [const('y4_s', np.float32(0.09)), const('y4_z', np.uint8(125))]
    nodes.append(helper.make_node('QLinearAdd', ['y2', 'y2_s', 'y2_z', 'y3', 'y3_s', 'y3_z', 'y4_s', 'y4_z'], ['y4'],
                                  domain='com.microsoft'))
    inits += [const('y5_s', np.float32(0.03)), const('y5_z', np.uint8(126))]
    nodes.append(helper.make_node('QLinearGlobalAveragePool', ['y4', 'y4_s', 'y4_z', 'y5_s', 'y5_z'], ['y5'],
                                  domain='com.microsoft', channels_last=0))
    nodes.append(helper.make_node('Flatten', ['y5'], ['y5f'], axis=1))
    w4 = rng.integers(-128, 128, size=(C1, NCLS)).astype(np.int8)
    inits += [const('w4', w4), const('w4_s', np.float32(0.02)), const('w4_z', np.int8(0)),
              const('y6_s', np.float32(0.1)), const('y6_z', np.uint8(128))]
    nodes.append(helper.make_node('QLinearMatMul', ['y5f', 'y5_s', 'y5_z', 'w4', 'w4_s', 'w4_z', 'y6_s', 'y6_z'], ['y6']))
    nodes.append(helper.make_node('DequantizeLinear', ['y6', 'y6_s', 'y6_z'], ['logits']))
    g = helper.make_graph(nodes, 'qlinear', [helper.make_tensor_value_info('x', TensorProto.FLOAT, ['N', C0, 9, 9])],
                          [helper.make_tensor_value_info('logits', TensorProto.FLOAT, ['N', NCLS])], inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid('', 13), helper.make_opsetid('com.microsoft', 1)]), [C0, 9, 9]


def integer_model():
    inits, nodes = [], []
    inits += [const('x_s', np.float32(0.02)), const('x_z', np.uint8(100))]
    nodes.append(helper.make_node('QuantizeLinear', ['x', 'x_s', 'x_z'], ['xq']))
    w = rng.integers(0, 256, size=(6, 3, 3, 3)).astype(np.uint8)
    inits += [const('cw', w), const('cw_z', np.uint8(131))]
    nodes.append(helper.make_node('ConvInteger', ['xq', 'cw', 'x_z', 'cw_z'], ['acc1'], strides=[2, 2], pads=[1, 0, 1, 0]))
    inits += [const('acc1_s', np.float32(0.02 * 0.004))]
    nodes.append(helper.make_node('Cast', ['acc1'], ['acc1f'], to=TensorProto.FLOAT))
    nodes.append(helper.make_node('Mul', ['acc1f', 'acc1_s'], ['f1']))
    nodes.append(helper.make_node('Relu', ['f1'], ['r1']))
    inits += [const('r1_s', np.float32(0.04)), const('r1_z', np.uint8(0))]
    nodes.append(helper.make_node('QuantizeLinear', ['r1', 'r1_s', 'r1_z'], ['r1q']))
    nodes.append(helper.make_node('Flatten', ['r1q'], ['r1f'], axis=1))
    K = 6 * 4 * 2
    mw = rng.integers(-128, 128, size=(K, 5)).astype(np.int8)
    inits += [const('mw', mw), const('mw_z', np.int8(3))]
    nodes.append(helper.make_node('MatMulInteger', ['r1f', 'mw', 'r1_z', 'mw_z'], ['acc2']))
    g = helper.make_graph(nodes, 'integer', [helper.make_tensor_value_info('x', TensorProto.FLOAT, ['N', 3, 7, 6])],
                          [helper.make_tensor_value_info('acc1', TensorProto.INT32, ['N', 6, 4, 2]),
                           helper.make_tensor_value_info('acc2', TensorProto.INT32, ['N', 5])], inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid('', 13)]), [3, 7, 6]


def qdq_model(signed):
    adt, zr = (np.int8, 0) if signed else (np.uint8, 128)
    inits, nodes = [], []
    n = [0]

    def qdq(src, scale, zp):
        n[0] += 1
        s, z, q, d = f'qs{n[0]}', f'qz{n[0]}', f'q{n[0]}', f'dq{n[0]}'
        inits.extend([const(s, np.float32(scale)), const(z, adt(zp))])
        nodes.append(helper.make_node('QuantizeLinear', [src, s, z], [q]))
        nodes.append(helper.make_node('DequantizeLinear', [q, s, z], [d]))
        return d

    def wdq(name, w, s, axis=0):
        inits.extend([const(name, w), const(name + '_s', s), const(name + '_z', np.zeros(s.shape, np.int8))])
        nodes.append(helper.make_node('DequantizeLinear', [name, name + '_s', name + '_z'], [name + '_f'], axis=axis))
        return name + '_f'

    def bdq(name, b, s):
        inits.extend([const(name, b), const(name + '_s', s), const(name + '_z', np.zeros(s.shape, np.int32))])
        nodes.append(helper.make_node('DequantizeLinear', [name, name + '_s', name + '_z'], [name + '_f'], axis=0))
        return name + '_f'

    sx = np.float32(1 / 255 * 1.1)
    x = qdq('x', sx, 0 if signed else 3)
    w1, s1 = per_channel_w(8, (3, 3, 3))
    b1 = rng.integers(-3000, 3000, size=8).astype(np.int32)
    nodes.append(helper.make_node('Conv', [x, wdq('w1', w1, s1), bdq('b1', b1, (s1 * sx).astype(np.float32))], ['c1'], pads=[1, 1, 1, 1]))
    nodes.append(helper.make_node('Relu', [helper_last(nodes)], ['r1']))
    s_r1 = np.float32(2.0 ** -5)
    r1 = qdq('r1', s_r1, -128 if signed else 0)
    w2, s2 = per_channel_w(8, (1, 3, 3), pow2=True)
    b2 = rng.integers(-2000, 2000, size=8).astype(np.int32)
    nodes.append(helper.make_node('Conv', [r1, wdq('w2', w2, s2), bdq('b2', b2, (s2 * s_r1).astype(np.float32))], ['c2'],
                                  pads=[1, 1, 1, 1], strides=[2, 2], group=8))
    s_c2 = np.float32(2.0 ** -4)
    c2 = qdq('c2', s_c2, zr - 5 if not signed else -5)
    w3, s3 = per_channel_w(8, (8, 1, 1))
    nodes.append(helper.make_node('Conv', [c2, wdq('w3', w3, s3)], ['c3']))
    c3 = qdq('c3', 0.05, zr + 2 if not signed else 2)
    nodes.append(helper.make_node('Add', [c2, c3], ['a4']))
    a4 = qdq('a4', 0.09, zr - 3 if not signed else -3)
    nodes.append(helper.make_node('GlobalAveragePool', [a4], ['p5']))
    p5 = qdq('p5', 0.03, zr + 1 if not signed else 1)
    nodes.append(helper.make_node('Flatten', [p5], ['f5'], axis=1))
    f5 = qdq('f5', 0.03, zr + 1 if not signed else 1)
    w4 = rng.integers(-128, 128, size=(10, 8)).astype(np.int8)
    s4 = np.float32(0.02)
    b4 = rng.integers(-500, 500, size=10).astype(np.int32)
    inits.extend([const('w4', w4), const('w4_s', s4), const('w4_z', np.int8(0))])
    nodes.append(helper.make_node('DequantizeLinear', ['w4', 'w4_s', 'w4_z'], ['w4_f']))
    nodes.append(helper.make_node('Gemm', [f5, 'w4_f', bdq('b4', b4, np.array([s4 * np.float32(0.03)] * 10, np.float32))], ['g6'], transB=1))
    qdq('g6', 0.1, zr)
    g = helper.make_graph(nodes, 'qdq-s8' if signed else 'qdq', [helper.make_tensor_value_info('x', TensorProto.FLOAT, ['N', 3, 10, 10])],
                          [helper.make_tensor_value_info(nodes[-1].output[0], TensorProto.FLOAT, ['N', 10]),
                           helper.make_tensor_value_info('dq3', TensorProto.FLOAT, ['N', 8, 5, 5]),
                           helper.make_tensor_value_info('dq5', TensorProto.FLOAT, ['N', 8, 5, 5])], inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid('', 13)]), [3, 10, 10]


def helper_last(nodes):
    return nodes[-1].output[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--out', required=True)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    models = {'qlinear': qlinear_model(), 'integer': integer_model(), 'qdq': qdq_model(False), 'qdq-s8': qdq_model(True)}
    manifest = {'versions': {'onnx': onnx.__version__, 'numpy': np.__version__, 'python': sys.version.split()[0]}, 'models': {}}
    for name, (m, shape) in models.items():
        m.ir_version = 8
        onnx.checker.check_model(m)
        onnx.save(m, os.path.join(a.out, name + '.onnx'))
        manifest['models'][name] = {'file': name + '.onnx', 'input': 'x', 'shape': shape,
                                    'outputs': [o.name for o in m.graph.output]}
    with open(os.path.join(a.out, 'manifest.json'), 'w') as f:
        json.dump(manifest, f, indent=1)


if __name__ == '__main__':
    main()
