/**
 * Frost textures. Two sources, chosen by `frostDir`:
 * - photographs: the reference's files `frost1.png, frost2.png, frost3.png, frost4.jpg, frost5.jpg`
 *   (only these five are ever drawn; frost6 never is) read from `frostDir` as cv2.imread does (colour;
 *   alpha dropped, not composited; JPEG with libjpeg islow + fancy upsampling), kept in RGB order (the
 *   reference reads BGR and flips back).
 * - procedural (default; documented in docs/corruptions.md): five textures with the photographs' sizes
 *   (900×600, 560×315, 560×315, 527×350, 660×495), each from a fixed seed, so they are the same on every
 *   machine: crinkled ice (sharpened ridges, (1 − |2p − 1|)⁴, of two fine plasma fractals over a coarse one), dendritic ice
 *   crystals (branching strokes at ±60°, splatted bilinearly, blurred with σ 0.7) and a little grain,
 *   standardised and coloured with the per-channel mean and spread measured on the photographs.
 * Textures are cached per source and index.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { corruptNative } from '../native/corrupt.ts';
import { decodeWith } from '../systematic/preprocess.ts';
import { UsageError } from '../util/errors.ts';
import { Rng } from '../util/rng.ts';
import type { Image8 } from './common.ts';
import { plasmaFractal } from './plasma.ts';

/** The five files the reference draws from, in its order. */
export const FROST_FILES = ['frost1.png', 'frost2.png', 'frost3.png', 'frost4.jpg', 'frost5.jpg'] as const;
/** Sizes (width, height) of the procedural textures: those of the five photographs. */
export const FROST_SIZES: readonly (readonly [number, number])[] = [[900, 600], [560, 315], [560, 315], [527, 350], [660, 495]];
/** Seed of procedural texture k is FROST_SEED + k. */
export const FROST_SEED = 0xf2057;

const cache = new Map<string, Promise<Image8>>();

/**
 * Texture `index` (0..4) from `frostDir`, or the procedural one when `frostDir` is undefined.
 * @param index 0..4
 * @param frostDir a folder holding frost1.png … frost5.jpg
 * @throws UsageError for a bad index or a missing file (naming it)
 * @example
 * const t = await frostTexture(0);
 * t.width // 900
 */
export function frostTexture(index: number, frostDir?: string): Promise<Image8> {
  if (!Number.isInteger(index) || index < 0 || index > 4) throw new UsageError(`Expected integer 0..4 for frost texture index but received ${String(index)}`);
  const key = `${frostDir ?? '<procedural>'}#${index}`;
  let p = cache.get(key);
  if (!p) {
    p = frostDir === undefined ? proceduralFrost(index) : readFrost(frostDir, index);
    cache.set(key, p);
    p.catch(() => cache.delete(key));
  }
  return p;
}

async function readFrost(dir: string, index: number): Promise<Image8> {
  const file = join(dir, FROST_FILES[index]!);
  if (!existsSync(file)) throw new UsageError(`Expected ${FROST_FILES.join(', ')} in --frost-dir but ${file} does not exist`);
  const img = await decodeWith(new Uint8Array(readFileSync(file)), file);
  return { data: img.data, width: img.width, height: img.height, channels: 3 };
}

/**
 * Colour statistics the procedural textures are given (per-channel mean and standard deviation, RGB):
 * those measured on the reference's five photographs, so that frost adds about as much light and
 * contrast as with them.
 */
export const FROST_STATS: readonly { mean: readonly [number, number, number]; sd: readonly [number, number, number] }[] = [
  { mean: [78, 149, 166], sd: [27, 17, 15] },
  { mean: [201, 205, 215], sd: [21, 22, 23] },
  { mean: [201, 205, 215], sd: [21, 22, 23] },
  { mean: [138, 153, 165], sd: [29, 29, 30] },
  { mean: [112, 123, 135], sd: [44, 43, 42] },
];

/**
 * Procedural frost texture `index` (see the file comment).
 * @param index 0..4
 * @throws never for a valid index
 * @example
 * const t = await proceduralFrost(1);
 * t.height // 315
 */
export async function proceduralFrost(index: number): Promise<Image8> {
  const [W, H] = FROST_SIZES[index]!;
  const rng = new Rng(FROST_SEED + index);
  let ms = 2;
  while (ms < Math.max(W, H)) ms *= 2;
  // crinkled ice: ridges of a fine plasma (1 - |2p - 1|) over a coarse one
  const fine = plasmaFractal(ms, 1.25, () => rng.uniform());
  const fine2 = plasmaFractal(ms, 1.4, () => rng.uniform());
  const coarse = plasmaFractal(ms, 2.4, () => rng.uniform());
  // ice crystals: dendrites splatted into an accumulation buffer
  const acc = new Float64Array(W * H);
  const splat = (x: number, y: number, v: number): void => {
    const x0 = Math.floor(x);
    const y0 = Math.floor(y);
    const fx = x - x0;
    const fy = y - y0;
    const put = (xx: number, yy: number, w: number): void => {
      if (xx >= 0 && xx < W && yy >= 0 && yy < H) acc[yy * W + xx] = acc[yy * W + xx]! + v * w;
    };
    put(x0, y0, (1 - fx) * (1 - fy));
    put(x0 + 1, y0, fx * (1 - fy));
    put(x0, y0 + 1, (1 - fx) * fy);
    put(x0 + 1, y0 + 1, fx * fy);
  };
  const stroke = (x: number, y: number, ang: number, len: number, v: number, depth: number): void => {
    const dx = Math.cos(ang);
    const dy = Math.sin(ang);
    for (let t = 0; t < len; t += 0.5) splat(x + dx * t, y + dy * t, v);
    if (depth <= 0) return;
    const branches = 2 + rng.int(4);
    for (let b = 0; b < branches; b++) {
      const at = len * (0.2 + 0.7 * rng.uniform());
      const side = rng.uniform() < 0.5 ? -1 : 1;
      stroke(x + dx * at, y + dy * at, ang + side * (Math.PI / 3) * (0.8 + 0.4 * rng.uniform()), len * (0.25 + 0.3 * rng.uniform()), v * 0.85, depth - 1);
    }
  };
  const crystals = Math.round((W * H) / 6000);
  for (let i = 0; i < crystals; i++) {
    stroke(rng.uniform() * W, rng.uniform() * H, rng.uniform() * 2 * Math.PI, 10 + 60 * rng.uniform(), 0.2 + 0.3 * rng.uniform(), 1 + rng.int(2));
  }
  const blurred = await corruptNative().gaussianFilter(acc, H, W, 1, 0.7, 4, 1);
  const f = new Float64Array(W * H);
  let sum = 0;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const r1 = 1 - Math.abs(2 * fine[y * ms + x]! - 1);
      const r2 = 1 - Math.abs(2 * fine2[y * ms + x]! - 1);
      const v = 0.45 * r1 ** 4 + 0.3 * r2 ** 4 + 0.3 * coarse[y * ms + x]! + 0.5 * Math.min(1, blurred[y * W + x]!) + 0.03 * rng.normal();
      f[y * W + x] = v;
      sum += v;
    }
  }
  const mean = sum / f.length;
  let ss = 0;
  for (let i = 0; i < f.length; i++) ss += (f[i]! - mean) ** 2;
  const sd = Math.sqrt(ss / f.length) || 1;
  const st = FROST_STATS[index]!;
  const out = new Uint8Array(W * H * 3);
  for (let i = 0; i < f.length; i++) {
    const z = (f[i]! - mean) / sd;
    for (let k = 0; k < 3; k++) {
      const v = st.mean[k]! + st.sd[k]! * z;
      out[i * 3 + k] = v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
    }
  }
  return { data: out, width: W, height: H, channels: 3 };
}
