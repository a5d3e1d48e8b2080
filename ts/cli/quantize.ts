/**
 * `qrobust quantize --model <fp ckpt> [--data D] --method dorefa|pact|lsq --bits 2|4|6|8 --out <q ckpt>
 *  [--epochs E] [--lr LR] [--batch B] [--train-limit N] [--test-limit N] [--seed S] [--variant academic|library]
 *  [--per-channel] [--observer-mode frozen|faithful] [--threads T] [--json]`
 *
 * Quantization-aware fine-tuning from an FP checkpoint (ts/quant/qat.ts): writes the q-checkpoint (weights and
 * quantizer parameters, config in the metadata) and a JSON record beside it. A non-finite loss is NC: the
 * record is written, no checkpoint, exit 1.
 */
import { dirname } from 'node:path';
import { existsSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { QrobustError, UsageError, invalidOption } from '../util/errors.ts';
import { parseIntFlag } from '../util/is.ts';
import { setQuiet } from '../util/progress.ts';
import { OBSERVER_MODES, QUANT_BITS, QUANT_METHODS, QUANT_VARIANTS, UnknownMethodError, UnsupportedBitsError } from '../quant/config.ts';
import { QAT_DEFAULTS, runQuantize, quantRecordPath } from '../quant/qat.ts';
import { applyThreads } from './eval.ts';

interface QuantizeFlags {
  model?: string;
  data?: string;
  method?: string;
  bits?: string;
  out?: string;
  epochs: string;
  lr: string;
  batch: string;
  seed: string;
  trainLimit?: string;
  testLimit?: string;
  variant: string;
  perChannel?: boolean;
  observerMode: string;
  threads?: string;
  json?: boolean;
}

/**
 * Registers `qrobust quantize` on the program.
 * @param program the root commander program
 * @throws never (errors are thrown by the action and reported by main)
 * @example
 * registerQuantizeCommand(new Command());
 */
export function registerQuantizeCommand(program: Command): void {
  const d = QAT_DEFAULTS;
  program
    .command('quantize')
    .description('quantization-aware fine-tuning (DoReFa, PACT, LSQ) from an FP checkpoint; writes a q-checkpoint and a JSON record')
    .addOption(new Option('--model <ckpt>', 'FP checkpoint (.safetensors) written by qrobust train'))
    .addOption(new Option('--data <name>', 'data name (default: the data the checkpoint was trained on)'))
    .addOption(new Option('--method <m>', `quantization method: ${QUANT_METHODS.join(', ')}`))
    .addOption(new Option('--bits <b>', `bits of weights and activations (first conv and last linear at 8): ${QUANT_BITS.join(', ')}`))
    .addOption(new Option('--out <file>', 'q-checkpoint to write (.safetensors)'))
    .addOption(new Option('--epochs <E>', 'QAT epochs').default(String(d.epochs)))
    .addOption(new Option('--lr <LR>', 'peak learning rate (1% warm-up from 0.025 x LR, then cosine to 0)').default(String(d.lr)))
    .addOption(new Option('--batch <B>', 'batch size').default(String(d.batch)))
    .addOption(new Option('--seed <S>', 'seed of the subset, shuffles, augmentation and calibration').default(String(d.seed)))
    .addOption(new Option('--train-limit <N>', 'fine-tune on a seeded, stratified subset of N training images'))
    .addOption(new Option('--test-limit <N>', 'evaluate on a seeded subset of N test images (0: skip)'))
    .addOption(new Option('--variant <v>', `semantics: ${QUANT_VARIANTS.join(', ')} (mqbench-paper / MQBench library)`).default('academic'))
    .addOption(new Option('--per-channel', 'per-channel weight scales (default per-tensor)'))
    .addOption(new Option('--observer-mode <m>', `evaluation observers: ${OBSERVER_MODES.join(', ')}`).default('frozen'))
    .addOption(new Option('--threads <T>', 'threads of the float kernels (default: all cores)'))
    .addOption(new Option('--json', 'print the record as one JSON object'))
    .action(async (o: QuantizeFlags) => {
      if (!o.model) throw new UsageError('Expected an FP checkpoint for --model but received nothing');
      if (o.method === undefined) throw new UnknownMethodError(undefined);
      if (!(QUANT_METHODS as readonly string[]).includes(o.method)) throw new UnknownMethodError(o.method);
      if (o.bits === undefined) throw new UnsupportedBitsError(undefined);
      if (!/^\s*\d+\s*$/.test(o.bits) || !(QUANT_BITS as readonly number[]).includes(Number(o.bits))) throw new UnsupportedBitsError(o.bits);
      if (!o.out) throw new UsageError('Expected a q-checkpoint path for --out but received nothing');
      if (!/\.safetensors$/i.test(o.out)) throw invalidOption('--out', 'a path ending in .safetensors', o.out);
      if (!existsSync(dirname(o.out) || '.')) throw new UsageError(`Expected an existing folder for --out but ${dirname(o.out)} does not exist`);
      const epochs = parseIntFlag('--epochs', o.epochs, 1, 100000);
      if (!/^\s*[0-9.eE+-]+\s*$/.test(o.lr) || !(Number(o.lr) > 0) || !Number.isFinite(Number(o.lr))) throw invalidOption('--lr', 'a number > 0', o.lr);
      const batch = parseIntFlag('--batch', o.batch, 2, 65536);
      const seed = parseIntFlag('--seed', o.seed, 0, 0xffffffff);
      const trainLimit = o.trainLimit === undefined ? null : parseIntFlag('--train-limit', o.trainLimit, 2);
      const testLimit = o.testLimit === undefined ? null : parseIntFlag('--test-limit', o.testLimit, 0);
      applyThreads(o.threads);
      if (o.json) setQuiet(true);
      const rec = await runQuantize({
        fpCheckpoint: o.model, data: o.data, method: o.method, bits: Number(o.bits), variant: o.variant, perChannel: o.perChannel === true,
        observerMode: o.observerMode, epochs, lr: Number(o.lr), batch, seed, trainLimit, testLimit, out: o.out,
      });
      if (rec.checkpoint === null) throw new QrobustError(`quantization-aware training did not converge (NC): ${rec.ncReason}; recorded in ${quantRecordPath(o.out)}, no checkpoint written`);
      if (o.json) process.stdout.write(`${JSON.stringify(rec)}\n`);
      else {
        const t = rec.top1 !== null ? `, test top-1 ${rec.top1.toFixed(2)}% on ${rec.test!.n}` : '';
        process.stdout.write(`${rec.arch} ${rec.id} (${rec.variant}, observers ${rec.observer_mode}): ${rec.epochs} epoch(s), ${rec.secondsPerEpoch.toFixed(1)} s/epoch${t}${rec.nc ? ` (NC: ${rec.ncReason})` : ''} -> ${o.out} (+ ${quantRecordPath(o.out)})\n`);
      }
    });
}
