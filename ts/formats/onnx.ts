/**
 * ONNX ModelProto reader / writer over protobufjs with our own message definitions
 * ({@link ONNX_DESCRIPTOR}, written from the ONNX specification), plus the element-type table, tensor
 * packing (INT4 / UINT4 / INT2 / UINT2 low bits first) and small graph builders.
 *
 * Representation (see docs/formats.md):
 * - Field names are the specification's in camelCase: `model.graph.node[0].opType`, `tensor.rawData`.
 * - int64 / uint64 fields are JS numbers when they fit in 53 bits, else `bigint` (lossless both ways).
 * - Decoded messages keep unknown fields, presence, field order and packing, so for files written by
 *   protobuf C++ (torch, onnx), `encodeModel(decodeModel(bytes))` equals `bytes` byte for byte.
 * - `bytes` fields (`rawData`, string attributes) are views into the input buffer, not copies.
 */
import protobuf from 'protobufjs';
import type { Type as PbType, Field as PbField } from 'protobufjs';
import { QrobustError, UsageError, invalidOption } from '../util/errors.ts';
import { DataType, AttributeType, DataLocation, ONNX_DESCRIPTOR } from './onnx-descriptor.ts';
import type { DataTypeName } from './onnx-descriptor.ts';
import { readInputFile, writeOutputFile } from './io.ts';

export { DataType, AttributeType, DataLocation, ONNX_DESCRIPTOR };
export type { DataTypeName };

// ---------------------------------------------------------------------------------------------------
// Message shapes (all fields optional, as in proto2)

/** An int64 / uint64 field value: a number when |v| ≤ 2^53 − 1, else a bigint. */
export type Int64 = number | bigint;

/** `StringStringEntryProto`. */
export interface StringStringEntry { key?: string; value?: string }
/** `OperatorSetIdProto`: `domain` '' (or absent) is the default `ai.onnx` domain. */
export interface OperatorSetId { domain?: string; version?: Int64 }
/** `TensorProto.Segment`. */
export interface TensorSegment { begin?: Int64; end?: Int64 }

/** `TensorProto`. Exactly one of `rawData`, a typed `*Data` field or `externalData` holds the values. */
export interface TensorProto {
  dims?: Int64[];
  dataType?: number;
  segment?: TensorSegment;
  floatData?: number[];
  int32Data?: number[];
  stringData?: Uint8Array[];
  int64Data?: Int64[];
  name?: string;
  docString?: string;
  rawData?: Uint8Array;
  externalData?: StringStringEntry[];
  dataLocation?: number;
  doubleData?: number[];
  uint64Data?: Int64[];
  metadataProps?: StringStringEntry[];
}

/** `SparseTensorProto`. */
export interface SparseTensorProto { values?: TensorProto; indices?: TensorProto; dims?: Int64[] }

/** `TensorShapeProto.Dimension`: a fixed size, a symbolic name, or neither (unknown). */
export interface Dimension { dimValue?: Int64; dimParam?: string; denotation?: string }
/** `TensorShapeProto`. */
export interface TensorShape { dim?: Dimension[] }

/** `TypeProto`: exactly one of the `*Type` members. */
export interface TypeProto {
  tensorType?: { elemType?: number; shape?: TensorShape };
  sequenceType?: { elemType?: TypeProto };
  mapType?: { keyType?: number; valueType?: TypeProto };
  optionalType?: { elemType?: TypeProto };
  sparseTensorType?: { elemType?: number; shape?: TensorShape };
  opaqueType?: { domain?: string; name?: string };
  denotation?: string;
}

/** `ValueInfoProto`. */
export interface ValueInfo { name?: string; type?: TypeProto; docString?: string; metadataProps?: StringStringEntry[] }

/** `AttributeProto`; `type` ({@link AttributeType}) says which value field is used. */
export interface AttributeProto {
  name?: string;
  refAttrName?: string;
  docString?: string;
  type?: number;
  f?: number;
  i?: Int64;
  s?: Uint8Array;
  t?: TensorProto;
  g?: GraphProto;
  sparseTensor?: SparseTensorProto;
  tp?: TypeProto;
  floats?: number[];
  ints?: Int64[];
  strings?: Uint8Array[];
  tensors?: TensorProto[];
  graphs?: GraphProto[];
  sparseTensors?: SparseTensorProto[];
  typeProtos?: TypeProto[];
}

/** `NodeProto`. */
export interface NodeProto {
  input?: string[];
  output?: string[];
  name?: string;
  opType?: string;
  domain?: string;
  overload?: string;
  attribute?: AttributeProto[];
  docString?: string;
  metadataProps?: StringStringEntry[];
}

/** `TensorAnnotation`. */
export interface TensorAnnotation { tensorName?: string; quantParameterTensorNames?: StringStringEntry[] }

/** `GraphProto`. */
export interface GraphProto {
  node?: NodeProto[];
  name?: string;
  initializer?: TensorProto[];
  sparseInitializer?: SparseTensorProto[];
  docString?: string;
  input?: ValueInfo[];
  output?: ValueInfo[];
  valueInfo?: ValueInfo[];
  quantizationAnnotation?: TensorAnnotation[];
  metadataProps?: StringStringEntry[];
}

/** `TrainingInfoProto`. */
export interface TrainingInfo {
  initialization?: GraphProto;
  algorithm?: GraphProto;
  initializationBinding?: StringStringEntry[];
  updateBinding?: StringStringEntry[];
}

/** `FunctionProto`. */
export interface FunctionProto {
  name?: string;
  input?: string[];
  output?: string[];
  attribute?: string[];
  attributeProto?: AttributeProto[];
  node?: NodeProto[];
  docString?: string;
  opsetImport?: OperatorSetId[];
  domain?: string;
  overload?: string;
  valueInfo?: ValueInfo[];
  metadataProps?: StringStringEntry[];
}

/** `ModelProto`, the root of an .onnx file. */
export interface OnnxModel {
  irVersion?: Int64;
  opsetImport?: OperatorSetId[];
  producerName?: string;
  producerVersion?: string;
  domain?: string;
  modelVersion?: Int64;
  docString?: string;
  graph?: GraphProto;
  metadataProps?: StringStringEntry[];
  trainingInfo?: TrainingInfo[];
  functions?: FunctionProto[];
}

// ---------------------------------------------------------------------------------------------------
// Codec

const { Root, Reader } = protobuf;
const root = Root.fromJSON(ONNX_DESCRIPTOR);
root.resolveAll();
const ModelType = root.lookupType('onnx.ModelProto');

const LONG_TYPES = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);
const WIRE_OF: Record<string, number> = {
  double: 1, float: 5, int32: 0, uint32: 0, sint32: 0, fixed32: 5, sfixed32: 5,
  int64: 0, uint64: 0, sint64: 0, fixed64: 1, sfixed64: 1, bool: 0, string: 2, bytes: 2,
};

interface LongLike { low: number; high: number; unsigned?: boolean }
function isLongLike(v: unknown): v is LongLike {
  return typeof v === 'object' && v !== null && typeof (v as LongLike).low === 'number' && typeof (v as LongLike).high === 'number';
}
function fromLong(v: unknown, unsigned: boolean): Int64 {
  if (typeof v === 'number') return v;
  if (!isLongLike(v)) return v as Int64;
  const hi = v.high >>> 0;
  const lo = v.low >>> 0;
  const big = (BigInt(hi) << 32n) | BigInt(lo);
  const val = unsigned ? big : BigInt.asIntN(64, big);
  return val >= -9007199254740991n && val <= 9007199254740991n ? Number(val) : val;
}
function toLongBits(v: bigint): LongLike {
  const u = BigInt.asUintN(64, v);
  return { low: Number(u & 0xffffffffn) | 0, high: Number(u >> 32n) | 0 };
}

function fieldWire(f: PbField): number {
  if (f.resolvedType instanceof protobuf.Type) return 2;
  if (f.resolvedType instanceof protobuf.Enum) return 0;
  return WIRE_OF[f.type] ?? -1;
}

/** Reads the tag at the start of a raw unknown-field chunk. */
function readTag(raw: Uint8Array): { field: number; wire: number } {
  let v = 0;
  let shift = 0;
  for (let i = 0; i < raw.length && i < 5; i++) {
    v += (raw[i]! & 0x7f) * 2 ** shift;
    if (!(raw[i]! & 0x80)) break;
    shift += 7;
  }
  return { field: Math.floor(v / 8), wire: v % 8 };
}

type Msg = Record<string, unknown> & { $unknowns?: Uint8Array[] };
const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

/**
 * After protobufjs decoding: int64 Longs become numbers / bigints, and a known field that arrived with the
 * wrong wire type (protobufjs files it under unknowns) becomes an error naming the field.
 */
function fixDecoded(msg: Msg, type: PbType, file: string, path: string): void {
  const unknowns = msg.$unknowns;
  if (unknowns) {
    for (const raw of unknowns) {
      const { field, wire } = readTag(raw);
      const f = type.fieldsById[field];
      if (f) {
        const expected = fieldWire(f);
        const what = expected === wire || (f.repeated && wire === 2)
          ? 'a value outside its enum'
          : `protobuf wire type ${wire}, expected ${expected}`;
        throw new QrobustError(`${file}: not a valid ONNX model: ${path}.${f.name} (field ${field} of ${type.name}) has ${what}`);
      }
    }
  }
  for (const f of type.fieldsArray) {
    if (!hasOwn(msg, f.name)) continue;
    const v = msg[f.name];
    if (f.resolvedType instanceof protobuf.Type) {
      const t = f.resolvedType;
      if (f.repeated) {
        const arr = v as Msg[];
        for (let i = 0; i < arr.length; i++) fixDecoded(arr[i]!, t, file, `${path}.${f.name}[${i}]`);
      } else fixDecoded(v as Msg, t, file, `${path}.${f.name}`);
    } else if (LONG_TYPES.has(f.type)) {
      const unsigned = f.type === 'uint64' || f.type === 'fixed64';
      if (f.repeated) {
        const arr = v as unknown[];
        for (let i = 0; i < arr.length; i++) arr[i] = fromLong(arr[i], unsigned);
      } else msg[f.name] = fromLong(v, unsigned);
    }
  }
}

/** Returns `msg` or a shallow copy with bigints turned into the {low, high} pairs protobufjs writes. */
function toWire(msg: Msg, type: PbType): Msg {
  let out: Msg | null = null;
  const set = (k: string, v: unknown): void => {
    if (!out) {
      out = { ...msg };
      if (msg.$unknowns) out.$unknowns = msg.$unknowns;
    }
    out[k] = v;
  };
  for (const f of type.fieldsArray) {
    if (!hasOwn(msg, f.name)) continue;
    const v = msg[f.name];
    if (v === undefined || v === null) continue;
    if (f.resolvedType instanceof protobuf.Type) {
      const t = f.resolvedType;
      if (f.repeated) {
        const arr = v as Msg[];
        let copy: Msg[] | null = null;
        for (let i = 0; i < arr.length; i++) {
          const w = toWire(arr[i]!, t);
          if (w !== arr[i]) (copy ??= arr.slice())[i] = w;
        }
        if (copy) set(f.name, copy);
      } else {
        const w = toWire(v as Msg, t);
        if (w !== v) set(f.name, w);
      }
    } else if (LONG_TYPES.has(f.type)) {
      if (f.repeated) {
        const arr = v as unknown[];
        if (arr.some((x) => typeof x === 'bigint')) set(f.name, arr.map((x) => (typeof x === 'bigint' ? toLongBits(x) : x)));
      } else if (typeof v === 'bigint') set(f.name, toLongBits(v));
    }
  }
  return out ?? msg;
}

/**
 * Decodes an ONNX ModelProto.
 * @param bytes the file's bytes (kept alive: `rawData` fields are views into it)
 * @param file the name used in error messages
 * @returns the model; int64 fields as numbers (bigints beyond 2^53), bytes as views
 * @throws QrobustError naming `file` when the bytes are not a valid ModelProto (truncated, wrong wire
 *   type, nesting too deep, no `irVersion`)
 * @example
 * const m = decodeModel(readFileSync('test/.generated/torch/resnet18.onnx'), 'resnet18.onnx');
 * m.graph.node.length // => 65
 * m.graph.initializer[0].dims // => [1000, 512]
 */
export function decodeModel(bytes: Uint8Array, file = '<bytes>'): OnnxModel {
  if (!(bytes instanceof Uint8Array)) throw invalidOption('bytes', 'a Uint8Array', bytes);
  let msg: Msg;
  try {
    const r = Reader.create(bytes);
    r.discardUnknown = false;
    msg = ModelType.decode(r) as unknown as Msg;
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    throw new QrobustError(`${file}: not a valid ONNX model: protobuf decoding failed (${detail}) in ${bytes.length} bytes`);
  }
  fixDecoded(msg, ModelType, file, 'model');
  if (!hasOwn(msg, 'irVersion')) throw new QrobustError(`${file}: not a valid ONNX model: no ir_version (field 1 of ModelProto)`);
  return msg as OnnxModel;
}

/**
 * Encodes a model as ModelProto bytes, fields in field-number order, unknown fields of decoded messages
 * written back last.
 * @param m a model from {@link decodeModel} or {@link makeModel} (plain objects work)
 * @returns the serialized bytes
 * @throws QrobustError when protobufjs rejects a value (e.g. a string where bytes are expected)
 * @example
 * const bytes = encodeModel(makeModel(makeGraph([makeNode('Relu', ['x'], ['y'])], 'g',
 *   [makeValueInfo('x', DataType.FLOAT, [2])], [makeValueInfo('y', DataType.FLOAT, [2])])));
 * decodeModel(bytes).graph.node[0].opType // => 'Relu'
 */
export function encodeModel(m: OnnxModel): Uint8Array {
  try {
    const w = ModelType.encode(toWire(m as Msg, ModelType) as never).finish();
    return w;
  } catch (err) {
    throw new QrobustError(`Cannot encode ONNX model: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/**
 * Reads and decodes an .onnx file.
 * @param path the file
 * @throws UsageError when the file does not exist; QrobustError naming the file when it is corrupt
 * @example
 * readModel('test/.generated/torch/resnet18.onnx').producerName // => 'pytorch'
 */
export function readModel(path: string): OnnxModel {
  return decodeModel(readInputFile(path), path);
}

/**
 * Encodes a model and writes it to `path`.
 * @param path the output file
 * @param m the model
 * @throws QrobustError when encoding or writing fails
 * @example
 * writeModel('test/.generated/formats/relu.onnx', makeModel(makeGraph([makeNode('Relu', ['x'], ['y'])], 'g', [], [])));
 * readModel('test/.generated/formats/relu.onnx').graph.node[0].opType // => 'Relu'
 */
export function writeModel(path: string, m: OnnxModel): void {
  writeOutputFile(path, encodeModel(m));
}

// ---------------------------------------------------------------------------------------------------
// Element types and tensor data

/** Every typed array {@link tensorToArray} can return. */
export type TypedArray =
  | Float32Array | Float64Array | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array
  | BigInt64Array | BigUint64Array;

/**
 * Per element type: storage bits per element, the typed `*Data` field used when `rawData` is absent
 * (ONNX spec, TensorProto), and what {@link tensorToArray} returns.
 */
export interface ElementTypeInfo {
  /** bits per element in `rawData` (complex: both parts); 0 for STRING */
  bits: number;
  /** the typed field holding the values when `rawData` is absent */
  field: 'floatData' | 'int32Data' | 'int64Data' | 'doubleData' | 'uint64Data' | 'stringData' | null;
  /** what tensorToArray returns: the storage type (raw bits for 16/8/4-bit floats) */
  array: string;
}

/** The element-type table, keyed by {@link DataType} name. */
export const ELEMENT_TYPES = {
  UNDEFINED: { bits: 0, field: null, array: 'none' },
  FLOAT: { bits: 32, field: 'floatData', array: 'Float32Array' },
  UINT8: { bits: 8, field: 'int32Data', array: 'Uint8Array' },
  INT8: { bits: 8, field: 'int32Data', array: 'Int8Array' },
  UINT16: { bits: 16, field: 'int32Data', array: 'Uint16Array' },
  INT16: { bits: 16, field: 'int32Data', array: 'Int16Array' },
  INT32: { bits: 32, field: 'int32Data', array: 'Int32Array' },
  INT64: { bits: 64, field: 'int64Data', array: 'BigInt64Array' },
  STRING: { bits: 0, field: 'stringData', array: 'string[]' },
  BOOL: { bits: 8, field: 'int32Data', array: 'Uint8Array (0/1)' },
  FLOAT16: { bits: 16, field: 'int32Data', array: 'Uint16Array (IEEE half bits)' },
  DOUBLE: { bits: 64, field: 'doubleData', array: 'Float64Array' },
  UINT32: { bits: 32, field: 'uint64Data', array: 'Uint32Array' },
  UINT64: { bits: 64, field: 'uint64Data', array: 'BigUint64Array' },
  COMPLEX64: { bits: 64, field: 'floatData', array: 'Float32Array (re, im interleaved)' },
  COMPLEX128: { bits: 128, field: 'doubleData', array: 'Float64Array (re, im interleaved)' },
  BFLOAT16: { bits: 16, field: 'int32Data', array: 'Uint16Array (bfloat16 bits)' },
  FLOAT8E4M3FN: { bits: 8, field: 'int32Data', array: 'Uint8Array (bits)' },
  FLOAT8E4M3FNUZ: { bits: 8, field: 'int32Data', array: 'Uint8Array (bits)' },
  FLOAT8E5M2: { bits: 8, field: 'int32Data', array: 'Uint8Array (bits)' },
  FLOAT8E5M2FNUZ: { bits: 8, field: 'int32Data', array: 'Uint8Array (bits)' },
  UINT4: { bits: 4, field: 'int32Data', array: 'Uint8Array (one value per element)' },
  INT4: { bits: 4, field: 'int32Data', array: 'Int8Array (sign-extended)' },
  FLOAT4E2M1: { bits: 4, field: 'int32Data', array: 'Uint8Array (4-bit codes)' },
  FLOAT8E8M0: { bits: 8, field: 'int32Data', array: 'Uint8Array (bits)' },
  UINT2: { bits: 2, field: 'int32Data', array: 'Uint8Array (one value per element)' },
  INT2: { bits: 2, field: 'int32Data', array: 'Int8Array (sign-extended)' },
} as const satisfies Record<DataTypeName, ElementTypeInfo>;

const NAME_OF: Record<number, DataTypeName> = Object.fromEntries(
  Object.entries(DataType).map(([k, v]) => [v, k as DataTypeName]),
);

/**
 * The name of an element type number.
 * @param dataType a {@link DataType} value
 * @throws QrobustError for a number that is not an ONNX element type
 * @example
 * dataTypeName(22) // => 'INT4'
 */
export function dataTypeName(dataType: number): DataTypeName {
  const n = NAME_OF[dataType];
  if (n === undefined) throw new QrobustError(`Unknown ONNX element type ${dataType} (known: 0..26)`);
  return n;
}

/** The sub-byte integer layouts: ONNX packs element 0 into the lowest bits of byte 0. */
const SUBBYTE: Partial<Record<DataTypeName, { bits: 2 | 4; signed: boolean; min: number; max: number }>> = {
  UINT4: { bits: 4, signed: false, min: 0, max: 15 },
  INT4: { bits: 4, signed: true, min: -8, max: 7 },
  FLOAT4E2M1: { bits: 4, signed: false, min: 0, max: 15 },
  UINT2: { bits: 2, signed: false, min: 0, max: 3 },
  INT2: { bits: 2, signed: true, min: -2, max: 1 },
};

/**
 * Packs small integers into bytes, element 0 in the lowest bits (the ONNX layout of INT4/UINT4/INT2/UINT2).
 * @param values one integer per element, already in range
 * @param bits 4 or 2
 * @returns ceil(n·bits/8) bytes; unused high bits of the last byte are zero
 * @throws never
 * @example
 * packSubByte([1, -1, 3], 4) // => new Uint8Array([0xf1, 0x03])
 */
export function packSubByte(values: ArrayLike<number>, bits: 2 | 4): Uint8Array {
  const per = 8 / bits;
  const mask = (1 << bits) - 1;
  const out = new Uint8Array(Math.ceil(values.length / per));
  for (let i = 0; i < values.length; i++) out[(i / per) | 0]! |= (values[i]! & mask) << ((i % per) * bits);
  return out;
}

/**
 * Unpacks `count` elements of `bits` bits from `bytes` (element 0 in the lowest bits).
 * @param bytes packed bytes
 * @param count number of elements
 * @param bits 4 or 2
 * @param signed sign-extend (INT4, INT2) into an Int8Array; else a Uint8Array
 * @throws QrobustError when `bytes` is too short
 * @example
 * unpackSubByte(new Uint8Array([0xf1, 0x03]), 3, 4, true) // => new Int8Array([1, -1, 3])
 */
export function unpackSubByte(bytes: Uint8Array, count: number, bits: 2 | 4, signed: boolean): Int8Array | Uint8Array {
  const per = 8 / bits;
  if (bytes.length < Math.ceil(count / per)) throw new QrobustError(`Packed ${bits}-bit data has ${bytes.length} bytes, expected ${Math.ceil(count / per)} for ${count} elements`);
  const out = signed ? new Int8Array(count) : new Uint8Array(count);
  const mask = (1 << bits) - 1;
  const sh = 32 - bits;
  for (let i = 0; i < count; i++) {
    const v = (bytes[(i / per) | 0]! >> ((i % per) * bits)) & mask;
    out[i] = signed ? (v << sh) >> sh : v;
  }
  return out;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/**
 * float32 → IEEE half bits, rounding to nearest even (NaN stays NaN, overflow → ±inf).
 * @param v the value
 * @throws never
 * @example
 * float32ToFloat16Bits(1) // => 0x3c00
 */
export function float32ToFloat16Bits(v: number): number {
  f32[0] = v;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 | (mant >>> 13) : 0);
  const e = exp - 112; // rebias 127 → 15
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (h & 1))) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1))) h++; // a carry into the exponent is the right result
  return sign | h;
}

/**
 * IEEE half bits → number.
 * @param h 16-bit pattern
 * @throws never
 * @example
 * float16BitsToFloat32(0xc000) // => -2
 */
export function float16BitsToFloat32(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/**
 * float32 → bfloat16 bits, rounding to nearest even.
 * @param v the value
 * @throws never
 * @example
 * float32ToBFloat16Bits(1) // => 0x3f80
 */
export function float32ToBFloat16Bits(v: number): number {
  f32[0] = v;
  const x = u32[0]!;
  if ((x & 0x7f800000) === 0x7f800000 && x & 0x7fffff) return (x >>> 16) | 0x40;
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

/**
 * bfloat16 bits → number.
 * @param b 16-bit pattern
 * @throws never
 * @example
 * bfloat16BitsToFloat32(0x3f80) // => 1
 */
export function bfloat16BitsToFloat32(b: number): number {
  u32[0] = (b & 0xffff) << 16;
  return f32[0]!;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Little-endian bytes of a typed array (a copy). */
function leBytes(a: TypedArray): Uint8Array {
  const out = new Uint8Array(a.byteLength);
  out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  if (!LITTLE_ENDIAN && a.BYTES_PER_ELEMENT > 1) swapBytes(out, a.BYTES_PER_ELEMENT);
  return out;
}
function swapBytes(b: Uint8Array, size: number): void {
  for (let i = 0; i < b.length; i += size) b.subarray(i, i + size).reverse();
}

/** A typed view (zero-copy when aligned and little-endian host) of little-endian raw bytes. */
function viewLE<T extends TypedArray>(raw: Uint8Array, Ctor: { new (b: ArrayBufferLike, o: number, n: number): T; BYTES_PER_ELEMENT: number }, n: number): T {
  const size = Ctor.BYTES_PER_ELEMENT;
  if (LITTLE_ENDIAN && raw.byteOffset % size === 0) return new Ctor(raw.buffer, raw.byteOffset, n);
  const copy = new Uint8Array(raw.subarray(0, n * size)); // a real copy (Buffer#slice is a view)
  if (!LITTLE_ENDIAN) swapBytes(copy, size);
  return new Ctor(copy.buffer, 0, n);
}

/**
 * Number of elements of a tensor (product of dims; 1 for a scalar).
 * @param dims the dims
 * @throws QrobustError for negative or non-integer dims
 * @example
 * numElements([2, 3]) // => 6
 */
export function numElements(dims: readonly Int64[] | undefined): number {
  let n = 1;
  for (const d of dims ?? []) {
    const v = Number(d);
    if (!Number.isInteger(v) || v < 0) throw new QrobustError(`Tensor dimension ${String(d)} is not a non-negative integer`);
    n *= v;
  }
  return n;
}

function checkInts(name: string, data: ArrayLike<number | bigint>, lo: number, hi: number): number[] {
  const out = new Array<number>(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = Number(data[i]);
    if (!Number.isInteger(v) || v < lo || v > hi) throw invalidOption(`${name}[${i}]`, `integer ${lo}..${hi}`, data[i]);
    out[i] = v;
  }
  return out;
}

/**
 * Builds a TensorProto with `rawData` (little-endian). Values are given in the element type's natural form:
 * numbers for float / integer types (FLOAT16 / BFLOAT16 numbers are rounded to nearest even; a Uint16Array is
 * taken as raw bits), BigInt64Array / bigints or integral numbers for INT64 / UINT64, integers in range for
 * INT4 (-8..7), UINT4 (0..15), INT2 (-2..1), UINT2 (0..3) which are packed low bits first, a Uint8Array of
 * bit patterns for the float8 types, FLOAT8E8M0 and FLOAT4E2M1 (4-bit codes, packed).
 * @param name the tensor's name
 * @param dataType a {@link DataType} value
 * @param dims the shape ([] for a scalar)
 * @param data product(dims) values (twice that for COMPLEX64/128: re, im interleaved)
 * @returns the tensor
 * @throws UsageError when the count does not match the dims, a value is out of range, or the type is STRING/UNDEFINED
 * @example
 * const w = tensorFromArray('w', DataType.INT4, [3], [1, -1, 3]);
 * w.rawData // => new Uint8Array([0xf1, 0x03])
 */
export function tensorFromArray(name: string, dataType: number, dims: readonly number[], data: TypedArray | readonly number[] | readonly bigint[]): TensorProto {
  const tname = NAME_OF[dataType];
  if (tname === undefined || tname === 'UNDEFINED' || tname === 'STRING') throw invalidOption(`dataType of tensor ${name}`, 'an ONNX numeric element type (1..26, not 8)', dataType);
  for (const d of dims) if (!Number.isInteger(d) || d < 0) throw invalidOption(`dims of tensor ${name}`, 'non-negative integers', d);
  const n = numElements(dims);
  const complex = tname === 'COMPLEX64' || tname === 'COMPLEX128';
  const expected = complex ? 2 * n : n;
  if (data.length !== expected) throw new UsageError(`Expected ${expected} values for tensor ${name} of shape [${dims.join(', ')}] but received ${data.length}`);
  const arr = data as ArrayLike<number>;
  let raw: Uint8Array;
  const sub = SUBBYTE[tname];
  if (sub) {
    raw = packSubByte(checkInts(name, data as ArrayLike<number | bigint>, sub.min, sub.max), sub.bits);
  } else {
    switch (tname) {
      case 'FLOAT': case 'COMPLEX64': raw = leBytes(data instanceof Float32Array ? data : Float32Array.from(arr, Number)); break;
      case 'DOUBLE': case 'COMPLEX128': raw = leBytes(data instanceof Float64Array ? data : Float64Array.from(arr, Number)); break;
      case 'INT8': raw = leBytes(Int8Array.from(checkInts(name, arr, -128, 127))); break;
      case 'UINT8': raw = leBytes(Uint8Array.from(checkInts(name, arr, 0, 255))); break;
      case 'BOOL': raw = leBytes(Uint8Array.from(checkInts(name, arr, 0, 1))); break;
      case 'INT16': raw = leBytes(Int16Array.from(checkInts(name, arr, -32768, 32767))); break;
      case 'UINT16': raw = leBytes(Uint16Array.from(checkInts(name, arr, 0, 65535))); break;
      case 'INT32': raw = leBytes(Int32Array.from(checkInts(name, arr, -2147483648, 2147483647))); break;
      case 'UINT32': raw = leBytes(Uint32Array.from(checkInts(name, arr, 0, 4294967295))); break;
      case 'INT64': case 'UINT64': {
        const big = tname === 'INT64' ? new BigInt64Array(n) : new BigUint64Array(n);
        for (let i = 0; i < n; i++) {
          const v = (data as ArrayLike<number | bigint>)[i]!;
          if (typeof v === 'number' && !Number.isSafeInteger(v)) throw invalidOption(`${name}[${i}]`, 'a safe integer or a bigint', v);
          const b = BigInt(v);
          const ok = tname === 'INT64' ? BigInt.asIntN(64, b) === b : BigInt.asUintN(64, b) === b;
          if (!ok) throw invalidOption(`${name}[${i}]`, `a ${tname === 'INT64' ? 'signed' : 'unsigned'} 64-bit integer`, v);
          big[i] = b;
        }
        raw = leBytes(big);
        break;
      }
      case 'FLOAT16': case 'BFLOAT16': {
        if (data instanceof Uint16Array) raw = leBytes(data);
        else {
          const conv = tname === 'FLOAT16' ? float32ToFloat16Bits : float32ToBFloat16Bits;
          raw = leBytes(Uint16Array.from(arr, (v) => conv(Number(v))));
        }
        break;
      }
      default: // float8 family and FLOAT8E8M0: bit patterns
        if (!(data instanceof Uint8Array)) throw invalidOption(`data of tensor ${name}`, `a Uint8Array of ${tname} bit patterns`, data);
        raw = new Uint8Array(data);
    }
  }
  return { dims: [...dims], dataType, name, rawData: raw };
}

/**
 * The values of a tensor as a typed array (see {@link ELEMENT_TYPES} for each type's array), read from
 * `rawData` (a zero-copy view when aligned) or from the typed `*Data` field. Sub-byte types are unpacked
 * to one element per byte: Int8Array (INT4, INT2, sign-extended) or Uint8Array (UINT4, UINT2, FLOAT4E2M1).
 * In `int32Data`, each int32 of a 4-/2-bit tensor holds one packed byte (as the onnx Python helpers write it).
 * @param t the tensor
 * @returns the values (string[] for STRING)
 * @throws QrobustError naming the tensor for external data, unknown types or a byte count that does not
 *   match the dims
 * @example
 * tensorToArray(tensorFromArray('w', DataType.UINT2, [5], [0, 1, 2, 3, 1])) // => new Uint8Array([0, 1, 2, 3, 1])
 */
export function tensorToArray(t: TensorProto): TypedArray | string[] {
  const label = `tensor '${t.name ?? ''}'`;
  const dt = t.dataType ?? 0;
  const tname = NAME_OF[dt];
  if (tname === undefined || tname === 'UNDEFINED') throw new QrobustError(`${label}: unknown element type ${dt}`);
  if (t.dataLocation === DataLocation.EXTERNAL || (t.externalData?.length ?? 0) > 0) {
    const loc = t.externalData?.find((e) => e.key === 'location')?.value ?? '?';
    throw new QrobustError(`${label}: data is stored externally (location ${loc}); load it with its external file`);
  }
  const info = ELEMENT_TYPES[tname];
  const n = numElements(t.dims);
  if (tname === 'STRING') return (t.stringData ?? []).map((b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8'));
  const complex = tname === 'COMPLEX64' || tname === 'COMPLEX128';
  const count = complex ? 2 * n : n;
  const sub = SUBBYTE[tname];
  const raw = t.rawData;
  if (raw !== undefined && raw !== null && (raw.length > 0 || n === 0)) {
    const bytes = raw;
    const need = Math.ceil((n * info.bits) / 8);
    if (bytes.length !== need) throw new QrobustError(`${label}: raw_data has ${bytes.length} bytes, expected ${need} for ${n} ${tname} elements`);
    if (sub) return unpackSubByte(bytes, n, sub.bits, sub.signed);
    switch (tname) {
      case 'FLOAT': case 'COMPLEX64': return viewLE(bytes, Float32Array, count);
      case 'DOUBLE': case 'COMPLEX128': return viewLE(bytes, Float64Array, count);
      case 'INT8': return new Int8Array(bytes.buffer, bytes.byteOffset, n);
      case 'INT16': return viewLE(bytes, Int16Array, n);
      case 'UINT16': case 'FLOAT16': case 'BFLOAT16': return viewLE(bytes, Uint16Array, n);
      case 'INT32': return viewLE(bytes, Int32Array, n);
      case 'UINT32': return viewLE(bytes, Uint32Array, n);
      case 'INT64': return viewLE(bytes, BigInt64Array, n);
      case 'UINT64': return viewLE(bytes, BigUint64Array, n);
      default: return bytes.subarray(0, n); // UINT8, BOOL, float8 family, FLOAT8E8M0
    }
  }
  const field = info.field;
  const vals = (field ? (t[field] as ArrayLike<number | bigint | Uint8Array> | undefined) : undefined) ?? [];
  if (sub) {
    const need = Math.ceil((n * sub.bits) / 8);
    if (vals.length !== need) throw new QrobustError(`${label}: ${field} has ${vals.length} values, expected ${need} packed bytes for ${n} ${tname} elements`);
    return unpackSubByte(Uint8Array.from(vals as ArrayLike<number>), n, sub.bits, sub.signed);
  }
  if (vals.length !== count) throw new QrobustError(`${label}: ${field} has ${vals.length} values, expected ${count} for shape [${(t.dims ?? []).join(', ')}]`);
  const nums = vals as ArrayLike<number>;
  switch (tname) {
    case 'FLOAT': case 'COMPLEX64': return Float32Array.from(nums);
    case 'DOUBLE': case 'COMPLEX128': return Float64Array.from(nums);
    case 'INT8': return Int8Array.from(nums);
    case 'INT16': return Int16Array.from(nums);
    case 'UINT16': case 'FLOAT16': case 'BFLOAT16': return Uint16Array.from(nums);
    case 'INT32': return Int32Array.from(nums);
    case 'UINT32': return Uint32Array.from(nums, Number);
    case 'INT64': return BigInt64Array.from(vals as ArrayLike<number | bigint>, (v) => BigInt(v as number | bigint));
    case 'UINT64': return BigUint64Array.from(vals as ArrayLike<number | bigint>, (v) => BigInt.asUintN(64, BigInt(v as number | bigint)));
    default: return Uint8Array.from(nums);
  }
}

// ---------------------------------------------------------------------------------------------------
// Builders

/**
 * An attribute value for {@link makeNode}. The rule for bare values:
 * - an integral number or a bigint → INT; a non-integral number → FLOAT. JS cannot tell `1.0` from `1`,
 *   so a float attribute whose value is integral (`alpha: 1.0`) needs the wrapper `{ f: 1 }`;
 * - number[] → INTS when every element is integral (also `[]`), else FLOATS; Float32Array → FLOATS; use
 *   `{ floats: [...] }` / `{ ints: [...] }` to force;
 * - string → STRING (UTF-8), string[] → STRINGS; a TensorProto → TENSOR; `{ g: graph }` → GRAPH.
 */
export type AttrValue =
  | number | bigint | string | readonly Int64[] | readonly string[] | Float32Array | TensorProto
  | { f: number } | { i: Int64 } | { floats: readonly number[] } | { ints: readonly Int64[] } | { s: string | Uint8Array }
  | { strings: readonly (string | Uint8Array)[] } | { t: TensorProto } | { g: GraphProto } | { graphs: readonly GraphProto[] };

const WRAPPER_KEYS = new Set(['f', 'i', 'floats', 'ints', 's', 'strings', 't', 'g', 'graphs']);
const utf8 = (s: string | Uint8Array): Uint8Array => (typeof s === 'string' ? new Uint8Array(Buffer.from(s, 'utf8')) : s);

/**
 * Builds one AttributeProto with the rule of {@link AttrValue}.
 * @param name the attribute name
 * @param v the value
 * @throws UsageError for a value of no attribute type
 * @example
 * makeAttribute('axis', 1).type // => AttributeType.INT
 * makeAttribute('alpha', { f: 1 }).type // => AttributeType.FLOAT
 */
export function makeAttribute(name: string, v: AttrValue): AttributeProto {
  const bad = (): UsageError => invalidOption(`attribute ${name}`, 'a number, bigint, string, number[], string[], Float32Array, TensorProto or {f|i|floats|ints|s|strings|t|g|graphs: …}', v);
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || !Number.isInteger(v)) return { name, type: AttributeType.FLOAT, f: v };
    return { name, type: AttributeType.INT, i: v };
  }
  if (typeof v === 'bigint') return { name, type: AttributeType.INT, i: v };
  if (typeof v === 'string') return { name, type: AttributeType.STRING, s: utf8(v) };
  if (v instanceof Float32Array) return { name, type: AttributeType.FLOATS, floats: Array.from(v) };
  if (Array.isArray(v)) {
    if (v.every((x) => typeof x === 'string')) {
      if (v.length > 0) return { name, type: AttributeType.STRINGS, strings: (v as string[]).map(utf8) };
    }
    if (v.every((x) => typeof x === 'bigint' || (typeof x === 'number' && Number.isInteger(x)))) return { name, type: AttributeType.INTS, ints: [...(v as Int64[])] };
    if (v.every((x) => typeof x === 'number')) return { name, type: AttributeType.FLOATS, floats: [...(v as number[])] };
    throw bad();
  }
  if (typeof v !== 'object' || v === null) throw bad();
  const keys = Object.keys(v);
  if (keys.length === 1 && WRAPPER_KEYS.has(keys[0]!)) {
    const w = v as Record<string, unknown>;
    switch (keys[0]) {
      case 'f': return { name, type: AttributeType.FLOAT, f: Number(w.f) };
      case 'i': return { name, type: AttributeType.INT, i: w.i as Int64 };
      case 'floats': return { name, type: AttributeType.FLOATS, floats: (w.floats as number[]).map(Number) };
      case 'ints': return { name, type: AttributeType.INTS, ints: [...(w.ints as Int64[])] };
      case 's': return { name, type: AttributeType.STRING, s: utf8(w.s as string) };
      case 'strings': return { name, type: AttributeType.STRINGS, strings: (w.strings as string[]).map(utf8) };
      case 't': return { name, type: AttributeType.TENSOR, t: w.t as TensorProto };
      case 'g': return { name, type: AttributeType.GRAPH, g: w.g as GraphProto };
      case 'graphs': return { name, type: AttributeType.GRAPHS, graphs: [...(w.graphs as GraphProto[])] };
    }
  }
  if ('dataType' in v || 'dims' in v || 'rawData' in v) return { name, type: AttributeType.TENSOR, t: v as TensorProto };
  throw bad();
}

/**
 * Builds a NodeProto. Attributes are written in the order given (sort them yourself for canonical output).
 * @param opType the operator, e.g. 'MatMulInteger'
 * @param inputs input value names ('' for an omitted optional input)
 * @param outputs output value names
 * @param attrs attributes, see {@link AttrValue} for the int / float rule
 * @param name the node name (optional)
 * @param domain the operator set domain ('' = ai.onnx; e.g. 'com.microsoft')
 * @returns the node
 * @throws UsageError for an attribute value of no attribute type
 * @example
 * makeNode('Conv', ['x', 'w'], ['y'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }, 'conv1').attribute[0].ints // => [3, 3]
 * makeNode('LeakyRelu', ['x'], ['y'], { alpha: { f: 1 } }).attribute[0].f // => 1
 */
export function makeNode(opType: string, inputs: readonly string[], outputs: readonly string[], attrs: Record<string, AttrValue> = {}, name?: string, domain?: string): NodeProto {
  const node: NodeProto = { input: [...inputs], output: [...outputs] };
  if (name !== undefined) node.name = name;
  node.opType = opType;
  if (domain !== undefined) node.domain = domain;
  const a = Object.entries(attrs).map(([k, v]) => makeAttribute(k, v));
  if (a.length) node.attribute = a;
  return node;
}

/**
 * Builds a tensor ValueInfoProto.
 * @param name the value name
 * @param elemType a {@link DataType} value
 * @param shape one entry per axis: a number (fixed) or a string (symbolic, e.g. 'N'); omit for unknown rank
 * @returns the value info
 * @throws UsageError for a negative or fractional dimension
 * @example
 * makeValueInfo('x', DataType.FLOAT, ['N', 3]).type.tensorType.shape.dim // => [{ dimParam: 'N' }, { dimValue: 3 }]
 */
export function makeValueInfo(name: string, elemType: number, shape?: readonly (number | string)[]): ValueInfo {
  const tensorType: NonNullable<TypeProto['tensorType']> = { elemType };
  if (shape) {
    tensorType.shape = {
      dim: shape.map((d) => {
        if (typeof d === 'string') return { dimParam: d };
        if (!Number.isInteger(d) || d < 0) throw invalidOption(`shape of ${name}`, 'non-negative integers or symbolic names', d);
        return { dimValue: d };
      }),
    };
  }
  return { name, type: { tensorType } };
}

/**
 * Builds a GraphProto (the argument order of onnx.helper.make_graph).
 * @param nodes the nodes, in topological order
 * @param name the graph name
 * @param inputs graph inputs (value infos)
 * @param outputs graph outputs (value infos)
 * @param initializers constant tensors (by name; they need not be listed in `inputs`)
 * @param valueInfo optional value infos of intermediate values
 * @returns the graph
 * @throws never
 * @example
 * const g = makeGraph([makeNode('Add', ['a', 'b'], ['c'])], 'add',
 *   [makeValueInfo('a', DataType.FLOAT, [2]), makeValueInfo('b', DataType.FLOAT, [2])],
 *   [makeValueInfo('c', DataType.FLOAT, [2])]);
 * g.input.length // => 2
 */
export function makeGraph(nodes: readonly NodeProto[], name: string, inputs: readonly ValueInfo[], outputs: readonly ValueInfo[], initializers: readonly TensorProto[] = [], valueInfo: readonly ValueInfo[] = []): GraphProto {
  const g: GraphProto = { node: [...nodes], name };
  if (initializers.length) g.initializer = [...initializers];
  g.input = [...inputs];
  g.output = [...outputs];
  if (valueInfo.length) g.valueInfo = [...valueInfo];
  return g;
}

/** Options of {@link makeModel}. */
export interface MakeModelOptions {
  /** default [{ domain: '', version: 13 }] */
  opsetImports?: readonly OperatorSetId[];
  /** default: the IR version that introduced the highest default-domain opset given (13 → 7, 21 → 10, ...) */
  irVersion?: number;
  producerName?: string;
  producerVersion?: string;
  docString?: string;
}

/** The IR version released with each default-domain opset range (onnx/docs/Versioning.md). */
function irVersionForOpset(opset: number): number {
  if (opset <= 8) return 3;
  if (opset <= 10) return 5;
  if (opset <= 12) return opset === 12 ? 7 : 6;
  if (opset <= 14) return 7;
  if (opset <= 18) return 8;
  if (opset <= 20) return 9;
  if (opset <= 22) return 10;
  return 11;
}

/**
 * Builds a ModelProto around a graph.
 * @param graph the graph
 * @param opts opset imports, IR version, producer
 * @returns the model
 * @throws UsageError for a non-positive opset version
 * @example
 * const graph = makeGraph([makeNode('Add', ['a', 'c'], ['y'])], 'add', [makeValueInfo('a', DataType.INT32, [2])],
 *   [makeValueInfo('y', DataType.INT32, [2])], [tensorFromArray('c', DataType.INT32, [2], [10, 20])]);
 * const m = makeModel(graph, { opsetImports: [{ domain: '', version: 21 }] });
 * m.irVersion // => 10
 * const session = await ort.InferenceSession.create(encodeModel(m));
 * const out = await session.run({ a: new ort.Tensor('int32', new Int32Array([1, 2]), [2]) });
 * Array.from(out.y.data) // => [11, 22]
 */
export function makeModel(graph: GraphProto, opts: MakeModelOptions = {}): OnnxModel {
  const opsets = (opts.opsetImports ?? [{ domain: '', version: 13 }]).map((o) => ({ domain: o.domain ?? '', version: o.version ?? 1 }));
  for (const o of opsets) if (!(Number(o.version) >= 1)) throw invalidOption(`opset version of domain '${o.domain}'`, 'a positive integer', o.version);
  const main = opsets.find((o) => o.domain === '' || o.domain === 'ai.onnx');
  const m: OnnxModel = { irVersion: opts.irVersion ?? irVersionForOpset(main ? Number(main.version) : 13) };
  m.producerName = opts.producerName ?? 'qrobust';
  if (opts.producerVersion !== undefined) m.producerVersion = opts.producerVersion;
  if (opts.docString !== undefined) m.docString = opts.docString;
  m.graph = graph;
  m.opsetImport = opsets;
  return m;
}

/**
 * The dims of a value info's tensor type: numbers for fixed axes, strings for symbolic, null for unknown.
 * @param v a value info
 * @returns the shape, or null when the type has no shape (unknown rank)
 * @throws never
 * @example
 * valueInfoShape(makeValueInfo('x', DataType.FLOAT, ['N', 3])) // => ['N', 3]
 */
export function valueInfoShape(v: ValueInfo): (number | string | null)[] | null {
  const tt = v.type?.tensorType ?? v.type?.sparseTensorType;
  if (!tt || !tt.shape) return null;
  return (tt.shape.dim ?? []).map((d) => (hasOwn(d, 'dimValue') ? Number(d.dimValue) : hasOwn(d, 'dimParam') ? d.dimParam ?? '' : null));
}

