/**
 * `qrobust profile --model <q-checkpoint|quantized onnx> --target <id> [--data D] [--test-limit N] [--batch B]
 *  [--reps R] [--json]`
 *
 * Per stage — decode + resize (the target's pipeline, per image), input quantization, every layer of the deploy
 * graph, total — the median and p90 latency over the batches, images/s, weight bytes at the target's containers
 * (int8: one byte a weight) and at the grid's bit width, MACs per layer and image, and the peak activation
 * memory of one batch (the largest sum of live values, by last use). On this machine it profiles the emulated
 * path (our reference kernels emulating the target's arithmetic), not the device.
 */
import { Option, type Command } from 'commander';
import { UsageError } from '../util/errors.ts';
import { parseIntFlag } from '../util/is.ts';
import { setQuiet, startProgress } from '../util/progress.ts';
import { openDataset, buildBatch } from '../data/index.ts';
import { loadDeployModel } from '../deploy/model.ts';
import { runGraph } from '../deploy/exec.ts';
import { numel, type DeployGraph, type DeployNode } from '../deploy/ir.ts';

interface ProfileFlags { model?: string; target?: string; data?: string; testLimit?: string; batch?: string; json?: boolean }

const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(q * (s.length - 1) + 0.5))]! : 0;
};

/** MACs of one node for one image, given its output shape. */
function macs(n: DeployNode, outShape: number[]): number {
  if (n.op === 'qconv' || n.op === 'convinteger') {
    const [, cg, kh, kw] = n.w.shape as [number, number, number, number];
    return numel(outShape.slice(1)) * cg * kh * kw;
  }
  if (n.op === 'qgemm' || n.op === 'matmulinteger') return n.w.shape[0]! * n.w.shape[1]!;
  return 0;
}

/** Peak bytes of live values over one run (each value freed after its last reader). */
function peakBytes(g: DeployGraph, sizes: Map<string, number>): number {
  const last = new Map<string, number>();
  g.nodes.forEach((n, i) => n.inputs.forEach((x) => last.set(x, i)));
  for (const o of g.outputs) last.set(o, g.nodes.length);
  let live = sizes.get(g.input.name) ?? 0, peak = live;
  g.nodes.forEach((n, i) => {
    live += sizes.get(n.outputs[0]!) ?? 0;
    peak = Math.max(peak, live);
    for (const x of new Set(n.inputs)) if (last.get(x) === i) live -= sizes.get(x) ?? 0;
  });
  return peak;
}

/**
 * Registers `qrobust profile`.
 * @param program the root program
 * @throws never (the action's errors are reported by main)
 * @example
 * registerProfileCommand(new Command());
 */
export function registerProfileCommand(program: Command): void {
  program
    .command('profile')
    .description('per-stage latency (median, p90), images/s, weight bytes, MACs and peak memory of a deployed model on a target')
    .addOption(new Option('--model <file>', 'q-checkpoint (.safetensors) or quantized .onnx'))
    .addOption(new Option('--target <id>', 'target id (targets/*.json) or a .json path'))
    .addOption(new Option('--data <name>', 'data name (default: the checkpoint\'s)'))
    .addOption(new Option('--test-limit <N>', 'test images profiled').default('64'))
    .addOption(new Option('--batch <B>', 'images per run').default('16'))
    .addOption(new Option('--json', 'print one JSON object'))
    .action(async (o: ProfileFlags) => {
      if (o.json) setQuiet(true);
      if (!o.model) throw new UsageError('Expected a q-checkpoint or quantized ONNX model for --model but received nothing');
      if (!o.target) throw new UsageError('Expected a target id for --target but received nothing');
      const N = parseIntFlag('--test-limit', o.testLimit ?? '64', 1);
      const B = parseIntFlag('--batch', o.batch ?? '16', 1, 4096);
      const dep = await loadDeployModel(o.model, o.target, { data: o.data, calib: 64 });
      if (!dep.meta.data) throw new UsageError(`Expected --data for ${o.model}: an ONNX model does not record its data`);
      const ds = await openDataset(dep.meta.data);
      const split = ds.split(ds.testSplit ?? ds.splits[0]!);
      const S = dep.meta.inputSize, per = 3 * S * S;
      const g = dep.graph;
      const decode: number[] = [];
      const stages = new Map<string, number[]>();
      const shapes = new Map<string, number[]>();
      const total: number[] = [];
      const firstQ = g.nodes.find((x) => x.op === 'quantize');
      const stageOf = (n: DeployNode): string => (n === firstQ ? 'input quantization' : n.name);
      {
        // warm-up (weight packing, JIT), not timed
        const w = await buildBatch(split, Array.from({ length: Math.min(B, N) }, (_, j) => j), { size: S, preprocess: dep.target.pipeline });
        runGraph(g, w.x, [Math.min(B, N), 3, S, S], dep.target);
      }
      const bar = startProgress(`profile ${dep.target.id}`, Math.ceil(N / B));
      for (let i = 0; i < N; i += B) {
        const m = Math.min(B, N - i);
        const t0 = performance.now();
        const b = await buildBatch(split, Array.from({ length: m }, (_, j) => i + j), { size: S, preprocess: dep.target.pipeline, concurrency: 1 });
        decode.push((performance.now() - t0) / m);
        let t = performance.now();
        const t1 = t;
        runGraph(g, b.x.slice(0, m * per), [m, 3, S, S], dep.target, (n, v) => {
          const now = performance.now();
          const key = stageOf(n);
          stages.set(key, [...(stages.get(key) ?? []), (now - t) / m]);
          shapes.set(n.outputs[0]!, v.shape);
          t = now;
        });
        total.push((performance.now() - t1) / m + decode.at(-1)!);
        bar.tick();
      }
      bar.stop();
      const layerRows = g.nodes.map((n) => {
        const ms = stages.get(stageOf(n)) ?? [];
        const w = n.op === 'qconv' || n.op === 'qgemm' || n.op === 'convinteger' || n.op === 'matmulinteger' ? n.w : null;
        return {
          name: stageOf(n), op: n.op === 'float' ? n.node.opType : n.op, median_ms: quantile(ms, 0.5), p90_ms: quantile(ms, 0.9), macs: macs(n, shapes.get(n.outputs[0]!) ?? []),
          ...(w ? { weights: w.data.length, weight_bytes: w.data.length, grid_bits: w.bits, grid_bytes: Math.ceil((w.data.length * w.bits) / 8) } : {}),
        };
      });
      const sizes = new Map<string, number>();
      for (const [k, s] of shapes) {
        const n = g.nodes.find((x) => x.outputs[0] === k)!;
        const bytesPer = n.op === 'float' || n.op === 'dequantize' || (n.op === 'qgemm' && !n.out) ? 4 : n.op === 'convinteger' || n.op === 'matmulinteger' ? 4 : dep.target.execution === 'integer' ? 1 : 4;
        sizes.set(k, numel(s) * bytesPer / s[0]! * B);
      }
      sizes.set(g.input.name, per * 4 * B);
      const medTotal = quantile(total, 0.5);
      const res = {
        target: dep.target.id, model: o.model, n: N, batch: B, emulated: true,
        stages: [
          { name: 'decode+resize', pipeline: dep.target.pipeline, median_ms: quantile(decode, 0.5), p90_ms: quantile(decode, 0.9) },
          ...layerRows,
          { name: 'total', median_ms: medTotal, p90_ms: quantile(total, 0.9) },
        ],
        images_per_s: medTotal > 0 ? 1000 / medTotal : null,
        weight_bytes: layerRows.reduce((p, r) => p + (r.weight_bytes ?? 0), 0),
        grid_weight_bytes: layerRows.reduce((p, r) => p + (r.grid_bytes ?? 0), 0),
        macs_per_image: layerRows.reduce((p, r) => p + r.macs, 0),
        peak_activation_bytes: peakBytes(g, sizes),
        rss_bytes: process.memoryUsage().rss,
        conversions: dep.meta.conversions,
      };
      if (o.json) {
        process.stdout.write(`${JSON.stringify(res)}\n`);
        return;
      }
      const rows = res.stages.map((s) => `  ${s.name.padEnd(32)} ${s.median_ms.toFixed(3).padStart(9)} ms  p90 ${s.p90_ms.toFixed(3).padStart(9)} ms${'macs' in s && s.macs ? `  ${(s.macs / 1e6).toFixed(2)} MMAC` : ''}`);
      process.stdout.write(`profile ${res.target} (emulated on this CPU), ${N} images, per image:\n${rows.join('\n')}\n` +
        `${res.images_per_s?.toFixed(1)} images/s, weights ${res.weight_bytes} B (int8 containers) / ${res.grid_weight_bytes} B at grid bits, ${(res.macs_per_image / 1e6).toFixed(1)} MMAC/image, peak activations ${(res.peak_activation_bytes / 1024).toFixed(0)} KiB (batch ${B})\n`);
    });
}
