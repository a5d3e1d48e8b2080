/**
 * `qrobust infer --model <ckpt|onnx> --input <image|x.npy> [--size S] [--json]`
 *
 * Runs a checkpoint on one image (decoded and preprocessed by the checkpoint's reference pipeline:
 * ONECROP to its input size) or on a float32 NCHW `.npy` fed to the model as is (values are expected in
 * [0, 1]; normalisation is the model's first layer). Prints `{"logits": [[…], …], "top5": [[…], …]}`
 * (CONVENTIONS.md), top5 being class indices by decreasing logit.
 */
import { existsSync, readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { UsageError } from '../util/errors.ts';
import { native } from '../native/binding.ts';
import { readNpy } from '../attacks/npy.ts';
import { evalInput } from '../data/batch.ts';
import { loadModel } from '../eval/load-model.ts';
import { parseIntFlag } from '../util/is.ts';
import { moduleLogits } from '../eval/classify.ts';
import { loadDeployModel } from '../deploy/model.ts';

interface InferFlags {
  model?: string;
  input?: string;
  size?: string;
  target?: string;
  json?: boolean;
}

/**
 * The model input of `--input`: a float32 NCHW .npy as is, or an image through the reference pipeline.
 * @param path the file
 * @param size the checkpoint's input size S
 * @param preprocess the checkpoint's preprocess id
 * @returns n images as n x 3 x S x S float32
 * @throws UsageError for a missing file, an .npy of another dtype or shape, or a non-finite value (named
 *   with its index); QrobustError for an image that cannot be decoded
 * @example
 * const { x, n } = await inferInput('x.npy', 32, 'dec-pil');
 */
export async function inferInput(path: string, size: number, preprocess: string): Promise<{ x: Float32Array; n: number }> {
  if (!existsSync(path)) throw new UsageError(`Expected an existing image or .npy file for --input but received '${path}' (not found)`);
  if (/\.npy$/i.test(path)) {
    const a = readNpy(path);
    if (a.dtype !== 'float32') throw new UsageError(`Expected a float32 .npy for --input but ${path} holds ${a.dtype}`);
    const s = a.shape;
    if (s.length !== 4 || s[1] !== 3 || s[2] !== size || s[3] !== size || s[0]! < 1) {
      throw new UsageError(`Expected a float32 NCHW array of shape [N, 3, ${size}, ${size}] for --input but ${path} has shape [${s.join(', ')}]`);
    }
    const x = a.data as Float32Array;
    for (let i = 0; i < x.length; i++) {
      if (!Number.isFinite(x[i]!)) throw new UsageError(`Expected finite values for --input but ${path} holds ${x[i]} at flat index ${i}`);
    }
    return { x, n: s[0]! };
  }
  const bytes = new Uint8Array(readFileSync(path));
  const img = await evalInput(preprocess, size)({ kind: 'encoded', bytes, file: path, label: 0 }, null);
  const x = new Float32Array(3 * size * size);
  native().hwcToChw(img.data, size, size, 3, x, 1 / 255);
  return { x, n: 1 };
}

/**
 * Indices of the k largest values, by decreasing value (the lower index first on ties).
 * @param row the values
 * @param k how many
 * @throws never
 * @example
 * topK(Float32Array.of(0.1, 3, 2), 2) // [1, 2]
 */
export function topK(row: Float32Array, k: number): number[] {
  return Array.from(row.keys()).sort((a, b) => row[b]! - row[a]! || a - b).slice(0, k);
}

/**
 * Registers `qrobust infer` on the program.
 * @param program the root commander program
 * @throws never (errors are thrown by the action and reported by main)
 * @example
 * registerInferCommand(new Command());
 */
export function registerInferCommand(program: Command): void {
  program
    .command('infer')
    .description('logits and top-5 of a checkpoint on an image or a float32 NCHW .npy')
    .addOption(new Option('--model <ckpt|onnx>', 'checkpoint (.safetensors) written by qrobust train, or a float ONNX model taking [0, 1] NCHW pixels'))
    .addOption(new Option('--input <file>', 'an image (JPEG, PNG, ...) or a float32 NCHW .npy in [0, 1]'))
    .addOption(new Option('--size <S>', 'input size of an ONNX model whose spatial dimensions are symbolic'))
    .addOption(new Option('--target <id>', 'deployment target (targets/*.json): logits of the integer model of a q-checkpoint / quantized ONNX model on that target'))
    .addOption(new Option('--json', 'print {"logits": [[...]], "top5": [[...]]}'))
    .action(async (o: InferFlags) => {
      if (!o.model) throw new UsageError('Expected a checkpoint for --model but received nothing');
      if (!o.input) throw new UsageError('Expected an image or .npy file for --input but received nothing');
      const size = o.size === undefined ? undefined : parseIntFlag('--size', o.size, 1, 4096);
      const dep = o.target === undefined ? null : await loadDeployModel(o.model, o.target, { size });
      const { model, meta } = dep ? { model: dep.module, meta: dep.meta } : loadModel(o.model, { size });
      const { x, n } = await inferInput(o.input, meta.inputSize, meta.preprocess);
      const { logits, numClasses: k } = moduleLogits(model, x, n, { size: meta.inputSize });
      const rows = Array.from({ length: n }, (_, i) => logits.subarray(i * k, (i + 1) * k));
      const top5 = rows.map((r) => topK(r, Math.min(5, k)));
      if (o.json) {
        process.stdout.write(`${JSON.stringify({ logits: rows.map((r) => Array.from(r)), top5 })}\n`);
        return;
      }
      rows.forEach((r, i) => {
        const best = top5[i]!.map((c) => `${c} ${meta.classes[c] ?? ''} (${r[c]!.toFixed(3)})`).join(', ');
        process.stdout.write(`${n > 1 ? `[${i}] ` : ''}${best}\n`);
      });
    });
}
