/**
 * `qrobust eval --model <ckpt|onnx> [--data D] [--suite clean,systematic,corruption,adversarial] [--severities 1-5]
 *  [--attacks …] [--magnitudes …] [--eps …] [--save-adv DIR] [--transfer-to M1,M2] [--test-limit N] [--seed S]
 *  [--batch B] [--threads T] [--json]`
 *
 * Loads the model (a qrobust checkpoint or a float ONNX model, ts/eval/load-model.ts), opens its data (`--data`
 * defaults to what it was trained on), draws the seeded test subset once and runs each suite on it. Output with
 * `--json`: one suite prints its own JSON object (CONVENTIONS.md); several print `{"results": [<one object per
 * suite, in the order given>]}`, so one line of stdout is always one JSON object and each suite's object is the
 * same whether it ran alone or not.
 *
 * Each suite is one entry of {@link SUITE_RUNNERS}: it gets the loaded model, the split, the shared context and
 * the flags, and returns its JSON and its text for stdout. Options that concern every suite (a deployment
 * target, say) belong in {@link EvalContext}, which every runner passes on to its evaluator.
 */
import { Option, type Command } from 'commander';
import { UsageError, invalidOption } from '../util/errors.ts';
import { parseIntFlag, parseListFlag } from '../util/is.ts';
import { setQuiet, startProgress, warn } from '../util/progress.ts';
import { openDataset } from '../data/index.ts';
import { selectSubset } from '../data/subset.ts';
import type { Split } from '../data/types.ts';
import type { Module } from '../nn/module.ts';
import { parseSeverities } from '../corrupt/suite.ts';
import { formatSystematicTable } from '../systematic/suite.ts';
import { loadModel, type LoadedModelMeta } from '../eval/load-model.ts';
import { loadDeployModel } from '../deploy/model.ts';
import { TARGET_IDS } from '../targets/index.ts';
import { evaluateClean } from '../eval/clean.ts';
import { evaluateSystematic } from '../eval/systematic.ts';
import { evaluateCorruption } from '../eval/corruption.ts';
import { deployedTransfer, evaluateAdversarial, formatAdversarialTable, parseAdversarialFlags, type AdversarialFlagValues, type TransferModel } from '../eval/adversarial.ts';
import type { EvalContext } from '../eval/common.ts';

/** The suites `eval` runs. */
export const EVAL_SUITES = ['clean', 'systematic', 'corruption', 'adversarial'] as const;
export type EvalSuite = (typeof EVAL_SUITES)[number];

let threadsLoaded = false;

/**
 * Applies `--threads T` to the float kernels: oneDNN's OpenMP pool reads OMP_NUM_THREADS when the addon
 * loads, the BN/ReLU kernels on every call. Must run before the first native call to take full effect.
 * @param threads the flag's value, or undefined to keep the default (all cores)
 * @throws UsageError for a value that is not an integer 1..256
 * @example
 * applyThreads('2'); process.env.OMP_NUM_THREADS // '2'
 */
export function applyThreads(threads: string | undefined): void {
  if (threads === undefined) return;
  const t = parseIntFlag('--threads', threads, 1, 256);
  if (threadsLoaded && process.env.OMP_NUM_THREADS !== String(t)) warn('--threads changed after the float library started; oneDNN keeps its first thread count');
  process.env.OMP_NUM_THREADS = String(t);
  threadsLoaded = true;
}

interface EvalFlags extends AdversarialFlagValues {
  model?: string;
  data?: string;
  suite: string;
  severities: string;
  saveAdv?: string;
  transferTo?: string;
  perSample: boolean;
  testLimit?: string;
  target?: string;
  seed: string;
  batch: string;
  threads?: string;
  json?: boolean;
}

/** What every suite runner gets. */
interface SuiteInput {
  model: Module;
  meta: LoadedModelMeta;
  split: Split;
  ctx: EvalContext;
  flags: EvalFlags;
}

/** A suite: its JSON and the text printed without --json. */
type SuiteRunner = (s: SuiteInput) => Promise<{ result: object; text: string }>;

/** Checks the flags of every suite before any work (a bad value fails in a second, not after an hour). */
function checkFlags(suites: readonly EvalSuite[], o: EvalFlags): void {
  parseSeverities(o.severities);
  parseAdversarialFlags(o);
  if (!suites.includes('adversarial')) {
    const given = (['attacks', 'magnitudes', 'eps', 'epsRule', 'pgdSteps', 'aaVersion', 'saveAdv', 'transferTo'] as const).filter((k) => o[k] !== undefined);
    if (given.length > 0) warn(`${given.map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(', ')} only apply to --suite adversarial, which is not among the suites run (${suites.join(',')})`);
  }
}

/**
 * Loads the `--transfer-to` models: checkpoints, float ONNX models, or target ids / target .json files. A target
 * means the `--model` q-checkpoint deployed under that target (ts/deploy: the integer model, forward only), so the
 * adversarial examples crafted on the fake-quant model are re-classified by the deployed arithmetic. The examples
 * are the model-input pixels, fed as they are: the target's decode / resize pipeline is not applied to them.
 * @param list the flag's value
 * @param meta the attacked model's record (input size, class count)
 * @param modelPath the `--model` file (deployed for target entries)
 * @param data the data name (calibration of the deployed model's points)
 * @throws UsageError for a missing file, a model of another input size or class count, a target with a float
 *   `--model`, an unknown target (named)
 */
async function loadTransferModels(list: string | undefined, meta: LoadedModelMeta, modelPath: string, data: string): Promise<TransferModel[]> {
  if (list === undefined) return [];
  const paths = parseListFlag('--transfer-to', list);
  if (new Set(paths).size !== paths.length) throw invalidOption('--transfer-to', 'a list without duplicates', list);
  const out: TransferModel[] = [];
  for (const p of paths) {
    const isTarget = (TARGET_IDS as readonly string[]).includes(p) || /\.json$/i.test(p);
    if (!isTarget && !/\.(safetensors|onnx)$/i.test(p)) {
      throw invalidOption('--transfer-to', `checkpoints (.safetensors), float ONNX models (.onnx), target ids (${TARGET_IDS.join(', ')}) or target .json files`, p);
    }
    if (isTarget) {
      out.push(deployedTransfer(await loadDeployModel(modelPath, p, { data })));
      continue;
    }
    const t = loadModel(p, { size: meta.inputSize });
    if (t.meta.inputSize !== meta.inputSize || t.meta.numClasses !== meta.numClasses) {
      throw invalidOption('--transfer-to', `a model taking 3x${meta.inputSize}x${meta.inputSize} with ${meta.numClasses} classes (as --model)`, `${p} (3x${t.meta.inputSize}x${t.meta.inputSize}, ${t.meta.numClasses} classes)`);
    }
    out.push({ name: p, module: t.model });
  }
  return out;
}

/** One runner per suite (a new suite or a new common option is a small edit here). */
const SUITE_RUNNERS: Record<EvalSuite, SuiteRunner> = {
  async clean({ model, split, ctx }) {
    const bar = startProgress(`clean on ${ctx.indices.length} images`, ctx.indices.length);
    let last = 0;
    const r = await evaluateClean(model, split, ctx, { onBatch: (d) => { bar.tick(d - last); last = d; } });
    bar.stop();
    return { result: r, text: `clean: top-1 ${r.top1.toFixed(2)}% (${r.correct}/${r.n})${r.nc ? ' NC' : ''}, ${r.seconds.toFixed(1)} s` };
  },
  async systematic({ model, split, ctx }) {
    const bar = startProgress(`systematic on ${ctx.indices.length} images`, ctx.indices.length);
    let last = 0;
    const r = await evaluateSystematic(model, split, ctx, { onProgress: (d) => { bar.tick(d - last); last = d; } });
    bar.stop();
    return { result: r, text: formatSystematicTable({ ...r, suite: 'systematic' }) };
  },
  async corruption({ model, split, ctx, flags }) {
    const severities = parseSeverities(flags.severities);
    const batch = ctx.batch ?? 128;
    const bar = startProgress(`corruption on ${ctx.indices.length} images`, 15 * severities.length * Math.ceil(ctx.indices.length / Math.max(batch, 512)));
    const r = await evaluateCorruption(model, split, ctx, { severities, onCell: () => bar.tick() });
    bar.stop();
    const lines = Object.entries(r.accuracy).map(([c, s]) => `  ${c.padEnd(18)} ${Object.entries(s).map(([k, v]) => `${k}: ${v.toFixed(2)}`).join('  ')}`);
    return { result: r, text: `corruption: NR ${r.nr.toFixed(2)}% over ${15 * severities.length} cells (severities ${severities.join(',')}), ${r.seconds.toFixed(1)} s\n${lines.join('\n')}` };
  },
  async adversarial({ model, meta, split, ctx, flags }) {
    const parsed = parseAdversarialFlags(flags);
    const transferTo = await loadTransferModels(flags.transferTo, meta, ctx.modelName, ctx.dataName);
    const r = await evaluateAdversarial(model, split, ctx, { ...parsed, saveAdv: flags.saveAdv, transferTo, perSample: flags.perSample });
    return { result: r, text: formatAdversarialTable(r) };
  },
};

/**
 * Registers `qrobust eval` on the program.
 * @param program the root commander program
 * @throws never (errors are thrown by the action and reported by main)
 * @example
 * registerEvalCommand(new Command());
 */
export function registerEvalCommand(program: Command): void {
  program
    .command('eval')
    .description('evaluate a model: clean top-1, systematic noise (SR), corruptions (NR), adversarial attacks (AR, WCAR)')
    .addOption(new Option('--model <path>', 'checkpoint (.safetensors) written by qrobust train, or a float ONNX model (.onnx)'))
    .addOption(new Option('--data <name>', 'data name (default: the data the checkpoint was trained on)'))
    .addOption(new Option('--suite <list>', `comma-separated suites: ${EVAL_SUITES.join(', ')}`).default('clean'))
    .addOption(new Option('--severities <list>', 'corruption: severities, e.g. 1-5, 3 or 1,3,5').default('1-5'))
    .addOption(new Option('--attacks <list>', 'adversarial: fgsm, pgd-linf, pgd-l2, pgd-l1, aa (default all; WCAR is over those run)'))
    .addOption(new Option('--magnitudes <list>', 'adversarial: tiers small, middle, large (default all)'))
    .addOption(new Option('--eps <list>', 'adversarial: ε overrides attack/tier=value, e.g. pgd-l2/small=0.1,fgsm/large=8/255'))
    .addOption(new Option('--eps-rule <rule>', 'adversarial: ℓ2/ℓ1 ε for non-ImageNet sizes: scaled-7.14 (√d and d scaling) or unscaled'))
    .addOption(new Option('--pgd-steps <N>', 'adversarial: PGD iterations (paper: 20)'))
    .addOption(new Option('--aa-version <v>', 'adversarial: AutoAttack budget: standard (the published one) or aa-demo (reduced, never a standard number)'))
    .addOption(new Option('--save-adv <dir>', 'adversarial: write clean.npy, labels.npy and <attack>-<tier>.npy (float32 NCHW) here'))
    .addOption(new Option('--transfer-to <list>', 'adversarial: also classify the adversarial examples with these models (.safetensors / .onnx) or with --model deployed under these targets (target ids)'))
    .addOption(new Option('--no-per-sample', 'adversarial: leave the per-sample flags out of the JSON'))
    .addOption(new Option('--target <id>', 'deployment target (targets/*.json, or a .json path): run the q-checkpoint / quantized ONNX model as that device does (docs/deploy.md)'))
    .addOption(new Option('--test-limit <N>', 'evaluate a seeded, stratified subset of N test images'))
    .addOption(new Option('--seed <S>', 'seed of the subset, the corruption draws and the attacks').default('0'))
    .addOption(new Option('--batch <B>', 'images per forward pass (adversarial: per attack batch)').default('128'))
    .addOption(new Option('--threads <T>', 'threads of the float kernels (default: all cores)'))
    .addOption(new Option('--json', 'print one JSON object (several suites: {"results": [...]})'))
    .action(async (o: EvalFlags) => {
      const suites = [...new Set(parseListFlag('--suite', o.suite, EVAL_SUITES))];
      checkFlags(suites, o);
      const testLimit = o.testLimit === undefined ? null : parseIntFlag('--test-limit', o.testLimit, 1);
      const seed = parseIntFlag('--seed', o.seed, 0, 0xffffffff);
      const batch = parseIntFlag('--batch', o.batch, 1, 65536);
      if (!o.model) throw new UsageError('Expected a checkpoint (.safetensors) or an ONNX model (.onnx) for --model but received nothing');
      applyThreads(o.threads);
      if (o.json) setQuiet(true);
      // --target (issue #10): the integer deploy model of that target, its preprocessing, its conversions recorded
      if (o.target !== undefined && o.target !== 'reference' && suites.includes('adversarial')) throw invalidOption('--suite', `clean, systematic or corruption with --target ${o.target} (an integer model has no gradients; use --transfer-to)`, 'adversarial');
      const dep = o.target === undefined ? null : await loadDeployModel(o.model, o.target, { data: o.data });
      const { model, meta } = dep
        ? { model: dep.module, meta: { kind: 'checkpoint' as const, numClasses: dep.meta.numClasses, inputSize: dep.meta.inputSize, classes: dep.meta.classes, data: dep.meta.data, preprocess: dep.meta.preprocess } }
        : loadModel(o.model);
      const dataName = o.data ?? meta.data;
      if (dataName === null) throw new UsageError(`Expected --data for ${o.model}: an ONNX model does not record the data it was trained on`);
      const ds = await openDataset(dataName);
      if (ds.classes.length !== meta.numClasses) throw invalidOption('--data', `a data set with the model's ${meta.numClasses} classes`, `${ds.name} (${ds.classes.length} classes)`);
      if (!ds.testSplit) throw new UsageError(`Expected a data set with a test split for --data but ${ds.name} has ${ds.splits.slice(0, 4).join(', ')}${ds.splits.length > 4 ? ', ...' : ''}`);
      const split = ds.split(ds.testSplit);
      const { indices, record } = selectSubset(split.labels, testLimit, seed, { split: ds.testSplit });
      const ctx: EvalContext = { modelName: o.model, dataName: ds.name, indices, subset: record, seed, size: meta.inputSize, preprocess: meta.preprocess, batch, target: dep?.target.id };
      const results: object[] = [];
      for (const suite of suites) {
        const { result, text } = await SUITE_RUNNERS[suite]({ model, meta, split, ctx, flags: o });
        results.push(dep ? { ...result, deploy: { conversions: dep.meta.conversions, calibration: dep.meta.calibration } } : result);
        if (!o.json) process.stdout.write(`${text}\n`);
      }
      if (o.json) process.stdout.write(`${JSON.stringify(results.length === 1 ? results[0] : { results })}\n`);
      if (!o.json && ds.kind === 'fashion-mnist') process.stdout.write('(fashion-mnist is greyscale: decoder noise on this set is small)\n');
    });
}
