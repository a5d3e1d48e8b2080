/**
 * A float model (an FP checkpoint) as a deploy graph of float nodes, for targets that run float models in their own
 * precision: under an `fp16` target (jetson-nano-fp16) the executor rounds every value to binary16 after each op, as
 * TensorRT's FP16 mode does for an unquantized network. Structure from the float ONNX export
 * (ts/formats/onnx-export.ts); BatchNormalization is folded into the preceding convolution in float64 and rounded
 * once (TensorRT folds BN too); under `fp16` the weights and biases are stored as binary16 values.
 */
import { UsageError } from '../util/errors.ts';
import type { Module } from '../nn/module.ts';
import { exportOnnx } from '../formats/onnx-export.ts';
import { float16BitsToFloat32, float32ToFloat16Bits, type NodeProto } from '../formats/onnx.ts';
import type { Target } from '../targets/index.ts';
import type { DeployGraph, DeployNode, FloatNode } from './ir.ts';
import { graphConstants } from './convert.ts';

type Const = { data: Float32Array; dims: number[] };

const attr = (n: NodeProto, name: string): unknown => {
  const a = (n.attribute ?? []).find((x) => x.name === name);
  if (!a) return undefined;
  if (a.ints && a.ints.length) return a.ints.map(Number);
  if (a.i !== undefined && a.i !== null) return Number(a.i);
  if (a.f !== undefined && a.f !== null) return a.f;
  return undefined;
};

/**
 * Builds the float deploy graph of a float model.
 * @param model the FP module (eval mode; conv / BN / ReLU / add / pooling / linear as ts/nn builds them)
 * @param opts `inputSize` S of the [N, 3, S, S] input
 * @param target the target (its `execution` decides whether weights are stored as binary16)
 * @returns the graph (source `qrobust-fp`), its conversions listed
 * @throws UsageError for a module the ONNX export does not know or a BatchNormalization without a preceding conv
 * @example
 * const g = floatDeployGraph(model, { inputSize: 32 }, loadTarget('jetson-nano-fp16'));
 * new DeployModule(g, loadTarget('jetson-nano-fp16')).call(x);
 */
export function floatDeployGraph(model: Module, opts: { inputSize: number }, target: Target): DeployGraph {
  const onnx = exportOnnx(model.eval(), { inputSize: opts.inputSize, inChannels: 3 });
  const g = onnx.graph!;
  const half = target.execution === 'fp16';
  const store = (a: Float32Array): Float32Array => (half ? Float32Array.from(a, (v) => float16BitsToFloat32(float32ToFloat16Bits(v))) : a);
  const { inits, nodes } = graphConstants(g);
  const consumers = new Map<string, NodeProto[]>();
  for (const n of nodes) for (const i of n.input ?? []) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  const out: DeployNode[] = [];
  let folded = 0;
  const floatNode = (n: NodeProto, inputs: string[], output: string, consts: Map<string, Const>): FloatNode =>
    ({ op: 'float', name: n.name ?? n.opType!, inputs, outputs: [output], node: { ...n, input: inputs, output: [output] }, consts });
  for (const n of nodes) {
    const op = n.opType!;
    const ins = (n.input ?? []).slice();
    const o = n.output![0]!;
    if (op === 'BatchNormalization') {
      const prev = nodes.find((m) => m.output?.[0] === ins[0]);
      if (!prev || prev.opType !== 'Conv' || (consumers.get(ins[0]!) ?? []).length !== 1) throw new UsageError(`BatchNormalization ${n.name ?? ''} without its own preceding Conv cannot be folded for a float deploy graph`);
      continue; // folded into the Conv below
    }
    if (op === 'Conv') {
      const w = inits.get(ins[1]!)!;
      const b = ins[2] ? inits.get(ins[2]) ?? null : null;
      const next = consumers.get(o) ?? [];
      const bn = next.length === 1 && next[0]!.opType === 'BatchNormalization' ? next[0]! : null;
      const oc = w.dims[0]!, k = w.data.length / oc;
      const wf = new Float32Array(w.data.length);
      const bf = new Float32Array(oc);
      for (let c = 0; c < oc; c++) {
        let f = 1, shift = b ? b.data[c]! : 0;
        if (bn) {
          const [gm, bt, mu, vr] = [1, 2, 3, 4].map((i) => inits.get(bn.input![i]!)!.data[c]!) as [number, number, number, number];
          const eps = (attr(bn, 'epsilon') as number | undefined) ?? 1e-5;
          f = gm / Math.sqrt(vr + eps);
          shift = (shift - mu) * f + bt;
        }
        for (let j = 0; j < k; j++) wf[c * k + j] = w.data[c * k + j]! * f;
        bf[c] = shift;
      }
      if (bn) folded++;
      const output = bn ? bn.output![0]! : o;
      const consts = new Map<string, Const>([[`${output}.w`, { data: store(wf), dims: w.dims }], [`${output}.b`, { data: store(bf), dims: [oc] }]]);
      out.push(floatNode(n, [ins[0]!, `${output}.w`, `${output}.b`], output, consts));
      continue;
    }
    if (op === 'Flatten') {
      out.push({ op: 'flatten', name: n.name ?? op, inputs: [ins[0]!], outputs: [o], axis: (attr(n, 'axis') as number | undefined) ?? 1 });
      continue;
    }
    if (op === 'MaxPool') {
      const k = attr(n, 'kernel_shape') as number[];
      out.push({ op: 'qmaxpool', name: n.name ?? op, inputs: [ins[0]!], outputs: [o], kernel: [k[0]!, k[1]!], strides: ((attr(n, 'strides') as number[] | undefined) ?? [1, 1]) as [number, number], pads: ((attr(n, 'pads') as number[] | undefined) ?? [0, 0, 0, 0]) as [number, number, number, number] });
      continue;
    }
    const consts = new Map<string, Const>();
    for (const i of ins) {
      const c = inits.get(i);
      if (!c) continue;
      // normalisation constants [C] broadcast over NCHW
      const dims = (op === 'Sub' || op === 'Div') && c.dims.length === 1 ? [1, c.dims[0]!, 1, 1] : c.dims;
      consts.set(i, { data: op === 'Gemm' ? store(c.data) : c.data, dims });
    }
    out.push(floatNode(n, ins, o, consts));
  }
  const input = g.input!.find((v) => !inits.has(v.name ?? ''))!;
  return {
    input: { name: input.name!, shape: ['N', 3, opts.inputSize, opts.inputSize] },
    outputs: [g.output![0]!.name!],
    nodes: out,
    source: 'qrobust-fp',
    conversions: [
      `float model as a float deploy graph: ${folded} BatchNormalization folded into their convolutions`,
      ...(half ? ['fp16: weights and biases stored as binary16, every value rounded to binary16 after each op (TensorRT FP16)'] : []),
    ],
  };
}
