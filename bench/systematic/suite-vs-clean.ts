/**
 * bench/systematic/suite-vs-clean.ts: issue 7, acceptance 3. The whole systematic suite (the 14 pipelines, a
 * real model) on N test images of a data set, against one clean evaluation of the same images (dec-pil decode,
 * resize, crop, the same model), both through the code `qrobust eval` runs (ts/eval evaluateSystematic /
 * evaluateClean), alternating, median of the reps. Also timed apart: the decoding alone (dec-pil decode of the
 * same images, what "plus decoding" adds), and the model alone on one batch set (forward passes only).
 *
 *   npx tsx bench/systematic/suite-vs-clean.ts [--model r20.safetensors] [--data fashion-mnist] [--n 1000]
 *     [--reps 3] [--batch 128] [--threads 2] [--json]
 *
 * Without --model the model is a seeded ts/nn resnet20 (time does not depend on the weights; accuracies then
 * mean nothing). Validation first: the suite's dec-pil accuracy must equal the clean evaluation's top-1 on the
 * same images (the same pipeline), else the two sides are not doing comparable work and the bench stops.
 *
 * Printed: seconds of each side, ratio suite / (clean + decoding), ratio suite / clean, and the suite's cost
 * per distinct pipeline (13: dec-pil and rs-pil-bilinear are one) against one clean evaluation.
 */
import { cpus, loadavg } from 'node:os';

function flag(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : def;
}
const modelPath = flag('model', '');
const dataName = flag('data', 'fashion-mnist');
const n = Number(flag('n', '1000'));
const reps = Number(flag('reps', '3'));
const batch = Number(flag('batch', '128'));
const threads = Number(flag('threads', '2'));
const asJson = process.argv.includes('--json');
process.env.OMP_NUM_THREADS = String(threads); // before the addon loads

const { resnet20 } = await import('../../ts/nn/index.ts');
const { loadCheckpoint } = await import('../../ts/train/checkpoint.ts');
const { openDataset } = await import('../../ts/data/index.ts');
const { selectSubset } = await import('../../ts/data/subset.ts');
const { evaluateClean } = await import('../../ts/eval/clean.ts');
const { evaluateSystematic, systematicSamples } = await import('../../ts/eval/systematic.ts');
const { decodeManyWith } = await import('../../ts/systematic/preprocess.ts');
const { moduleLogits } = await import('../../ts/eval/classify.ts');
const { buildBatch } = await import('../../ts/data/index.ts');

function median(a: number[]): number {
  const s = [...a].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const model = modelPath ? loadCheckpoint(modelPath).model : resnet20({ seed: 0 });
model.eval();
const ds = await openDataset(dataName);
const split = ds.split('test');
const { indices, record } = selectSubset(split.labels, n, 0, { split: 'test' });
const ctx = { modelName: modelPath || 'resnet20-seed0', dataName: ds.name, indices, subset: record, seed: 0, size: 32, batch };

// validation (doubles as warm-up): the suite's dec-pil pipeline is the clean evaluation's pipeline
const c0 = await evaluateClean(model, split, ctx);
const s0 = await evaluateSystematic(model, split, ctx, { extras: false });
if (s0.accuracy['dec-pil'] !== c0.top1) throw new Error(`validation failed: suite dec-pil ${s0.accuracy['dec-pil']} != clean top-1 ${c0.top1}`);

const samples = systematicSamples(split, indices);
async function decodeOnly(): Promise<void> {
  for (let s = 0; s < samples.length; s += 256) {
    const chunk = samples.slice(s, s + 256);
    const items = await Promise.all(chunk.map(async (c) => ({ bytes: c.bytes ?? (await c.read!()), file: c.file })));
    await decodeManyWith(items, 'dec-pil');
  }
}
// model alone: the clean evaluation's batches, prepared once, forward only
const prepared: { x: Float32Array; k: number }[] = [];
for (let s = 0; s < indices.length; s += batch) {
  const b = await buildBatch(split, indices.subarray(s, s + batch), { size: 32 });
  prepared.push({ x: b.x, k: b.y.length });
}
function forwardOnly(): void {
  for (const p of prepared) moduleLogits(model, p.x, p.k, { size: 32, batch: p.k });
}

const t = { clean: [] as number[], suite: [] as number[], decode: [] as number[], forward: [] as number[] };
const load0 = loadavg()[0]!;
for (let r = 0; r < reps; r++) {
  let t0 = performance.now();
  await evaluateClean(model, split, ctx);
  t.clean.push((performance.now() - t0) / 1000);
  t0 = performance.now();
  await evaluateSystematic(model, split, ctx, { extras: false });
  t.suite.push((performance.now() - t0) / 1000);
  t0 = performance.now();
  await decodeOnly();
  t.decode.push((performance.now() - t0) / 1000);
  t0 = performance.now();
  forwardOnly();
  t.forward.push((performance.now() - t0) / 1000);
}
const m = { clean: median(t.clean), suite: median(t.suite), decode: median(t.decode), forward: median(t.forward) };
const out = {
  machine: `${cpus()[0]?.model ?? '?'} x${cpus().length}`, node: process.version, threads, batch, n: indices.length, reps,
  model: ctx.modelName, data: ds.name, load_start: load0, load_end: loadavg()[0]!,
  seconds: m, runs: t,
  ratio_suite_over_clean_plus_decoding: m.suite / (m.clean + m.decode),
  ratio_suite_over_clean: m.suite / m.clean,
  ratio_suite_per_distinct_pipeline_over_clean: m.suite / 13 / m.clean,
  forward_share_of_clean: m.forward / m.clean,
  accuracy: { clean: c0.top1, sr: s0.sr, ...s0.accuracy },
};
if (asJson) {
  console.log(JSON.stringify(out));
} else {
  console.log(`machine: ${out.machine}, node ${out.node}, ${threads} threads, batch ${batch}; model ${out.model}; ${out.n} ${out.data} test images; median of ${reps}; load ${load0.toFixed(2)} -> ${out.load_end.toFixed(2)}`);
  console.log(`clean evaluation (decode + resize + crop + forward): ${m.clean.toFixed(3)} s  (forward alone ${m.forward.toFixed(3)} s = ${(100 * out.forward_share_of_clean).toFixed(0)} %)`);
  console.log(`decoding alone (dec-pil):                            ${m.decode.toFixed(3)} s`);
  console.log(`systematic suite (14 ids, 13 distinct pipelines):    ${m.suite.toFixed(3)} s`);
  console.log(`ratio suite / (clean + decoding): ${out.ratio_suite_over_clean_plus_decoding.toFixed(2)}x   suite / clean: ${out.ratio_suite_over_clean.toFixed(2)}x   per distinct pipeline / clean: ${out.ratio_suite_per_distinct_pipeline_over_clean.toFixed(2)}x`);
}
