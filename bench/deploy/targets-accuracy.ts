/**
 * Measurement (not a test): a QAT resnet20 converted to the deploy graph, clean top-1 per target on a test
 * subset, and the parity report of every integer target against the fake-quant reference (same dec-pil inputs,
 * so only the arithmetic differs). Uses /work/qat/<method>-<bits>.safetensors when it exists, else prepares the
 * FP checkpoint for QAT and only freezes its observers on the calibration images (no QAT epochs: say so).
 *
 *   npx tsx bench/deploy/targets-accuracy.ts [--model q.safetensors | --method lsq --bits 4] [--n 500] [--calib 256] [--targets a,b] [--fp /work/ckpt/resnet20-fp.safetensors]
 */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Tensor } from '../../ts/tensor/tensor.ts';
import { openDataset, buildBatch } from '../../ts/data/index.ts';
import { loadCheckpoint } from '../../ts/train/checkpoint.ts';
import { prepareQat, freezeObservers, exportQuantParams } from '../../ts/quant/index.ts';
import * as ag from '../../ts/autograd/index.ts';
import { convertQat } from '../../ts/deploy/convert.ts';
import { ensurePipelinePreprocess } from '../../ts/deploy/model.ts';
import { lowerForTarget } from '../../ts/deploy/lower.ts';
import { runGraph } from '../../ts/deploy/exec.ts';
import { ParityAccumulator, top1 } from '../../ts/deploy/parity.ts';
import { loadTarget } from '../../ts/targets/index.ts';

const { values } = parseArgs({ options: { method: { type: 'string', default: 'lsq' }, bits: { type: 'string', default: '4' }, n: { type: 'string', default: '500' }, calib: { type: 'string', default: '256' }, fp: { type: 'string', default: '/work/ckpt/resnet20-fp.safetensors' }, model: { type: 'string', default: '' }, targets: { type: 'string', default: '' }, parity: { type: 'string', default: 'true' } } });
const method = values.method!, bits = Number(values.bits), N = Number(values.n), NC = Number(values.calib);
const qpath = values.model || `/work/qat/${method}-${bits}.safetensors`;
const ds = await openDataset('fashion-mnist');
const train = ds.split('train'), test = ds.split('test');
const stride = (len: number, k: number): number[] => Array.from({ length: k }, (_, i) => Math.floor((i * len) / k));
const calib = await buildBatch(train, stride(train.length, NC), { size: 32 });
let model, source;
if (existsSync(qpath)) {
  model = loadCheckpoint(qpath).model;
  source = qpath;
} else {
  model = loadCheckpoint(values.fp!).model;
  prepareQat(model, { method: method as 'lsq', bits: bits as 4 });
  model.eval();
  const bs: Tensor[] = [];
  for (let i = 0; i < NC; i += 64) bs.push(Tensor.from(calib.x.subarray(i * 3072, Math.min(NC, i + 64) * 3072), [Math.min(64, NC - i), 3, 32, 32]));
  freezeObservers(model, bs);
  source = `${values.fp} prepared ${method}-${bits}, observers frozen on ${NC} train images, no QAT epochs`;
}
model.eval();
const params = exportQuantParams(model);
const reference = loadTarget('reference');
const cal = [];
for (let i = 0; i < NC; i += 64) { const m = Math.min(64, NC - i); cal.push({ data: calib.x.slice(i * 3072, (i + m) * 3072), shape: [m, 3, 32, 32] }); }
const graph = convertQat(model, params, { calibration: cal, reference });
console.error(`model: ${source}\nconversions: ${graph.conversions.join('; ')}`);
const idx = stride(test.length, N);
const ids = values.targets ? values.targets.split(',') : ['reference', 'x86-onnxruntime', 'rpi4-tflite', 'rpi4-tflite-a72wrap', 'rpi4-tflite-noxnnpack', 'rpi5-tflite', 'jetson-orin-tensorrt', 'jetson-nano-fp16'];
const rows: Record<string, unknown>[] = [];
// the QAT module itself (fake-quant as trained, BN unfolded), dec-pil
{
  const b = await buildBatch(test, idx, { size: 32, preprocess: 'dec-pil' });
  let correct = 0;
  for (let i = 0; i < N; i += 100) {
    const m = Math.min(100, N - i);
    const y = ag.noGrad(() => model.call(Tensor.from(b.x.subarray(i * 3072, (i + m) * 3072), [m, 3, 32, 32])));
    const t = top1({ shape: [m, y.shape[1]!], data: y.contiguous().data }, y.shape[1]!);
    for (let j = 0; j < m; j++) if (t[j] === b.y[i + j]) correct++;
  }
  rows.push({ target: 'qat-module (fake-quant, BN unfolded)', pipeline: 'dec-pil', top1: (100 * correct) / N });
  console.error(rows.at(-1));
}
for (const id of ids) {
  const t = loadTarget(id);
  ensurePipelinePreprocess(t.pipeline);
  const g = lowerForTarget(graph, t);
  const b = await buildBatch(test, idx, { size: 32, preprocess: t.pipeline });
  let correct = 0;
  const t0 = performance.now();
  for (let i = 0; i < N; i += 50) {
    const m = Math.min(50, N - i);
    const out = runGraph(g, b.x.slice(i * 3072, (i + m) * 3072), [m, 3, 32, 32], t).get(g.outputs[0]!)!;
    const tp = top1(out, out.shape[1]!);
    for (let j = 0; j < m; j++) if (tp[j] === b.y[i + j]) correct++;
  }
  rows.push({ target: id, pipeline: t.pipeline, top1: (100 * correct) / N, seconds: (performance.now() - t0) / 1000, conversions: g.conversions.slice(graph.conversions.length) });
  console.error(rows.at(-1));
}
const parity: Record<string, unknown>[] = [];
const pb = await buildBatch(test, idx, { size: 32, preprocess: 'dec-pil' });
for (const id of values.parity === 'false' ? [] : ids.filter((i) => loadTarget(i).execution === 'integer')) {
  const acc = new ParityAccumulator(graph, loadTarget(id), reference);
  for (let i = 0; i < N; i += 50) { const m = Math.min(50, N - i); acc.add(pb.x.slice(i * 3072, (i + m) * 3072), [m, 3, 32, 32]); }
  const r = acc.report();
  const tot = r.layers.reduce((p, l) => ({ e: p.e + l.elements, m: p.m + l.mismatches, x: Math.max(p.x, l.max_lsb) }), { e: 0, m: 0, x: 0 });
  parity.push({ target: id, top1_agreement: r.top1_agreement, n: r.n, elements: tot.e, mismatches: tot.m, max_lsb: tot.x, layers: r.layers });
  console.error({ target: id, top1_agreement: r.top1_agreement, elements: tot.e, mismatches: tot.m, max_lsb: tot.x });
}
console.log(JSON.stringify({ model: source, method, bits, n: N, calibration: NC, conversions: graph.conversions, accuracy: rows, parity }));
