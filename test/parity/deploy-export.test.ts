/**
 * Acceptance 1 of issue 10 on a small QAT model built here (resnet20, seeded init, prepared for LSQ / PACT at 8
 * and 4 bits, observers frozen and the deploy points calibrated on seeded images): our QDQ export runs in
 * onnxruntime-node with every conv / add / pool fused into integer kernels, and our engine under
 * `x86-onnxruntime` gives identical codes at every quantization point and identical logits (hence top-1).
 * The fake-quant reference differs from both somewhere (the comparison discriminates).
 */
import { strict as assert } from 'node:assert';
import * as ort from 'onnxruntime-node';
import { Tensor } from '../../ts/tensor/tensor.ts';
import * as ag from '../../ts/autograd/index.ts';
import { resnet20 } from '../../ts/nn/models/resnet20.ts';
import { prepareQat, freezeObservers, exportQuantParams } from '../../ts/quant/index.ts';
import { convertQat } from '../../ts/deploy/convert.ts';
import { lowerForTarget } from '../../ts/deploy/lower.ts';
import { runGraph, setDeployKernels } from '../../ts/deploy/exec.ts';
import { exportQuantizedOnnx } from '../../ts/formats/onnx-qexport.ts';
import { importQuantizedOnnx } from '../../ts/formats/onnx-qimport.ts';
import { encodeModel, decodeModel } from '../../ts/formats/onnx.ts';
import { loadTarget } from '../../ts/targets/index.ts';
import { Rng } from '../../ts/util/rng.ts';
import type { Value } from '../../ts/deploy/ir.ts';

/** Smooth random images in [0, 1] (a few blobs), so activations look like images rather than noise. */
function images(n: number, seed: number): Float32Array {
  const rng = new Rng(seed), x = new Float32Array(n * 3 * 32 * 32);
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) {
    const fx = rng.uniform() * 0.4, fy = rng.uniform() * 0.4, ph = rng.uniform() * 6;
    for (let y = 0; y < 32; y++) for (let xx = 0; xx < 32; xx++) x[((i * 3 + c) * 32 + y) * 32 + xx] = Math.fround(0.5 + 0.45 * Math.sin(fx * xx + fy * y + ph) * Math.cos(0.1 * c * y));
  }
  return x;
}

const built = new Map<string, ReturnType<typeof buildQatGraphUncached>>();
/** Memoised: each (method, bits) graph is built once per run. */
export function buildQatGraph(method: 'lsq' | 'pact', bits: 4 | 8): ReturnType<typeof buildQatGraphUncached> {
  const key = `${method}-${bits}`;
  if (!built.has(key)) built.set(key, buildQatGraphUncached(method, bits));
  return built.get(key)!;
}

function buildQatGraphUncached(method: 'lsq' | 'pact', bits: 4 | 8) {
  const model = resnet20({ numClasses: 10, seed: 3, mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] });
  prepareQat(model, { method, bits });
  const cal = images(16, 11);
  // LSQ initialises its steps on the first training batch (as QAT would); BN statistics are restored after
  const bn = model.stateDict();
  const saved = new Map([...bn].map(([k, v]) => [k, Float32Array.from(v.contiguous().data)]));
  model.train(true);
  ag.noGrad(() => model.call(Tensor.from(cal, [16, 3, 32, 32])));
  for (const [k, v] of model.stateDict()) if (/running_(mean|var)$/.test(k)) v.data.set(saved.get(k)!);
  model.eval();
  freezeObservers(model, [Tensor.from(cal, [16, 3, 32, 32])]);
  const g = convertQat(model, exportQuantParams(model), { calibration: [{ data: cal, shape: [16, 3, 32, 32] }], reference: loadTarget('reference') });
  return { model, graph: g };
}

describe('deploy: QDQ export of QAT models vs onnxruntime-node (x86-onnxruntime)', function () {
  this.timeout(300000);
  const target = loadTarget('x86-onnxruntime');
  for (const [method, bits] of [['lsq', 8], ['lsq', 4], ['pact', 8], ['pact', 4]] as const) {
    it(`${method}-${bits}: ORT fuses every unit, codes at every point and logits identical`, async () => {
      const { graph } = buildQatGraph(method, bits);
      const lowered = lowerForTarget(graph, target);
      const model = exportQuantizedOnnx(lowered, { format: 'qdq', layerOutputs: true });
      const bytes = encodeModel(model);
      const N = 6, x = images(N, 99), shape = [N, 3, 32, 32];
      const ours = new Map<string, Value>();
      const out = runGraph(lowered, x, shape, target, (n, v) => ours.set(n.outputs[0]!, v));
      const s = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, graphOptimizationLevel: 'all' });
      const res = await s.run({ [lowered.input.name]: new ort.Tensor('float32', x, shape) });
      const pointOf = new Map<string, { scale: number; zeroPoint: number }>();
      for (const n of lowered.nodes) {
        if (n.op === 'quantize') pointOf.set(n.outputs[0]!, n.q);
        else if (n.op === 'qconv' || n.op === 'qadd' || n.op === 'qgap') pointOf.set(n.outputs[0]!, n.out);
        else if (n.op === 'flatten') pointOf.set(n.outputs[0]!, pointOf.get(n.inputs[0]!)!);
      }
      let points = 0, elements = 0;
      for (const [name, v] of Object.entries(res)) {
        if (!name.endsWith(':out')) continue;
        const codes = name.slice(0, -4);
        const mine = ours.get(codes)!;
        const p = pointOf.get(codes)!;
        const got = v.data as Float32Array;
        let bad = 0, first = '';
        for (let i = 0; i < got.length; i++) {
          const e = Math.fround((mine.data[i]! - p.zeroPoint) * Math.fround(p.scale));
          if (e !== got[i]) { bad++; if (!first) first = `[${i}] ort ${got[i]} ours ${e}`; }
        }
        assert.equal(bad, 0, `${method}-${bits} point ${codes}: ${bad} of ${got.length} differ; first ${first}`);
        points++;
        elements += got.length;
      }
      const lo = res[lowered.outputs[0]!]!.data as Float32Array, lm = out.get(lowered.outputs[0]!)!.data;
      for (let i = 0; i < lo.length; i++) assert.equal(lm[i], lo[i], `logit ${i}`);
      const ref = runGraph(graph, x, shape, loadTarget('reference')).get(graph.outputs[0]!)!.data;
      let refDiff = 0;
      for (let i = 0; i < lo.length; i++) if (ref[i] !== lo[i]) refDiff++;
      assert.ok(refDiff > 0, 'the fake-quant reference should differ from the integer engine');
      console.log(`      ${method}-${bits}: ${points} quantization points, ${elements} codes and ${lo.length} logits identical (fake-quant reference: ${refDiff} logits differ)`);
      await s.release();
    });
  }

  it('the fast integer kernels give the same codes as the reference kernels at every node, under every integer target', () => {
    const { graph } = buildQatGraph('pact', 4);
    const x = images(3, 5), shape = [3, 3, 32, 32];
    for (const id of ['x86-onnxruntime', 'rpi4-tflite', 'rpi4-tflite-noxnnpack', 'rpi5-tflite', 'jetson-orin-tensorrt']) {
      const t = loadTarget(id);
      const g = lowerForTarget(graph, t);
      const got: Value[][] = [];
      for (const k of ['fast', 'reference'] as const) {
        const prev = setDeployKernels(k);
        const vals: Value[] = [];
        try {
          runGraph(g, x, shape, t, (_n, v) => vals.push(v));
        } finally {
          setDeployKernels(prev);
        }
        got.push(vals);
      }
      assert.equal(got[0]!.length, got[1]!.length);
      got[0]!.forEach((v, i) => assert.deepEqual(v.data, got[1]![i]!.data, `${id}: node ${i} (${g.nodes[i]!.name})`));
    }
  });

  it('the INT4 export (opset 21, ≤4-bit weights stored as INT4) runs in onnxruntime-node; our import of it runs those convolutions in float as ORT does', async () => {
    const { graph } = buildQatGraph('lsq', 4);
    const lowered = lowerForTarget(graph, target);
    const m = exportQuantizedOnnx(lowered, { format: 'int4' });
    const w4 = m.graph!.initializer!.filter((t) => t.dataType === 22 && t.name!.endsWith('.weight_q')).length; // INT4
    assert.ok(w4 >= 19, `${w4} INT4 weight tensors`);
    const N = 4, x = images(N, 7), shape = [N, 3, 32, 32];
    const s = await ort.InferenceSession.create(encodeModel(m), { intraOpNumThreads: 1 });
    const got = (await s.run({ [lowered.input.name]: new ort.Tensor('float32', x, shape) }))[lowered.outputs[0]!]!.data as Float32Array;
    await s.release();
    // ORT runs the INT4-weight convolutions in float (DQ → Conv → Q); our import of the same file does too
    const imported = importQuantizedOnnx(encodeModel(m));
    assert.equal(imported.nodes.filter((n) => n.op === 'float' && n.node.opType === 'Conv').length, w4);
    const ours = runGraph(lowerForTarget(imported, target), x, shape, target).get(lowered.outputs[0]!)!.data;
    // float convolutions sum in another order than MLAS: codes near a rounding tie flip by one LSB and the flips
    // propagate, so the check is the size of the logit difference against the logits' spread, and top-1
    let far = 0, maxd = 0, spread = 0;
    for (let i = 0; i < got.length; i++) {
      const d = Math.abs(got[i]! - ours[i]!);
      if (d > 1e-4 * (1 + Math.abs(ours[i]!))) far++;
      maxd = Math.max(maxd, d);
      spread = Math.max(spread, Math.abs(ours[i]!));
    }
    const k = got.length / N;
    let same = 0;
    for (let i = 0; i < N; i++) {
      const am = (a: ArrayLike<number>): number => { let b = 0; for (let j = 1; j < k; j++) if (a[i * k + j]! > a[i * k + b]!) b = j; return b; };
      if (am(got) === am(ours)) same++;
    }
    console.log(`      int4: ${w4} INT4 weight tensors; ${far} of ${got.length} logits differ from ORT beyond 1e-4, max |diff| ${maxd.toFixed(4)} (max |logit| ${spread.toFixed(3)}); top-1 equal on ${same} of ${N}`);
    assert.ok(maxd < 0.1 * spread, `max |diff| ${maxd} against max |logit| ${spread}`);
    assert.equal(same, N);
  });

  it('ORT runs the export fully integer: its optimised graph has QLinearConv / QLinearAdd / QLinearGlobalAveragePool and no float Conv or Add', async () => {
    const { graph } = buildQatGraph('lsq', 4);
    const bytes = encodeModel(exportQuantizedOnnx(lowerForTarget(graph, target), { format: 'qdq' }));
    const path = `${process.env.TMPDIR ?? '/tmp'}/qrobust-deploy-${process.pid}.opt.onnx`;
    const s = await ort.InferenceSession.create(bytes, { graphOptimizationLevel: 'extended', optimizedModelFilePath: path, intraOpNumThreads: 1 });
    await s.release();
    const { readFileSync, rmSync } = await import('node:fs');
    const ops = decodeModel(readFileSync(path)).graph!.node!.map((n) => n.opType);
    rmSync(path, { force: true });
    const count = (op: string): number => ops.filter((o) => o === op).length;
    assert.equal(count('Conv'), 0, ops.join(' '));
    assert.equal(count('Add'), 0, ops.join(' '));
    assert.equal(count('QLinearConv'), 21);
    assert.equal(count('QLinearAdd'), 9);
    assert.equal(count('QLinearGlobalAveragePool'), 1);
  });
});
