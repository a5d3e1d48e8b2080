/**
 * `qrobust parity --model <q-checkpoint|quantized onnx> --target <id> [--data D] [--test-limit N] [--seed S]
 *  [--batch B] [--calib N] [--json]`
 *
 * The parity report (CONVENTIONS.md): the deploy graph run by the fake-quant reference and by the target's
 * integer arithmetic on the same test images (reference preprocessing for both, so only arithmetic differs);
 * per layer the codes compared (elements), how many differ (mismatches) and by how much (max_lsb); the top-1
 * agreement. For a q-checkpoint it also gives the top-1 agreement of the target with the QAT model's own forward
 * (what the conversion costs). For `x86-onnxruntime` it also runs our QDQ export in onnxruntime-node (the
 * oracle, never the engine) and reports per layer how many codes of our engine differ from ORT's.
 */
import { Option, type Command } from 'commander';
import { UsageError } from '../util/errors.ts';
import { parseIntFlag } from '../util/is.ts';
import { setQuiet, startProgress } from '../util/progress.ts';
import { openDataset, buildBatch } from '../data/index.ts';
import { selectSubset } from '../data/subset.ts';
import { Tensor } from '../tensor/tensor.ts';
import { noGrad } from '../autograd/index.ts';
import { loadDeployModel } from '../deploy/model.ts';
import { ParityAccumulator, top1 } from '../deploy/parity.ts';
import { runGraph } from '../deploy/exec.ts';
import { loadTarget } from '../targets/index.ts';
import { exportQuantizedOnnx } from '../formats/onnx-qexport.ts';
import { encodeModel } from '../formats/onnx.ts';
import type { Value } from '../deploy/ir.ts';

interface ParityFlags { model?: string; target?: string; data?: string; testLimit?: string; seed?: string; batch?: string; calib?: string; json?: boolean }

/** Our codes vs onnxruntime-node running the QDQ export, per quantization point. */
async function ortLayers(graph: import('../deploy/ir.ts').DeployGraph, batches: { x: Float32Array; shape: number[] }[]): Promise<{ layers: { name: string; elements: number; mismatches: number }[]; top1_agreement: number }> {
  const ort = await import('onnxruntime-node');
  const t = loadTarget('x86-onnxruntime');
  const s = await ort.InferenceSession.create(encodeModel(exportQuantizedOnnx(graph, { format: 'qdq', layerOutputs: true })), { intraOpNumThreads: 1 });
  const pointOf = new Map<string, { name: string; scale: number; zeroPoint: number }>();
  for (const n of graph.nodes) {
    if (n.op === 'quantize') pointOf.set(n.outputs[0]!, { name: n.name, ...n.q });
    else if (n.op === 'qconv' || n.op === 'qadd' || n.op === 'qgap') pointOf.set(n.outputs[0]!, { name: n.name, ...n.out });
    else if (n.op === 'flatten') pointOf.set(n.outputs[0]!, { ...pointOf.get(n.inputs[0]!)!, name: n.name });
  }
  const layers = new Map<string, { name: string; elements: number; mismatches: number }>();
  let agree = 0, n = 0;
  for (const b of batches) {
    const ours = new Map<string, Value>();
    const out = runGraph(graph, b.x, b.shape, t, (node, v) => ours.set(node.outputs[0]!, v)).get(graph.outputs[0]!)!;
    const res = await s.run({ [graph.input.name]: new ort.Tensor('float32', b.x, b.shape) });
    for (const [name, v] of Object.entries(res)) {
      if (!name.endsWith(':out')) continue;
      const codes = name.slice(0, -4), p = pointOf.get(codes)!, mine = ours.get(codes)!.data, got = v.data as Float32Array;
      const l = layers.get(p.name) ?? { name: p.name, elements: 0, mismatches: 0 };
      for (let i = 0; i < got.length; i++) if (Math.fround((mine[i]! - p.zeroPoint) * Math.fround(p.scale)) !== got[i]) l.mismatches++;
      l.elements += got.length;
      layers.set(p.name, l);
    }
    const k = out.shape[1]!;
    const a = top1(out, k), r = top1({ shape: out.shape, data: res[graph.outputs[0]!]!.data as Float32Array }, k);
    for (let i = 0; i < a.length; i++) if (a[i] === r[i]) agree++;
    n += a.length;
  }
  await s.release();
  return { layers: [...layers.values()], top1_agreement: n ? (100 * agree) / n : 0 };
}

/**
 * Registers `qrobust parity`.
 * @param program the root program
 * @throws never (the action's errors are reported by main)
 * @example
 * registerParityCommand(new Command());
 */
export function registerParityCommand(program: Command): void {
  program
    .command('parity')
    .description('per-layer parity of a target\'s integer arithmetic against fake-quant (and onnxruntime for x86-onnxruntime)')
    .addOption(new Option('--model <file>', 'q-checkpoint (.safetensors) or quantized .onnx'))
    .addOption(new Option('--target <id>', 'target id (targets/*.json) or a .json path'))
    .addOption(new Option('--data <name>', 'data name (default: the checkpoint\'s)'))
    .addOption(new Option('--test-limit <N>', 'seeded, stratified subset of N test images').default('200'))
    .addOption(new Option('--seed <S>', 'seed of the subset').default('0'))
    .addOption(new Option('--batch <B>', 'images per run').default('50'))
    .addOption(new Option('--calib <N>', 'training images that calibrate the residual / pooling points').default('256'))
    .addOption(new Option('--json', 'print one JSON object'))
    .action(async (o: ParityFlags) => {
      if (o.json) setQuiet(true);
      if (!o.model) throw new UsageError('Expected a q-checkpoint or quantized ONNX model for --model but received nothing');
      if (!o.target) throw new UsageError('Expected a target id for --target but received nothing');
      const limit = parseIntFlag('--test-limit', o.testLimit ?? '200', 1);
      const seed = parseIntFlag('--seed', o.seed ?? '0', 0, 0xffffffff);
      const B = parseIntFlag('--batch', o.batch ?? '50', 1, 4096);
      const t0 = performance.now();
      const dep = await loadDeployModel(o.model, o.target, { data: o.data, calib: parseIntFlag('--calib', o.calib ?? '256', 1, 100000) });
      const dataName = dep.meta.data;
      if (!dataName) throw new UsageError(`Expected --data for ${o.model}: an ONNX model does not record its data`);
      const ds = await openDataset(dataName);
      if (!ds.testSplit) throw new UsageError(`Expected a data set with a test split for --data but ${ds.name} has none`);
      const split = ds.split(ds.testSplit);
      const { indices, record } = selectSubset(split.labels, limit, seed, { split: ds.testSplit });
      const S = dep.meta.inputSize, per = 3 * S * S;
      const b = await buildBatch(split, Array.from(indices), { size: S, preprocess: 'dec-pil' });
      const batches = [];
      for (let i = 0; i < indices.length; i += B) { const m = Math.min(B, indices.length - i); batches.push({ x: b.x.slice(i * per, (i + m) * per), shape: [m, 3, S, S] }); }
      const reference = loadTarget('reference');
      const bar = startProgress(`parity ${dep.target.id} on ${indices.length} images`, batches.length);
      const acc = dep.target.execution === 'integer' ? new ParityAccumulator(dep.base, dep.target, reference) : null;
      let qatAgree = 0, qatN = 0, correct = 0;
      const isQ = dep.meta.kind === 'q-checkpoint';
      const qat = isQ ? (await loadDeployModel(o.model, 'reference', { data: o.data, calib: 1 })).module : null;
      let off = 0;
      for (const x of batches) {
        acc?.add(x.x, x.shape);
        const out = runGraph(dep.graph, x.x, x.shape, dep.target).get(dep.graph.outputs[0]!)!;
        const k = out.shape[1]!;
        const tp = top1(out, k);
        for (let i = 0; i < tp.length; i++) if (tp[i] === b.y[off + i]) correct++;
        if (qat) {
          const y = noGrad(() => qat.call(Tensor.from(x.x, x.shape)));
          const tq = top1({ shape: [...y.shape], data: y.contiguous().data }, k);
          for (let i = 0; i < tp.length; i++) if (tp[i] === tq[i]) qatAgree++;
          qatN += tp.length;
        }
        off += x.shape[0]!;
        bar.tick();
      }
      bar.stop();
      const rep = acc?.report();
      const ortRes = dep.target.id === 'x86-onnxruntime' ? await ortLayers(dep.graph, batches) : undefined;
      const res = {
        target: dep.target.id, model: o.model, data: ds.name, n: indices.length, seed, subset: record,
        layers: rep?.layers ?? [], top1_agreement: rep?.top1_agreement ?? null, top1: (100 * correct) / indices.length,
        ...(qat ? { top1_agreement_qat_model: (100 * qatAgree) / qatN } : {}),
        ...(ortRes ? { onnxruntime: ortRes } : {}),
        conversions: dep.meta.conversions, calibration: dep.meta.calibration, seconds: (performance.now() - t0) / 1000,
      };
      if (o.json) {
        process.stdout.write(`${JSON.stringify(res)}\n`);
        return;
      }
      const lines = res.layers.map((l) => `  ${l.name.padEnd(28)} ${String(l.mismatches).padStart(8)} / ${String(l.elements).padEnd(9)} max ${l.max_lsb} LSB`);
      process.stdout.write(`parity ${res.target} vs reference (fake-quant), ${res.n} images: top-1 agreement ${res.top1_agreement?.toFixed(2) ?? '-'}%, top-1 ${res.top1.toFixed(2)}%\n${lines.join('\n')}\n`);
      if (ortRes) process.stdout.write(`onnxruntime-node on our QDQ export: ${ortRes.layers.reduce((p, l) => p + l.mismatches, 0)} of ${ortRes.layers.reduce((p, l) => p + l.elements, 0)} codes differ, top-1 agreement ${ortRes.top1_agreement.toFixed(2)}%\n`);
    });
}
