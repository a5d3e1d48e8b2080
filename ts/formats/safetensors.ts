/**
 * safetensors read / write. Layout (the format's specification):
 *
 *   [0, 8)        N, the header length, unsigned 64-bit little-endian
 *   [8, 8+N)      UTF-8 JSON object: optional "__metadata__" (string → string) and, per tensor,
 *                 "<name>": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}; padded with
 *                 spaces so that the data starts at a multiple of 8
 *   [8+N, EOF)    the byte buffer; offsets are relative to its start, tensors are C-order little-endian,
 *                 and together they cover it exactly (contiguous, no overlap, no gap)
 *
 * Decoding validates all of that and keeps tensor bytes as zero-copy views. Header key order (tensors and
 * metadata) and the byte order of tensors in the buffer are kept, so {@link encodeSafetensors} reproduces a
 * file written with compact JSON (the reference Rust writer, our Python fixture writer) byte for byte.
 */
import { QrobustError, UsageError, invalidOption } from '../util/errors.ts';
import { readInputFile, writeOutputFile } from './io.ts';

/** Per safetensors dtype: bytes per element and the typed array {@link safetensorArray} returns. */
export interface SafeDTypeInfo {
  bytes: number;
  array: string;
}

/** The byte-sized safetensors dtypes (F4 / F6 sub-byte types are rejected with a named error). */
export const SAFETENSORS_DTYPES = {
  BOOL: { bytes: 1, array: 'Uint8Array (0/1)' },
  U8: { bytes: 1, array: 'Uint8Array' },
  I8: { bytes: 1, array: 'Int8Array' },
  F8_E5M2: { bytes: 1, array: 'Uint8Array (bits)' },
  F8_E4M3: { bytes: 1, array: 'Uint8Array (bits)' },
  F8_E8M0: { bytes: 1, array: 'Uint8Array (bits)' },
  I16: { bytes: 2, array: 'Int16Array' },
  U16: { bytes: 2, array: 'Uint16Array' },
  F16: { bytes: 2, array: 'Uint16Array (IEEE half bits)' },
  BF16: { bytes: 2, array: 'Uint16Array (bfloat16 bits)' },
  I32: { bytes: 4, array: 'Int32Array' },
  U32: { bytes: 4, array: 'Uint32Array' },
  F32: { bytes: 4, array: 'Float32Array' },
  C64: { bytes: 8, array: 'Float32Array (re, im interleaved)' },
  F64: { bytes: 8, array: 'Float64Array' },
  I64: { bytes: 8, array: 'BigInt64Array' },
  U64: { bytes: 8, array: 'BigUint64Array' },
} as const satisfies Record<string, SafeDTypeInfo>;

/** A safetensors dtype name. */
export type SafeDType = keyof typeof SAFETENSORS_DTYPES;

/** One tensor: `data` is a view of the file's bytes (C order, little-endian). */
export interface SafeTensor {
  dtype: SafeDType;
  shape: number[];
  data: Uint8Array;
}

/** A decoded file. Map order is header order; `dataOrder` is the order of the tensors in the byte buffer. */
export interface SafetensorsFile {
  /** `__metadata__`, or null when the header has none */
  metadata: Map<string, string> | null;
  tensors: Map<string, SafeTensor>;
  /** tensor names in buffer order; absent = header order */
  dataOrder?: string[];
  /** position of `__metadata__` among the header keys; absent = first */
  metadataIndex?: number;
}

/** The reference implementation refuses headers above 100 MB; so do we, before allocating anything. */
const MAX_HEADER = 100_000_000;

// ---------------------------------------------------------------------------------------------------
// An order-preserving JSON reader: JS objects reorder integer-like keys ("0", "12"), which would make
// a tensor named "0" move on re-encoding. Objects come back as Maps; duplicate keys are an error.

type Json = null | boolean | number | string | Json[] | Map<string, Json>;

class JsonError extends Error {}

function parseJsonOrdered(text: string): Json {
  let i = 0;
  const ws = (): void => {
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) i++;
      else break;
    }
  };
  const fail = (what: string): never => {
    throw new JsonError(`${what} at byte ${i}`);
  };
  const str = (): string => {
    const start = i;
    i++; // opening quote
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        try {
          return JSON.parse(text.slice(start, i)) as string;
        } catch {
          i = start;
          return fail('invalid string');
        }
      }
      if (c === 0x5c) i += 2;
      else if (c < 0x20) return fail('control character in string');
      else i++;
    }
    return fail('unterminated string');
  };
  const value = (depth: number): Json => {
    if (depth > 64) fail('nesting deeper than 64');
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const m = new Map<string, Json>();
      ws();
      if (text[i] === '}') {
        i++;
        return m;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('expected a string key');
        const k = str();
        if (m.has(k)) fail(`duplicate key ${JSON.stringify(k)}`);
        ws();
        if (text[i] !== ':') fail("expected ':'");
        i++;
        m.set(k, value(depth + 1));
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === '}') {
          i++;
          return m;
        } else fail("expected ',' or '}'");
      }
    }
    if (c === '[') {
      i++;
      const a: Json[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return a;
      }
      for (;;) {
        a.push(value(depth + 1));
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === ']') {
          i++;
          return a;
        } else fail("expected ',' or ']'");
      }
    }
    if (c === '"') return str();
    const lit = /^(?:true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(text.slice(i, i + 400));
    if (!lit) return fail(c === undefined ? 'unexpected end' : `unexpected ${JSON.stringify(c)}`);
    i += lit[0].length;
    return lit[0] === 'true' ? true : lit[0] === 'false' ? false : lit[0] === 'null' ? null : Number(lit[0]);
  };
  const v = value(0);
  ws();
  if (i !== text.length) fail('trailing characters');
  return v;
}

// ---------------------------------------------------------------------------------------------------

function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * Decodes a safetensors file, validating every rule of the format.
 * @param bytes the whole file (kept alive: tensor `data` are views into it)
 * @param file the name used in error messages
 * @returns metadata, tensors in header order, and the buffer order
 * @throws QrobustError naming `file` and the problem: too short, header length beyond the file, invalid
 *   UTF-8 or JSON, a malformed entry, unknown dtype, size ≠ product(shape)·dtype size, offsets out of the
 *   buffer, overlapping tensors, gaps or trailing bytes
 * @example
 * const st = decodeSafetensors(readFileSync('test/.generated/torch/resnet18.safetensors'), 'resnet18.safetensors');
 * st.tensors.get('conv1.weight').shape // => [64, 3, 7, 7]
 * st.metadata.get('format') // => 'pt'
 */
export function decodeSafetensors(bytes: Uint8Array, file = '<bytes>'): SafetensorsFile {
  const bad = (what: string): QrobustError => new QrobustError(`${file}: not a valid safetensors file: ${what}`);
  if (!(bytes instanceof Uint8Array)) throw invalidOption('bytes', 'a Uint8Array', bytes);
  if (bytes.length < 8) throw bad(`${bytes.length} bytes, shorter than the 8-byte header length`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n64 = dv.getBigUint64(0, true);
  if (n64 > BigInt(bytes.length - 8)) throw bad(`header length ${n64} runs past the end of the file (${bytes.length} bytes)`);
  if (n64 > BigInt(MAX_HEADER)) throw bad(`header length ${n64} exceeds the ${MAX_HEADER}-byte limit`);
  const n = Number(n64);
  if (n < 2) throw bad(`header length ${n} is too small for a JSON object`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    throw bad('header is not valid UTF-8');
  }
  let header: Json;
  try {
    header = parseJsonOrdered(text);
  } catch (err) {
    throw bad(`header is not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  if (!(header instanceof Map)) throw bad('header is not a JSON object');

  const dataStart = 8 + n;
  const dataLen = bytes.length - dataStart;
  const data = bytes.subarray(dataStart);
  const tensors = new Map<string, SafeTensor>();
  const spans: { name: string; begin: number; end: number }[] = [];
  let metadata: Map<string, string> | null = null;
  let metadataIndex = 0;
  let index = 0;
  for (const [name, entry] of header) {
    if (name === '__metadata__') {
      if (!(entry instanceof Map)) throw bad('__metadata__ is not an object');
      metadata = new Map();
      for (const [k, v] of entry) {
        if (typeof v !== 'string') throw bad(`__metadata__.${k} is not a string`);
        metadata.set(k, v);
      }
      metadataIndex = index++;
      continue;
    }
    index++;
    const where = `tensor ${JSON.stringify(name)}`;
    if (!(entry instanceof Map)) throw bad(`${where} is not an object`);
    for (const k of entry.keys()) if (k !== 'dtype' && k !== 'shape' && k !== 'data_offsets') throw bad(`${where} has an unknown key ${JSON.stringify(k)}`);
    const dtype = entry.get('dtype');
    if (typeof dtype !== 'string') throw bad(`${where} has no dtype string`);
    if (!Object.prototype.hasOwnProperty.call(SAFETENSORS_DTYPES, dtype)) throw bad(`${where} has unknown dtype ${JSON.stringify(dtype)} (known: ${Object.keys(SAFETENSORS_DTYPES).join(', ')})`);
    const shape = entry.get('shape');
    if (!Array.isArray(shape) || !shape.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) throw bad(`${where} has a shape that is not an array of non-negative integers`);
    const offs = entry.get('data_offsets');
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) throw bad(`${where} has data_offsets that are not two non-negative integers`);
    const [begin, end] = offs as [number, number];
    if (begin > end) throw bad(`${where} has data_offsets [${begin}, ${end}] with begin after end`);
    if (end > dataLen) throw bad(`${where} has data_offsets [${begin}, ${end}] beyond the ${dataLen}-byte buffer`);
    const dims = shape as number[];
    const size = SAFETENSORS_DTYPES[dtype as SafeDType].bytes;
    const expected = elementCount(dims) * size;
    if (end - begin !== expected) throw bad(`${where} has ${end - begin} bytes but shape [${dims.join(', ')}] of ${dtype} needs ${expected}`);
    tensors.set(name, { dtype: dtype as SafeDType, shape: dims, data: data.subarray(begin, end) });
    spans.push({ name, begin, end });
  }

  // Buffer coverage: sorted by (begin, end), each tensor starts where the previous one ended.
  const sorted = spans.slice().sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  let prev: (typeof sorted)[number] | null = null;
  for (const s of sorted) {
    if (s.begin < pos) throw bad(`tensors ${JSON.stringify(prev!.name)} [${prev!.begin}, ${prev!.end}] and ${JSON.stringify(s.name)} [${s.begin}, ${s.end}] overlap`);
    if (s.begin > pos) throw bad(`bytes ${pos}..${s.begin} of the buffer belong to no tensor (before ${JSON.stringify(s.name)})`);
    pos = s.end;
    prev = s;
  }
  if (pos !== dataLen) throw bad(`the buffer has ${dataLen - pos} bytes after the last tensor`);

  const out: SafetensorsFile = { metadata, tensors };
  const order = sorted.map((s) => s.name);
  if (order.some((nm, i) => nm !== spans[i]!.name)) out.dataOrder = order;
  if (metadata && metadataIndex !== 0) out.metadataIndex = metadataIndex;
  return out;
}

/**
 * The header JSON text (unpadded) of a file with the given layout: compact, keys in order, each tensor as
 * {"dtype","shape","data_offsets"}.
 */
function headerText(f: SafetensorsFile, offsets: Map<string, [number, number]>): string {
  const parts: string[] = [];
  for (const [name, t] of f.tensors) parts.push(`${JSON.stringify(name)}:{"dtype":${JSON.stringify(t.dtype)},"shape":[${t.shape.join(',')}],"data_offsets":[${offsets.get(name)!.join(',')}]}`);
  if (f.metadata) {
    const meta = `"__metadata__":{${[...f.metadata].map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`;
    parts.splice(Math.min(f.metadataIndex ?? 0, parts.length), 0, meta);
  }
  return `{${parts.join(',')}}`;
}

/**
 * Encodes a safetensors file: compact JSON header in map order, padded with spaces to a multiple of 8,
 * tensors laid out contiguously in `dataOrder` (or header order).
 * @param f the file (from {@link decodeSafetensors}, or built with {@link safetensorFromArray})
 * @returns the bytes
 * @throws UsageError when a tensor's byte count does not match its shape and dtype, or `dataOrder` is not a
 *   permutation of the tensor names
 * @example
 * const bytes = encodeSafetensors({ metadata: new Map([['format', 'pt']]),
 *   tensors: new Map([['w', safetensorFromArray('F32', [2], new Float32Array([1, 2]))]]) });
 * // 8-byte length, an 85-byte header padded to 88, 8 data bytes
 * bytes.length // => 8 + 88 + 8
 */
export function encodeSafetensors(f: SafetensorsFile): Uint8Array {
  const order = f.dataOrder ?? [...f.tensors.keys()];
  if (order.length !== f.tensors.size || new Set(order).size !== order.length || !order.every((nm) => f.tensors.has(nm))) {
    throw invalidOption('dataOrder', `a permutation of the ${f.tensors.size} tensor names`, order);
  }
  const offsets = new Map<string, [number, number]>();
  let pos = 0;
  for (const name of order) {
    const t = f.tensors.get(name)!;
    const info = SAFETENSORS_DTYPES[t.dtype];
    if (!info) throw invalidOption(`dtype of tensor ${name}`, `one of ${Object.keys(SAFETENSORS_DTYPES).join(', ')}`, t.dtype);
    const need = elementCount(t.shape) * info.bytes;
    if (t.data.length !== need) throw new UsageError(`Expected ${need} bytes for tensor ${name} (${t.dtype} [${t.shape.join(', ')}]) but received ${t.data.length}`);
    offsets.set(name, [pos, pos + need]);
    pos += need;
  }
  const head = Buffer.from(headerText(f, offsets), 'utf8');
  const padded = Math.ceil(head.length / 8) * 8;
  const out = new Uint8Array(8 + padded + pos);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(head, 8);
  out.fill(0x20, 8 + head.length, 8 + padded);
  for (const name of order) out.set(f.tensors.get(name)!.data, 8 + padded + offsets.get(name)![0]);
  return out;
}

/**
 * Reads and decodes a .safetensors file.
 * @param path the file
 * @throws UsageError when the file does not exist; QrobustError naming the file when it is corrupt
 * @example
 * readSafetensors('test/.generated/torch/dtypes.safetensors').tensors.size // => 12
 */
export function readSafetensors(path: string): SafetensorsFile {
  return decodeSafetensors(readInputFile(path), path);
}

/**
 * Encodes and writes a .safetensors file.
 * @param path the output file
 * @param f the content
 * @throws QrobustError when writing fails; UsageError as {@link encodeSafetensors}
 * @example
 * writeSafetensors('test/.generated/formats/b.safetensors', { metadata: null, tensors: new Map([['b', safetensorFromArray('BOOL', [1], new Uint8Array([1]))]]) });
 * readSafetensors('test/.generated/formats/b.safetensors').tensors.get('b').dtype // => 'BOOL'
 */
export function writeSafetensors(path: string, f: SafetensorsFile): void {
  writeOutputFile(path, encodeSafetensors(f));
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

type ArrayCtor = { new (b: ArrayBufferLike, o: number, n: number): ArrayBufferView; BYTES_PER_ELEMENT: number };
const CTOR: Record<SafeDType, ArrayCtor> = {
  BOOL: Uint8Array, U8: Uint8Array, I8: Int8Array, F8_E5M2: Uint8Array, F8_E4M3: Uint8Array, F8_E8M0: Uint8Array,
  I16: Int16Array, U16: Uint16Array, F16: Uint16Array, BF16: Uint16Array, I32: Int32Array, U32: Uint32Array,
  F32: Float32Array, C64: Float32Array, F64: Float64Array, I64: BigInt64Array, U64: BigUint64Array,
};

/** The typed arrays {@link safetensorArray} returns. */
export type SafeArray = Uint8Array | Int8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | Float32Array | Float64Array | BigInt64Array | BigUint64Array;

/**
 * A tensor's values as a typed array (see {@link SAFETENSORS_DTYPES}): a zero-copy view when the bytes are
 * aligned for the element size (always for 1-byte types), else a copy.
 * @param t the tensor
 * @returns the values, C order
 * @throws never
 * @example
 * safetensorArray(safetensorFromArray('F32', [2], new Float32Array([1, 2]))) // => new Float32Array([1, 2])
 */
export function safetensorArray(t: SafeTensor): SafeArray {
  const Ctor = CTOR[t.dtype];
  const size = Ctor.BYTES_PER_ELEMENT;
  const n = t.data.length / size;
  if (LITTLE_ENDIAN && t.data.byteOffset % size === 0) return new Ctor(t.data.buffer, t.data.byteOffset, n) as SafeArray;
  const copy = new Uint8Array(t.data); // a real copy (Buffer#slice is a view)
  if (!LITTLE_ENDIAN && size > 1) for (let i = 0; i < copy.length; i += size) copy.subarray(i, i + size).reverse();
  return new Ctor(copy.buffer, 0, n) as SafeArray;
}

/**
 * Builds a tensor entry from a typed array of the dtype's array type (the bytes are copied, little-endian).
 * @param dtype the safetensors dtype
 * @param shape the shape
 * @param values product(shape) values (C64: twice that) in the array type of {@link SAFETENSORS_DTYPES}
 * @returns the entry
 * @throws UsageError when the array type or length does not match
 * @example
 * safetensorFromArray('I64', [2], new BigInt64Array([1n, -1n])).data.length // => 16
 */
export function safetensorFromArray(dtype: SafeDType, shape: readonly number[], values: SafeArray): SafeTensor {
  const Ctor = CTOR[dtype];
  if (!Ctor) throw invalidOption('dtype', `one of ${Object.keys(SAFETENSORS_DTYPES).join(', ')}`, dtype);
  if (!(values instanceof (Ctor as unknown as typeof Uint8Array))) throw invalidOption(`values of a ${dtype} tensor`, `a ${Ctor.name}`, values);
  for (const d of shape) if (!Number.isSafeInteger(d) || d < 0) throw invalidOption('shape', 'non-negative integers', d);
  const need = elementCount(shape) * SAFETENSORS_DTYPES[dtype].bytes;
  if (values.byteLength !== need) throw new UsageError(`Expected ${need} bytes for a ${dtype} tensor of shape [${shape.join(', ')}] but received ${values.byteLength}`);
  const data = new Uint8Array(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  if (!LITTLE_ENDIAN && Ctor.BYTES_PER_ELEMENT > 1) for (let i = 0; i < data.length; i += Ctor.BYTES_PER_ELEMENT) data.subarray(i, i + Ctor.BYTES_PER_ELEMENT).reverse();
  return { dtype, shape: [...shape], data };
}
