/**
 * `qrobust export --model <q-checkpoint|quantized onnx> --format qdq|qonnx|int4 --out <file.onnx> [--calib N] [--json]`
 * `qrobust export --model <fp checkpoint> --format onnx --out <file.onnx> [--json]`
 *
 * `onnx` writes a float (FP) checkpoint as float ONNX (ts/formats/onnx-export.ts): [0, 1] NCHW float input with a
 * symbolic batch, normalisation inside the graph, BN in eval form; onnxruntime-node gives our logits and our own
 * import reads it back (test/e2e/onnx-model.test.ts). A q-checkpoint asked for `onnx` is a named error (its float
 * export would drop the quantizers silently): use `qdq`, `int4` or `qonnx`.
 *
 * Writes the deploy graph (docs/deploy.md) as a quantized ONNX model: `qdq` (what onnxruntime runs fully integer),
 * `int4` (opset 21, weights with a grid of at most 4 bits stored as INT4), `qonnx` (QONNX Quant nodes at every
 * grid's own bit width). The input is [0, 1] NCHW float with a symbolic batch, normalisation inside the graph.
 */
import { writeFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { UsageError } from '../util/errors.ts';
import { parseIntFlag } from '../util/is.ts';
import { setQuiet } from '../util/progress.ts';
import { encodeModel } from '../formats/onnx.ts';
import { EXPORT_FORMATS, exportQuantizedOnnx, type ExportFormat } from '../formats/onnx-qexport.ts';
import { loadDeployModel } from '../deploy/model.ts';
import { exportOnnx } from '../formats/onnx-export.ts';
import { loadCheckpoint } from '../train/checkpoint.ts';

/** Every `--format`: the float export and the quantized ones. */
const FORMATS = ['onnx', ...EXPORT_FORMATS] as const;

interface ExportFlags { model?: string; format?: string; out?: string; calib?: string; json?: boolean }

/**
 * Registers `qrobust export`.
 * @param program the root program
 * @throws never (the action's errors are reported by main)
 * @example
 * registerExportCommand(new Command());
 */
export function registerExportCommand(program: Command): void {
  program
    .command('export')
    .description('write an FP checkpoint as float ONNX, or a q-checkpoint (or quantized ONNX model) as QDQ / QONNX / INT4 ONNX')
    .addOption(new Option('--model <file>', 'FP checkpoint (--format onnx), q-checkpoint (.safetensors, qrobust quantize) or quantized .onnx'))
    .addOption(new Option('--format <f>', `one of ${FORMATS.join(', ')}`).default('qdq'))
    .addOption(new Option('--out <file.onnx>', 'output file'))
    .addOption(new Option('--calib <N>', 'training images that calibrate the residual / pooling points').default('256'))
    .addOption(new Option('--json', 'print one JSON object'))
    .action(async (o: ExportFlags) => {
      if (o.json) setQuiet(true);
      const fmt = o.format ?? 'qdq';
      if (!(FORMATS as readonly string[]).includes(fmt)) throw new UsageError(`Expected one of ${FORMATS.join(', ')} for --format but received '${fmt}'`);
      if (!o.model) throw new UsageError('Expected a q-checkpoint or quantized ONNX model for --model but received nothing');
      if (!o.out || !/\.onnx$/i.test(o.out)) throw new UsageError(`Expected an output .onnx file for --out but received ${o.out === undefined ? 'nothing' : `'${o.out}'`}`);
      if (fmt === 'onnx') {
        if (/\.onnx$/i.test(o.model)) throw new UsageError(`Expected a qrobust .safetensors FP checkpoint for --model with --format onnx but received '${o.model}' (already ONNX)`);
        const { model, meta } = loadCheckpoint(o.model);
        if (meta.quant) throw new UsageError(`Expected an FP checkpoint for --model with --format onnx but ${o.model} is a q-checkpoint (use --format qdq, int4 or qonnx)`);
        const bytes = encodeModel(exportOnnx(model, { inputSize: meta.inputSize }));
        writeFileSync(o.out, bytes);
        const res = { model: o.model, format: fmt, out: o.out, bytes: bytes.length, arch: meta.arch, inputSize: meta.inputSize, numClasses: meta.numClasses };
        if (o.json) process.stdout.write(`${JSON.stringify(res)}\n`);
        else process.stdout.write(`${o.out}: float ONNX of ${meta.arch} (${meta.numClasses} classes, input [batch, 3, ${meta.inputSize}, ${meta.inputSize}]), ${res.bytes} bytes\n`);
        return;
      }
      const calib = parseIntFlag('--calib', o.calib ?? '256', 1, 100000);
      const { graph } = await loadDeployModel(o.model, fmt === 'qonnx' ? 'reference' : 'x86-onnxruntime', { calib });
      const model = exportQuantizedOnnx(graph, { format: fmt as ExportFormat });
      const bytes = encodeModel(model);
      writeFileSync(o.out, bytes);
      const res = { model: o.model, format: fmt, out: o.out, bytes: bytes.length, nodes: model.graph!.node!.length, conversions: graph.conversions };
      if (o.json) process.stdout.write(`${JSON.stringify(res)}\n`);
      else process.stdout.write(`${o.out}: ${fmt}, ${res.nodes} nodes, ${res.bytes} bytes\n  ${graph.conversions.join('\n  ')}\n`);
    });
}
