/**
 * The systematic-noise suite's computation (issue 7; PROTOCOL.md §4, CONVENTIONS.md "Suites and their
 * JSON"), independent of any model: it takes an abstract {@link Classifier}, so `qrobust eval --suite
 * systematic` only has to wrap a model in one, and tests use a tiny fake.
 *
 * For each chunk of samples: read the files; decode them once per distinct decoder (every `rs-*` id
 * shares `dec-pil`'s decode; the ffmpeg decoders use one ffmpeg process per chunk, and the next chunk
 * decodes while this one is classified); a file that any
 * selected decoder cannot read is skipped for every pipeline (so the 14 accuracies are over the same
 * images) and listed with its name and reason; then each distinct pipeline (`dec-pil` and
 * `rs-pil-bilinear` are one) resizes to a square of floor(S*8/7), crops S, and its batch goes to the
 * classifier as NCHW float32 in [0, 1] (normalisation is the model's first layer).
 *
 * SR = population standard deviation (ddof 0) of the 14 top-1 accuracies in percent; extras are reported
 * apart and never counted.
 */
import { QrobustError, invalidOption } from '../util/errors.ts';
import { int } from '../util/is.ts';
import { EXTRA_IDS, SYSTEMATIC_IDS, decoderKey, getPipeline, type PipelineConfig, type SystematicId } from './pipelines.ts';
import { decodeManyWith, preprocessPixels, type RgbImage } from './preprocess.ts';
import { ffmpegVersion, jpegFrameSize } from './ffmpeg.ts';
import { opencvNative, opencvAvailable } from '../native/opencv.ts';
import { native } from '../native/binding.ts';

/**
 * A model seen by the suite: `batch` holds `n` images as NCHW float32 in [0, 1] (3 x S x S each); it
 * resolves to the `n` top-1 class indices.
 */
export type Classifier = (batch: Float32Array, n: number) => Promise<Int32Array>;

/** One test sample: its name, label, and bytes (or a reader, so a large set is never all in memory). */
export interface SystematicSample {
  file: string;
  label: number;
  bytes?: Uint8Array;
  read?: () => Promise<Uint8Array>;
}

export interface SystematicOptions {
  /** model input size S (default 224): square resize to floor(S*8/7), centre crop S */
  size?: number;
  /** images per classifier call (default 64) */
  batch?: number;
  /**
   * samples decoded together (one ffmpeg process per decoder per chunk; the next chunk decodes while the
   * current one is classified). Default from the first file's size: about 96 MiB of decoded pixels for
   * the 3 decoders of the 14 (fewer samples with the extras' 5 more decoders), 16..512 samples.
   */
  chunk?: number;
  /** extras to run besides the 14 (never in SR): true (default) for all, false for none, or a list of extra ids */
  extras?: boolean | readonly string[];
  /** called after each chunk */
  onProgress?: (done: number, total: number) => void;
}

/** A skipped sample. */
export interface SkippedSample {
  file: string;
  reason: string;
}

/** The suite part of the systematic JSON (the eval command adds the common fields). */
export interface SystematicResult {
  suite: 'systematic';
  /** population std of the 14 accuracies, in percentage points */
  sr: number;
  /** top-1 % per systematic id, in CONVENTIONS.md order */
  accuracy: Record<SystematicId, number>;
  /** top-1 % per extra id (never in SR) */
  extras: Record<string, number>;
  /** samples counted (after skipping) */
  n: number;
  /** samples that some decoder could not read: left out of every accuracy */
  skipped: SkippedSample[];
  size: number;
}

/**
 * SR: `np.std` (population, ddof 0) of the 14 systematic accuracies.
 * @param accuracy top-1 % for each of the 14 ids (more keys are ignored)
 * @throws UsageError when one of the 14 is missing or not a finite number
 * @example
 * systematicSr(Object.fromEntries(SYSTEMATIC_IDS.map((id, i) => [id, i < 7 ? 50 : 52]))) // 1
 */
export function systematicSr(accuracy: Readonly<Record<string, number>>): number {
  const v = SYSTEMATIC_IDS.map((id) => {
    const a = accuracy[id];
    if (typeof a !== 'number' || !Number.isFinite(a)) throw invalidOption(`accuracy['${id}']`, 'a finite number (percent)', a);
    return a;
  });
  const mean = v.reduce((s, x) => s + x, 0) / v.length;
  return Math.sqrt(v.reduce((s, x) => s + (x - mean) * (x - mean), 0) / v.length);
}

function extrasOf(opt: SystematicOptions['extras']): string[] {
  if (opt === undefined || opt === true) return [...EXTRA_IDS];
  if (opt === false) return [];
  if (!Array.isArray(opt)) throw invalidOption('extras', 'a boolean or a list of extra pipeline ids', opt);
  for (const id of opt) {
    if (!(EXTRA_IDS as readonly string[]).includes(id)) throw invalidOption('extras', `extra ids (${EXTRA_IDS.join(', ')})`, id);
  }
  return [...opt];
}

/** Pipelines that give the same pixels computed once: key -> ids. */
function pipelineKey(p: PipelineConfig): string {
  return JSON.stringify({ d: p.decoder, r: p.resizer });
}

/**
 * Packs S x S HWC uint8 RGB images into one NCHW float32 batch in [0, 1] (value / 255), what a
 * {@link Classifier} receives.
 * @param images images of `size` x `size` x 3
 * @param size S
 * @throws never (callers pass preprocessed images)
 * @example
 * packNchw([{ data: new Uint8Array(32 * 32 * 3).fill(255), width: 32, height: 32, channels: 3 }], 32)[5] // 1
 */
export function packNchw(images: readonly RgbImage[], size: number): Float32Array {
  const plane = size * size;
  const out = new Float32Array(images.length * 3 * plane);
  images.forEach((img, k) => {
    const base = k * 3 * plane;
    const d = img.data;
    for (let i = 0; i < plane; i++) {
      out[base + i] = d[i * 3]! / 255;
      out[base + plane + i] = d[i * 3 + 1]! / 255;
      out[base + 2 * plane + i] = d[i * 3 + 2]! / 255;
    }
  });
  return out;
}

/** The default chunk: about 96 MiB of decoded RGB for 3 decoders, from the first JPEG's header. */
async function defaultChunk(samples: readonly SystematicSample[], decoders: number, batch: number): Promise<number> {
  let px = 500 * 375;
  const first = samples.find((s) => s.bytes instanceof Uint8Array);
  const fs = first ? jpegFrameSize(first.bytes!) : null;
  if (fs) px = fs.width * fs.height;
  const n = Math.floor((96 * 1024 * 1024) / (px * 3 * Math.max(1, decoders / 3)));
  return Math.max(Math.min(16, batch), Math.min(512, n));
}

/**
 * Runs the systematic suite over samples with a classifier.
 * @param samples test samples (file name, integer label, bytes or a reader)
 * @param classify the model: NCHW float32 [0, 1] batch -> top-1 indices
 * @param opts `size` (default 224), `batch` (default 64), `chunk`, `extras` (default all), `onProgress`
 * @returns accuracies of the 14 ids and the extras (percent, unrounded), SR, n and the skipped files
 * @throws UsageError on bad options or labels; QrobustError when a needed library is missing, the
 *   classifier answers badly, or no sample could be decoded
 * @example
 * const always0 = async (x, n) => new Int32Array(n);
 * const r = await runSystematic([{ file: 'a.jpg', label: 0, bytes }], always0, { size: 32, extras: false });
 * [r.accuracy['dec-pil'], r.sr, r.n] // [100, 0, 1]
 */
export async function runSystematic(samples: readonly SystematicSample[], classify: Classifier, opts: SystematicOptions = {}): Promise<SystematicResult> {
  if (!Array.isArray(samples)) throw invalidOption('samples', 'an array of {file, label, bytes | read}', samples);
  if (typeof classify !== 'function') throw invalidOption('classify', 'a function (batch, n) => Promise<Int32Array>', classify);
  const size = int('size', opts.size ?? 224, 1, 4096);
  const batch = int('batch', opts.batch ?? 64, 1, 1 << 16);
  const extras = extrasOf(opts.extras);
  samples.forEach((s, i) => {
    if (typeof s !== 'object' || s === null || typeof s.file !== 'string') throw invalidOption(`samples[${i}].file`, 'a string', s?.file);
    int(`samples[${i}].label`, s.label, 0);
    if (!(s.bytes instanceof Uint8Array) && typeof s.read !== 'function') throw invalidOption(`samples[${i}]`, 'bytes (Uint8Array) or read()', s);
  });

  const ids = [...SYSTEMATIC_IDS, ...extras];
  const configs = ids.map((id) => getPipeline(id));
  // distinct decoders and distinct pipelines
  const decoders = new Map<string, PipelineConfig>();
  for (const p of configs) if (!decoders.has(decoderKey(p))) decoders.set(decoderKey(p), p);
  const groups = new Map<string, { p: PipelineConfig; ids: string[] }>();
  for (const p of configs) {
    const k = pipelineKey(p);
    if (!groups.has(k)) groups.set(k, { p, ids: [] });
    groups.get(k)!.ids.push(p.id);
  }
  const correct = new Map<string, number>([...groups.keys()].map((k) => [k, 0]));
  const skipped: SkippedSample[] = [];
  let counted = 0;

  // Reads and decodes one chunk with every distinct decoder at once (ffmpeg works in its own process
  // while the in-process decoders run).
  const decodeChunk = async (chunk: readonly SystematicSample[]) => {
    const failed = new Map<number, string>();
    const items = await Promise.all(chunk.map(async (s, i) => {
      try {
        const bytes = s.bytes ?? (await s.read!());
        if (!(bytes instanceof Uint8Array)) throw new QrobustError('read() did not give a Uint8Array');
        return { bytes, file: s.file };
      } catch (e) {
        failed.set(i, `cannot read: ${e instanceof Error ? e.message : String(e)}`);
        return { bytes: new Uint8Array(0), file: s.file };
      }
    }));
    const live = items.map((_, i) => i).filter((i) => !failed.has(i));
    const results = await Promise.all([...decoders].map(async ([key, p]) => ({ key, p, out: await decodeManyWith(live.map((i) => items[i]!), p) })));
    const decoded = new Map<string, (RgbImage | Error)[]>();
    for (const { key, p, out } of results) {
      const full: (RgbImage | Error)[] = new Array(items.length);
      live.forEach((i, k) => {
        const r = out[k]!;
        full[i] = r;
        if (r instanceof Error && !failed.has(i)) failed.set(i, `${p.decoder.library}: ${r.message}`);
      });
      decoded.set(key, full);
    }
    return { chunk, failed, decoded };
  };

  const chunkSize = opts.chunk !== undefined ? int('chunk', opts.chunk, 1, 1 << 16) : await defaultChunk(samples, decoders.size, batch);
  const starts: number[] = [];
  for (let st = 0; st < samples.length; st += chunkSize) starts.push(st);
  // Decoding of chunk k+1 runs while chunk k is resized and classified (hides ffmpeg's process start).
  let pending = starts.length ? decodeChunk(samples.slice(0, chunkSize)) : null;
  for (let c = 0; c < starts.length; c++) {
    const { chunk, failed, decoded } = await pending!;
    pending = c + 1 < starts.length ? decodeChunk(samples.slice(starts[c + 1]!, starts[c + 1]! + chunkSize)) : null;
    const keepAll = chunk.map((_, i) => i).filter((i) => !failed.has(i));
    for (const [i, reason] of [...failed].sort((a, b) => a[0] - b[0])) skipped.push({ file: chunk[i]!.file, reason });
    for (let b0 = 0; b0 < keepAll.length; b0 += batch) {
      const keep = keepAll.slice(b0, b0 + batch);
      const labels = keep.map((i) => chunk[i]!.label);
      for (const [key, g] of groups) {
        const imgs = decoded.get(decoderKey(g.p))!;
        const inputs = await Promise.all(keep.map((i) => preprocessPixels(imgs[i] as RgbImage, { pipeline: g.p.id, size, mode: 'square' })));
        const pred = await classify(packNchw(inputs, size), keep.length);
        if (!(pred instanceof Int32Array) || pred.length !== keep.length) {
          throw new QrobustError(`classifier: expected an Int32Array of ${keep.length} predictions for pipeline ${g.p.id} but received ${pred instanceof Int32Array ? `${pred.length} values` : typeof pred}`);
        }
        let n = 0;
        for (let k = 0; k < keep.length; k++) if (pred[k] === labels[k]) n++;
        correct.set(key, correct.get(key)! + n);
      }
      counted += keep.length;
    }
    opts.onProgress?.(Math.min(starts[c]! + chunkSize, samples.length), samples.length);
  }
  if (counted === 0) {
    throw new QrobustError(`systematic suite: none of the ${samples.length} samples could be decoded by every pipeline` +
      (skipped.length ? ` (first: ${skipped[0]!.file}: ${skipped[0]!.reason})` : ''));
  }
  const acc = new Map<string, number>();
  for (const [key, g] of groups) for (const id of g.ids) acc.set(id, (100 * correct.get(key)!) / counted);
  const accuracy = Object.fromEntries(SYSTEMATIC_IDS.map((id) => [id, acc.get(id)!])) as Record<SystematicId, number>;
  const extraAcc = Object.fromEntries(extras.map((id) => [id, acc.get(id)!]));
  return { suite: 'systematic', sr: systematicSr(accuracy), accuracy, extras: extraAcc, n: counted, skipped, size };
}

/**
 * The printed table: the 14 ids with their accuracy and the gap to the reference, SR, then the extras
 * apart, then the skipped files.
 * @param r a result of {@link runSystematic}
 * @throws never
 * @example
 * const r = await runSystematic([{ file: 'a.jpg', label: 0, bytes }], async (x, n) => new Int32Array(n), { size: 16, extras: false });
 * formatSystematicTable(r).includes('SR (population std of the 14): 0.000') // true
 */
export function formatSystematicTable(r: SystematicResult): string {
  const ref = r.accuracy['dec-pil'];
  const line = (id: string, a: number) => `  ${id.padEnd(26)} ${a.toFixed(2).padStart(7)} %  ${(a - ref >= 0 ? '+' : '') + (a - ref).toFixed(2)}`;
  const out = [`systematic noise (${r.n} images, S=${r.size}; accuracy, difference from dec-pil):`];
  out.push('  decoders');
  for (const id of SYSTEMATIC_IDS.slice(0, 3)) out.push(line(id, r.accuracy[id]));
  out.push('  resizers');
  for (const id of SYSTEMATIC_IDS.slice(3)) out.push(line(id, r.accuracy[id]));
  out.push(`  SR (population std of the 14): ${r.sr.toFixed(3)}`);
  const worst = SYSTEMATIC_IDS.reduce((w, id) => (r.accuracy[id] < r.accuracy[w] ? id : w), SYSTEMATIC_IDS[0] as SystematicId);
  out.push(`  hurts most: ${worst} (${(r.accuracy[worst] - ref).toFixed(2)} points)`);
  const ex = Object.entries(r.extras);
  if (ex.length) {
    out.push('  extras (not in SR)');
    for (const [id, a] of ex) out.push(line(id, a));
  }
  if (r.skipped.length) {
    out.push(`  skipped ${r.skipped.length} file(s):`);
    for (const s of r.skipped.slice(0, 20)) out.push(`    ${s.file}: ${s.reason}`);
    if (r.skipped.length > 20) out.push(`    ... and ${r.skipped.length - 20} more`);
  }
  return `${out.join('\n')}\n`;
}

/**
 * The library versions a systematic result depends on (recorded in its `versions`): sharp, libvips,
 * OpenCV (the addon's), libjpeg, ffmpeg, jpeg-js; null for a missing one.
 * @throws never
 * @example
 * (await systematicVersions())['jpeg-js'] // '0.4.4'
 */
export async function systematicVersions(): Promise<Record<'sharp' | 'libvips' | 'opencv' | 'libjpeg' | 'ffmpeg' | 'jpeg-js', string | null>> {
  let sharpV: string | null = null;
  let vips: string | null = null;
  try {
    const sharp = (await import('sharp')).default;
    sharpV = sharp.versions.sharp ?? null;
    vips = sharp.versions.vips ?? null;
  } catch { /* absent */ }
  let jpegjs: string | null = null;
  try {
    const { createRequire } = await import('node:module');
    jpegjs = (createRequire(import.meta.url)('jpeg-js/package.json') as { version: string }).version;
  } catch { /* absent */ }
  let libjpeg: string | null = null;
  try {
    libjpeg = native().info().libraries.libjpeg.version;
  } catch { /* no addon */ }
  return {
    sharp: sharpV, libvips: vips, opencv: opencvAvailable() ? (opencvNative().opencvVersion ?? null) : null,
    libjpeg, ffmpeg: ffmpegVersion(), 'jpeg-js': jpegjs,
  };
}
