/**
 * Seeded training augmentations on uint8 HWC images, in the torchvision sense (PIL-image path):
 *  - CIFAR recipe: RandomCrop(S, padding=4, zero fill) then RandomHorizontalFlip(0.5);
 *  - ImageNet recipe: RandomResizedCrop(S, scale=(0.08, 1), ratio=(3/4, 4/3)) (ten attempts, then the
 *    centre-crop fallback), RandomHorizontalFlip(0.5), ColorJitter(brightness, contrast, saturation) applied in
 *    a random order.
 * Every random draw comes from the {@link Rng} passed in; the batch builder gives each sample
 * `rng.fork(index)`, so a seed fixes the augmentations whatever the decode order.
 *
 * Numerics: ColorJitter follows Pillow's ImageEnhance (blend `d + f (x - d)`, clipped to [0,255], truncated; grey
 * L = (19595 R + 38470 G + 7471 B + 2^15) >> 16; contrast blends with round(mean L)). The resize of
 * RandomResizedCrop is a separable triangle (bilinear) filter whose support widens by the downscale factor, as
 * Pillow's, but in float64 with rounding to nearest: it is not bit-exact with Pillow's fixed-point code.
 */
import { int, num } from '../util/is.ts';
import { Rng } from '../util/rng.ts';
import { invalidOption } from '../util/errors.ts';
import { createPreprocess, decodeRgb, roundHalfEven, toRgb, DEFAULT_PREPROCESS_ID, type RgbImage } from './preprocess.ts';
import type { HwcImage, Sample } from './types.ts';
import type { ToInput } from './batch.ts';
import { resizedCrop, type Box } from './resize.ts';

export { resizedCrop, type Box };

function checkImage(img: HwcImage): void {
  if (img.data.length !== img.width * img.height * img.channels) {
    throw invalidOption('image', `${img.width * img.height * img.channels} bytes for ${img.width}x${img.height}x${img.channels}`, img.data);
  }
}

/**
 * Mirrors an image left-right.
 * @param img HWC uint8
 * @throws UsageError when the data length does not match the shape
 * @example
 * hflip(hflip(img)) // equal to img
 */
export function hflip<T extends HwcImage>(img: T): T {
  checkImage(img);
  const { width: w, height: h, channels: c } = img;
  const out = new Uint8Array(img.data.length);
  for (let y = 0; y < h; y++) {
    const row = y * w * c;
    for (let x = 0; x < w; x++) {
      const s = row + x * c;
      const d = row + (w - 1 - x) * c;
      for (let k = 0; k < c; k++) out[d + k] = img.data[s + k]!;
    }
  }
  return { ...img, data: out };
}

/**
 * Zero-pads by `padding` on every side, then crops `size` x `size` at (`top`, `left`) of the padded image.
 * @param img HWC uint8
 * @param size output side
 * @param padding pixels of zeros added on each side
 * @param top row of the crop in the padded image
 * @param left column of the crop in the padded image
 * @throws UsageError when the crop leaves the padded image
 * @example
 * padCrop(img32, 32, 0, 0, 0) // equal to img32
 */
export function padCrop<T extends HwcImage>(img: T, size: number, padding: number, top: number, left: number): T {
  checkImage(img);
  const { width: w, height: h, channels: c } = img;
  int('padding', padding, 0);
  int('top', top, 0, h + 2 * padding - size);
  int('left', left, 0, w + 2 * padding - size);
  const out = new Uint8Array(size * size * c);
  for (let y = 0; y < size; y++) {
    const sy = y + top - padding;
    if (sy < 0 || sy >= h) continue;
    for (let x = 0; x < size; x++) {
      const sx = x + left - padding;
      if (sx < 0 || sx >= w) continue;
      const s = (sy * w + sx) * c;
      const d = (y * size + x) * c;
      for (let k = 0; k < c; k++) out[d + k] = img.data[s + k]!;
    }
  }
  return { ...img, data: out, width: size, height: size };
}

/**
 * torchvision RandomCrop(size, padding) then RandomHorizontalFlip(flipP): draws the crop row, the crop
 * column (each uniform over the valid offsets), then one uniform for the flip.
 * @param img HWC uint8
 * @param rng the sample's generator
 * @param opts `size` (default the image width), `padding` (default 4), `flipP` (default 0.5)
 * @throws UsageError when the image plus padding is smaller than `size`
 * @example
 * const out = randomCropFlip(img, new Rng(1), { size: 32, padding: 4 });
 */
export function randomCropFlip<T extends HwcImage>(img: T, rng: Rng, opts: { size?: number; padding?: number; flipP?: number } = {}): T {
  const size = int('size', opts.size ?? img.width, 1);
  const padding = int('padding', opts.padding ?? 4, 0);
  const flipP = num('flipP', opts.flipP ?? 0.5, 0, 1);
  const rh = img.height + 2 * padding - size;
  const rw = img.width + 2 * padding - size;
  if (rh < 0 || rw < 0) throw invalidOption('size', `at most ${Math.min(img.height, img.width) + 2 * padding} (image plus padding)`, size);
  const top = rng.int(rh + 1);
  const left = rng.int(rw + 1);
  const out = padCrop(img, size, padding, top, left);
  return rng.uniform() < flipP ? hflip(out) : out;
}

/**
 * torchvision RandomResizedCrop.get_params: up to ten attempts of (area fraction ~ U(scale), log aspect ratio ~
 * U(log ratio)), w = round(sqrt(a r)), h = round(sqrt(a / r)) (half to even, as Python), accepted when it fits;
 * else the centre-crop fallback (the whole image, clamped to the ratio range).
 * @param rng the generator
 * @param width image width
 * @param height image height
 * @param scale area fraction range (default [0.08, 1])
 * @param ratio aspect ratio range w/h (default [3/4, 4/3])
 * @throws UsageError on bad ranges
 * @example
 * const b = randomResizedCropBox(new Rng(0), 500, 375); // b.left + b.width <= 500
 */
export function randomResizedCropBox(rng: Rng, width: number, height: number, scale: [number, number] = [0.08, 1], ratio: [number, number] = [3 / 4, 4 / 3]): Box {
  int('width', width, 1);
  int('height', height, 1);
  if (!(scale[0] > 0 && scale[0] <= scale[1])) throw invalidOption('scale', '0 < min <= max', scale);
  if (!(ratio[0] > 0 && ratio[0] <= ratio[1])) throw invalidOption('ratio', '0 < min <= max', ratio);
  const area = width * height;
  const lr0 = Math.log(ratio[0]);
  const lr1 = Math.log(ratio[1]);
  for (let attempt = 0; attempt < 10; attempt++) {
    const target = area * (scale[0] + (scale[1] - scale[0]) * rng.uniform());
    const ar = Math.exp(lr0 + (lr1 - lr0) * rng.uniform());
    const w = roundHalfEven(Math.sqrt(target * ar));
    const h = roundHalfEven(Math.sqrt(target / ar));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      const top = rng.int(height - h + 1);
      const left = rng.int(width - w + 1);
      return { top, left, height: h, width: w };
    }
  }
  const inRatio = width / height;
  let w: number;
  let h: number;
  if (inRatio < ratio[0]) {
    w = width;
    h = roundHalfEven(w / ratio[0]);
  } else if (inRatio > ratio[1]) {
    h = height;
    w = roundHalfEven(h * ratio[1]);
  } else {
    w = width;
    h = height;
  }
  return { top: Math.floor((height - h) / 2), left: Math.floor((width - w) / 2), height: h, width: w };
}

/** Pillow's L of an RGB pixel. */
function luma(r: number, g: number, b: number): number {
  return (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16;
}

function blendInto(out: Uint8Array, x: number, d: number, f: number, i: number): void {
  const v = d + f * (x - d);
  out[i] = v <= 0 ? 0 : v >= 255 ? 255 : Math.trunc(v);
}

/**
 * Brightness: blend with black, x * f.
 * @param img RGB HWC uint8
 * @param f the factor (1 = unchanged)
 * @throws UsageError when the image is not 3-channel
 * @example
 * adjustBrightness(img, 1) // equal to img
 */
export function adjustBrightness<T extends HwcImage>(img: T, f: number): T {
  int('channels', img.channels, 3, 3);
  const out = new Uint8Array(img.data.length);
  for (let i = 0; i < out.length; i++) blendInto(out, img.data[i]!, 0, f, i);
  return { ...img, data: out };
}

/**
 * Contrast: blend with the constant round(mean L).
 * @param img RGB HWC uint8
 * @param f the factor (1 = unchanged, 0 = flat grey)
 * @throws UsageError when the image is not 3-channel
 * @example
 * adjustContrast(img, 1) // equal to img
 */
export function adjustContrast<T extends HwcImage>(img: T, f: number): T {
  int('channels', img.channels, 3, 3);
  const d = img.data;
  let sum = 0;
  for (let i = 0; i < d.length; i += 3) sum += luma(d[i]!, d[i + 1]!, d[i + 2]!);
  const mean = Math.floor(sum / (d.length / 3) + 0.5);
  const out = new Uint8Array(d.length);
  for (let i = 0; i < d.length; i++) blendInto(out, d[i]!, mean, f, i);
  return { ...img, data: out };
}

/**
 * Saturation: blend with the pixel's own L (replicated).
 * @param img RGB HWC uint8
 * @param f the factor (1 = unchanged, 0 = greyscale)
 * @throws UsageError when the image is not 3-channel
 * @example
 * adjustSaturation(img, 0) // R = G = B = L everywhere
 */
export function adjustSaturation<T extends HwcImage>(img: T, f: number): T {
  int('channels', img.channels, 3, 3);
  const d = img.data;
  const out = new Uint8Array(d.length);
  for (let i = 0; i < d.length; i += 3) {
    const l = luma(d[i]!, d[i + 1]!, d[i + 2]!);
    for (let k = 0; k < 3; k++) blendInto(out, d[i + k]!, l, f, i + k);
  }
  return { ...img, data: out };
}

/** ColorJitter strengths: each factor is drawn from U(max(0, 1 - s), 1 + s); 0 disables it. */
export interface JitterConfig {
  brightness: number;
  contrast: number;
  saturation: number;
}

/**
 * ColorJitter (no hue): draws a random order of the three adjustments, then the factors (brightness,
 * contrast, saturation, for those enabled), then applies them in that order.
 * @param img RGB HWC uint8
 * @param rng the sample's generator
 * @param cfg strengths (e.g. 0.4 each)
 * @throws UsageError on negative strengths
 * @example
 * colorJitter(img, new Rng(0), { brightness: 0, contrast: 0, saturation: 0 }) // equal to img
 */
export function colorJitter<T extends HwcImage>(img: T, rng: Rng, cfg: JitterConfig): T {
  const b = num('brightness', cfg.brightness, 0);
  const c = num('contrast', cfg.contrast, 0);
  const s = num('saturation', cfg.saturation, 0);
  const order = rng.permutation(3);
  const draw = (v: number): number | null => (v > 0 ? Math.max(0, 1 - v) + (1 + v - Math.max(0, 1 - v)) * rng.uniform() : null);
  const factors = [draw(b), draw(c), draw(s)];
  const ops = [adjustBrightness, adjustContrast, adjustSaturation];
  let out = img;
  for (const k of order) {
    const f = factors[k];
    if (f !== null && f !== undefined) out = ops[k]!(out, f);
  }
  return out;
}

/**
 * The CIFAR training transform as a batch ToInput: stored pixels already S x S (CIFAR-10's 32x32) are used
 * as they are, as the CIFAR recipe trains on them; anything else goes through the preprocess hook first. Then
 * {@link randomCropFlip}.
 * @param opts `size` (32), `padding` (4), `flipP` (0.5), `preprocess` id (`dec-pil`)
 * @throws UsageError for bad options
 * @example
 * await buildBatch(split, idx, { toInput: cifarTrainInput(), rng: new Rng(seed).fork('epoch:0') });
 */
export function cifarTrainInput(opts: { size?: number; padding?: number; flipP?: number; preprocess?: string } = {}): ToInput {
  const size = int('size', opts.size ?? 32, 1);
  const pre = createPreprocess(opts.preprocess ?? DEFAULT_PREPROCESS_ID, size);
  return async (sample: Sample, rng: Rng | null) => {
    const img = sample.kind === 'pixels' && sample.width === size && sample.height === size
      ? toRgb(sample)
      : sample.kind === 'encoded' ? await pre.encoded(sample.bytes, sample.file) : await pre.pixels(sample, sample.file);
    return randomCropFlip(img, rng ?? new Rng(0), { size, padding: opts.padding ?? 4, flipP: opts.flipP ?? 0.5 });
  };
}

/**
 * The ImageNet training transform as a batch ToInput: decode to RGB (sharp, full size), RandomResizedCrop to
 * S, flip with `flipP`, then ColorJitter when any strength is > 0.
 * @param opts `size` (224), `scale`, `ratio`, `flipP` (0.5), `jitter` (default 0.4 each)
 * @throws UsageError for bad options
 * @example
 * await buildBatch(split, idx, { size: 224, toInput: imagenetTrainInput({ size: 224 }), rng: new Rng(0) });
 */
export function imagenetTrainInput(opts: { size?: number; scale?: [number, number]; ratio?: [number, number]; flipP?: number; jitter?: JitterConfig } = {}): ToInput {
  const size = int('size', opts.size ?? 224, 1);
  const flipP = num('flipP', opts.flipP ?? 0.5, 0, 1);
  const jitter = opts.jitter ?? { brightness: 0.4, contrast: 0.4, saturation: 0.4 };
  return async (sample: Sample, rng: Rng | null) => {
    const r = rng ?? new Rng(0);
    const img: RgbImage = sample.kind === 'encoded' ? await decodeRgb(sample.bytes, sample.file) : toRgb(sample);
    const box = randomResizedCropBox(r, img.width, img.height, opts.scale, opts.ratio);
    let out = resizedCrop(img, box, size, size);
    if (r.uniform() < flipP) out = hflip(out);
    if (jitter.brightness > 0 || jitter.contrast > 0 || jitter.saturation > 0) out = colorJitter(out, r, jitter);
    return out;
  };
}
