/**
 * `qrobust eval --model <ckpt> [--data D] [--suite clean,systematic,corruption] [--severities 1-5]
 *  [--test-limit N] [--seed S] [--batch B] [--threads T] [--json]`
 *
 * Loads a checkpoint (ts/train/checkpoint.ts), opens its data (`--data` defaults to what it was trained
 * on), draws the seeded test subset once and runs each suite on it. Output with `--json`: one suite prints
 * its own JSON object (CONVENTIONS.md); several print `{"results": [<one object per suite, in the order
 * given>]}`, so one line of stdout is always one JSON object and each suite's object is the same whether it
 * ran alone or not. The adversarial suite is run by its own engineers' wiring and is not offered here yet.
 */
import { Option, type Command } from 'commander';
import { UsageError, invalidOption } from '../util/errors.ts';
import { parseIntFlag, parseListFlag } from '../util/is.ts';
import { setQuiet, startProgress, warn } from '../util/progress.ts';
import { openDataset } from '../data/index.ts';
import { selectSubset } from '../data/subset.ts';
import { parseSeverities } from '../corrupt/suite.ts';
import { formatSystematicTable } from '../systematic/suite.ts';
import { loadCheckpoint } from '../train/checkpoint.ts';
import { evaluateClean } from '../eval/clean.ts';
import { evaluateSystematic } from '../eval/systematic.ts';
import { evaluateCorruption } from '../eval/corruption.ts';
import type { EvalContext } from '../eval/common.ts';

/** The suites `eval` runs (adversarial: see ts/eval/attack-model.ts, not wired here). */
export const EVAL_SUITES = ['clean', 'systematic', 'corruption'] as const;
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

interface EvalFlags {
  model?: string;
  data?: string;
  suite: string;
  severities: string;
  testLimit?: string;
  seed: string;
  batch: string;
  threads?: string;
  json?: boolean;
}

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
    .description('evaluate a checkpoint: clean top-1, systematic noise (SR), corruptions (NR)')
    .addOption(new Option('--model <ckpt>', 'checkpoint (.safetensors) written by qrobust train'))
    .addOption(new Option('--data <name>', 'data name (default: the data the checkpoint was trained on)'))
    .addOption(new Option('--suite <list>', `comma-separated suites: ${EVAL_SUITES.join(', ')}`).default('clean'))
    .addOption(new Option('--severities <list>', 'corruption severities, e.g. 1-5, 3 or 1,3,5').default('1-5'))
    .addOption(new Option('--test-limit <N>', 'evaluate a seeded, stratified subset of N test images'))
    .addOption(new Option('--seed <S>', 'seed of the subset and of the corruption draws').default('0'))
    .addOption(new Option('--batch <B>', 'images per forward pass').default('128'))
    .addOption(new Option('--threads <T>', 'threads of the float kernels (default: all cores)'))
    .addOption(new Option('--json', 'print one JSON object (several suites: {"results": [...]})'))
    .action(async (o: EvalFlags) => {
      const suites = [...new Set(parseListFlag('--suite', o.suite, EVAL_SUITES))];
      const severities = parseSeverities(o.severities);
      const testLimit = o.testLimit === undefined ? null : parseIntFlag('--test-limit', o.testLimit, 1);
      const seed = parseIntFlag('--seed', o.seed, 0, 0xffffffff);
      const batch = parseIntFlag('--batch', o.batch, 1, 65536);
      if (!o.model) throw new UsageError('Expected a checkpoint for --model but received nothing');
      applyThreads(o.threads);
      if (o.json) setQuiet(true);
      const { model, meta } = loadCheckpoint(o.model);
      const ds = await openDataset(o.data ?? meta.data);
      if (ds.classes.length !== meta.numClasses) throw invalidOption('--data', `a data set with the checkpoint's ${meta.numClasses} classes`, `${ds.name} (${ds.classes.length} classes)`);
      if (!ds.testSplit) throw new UsageError(`Expected a data set with a test split for --data but ${ds.name} has ${ds.splits.slice(0, 4).join(', ')}${ds.splits.length > 4 ? ', ...' : ''}`);
      const split = ds.split(ds.testSplit);
      const { indices, record } = selectSubset(split.labels, testLimit, seed, { split: ds.testSplit });
      const ctx: EvalContext = { modelName: o.model, dataName: ds.name, indices, subset: record, seed, size: meta.inputSize, preprocess: meta.preprocess, batch };
      const results: object[] = [];
      for (const suite of suites) {
        if (suite === 'clean') {
          const bar = startProgress(`clean on ${indices.length} images`, indices.length);
          let last = 0;
          const r = await evaluateClean(model, split, ctx, { onBatch: (d) => { bar.tick(d - last); last = d; } });
          bar.stop();
          results.push(r);
          if (!o.json) process.stdout.write(`clean: top-1 ${r.top1.toFixed(2)}% (${r.correct}/${r.n})${r.nc ? ' NC' : ''}, ${r.seconds.toFixed(1)} s\n`);
        } else if (suite === 'systematic') {
          const bar = startProgress(`systematic on ${indices.length} images`, indices.length);
          let last = 0;
          const r = await evaluateSystematic(model, split, ctx, { onProgress: (d) => { bar.tick(d - last); last = d; } });
          bar.stop();
          results.push(r);
          if (!o.json) process.stdout.write(`${formatSystematicTable({ ...r, suite: 'systematic' })}\n`);
        } else {
          const bar = startProgress(`corruption on ${indices.length} images`, 15 * severities.length * Math.ceil(indices.length / Math.max(batch, 512)));
          const r = await evaluateCorruption(model, split, ctx, { severities, onCell: () => bar.tick() });
          bar.stop();
          results.push(r);
          if (!o.json) {
            const lines = Object.entries(r.accuracy).map(([c, s]) => `  ${c.padEnd(18)} ${Object.entries(s).map(([k, v]) => `${k}: ${v.toFixed(2)}`).join('  ')}`);
            process.stdout.write(`corruption: NR ${r.nr.toFixed(2)}% over ${15 * severities.length} cells (severities ${severities.join(',')}), ${r.seconds.toFixed(1)} s\n${lines.join('\n')}\n`);
          }
        }
      }
      if (o.json) process.stdout.write(`${JSON.stringify(results.length === 1 ? results[0] : { results })}\n`);
      if (!o.json && ds.kind === 'fashion-mnist') process.stdout.write('(fashion-mnist is greyscale: decoder noise on this set is small)\n');
    });
}
