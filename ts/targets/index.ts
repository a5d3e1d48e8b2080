/**
 * Target profiles (targets/*.json): which preprocessing pipeline and which integer arithmetic per op a
 * deployment target uses. The schema is strict: an unknown key, a value outside its allowed set or a missing
 * field is a {@link TargetSchemaError} naming the file, the field, the allowed values and what was received.
 * Docs: docs/deploy.md.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError, describeValue } from '../util/errors.ts';
import { PIPELINE_IDS } from '../systematic/pipelines.ts';
import { HAZARDS, QUANTIZE_MODES, type Hazard, type QuantizeMode, type Variant } from '../native/intq.ts';

/** The target ids of CONVENTIONS.md, plus the A72-wrap variant of rpi4-tflite. */
export const TARGET_IDS = [
  'reference', 'x86-onnxruntime', 'rpi4-tflite', 'rpi4-tflite-noxnnpack', 'rpi5-tflite', 'jetson-orin-tensorrt', 'jetson-nano-fp16',
  'rpi4-tflite-a72wrap',
] as const;
export type TargetId = (typeof TARGET_IDS)[number];

/** How a target runs a model: integer kernels, the float fake-quant model, or an FP16 engine. */
export const EXECUTIONS = ['integer', 'fake-quant', 'fp16'] as const;
/** Activation codes: uint8 / int8 asymmetric, int8 with zero point 0, or none (float, float16). */
export const ACTIVATIONS = ['uint8', 'int8', 'int8-symmetric', 'float', 'float16'] as const;
/** Weight range: the QAT grid as is, int8 [-128, 127], or the TFLite spec's [-127, 127]. */
export const WEIGHT_RANGES = ['grid', 'int8', 'int8-narrow'] as const;
/** What happens to a -128 weight: kept, or clamped to -127 as the TFLite converter does. */
export const MINUS128 = ['keep', 'clamp'] as const;
export const CONV_VARIANTS = ['float', 'tflite-double', 'tflite-single', 'xnnpack-fp32', 'xnnpack-rndnu', 'ort-mlas', 'onnx-ref', 'trt-gpu', 'fp16-fallback'] as const;
export const ADD_VARIANTS = ['float', 'ort-mlas', 'tflite-double', 'tflite-single', 'xnnpack-fp32', 'xnnpack-rndnu', 'onnx-ref'] as const;
export const POOL_VARIANTS = ['float', 'ort-mlas', 'tflite-double', 'tflite-single'] as const;

export interface TargetArithmetic {
  conv: 'float' | Variant;
  gemm: 'float' | Variant;
  add: (typeof ADD_VARIANTS)[number];
  pool: (typeof POOL_VARIANTS)[number];
  quantize: QuantizeMode;
}

export interface Target {
  id: string;
  description: string;
  device: string;
  runtime: string;
  execution: (typeof EXECUTIONS)[number];
  /** the preprocessing pipeline id (ts/systematic/pipelines.ts) */
  pipeline: string;
  activations: (typeof ACTIVATIONS)[number];
  weights: { range: (typeof WEIGHT_RANGES)[number]; minus128: (typeof MINUS128)[number] };
  arithmetic: TargetArithmetic;
  hazard: Hazard;
  /** tflite-double depthwise convolutions use TFLite's kUpward output rounding */
  depthwiseUpward: boolean;
  /** where it was read from */
  file: string;
}

/** A target file that does not follow the schema (exit code 2). */
export class TargetSchemaError extends UsageError {
  constructor(readonly file: string, readonly field: string, expected: string, received: string) {
    super(`Target file ${file}: expected ${expected} for '${field}' but received ${received}`);
    this.name = 'TargetSchemaError';
  }
}

/** An unknown target id or missing file (exit code 2). */
export class UnknownTargetError extends UsageError {
  constructor(id: string) {
    super(`Expected one of ${listTargets().join(', ')} (or a path to a target .json) for --target but received '${id}'`);
    this.name = 'UnknownTargetError';
  }
}

const HERE = dirname(fileURLToPath(import.meta.url));
/** The folder of the shipped profiles (targets/ at the repository root). */
export const TARGETS_DIR = resolve(HERE, '..', '..', 'targets');

type Check = (file: string, field: string, v: unknown) => unknown;
const str: Check = (file, field, v) => {
  if (typeof v !== 'string' || v.length === 0) throw new TargetSchemaError(file, field, 'a non-empty string', describeValue(v));
  return v;
};
const bool: Check = (file, field, v) => {
  if (typeof v !== 'boolean') throw new TargetSchemaError(file, field, 'true or false', describeValue(v));
  return v;
};
const enumOf = (allowed: readonly string[]): Check => (file, field, v) => {
  if (typeof v !== 'string' || !allowed.includes(v)) throw new TargetSchemaError(file, field, `one of ${allowed.join(', ')}`, describeValue(v));
  return v;
};

function object(file: string, field: string, v: unknown, shape: Record<string, Check | Record<string, Check>>): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new TargetSchemaError(file, field || '<root>', 'an object', describeValue(v));
  const o = v as Record<string, unknown>;
  const keys = Object.keys(shape);
  for (const k of Object.keys(o)) {
    if (!keys.includes(k)) throw new TargetSchemaError(file, field ? `${field}.${k}` : k, `no such key (allowed: ${keys.join(', ')})`, `'${k}'`);
  }
  const out: Record<string, unknown> = {};
  for (const k of keys) {
    const f = field ? `${field}.${k}` : k;
    if (!(k in o)) throw new TargetSchemaError(file, f, 'a value (the field is required)', 'nothing');
    const c = shape[k]!;
    out[k] = typeof c === 'function' ? c(file, f, o[k]) : object(file, f, o[k], c);
  }
  return out;
}

const SCHEMA = {
  id: str,
  description: str,
  device: str,
  runtime: str,
  execution: enumOf(EXECUTIONS),
  pipeline: enumOf(PIPELINE_IDS),
  activations: enumOf(ACTIVATIONS),
  weights: { range: enumOf(WEIGHT_RANGES), minus128: enumOf(MINUS128) },
  arithmetic: { conv: enumOf(CONV_VARIANTS), gemm: enumOf(CONV_VARIANTS), add: enumOf(ADD_VARIANTS), pool: enumOf(POOL_VARIANTS), quantize: enumOf(QUANTIZE_MODES) },
  hazard: enumOf(HAZARDS),
  depthwiseUpward: bool,
};

/**
 * Validates a parsed target object (strict: unknown keys, bad values, missing fields are errors), plus the
 * cross-field rules: TensorRT arithmetic needs symmetric activations; an integer target needs integer
 * activations and an integer conv/gemm variant; the A72 hazard needs int8 activations; depthwiseUpward only
 * with tflite-double.
 * @param v the parsed JSON
 * @param file the file name used in messages
 * @returns the target
 * @throws TargetSchemaError naming the file and field
 * @example
 * parseTarget(JSON.parse(readFileSync('targets/rpi4-tflite.json', 'utf8')), 'rpi4-tflite.json').hazard // 'a72-int16-pair'
 */
export function parseTarget(v: unknown, file: string): Target {
  const t = object(file, '', v, SCHEMA) as unknown as Target;
  const a = t.arithmetic;
  if (t.execution === 'integer') {
    if (t.activations === 'float' || t.activations === 'float16') throw new TargetSchemaError(file, 'activations', 'uint8, int8 or int8-symmetric for an integer target', `'${t.activations}'`);
    for (const k of ['conv', 'gemm'] as const) {
      if (a[k] === 'float' || a[k] === 'fp16-fallback') throw new TargetSchemaError(file, `arithmetic.${k}`, 'an integer requantization variant for an integer target', `'${a[k]}'`);
    }
  }
  if ((a.conv === 'trt-gpu' || a.gemm === 'trt-gpu') && t.activations !== 'int8-symmetric') {
    throw new TargetSchemaError(file, 'activations', "'int8-symmetric' (trt-gpu is symmetric only)", `'${t.activations}'`);
  }
  if (t.hazard === 'a72-int16-pair' && t.activations !== 'int8') throw new TargetSchemaError(file, 'hazard', "'a72-int16-pair' only with int8 activations", `'${t.hazard}' with '${t.activations}'`);
  if (t.hazard === 'maddubs-sat' && t.activations !== 'uint8') throw new TargetSchemaError(file, 'hazard', "'maddubs-sat' only with uint8 activations", `'${t.hazard}' with '${t.activations}'`);
  if (t.depthwiseUpward && a.conv !== 'tflite-double') throw new TargetSchemaError(file, 'depthwiseUpward', 'true only with arithmetic.conv tflite-double', 'true');
  if (t.activations === 'uint8' && (a.add === 'xnnpack-fp32' || a.add === 'xnnpack-rndnu')) {
    // XNNPACK's qs8 add is modelled for int8 codes; uint8 would be qu8 (unmodelled)
    throw new TargetSchemaError(file, 'arithmetic.add', 'a non-XNNPACK add with uint8 activations', `'${a.add}'`);
  }
  return { ...t, file };
}

/**
 * The ids of the shipped profiles (targets/*.json).
 * @returns the ids, sorted
 * @throws never
 * @example
 * listTargets().includes('rpi4-tflite') // true
 */
export function listTargets(): string[] {
  if (!existsSync(TARGETS_DIR)) return [];
  return readdirSync(TARGETS_DIR).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort();
}

/**
 * Loads a target by id (targets/<id>.json) or by path to a .json file.
 * @param idOrPath a shipped id or a file path
 * @returns the validated target
 * @throws UnknownTargetError for an unknown id; TargetSchemaError for an invalid file (a JSON syntax error too)
 * @example
 * loadTarget('x86-onnxruntime').arithmetic.conv // 'ort-mlas'
 */
export function loadTarget(idOrPath: string): Target {
  if (typeof idOrPath !== 'string' || idOrPath.length === 0) throw new UnknownTargetError(String(idOrPath));
  const path = idOrPath.endsWith('.json') ? idOrPath : join(TARGETS_DIR, `${idOrPath}.json`);
  if (!idOrPath.endsWith('.json') && !/^[a-z0-9-]+$/.test(idOrPath)) throw new UnknownTargetError(idOrPath);
  if (!existsSync(path)) {
    if (idOrPath.endsWith('.json')) throw new UsageError(`Target file ${idOrPath} does not exist (--target takes an id: ${listTargets().join(', ')}, or a .json path)`);
    throw new UnknownTargetError(idOrPath);
  }
  const file = idOrPath.endsWith('.json') ? idOrPath : basename(path);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new TargetSchemaError(file, '<root>', 'valid JSON', `a syntax error (${(e as Error).message})`);
  }
  const t = parseTarget(json, file);
  if (!idOrPath.endsWith('.json') && t.id !== idOrPath) throw new TargetSchemaError(file, 'id', `'${idOrPath}' (the file name)`, `'${t.id}'`);
  return t;
}
