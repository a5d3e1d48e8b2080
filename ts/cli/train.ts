/**
 * `qrobust train --arch resnet20|resnet18 --data D --out ckpt.safetensors [--epochs E] [--lr LR] [--batch B]
 *  [--seed S] [--train-limit N] [--test-limit N] [--threads T] [--json]`
 *
 * Trains a float model from scratch (ts/train), writes the checkpoint (safetensors with its record in the
 * metadata) and a JSON record beside it (`<out minus .safetensors>.json`: options, per-epoch loss, timings,
 * test top-1, NC status, versions). A non-finite loss is NC: the record is written, no checkpoint, exit 1.
 */
import { dirname } from 'node:path';
import { existsSync, writeFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { QrobustError, UsageError, invalidOption } from '../util/errors.ts';
import { parseIntFlag } from '../util/is.ts';
import { setQuiet } from '../util/progress.ts';
import { ARCHS, checkArch } from '../train/models.ts';
import { TRAIN_DEFAULTS, trainModel, type TrainResult } from '../train/loop.ts';
import { saveCheckpoint } from '../train/checkpoint.ts';
import { applyThreads } from './eval.ts';

interface TrainFlags {
  arch?: string;
  data: string;
  out?: string;
  epochs: string;
  lr: string;
  batch: string;
  seed: string;
  trainLimit?: string;
  testLimit?: string;
  threads?: string;
  json?: boolean;
}

/**
 * The JSON record of a training run (printed with --json and written beside the checkpoint).
 * @param r the training result
 * @param out the checkpoint path (null when none was written)
 * @throws never
 * @example
 * trainRecord(result, 'm.safetensors').checkpoint // 'm.safetensors'
 */
export function trainRecord(r: TrainResult, out: string | null): Record<string, unknown> {
  const m = r.meta;
  return {
    checkpoint: out, arch: m.arch, data: m.data, numClasses: m.numClasses, inputSize: m.inputSize, seed: m.seed,
    subset: m.trainSubset, epochs: m.epochs, steps: m.steps, recipe: m.recipe, mean: m.mean, std: m.std,
    preprocess: m.preprocess, preprocessImpl: m.preprocessImpl, history: r.epochs,
    test: r.test ? { top1: r.test.top1, n: r.test.n, subset: r.test.subset, seconds: r.test.seconds } : null,
    nc: r.nc, ncReason: r.ncReason, seconds: r.seconds, secondsPerEpoch: r.secondsPerEpoch, versions: m.versions,
  };
}

/** The record's path for a checkpoint path: `a/m.safetensors` → `a/m.json`. */
export function recordPath(out: string): string {
  return /\.safetensors$/i.test(out) ? out.replace(/\.safetensors$/i, '.json') : `${out}.json`;
}

/**
 * Registers `qrobust train` on the program.
 * @param program the root commander program
 * @throws never (errors are thrown by the action and reported by main)
 * @example
 * registerTrainCommand(new Command());
 */
export function registerTrainCommand(program: Command): void {
  const d = TRAIN_DEFAULTS;
  program
    .command('train')
    .description('train a float model from scratch; writes a safetensors checkpoint and a JSON record beside it')
    .addOption(new Option('--arch <name>', `architecture: ${ARCHS.join(', ')}`))
    .addOption(new Option('--data <name>', 'data name (fashion-mnist, imagefolder:<dir>, cifar10:<dir>, idx:<dir>)').default('fashion-mnist'))
    .addOption(new Option('--out <file>', 'checkpoint to write (.safetensors)'))
    .addOption(new Option('--epochs <E>', 'epochs').default(String(d.epochs)))
    .addOption(new Option('--lr <LR>', 'peak learning rate (warm-up, then cosine to 0)').default(String(d.lr)))
    .addOption(new Option('--batch <B>', 'batch size').default(String(d.batch)))
    .addOption(new Option('--seed <S>', 'seed of init, subset, shuffles and augmentation').default(String(d.seed)))
    .addOption(new Option('--train-limit <N>', 'train on a seeded, stratified subset of N images'))
    .addOption(new Option('--test-limit <N>', 'evaluate on a seeded subset of N test images after training (0: skip)'))
    .addOption(new Option('--threads <T>', 'threads of the float kernels (default: all cores)'))
    .addOption(new Option('--json', 'print the training record as one JSON object'))
    .action(async (o: TrainFlags) => {
      if (o.arch === undefined) throw new UsageError(`Expected one of ${ARCHS.join(', ')} for --arch but received nothing`);
      const arch = checkArch(o.arch);
      if (!o.out) throw new UsageError('Expected a checkpoint path for --out but received nothing');
      if (!/\.safetensors$/i.test(o.out)) throw invalidOption('--out', 'a path ending in .safetensors', o.out);
      if (!existsSync(dirname(o.out) || '.')) throw new UsageError(`Expected an existing folder for --out but ${dirname(o.out)} does not exist`);
      const epochs = parseIntFlag('--epochs', o.epochs, 1, 100000);
      if (!/^\s*[0-9.eE+-]+\s*$/.test(o.lr) || !(Number(o.lr) > 0) || !Number.isFinite(Number(o.lr))) throw invalidOption('--lr', 'a number > 0', o.lr);
      const lr = Number(o.lr);
      const batch = parseIntFlag('--batch', o.batch, 2, 65536);
      const seed = parseIntFlag('--seed', o.seed, 0, 0xffffffff);
      const trainLimit = o.trainLimit === undefined ? null : parseIntFlag('--train-limit', o.trainLimit, 2);
      const testLimit = o.testLimit === undefined ? null : parseIntFlag('--test-limit', o.testLimit, 0);
      applyThreads(o.threads);
      if (o.json) setQuiet(true);
      const r = await trainModel({ arch, data: o.data, epochs, lr, batch, seed, trainLimit, testLimit });
      const rec = recordPath(o.out);
      if (r.nanAt) {
        writeFileSync(rec, `${JSON.stringify(trainRecord(r, null), null, 1)}\n`);
        throw new QrobustError(`training did not converge (NC): ${r.ncReason}; recorded in ${rec}, no checkpoint written`);
      }
      saveCheckpoint(o.out, r.model, r.meta);
      const record = trainRecord(r, o.out);
      writeFileSync(rec, `${JSON.stringify(record, null, 1)}\n`);
      if (o.json) process.stdout.write(`${JSON.stringify(record)}\n`);
      else {
        const t = r.test ? `, test top-1 ${r.test.top1.toFixed(2)}% on ${r.test.n}` : '';
        process.stdout.write(`${arch} on ${r.meta.data}: ${r.epochs.length} epochs, ${r.secondsPerEpoch.toFixed(1)} s/epoch${t}${r.nc ? ` (NC: ${r.ncReason})` : ''} -> ${o.out} (+ ${rec})\n`);
      }
    });
}
