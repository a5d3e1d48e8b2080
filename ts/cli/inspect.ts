/**
 * `qrobust inspect <file> [--json]`: what an .onnx or .safetensors file contains. A missing file is a usage
 * error (exit 2); a corrupt one a runtime error (exit 1) naming the file and the problem.
 */
import { extname } from 'node:path';
import { Option } from 'commander';
import type { Command } from 'commander';
import { setQuiet } from '../util/progress.ts';
import { readInputFile } from '../formats/io.ts';
import { DataType, decodeModel, numElements, valueInfoShape } from '../formats/onnx.ts';
import type { OnnxModel, TypeProto, ValueInfo } from '../formats/onnx.ts';
import { decodeSafetensors } from '../formats/safetensors.ts';
import type { SafetensorsFile } from '../formats/safetensors.ts';

/** `inspect --json` for an ONNX model. */
export interface OnnxSummary {
  file: string;
  format: 'onnx';
  bytes: number;
  irVersion: number | null;
  opsets: { domain: string; version: number }[];
  producer: { name: string; version: string };
  inputs: { name: string; elemType: string; shape: (number | string | null)[] | null }[];
  outputs: { name: string; elemType: string; shape: (number | string | null)[] | null }[];
  nodes: number;
  opCounts: Record<string, number>;
  initializers: number;
  parameters: number;
}

/** `inspect --json` for a safetensors file. */
export interface SafetensorsSummary {
  file: string;
  format: 'safetensors';
  bytes: number;
  metadata: Record<string, string> | null;
  tensors: { name: string; dtype: string; shape: number[]; elements: number }[];
  tensorCount: number;
  parameters: number;
}

const ELEM_NAME: Record<number, string> = Object.fromEntries(Object.entries(DataType).map(([k, v]) => [v, k]));

const elemName = (e: number | undefined): string => ELEM_NAME[e ?? 0] ?? String(e);

/** 'FLOAT' for a tensor; 'sparse FLOAT', 'sequence<FLOAT>', 'map<INT64,optional<DOUBLE>>', 'opaque d.n' otherwise. */
function typeText(t: TypeProto | undefined): string {
  if (!t) return 'untyped';
  if (t.tensorType) return elemName(t.tensorType.elemType);
  if (t.sparseTensorType) return `sparse ${elemName(t.sparseTensorType.elemType)}`;
  if (t.sequenceType) return `sequence<${typeText(t.sequenceType.elemType)}>`;
  if (t.mapType) return `map<${elemName(t.mapType.keyType)},${typeText(t.mapType.valueType)}>`;
  if (t.optionalType) return `optional<${typeText(t.optionalType.elemType)}>`;
  if (t.opaqueType) return `opaque ${t.opaqueType.domain ? `${t.opaqueType.domain}.` : ''}${t.opaqueType.name ?? ''}`;
  return 'unknown';
}

function io(v: ValueInfo): OnnxSummary['inputs'][number] {
  return { name: v.name ?? '', elemType: typeText(v.type), shape: valueInfoShape(v) };
}

/**
 * Summarises a decoded ONNX model: graph inputs that are initializers (old exporters list them) are left out.
 * @param m the model
 * @param file its name
 * @param bytes its size
 * @returns the summary printed by `inspect`
 * @throws QrobustError when an initializer has a negative dimension
 * @example
 * summarizeOnnx(readModel('test/.generated/torch/resnet18.onnx'), 'resnet18.onnx', 0).nodes // => 65
 */
export function summarizeOnnx(m: OnnxModel, file: string, bytes: number): OnnxSummary {
  const g = m.graph ?? {};
  const inits = g.initializer ?? [];
  const initNames = new Set(inits.map((t) => t.name));
  const opCounts: Record<string, number> = {};
  for (const n of g.node ?? []) {
    const key = n.domain ? `${n.domain}.${n.opType ?? ''}` : n.opType ?? '';
    opCounts[key] = (opCounts[key] ?? 0) + 1;
  }
  const sorted = Object.fromEntries(Object.entries(opCounts).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)));
  let parameters = 0;
  for (const t of inits) parameters += numElements(t.dims);
  return {
    file,
    format: 'onnx',
    bytes,
    irVersion: m.irVersion === undefined ? null : Number(m.irVersion),
    opsets: (m.opsetImport ?? []).map((o) => ({ domain: o.domain || 'ai.onnx', version: Number(o.version ?? 0) })),
    producer: { name: m.producerName ?? '', version: m.producerVersion ?? '' },
    inputs: (g.input ?? []).filter((v) => !initNames.has(v.name)).map(io),
    outputs: (g.output ?? []).map(io),
    nodes: (g.node ?? []).length,
    opCounts: sorted,
    initializers: inits.length,
    parameters,
  };
}

/**
 * Summarises a decoded safetensors file.
 * @param f the file
 * @param file its name
 * @param bytes its size
 * @returns the summary printed by `inspect`
 * @throws never
 * @example
 * summarizeSafetensors(readSafetensors('test/.generated/torch/dtypes.safetensors'), 'dtypes', 0).parameters // => 53
 */
export function summarizeSafetensors(f: SafetensorsFile, file: string, bytes: number): SafetensorsSummary {
  const tensors = [...f.tensors].map(([name, t]) => ({ name, dtype: t.dtype, shape: t.shape, elements: t.shape.reduce((a, d) => a * d, 1) }));
  return {
    file,
    format: 'safetensors',
    bytes,
    metadata: f.metadata ? Object.fromEntries(f.metadata) : null,
    tensors,
    tensorCount: tensors.length,
    parameters: tensors.reduce((a, t) => a + t.elements, 0),
  };
}

const shapeText = (s: (number | string | null)[] | null): string => (s ? ` [${s.map((d) => d ?? '?').join(', ')}]` : '');

function renderOnnx(s: OnnxSummary): string {
  const lines = [
    `${s.file}: ONNX model, ${s.bytes} bytes, IR ${s.irVersion ?? '?'}, opsets ${s.opsets.map((o) => `${o.domain} ${o.version}`).join(', ') || 'none'}, producer ${s.producer.name || '?'} ${s.producer.version}`.trimEnd(),
    ...s.inputs.map((v) => `  input   ${v.name}: ${v.elemType}${shapeText(v.shape)}`),
    ...s.outputs.map((v) => `  output  ${v.name}: ${v.elemType}${shapeText(v.shape)}`),
    `  nodes   ${s.nodes}${s.nodes ? ` (${Object.entries(s.opCounts).map(([k, v]) => `${k} ${v}`).join(', ')})` : ''}`,
    `  initializers ${s.initializers}, parameters ${s.parameters.toLocaleString('en-US')}`,
  ];
  return lines.join('\n');
}

function renderSafetensors(s: SafetensorsSummary): string {
  const w = Math.max(4, ...s.tensors.map((t) => t.name.length));
  const lines = [`${s.file}: safetensors, ${s.bytes} bytes, ${s.tensorCount} tensors, parameters ${s.parameters.toLocaleString('en-US')}`];
  if (s.metadata) for (const [k, v] of Object.entries(s.metadata)) lines.push(`  metadata ${k} = ${v}`);
  for (const t of s.tensors) lines.push(`  ${t.name.padEnd(w)}  ${t.dtype.padEnd(4)} [${t.shape.join(', ')}]`);
  return lines.join('\n');
}

/**
 * Reads a file and summarises it as ONNX or safetensors: by extension (.onnx, .safetensors), otherwise by
 * content (a safetensors header starts with `{` at byte 8).
 * @param file the path
 * @returns the summary
 * @throws UsageError when the file does not exist; QrobustError naming the file when it is corrupt
 * @example
 * inspectFile('test/.generated/torch/resnet18.onnx').format // => 'onnx'
 */
export function inspectFile(file: string): OnnxSummary | SafetensorsSummary {
  const bytes = readInputFile(file);
  const ext = extname(file).toLowerCase();
  const isSafetensors = ext === '.safetensors' || (ext !== '.onnx' && bytes.length > 8 && bytes[8] === 0x7b);
  if (isSafetensors) return summarizeSafetensors(decodeSafetensors(bytes, file), file, bytes.length);
  return summarizeOnnx(decodeModel(bytes, file), file, bytes.length);
}

/**
 * Adds `inspect <file> [--json]` to the program.
 * @param program the root command
 * @throws never
 * @example
 * const program = new Command();
 * registerInspectCommand(program);
 * program.commands[0].name() // => 'inspect'
 */
export function registerInspectCommand(program: Command): void {
  program
    .command('inspect')
    .description('what an .onnx or .safetensors file holds: IR/opsets/producer, inputs and outputs, ops, parameters; or tensors and metadata')
    .argument('<file>', 'an .onnx or .safetensors file')
    .addOption(new Option('--json', 'print one JSON object to stdout'))
    .action((file: string, opts: { json?: boolean }) => {
      if (opts.json) setQuiet(true);
      const s = inspectFile(file);
      if (opts.json) process.stdout.write(`${JSON.stringify(s)}\n`);
      else process.stdout.write(`${s.format === 'onnx' ? renderOnnx(s) : renderSafetensors(s)}\n`);
    });
}
