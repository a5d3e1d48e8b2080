/**
 * `qrobust corrupt --in <image> --corruption <id> --severity <k> [--seed S] [--column 224|64|32]
 *  [--frost-dir DIR] --out <file.png> [--json]`
 *
 * Applies one ImageNet-C corruption (ts/corrupt) to one decoded image (JPEG via the Pillow-exact libjpeg
 * decoder, PNG losslessly) and writes the result as a lossless PNG. The table column follows the image
 * size unless `--column` is given; every random draw comes from `--seed` (default 0).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import { CORRUPTIONS, checkCorruption, corrupt, parseColumn, columnFor, severityParams } from '../corrupt/index.ts';
import { decodeWith, writePng } from '../systematic/preprocess.ts';
import { UsageError, invalidOption } from '../util/errors.ts';
import { parseIntFlag } from '../util/is.ts';
import { Rng } from '../util/rng.ts';

interface CorruptFlags {
  in?: string;
  corruption?: string;
  severity?: string;
  seed: string;
  column?: string;
  frostDir?: string;
  out?: string;
  json?: boolean;
}

/**
 * Registers `qrobust corrupt` on the program.
 * @param program the root commander program
 * @throws never (errors are thrown by the action and reported by main)
 * @example
 * registerCorruptCommand(new Command()) // undefined
 */
export function registerCorruptCommand(program: Command): void {
  program
    .command('corrupt')
    .description('apply one ImageNet-C corruption at one severity to an image and write a PNG')
    .addOption(new Option('--in <image>', 'input image (JPEG or PNG), RGB'))
    .addOption(new Option('--corruption <id>', `one of ${CORRUPTIONS.join(', ')}`))
    .addOption(new Option('--severity <k>', 'severity 1..5'))
    .addOption(new Option('--seed <S>', 'seed of every random draw').default('0'))
    .addOption(new Option('--column <size>', 'severity table column: 224 (ImageNet-C), 64 (Tiny), 32 (CIFAR); default from the image size'))
    .addOption(new Option('--frost-dir <dir>', 'folder with the reference frost1.png … frost5.jpg (default: procedural textures)'))
    .addOption(new Option('--out <file.png>', 'output PNG'))
    .addOption(new Option('--json', 'print one JSON object describing the output'))
    .action(async (opts: CorruptFlags) => {
      if (!opts.in) throw new UsageError('Expected an input image for --in but received nothing');
      if (!opts.out) throw new UsageError('Expected an output .png path for --out but received nothing');
      if (!/\.png$/i.test(opts.out)) throw invalidOption('--out', 'a path ending in .png', opts.out);
      if (opts.corruption === undefined) throw new UsageError(`Expected one of ${CORRUPTIONS.join(', ')} for --corruption but received nothing`);
      const id = checkCorruption(opts.corruption);
      if (opts.severity === undefined) throw new UsageError('Expected integer 1..5 for --severity but received nothing');
      const severity = parseIntFlag('--severity', opts.severity, 1, 5);
      const seed = parseIntFlag('--seed', opts.seed, 0, 0xffffffff);
      const column = opts.column === undefined ? undefined : parseColumn(opts.column);
      if (opts.frostDir !== undefined && !existsSync(opts.frostDir)) throw new UsageError(`Expected an existing folder for --frost-dir but received '${opts.frostDir}' (not found)`);
      if (!existsSync(opts.in)) throw new UsageError(`Expected an existing file for --in but received '${opts.in}' (not found)`);
      const buf = await readFile(opts.in);
      const img = await decodeWith(new Uint8Array(buf.buffer, buf.byteOffset, buf.length), opts.in);
      const t0 = performance.now();
      const out = await corrupt(img, id, severity, new Rng(seed), { column, frostDir: opts.frostDir });
      const seconds = (performance.now() - t0) / 1000;
      await writePng(out, opts.out);
      if (opts.json) {
        const col = column ?? columnFor(img.height, img.width);
        process.stdout.write(`${JSON.stringify({ corruption: id, severity, seed, column: col, params: severityParams(id, severity, col),
          width: out.width, height: out.height, out: opts.out, frost: id === 'frost' ? (opts.frostDir ? 'photographs' : 'procedural') : undefined, seconds })}\n`);
      }
    });
}
