/**
 * Runs a pipeline descriptor (ts/systematic/pipelines.ts): decode, resize, centre crop, giving what the
 * model receives before normalisation (HWC RGB uint8).
 *
 * Geometry (CONVENTIONS.md "Pipelines"):
 * - `onecrop` (clean, adversarial, corruption suites): torchvision `Resize(floor(S*8/7))` then
 *   `CenterCrop(S)`: the shorter side becomes R = floor(S*8/7), the longer side int(R*long/short)
 *   (truncated), the crop offset round((resized - S)/2) with Python's round-half-even.
 * - `square` (systematic suite, ImageNet-S): resize to R x R, then the same centre crop.
 * The crop is computed as a window of the resize (same bytes as resize-then-crop, less work).
 *
 * Decoding: JPEG files (FF D8 FF) go through the pipeline's decoder: our libjpeg binding (IDCT /
 * upsampling options), OpenCV's imdecode (BGR turned into RGB; EXIF orientation applied, as OpenCV
 * does), the ffmpeg program (ts/systematic/ffmpeg.ts), sharp (libvips; no auto-orientation) or jpeg-js.
 * Other files (PNG, ...) are decoded by sharp to 8-bit RGB whatever the pipeline (lossless formats
 * decode exactly; the decoder choice then makes no difference). Grey is replicated and alpha dropped,
 * as Pillow's convert('RGB') does. Every decoder hands back RGB.
 *
 * Resizing: Pillow (our exact re-implementation, computing only the crop window), cv2.resize (our
 * OpenCV binding) or sharp (`resize(w, h, {kernel, fit: 'fill'})` on raw pixels, so no JPEG
 * shrink-on-load), then the crop.
 */
import { QrobustError, UsageError, invalidOption } from '../util/errors.ts';
import { int, oneOf } from '../util/is.ts';
import { jpegDecode, pilResize, type Image8 } from '../native/image.ts';
import { cvDecode, cvResize, CV_INTERPOLATIONS, type CvInterpolation } from '../native/opencv.ts';
import { native } from '../native/binding.ts';
import { REFERENCE_PIPELINE, SHARP_KERNELS, requireImplemented, type PipelineConfig } from './pipelines.ts';
import { ffmpegDecodeMany } from './ffmpeg.ts';

/** The model input (before normalisation). */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
  channels: 3;
}

export const PREPROCESS_MODES = ['onecrop', 'square'] as const;
export type PreprocessMode = (typeof PREPROCESS_MODES)[number];

export interface PreprocessOptions {
  /** a pipeline id (default `dec-pil`) */
  pipeline?: string;
  /** model input size S (default 224) */
  size?: number;
  /** `onecrop` (default) or `square` */
  mode?: PreprocessMode;
}

/** Python's round() (half to even), as torchvision uses for crop offsets. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * The resize target and crop offsets of a pipeline input.
 * @param width decoded width
 * @param height decoded height
 * @param size model input size S
 * @param mode `onecrop` or `square`
 * @throws UsageError on non-positive sizes or an unknown mode
 * @example
 * cropGeometry(500, 375, 224, 'onecrop') // { rw: 341, rh: 256, left: 58, top: 16 }
 * cropGeometry(500, 375, 224, 'square')  // { rw: 256, rh: 256, left: 16, top: 16 }
 */
export function cropGeometry(width: number, height: number, size: number, mode: PreprocessMode): { rw: number; rh: number; left: number; top: number } {
  int('width', width, 1);
  int('height', height, 1);
  int('size', size, 1, 1 << 16);
  oneOf('mode', mode, PREPROCESS_MODES);
  const t = Math.floor((size * 8) / 7);
  let rw = t;
  let rh = t;
  if (mode === 'onecrop') {
    if (width <= height) rh = Math.floor((t * height) / width);
    else rw = Math.floor((t * width) / height);
  }
  return { rw, rh, left: roundHalfEven((rw - size) / 2), top: roundHalfEven((rh - size) / 2) };
}

/** True for a JPEG (SOI followed by a marker). */
export function isJpeg(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}

function toRgb(data: Uint8Array, width: number, height: number, channels: number): RgbImage {
  if (channels === 3) return { data, width, height, channels: 3 };
  const n = width * height;
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    if (channels <= 2) {
      out[i * 3] = out[i * 3 + 1] = out[i * 3 + 2] = data[i * channels]!;
    } else {
      out[i * 3] = data[i * channels]!;
      out[i * 3 + 1] = data[i * channels + 1]!;
      out[i * 3 + 2] = data[i * channels + 2]!;
    }
  }
  return { data: out, width, height, channels: 3 };
}

/**
 * Decodes a non-JPEG file (PNG, ...) exactly with sharp: 8-bit, no EXIF rotation, grey replicated,
 * alpha dropped, and no ICC transform (`keepIccProfile` stops sharp converting an embedded profile to
 * sRGB; Pillow ignores profiles too).
 * @throws QrobustError naming the file when sharp cannot read it
 */
async function decodeLossless(bytes: Uint8Array, file: string): Promise<RgbImage> {
  const sharp = (await import('sharp')).default;
  try {
    const { data, info } = await sharp(bytes, { failOn: 'error' }).keepIccProfile().raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    return toRgb(new Uint8Array(data.buffer, data.byteOffset, data.length), info.width, info.height, info.channels);
  } catch (e) {
    throw new QrobustError(`Cannot decode image ${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function named(file: string, e: unknown): QrobustError {
  if (e instanceof QrobustError) return e;
  return new QrobustError(`Cannot decode ${file}: ${e instanceof Error ? e.message : String(e)}`);
}

/** One JPEG through a non-ffmpeg decoder (ffmpeg goes through {@link decodeManyWith}). */
async function decodeJpeg(bytes: Uint8Array, file: string, p: PipelineConfig): Promise<RgbImage> {
  const d = p.decoder;
  try {
    switch (d.library) {
      case 'libjpeg': {
        const img = await jpegDecode(bytes, { dct: d.dct, fancyUpsampling: d.fancyUpsampling });
        return { data: img.data, width: img.width, height: img.height, channels: 3 };
      }
      case 'opencv': {
        const img = await cvDecode(bytes);
        return { data: img.data, width: img.width, height: img.height, channels: 3 };
      }
      case 'sharp': {
        // sharp's defaults: no auto-orientation (only .rotate()/.autoOrient() rotate), libvips' JPEG loader.
        const sharp = (await import('sharp')).default;
        const { data, info } = await sharp(bytes, { failOn: 'error' }).raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
        return toRgb(new Uint8Array(data.buffer, data.byteOffset, data.length), info.width, info.height, info.channels);
      }
      case 'jpeg-js': {
        const jpeg = (await import('jpeg-js')).default;
        const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false });
        return { data: img.data, width: img.width, height: img.height, channels: 3 };
      }
      case 'ffmpeg':
        break;
    }
  } catch (e) {
    throw named(file, e);
  }
  const [r] = await ffmpegDecodeMany([{ bytes, file }], { swsFlags: d.options?.sws_flags });
  if (r instanceof Error) throw named(file, r);
  return r!;
}

/**
 * The decoder of a pipeline applied to a file's bytes.
 * @param bytes the encoded file
 * @param file its name (for messages)
 * @param pipeline a pipeline id or descriptor (default `dec-pil`)
 * @throws UsageError for an unknown id; QrobustError naming the file for corrupt data or naming a missing library (OpenCV, ffmpeg)
 * @example
 * const img = await decodeWith(bytes, 'a.jpg', 'dec-opencv'); img.channels // 3 (RGB)
 */
export async function decodeWith(bytes: Uint8Array, file: string, pipeline: string | PipelineConfig = REFERENCE_PIPELINE): Promise<RgbImage> {
  const p = typeof pipeline === 'string' ? requireImplemented(pipeline) : pipeline;
  if (!(bytes instanceof Uint8Array)) throw invalidOption('bytes', 'Uint8Array', bytes);
  if (!isJpeg(bytes)) return decodeLossless(bytes, file);
  return decodeJpeg(bytes, file, p);
}

/**
 * The decoder of a pipeline applied to many files; the ffmpeg decoders use one process for the lot.
 * A file that cannot be decoded gives an Error naming it in its slot; the others go on.
 * @param items files' bytes and names
 * @param pipeline a pipeline id or descriptor
 * @param opts `concurrency` of the in-process decoders (default 4)
 * @throws UsageError for an unknown id; FfmpegNotFoundError / QrobustError when a needed library is missing
 * @example
 * const out = await decodeManyWith([{ bytes, file: 'a.jpg' }], 'dec-ffmpeg'); out[0] instanceof Error // false
 */
export async function decodeManyWith(items: readonly { bytes: Uint8Array; file: string }[], pipeline: string | PipelineConfig = REFERENCE_PIPELINE,
  opts: { concurrency?: number } = {}): Promise<(RgbImage | Error)[]> {
  const p = typeof pipeline === 'string' ? requireImplemented(pipeline) : pipeline;
  const conc = int('concurrency', opts.concurrency ?? 4, 1, 256);
  const out: (RgbImage | Error)[] = new Array(items.length);
  const jpegs: number[] = [];
  items.forEach((it, i) => { if (p.decoder.library === 'ffmpeg' && isJpeg(it.bytes)) jpegs.push(i); });
  if (jpegs.length) {
    const dec = await ffmpegDecodeMany(jpegs.map((i) => items[i]!), { swsFlags: p.decoder.library === 'ffmpeg' ? p.decoder.options?.sws_flags : undefined });
    jpegs.forEach((i, k) => { out[i] = dec[k]!; });
  }
  const rest = items.map((_, i) => i).filter((i) => out[i] === undefined);
  let next = 0;
  const missingLibrary = (e: unknown) => e instanceof QrobustError && /is not available|built without/.test(e.message);
  const worker = async () => {
    while (next < rest.length) {
      const i = rest[next++]!;
      try {
        out[i] = await decodeWith(items[i]!.bytes, items[i]!.file, p);
      } catch (e) {
        if (missingLibrary(e)) throw e;
        out[i] = e instanceof Error ? e : new QrobustError(String(e));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(conc, rest.length) }, worker));
  return out;
}

function crop(img: Image8, win: { x: number; y: number; width: number; height: number }): Uint8Array {
  if (win.x === 0 && win.y === 0 && win.width === img.width && win.height === img.height) return img.data;
  const c = img.channels;
  const out = new Uint8Array(win.width * win.height * c);
  for (let y = 0; y < win.height; y++) {
    const from = ((win.y + y) * img.width + win.x) * c;
    out.set(img.data.subarray(from, from + win.width * c), y * win.width * c);
  }
  return out;
}

/**
 * The resizer of a pipeline, to exactly `width` x `height` (optionally only a window of it).
 * @param img decoded RGB
 * @param width output width
 * @param height output height
 * @param pipeline a pipeline id or descriptor
 * @param window optional part of the output to return
 * @throws UsageError on bad sizes or window; QrobustError when OpenCV is missing (rs-opencv-*)
 * @example
 * const out = await resizeWith(img, 256, 256, 'rs-opencv-area');
 */
export async function resizeWith(img: RgbImage, width: number, height: number, pipeline: string | PipelineConfig = REFERENCE_PIPELINE,
  window?: { x: number; y: number; width: number; height: number }): Promise<RgbImage> {
  const p = typeof pipeline === 'string' ? requireImplemented(pipeline) : pipeline;
  const r = p.resizer;
  if (r.library === 'pil') {
    const out: Image8 = await pilResize(img, width, height, r.filter, window);
    return { data: out.data, width: out.width, height: out.height, channels: 3 };
  }
  int('width', width, 1, 1 << 20);
  int('height', height, 1, 1 << 20);
  const win = window ?? { x: 0, y: 0, width, height };
  int('window.x', win.x, 0, width - 1);
  int('window.y', win.y, 0, height - 1);
  int('window.width', win.width, 1, width - win.x);
  int('window.height', win.height, 1, height - win.y);
  let full: Image8;
  if (r.library === 'opencv') {
    full = await cvResize(img, width, height, oneOf('kernel', r.kernel, Object.keys(CV_INTERPOLATIONS) as CvInterpolation[]));
  } else {
    const kernel = oneOf('kernel', r.kernel, SHARP_KERNELS);
    const sharp = (await import('sharp')).default;
    // Raw pixels in, so libvips cannot shrink on load; fit 'fill' ignores the aspect ratio (the square resize).
    const data = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
      .resize(width, height, { kernel, fit: 'fill' }).raw().toBuffer();
    full = { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width, height, channels: 3 };
  }
  return { data: crop(full, win), width: win.width, height: win.height, channels: 3 };
}

/**
 * Resize + centre crop of decoded pixels (the part of {@link preprocess} after decoding).
 * @param img decoded RGB
 * @param opts pipeline, size, mode; `crop: false` returns the whole resized image
 * @throws UsageError on bad options
 * @example
 * const x = await preprocessPixels(img, { pipeline: 'rs-pil-bicubic', size: 32, mode: 'square' });
 */
export async function preprocessPixels(img: RgbImage, opts: PreprocessOptions & { crop?: boolean } = {}): Promise<RgbImage> {
  const p = requireImplemented(opts.pipeline ?? REFERENCE_PIPELINE);
  const size = int('size', opts.size ?? 224, 1, 1 << 16);
  const mode = oneOf('mode', opts.mode ?? 'onecrop', PREPROCESS_MODES);
  const g = cropGeometry(img.width, img.height, size, mode);
  if (opts.crop === false) return resizeWith(img, g.rw, g.rh, p);
  return resizeWith(img, g.rw, g.rh, p, { x: g.left, y: g.top, width: size, height: size });
}

/**
 * The data layer's hook: encoded bytes -> the model input of a pipeline (HWC RGB uint8, S x S).
 * @param bytes the encoded file
 * @param file its name, for error messages
 * @param opts `pipeline` (default `dec-pil`), `size` S (default 224), `mode` (`onecrop` default, `square` for the systematic suite)
 * @throws UsageError on an unknown pipeline id or bad options (listing the allowed values);
 *   QrobustError naming `file` for a corrupt or truncated image, or naming a missing library
 * @example
 * const x = await preprocess(bytes, 'n01440764_10026.JPEG', { pipeline: 'dec-pil', size: 224, mode: 'onecrop' });
 * x.width === 224 && x.channels === 3 // true
 */
export async function preprocess(bytes: Uint8Array, file: string, opts: PreprocessOptions = {}): Promise<RgbImage> {
  const p = requireImplemented(opts.pipeline ?? REFERENCE_PIPELINE);
  const img = await decodeWith(bytes, file, p);
  return preprocessPixels(img, { ...opts, pipeline: p.id });
}

/**
 * A provider in the shape of ts/data's `PreprocessProvider`, so the data layer can register the exact
 * pipeline (`registerPreprocess(pilPreprocessProvider('dec-pil'), { replace: true })`). ONECROP geometry.
 * @param id an implemented pipeline id (default `dec-pil`)
 * @throws UsageError / PipelineNotImplementedError for unknown or pending ids
 * @example
 * const { encoded } = pilPreprocessProvider().create(32); const x = await encoded(bytes, 'a.jpg');
 */
export function pilPreprocessProvider(id: string = REFERENCE_PIPELINE): {
  id: string; impl: string; standIn: false; describe: string;
  create(size: number): {
    encoded: (bytes: Uint8Array, file: string) => Promise<RgbImage>;
    pixels: (img: { data: Uint8Array; width: number; height: number; channels: number }, file: string) => Promise<RgbImage>;
  };
} {
  const p = requireImplemented(id);
  return {
    id: p.id,
    impl: implTag(p),
    standIn: false,
    describe: `${p.describe}; ONECROP (shorter side to floor(S*8/7), centre crop S)`,
    create(size: number) {
      int('size', size, 1, 1 << 16);
      return {
        encoded: (bytes, file) => preprocess(bytes, file, { pipeline: p.id, size, mode: 'onecrop' }),
        pixels: async (img, file) => {
          int(`${file}: channels`, img.channels, 1, 4);
          return preprocessPixels(toRgb(img.data, img.width, img.height, img.channels), { pipeline: p.id, size, mode: 'onecrop' });
        },
      };
    },
  };
}

/**
 * The implementation tag recorded next to numbers a pipeline produced, e.g.
 * `pil-exact/1/dec-pil/libjpeg-turbo 2.1.5`.
 * @throws QrobustError when the addon is not built
 * @example
 * implTag(requireImplemented('dec-pil')).startsWith('pil-exact/1/') // true
 */
export function implTag(p: PipelineConfig): string {
  const lib = native().info().libraries.libjpeg.version ?? 'libjpeg?';
  return `pil-exact/${p.version}/${p.id}/${lib}`;
}

/**
 * Writes RGB as a PNG (lossless, via sharp).
 * @param img the image
 * @param path destination ending in .png
 * @throws UsageError when the path does not end in .png; QrobustError when writing fails
 * @example
 * await writePng(x, '/tmp/x.png');
 */
export async function writePng(img: { data: Uint8Array; width: number; height: number; channels: number }, path: string): Promise<void> {
  if (!/\.png$/i.test(path)) throw new UsageError(`Expected a path ending in .png for --out but received '${path}'`);
  const sharp = (await import('sharp')).default;
  try {
    await sharp(img.data, { raw: { width: img.width, height: img.height, channels: img.channels as 1 | 2 | 3 | 4 } }).png().toFile(path);
  } catch (e) {
    throw new QrobustError(`Cannot write ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
}
