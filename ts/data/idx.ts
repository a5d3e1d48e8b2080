/**
 * `idx:<dir>`: MNIST-style IDX files. Split `train` = `train-images-idx3-ubyte` + `train-labels-idx1-ubyte`,
 * split `test` = `t10k-images-idx3-ubyte` + `t10k-labels-idx1-ubyte`; the original download's
 * `train-images.idx3-ubyte` spelling and a `.gz` suffix are accepted too. IDX header: two zero bytes, the
 * element type (0x08 = unsigned byte, the only one accepted), the number of dimensions, then each
 * dimension as a big-endian u32. Images are N x H x W (grey) or N x H x W x C (C = 1 or 3); labels are N.
 * Class names: `classes.txt` (one per line) when present, else '0'..max label. Files are read whole at open.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { QrobustError, UsageError } from '../util/errors.ts';
import { checkIndex, usageUnknownSplit } from './common.ts';
import type { Dataset, PixelSample, Split } from './types.ts';

/** A parsed IDX file. */
export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

/**
 * Parses an IDX byte array (unsigned-byte element type only).
 * @param buf the file contents (already gunzipped)
 * @param file its path, for messages
 * @throws QrobustError on a bad magic, element type or size
 * @example
 * parseIdx(new Uint8Array([0, 0, 8, 1, 0, 0, 0, 2, 7, 9]), 'x').dims // [2]
 */
export function parseIdx(buf: Uint8Array, file: string): IdxArray {
  if (buf.length < 4 || buf[0] !== 0 || buf[1] !== 0) throw new QrobustError(`${file} is not an IDX file (expected two zero bytes at the start)`);
  if (buf[2] !== 0x08) throw new QrobustError(`Expected element type 0x08 (unsigned byte) in ${file} but received 0x${buf[2]!.toString(16)}`);
  const nd = buf[3]!;
  if (nd < 1 || buf.length < 4 + 4 * nd) throw new QrobustError(`${file}: truncated IDX header`);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.length);
  const dims: number[] = [];
  for (let k = 0; k < nd; k++) dims.push(dv.getUint32(4 + 4 * k, false));
  const n = dims.reduce((a, b) => a * b, 1);
  const start = 4 + 4 * nd;
  if (buf.length - start !== n) throw new QrobustError(`${file}: dims ${dims.join('x')} need ${n} bytes of data but the file has ${buf.length - start}`);
  return { dims, data: buf.subarray(start) };
}

function findIdx(dir: string, prefix: string, kind: 'images' | 'labels'): string | null {
  const nd = kind === 'images' ? 3 : 1;
  for (const base of [`${prefix}-${kind}-idx${nd}-ubyte`, `${prefix}-${kind}.idx${nd}-ubyte`]) {
    for (const ext of ['', '.gz']) if (existsSync(join(dir, base + ext))) return join(dir, base + ext);
  }
  return null;
}

function readIdx(file: string): IdxArray {
  let buf: Uint8Array = readFileSync(file);
  if (file.endsWith('.gz')) {
    try {
      buf = gunzipSync(buf);
    } catch (e) {
      throw new QrobustError(`Cannot gunzip ${file}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return parseIdx(buf, file);
}

class IdxSplit implements Split {
  readonly length: number;
  readonly labels: Int32Array;
  private readonly h: number;
  private readonly w: number;
  private readonly c: number;
  constructor(readonly name: string, private readonly imagesFile: string, private readonly images: IdxArray, labelsFile: string, labels: IdxArray) {
    const d = images.dims;
    if (!(d.length === 3 || (d.length === 4 && (d[3] === 1 || d[3] === 3)))) {
      throw new QrobustError(`Expected images of dims N x H x W or N x H x W x C (C = 1 or 3) in ${imagesFile} but received ${d.join('x')}`);
    }
    if (labels.dims.length !== 1 || labels.dims[0] !== d[0]) {
      throw new QrobustError(`Expected ${d[0]} labels (one dimension) in ${labelsFile} to match ${imagesFile} but received dims ${labels.dims.join('x')}`);
    }
    this.length = d[0]!;
    this.h = d[1]!;
    this.w = d[2]!;
    this.c = d.length === 4 ? d[3]! : 1;
    this.labels = Int32Array.from(labels.data);
  }
  locate(i: number): string {
    return `${this.imagesFile}#${checkIndex(i, this.length, this.name)}`;
  }
  async get(i: number): Promise<PixelSample> {
    checkIndex(i, this.length, this.name);
    const n = this.h * this.w * this.c;
    return {
      kind: 'pixels', data: this.images.data.slice(i * n, (i + 1) * n), width: this.w, height: this.h, channels: this.c,
      label: this.labels[i]!, file: `${this.imagesFile}#${i}`,
    };
  }
}

/**
 * Opens a folder of IDX files.
 * @param dir the folder
 * @param name the canonical data name, for messages
 * @throws UsageError when neither split's image and label files exist (or only one of a pair does);
 *   QrobustError on malformed files or labels out of range of classes.txt
 * @example
 * const ds = openIdx('/data/mnist'); ds.split('train').length // 60000
 */
export function openIdx(dir: string, name = `idx:${dir}`): Dataset {
  const splits = new Map<string, IdxSplit>();
  for (const [split, prefix] of [['train', 'train'], ['test', 't10k']] as const) {
    const im = findIdx(dir, prefix, 'images');
    const lb = findIdx(dir, prefix, 'labels');
    if (!im && !lb) continue;
    if (!im || !lb) {
      throw new UsageError(`Expected both ${prefix}-images-idx3-ubyte and ${prefix}-labels-idx1-ubyte (optionally .gz) in ${dir} but found only ${im ?? lb}`);
    }
    splits.set(split, new IdxSplit(split, im, readIdx(im), lb, readIdx(lb)));
  }
  if (splits.size === 0) {
    throw new UsageError(`Expected IDX files (train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, optionally .gz) in ${dir} for idx but found none`);
  }
  const classesFile = join(dir, 'classes.txt');
  const maxLabel = Math.max(...[...splits.values()].map((s) => s.labels.reduce((a, b) => Math.max(a, b), 0)));
  const classes = existsSync(classesFile)
    ? readFileSync(classesFile, 'utf8').split(/\r?\n/).map((s) => s.trim()).filter((s) => s.length > 0)
    : Array.from({ length: maxLabel + 1 }, (_, i) => String(i));
  if (maxLabel >= classes.length) throw new QrobustError(`Label ${maxLabel} in ${dir} is out of range of the ${classes.length} classes in ${classesFile}`);
  const names = [...splits.keys()];
  return {
    name,
    kind: 'idx',
    classes,
    splits: names,
    trainSplit: splits.has('train') ? 'train' : null,
    testSplit: splits.has('test') ? 'test' : null,
    cacheDir: null,
    stats: null,
    split(s: string): Split {
      const sp = splits.get(s);
      if (!sp) throw usageUnknownSplit(name, names, s);
      return sp;
    },
  };
}
