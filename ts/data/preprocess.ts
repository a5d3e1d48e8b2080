/**
 * The decode/preprocess hook: encoded file bytes (or stored pixels) -> the model input, an S x S RGB
 * uint8 image (HWC). Readers never decode; the batch builder calls the hook chosen by id.
 *
 * `dec-pil` (the default) is the reference pipeline of CONVENTIONS.md ("Pipelines", ONECROP): pil decode,
 * pil-bilinear resize of the shorter side to floor(S*8/7), centre crop S, implemented exactly (bit-identical
 * to Pillow 9.4) in ts/systematic (issue 6) and resolved here on first use. `sharp-standin` is the earlier
 * stand-in (sharp decode, float triangle-filter resize), kept as an explicit id and used under `dec-pil`
 * only when the addon was built without libjpeg, with a warning. Anything recorded with preprocessed
 * numbers (e.g. fashion-mnist's mean/std) names the implementation via `impl`, so the two never mix.
 */
import sharp from 'sharp';
import { QrobustError, UsageError, invalidOption } from '../util/errors.ts';
import { int } from '../util/is.ts';
import type { HwcImage } from './types.ts';
import { crop, resizedCrop } from './resize.ts';
import { imageAvailable } from '../native/image.ts';
import { pilPreprocessProvider } from '../systematic/preprocess.ts';

/** The model input: S x S x 3, interleaved RGB, uint8. */
export interface RgbImage {
  data: Uint8Array;
  width: number;
  height: number;
  channels: 3;
}

/** Encoded bytes -> model input. `file` is for messages (and decoders that look at the extension). */
export type Preprocess = (bytes: Uint8Array, file: string) => Promise<RgbImage>;

/** Stored pixels (HWC, 1 or 3 channels) -> model input. */
export type PixelPreprocess = (img: HwcImage, file: string) => Promise<RgbImage>;

/** A named preprocess implementation, registered by id. */
export interface PreprocessProvider {
  /** the id users name, e.g. `dec-pil` */
  readonly id: string;
  /** the implementation tag recorded next to numbers it produced, e.g. `sharp-standin/sharp-0.35.5/vips-8.18.7` */
  readonly impl: string;
  /** true for a stand-in that the exact pipeline may replace */
  readonly standIn: boolean;
  /** one line for docs and `data info` */
  readonly describe: string;
  /** Builds the two functions for model input size `size`. */
  create(size: number): { encoded: Preprocess; pixels: PixelPreprocess };
}

/** The id the data layer uses when none is given: the reference pipeline. */
export const DEFAULT_PREPROCESS_ID = 'dec-pil';

/** The id of the sharp stand-in itself. */
export const SHARP_STANDIN_ID = 'sharp-standin';

/**
 * The resize target of ONECROP: the shorter side becomes floor(S*8/7) (36 for 32, 256 for 224).
 * @param size the model input size S
 * @throws UsageError when `size` is not an integer >= 1
 * @example
 * onecropShorterSide(32) // 36
 * onecropShorterSide(224) // 256
 */
export function onecropShorterSide(size: number): number {
  int('size', size, 1, 1 << 16);
  return Math.floor((size * 8) / 7);
}

/**
 * Python's round() (half to even), as torchvision uses it for crop offsets and box sizes.
 * @param x the value
 * @throws never
 * @example
 * roundHalfEven(58.5) // 58
 */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * The geometry of ONECROP for a `width` x `height` image: the resized size (shorter side to
 * floor(S*8/7), longer side truncated as torchvision's Resize(int) does) and the centre crop offsets.
 * @param width input width
 * @param height input height
 * @param size model input size S
 * @throws UsageError on non-positive sizes
 * @example
 * onecropGeometry(64, 64, 32) // { rw: 36, rh: 36, left: 2, top: 2 }
 */
export function onecropGeometry(width: number, height: number, size: number): { rw: number; rh: number; left: number; top: number } {
  int('width', width, 1);
  int('height', height, 1);
  const t = onecropShorterSide(size);
  let rw: number;
  let rh: number;
  if (width <= height) {
    rw = t;
    rh = Math.floor((t * height) / width);
  } else {
    rh = t;
    rw = Math.floor((t * width) / height);
  }
  return { rw, rh, left: roundHalfEven((rw - size) / 2), top: roundHalfEven((rh - size) / 2) };
}

/**
 * Grey (1 channel, or grey + alpha) -> RGB by replication; RGB passes through; RGBA drops alpha (as Pillow's
 * convert('RGB')).
 * @param img HWC uint8
 * @throws UsageError for other channel counts
 * @example
 * toRgb({ data: Uint8Array.of(9), width: 1, height: 1, channels: 1 }).data // [9, 9, 9]
 */
export function toRgb(img: HwcImage): RgbImage {
  const { width, height, channels } = img;
  if (channels === 3) return { data: img.data, width, height, channels: 3 };
  const n = width * height;
  const out = new Uint8Array(n * 3);
  if (channels === 1 || channels === 2) {
    for (let i = 0; i < n; i++) {
      const v = img.data[i * channels]!;
      out[i * 3] = v;
      out[i * 3 + 1] = v;
      out[i * 3 + 2] = v;
    }
  } else if (channels === 4) {
    for (let i = 0; i < n; i++) {
      out[i * 3] = img.data[i * 4]!;
      out[i * 3 + 1] = img.data[i * 4 + 1]!;
      out[i * 3 + 2] = img.data[i * 4 + 2]!;
    }
  } else {
    throw invalidOption('channels', '1, 2, 3 or 4', channels);
  }
  return { data: out, width, height, channels: 3 };
}

/**
 * Decodes an image file with sharp to raw RGB (alpha dropped, grey replicated), at full size: no
 * shrink-on-load, no EXIF rotation (Pillow applies neither).
 * @param bytes the encoded file
 * @param file its name, for the error message
 * @throws QrobustError naming the file when sharp cannot decode it
 * @example
 * const img = await decodeRgb(jpegBytes, 'a.jpg'); img.channels // 3
 */
export async function decodeRgb(bytes: Uint8Array, file: string): Promise<RgbImage> {
  try {
    const { data, info } = await sharp(bytes, { failOn: 'error' }).raw().toBuffer({ resolveWithObject: true });
    return toRgb({ data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height, channels: info.channels });
  } catch (e) {
    throw new QrobustError(`Cannot decode image ${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/**
 * The stand-in ONECROP on an RGB image: float triangle-filter resize (resize.ts), then the centre crop.
 * @param img RGB HWC uint8
 * @param size model input size S
 * @throws UsageError on bad sizes
 * @example
 * standInOnecrop(img64, 32).width // 32
 */
export function standInOnecrop(img: RgbImage, size: number): RgbImage {
  const g = onecropGeometry(img.width, img.height, size);
  const resized = resizedCrop(img, { top: 0, left: 0, height: img.height, width: img.width }, g.rw, g.rh);
  return crop(resized, g.left, g.top, size, size);
}

function sharpImpl(): string {
  const v = sharp.versions as { sharp?: string; vips?: string };
  return `sharp-standin/3/sharp-${v.sharp ?? '?'}/vips-${v.vips ?? '?'}`;
}

/**
 * The sharp stand-in (see the module comment). ONECROP applies to every input, S x S ones included (they are
 * enlarged to floor(S*8/7) and cropped back), as the reference pipeline does.
 */
const sharpStandIn: PreprocessProvider = {
  id: SHARP_STANDIN_ID,
  impl: sharpImpl(),
  standIn: true,
  describe: 'STAND-IN for dec-pil: sharp decode to RGB, float bilinear (triangle, Pillow-style support) resize of the shorter side to floor(S*8/7), centre crop S',
  create(size: number) {
    int('size', size, 1, 1 << 16);
    return {
      encoded: async (bytes, file) => standInOnecrop(await decodeRgb(bytes, file), size),
      pixels: async (img) => standInOnecrop(toRgb(img), size),
    };
  },
};

const registry = new Map<string, PreprocessProvider>();
registry.set(SHARP_STANDIN_ID, sharpStandIn);
// `dec-pil` is the exact Pillow pipeline of ts/systematic (issue 6) whenever the addon was built with
// libjpeg; it is resolved on first use (not at import), so importing ts/data never loads the addon.
// Without libjpeg the stand-in serves under the id and says so (stderr warning, `impl` tag, `standIn`).
let decPilResolved = false;
function resolveDecPil(): void {
  if (decPilResolved || registry.has(DEFAULT_PREPROCESS_ID)) return;
  decPilResolved = true;
  if (imageAvailable()) {
    registry.set(DEFAULT_PREPROCESS_ID, pilPreprocessProvider(DEFAULT_PREPROCESS_ID));
  } else {
    process.stderr.write('warning: the addon was built without libjpeg: dec-pil falls back to the sharp stand-in (not Pillow-exact)\n');
    registry.set(DEFAULT_PREPROCESS_ID, { ...sharpStandIn, id: DEFAULT_PREPROCESS_ID });
  }
}

/**
 * Registers a preprocess implementation under its id. Replacing an existing id needs `replace: true`
 * (that is how ts/systematic swaps the real Pillow `dec-pil` in for the stand-in).
 * @param p the provider
 * @param opts `replace` to overwrite an existing id
 * @throws UsageError when the id exists and `replace` is not set
 * @example
 * registerPreprocess({ id: 'dec-pil', impl: 'pil-exact/1', standIn: false, describe: 'Pillow', create }, { replace: true });
 */
export function registerPreprocess(p: PreprocessProvider, opts: { replace?: boolean } = {}): void {
  if (p.id === DEFAULT_PREPROCESS_ID) resolveDecPil();
  if (registry.has(p.id) && !opts.replace) throw new UsageError(`Preprocess id '${p.id}' is already registered (pass replace: true to swap it)`);
  registry.set(p.id, p);
}

/**
 * The registered ids, sorted.
 * @throws never
 * @example
 * preprocessIds() // ['dec-pil', 'sharp-standin']
 */
export function preprocessIds(): string[] {
  resolveDecPil();
  return [...registry.keys()].sort();
}

/**
 * The provider registered under `id`.
 * @param id e.g. `dec-pil` (the default)
 * @throws UsageError naming the registered ids
 * @example
 * preprocessProvider('dec-pil').standIn // false: the exact Pillow pipeline (when the addon has libjpeg)
 */
export function preprocessProvider(id: string = DEFAULT_PREPROCESS_ID): PreprocessProvider {
  resolveDecPil();
  const p = registry.get(id);
  if (!p) throw invalidOption('preprocess', `one of ${preprocessIds().join(', ')}`, id);
  return p;
}

/**
 * The two preprocess functions of `id` for input size `size`.
 * @param id a registered id (default `dec-pil`)
 * @param size the model input size S (default 32, CONVENTIONS.md)
 * @throws UsageError for an unknown id or a bad size
 * @example
 * const { encoded } = createPreprocess('dec-pil', 32);
 * const x = await encoded(jpegBytes, 'a.jpg'); // 32 x 32 x 3
 */
export function createPreprocess(id: string = DEFAULT_PREPROCESS_ID, size = 32): { encoded: Preprocess; pixels: PixelPreprocess; provider: PreprocessProvider } {
  const provider = preprocessProvider(id);
  return { ...provider.create(size), provider };
}
