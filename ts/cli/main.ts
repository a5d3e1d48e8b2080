/**
 * The CLI (commander). The only reader of argv and env for options; every command's errors go through
 * {@link main}, which prints one line to stderr and returns the exit code of CONVENTIONS.md
 * (0 success, 1 runtime failure, 2 usage error).
 */
import { Command, CommanderError, Option } from 'commander';
import { exitCodeOf, oneLine } from '../util/errors.ts';
import { setQuiet } from '../util/progress.ts';
import { collectInfo, renderInfo } from './info.ts';
import { registerRunCommand } from './run.ts';
import { registerStatusCommand } from './status.ts';
import { registerMergeCommand } from './merge.ts';
import { registerReportCommand } from './report.ts';
import { registerDataCommands } from './data.ts';
import { registerInspectCommand } from './inspect.ts';
import { registerRequantCommand } from './requant.ts';
import { registerPreprocessCommand } from './preprocess.ts';
import { registerCorruptCommand } from './corrupt.ts';
import { registerTrainCommand } from './train.ts';
import { registerEvalCommand } from './eval.ts';
import { registerInferCommand } from './infer.ts';
import { registerQuantizeCommand } from './quantize.ts';
import { registerExportCommand } from './export.ts';
import { registerParityCommand } from './parity.ts';
import { registerProfileCommand } from './profile.ts';

/** Writes exactly one JSON object to stdout. */
export function printJson(obj: unknown): void {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('qrobust')
    .description('Robustness of quantized neural networks as deployed on edge devices')
    .version(process.env.npm_package_version ?? '0.1.0')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ writeErr: () => {}, writeOut: (s) => process.stdout.write(s) });

  program
    .command('info')
    .description('versions, CPU features and kernels, optional libraries, CUDA')
    .addOption(new Option('--json', 'print one JSON object to stdout'))
    .action(async (opts: { json?: boolean }) => {
      if (opts.json) setQuiet(true);
      const info = await collectInfo();
      if (opts.json) printJson(info);
      else process.stdout.write(`${renderInfo(info)}\n`);
    });

  registerDataCommands(program);
  registerRunCommand(program);
  registerStatusCommand(program);
  registerMergeCommand(program);
  registerReportCommand(program);
  registerInspectCommand(program);
  registerRequantCommand(program);
  registerPreprocessCommand(program);
  registerCorruptCommand(program);
  registerTrainCommand(program);
  registerEvalCommand(program);
  registerInferCommand(program);
  registerQuantizeCommand(program);
  registerExportCommand(program);
  registerParityCommand(program);
  registerProfileCommand(program);

  for (const c of program.commands) c.exitOverride().configureOutput({ writeErr: () => {}, writeOut: (s) => process.stdout.write(s) });
  return program;
}

/**
 * Runs the CLI and returns the exit code; never throws.
 * @param argv process.argv
 */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
      // commander's own messages already name the flag/command; keep them to one line.
      process.stderr.write(`qrobust: ${oneLine(err.message.replace(/^error: /, ''))}\n`);
      return 2;
    }
    process.stderr.write(`qrobust: ${oneLine(err)}\n`);
    if (process.env.QROBUST_DEBUG && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    return exitCodeOf(err);
  }
}
