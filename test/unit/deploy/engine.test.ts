/**
 * The deploy engine on hand-built graphs: the A72 int16-pair hazard changes an output on rpi4-tflite-a72wrap
 * (−128 weights kept) while rpi4-tflite (clamped to −127) and rpi5-tflite (sdot, exact) agree with the exact
 * result; lowering records every conversion; named errors for a QAT layer without a scale, an impossible export
 * format and INT4 storage of a grid that left [−8, 7].
 */
import { strict as assert } from 'node:assert';
import { loadTarget } from '../../../ts/targets/index.ts';
import { runGraph } from '../../../ts/deploy/exec.ts';
import { lowerForTarget, TargetConversionError } from '../../../ts/deploy/lower.ts';
import { QuantParamsError, convertQat, type LayerQuantParams } from '../../../ts/deploy/convert.ts';
import { exportQuantizedOnnx, UnsupportedExportError } from '../../../ts/formats/onnx-qexport.ts';
import { resnet20 } from '../../../ts/nn/models/resnet20.ts';
import type { DeployGraph, QConvNode } from '../../../ts/deploy/ir.ts';

/** input float x → quantize (int8, scale 1) → one 1×1 conv over 16 channels → dequantize. */
function hazardGraph(w: number[]): DeployGraph {
  const conv: QConvNode = {
    op: 'qconv', name: 'conv', inputs: ['xq'], outputs: ['y'], inQ: { scale: 1, zeroPoint: 0, dtype: 'int8' },
    w: { data: Int8Array.from(w), shape: [1, 16, 1, 1], scale: Float32Array.of(1), zeroPoint: new Int32Array(1), bits: 8 },
    bias: null, strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1], groups: 1, out: { scale: 1024, zeroPoint: 0, dtype: 'int8' }, qmin: -128, qmax: 127,
  };
  return {
    input: { name: 'x', shape: [1, 16, 1, 1] }, outputs: ['yf'], source: 'test', conversions: [],
    nodes: [
      { op: 'quantize', name: 'in', inputs: ['x'], outputs: ['xq'], q: { scale: 1, zeroPoint: 0, dtype: 'int8' } },
      conv,
      { op: 'dequantize', name: 'out', inputs: ['y'], outputs: ['yf'], q: { scale: 1024, zeroPoint: 0, dtype: 'int8' } },
    ],
  };
}

describe('deploy: integer engine', () => {
  it('the A72 int16-pair hazard changes an output: −128·−128 at lanes k and k+8 wraps only when −128 weights are kept', () => {
    const w = new Array<number>(16).fill(0);
    w[0] = -128;
    w[8] = -128; // lanes 0 and 8 of the 16-wide K chunk are summed in int16 by XNNPACK's neon-mlal c8 kernels
    const x = new Float32Array(16).fill(0);
    x[0] = -128;
    x[8] = -128;
    const g = hazardGraph(w);
    const run = (id: string): number => {
      const t = loadTarget(id);
      return runGraph(lowerForTarget(g, t), x, [1, 16, 1, 1], t).get('yf')!.data[0]!;
    };
    // exact: 2·16384 = 32768 → 32768/1024 = 32
    assert.equal(run('rpi5-tflite'), 32 * 1024);
    assert.equal(run('x86-onnxruntime'), 32 * 1024);
    // TFLite converter clamps −128 → −127: 2·(−128·−127) = 32512 → 31.75 → 32
    assert.equal(run('rpi4-tflite'), 32 * 1024);
    // kept −128: 32768 wraps to −32768 in int16 → −32
    assert.equal(run('rpi4-tflite-a72wrap'), -32 * 1024);
    const lowered = lowerForTarget(g, loadTarget('rpi4-tflite'));
    assert.ok(lowered.conversions.some((c) => /2 weights of -128 clamped to -127/.test(c)), lowered.conversions.join('; '));
  });

  it('a fused ReLU (qmin = zero point = 0 on a uint8 point) survives TensorRT symmetric lowering and the FP16 engine', () => {
    const conv = hazardGraph(new Array<number>(16).fill(1)).nodes[1] as QConvNode;
    const out = { scale: 0.5, zeroPoint: 0, dtype: 'uint8' as const };
    const g: DeployGraph = {
      input: { name: 'x', shape: [1, 16, 1, 1] }, outputs: ['yf'], source: 'test', conversions: [],
      nodes: [
        { op: 'quantize', name: 'in', inputs: ['x'], outputs: ['xq'], q: { scale: 1, zeroPoint: 0, dtype: 'int8' } },
        { ...conv, out, qmin: 0, qmax: 255, relu: true },
        { op: 'dequantize', name: 'out', inputs: ['y'], outputs: ['yf'], q: out },
      ],
    };
    const neg = new Float32Array(16).fill(-3), pos = new Float32Array(16).fill(2);
    for (const id of ['x86-onnxruntime', 'rpi4-tflite', 'jetson-orin-tensorrt', 'jetson-nano-fp16', 'reference']) {
      const t = loadTarget(id);
      const l = lowerForTarget(g, t);
      assert.equal(runGraph(l, neg, [1, 16, 1, 1], t).get('yf')!.data[0], 0, `${id}: ReLU of -48`);
      const v = runGraph(l, pos, [1, 16, 1, 1], t).get('yf')!.data[0]!;
      // TensorRT's symmetric point has step 0.5·255/127: 32 lands on 32·127/127.5 codes
      if (id === 'jetson-orin-tensorrt') assert.ok(Math.abs(v - 32) < Math.fround((0.5 * 255) / 127), `${id}: ${v}`);
      else assert.equal(v, 32, `${id}: 32 stays`);
    }
  });

  it('TensorRT lowering makes points symmetric and records it; asymmetric weights that do not fit are a named error', () => {
    const g = hazardGraph(new Array<number>(16).fill(1));
    const t = loadTarget('jetson-orin-tensorrt');
    const l = lowerForTarget(g, t);
    assert.ok(l.conversions.some((c) => /symmetric for jetson-orin-tensorrt/.test(c)));
    const conv = g.nodes[1] as QConvNode;
    const asym: DeployGraph = { ...g, nodes: [g.nodes[0]!, { ...conv, w: { ...conv.w, data: Uint8Array.from(new Array<number>(16).fill(255)), zeroPoint: Int32Array.of(0) } }, g.nodes[2]!] };
    assert.throws(() => lowerForTarget(asym, t), (e: Error) => e instanceof TargetConversionError && /layer 'conv'.*zero points 0/.test(e.message));
  });

  it('a QAT layer without a usable scale is a named error', () => {
    const model = resnet20({ numClasses: 10, seed: 1 });
    const params: LayerQuantParams[] = [{ name: 'conv1', kind: 'conv', bias: null, weight: { bits: 4, scale: new Float32Array(0), qmin: -8, qmax: 7, int: new Int32Array(16 * 27), shape: [16, 3, 3, 3] }, input: { bits: 8, scale: 0.02, qmin: -128, qmax: 127 } }];
    assert.throws(() => convertQat(model, params, { calibration: [], reference: loadTarget('reference') }), (e: Error) => e instanceof QuantParamsError && /layer 'conv1': the weight quantizer has no scale/.test(e.message));
    const noIn = [{ ...params[0]!, weight: { ...params[0]!.weight, scale: Float32Array.of(0.1) }, input: { ...params[0]!.input, scale: Number.NaN } }];
    assert.throws(() => convertQat(model, noIn, { calibration: [], reference: loadTarget('reference') }), /layer 'conv1': input quantizer scale must be a finite number > 0 but is NaN/);
    const missing = [{ ...params[0]!, name: 'stem', weight: { ...params[0]!.weight, scale: Float32Array.of(0.1) } }];
    assert.throws(() => convertQat(model, missing, { calibration: [], reference: loadTarget('reference') }), /layer 'conv1': no quantizer parameters/);
  });

  it('an export to an impossible format, and INT4 storage of weights outside [−8, 7], are named errors', () => {
    const g = hazardGraph(new Array<number>(16).fill(-128));
    assert.throws(() => exportQuantizedOnnx(g, { format: 'tflite' as 'qdq' }), /Expected one of qdq, qonnx, int4 for --format but received 'tflite'/);
    const g4: DeployGraph = { ...g, nodes: g.nodes.map((n) => (n.op === 'qconv' ? { ...n, w: { ...n.w, bits: 4 } } : n)) };
    assert.throws(() => exportQuantizedOnnx(g4, { format: 'int4' }), (e: Error) => e instanceof UnsupportedExportError && /layer 'conv' has 4-bit weights outside \[-8, 7\]/.test(e.message));
  });
});
