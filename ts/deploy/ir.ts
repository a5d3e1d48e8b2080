/**
 * The integer deploy graph (docs/deploy.md): a topologically ordered list of nodes over named values.
 * Activations between integer nodes are 8-bit codes (uint8 or int8 containers) with a frozen quantization
 * point `real = scale·(q − zeroPoint)`; weights sit on their grid in int8 containers with per-channel scales
 * and zero points; biases are int32 with scale sx·sw[c]. Nodes that a runtime leaves in float (ORT's unfused
 * QDQ ops, the input normalisation) are `float` nodes holding their ONNX op.
 *
 * The IR names no arithmetic: the executor (./exec.ts) runs it under a target's arithmetic per op.
 */
import type { NodeProto } from '../formats/onnx.ts';

export type CodeType = 'uint8' | 'int8';

/** A frozen per-tensor quantization point. */
export interface QPoint {
  scale: number;
  zeroPoint: number;
  dtype: CodeType;
  /** a narrower code range than the container's (a 4-bit QAT activation grid: [0, 15]) */
  range?: [number, number];
}

/** The clamp range of a code type. */
export function codeRange(t: CodeType): [number, number] {
  return t === 'uint8' ? [0, 255] : [-128, 127];
}

/** The codes a point may hold: its grid range, else the container's. */
export function pointRange(p: QPoint): [number, number] {
  return p.range ?? codeRange(p.dtype);
}

/** Weights on their grid: `w[oc][k]` in an int8 (or uint8) container with per-channel scale and zero point. */
export interface QWeights {
  data: Int8Array | Uint8Array;
  /** [oc, c/groups, kh, kw] for conv, [n, k] for gemm */
  shape: number[];
  scale: Float32Array;
  zeroPoint: Int32Array;
  /** bits of the grid (2..8): an int4 grid holds values in [-8, 7] */
  bits: number;
}

interface Base {
  /** layer name (state-dict prefix or ONNX node name) */
  name: string;
  inputs: string[];
  outputs: string[];
}

export interface QuantizeNode extends Base { op: 'quantize'; q: QPoint }
export interface DequantizeNode extends Base { op: 'dequantize'; q: QPoint }
export interface QConvNode extends Base {
  op: 'qconv';
  inQ: QPoint;
  w: QWeights;
  /** int32, scale inQ.scale·w.scale[c]; null = 0 */
  bias: Int32Array | null;
  strides: [number, number];
  /** [top, left, bottom, right] */
  pads: [number, number, number, number];
  dilations: [number, number];
  groups: number;
  out: QPoint;
  /** output clamp in codes (ReLU: qmin = zero point; ReLU6: qmax) */
  qmin: number;
  qmax: number;
  /** the fused activation (used by calibration and export) */
  relu?: boolean;
}
export interface QGemmNode extends Base {
  op: 'qgemm';
  inQ: QPoint;
  /** w.shape = [n, k] */
  w: QWeights;
  bias: Int32Array | null;
  /** null: the output is float (ORT QGemm without y scale): acc·sx·sw[c] */
  out: QPoint | null;
  qmin: number;
  qmax: number;
}
export interface QAddNode extends Base { op: 'qadd'; aQ: QPoint; bQ: QPoint; out: QPoint; qmin: number; qmax: number; relu?: boolean }
export interface QGapNode extends Base { op: 'qgap'; inQ: QPoint; out: QPoint }
export interface QMaxPoolNode extends Base { op: 'qmaxpool'; kernel: [number, number]; strides: [number, number]; pads: [number, number, number, number] }
/** Shape-only ops on any value (codes or float): Flatten (axis) or Reshape (target shape, 0 and -1 as ONNX). */
export interface ShapeNode extends Base { op: 'flatten' | 'reshape'; axis?: number; shape?: number[] }
/** ConvInteger / MatMulInteger: int32 accumulators out. */
export interface ConvIntegerNode extends Base {
  op: 'convinteger';
  xZeroPoint: number;
  w: QWeights;
  strides: [number, number];
  pads: [number, number, number, number];
  dilations: [number, number];
  groups: number;
}
export interface MatMulIntegerNode extends Base { op: 'matmulinteger'; aZeroPoint: number; w: QWeights }
/** A float op as ONNX defines it (inputs are values or constants). */
export interface FloatNode extends Base { op: 'float'; node: NodeProto; consts: Map<string, { data: Float32Array | Int32Array; dims: number[] }> }

export type DeployNode = QuantizeNode | DequantizeNode | QConvNode | QGemmNode | QAddNode | QGapNode | QMaxPoolNode | ShapeNode | ConvIntegerNode | MatMulIntegerNode | FloatNode;

export interface DeployGraph {
  /** the float input ([N, C, H, W] pixels or user input) */
  input: { name: string; shape: (number | string)[] };
  outputs: string[];
  nodes: DeployNode[];
  /** provenance: 'qrobust-qat', 'qrobust-ptq', 'onnx:<file>' */
  source: string;
  /** conversions applied (BN folding, target lowering, ...), recorded in results */
  conversions: string[];
}

/** A runtime value: float, codes or int32 accumulators, NCHW / row-major. */
export interface Value {
  shape: number[];
  data: Float32Array | Int8Array | Uint8Array | Int32Array;
}

/** Number of elements of a shape. */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** The weighted layers of a graph (qconv, qgemm, convinteger, matmulinteger). */
export function weightedNodes(g: DeployGraph): (QConvNode | QGemmNode | ConvIntegerNode | MatMulIntegerNode)[] {
  return g.nodes.filter((n): n is QConvNode | QGemmNode | ConvIntegerNode | MatMulIntegerNode => n.op === 'qconv' || n.op === 'qgemm' || n.op === 'convinteger' || n.op === 'matmulinteger');
}
