/**
 * One evaluation cell of the grid: a suite on one model at its pinned budget, through the suites' own
 * evaluation functions (ts/eval clean / systematic / corruption, ts/attacks/suite.ts runAdversarial for the
 * adversarial suite). Each cell draws its seeded stratified test subset from the run's seed and its
 * budget, so a cell's numbers depend only on (model, suite, budget, seed), never on the order of the grid
 * or the shard that ran it.
 */
import type { Module } from '../nn/module.ts';
import type { Split } from '../data/types.ts';
import { selectSubset, type SubsetRecord } from '../data/subset.ts';
import { iterateBatches } from '../data/batch.ts';
import { evaluateClean } from '../eval/clean.ts';
import { runSystematic } from '../systematic/suite.ts';
import { systematicSamples } from '../eval/systematic.ts';
import { SYSTEMATIC_IDS } from '../systematic/pipelines.ts';
import { moduleClassifier } from '../eval/classify.ts';
import { evaluateCorruption } from '../eval/corruption.ts';
import { commonFields, type EvalContext } from '../eval/common.ts';
import { fromModule } from '../eval/attack-model.ts';
import { runAdversarial, type SampleSource } from '../attacks/index.ts';
import { REFERENCE_TARGET, type RunSuite } from './grid.ts';
import { transferView, type TransferModel } from '../eval/adversarial.ts';
import type { SuiteBudgets } from './presets.ts';

/** What a cell needs besides its model. */
export interface CellContext {
  split: Split;
  dataName: string;
  modelName: string;
  /** quantized model (the small tiers of the adversarial budget) or FP */
  quantized: boolean;
  seed: number;
  size: number;
  preprocess: string;
  budgets: SuiteBudgets;
  /** the target id recorded in the common fields (default `reference`) */
  target?: string;
  /**
   * adversarial: the deployed model of the cell's target; the examples crafted on `model` (the fake-quant model)
   * are re-classified by it and the result is the deployed model's view (ts/eval/adversarial.ts transferView)
   */
  transferTo?: TransferModel;
  /** per-cell progress: total work units once, then ticks */
  progress: { start(total: number): void; tick(n?: number): void };
}

/** The budget of one suite as recorded in the cell's config (FP / quantized tiers resolved). */
export function suiteBudget(suite: RunSuite, b: SuiteBudgets, quantized: boolean): Record<string, unknown> {
  if (suite !== 'adversarial') return { ...b[suite] };
  const a = b.adversarial;
  return { testLimit: quantized && a.quantTestLimit !== null ? a.quantTestLimit : a.testLimit, attacks: a.attacks, tiers: quantized ? a.quantTiers : a.fpTiers, aaVersion: a.aaVersion, attackOptions: a.attackOptions, batch: a.batch };
}

function subsetOf(c: CellContext, limit: number | null): { indices: Int32Array; record: SubsetRecord } {
  return selectSubset(c.split.labels, limit, c.seed, { split: 'test' });
}

/**
 * Runs one suite on a model.
 * @returns the suite's JSON (CONVENTIONS.md), unchanged apart from the runner's `budget` field
 * @throws whatever the suite throws (bad data, attack threat-model violations)
 */
export async function runSuite(suite: RunSuite, model: Module, c: CellContext): Promise<Record<string, unknown>> {
  const b = c.budgets;
  const budget = suiteBudget(suite, b, c.quantized);
  const limit = (budget.testLimit ?? null) as number | null;
  const { indices, record } = subsetOf(c, limit);
  const ctx: EvalContext = { modelName: c.modelName, dataName: c.dataName, indices, subset: record, seed: c.seed, size: c.size, preprocess: c.preprocess, batch: 128, target: c.target };
  model.eval();
  if (suite === 'clean') {
    c.progress.start(indices.length);
    let last = 0;
    const r = await evaluateClean(model, c.split, ctx, { onBatch: (d) => { c.progress.tick(d - last); last = d; } });
    return { ...r, budget };
  }
  if (suite === 'systematic') {
    let started = false;
    let last = 0;
    const r = await systematicWithFlags(model, c, indices, b.systematic.extras, (d, total) => {
      if (!started) { c.progress.start(total); started = true; }
      c.progress.tick(d - last);
      last = d;
    });
    const common = await commonFields('systematic', ctx, r.n, r.seconds);
    return { ...common, ...r.json, suite: 'systematic', budget };
  }
  if (suite === 'corruption') {
    let started = false;
    let last = 0;
    const r = await evaluateCorruption(model, c.split, ctx, {
      severities: b.corruption.severities,
      onCell: (d, total) => {
        if (!started) { c.progress.start(total); started = true; }
        c.progress.tick(d - last);
        last = d;
      },
    });
    return { ...r, budget };
  }
  // adversarial: runAdversarial over a source that decodes each pass again (one batch in memory) and ticks the bar
  const a = b.adversarial;
  const tiers = budget.tiers as typeof a.fpTiers;
  const split = c.split;
  const size = c.size;
  const source: SampleSource = {
    n: indices.length,
    async *batches(bs: number) {
      for await (const x of iterateBatches(split, { batch: bs, indices, size, preprocess: c.preprocess })) {
        c.progress.tick(x.y.length);
        yield { x: x.x, y: x.y, n: x.y.length };
      }
    },
  };
  c.progress.start(indices.length * (1 + a.attacks.length * tiers.length));
  const common = await commonFields('adversarial', ctx, indices.length, 0);
  const attackOptions = { ...a.attackOptions, aa: { ...(a.attackOptions.aa ?? {}), version: a.aaVersion } };
  const attacked = fromModule(model, { inputShape: [3, size, size], name: c.modelName });
  // on a target: the same white-box run on the fake-quant model (the reference cell's examples: same subset, seed
  // and budget), each batch of examples also classified by the deployed model, as `eval --transfer-to <target>`
  const transfer = c.transferTo ? [fromModule(c.transferTo.module.eval(), { inputShape: [3, size, size], name: c.transferTo.name, numClasses: attacked.numClasses })] : [];
  const r = await runAdversarial(attacked, source, {
    attacks: a.attacks, tiers, seed: c.seed, batch: a.batch, attackOptions, perSample: true, transferTo: transfer,
    meta: { model: common.model, data: common.data, target: c.transferTo ? REFERENCE_TARGET : common.target, subset: common.subset, versions: common.versions as unknown as Record<string, string | null> },
  });
  const out = c.transferTo ? transferView(r, c.transferTo.name, common.target) : r;
  return { ...(out as unknown as Record<string, unknown>), budget };
}

/** The largest subset whose systematic run keeps per-sample flags (one decoded chunk in memory). */
export const SYSTEMATIC_FLAGS_MAX = 5000;

/**
 * The systematic suite (ts/systematic/suite.ts runSystematic) with per-sample correctness of each of the 14
 * pipelines, for the paired bootstrap interval of SR in the report. The classifier records every call's
 * predictions; with one chunk (`chunk` = n) runSystematic calls it batch by batch and, within a batch, once
 * per distinct pipeline in the order of first appearance in SYSTEMATIC_IDS (`rs-pil-bilinear` is `dec-pil`'s
 * pipeline). The flags are kept only when the accuracies they give equal the suite's own for all 14 ids,
 * exactly; otherwise (or above {@link SYSTEMATIC_FLAGS_MAX} images, or when samples were skipped) the
 * result has no `per_sample` and the report gives SR without an interval.
 */
async function systematicWithFlags(model: Module, c: CellContext, indices: Int32Array, extras: boolean, onProgress: (d: number, total: number) => void): Promise<{ json: Record<string, unknown>; n: number; seconds: number }> {
  const t0 = performance.now();
  const samples = systematicSamples(c.split, indices);
  const base = moduleClassifier(model, { size: c.size, batch: 128 });
  const record = indices.length <= SYSTEMATIC_FLAGS_MAX;
  const calls: Int32Array[] = [];
  const classify = async (x: Float32Array, n: number): Promise<Int32Array> => {
    const p = await base(x, n);
    if (record) calls.push(p.slice());
    return p;
  };
  const batch = 128;
  const r = await runSystematic(samples, classify, { size: c.size, batch, extras: extras ? undefined : false, chunk: record ? Math.max(1, indices.length) : undefined, onProgress });
  const { suite: _s, n, ...rest } = r;
  const json: Record<string, unknown> = { ...rest };
  if (record && r.skipped.length === 0) {
    const flags = flagsFromCalls(calls, samples.map((s) => s.label), batch, r.accuracy as Record<string, number>);
    if (flags) json.per_sample = { labels: samples.map((s) => s.label), correct: flags };
  }
  return { json, n, seconds: (performance.now() - t0) / 1000 };
}

function flagsFromCalls(calls: readonly Int32Array[], labels: readonly number[], batch: number, accuracy: Record<string, number>): Record<string, string> | null {
  const n = labels.length;
  const batches = Math.ceil(n / batch);
  if (batches === 0 || calls.length % batches !== 0) return null;
  const g = calls.length / batches;
  const groupOf = new Map<string, number>();
  let next = 0;
  for (const id of SYSTEMATIC_IDS) {
    if (id === 'rs-pil-bilinear' && g === SYSTEMATIC_IDS.length - 1) groupOf.set(id, groupOf.get('dec-pil')!);
    else groupOf.set(id, next++);
  }
  if (next !== g) return null;
  const out: Record<string, string> = {};
  for (const id of SYSTEMATIC_IDS) {
    const k = groupOf.get(id)!;
    const bits = new Array<string>(n);
    let correct = 0;
    for (let b = 0; b < batches; b++) {
      const pred = calls[b * g + k]!;
      for (let j = 0; j < pred.length; j++) {
        const ok = pred[j] === labels[b * batch + j];
        bits[b * batch + j] = ok ? '1' : '0';
        if (ok) correct++;
      }
    }
    if ((100 * correct) / n !== accuracy[id]) return null;
    out[id] = bits.join('');
  }
  return out;
}
