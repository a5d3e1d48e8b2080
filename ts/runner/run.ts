/**
 * `qrobust run`: the benchmark grid with a resumable store (ts/store/store.ts).
 *
 * For each model line this process owns (`--shard i/n`): obtain the model (from the store; else train the FP
 * model with the preset's FP budget or read `--fp`; else run QAT from the FP model), then evaluate every suite
 * and target named and write each cell to the store as it completes, one transaction per cell. Cells already
 * in the store are skipped (reused), so a run killed at any moment and started again computes exactly the
 * missing ones.
 *
 * The clean cell of every model is always computed first (even when `--suites` leaves `clean` out, it is
 * what decides NC): a model is not converged (CONVENTIONS.md) when its clean top-1 is below
 * max(2 × chance, 10 % of the FP model's top-1) or its training hit a non-finite loss. The other cells of an
 * NC model are stored as NC results (`{"nc": true, ...}`) without evaluation, and the report shows NC.
 *
 * Targets (`--targets`, docs/runner.md): `reference` evaluates the fake-quant / float models in our engine. On any
 * other target a quantized model's clean, corruption and systematic cells run its deployed model (ts/deploy
 * deployQatModel on the stored checkpoint bytes, the target's pipeline), as `eval --target <id>`; its adversarial
 * cell attacks the fake-quant model and re-classifies the examples with the deployed model, as
 * `eval --suite adversarial --transfer-to <id>`. The FP model runs float32 behind the target's pipeline (its
 * adversarial cell stored as not applicable, with the reason: it would repeat the reference cell), except on an fp16
 * target, where its binary16 float graph (ts/deploy/float-graph.ts) runs and the adversarial cell is transfer.
 * NC is decided per target from that target's clean cells.
 */
import { QrobustError, UsageError } from '../util/errors.ts';
import { setQuiet } from '../util/progress.ts';
import { openDataset } from '../data/index.ts';
import type { Dataset, Split } from '../data/types.ts';
import { runVersions } from '../eval/versions.ts';
import { ResultStore, configHash } from '../store/store.ts';
import { gridModels, modelCells, shardModels, checkRunTargets, type Cell, type GridSpec, type ModelUnit, type RunSuite, type Shard, FP_METHOD, FP_BITS, REFERENCE_TARGET, modelId, cellId } from './grid.ts';
import { budgetLines, type Preset } from './presets.ts';
import { startRunProgress, type RunProgress } from './progress.ts';
import { runSuite, suiteBudget } from './suites.ts';
import { loadCheckpointBytes, readFpFile, trainFp, trainSteps, type FpFile, type LoadedGridModel, type ProducedModel } from './models.ts';
import { quantizeForGrid } from './qat.ts';
import { checkpointFromBytes } from '../train/checkpoint.ts';
import { loadTarget, type Target } from '../targets/index.ts';
import { DeployModule, deployQatModel, ensurePipelinePreprocess, type DeployedModel } from '../deploy/model.ts';
import { floatDeployGraph } from '../deploy/float-graph.ts';
import type { DeployGraph } from '../deploy/ir.ts';
import { deployedTransfer } from '../eval/adversarial.ts';

/** Options of {@link runBenchmark} (the preset already narrowed by the CLI's flags). */
export interface RunOptions {
  preset: Preset;
  store: string;
  /** canonical data name */
  data: string;
  shard: Shard;
  /** `--fp`: a FP checkpoint, torchvision state dict or float ONNX model to use instead of training */
  fp: string | null;
  /** `--size`: the input size of a torchvision `--fp` without a fixed one (default 224), or of an ONNX model with symbolic dims */
  fpSize?: number;
  /** silence progress (`--json`) */
  quiet: boolean;
}

/** The summary `run --json` prints. */
export interface RunSummary {
  preset: string;
  store: string;
  shard: string;
  cells_total: number;
  computed: number;
  reused: number;
  /** cells stored as NC without evaluation (part of computed) */
  nc: number;
  models: { trained: number; reused: number };
  seconds: number;
  budget: string[];
}

interface ModelState {
  unit: ModelUnit;
  hash: string;
  loaded: LoadedGridModel | null;
  /** the checkpoint bytes (FP: handed to QAT) */
  bytes: Uint8Array | null;
  /** the FP model came from a float ONNX file run as it is (QAT needs a qrobust checkpoint) */
  onnx: boolean;
  /** why QAT cannot fine-tune the FP model (`--fp` a float ONNX model that could not be converted) */
  qatBlocked: string | null;
  nc: boolean;
  ncReason: string | null;
  top1: number | null;
  /** a quantized model deployed per target (built once per line from the stored checkpoint bytes) */
  deployed?: Map<string, DeployedModel>;
  /** the FP model as a float graph per fp16 target */
  fpDeployed?: Map<string, DeployModule>;
}

const NC_REASON_KEY = 'nc_reason';

/**
 * Runs (or resumes) the grid.
 * @returns the summary
 * @throws UsageError for bad options or inputs; the store's named errors; QrobustError for failures of a
 *   suite (the cells finished before stay stored)
 */
export async function runBenchmark(o: RunOptions): Promise<RunSummary> {
  const t0 = performance.now();
  const p = o.preset;
  const ds = await openDataset(o.data);
  if (!ds.testSplit) throw new UsageError(`Expected a data set with a test split for --data but ${ds.name} has ${ds.splits.join(', ')}`);
  if (!o.fp && !ds.trainSplit) throw new UsageError(`Expected a data set with a train split for --data (the FP model is trained on it) or --fp, but ${ds.name} has ${ds.splits.join(', ')}`);
  if (p.methods.length > 0 && !ds.trainSplit) throw new UsageError(`Expected a data set with a train split for --data (QAT fine-tunes on it) but ${ds.name} has ${ds.splits.join(', ')}`);
  const split = ds.split(ds.testSplit);
  checkRunTargets(p.targets);
  const grid: GridSpec = { archs: p.archs, methods: p.methods, bits: p.bits, suites: p.suites, targets: p.targets };
  const lines = shardModels(gridModels(grid), o.shard);
  const store = ResultStore.open(o.store, { create: true });
  const budget = budgetLines(p);
  const versions = await runVersions();
  const summary: RunSummary = {
    preset: p.name, store: o.store, shard: `${o.shard.index}/${o.shard.count}`, cells_total: 0, computed: 0, reused: 0, nc: 0,
    models: { trained: 0, reused: 0 }, seconds: 0, budget,
  };
  const err = (msg: string): void => { if (!o.quiet) process.stderr.write(`${msg}\n`); };
  err(`qrobust run --preset ${p.name}: ${ds.name}, archs ${p.archs.join(',')}, methods ${p.methods.join(',') || '(none)'}, bits ${p.bits.join(',')}, suites ${p.suites.join(',')}, targets ${p.targets.join(',')}, seed ${p.seed}, shard ${summary.shard}, store ${o.store}`);
  err('budget per suite (pinned by the preset; recorded in every cell):');
  for (const l of budget) err(`  ${l}`);
  if (p.gateSeconds) err(`  gate: ${p.gateSeconds / 60} minutes wall time on ${p.threads} threads`);
  store.setMeta('last_run', JSON.stringify({ preset: p.name, data: ds.name, seed: p.seed, shard: summary.shard, budget: p.budgets, fp: p.fp, qat: p.qat, grid, startedAt: new Date().toISOString() }));

  const cellsOf = new Map<string, Cell[]>();
  for (const m of lines) cellsOf.set(m.id, withClean(modelCells(m, grid), m));
  const all = [...cellsOf.values()].flat();
  summary.cells_total = all.length;
  const done0 = all.filter((c) => store.hasCell(c.id)).length;
  setQuiet(true); // the suites' own bars would fight the runner's two bars: the runner draws its own (none under --json)
  const prog = startRunProgress(all.length, done0, o.quiet);
  const states = new Map<string, ModelState>();

  try {
    for (const unit of lines) {
      const cells = cellsOf.get(unit.id)!;
      const todo = cells.filter((c) => !store.hasCell(c.id));
      for (const c of cells) if (!todo.includes(c)) { summary.reused++; prog.cellDone(c.id, 0, 'reused'); }
      if (todo.length === 0) continue;
      const st = await modelState(unit, { o, ds, store, states, prog, summary, versions });
      for (const c of todo) {
        if (store.hasCell(c.id)) { summary.reused++; prog.cellDone(c.id, 0, 'reused'); continue; }
        await runCell(c, st, { o, ds, split, store, states, prog, summary, versions });
      }
      if (unit.method !== FP_METHOD) { st.loaded = null; st.deployed = undefined; } // free the quantized model; the FP model stays for the next lines
    }
  } finally {
    prog.stop();
    store.close();
    setQuiet(false);
  }
  summary.seconds = (performance.now() - t0) / 1000;
  return summary;
}

/** The clean cell first, always (NC needs it), then the requested suites. */
function withClean(cells: Cell[], m: ModelUnit): Cell[] {
  if (cells.some((c) => c.suite === 'clean')) return cells;
  const targets = [...new Set(cells.map((c) => c.target))];
  return [...targets.map((t) => ({ id: cellId(m, 'clean', t), model: m, suite: 'clean' as RunSuite, target: t })), ...cells];
}

interface Ctx {
  o: RunOptions;
  ds: Dataset;
  store: ResultStore;
  states: Map<string, ModelState>;
  prog: RunProgress;
  summary: RunSummary;
  versions: Record<string, string | null>;
}

function fpConfig(o: RunOptions, arch: string, fpSha: string | null): Record<string, unknown> {
  return fpSha ? { kind: 'fp', arch, data: o.data, file: fpSha, ...(o.fpSize !== undefined ? { size: o.fpSize } : {}) } : { kind: 'fp', arch, data: o.data, train: o.preset.fp, seed: o.preset.seed };
}

async function modelState(unit: ModelUnit, c: Ctx): Promise<ModelState> {
  const have = c.states.get(unit.id);
  if (have && (have.loaded || have.nc)) return have;
  const { o, store, prog, summary } = c;
  const p = o.preset;
  if (unit.method === FP_METHOD) {
    let fpFile: FpFile | null = null;
    if (o.fp) fpFile = await readFpFile(o.fp, { dataset: c.ds, arch: unit.arch, size: o.fpSize });
    const config = fpConfig(o, unit.arch, fpFile ? fpFile.sha256 : null);
    const hash = configHash(config);
    const stored = store.modelHash(unit.id);
    let loaded: LoadedGridModel | null = null;
    let bytes: Uint8Array | null = null;
    let onnx = fpFile?.kind === 'onnx';
    let qatBlocked = fpFile?.qatBlocked ?? null;
    let nc = false;
    let ncReason: string | null = null;
    if (stored !== null && stored === hash) {
      bytes = store.checkpoint(unit.id);
      const row = store.models().find((m) => m.id === unit.id)!;
      nc = row.nc;
      ncReason = (row.record[NC_REASON_KEY] as string | undefined) ?? null;
      onnx = row.record.file_kind === 'onnx';
      qatBlocked = (row.record.qat_blocked as string | undefined) ?? qatBlocked;
      loaded = bytes ? (fpFile ?? loadCheckpointBytes(bytes, onnx ? 'm.onnx' : 'm.safetensors')) : null;
      summary.models.reused++;
    } else if (stored !== null) {
      throw new QrobustError(`${o.store} already holds the FP model ${unit.id} with another configuration (stored ${stored}, now ${hash}); use another --store`);
    } else if (fpFile) {
      loaded = fpFile;
      bytes = fpFile.bytes;
      store.putModel({ id: unit.id, arch: unit.arch, method: unit.method, bits: unit.bits, config, configHash: hash, seed: p.seed, record: { source: o.fp, file_kind: fpFile.kind, sha256: fpFile.sha256, ...(fpFile.qatBlocked ? { qat_blocked: fpFile.qatBlocked } : {}) }, nc: false, versions: c.versions, commit: c.versions.commit ?? null, seconds: 0 }, fpFile.bytes);
      summary.models.trained++;
    } else {
      const label = `${unit.id} (training)`;
      prog.cellBegin(label);
      const train = c.ds.split(c.ds.trainSplit!);
      prog.cellStart(trainSteps(p.fp, train.length));
      const t = performance.now();
      const cpu0 = process.cpuUsage();
      store.claim(unit.id);
      const r: ProducedModel = await trainFp(unit.arch, c.ds, p.fp, p.seed, () => prog.cellTick());
      const secs = (performance.now() - t) / 1000;
      const cpuSeconds = cpuSince(cpu0);
      store.putModel({ id: unit.id, arch: unit.arch, method: unit.method, bits: unit.bits, config, configHash: hash, seed: p.seed, record: { ...r.record, [NC_REASON_KEY]: r.ncReason }, nc: r.nc, versions: c.versions, commit: c.versions.commit ?? null, seconds: secs, cpuSeconds }, r.checkpoint);
      prog.line(`${unit.id}: trained in ${secs.toFixed(1)} s (${cpuSeconds.toFixed(1)} CPU s)${r.nc ? ` (NC: ${r.ncReason})` : ''}`);
      loaded = r.nc ? null : r;
      bytes = r.checkpoint;
      nc = r.nc;
      ncReason = r.ncReason;
      summary.models.trained++;
    }
    const s: ModelState = { unit, hash, loaded, bytes, onnx, qatBlocked, nc, ncReason, top1: null };
    c.states.set(unit.id, s);
    return s;
  }
  // a QAT model: needs the FP model of its architecture
  const fpUnit: ModelUnit = { id: modelId(unit.arch, FP_METHOD, FP_BITS), arch: unit.arch, method: FP_METHOD, bits: FP_BITS };
  const fp = await modelState(fpUnit, c);
  const config = { kind: 'qat', arch: unit.arch, method: unit.method, bits: unit.bits, qat: p.qat, seed: p.seed, fp: fp.hash, data: o.data };
  const hash = configHash(config);
  const stored = store.modelHash(unit.id);
  let s: ModelState;
  if (stored !== null) {
    if (stored !== hash) throw new QrobustError(`${o.store} already holds the QAT model ${unit.id} with another configuration (stored ${stored}, now ${hash}); use another --store`);
    const row = store.models().find((m) => m.id === unit.id)!;
    const bytes = store.checkpoint(unit.id);
    s = { unit, hash, loaded: bytes ? loadCheckpointBytes(bytes) : null, bytes: null, onnx: false, qatBlocked: null, nc: row.nc, ncReason: (row.record[NC_REASON_KEY] as string | undefined) ?? null, top1: null };
    summary.models.reused++;
  } else if (fp.nc || !fp.loaded || !fp.bytes) {
    throw new QrobustError(`the FP model ${fpUnit.id} did not converge (${fp.ncReason ?? 'no checkpoint'}); QAT needs a converged FP model`);
  } else if (fp.onnx) {
    throw new UsageError(`Expected an FP model QAT can fine-tune for --fp (a qrobust or torchvision checkpoint, or a torch ONNX export with its BN and parameter names) but ${fp.qatBlocked ?? `received the float ONNX model ${o.fp ?? ''}`}`);
  } else {
    prog.cellBegin(`${unit.id} (QAT)`);
    const train = c.ds.split(c.ds.trainSplit!);
    prog.cellStart(trainSteps(p.qat, train.length));
    const t = performance.now();
    const cpu0 = process.cpuUsage();
    store.claim(unit.id);
    const r = await quantizeForGrid({ fp: fp.loaded, fpBytes: fp.bytes, fpId: fpUnit.id, fpHash: fp.hash, arch: unit.arch, method: unit.method, bits: unit.bits, budget: p.qat, seed: p.seed, dataset: c.ds, onStep: () => prog.cellTick() });
    const secs = (performance.now() - t) / 1000;
    const cpuSeconds = cpuSince(cpu0);
    store.putModel({ id: unit.id, arch: unit.arch, method: unit.method, bits: unit.bits, config, configHash: hash, seed: p.seed, record: { ...r.record, [NC_REASON_KEY]: r.ncReason }, nc: r.nc, versions: c.versions, commit: c.versions.commit ?? null, seconds: secs, cpuSeconds }, r.checkpoint);
    prog.line(`${unit.id}: QAT in ${secs.toFixed(1)} s (${cpuSeconds.toFixed(1)} CPU s)${r.nc ? ` (NC: ${r.ncReason})` : ''}`);
    s = { unit, hash, loaded: r.nc && !r.checkpoint ? null : r, bytes: null, onnx: false, qatBlocked: null, nc: r.nc, ncReason: r.ncReason, top1: null };
    summary.models.trained++;
  }
  c.states.set(unit.id, s);
  return s;
}

/** The stored clean top-1 of a model (this target), evaluating and storing the clean cell when absent. */
async function cleanTop1(st: ModelState, target: string, c: Ctx & { split: Split }): Promise<number> {
  const id = cellId(st.unit, 'clean', target);
  if (!c.store.hasCell(id)) await runCell({ id, model: st.unit, suite: 'clean', target }, st, c);
  const row = c.store.cells().find((r) => r.id === id)!;
  const top1 = row.result.top1;
  if (typeof top1 !== 'number') throw new QrobustError(`${c.o.store}: the clean cell ${id} has no top1`);
  return top1;
}

/** Calibration images of a deployed model's uint8 points (ts/deploy's default, as `eval --target`). */
const DEPLOY_CALIB = 256;

function cellConfig(cell: Cell, st: ModelState, o: RunOptions): Record<string, unknown> {
  const base = { suite: cell.suite, target: cell.target, data: o.data, seed: o.preset.seed, model: st.hash, budget: suiteBudget(cell.suite, o.preset.budgets, st.unit.method !== FP_METHOD) };
  if (cell.target === REFERENCE_TARGET) return base;
  // a target's cells also depend on its profile (a changed targets/<id>.json is another configuration)
  return { ...base, deploy: { profile: configHash(loadTarget(cell.target)), calib: DEPLOY_CALIB, fp: FP_UNDER_TARGET } };
}

/**
 * What the FP model is under a target other than `reference` (docs/runner.md "Targets"): behind the target's
 * decode / resize pipeline, in float32 (our float engine, as the target's float runtime would run an unquantized
 * model) on an integer target, and as a binary16 float graph on an `fp16` target (TensorRT FP16); the integer
 * arithmetic of a target is that of its quantized models only.
 */
const FP_UNDER_TARGET = 'float32 behind the target pipeline (fp16 targets: binary16)';

/** Whether the FP model runs in the target's own float precision (an fp16 target) rather than float32. */
const fpRunsDeployed = (t: Target): boolean => t.execution === 'fp16';

/** The `deploy` record of a target cell. */
function deployRecord(target: Target, dep: DeployedModel | null, suite: RunSuite, fpGraph: DeployGraph | null = null): Record<string, unknown> {
  const pipeline = suite === 'systematic' ? 'the suite\'s 14 pipelines (the target pipeline is replaced)' : suite === 'adversarial' ? 'dec-pil (the examples are fed as model-input pixels)' : target.pipeline;
  if (fpGraph) {
    return {
      model: 'float', execution: target.execution, pipeline, conversions: fpGraph.conversions,
      note: `the FP model under ${target.id}: its float graph in binary16 (BN folded, every value rounded to binary16), as TensorRT FP16 runs an unquantized network`,
      ...(suite === 'adversarial' ? { mode: 'transfer: the examples crafted on the float32 FP model (as the reference cell) re-classified by its fp16 graph' } : {}),
    };
  }
  if (!dep) {
    return {
      model: 'float', execution: 'float32', target_execution: target.execution, pipeline,
      note: `the FP model under ${target.id}: float32 behind the target pipeline; the target's ${target.execution} arithmetic applies to the quantized models`,
    };
  }
  return {
    model: 'deployed', execution: target.execution, pipeline, conversions: dep.meta.conversions, calibration: dep.meta.calibration,
    ...(suite === 'adversarial' ? { mode: 'transfer: the examples crafted on the fake-quant model (as the reference cell) re-classified by the deployed model' } : {}),
  };
}

/** The FP model of a line as a float deploy graph of an fp16 target (built once per target). */
function fpGraphFor(st: ModelState, target: Target): DeployModule {
  const have = st.fpDeployed?.get(target.id);
  if (have) return have;
  const m = new DeployModule(floatDeployGraph(st.loaded!.model, { inputSize: st.loaded!.inputSize }, target), target);
  (st.fpDeployed ??= new Map()).set(target.id, m);
  return m;
}

/** The deployed model of a quantized model's line on one target, from its checkpoint bytes in the store. */
async function deployedFor(st: ModelState, target: string, c: Ctx): Promise<DeployedModel> {
  const have = st.deployed?.get(target);
  if (have) return have;
  const bytes = c.store.checkpoint(st.unit.id);
  if (!bytes) throw new QrobustError(`${c.o.store}: the model ${st.unit.id} has no checkpoint to deploy on ${target}`);
  const { model, meta } = checkpointFromBytes(bytes, `${st.unit.id} in ${c.o.store}`);
  const dep = await deployQatModel(model, meta, target, { calib: DEPLOY_CALIB, name: st.unit.id });
  (st.deployed ??= new Map()).set(target, dep);
  return dep;
}

async function runCell(cell: Cell, st: ModelState, c: Ctx & { split: Split }): Promise<void> {
  const { o, store, prog, summary } = c;
  const config = cellConfig(cell, st, o);
  const hash = configHash(config);
  const existing = store.cellHash(cell.id);
  if (existing !== null) {
    if (existing !== hash) throw new QrobustError(`${o.store} already holds ${cell.id} computed with another configuration (stored ${existing}, now ${hash}); use another --store for a different budget, seed or data`);
    return;
  }
  const t = performance.now();
  const cpu0 = process.cpuUsage();
  // NC: decided from the clean cell (and the FP model's clean cell for a quantized model)
  let nc = st.nc;
  let ncReason = st.ncReason;
  if (!nc && cell.suite !== 'clean') {
    const top1 = await cleanTop1(st, cell.target, c);
    const k = st.loaded?.numClasses ?? c.ds.classes.length;
    let threshold = 200 / k;
    if (st.unit.method !== FP_METHOD) {
      const fpState = c.states.get(modelId(st.unit.arch, FP_METHOD, FP_BITS))!;
      const fpTop1 = await cleanTop1(fpState, cell.target, c);
      threshold = Math.max(200 / k, 0.1 * fpTop1);
    }
    if (top1 < threshold) {
      nc = true;
      ncReason = `clean top-1 ${top1.toFixed(2)}% below ${threshold.toFixed(2)}% (max(2 x chance, 10% of FP))`;
    }
  }
  store.claim(cell.id);
  prog.cellBegin(cell.id);
  let result: Record<string, unknown>;
  if (nc && cell.suite !== 'clean') {
    result = { suite: cell.suite, target: cell.target, nc: true, nc_reason: ncReason };
    summary.nc++;
  } else if (cell.target !== REFERENCE_TARGET && st.unit.method === FP_METHOD && cell.suite === 'adversarial' && !(fpRunsDeployed(loadTarget(cell.target)) && !st.onnx)) {
    // white-box examples on the float model fed to the same float32 model: the reference cell, not a new number
    const same = cellId(st.unit, 'adversarial', REFERENCE_TARGET);
    result = {
      suite: 'adversarial', model: st.unit.id, data: c.ds.name, target: cell.target, not_applicable: true, same_as: same,
      reason: `the FP model runs float32 under ${cell.target} too (its ${loadTarget(cell.target).execution} arithmetic is that of the quantized models) and adversarial examples are fed as model-input pixels, so its white-box numbers are those of ${same}`,
      deploy: deployRecord(loadTarget(cell.target), null, 'adversarial'),
    };
  } else {
    if (!st.loaded) throw new QrobustError(`${cell.id}: the model has no checkpoint (NC: ${ncReason ?? 'unknown'})`);
    const quantized = st.unit.method !== FP_METHOD;
    const onTarget = cell.target !== REFERENCE_TARGET;
    const target = onTarget ? loadTarget(cell.target) : null;
    const dep = target && quantized ? await deployedFor(st, cell.target, c) : null;
    // the FP model on an fp16 target: its float graph in binary16 (an FP model from a float ONNX --fp stays float32)
    const fpDep = target && !quantized && fpRunsDeployed(target) && !st.onnx ? fpGraphFor(st, target) : null;
    const deployed = dep ? dep.module : fpDep;
    if (target) ensurePipelinePreprocess(target.pipeline);
    // on a target: the deployed model (clean, corruption, systematic), or the fake-quant / float32 model attacked with
    // the deployed one as transfer model (adversarial); an FP model without its own target precision: float32
    const model = deployed && cell.suite !== 'adversarial' ? deployed : st.loaded.model;
    result = await runSuite(cell.suite, model, {
      split: c.split, dataName: c.ds.name, modelName: st.unit.id, quantized, seed: o.preset.seed,
      size: st.loaded.inputSize, preprocess: target && cell.suite !== 'adversarial' ? target.pipeline : st.loaded.preprocess, budgets: o.preset.budgets,
      target: cell.target, transferTo: target && deployed && cell.suite === 'adversarial' ? deployedTransfer({ module: deployed, target }) : undefined,
      progress: { start: (n) => prog.cellStart(n), tick: (n) => prog.cellTick(n) },
    });
    if (target) result = { ...result, deploy: deployRecord(target, dep, cell.suite, fpDep ? fpDep.graph : null) };
    if (cell.suite === 'clean' && st.nc) result = { ...result, nc: true, nc_reason: ncReason };
  }
  const secs = (performance.now() - t) / 1000;
  const cpuSeconds = cpuSince(cpu0);
  store.putCell({
    id: cell.id, arch: st.unit.arch, method: st.unit.method, bits: st.unit.bits, suite: cell.suite, target: cell.target, config, configHash: hash,
    seed: o.preset.seed, subset: result.subset ?? null, versions: c.versions, commit: c.versions.commit ?? null, result, seconds: secs, cpuSeconds,
  });
  summary.computed++;
  prog.cellDone(`${cell.id} (${cpuSeconds.toFixed(1)} CPU s)`, secs, nc && cell.suite !== 'clean' ? 'nc' : 'computed');
}


/** CPU seconds (user + system, all threads of the process) since `start`. */
function cpuSince(start: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1e6;
}
