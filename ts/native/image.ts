/**
 * Typed contract of the image functions in the addon (native/binding/image.cc), and the checked
 * wrappers the rest of ts/ calls: a libjpeg(-turbo) decoder/encoder and Pillow-exact resampling.
 * Every wrapper checks its arguments first (a {@link UsageError} naming the argument), then calls the
 * addon, whose work runs off the main thread. Addons built without libjpeg export
 * `imageAvailable: false`; the wrappers then throw a {@link QrobustError} saying so.
 */
import { QrobustError, UsageError, invalidOption } from '../util/errors.ts';
import { int, oneOf } from '../util/is.ts';
import { native } from './binding.ts';

/** What `jpegDecode` resolves to. */
export interface NativeDecoded {
  data: Uint8Array;
  width: number;
  height: number;
  channels: 3;
  /** components in the file: 1 (grey, replicated to RGB), 3, or 4 (CMYK/YCCK, converted as Pillow does) */
  components: number;
  progressive: boolean;
  /** '4:2:0', '4:4:4', '4:2:2', 'grey', ... */
  subsampling: string;
}

/** The native functions (absent when `imageAvailable` is false). */
export interface ImageNative {
  imageAvailable?: boolean;
  jpegDecode?(src: Uint8Array, dct: number, fancyUpsampling: boolean): Promise<NativeDecoded>;
  jpegEncode?(rgb: Uint8Array, width: number, height: number, quality: number): Promise<Uint8Array>;
  pilResize?(src: Uint8Array, width: number, height: number, channels: number, outWidth: number, outHeight: number,
    filter: number, winX: number, winY: number, winW: number, winH: number): Promise<Uint8Array>;
  pilReduce?(src: Uint8Array, width: number, height: number, channels: number, fx: number, fy: number): Promise<Uint8Array>;
}

/** libjpeg IDCT methods; the index is the wire value (qrb::image::Dct). */
export const DCT_METHODS = ['islow', 'ifast', 'float'] as const;
export type DctMethod = (typeof DCT_METHODS)[number];

/** Pillow's resampling filters; the index is the wire value (qrb::image::Filter). */
export const PIL_FILTERS = ['nearest', 'box', 'bilinear', 'hamming', 'bicubic', 'lanczos'] as const;
export type PilFilter = (typeof PIL_FILTERS)[number];

/** An interleaved uint8 image. */
export interface Image8 {
  data: Uint8Array;
  width: number;
  height: number;
  channels: number;
}

const MAX_SIDE = 1 << 20;

type Present<T> = { [K in keyof T]-?: T[K] };

/**
 * The image part of the addon.
 * @throws QrobustError when the addon was built without libjpeg (or is not built)
 * @example
 * imageNative().imageAvailable // true
 */
export function imageNative(): Present<ImageNative> {
  const n = native();
  if (!n.imageAvailable || !n.jpegDecode) {
    throw new QrobustError('the qrobust addon was built without libjpeg (image functions unavailable): install libjpeg-dev (apt) and rebuild with `npm run build`');
  }
  return n as unknown as Present<ImageNative>;
}

/**
 * Whether the addon has the image functions (libjpeg was found at build time).
 * @throws never
 * @example
 * if (!imageAvailable()) console.log('rebuild with libjpeg-dev');
 */
export function imageAvailable(): boolean {
  try {
    return native().imageAvailable === true;
  } catch {
    return false;
  }
}

function checkBytes(name: string, v: unknown): Uint8Array {
  if (!(v instanceof Uint8Array)) throw invalidOption(name, 'Uint8Array', v);
  return v;
}

function checkImage(name: string, img: Image8): void {
  if (typeof img !== 'object' || img === null) throw invalidOption(name, 'an image {data, width, height, channels}', img);
  checkBytes(`${name}.data`, img.data);
  int(`${name}.width`, img.width, 1, MAX_SIDE);
  int(`${name}.height`, img.height, 1, MAX_SIDE);
  int(`${name}.channels`, img.channels, 1, 4);
  const need = img.width * img.height * img.channels;
  if (img.data.length !== need) {
    throw new UsageError(`Expected ${need} bytes (${img.width}x${img.height}x${img.channels}) for ${name}.data but received ${img.data.length}`);
  }
}

/**
 * Decodes a JPEG with libjpeg(-turbo) to interleaved RGB (greyscale replicated, EXIF orientation
 * ignored: Pillow's `Image.open(f).convert('RGB')` for `islow` + fancy upsampling).
 * @param bytes the JPEG file
 * @param opts `dct` ('islow' default, 'ifast', 'float'), `fancyUpsampling` (default true)
 * @throws UsageError on bad options; Error with the libjpeg message ("corrupt JPEG: ...", "truncated JPEG: ...") on bad data
 * @example
 * const img = await jpegDecode(bytes, { dct: 'ifast' }); img.channels // 3
 */
export async function jpegDecode(bytes: Uint8Array, opts: { dct?: DctMethod; fancyUpsampling?: boolean } = {}): Promise<NativeDecoded> {
  checkBytes('bytes', bytes);
  const dct = oneOf('dct', opts.dct ?? 'islow', DCT_METHODS);
  const fancy = opts.fancyUpsampling ?? true;
  if (typeof fancy !== 'boolean') throw invalidOption('fancyUpsampling', 'boolean', fancy);
  return imageNative().jpegDecode(bytes, DCT_METHODS.indexOf(dct), fancy);
}

/**
 * Encodes RGB as a JPEG with Pillow's `save(quality=q)` defaults (4:2:0, standard tables, baseline,
 * no optimisation, not progressive).
 * @param img a 3-channel image
 * @param quality 1..100
 * @throws UsageError on a bad image or quality
 * @example
 * const jpg = await jpegEncode({ data, width: 64, height: 48, channels: 3 }, 75);
 */
export async function jpegEncode(img: Image8, quality: number): Promise<Uint8Array> {
  checkImage('image', img);
  if (img.channels !== 3) throw invalidOption('image.channels', '3', img.channels);
  int('quality', quality, 1, 100);
  return imageNative().jpegEncode(img.data, img.width, img.height, quality);
}

/**
 * Pillow's `im.resize((width, height), filter)`, bit-exact, optionally only a window of the output
 * (identical bytes to resizing fully and then cropping, without computing the rest).
 * @param img source image (1..4 channels)
 * @param width output width
 * @param height output height
 * @param filter one of {@link PIL_FILTERS}
 * @param window optional `{x, y, width, height}` inside the output
 * @throws UsageError on bad sizes, filter or window
 * @example
 * const out = await pilResize(img, 256, 256, 'bilinear', { x: 16, y: 16, width: 224, height: 224 });
 */
export async function pilResize(img: Image8, width: number, height: number, filter: PilFilter,
  window?: { x: number; y: number; width: number; height: number }): Promise<Image8> {
  checkImage('image', img);
  int('width', width, 1, MAX_SIDE);
  int('height', height, 1, MAX_SIDE);
  oneOf('filter', filter, PIL_FILTERS);
  const win = window ?? { x: 0, y: 0, width, height };
  int('window.x', win.x, 0, width - 1);
  int('window.y', win.y, 0, height - 1);
  int('window.width', win.width, 1, width - win.x);
  int('window.height', win.height, 1, height - win.y);
  const data = await imageNative().pilResize(img.data, img.width, img.height, img.channels, width, height,
    PIL_FILTERS.indexOf(filter), win.x, win.y, win.width, win.height);
  return { data, width: win.width, height: win.height, channels: img.channels };
}

/**
 * Pillow's `im.reduce((fx, fy))`: box average over fx x fy blocks, output ceil(w/fx) x ceil(h/fy),
 * partial blocks at the right and bottom edges averaged over what they hold.
 * @param img source image (1..4 channels)
 * @param fx horizontal factor (1..width)
 * @param fy vertical factor (1..height), default fx
 * @throws UsageError on bad factors
 * @example
 * const small = await pilReduce(img, 4); small.width === Math.ceil(img.width / 4) // true
 */
export async function pilReduce(img: Image8, fx: number, fy: number = fx): Promise<Image8> {
  checkImage('image', img);
  int('factor x', fx, 1, img.width);
  int('factor y', fy, 1, img.height);
  if (fx * fy > 65536) throw invalidOption('factor', 'fx*fy <= 65536', fx * fy);
  const data = await imageNative().pilReduce(img.data, img.width, img.height, img.channels, fx, fy);
  return { data, width: Math.ceil(img.width / fx), height: Math.ceil(img.height / fy), channels: img.channels };
}
