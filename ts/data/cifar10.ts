/**
 * `cifar10:<dir>`: the CIFAR-10 binary version. Each record is 1 label byte + 3,072 pixel bytes (the red,
 * green and blue 32x32 planes, rows top to bottom). Split `train` = `data_batch_1.bin` .. `data_batch_5.bin`
 * (those present, in order), split `test` = `test_batch.bin`. `<dir>` may also be the folder holding
 * `cifar-10-batches-bin/`. Class names come from `batches.meta.txt` when present, else the standard ten.
 * Labels are read at open (one byte per record); pixels are read per sample with a positional read.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { QrobustError, UsageError } from '../util/errors.ts';
import { checkIndex, usageUnknownSplit } from './common.ts';
import type { Dataset, PixelSample, Split } from './types.ts';

/** CIFAR-10's classes, label order. */
export const CIFAR10_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'] as const;

/** Bytes per record: label + 3 x 32 x 32. */
export const CIFAR10_RECORD = 1 + 3 * 32 * 32;

const TRAIN_FILES = [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`);
const TEST_FILES = ['test_batch.bin'];

/**
 * CHW planes (R, G, B) of one record -> HWC.
 * @param rec one 3,073-byte record (label first)
 * @throws never
 * @example
 * cifarRecordToHwc(record).length // 3072
 */
export function cifarRecordToHwc(rec: Uint8Array): Uint8Array {
  const out = new Uint8Array(3072);
  for (let p = 0; p < 1024; p++) {
    out[p * 3] = rec[1 + p]!;
    out[p * 3 + 1] = rec[1 + 1024 + p]!;
    out[p * 3 + 2] = rec[1 + 2048 + p]!;
  }
  return out;
}

class CifarSplit implements Split {
  readonly length: number;
  readonly labels: Int32Array;
  /** first global index of each file, plus the total at the end */
  private readonly starts: number[];
  constructor(readonly name: string, private readonly files: string[], numClasses: number) {
    const labels: number[] = [];
    this.starts = [];
    for (const f of files) {
      const size = statSync(f).size;
      if (size === 0 || size % CIFAR10_RECORD !== 0) {
        throw new QrobustError(`Expected a multiple of ${CIFAR10_RECORD} bytes (1 label + 3072 pixels per record) in ${f} but it has ${size}`);
      }
      this.starts.push(labels.length);
      const buf = readFileSync(f);
      for (let o = 0; o < size; o += CIFAR10_RECORD) {
        const l = buf[o]!;
        if (l >= numClasses) throw new QrobustError(`Label ${l} at record ${o / CIFAR10_RECORD} of ${f} is out of range 0..${numClasses - 1}`);
        labels.push(l);
      }
    }
    this.starts.push(labels.length);
    this.labels = Int32Array.from(labels);
    this.length = labels.length;
  }
  private where(i: number): { file: string; record: number } {
    checkIndex(i, this.length, this.name);
    let k = 0;
    while (this.starts[k + 1]! <= i) k++;
    return { file: this.files[k]!, record: i - this.starts[k]! };
  }
  locate(i: number): string {
    const { file, record } = this.where(i);
    return `${file}#${record}`;
  }
  async get(i: number): Promise<PixelSample> {
    const { file, record } = this.where(i);
    const rec = new Uint8Array(CIFAR10_RECORD);
    const fh = await open(file, 'r');
    try {
      const { bytesRead } = await fh.read(rec, 0, CIFAR10_RECORD, record * CIFAR10_RECORD);
      if (bytesRead !== CIFAR10_RECORD) throw new QrobustError(`Short read of record ${record} in ${file}`);
    } finally {
      await fh.close();
    }
    return { kind: 'pixels', data: cifarRecordToHwc(rec), width: 32, height: 32, channels: 3, label: this.labels[i]!, file: `${file}#${record}` };
  }
}

/**
 * Opens a CIFAR-10 binary folder.
 * @param dir the folder with the `.bin` batches, or its parent holding `cifar-10-batches-bin/`
 * @param name the canonical data name, for messages
 * @throws UsageError when neither a train batch nor test_batch.bin exists; QrobustError on a bad file size
 * @example
 * const ds = openCifar10('/data/cifar-10-batches-bin'); ds.split('test').length // 10000
 */
export function openCifar10(dir: string, name = `cifar10:${dir}`): Dataset {
  const inner = join(dir, 'cifar-10-batches-bin');
  const base = !TRAIN_FILES.concat(TEST_FILES).some((f) => existsSync(join(dir, f))) && existsSync(inner) ? inner : dir;
  const meta = join(base, 'batches.meta.txt');
  const classes = existsSync(meta)
    ? readFileSync(meta, 'utf8').split(/\r?\n/).map((s) => s.trim()).filter((s) => s.length > 0)
    : [...CIFAR10_CLASSES];
  const train = TRAIN_FILES.map((f) => join(base, f)).filter((f) => existsSync(f));
  const test = TEST_FILES.map((f) => join(base, f)).filter((f) => existsSync(f));
  if (train.length === 0 && test.length === 0) {
    throw new UsageError(`Expected CIFAR-10 binary batches (data_batch_1.bin .. data_batch_5.bin, test_batch.bin) in ${dir} for cifar10 but found none`);
  }
  const splits = new Map<string, CifarSplit>();
  if (train.length > 0) splits.set('train', new CifarSplit('train', train, classes.length));
  if (test.length > 0) splits.set('test', new CifarSplit('test', test, classes.length));
  const names = [...splits.keys()];
  return {
    name,
    kind: 'cifar10',
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
