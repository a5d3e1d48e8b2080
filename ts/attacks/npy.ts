/**
 * A small NumPy .npy (format version 1.0) writer and reader for float32 / int32 / uint8 arrays in C
 * order, so saved adversarial examples open with `np.load`. Layout: the magic "\x93NUMPY", version
 * bytes 1 0, a little-endian uint16 header length, then an ASCII dict
 * `{'descr': '<f4', 'fortran_order': False, 'shape': (N, C, H, W), }` padded with spaces and a final
 * newline so that the data starts at a multiple of 64 bytes, then the raw little-endian data.
 *
 * {@link NpyWriter} streams batches to disk and writes the final shape into a header of fixed size
 * when closed, so a run never holds every adversarial example in memory.
 */
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { QrobustError, invalidOption } from '../util/errors.ts';

/** Supported element types and their descr. */
export type NpyArray = Float32Array | Int32Array | Uint8Array;
const DESCR = { float32: '<f4', int32: '<i4', uint8: '|u1' } as const;
type Dtype = keyof typeof DESCR;

function dtypeOf(a: NpyArray): Dtype {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Int32Array) return 'int32';
  if (a instanceof Uint8Array) return 'uint8';
  throw invalidOption('array', 'a Float32Array, Int32Array or Uint8Array', a);
}

function shapeText(shape: readonly number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
}

/** The header bytes (magic to newline), padded to `total` bytes (a multiple of 64), or the minimum. */
function header(descr: string, shape: readonly number[], total?: number): Buffer {
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText(shape)}, }`;
  const min = 10 + dict.length + 1;
  const len = total ?? Math.ceil(min / 64) * 64;
  if (len < min || len % 64 !== 0 || len - 10 > 0xffff) throw new QrobustError(`npy: header of ${min} bytes does not fit in ${len}`);
  const b = Buffer.alloc(len, 0x20);
  b.write('\x93NUMPY', 0, 'latin1');
  b[6] = 1;
  b[7] = 0;
  b.writeUInt16LE(len - 10, 8);
  b.write(dict, 10, 'latin1');
  b[len - 1] = 0x0a;
  return b;
}

function bytesOf(a: NpyArray): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

function checkShape(shape: readonly number[], count: number): void {
  if (!Array.isArray(shape) || !shape.every((v) => Number.isInteger(v) && v >= 0)) throw invalidOption('shape', 'non-negative integers', shape);
  const n = shape.reduce((p, v) => p * v, 1);
  if (n !== count) throw invalidOption('shape', `a shape of ${count} elements`, shapeText(shape));
}

/**
 * Writes one array as a .npy file (C order, little-endian).
 * @param path the file
 * @param data the elements
 * @param shape the shape (its product must equal data.length)
 * @throws UsageError on a shape that does not match; fs errors on I/O
 * @example
 * writeNpy('/tmp/qrobust-example-a.npy', new Float32Array(6), [2, 3]);
 * readNpy('/tmp/qrobust-example-a.npy').shape // [2, 3]
 */
export function writeNpy(path: string, data: NpyArray, shape: readonly number[]): void {
  checkShape(shape, data.length);
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, header(DESCR[dtypeOf(data)], shape));
    writeSync(fd, bytesOf(data));
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads a .npy file written by this module or by NumPy (version 1.x/2.x headers, '<f4', '<i4', '|u1',
 * C order).
 * @param path the file
 * @returns the dtype, shape and elements
 * @throws QrobustError naming the file on a bad magic, an unsupported dtype or Fortran order
 * @example
 * writeNpy('/tmp/qrobust-example-b.npy', Int32Array.from([7, 8]), [2]);
 * Array.from(readNpy('/tmp/qrobust-example-b.npy').data) // [7, 8]
 */
export function readNpy(path: string): { dtype: Dtype; shape: number[]; data: NpyArray } {
  const buf = readFileSync(path);
  if (buf.length < 10 || buf.toString('latin1', 0, 6) !== '\x93NUMPY') throw new QrobustError(`${path}: not a .npy file (bad magic)`);
  const major = buf[6]!;
  const hlen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const dict = buf.toString('latin1', start, start + hlen);
  const descr = /'descr':\s*'([^']+)'/.exec(dict)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(dict)?.[1];
  const shapeM = /'shape':\s*\(([^)]*)\)/.exec(dict)?.[1];
  if (!descr || !fortran || shapeM === undefined) throw new QrobustError(`${path}: cannot parse the .npy header ${JSON.stringify(dict)}`);
  if (fortran === 'True') throw new QrobustError(`${path}: Fortran-order arrays are not supported`);
  const shape = shapeM.split(',').map((s) => s.trim()).filter((s) => s.length > 0).map(Number);
  const count = shape.reduce((p, v) => p * v, 1);
  const off = start + hlen;
  const raw = buf.subarray(off);
  const copy = (bytes: number) => {
    if (raw.length < count * bytes) throw new QrobustError(`${path}: ${raw.length} data bytes for shape ${shapeText(shape)}`);
    const ab = new ArrayBuffer(count * bytes);
    new Uint8Array(ab).set(raw.subarray(0, count * bytes));
    return ab;
  };
  if (descr === '<f4') return { dtype: 'float32', shape, data: new Float32Array(copy(4)) };
  if (descr === '<i4') return { dtype: 'int32', shape, data: new Int32Array(copy(4)) };
  if (descr === '|u1' || descr === '<u1') return { dtype: 'uint8', shape, data: new Uint8Array(copy(1)) };
  throw new QrobustError(`${path}: dtype ${descr} is not supported (float32, int32, uint8)`);
}

/**
 * Streams rows of one array to a .npy file: the leading dimension grows with each {@link NpyWriter.append}
 * and the header (a fixed 128 bytes) is rewritten with the final shape on {@link NpyWriter.close}.
 * @example
 * const w = new NpyWriter('/tmp/qrobust-example-c.npy', 'float32', [3, 32, 32]);
 * w.append(new Float32Array(2 * 3072));
 * w.append(new Float32Array(3072));
 * w.close() // 3
 */
export class NpyWriter {
  readonly path: string;
  readonly dtype: Dtype;
  readonly rowShape: readonly number[];
  private fd: number | null;
  private rows = 0;
  private readonly rowSize: number;
  private static readonly HEADER = 128;

  /**
   * @param path the file (created or truncated)
   * @param dtype element type
   * @param rowShape the shape of one row (e.g. [C, H, W]; [] for a vector of scalars)
   * @throws UsageError on a bad dtype or row shape
   */
  constructor(path: string, dtype: Dtype, rowShape: readonly number[]) {
    if (!(dtype in DESCR)) throw invalidOption('dtype', `one of ${Object.keys(DESCR).join(', ')}`, dtype);
    if (!Array.isArray(rowShape) || !rowShape.every((v) => Number.isInteger(v) && v > 0)) throw invalidOption('rowShape', 'positive integers', rowShape);
    this.path = path;
    this.dtype = dtype;
    this.rowShape = rowShape.slice();
    this.rowSize = rowShape.reduce((p, v) => p * v, 1);
    this.fd = openSync(path, 'w');
    writeSync(this.fd, header(DESCR[dtype], [0, ...rowShape], NpyWriter.HEADER));
  }

  /**
   * Appends whole rows.
   * @throws UsageError when the array's type or length does not fit; QrobustError after close
   */
  append(data: NpyArray): void {
    if (this.fd === null) throw new QrobustError(`${this.path}: append after close`);
    if (dtypeOf(data) !== this.dtype) throw invalidOption('data', `a ${this.dtype} array`, data);
    if (data.length % this.rowSize !== 0) throw invalidOption('data', `a multiple of ${this.rowSize} elements`, data.length);
    writeSync(this.fd, bytesOf(data));
    this.rows += data.length / this.rowSize;
  }

  /** Writes the final shape and closes the file; returns the number of rows. */
  close(): number {
    if (this.fd === null) return this.rows;
    writeSync(this.fd, header(DESCR[this.dtype], [this.rows, ...this.rowShape], NpyWriter.HEADER), 0, NpyWriter.HEADER, 0);
    closeSync(this.fd);
    this.fd = null;
    return this.rows;
  }
}
