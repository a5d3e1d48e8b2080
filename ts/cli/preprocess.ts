/**
 * `qrobust preprocess --in <image> --pipeline <id> [--size N] [--mode onecrop|square] [--crop none]
 *  [--resize-only WxH] [--decode-only] --out <file.png>`
 *
 * Writes what a pipeline hands the model, before normalisation, as a lossless PNG:
 * - default: decode, resize (the systematic suite's square resize to floor(S*8/7), or ONECROP with
 *   `--mode onecrop`), centre crop S; `--crop none` skips the crop;
 * - `--resize-only WxH`: only the pipeline's resizer, to exactly W x H, on the decoded input;
 * - `--decode-only`: the pipeline decoder's RGB output.
 */
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { UsageError, invalidOption } from '../util/errors.ts';
import { parseIntFlag } from '../util/is.ts';
import { PIPELINE_IDS, getPipeline, requireImplemented } from '../systematic/pipelines.ts';
import { PREPROCESS_MODES, cropGeometry, decodeWith, preprocessPixels, resizeWith, writePng, type PreprocessMode } from '../systematic/preprocess.ts';

interface PreprocessFlags {
  in?: string;
  pipeline?: string;
  size: string;
  mode: string;
  crop?: string;
  resizeOnly?: string;
  decodeOnly?: boolean;
  out?: string;
  json?: boolean;
}

function parseWxH(name: string, s: string): { width: number; height: number } {
  const m = /^(\d+)x(\d+)$/i.exec(s.trim());
  if (!m) throw invalidOption(name, 'WxH with positive integers, e.g. 224x224', s);
  const width = parseIntFlag(`${name} width`, m[1]!, 1, 1 << 16);
  const height = parseIntFlag(`${name} height`, m[2]!, 1, 1 << 16);
  return { width, height };
}

/**
 * Registers `qrobust preprocess` on the program.
 * @param program the root commander program
 * @throws never (errors are thrown by the action and reported by main)
 * @example
 * registerPreprocessCommand(new Command());
 */
export function registerPreprocessCommand(program: Command): void {
  program
    .command('preprocess')
    .description('write what a preprocessing pipeline hands the model (before normalisation) as a PNG')
    .addOption(new Option('--in <image>', 'input image (JPEG, or a lossless PNG)'))
    .addOption(new Option('--pipeline <id>', `pipeline id: ${PIPELINE_IDS.join(', ')}`).default('dec-pil'))
    .addOption(new Option('--size <N>', 'model input size S (resize to floor(S*8/7), centre crop S)').default('224'))
    .addOption(new Option('--mode <mode>', 'square (systematic suite, ImageNet-S) or onecrop (shorter side; clean/adv/corruption)').default('square'))
    .addOption(new Option('--crop <none>', "'none': write the resized image without the centre crop"))
    .addOption(new Option('--resize-only <WxH>', "apply only the pipeline's resizer, to exactly W x H"))
    .addOption(new Option('--decode-only', "write the pipeline decoder's RGB output"))
    .addOption(new Option('--out <file.png>', 'output PNG'))
    .addOption(new Option('--json', 'print one JSON object describing the output'))
    .action(async (opts: PreprocessFlags) => {
      if (!opts.in) throw new UsageError('Expected an input image for --in but received nothing');
      if (!opts.out) throw new UsageError('Expected an output .png path for --out but received nothing');
      if (!/\.png$/i.test(opts.out)) throw invalidOption('--out', 'a path ending in .png', opts.out);
      const p = requireImplemented(getPipeline(opts.pipeline ?? 'dec-pil', '--pipeline').id, '--pipeline');
      const size = parseIntFlag('--size', opts.size, 1, 1 << 16);
      if (!(PREPROCESS_MODES as readonly string[]).includes(opts.mode)) throw invalidOption('--mode', `one of ${PREPROCESS_MODES.join(', ')}`, opts.mode);
      const mode = opts.mode as PreprocessMode;
      if (opts.crop !== undefined && opts.crop !== 'none') throw invalidOption('--crop', "'none'", opts.crop);
      if (opts.resizeOnly && opts.decodeOnly) throw new UsageError('Expected at most one of --resize-only and --decode-only but received both');
      if ((opts.resizeOnly || opts.decodeOnly) && opts.crop) throw new UsageError('--crop applies to the full pipeline, not to --resize-only or --decode-only');
      const target = opts.resizeOnly ? parseWxH('--resize-only', opts.resizeOnly) : null;
      if (!existsSync(opts.in)) throw new UsageError(`Expected an existing file for --in but received '${opts.in}' (not found)`);

      const t0 = performance.now();
      const buf = await readFile(opts.in);
      const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
      const decoded = await decodeWith(bytes, opts.in, p);
      let out;
      let what: string;
      if (opts.decodeOnly) {
        out = decoded;
        what = 'decode';
      } else if (target) {
        out = await resizeWith(decoded, target.width, target.height, p);
        what = 'resize';
      } else {
        out = await preprocessPixels(decoded, { pipeline: p.id, size, mode, crop: opts.crop !== 'none' });
        what = opts.crop === 'none' ? 'decode+resize' : 'decode+resize+crop';
      }
      await writePng(out, opts.out);
      const info = {
        in: opts.in, out: opts.out, pipeline: p.id, stage: what, mode: opts.decodeOnly || target ? null : mode,
        size: opts.decodeOnly || target ? null : size, decoded: [decoded.width, decoded.height],
        geometry: opts.decodeOnly || target ? null : cropGeometry(decoded.width, decoded.height, size, mode),
        width: out.width, height: out.height, channels: 3, seconds: (performance.now() - t0) / 1000,
      };
      if (opts.json) process.stdout.write(`${JSON.stringify(info)}\n`);
      else process.stderr.write(`${p.id}: ${opts.in} (${decoded.width}x${decoded.height}) -> ${opts.out} (${out.width}x${out.height}, ${what})\n`);
    });
}
