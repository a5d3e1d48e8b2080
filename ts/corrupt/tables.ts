/**
 * Severity tables of the 15 ImageNet-C corruptions (PROTOCOL.md §3), one five-entry table per
 * resolution column: 224 (ImageNet-C, make_imagenet_c.py), 64 (Tiny-ImageNet-C) and 32 (CIFAR-10-C).
 * Values are written as the reference writes them (e.g. `244 * 0.7`, not 170.8) so that the doubles
 * are identical. The column follows the image size ({@link columnFor}) unless overridden.
 */
import { invalidOption } from '../util/errors.ts';

/** The corruption ids in the reference order. */
export const CORRUPTIONS = [
  'gaussian_noise', 'shot_noise', 'impulse_noise',
  'defocus_blur', 'glass_blur', 'motion_blur', 'zoom_blur',
  'snow', 'frost', 'fog', 'brightness',
  'contrast', 'elastic_transform', 'pixelate', 'jpeg_compression',
] as const;
export type CorruptionId = (typeof CORRUPTIONS)[number];

/** The families of the paper's figure (noise, blur, weather, digital). */
export const FAMILY: Record<CorruptionId, 'noise' | 'blur' | 'weather' | 'digital'> = {
  gaussian_noise: 'noise', shot_noise: 'noise', impulse_noise: 'noise',
  defocus_blur: 'blur', glass_blur: 'blur', motion_blur: 'blur', zoom_blur: 'blur',
  snow: 'weather', frost: 'weather', fog: 'weather', brightness: 'weather',
  contrast: 'digital', elastic_transform: 'digital', pixelate: 'digital', jpeg_compression: 'digital',
};

/** Resolution columns of the tables. */
export const COLUMNS = [224, 64, 32] as const;
export type Column = (typeof COLUMNS)[number];

/** Parameter tuple of each corruption (one severity). */
export interface Params {
  gaussian_noise: number; // sigma on [0,1] pixels
  shot_noise: number; // photons per unit intensity
  impulse_noise: number; // flip probability per element
  defocus_blur: readonly [radius: number, aliasBlur: number];
  glass_blur: readonly [sigma: number, maxDelta: number, iterations: number];
  motion_blur: readonly [radius: number, sigma: number];
  zoom_blur: readonly [end: number, step: number]; // np.arange(1, end, step)
  snow: readonly [loc: number, scale: number, zoom: number, threshold: number, radius: number, sigma: number, blend: number];
  frost: readonly [imageWeight: number, frostWeight: number];
  fog: readonly [strength: number, wibbleDecay: number];
  brightness: number; // added to V in HSV
  contrast: number; // factor around the per-channel mean
  elastic_transform: readonly [alpha: number, sigma: number, affine: number];
  pixelate: number; // fraction of the side kept
  jpeg_compression: number; // quality
}

type Five<T> = readonly [T, T, T, T, T];
export type Tables = { [K in CorruptionId]: Record<Column, Five<Params[K]>> };

const TINY = 64;
const CIF = 32;

/** The tables (frozen). */
export const TABLES: Tables = Object.freeze({
  gaussian_noise: { 224: [0.08, 0.12, 0.18, 0.26, 0.38], 64: [0.04, 0.08, 0.12, 0.15, 0.18], 32: [0.04, 0.06, 0.08, 0.09, 0.10] },
  shot_noise: { 224: [60, 25, 12, 5, 3], 64: [250, 100, 50, 30, 15], 32: [500, 250, 100, 75, 50] },
  impulse_noise: { 224: [0.03, 0.06, 0.09, 0.17, 0.27], 64: [0.01, 0.02, 0.05, 0.08, 0.14], 32: [0.01, 0.02, 0.03, 0.05, 0.07] },
  defocus_blur: {
    224: [[3, 0.1], [4, 0.5], [6, 0.5], [8, 0.5], [10, 0.5]],
    64: [[0.5, 0.6], [1, 0.1], [1.5, 0.1], [2.5, 0.01], [3, 0.1]],
    32: [[0.3, 0.4], [0.4, 0.5], [0.5, 0.6], [1, 0.2], [1.5, 0.1]],
  },
  glass_blur: {
    224: [[0.7, 1, 2], [0.9, 2, 1], [1, 2, 3], [1.1, 3, 2], [1.5, 4, 2]],
    64: [[0.1, 1, 1], [0.5, 1, 1], [0.6, 1, 2], [0.7, 2, 1], [0.9, 2, 2]],
    32: [[0.05, 1, 1], [0.25, 1, 1], [0.4, 1, 1], [0.25, 1, 2], [0.4, 1, 2]],
  },
  motion_blur: {
    224: [[10, 3], [15, 5], [15, 8], [15, 12], [20, 15]],
    64: [[10, 1], [10, 1.5], [10, 2], [10, 2.5], [12, 3]],
    32: [[6, 1], [6, 1.5], [6, 2], [8, 2], [9, 2.5]],
  },
  zoom_blur: {
    224: [[1.11, 0.01], [1.16, 0.01], [1.21, 0.02], [1.26, 0.02], [1.31, 0.03]],
    64: [[1.06, 0.01], [1.11, 0.01], [1.16, 0.01], [1.21, 0.01], [1.26, 0.01]],
    32: [[1.06, 0.01], [1.11, 0.01], [1.16, 0.01], [1.21, 0.01], [1.26, 0.01]],
  },
  snow: {
    224: [[0.1, 0.3, 3, 0.5, 10, 4, 0.8], [0.2, 0.3, 2, 0.5, 12, 4, 0.7], [0.55, 0.3, 4, 0.9, 12, 8, 0.7],
      [0.55, 0.3, 4.5, 0.85, 12, 8, 0.65], [0.55, 0.3, 2.5, 0.85, 12, 12, 0.55]],
    64: [[0.1, 0.2, 1, 0.6, 8, 3, 0.8], [0.1, 0.2, 1, 0.5, 10, 4, 0.8], [0.15, 0.3, 1.75, 0.55, 10, 4, 0.7],
      [0.25, 0.3, 2.25, 0.6, 12, 6, 0.65], [0.3, 0.3, 1.25, 0.65, 14, 12, 0.6]],
    32: [[0.1, 0.2, 1, 0.6, 8, 3, 0.95], [0.1, 0.2, 1, 0.5, 10, 4, 0.9], [0.15, 0.3, 1.75, 0.55, 10, 4, 0.9],
      [0.25, 0.3, 2.25, 0.6, 12, 6, 0.85], [0.3, 0.3, 1.25, 0.65, 14, 12, 0.8]],
  },
  frost: {
    224: [[1, 0.4], [0.8, 0.6], [0.7, 0.7], [0.65, 0.7], [0.6, 0.75]],
    64: [[1, 0.3], [0.9, 0.4], [0.8, 0.45], [0.75, 0.5], [0.7, 0.55]],
    32: [[1, 0.2], [1, 0.3], [0.9, 0.4], [0.85, 0.4], [0.75, 0.45]],
  },
  fog: {
    224: [[1.5, 2], [2, 2], [2.5, 1.7], [2.5, 1.5], [3, 1.4]],
    64: [[0.4, 3], [0.7, 3], [1, 2.5], [1.5, 2], [2, 1.75]],
    32: [[0.2, 3], [0.5, 3], [0.75, 2.5], [1, 2], [1.5, 1.75]],
  },
  brightness: { 224: [0.1, 0.2, 0.3, 0.4, 0.5], 64: [0.1, 0.2, 0.3, 0.4, 0.5], 32: [0.05, 0.1, 0.15, 0.2, 0.3] },
  contrast: { 224: [0.4, 0.3, 0.2, 0.1, 0.05], 64: [0.4, 0.3, 0.2, 0.1, 0.05], 32: [0.75, 0.5, 0.4, 0.3, 0.15] },
  elastic_transform: {
    // "244 should have been 224, but ultimately nothing is incorrect" (the reference's own comment)
    224: [[244 * 2, 244 * 0.7, 244 * 0.1], [244 * 2, 244 * 0.08, 244 * 0.2], [244 * 0.05, 244 * 0.01, 244 * 0.02],
      [244 * 0.07, 244 * 0.01, 244 * 0.02], [244 * 0.12, 244 * 0.01, 244 * 0.02]],
    64: [[TINY * 0, TINY * 0, TINY * 0.08], [TINY * 0.05, TINY * 0.3, TINY * 0.06], [TINY * 0.1, TINY * 0.08, TINY * 0.06],
      [TINY * 0.1, TINY * 0.03, TINY * 0.03], [TINY * 0.16, TINY * 0.03, TINY * 0.02]],
    32: [[CIF * 0, CIF * 0, CIF * 0.08], [CIF * 0.05, CIF * 0.2, CIF * 0.07], [CIF * 0.08, CIF * 0.06, CIF * 0.06],
      [CIF * 0.1, CIF * 0.04, CIF * 0.05], [CIF * 0.1, CIF * 0.03, CIF * 0.03]],
  },
  pixelate: { 224: [0.6, 0.5, 0.4, 0.3, 0.25], 64: [0.9, 0.8, 0.7, 0.6, 0.5], 32: [0.95, 0.9, 0.85, 0.75, 0.65] },
  jpeg_compression: { 224: [25, 18, 15, 10, 7], 64: [65, 58, 50, 40, 25], 32: [80, 65, 58, 50, 40] },
} satisfies Tables);

/** Frost texture rescale before cropping (Tiny ×0.3, CIFAR ×0.2) and fog plasma map size per column. */
export const FROST_SCALE: Record<Column, number> = { 224: 1, 64: 0.3, 32: 0.2 };
export const FOG_MAPSIZE: Record<Column, number> = { 224: 256, 64: 64, 32: 32 };

/**
 * The table column for an image: its size when the shorter side is 224, 64 or 32, otherwise the
 * nearest column in log scale (shorter side < 45.25 → 32, < 119.73 → 64, else 224).
 * @param height image height
 * @param width image width
 * @throws never
 * @example
 * columnFor(224, 224) // 224
 * columnFor(28, 28) // 32
 */
export function columnFor(height: number, width: number): Column {
  const s = Math.min(height, width);
  if (s < Math.sqrt(32 * 64)) return 32;
  if (s < Math.sqrt(64 * 224)) return 64;
  return 224;
}

/**
 * Parses a column given by the user.
 * @param v 224, 64 or 32 (number or string)
 * @throws UsageError for anything else
 * @example
 * parseColumn('64') // 64
 */
export function parseColumn(v: unknown): Column {
  const n = typeof v === 'string' ? Number(v) : v;
  if (n === 224 || n === 64 || n === 32) return n;
  throw invalidOption('column', 'one of 224, 64, 32', v);
}

/**
 * np.arange(start, stop, step) exactly as numpy computes it: length ceil((stop - start) / step) and
 * values start + i*delta with delta = (start + step) - start. This is why ImageNet-C's severity-1 zoom
 * list, arange(1, 1.11, 0.01), has 12 values (1.00 … 1.11).
 * @param start first value
 * @param stop exclusive end (up to rounding)
 * @param step increment (> 0)
 * @throws UsageError when step is not positive
 * @example
 * npArange(1, 1.11, 0.01).length // 12
 */
export function npArange(start: number, stop: number, step: number): number[] {
  if (!(step > 0)) throw invalidOption('step', 'a number > 0', step);
  const len = Math.max(0, Math.ceil((stop - start) / step));
  const delta = (start + step) - start;
  const out: number[] = [];
  for (let i = 0; i < len; i++) out.push(i === 0 ? start : i === 1 ? start + step : start + i * delta);
  return out;
}
