/**
 * `qrobust run --preset <name> [--store results.db] [--out report/] [--archs …] [--methods …] [--bits …]
 *  [--suites …] [--targets …] [--test-limit N] [--seed S] [--shard i/n] [--fp <ckpt>] [--data D] [--threads T]
 *  [--json]`: the benchmark grid (ts/runner/run.ts); with `--out`, the report (ts/report) at the end.
 */
import { existsSync, statSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { UsageError, invalidOption } from '../util/errors.ts';
import { parseIntFlag, parseListFlag } from '../util/is.ts';
import { parseDataName } from '../data/names.ts';
import { ARCHS } from '../train/models.ts';
import { BITS, METHODS, RUN_SUITES, checkRunTargets, parseShard, type Method, type RunSuite } from '../runner/grid.ts';
import { TARGET_IDS } from '../targets/index.ts';
import { PRESET_NAMES, getPreset, type Preset } from '../runner/presets.ts';
import { runBenchmark } from '../runner/run.ts';
import { writeReport } from '../report/report.ts';
import { applyThreads } from './eval.ts';

interface RunFlags {
  preset?: string;
  store: string;
  out?: string;
  archs?: string;
  methods?: string;
  bits?: string;
  suites?: string;
  targets?: string;
  testLimit?: string;
  seed?: string;
  shard?: string;
  fp?: string;
  data?: string;
  size?: string;
  threads?: string;
  json?: boolean;
}

/**
 * Applies the flags to a preset (narrowing the grid, overriding the seed or every suite's test limit) and
 * checks the inputs the preset needs (paper-resnet18: an imagefolder `--data` and `--fp`).
 * @throws UsageError naming the flag
 */
export function presetFromFlags(o: RunFlags): { preset: Preset; data: string; fp: string | null } {
  if (o.preset === undefined) throw new UsageError(`Expected one of ${PRESET_NAMES.join(', ')} for --preset but received nothing`);
  const p = getPreset(o.preset);
  if (o.archs !== undefined) p.archs = [...new Set(parseListFlag('--archs', o.archs, ARCHS))];
  if (o.methods !== undefined) p.methods = o.methods.trim() === 'none' ? [] : [...new Set(parseListFlag('--methods', o.methods, METHODS))] as Method[];
  if (o.bits !== undefined) {
    const b = parseListFlag('--bits', o.bits, BITS.map(String));
    p.bits = [...new Set(b.map(Number))].sort((x, y) => x - y);
  }
  if (o.suites !== undefined) p.suites = RUN_SUITES.filter((s) => parseListFlag('--suites', o.suites!, RUN_SUITES).includes(s)) as RunSuite[];
  if (o.targets !== undefined) p.targets = checkRunTargets(parseListFlag('--targets', o.targets));
  if (o.seed !== undefined) p.seed = parseIntFlag('--seed', o.seed, 0, 0xffffffff);
  if (o.testLimit !== undefined) {
    const n = parseIntFlag('--test-limit', o.testLimit, 1);
    p.budgets.clean.testLimit = n;
    p.budgets.systematic.testLimit = n;
    p.budgets.corruption.testLimit = n;
    p.budgets.adversarial.testLimit = n;
    p.budgets.adversarial.quantTestLimit = null;
  }
  const fp = o.fp ?? null;
  if (fp !== null) {
    if (!existsSync(fp) || !statSync(fp).isFile()) throw new UsageError(`Expected an existing FP checkpoint (.safetensors) or float ONNX model for --fp but received '${fp}' (not found)`);
    if (!/\.(safetensors|onnx)$/i.test(fp)) throw invalidOption('--fp', 'a .safetensors checkpoint or a float .onnx model', fp);
  }
  let data = o.data ?? p.data;
  if (p.name === 'paper-resnet18') {
    if (data === undefined || data === null) throw new UsageError('Expected --data imagefolder:<ImageNet dir> (with train/ and val/ class folders) for --preset paper-resnet18 but received nothing');
    const d = parseDataName(data, '--data');
    if (d.kind !== 'imagefolder') throw invalidOption('--data', 'an imagefolder:<ImageNet dir> (paper-resnet18 runs on ImageNet)', data);
    if (fp === null) throw new UsageError("Expected the FP resnet18 for --fp (a qrobust .safetensors checkpoint, the user's torchvision state dict as .safetensors, or a torch float ONNX export) for --preset paper-resnet18 but received nothing");
  }
  if (data === null || data === undefined) throw new UsageError('Expected a data name for --data but received nothing');
  data = parseDataName(data, '--data').canonical;
  if (p.needsFp && fp === null) throw new UsageError(`Expected --fp for --preset ${p.name} but received nothing`);
  return { preset: p, data, fp };
}

/**
 * Registers `qrobust run`.
 * @param program the root commander program
 */
export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description('run the benchmark grid (FP + QAT cells x suites x targets) into a resumable store; --out writes the report')
    .addOption(new Option('--preset <name>', `preset: ${PRESET_NAMES.join(', ')}`))
    .addOption(new Option('--store <db>', 'result store (SQLite); created when missing, resumed when present').default('results.db'))
    .addOption(new Option('--out <dir>', 'write the report (tables, CSVs, results.json, figures, findings) here at the end'))
    .addOption(new Option('--archs <list>', `architectures (${ARCHS.join(', ')})`))
    .addOption(new Option('--methods <list>', `QAT methods (${METHODS.join(', ')}; 'none' for FP only)`))
    .addOption(new Option('--bits <list>', `bit widths (${BITS.join(', ')})`))
    .addOption(new Option('--suites <list>', `suites (${RUN_SUITES.join(', ')}); clean always runs (NC needs it)`))
    .addOption(new Option('--targets <list>', `deployment targets (${TARGET_IDS.join(', ')}; default reference): quantized models run deployed on each (docs/runner.md)`))
    .addOption(new Option('--test-limit <N>', "override every suite's test subset size"))
    .addOption(new Option('--seed <S>', "seed of training, subsets and attacks (default: the preset's, 0)"))
    .addOption(new Option('--shard <i/n>', 'run only the i-th of n shares of the model lines (merge stores with qrobust merge)'))
    .addOption(new Option('--fp <file>', 'use this FP model instead of training one: a qrobust .safetensors checkpoint, a torchvision state dict (.safetensors), or a float .onnx (a torch export with BN and parameter names is fine-tuned too)'))
    .addOption(new Option('--data <name>', "data name (default: the preset's)"))
    .addOption(new Option('--size <S>', 'input size of a torchvision --fp without a fixed one (default 224), or of a float ONNX --fp with symbolic spatial dims'))
    .addOption(new Option('--threads <T>', "float kernel threads (default: the preset's)"))
    .addOption(new Option('--json', 'print one summary object {"cells_total", "computed", "reused", ...}'))
    .action(async (o: RunFlags) => {
      const { preset, data, fp } = presetFromFlags(o);
      const shard = parseShard(o.shard);
      applyThreads(o.threads ?? (preset.threads > 0 ? String(preset.threads) : undefined));
      const fpSize = o.size === undefined ? undefined : parseIntFlag('--size', o.size, 8, 4096);
      if (fpSize !== undefined && fp === null) throw new UsageError('Expected --fp with --size (the input size of a torchvision --fp) but received no --fp');
      const summary = await runBenchmark({ preset, store: o.store, data, shard, fp, fpSize, quiet: !!o.json });
      let report: string | null = null;
      if (o.out) {
        await writeReport({ store: o.store, out: o.out });
        report = o.out;
      }
      if (o.json) process.stdout.write(`${JSON.stringify({ ...summary, report })}\n`);
      else {
        process.stdout.write(`${summary.cells_total} cells: ${summary.computed} computed (${summary.nc} NC), ${summary.reused} reused; ${summary.seconds.toFixed(1)} s; store ${o.store}${report ? `; report in ${report}` : ''}\n`);
      }
    });
}
