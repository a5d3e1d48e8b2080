/**
 * ONNX Runtime (onnxruntime-node, CPU EP) is the oracle for the `ort-mlas` variant: small graphs built with
 * our own ONNX writer, many independent nodes per session, every output compared bit for bit with the
 * reference kernels (gemm / conv2d accumulators + requantize with variant 'ort-mlas', quantize, qadd,
 * globalAvgPool). Zero mismatches are required. Random cases include extreme zero points, exact ties
 * (power-of-two scales), K large enough that fl32(acc) rounds, depthwise and grouped convolution.
 */
import { strict as assert } from 'node:assert';
import * as ort from 'onnxruntime-node';
import { DataType, encodeModel, makeGraph, makeModel, makeNode, makeValueInfo, tensorFromArray } from '../../ts/formats/onnx.ts';
import type { NodeProto, TensorProto, ValueInfo } from '../../ts/formats/onnx.ts';
import { Rng } from '../../ts/util/rng.ts';
import { conv2d, formMultiplier, gemm, globalAvgPool, qadd, quantize, requantize } from '../../ts/native/intq.ts';

type Bytes = Int8Array | Uint8Array;
interface Feed { name: string; tensor: ort.Tensor }
interface Check { output: string; expected: ArrayLike<number>; label: string }

/** A graph under construction: nodes, inputs (fed at run time), initializers, and the expected outputs. */
class Batch {
  nodes: NodeProto[] = [];
  inputs: ValueInfo[] = [];
  outputs: ValueInfo[] = [];
  inits: TensorProto[] = [];
  feeds: Feed[] = [];
  checks: Check[] = [];
  private n = 0;
  id(prefix: string): string {
    return `${prefix}${this.n++}`;
  }
  input(name: string, dt: number, dims: number[], data: Bytes | Float32Array): void {
    this.inputs.push(makeValueInfo(name, dt, dims));
    const type = dt === DataType.UINT8 ? 'uint8' : dt === DataType.INT8 ? 'int8' : 'float32';
    this.feeds.push({ name, tensor: new ort.Tensor(type, data, dims) });
  }
  init(name: string, dt: number, dims: number[], data: ArrayLike<number> | Float32Array): string {
    this.inits.push(tensorFromArray(name, dt, dims, Array.from(data)));
    return name;
  }
  output(name: string, dt: number, dims: number[], expected: ArrayLike<number>, label: string): void {
    this.outputs.push(makeValueInfo(name, dt, dims));
    this.checks.push({ output: name, expected, label });
  }
}

/** Runs one batch in one session; returns [cases, mismatching elements, first mismatch description]. */
async function run(b: Batch, opset = 13): Promise<{ cases: number; elements: number; mismatches: number; first: string }> {
  const graph = makeGraph(b.nodes, 'intq', b.inputs, b.outputs, b.inits);
  const model = makeModel(graph, { opsetImports: [{ domain: '', version: opset }, { domain: 'com.microsoft', version: 1 }] });
  const session = await ort.InferenceSession.create(encodeModel(model), { executionProviders: ['cpu'], intraOpNumThreads: 1 });
  const feeds: Record<string, ort.Tensor> = {};
  for (const f of b.feeds) feeds[f.name] = f.tensor;
  const res = await session.run(feeds);
  let mismatches = 0, elements = 0, first = '';
  for (const c of b.checks) {
    const got = res[c.output]!.data as ArrayLike<number>;
    assert.equal(got.length, c.expected.length, `${c.label}: length`);
    for (let i = 0; i < got.length; i++) {
      elements++;
      if (Number(got[i]) !== Number(c.expected[i])) {
        if (!first) first = `${c.label}[${i}]: ort ${got[i]} ours ${c.expected[i]}`;
        mismatches++;
      }
    }
  }
  await session.release();
  return { cases: b.checks.length, elements, mismatches, first };
}

const total = { cases: 0, elements: 0, mismatches: 0 };
const discriminating = { rhu: 0 };
async function runAndCheck(b: Batch, opset = 13): Promise<void> {
  const r = await run(b, opset);
  total.cases += r.cases;
  total.elements += r.elements;
  total.mismatches += r.mismatches;
  assert.equal(r.mismatches, 0, `${r.mismatches} of ${r.elements} elements differ; first: ${r.first}`);
}

// ---- random helpers ------------------------------------------------------------------------------
function randBytes(rng: Rng, n: number, signed: boolean, lo?: number, hi?: number): Bytes {
  const a = signed ? new Int8Array(n) : new Uint8Array(n);
  const l = lo ?? (signed ? -128 : 0), h = hi ?? (signed ? 127 : 255);
  for (let i = 0; i < n; i++) a[i] = l + rng.int(h - l + 1);
  return a;
}
function randZp(rng: Rng, signed: boolean): number {
  const r = rng.int(4);
  if (signed) return r === 0 ? -128 : r === 1 ? 127 : -128 + rng.int(256);
  return r === 0 ? 0 : r === 1 ? 255 : rng.int(256);
}
/** A generic float32 scale around 2^e. */
function randScale(rng: Rng, e: number): number {
  return Math.fround(2 ** e * (1 + rng.uniform()));
}
const dtOf = (signed: boolean): number => (signed ? DataType.INT8 : DataType.UINT8);
const range = (signed: boolean): [number, number] => (signed ? [-128, 127] : [0, 255]);

// ---- QLinearMatMul / MatMulInteger -----------------------------------------------------------------
function transposeKN(w: Bytes, n: number, k: number): Bytes {
  const t = w instanceof Int8Array ? new Int8Array(n * k) : new Uint8Array(n * k);
  for (let j = 0; j < n; j++) for (let kk = 0; kk < k; kk++) t[kk * n + j] = w[j * k + kk]!;
  return t;
}

function addMatMulCase(b: Batch, rng: Rng, kind: 'qlinear' | 'integer', opts: { edge?: boolean; bigK?: boolean } = {}): void {
  const m = 1 + rng.int(6), n = 1 + rng.int(9);
  const k = opts.bigK ? 600 + rng.int(1500) : 1 + rng.int(48);
  // ORT: A uint8 or int8; B int8 or uint8 (s8 x u8 is not a registered kernel, so keep A u8 when B is u8)
  const aSigned = rng.int(2) === 0, bSigned = aSigned ? true : rng.int(2) === 0;
  const a = randBytes(rng, m * k, aSigned), w = randBytes(rng, n * k, bSigned);
  const az = opts.edge ? (aSigned ? -128 : 255) : randZp(rng, aSigned);
  const bz = kind === 'integer' || rng.int(3) === 0 ? randZp(rng, bSigned) : 0;
  const id = b.id('mm');
  b.input(`${id}_a`, dtOf(aSigned), [m, k], a);
  const bname = b.init(`${id}_b`, dtOf(bSigned), [k, n], transposeKN(w, n, k));
  let acc = gemm(a, w, { m, n, k, aZeroPoint: az, wZeroPoint: bz });
  if (kind === 'integer') {
    b.init(`${id}_az`, dtOf(aSigned), [], [az]);
    b.init(`${id}_bz`, dtOf(bSigned), [], [bz]);
    b.nodes.push(makeNode('MatMulInteger', [`${id}_a`, bname, `${id}_az`, `${id}_bz`], [`${id}_y`]));
    b.output(`${id}_y`, DataType.INT32, [m, n], acc, `MatMulInteger ${id} ${m}x${n}x${k}`);
    return;
  }
  const ySigned = aSigned; // ORT registers QLinearMatMul with the output type of A
  // Ties mode: power-of-two scales with M = 2^-1..2^-4 and codes within ±3 of the zero points, so acc·M
  // lands exactly on .5 often (RNE vs round-half-up). Otherwise generic float32 scales aiming at ±100 codes.
  const tie = rng.int(4) === 0;
  if (tie) {
    for (let i = 0; i < a.length; i++) a[i] = Math.min(Math.max(az - 3 + rng.int(7), range(aSigned)[0]), range(aSigned)[1]);
    for (let i = 0; i < w.length; i++) w[i] = Math.min(Math.max(bz - 3 + rng.int(7), range(bSigned)[0]), range(bSigned)[1]);
  }
  const sa = tie ? 2 ** -(rng.int(4) + 3) : randScale(rng, -7), sb = tie ? 2 ** -(rng.int(4) + 3) : randScale(rng, -8);
  const target = 60 / (Math.sqrt(k) * 74 * 74);
  const sy = tie ? sa * sb * 2 ** (1 + rng.int(4)) : Math.fround((sa * sb) / (target * (0.5 + rng.uniform())));
  const scaleA = sa, scaleB = sb;
  b.inits = b.inits.filter((t) => t.name !== bname);
  b.init(bname, dtOf(bSigned), [k, n], transposeKN(w, n, k));
  b.feeds[b.feeds.length - 1] = { name: `${id}_a`, tensor: new ort.Tensor(aSigned ? 'int8' : 'uint8', a, [m, k]) };
  acc = gemm(a, w, { m, n, k, aZeroPoint: az, wZeroPoint: bz });
  const yz = randZp(rng, ySigned);
  const [qmin, qmax] = range(ySigned);
  const y = requantize(acc, { variant: 'ort-mlas', scales: { sx: scaleA, sw: scaleB, sy }, zeroPoint: yz, qmin, qmax });
  // Discrimination: how many elements a round-half-up stack (same float32 M) would have got wrong here.
  const m32 = formMultiplier('ort-mlas', { sx: scaleA, sw: scaleB, sy }).m32;
  const alt = requantize(acc, { variant: 'tflite-single', multiplier: m32, zeroPoint: yz, qmin, qmax });
  for (let i = 0; i < y.length; i++) if (alt[i] !== y[i]) discriminating.rhu++;
  b.init(`${id}_sa`, DataType.FLOAT, [], [scaleA]);
  b.init(`${id}_az`, dtOf(aSigned), [], [az]);
  b.init(`${id}_sb`, DataType.FLOAT, [], [scaleB]);
  b.init(`${id}_bz`, dtOf(bSigned), [], [bz]);
  b.init(`${id}_sy`, DataType.FLOAT, [], [sy]);
  b.init(`${id}_yz`, dtOf(ySigned), [], [yz]);
  b.nodes.push(makeNode('QLinearMatMul', [`${id}_a`, `${id}_sa`, `${id}_az`, bname, `${id}_sb`, `${id}_bz`, `${id}_sy`, `${id}_yz`], [`${id}_y`]));
  b.output(`${id}_y`, dtOf(ySigned), [m, n], y, `QLinearMatMul ${id} ${m}x${n}x${k} a${aSigned ? 's8' : 'u8'} b${bSigned ? 's8' : 'u8'}`);
}

/**
 * A QDQ MatMul (DequantizeLinear -> MatMul -> QuantizeLinear), the form exporters write. ORT fuses it into
 * QLinearMatMul (INTEGER.md §a); NOTE: these cases also match with graph optimisations disabled (float
 * execution differs only in rare near-ties), so they show the result equals ort-mlas, not that fusion happened.
 */
function addQdqMatMulCase(b: Batch, rng: Rng): void {
  const m = 1 + rng.int(6), n = 1 + rng.int(9), k = 1 + rng.int(48);
  const aSigned = rng.int(2) === 0;
  const a = randBytes(rng, m * k, aSigned), w = randBytes(rng, n * k, true, -127, 127);
  const az = randZp(rng, aSigned);
  const sa = randScale(rng, -7), sb = randScale(rng, -8);
  const sy = Math.fround((sa * sb) / ((60 / (Math.sqrt(k) * 74 * 74)) * (0.5 + rng.uniform())));
  const yz = randZp(rng, aSigned);
  const id = b.id('qdq');
  b.input(`${id}_a`, dtOf(aSigned), [m, k], a);
  b.init(`${id}_b`, DataType.INT8, [k, n], transposeKN(w, n, k));
  b.init(`${id}_sa`, DataType.FLOAT, [], [sa]);
  b.init(`${id}_az`, dtOf(aSigned), [], [az]);
  b.init(`${id}_sb`, DataType.FLOAT, [], [sb]);
  b.init(`${id}_bz`, DataType.INT8, [], [0]);
  b.init(`${id}_sy`, DataType.FLOAT, [], [sy]);
  b.init(`${id}_yz`, dtOf(aSigned), [], [yz]);
  b.nodes.push(makeNode('DequantizeLinear', [`${id}_a`, `${id}_sa`, `${id}_az`], [`${id}_af`]));
  b.nodes.push(makeNode('DequantizeLinear', [`${id}_b`, `${id}_sb`, `${id}_bz`], [`${id}_bf`]));
  b.nodes.push(makeNode('MatMul', [`${id}_af`, `${id}_bf`], [`${id}_yf`]));
  b.nodes.push(makeNode('QuantizeLinear', [`${id}_yf`, `${id}_sy`, `${id}_yz`], [`${id}_y`]));
  const [qmin, qmax] = range(aSigned);
  const acc = gemm(a, w, { m, n, k, aZeroPoint: az });
  const y = requantize(acc, { variant: 'ort-mlas', scales: { sx: sa, sw: sb, sy }, zeroPoint: yz, qmin, qmax });
  b.output(`${id}_y`, dtOf(aSigned), [m, n], y, `QDQ MatMul ${id} ${m}x${n}x${k}`);
}

// ---- QLinearConv / ConvInteger ---------------------------------------------------------------------
function addConvCase(b: Batch, rng: Rng, kind: 'qlinear' | 'integer', shape: 'dense' | 'depthwise' | 'grouped'): void {
  const groups = shape === 'dense' ? 1 : 2 + rng.int(4);
  const cg = shape === 'depthwise' ? 1 : 1 + rng.int(3);
  const c = groups * cg, oc = groups * (shape === 'depthwise' ? 1 + rng.int(2) : 1 + rng.int(3));
  const kh = 1 + rng.int(3), kw = 1 + rng.int(3);
  const sh = 1 + rng.int(2), sw = 1 + rng.int(2), dh = 1 + rng.int(2), dw = 1 + rng.int(2);
  const pads: [number, number, number, number] = [rng.int(kh), rng.int(kw), rng.int(kh), rng.int(kw)];
  const h = dh * (kh - 1) + 1 + rng.int(6), w = dw * (kw - 1) + 1 + rng.int(6), n = 1 + rng.int(2);
  // ORT QLinearConv: x u8 with w s8/u8, or x s8 with w s8; ConvInteger: x u8, w u8/s8
  const xSigned = kind === 'qlinear' ? rng.int(2) === 0 : false;
  const wSigned = xSigned ? true : rng.int(2) === 0;
  const k = cg * kh * kw;
  const x = randBytes(rng, n * c * h * w, xSigned), wt = randBytes(rng, oc * k, wSigned);
  const xz = randZp(rng, xSigned);
  const id = b.id('cv');
  const attrs = { group: groups, kernel_shape: [kh, kw], pads, strides: [sh, sw], dilations: [dh, dw] };
  b.input(`${id}_x`, dtOf(xSigned), [n, c, h, w], x);
  b.init(`${id}_w`, dtOf(wSigned), [oc, cg, kh, kw], wt);
  if (kind === 'integer') {
    const wz = randZp(rng, wSigned);
    const { out, oh, ow } = conv2d(x, wt, { n, c, h, w, oc, kh, kw, groups, strides: [sh, sw], pads, dilations: [dh, dw], xZeroPoint: xz, wZeroPoint: wz });
    b.init(`${id}_xz`, dtOf(xSigned), [], [xz]);
    b.init(`${id}_wz`, dtOf(wSigned), [], [wz]);
    b.nodes.push(makeNode('ConvInteger', [`${id}_x`, `${id}_w`, `${id}_xz`, `${id}_wz`], [`${id}_y`], attrs));
    b.output(`${id}_y`, DataType.INT32, [n, oc, oh, ow], out, `ConvInteger ${id} ${shape}`);
    return;
  }
  const perChannel = rng.int(2) === 0;
  const sx = randScale(rng, -7);
  const sws = Array.from({ length: perChannel ? oc : 1 }, () => (rng.int(12) === 0 ? 0 : randScale(rng, -8)));
  // symmetric weights (zero point 0) for per-channel, as ORT requires; a random one per tensor
  const wz = perChannel ? 0 : (wSigned ? 0 : randZp(rng, wSigned));
  const bias = Array.from({ length: oc }, () => rng.int(40001) - 20000);
  const ySigned = xSigned;
  const target = 60 / (Math.sqrt(k) * 74 * 74);
  const sy = Math.fround((sx * Math.max(...sws.map((v) => v || 1e-3))) / (target * (0.5 + rng.uniform())));
  const yz = randZp(rng, ySigned);
  const [qmin, qmax] = range(ySigned);
  const { out, oh, ow } = conv2d(x, wt, { n, c, h, w, oc, kh, kw, groups, strides: [sh, sw], pads, dilations: [dh, dw], xZeroPoint: xz, wZeroPoint: wz, bias });
  const swFull = perChannel ? sws : Array.from({ length: oc }, () => sws[0]!);
  const y = requantize(out, { variant: 'ort-mlas', scales: { sx, sw: swFull, sy }, inner: oh * ow, zeroPoint: yz, qmin, qmax });
  b.init(`${id}_sx`, DataType.FLOAT, [], [sx]);
  b.init(`${id}_xz`, dtOf(xSigned), [], [xz]);
  b.init(`${id}_sw`, DataType.FLOAT, perChannel ? [oc] : [], sws);
  b.init(`${id}_wz`, dtOf(wSigned), perChannel ? [oc] : [], perChannel ? new Array(oc).fill(0) : [wz]);
  b.init(`${id}_sy`, DataType.FLOAT, [], [sy]);
  b.init(`${id}_yz`, dtOf(ySigned), [], [yz]);
  b.init(`${id}_b`, DataType.INT32, [oc], bias);
  b.nodes.push(makeNode('QLinearConv', [`${id}_x`, `${id}_sx`, `${id}_xz`, `${id}_w`, `${id}_sw`, `${id}_wz`, `${id}_sy`, `${id}_yz`, `${id}_b`], [`${id}_y`], attrs));
  b.output(`${id}_y`, dtOf(ySigned), [n, oc, oh, ow], y, `QLinearConv ${id} ${shape} x${xSigned ? 's8' : 'u8'} w${wSigned ? 's8' : 'u8'} ${perChannel ? 'per-channel' : 'per-tensor'}`);
}

// ---- QuantizeLinear ------------------------------------------------------------------------------
function addQuantizeCase(b: Batch, rng: Rng): void {
  const len = 64;
  const signed = rng.int(2) === 0;
  const s = rng.int(4) === 0 ? Math.fround(2 ** (rng.int(8) - 6)) : randScale(rng, rng.int(10) - 8);
  const z = randZp(rng, signed);
  const x = new Float32Array(len);
  for (let i = 0; i < len; i++) {
    const r = rng.int(4);
    // exact ties (k + 0.5)·s, values near the saturation bounds, and random reals
    x[i] = r === 0 ? Math.fround((rng.int(400) - 200 + 0.5) * s) : r === 1 ? Math.fround((rng.uniform() * 600 - 300) * s) : Math.fround((rng.uniform() - 0.5) * 300 * s);
  }
  if (b.checks.length === 0) { x[0] = -2.90225; } // §e8 vector when s = 0.0235 below
  const scale = b.checks.length === 0 ? Math.fround(0.0235) : s;
  const id = b.id('q');
  b.input(`${id}_x`, DataType.FLOAT, [len], x);
  b.init(`${id}_s`, DataType.FLOAT, [], [scale]);
  b.init(`${id}_z`, dtOf(signed), [], [z]);
  b.nodes.push(makeNode('QuantizeLinear', [`${id}_x`, `${id}_s`, `${id}_z`], [`${id}_y`]));
  const [qmin, qmax] = range(signed);
  b.output(`${id}_y`, dtOf(signed), [len], quantize(x, { variant: 'ort-mlas', scale, zeroPoint: z, qmin, qmax }), `QuantizeLinear ${id}`);
}

// ---- com.microsoft QLinearAdd / QLinearGlobalAveragePool -----------------------------------------------
function addAddCase(b: Batch, rng: Rng, signed: boolean, exhaustive: boolean): void {
  // exhaustive: every (a, b) code pair once (65536 elements), so rare float rounding paths are reached;
  // otherwise short random tensors, length 1 included (MLAS's scalar-broadcast path)
  const len = exhaustive ? 65536 : rng.int(4) === 0 ? 1 : 1 + rng.int(80);
  const a = randBytes(rng, len, signed), bb = randBytes(rng, len, signed);
  if (exhaustive) for (let i = 0; i < len; i++) { a[i] = (signed ? -128 : 0) + (i >> 8); bb[i] = (signed ? -128 : 0) + (i & 255); }
  const sa = randScale(rng, -6), sb = randScale(rng, -6 - rng.int(3)), sy = randScale(rng, -6 + rng.int(2));
  const za = randZp(rng, signed), zb = randZp(rng, signed), zy = randZp(rng, signed);
  const id = b.id('add');
  b.input(`${id}_a`, dtOf(signed), [len], a);
  b.input(`${id}_b`, dtOf(signed), [len], bb);
  for (const [nm, v] of [['sa', sa], ['sb', sb], ['sy', sy]] as const) b.init(`${id}_${nm}`, DataType.FLOAT, [], [v]);
  for (const [nm, v] of [['za', za], ['zb', zb], ['zy', zy]] as const) b.init(`${id}_${nm}`, dtOf(signed), [], [v]);
  b.nodes.push(makeNode('QLinearAdd', [`${id}_a`, `${id}_sa`, `${id}_za`, `${id}_b`, `${id}_sb`, `${id}_zb`, `${id}_sy`, `${id}_zy`], [`${id}_y`], {}, undefined, 'com.microsoft'));
  const [qmin, qmax] = range(signed);
  const y = qadd(Int32Array.from(a), Int32Array.from(bb), { variant: 'ort-mlas', sa, sb, sy, za, zb, zy, qmin, qmax });
  b.output(`${id}_y`, dtOf(signed), [len], y, `QLinearAdd ${id} len ${len} ${signed ? 's8' : 'u8'}`);
}

function addGapCase(b: Batch, rng: Rng, signed: boolean): void {
  const n = 1 + rng.int(2), c = 1 + rng.int(12), h = 1 + rng.int(9), w = 1 + rng.int(9);
  const x = randBytes(rng, n * c * h * w, signed);
  const sx = randScale(rng, -6), sy = randScale(rng, -6 - rng.int(2));
  const zx = randZp(rng, signed), zy = randZp(rng, signed);
  const id = b.id('gap');
  b.input(`${id}_x`, dtOf(signed), [n, c, h, w], x);
  b.init(`${id}_sx`, DataType.FLOAT, [], [sx]);
  b.init(`${id}_zx`, dtOf(signed), [], [zx]);
  b.init(`${id}_sy`, DataType.FLOAT, [], [sy]);
  b.init(`${id}_zy`, dtOf(signed), [], [zy]);
  b.nodes.push(makeNode('QLinearGlobalAveragePool', [`${id}_x`, `${id}_sx`, `${id}_zx`, `${id}_sy`, `${id}_zy`], [`${id}_y`], { channels_last: 0 }, undefined, 'com.microsoft'));
  const [qmin, qmax] = range(signed);
  const y = globalAvgPool(Int32Array.from(x), { variant: 'ort-mlas', channels: n * c, image: h * w, sx, sy, zx, zy, qmin, qmax });
  b.output(`${id}_y`, dtOf(signed), [n, c, 1, 1], y, `QLinearGlobalAveragePool ${id} ${signed ? 's8' : 'u8'} ${h}x${w}`);
}

describe('parity: ort-mlas vs onnxruntime-node (bit-exact)', function () {
  this.timeout(120000);
  after(() => {
    process.stderr.write(`      ort-intq: ${total.cases} cases, ${total.elements} elements, ${total.mismatches} mismatches (${discriminating.rhu} QLinearMatMul elements where round-half-up would differ)\n`);
  });

  it('QLinearMatMul: u8/s8 activations and weights, zero points, ties, large K', async () => {
    const rng = new Rng(4001);
    for (let s = 0; s < 4; s++) {
      const b = new Batch();
      for (let i = 0; i < 60; i++) addMatMulCase(b, rng, 'qlinear', { edge: i % 10 === 0, bigK: i % 15 === 7 });
      await runAndCheck(b);
    }
  });

  it('QLinearMatMul: the §e1 tie vector and the §e7 float32-accumulator vector, through ORT', async () => {
    const b = new Batch();
    // §e1: M = 0.5 (sa = sb = 1, sy = 2), acc = -3..3 -> RNE: -2 -1 0 0 0 1 2
    const a1 = Int8Array.from([-3, -2, -1, 0, 1, 2, 3]);
    b.input('e1_a', DataType.INT8, [7, 1], a1);
    b.init('e1_b', DataType.INT8, [1, 1], [1]);
    for (const [nm, v] of [['sa', 1], ['sb', 1], ['sy', 2]] as const) b.init(`e1_${nm}`, DataType.FLOAT, [], [v]);
    for (const nm of ['az', 'bz', 'yz']) b.init(`e1_${nm}`, DataType.INT8, [], [0]);
    b.nodes.push(makeNode('QLinearMatMul', ['e1_a', 'e1_sa', 'e1_az', 'e1_b', 'e1_sb', 'e1_bz', 'e1_sy', 'e1_yz'], ['e1_y']));
    const want1 = [-2, -1, 0, 0, 0, 1, 2];
    assert.deepEqual(Array.from(requantize(Int32Array.from(a1), { variant: 'ort-mlas', multiplier: 0.5 })), want1);
    b.output('e1_y', DataType.INT8, [7, 1], want1, 'e1 ties');
    // §e7: acc = 34340863 with M = 2^-19: exact 65.4999981, ORT 66 (fl32(acc) = 34340864).
    // acc = 1060 taps of 255*127 + 100 taps of 1*127 + 1 tap of 1*63 (a uint8, zero points 0).
    const k = 1161;
    const a7 = new Uint8Array(k), w7 = new Int8Array(k);
    for (let i = 0; i < k; i++) { a7[i] = i < 1060 ? 255 : 1; w7[i] = i < k - 1 ? 127 : 63; }
    const acc7 = gemm(a7, w7, { m: 1, n: 1, k });
    assert.equal(acc7[0], 34340863);
    b.input('e7_a', DataType.UINT8, [1, k], a7);
    b.init('e7_b', DataType.INT8, [k, 1], w7);
    for (const [nm, v] of [['sa', 1], ['sb', 1], ['sy', 2 ** 19]] as const) b.init(`e7_${nm}`, DataType.FLOAT, [], [v]);
    b.init('e7_az', DataType.UINT8, [], [0]);
    b.init('e7_bz', DataType.INT8, [], [0]);
    b.init('e7_yz', DataType.UINT8, [], [0]);
    b.nodes.push(makeNode('QLinearMatMul', ['e7_a', 'e7_sa', 'e7_az', 'e7_b', 'e7_sb', 'e7_bz', 'e7_sy', 'e7_yz'], ['e7_y']));
    const ours = requantize(acc7, { variant: 'ort-mlas', scales: { sx: 1, sw: 1, sy: 2 ** 19 }, qmin: 0, qmax: 255 });
    assert.equal(ours[0], 66);
    assert.equal(requantize(acc7, { variant: 'onnx-ref', multiplier: 2 ** -19, qmin: 0, qmax: 255 })[0], 65);
    b.output('e7_y', DataType.UINT8, [1, 1], ours, 'e7 fl32(acc)');
    await runAndCheck(b);
  });

  it('the random QLinearMatMul cases reach outputs where round-half-up stacks differ', () => {
    assert.ok(discriminating.rhu > 0, 'no element where tflite-single (same M) differs: the cases would not catch a wrong rounding');
  });

  it('QDQ MatMul (DequantizeLinear -> MatMul -> QuantizeLinear) matches ort-mlas', async () => {
    const rng = new Rng(4008);
    const b = new Batch();
    for (let i = 0; i < 40; i++) addQdqMatMulCase(b, rng);
    await runAndCheck(b);
  });

  it('MatMulInteger: int32 accumulators with zero points', async () => {
    const rng = new Rng(4002);
    for (let s = 0; s < 2; s++) {
      const b = new Batch();
      for (let i = 0; i < 60; i++) addMatMulCase(b, rng, 'integer', { bigK: i % 20 === 3 });
      await runAndCheck(b);
    }
  });

  it('QLinearConv: dense, depthwise and grouped; per-tensor and per-channel', async () => {
    const rng = new Rng(4003);
    for (const shape of ['dense', 'depthwise', 'grouped'] as const) {
      const b = new Batch();
      for (let i = 0; i < 80; i++) addConvCase(b, rng, 'qlinear', shape);
      await runAndCheck(b);
    }
  });

  it('ConvInteger: dense, depthwise and grouped', async () => {
    const rng = new Rng(4004);
    for (const shape of ['dense', 'depthwise', 'grouped'] as const) {
      const b = new Batch();
      for (let i = 0; i < 30; i++) addConvCase(b, rng, 'integer', shape);
      await runAndCheck(b);
    }
  });

  it('QuantizeLinear: RNE of a true divide, ties, saturation, §e8', async () => {
    const rng = new Rng(4005);
    const b = new Batch();
    for (let i = 0; i < 100; i++) addQuantizeCase(b, rng);
    await runAndCheck(b);
  });

  it('QLinearAdd (com.microsoft): uint8 and int8', async () => {
    const rng = new Rng(4006);
    for (const signed of [false, true]) {
      const b = new Batch();
      for (let i = 0; i < 60; i++) addAddCase(b, rng, signed, i < 20);
      await runAndCheck(b);
    }
  });

  it('QLinearGlobalAveragePool (com.microsoft): uint8 and int8', async () => {
    const rng = new Rng(4007);
    for (const signed of [false, true]) {
      const b = new Batch();
      for (let i = 0; i < 60; i++) addGapCase(b, rng, signed);
      await runAndCheck(b);
    }
  });

  it('covers at least 1000 random cases with zero mismatches', () => {
    assert.ok(total.cases >= 1000, `only ${total.cases} cases ran`);
    assert.equal(total.mismatches, 0);
  });
});
