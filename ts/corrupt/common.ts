/**
 * Shared pieces of the corruptions: the image type and its checks, and the reference's final step
 * (clip to [0, 1], times 255, `np.uint8` truncation, not rounding).
 */
import { UsageError, invalidOption } from '../util/errors.ts';
import type { Image8 } from '../native/image.ts';
import type { Column } from './tables.ts';

export type { Image8 };

/** Largest side accepted (the reference works on 224-pixel images; anything up to this is fine). */
export const MAX_SIDE = 8192;

/**
 * Checks that `img` is an interleaved uint8 RGB image (HWC).
 * @param img the image
 * @param name how to call it in the message
 * @throws UsageError naming the field and the expected shape
 * @example
 * checkRgb({ data: new Uint8Array(12), width: 2, height: 2, channels: 3 }, 'image').width // 2
 */
export function checkRgb(img: Image8, name = 'image'): Image8 {
  if (typeof img !== 'object' || img === null) throw invalidOption(name, 'an image {data, width, height, channels}', img);
  if (!(img.data instanceof Uint8Array)) throw invalidOption(`${name}.data`, 'Uint8Array (uint8 HWC)', img.data);
  for (const k of ['width', 'height'] as const) {
    const v = img[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > MAX_SIDE) throw invalidOption(`${name}.${k}`, `integer 1..${MAX_SIDE}`, v);
  }
  if (img.channels !== 3) throw invalidOption(`${name}.channels`, '3 (RGB, HWC): the corruptions are defined on RGB images', img.channels);
  const need = img.width * img.height * 3;
  if (img.data.length !== need) {
    throw new UsageError(`Expected ${need} bytes (${img.height}x${img.width}x3 HWC) for ${name}.data but received ${img.data.length}`);
  }
  return img;
}

/**
 * `np.uint8(np.clip(v, 0, 1) * 255)` for a double (truncation).
 * @param v a value in [0, 1] units
 * @throws never
 * @example
 * unitToByte(0.999) // 254
 */
export function unitToByte(v: number): number {
  const c = v < 0 ? 0 : v > 1 ? 1 : v;
  return Math.trunc(c * 255);
}

/**
 * `np.uint8(np.clip(v, 0, 1) * 255)` for a float32 value (the product rounded to float32 first).
 * @param v a float32 value
 * @throws never
 * @example
 * unitToByteF32(Math.fround(0.5)) // 127
 */
export function unitToByteF32(v: number): number {
  const c = v < 0 ? 0 : v > 1 ? 1 : v;
  return Math.trunc(Math.fround(c * 255));
}

/** The context a corruption runs in. */
export interface CorruptContext {
  column: Column;
  /** Frost photographs (`--frost-dir`), else procedural textures. */
  frostDir?: string;
}

/**
 * A new image of the same shape.
 * @param img the shape
 * @param data its bytes
 * @throws never
 * @example
 * like({ data: new Uint8Array(3), width: 1, height: 1, channels: 3 }, new Uint8Array(3)).width // 1
 */
export function like(img: Image8, data: Uint8Array): Image8 {
  return { data, width: img.width, height: img.height, channels: 3 };
}

/**
 * `n` draws of N(loc, scale²) from `rng`, by Marsaglia's polar method (the method of numpy's legacy
 * `normal`; faster here than Box–Muller's sin/cos) on 32-bit uniforms from `rng.nextU32()`.
 * @param rng the generator
 * @param n how many
 * @param loc mean
 * @param scale standard deviation
 * @throws never
 * @example
 * normals(new Rng(0), 4, 0, 1).length // 4
 */
export function normals(rng: { nextU32(): number }, n: number, loc = 0, scale = 1): Float64Array {
  const out = new Float64Array(n);
  let i = 0;
  // 32-bit uniforms on [-1, 1): ample for noise, and half the generator calls of 53-bit ones
  const k = 1 / 2147483648;
  while (i < n) {
    let x1 = 0;
    let x2 = 0;
    let r2 = 0;
    do {
      x1 = rng.nextU32() * k - 1;
      x2 = rng.nextU32() * k - 1;
      r2 = x1 * x1 + x2 * x2;
    } while (r2 >= 1 || r2 === 0);
    const f = Math.sqrt((-2 * Math.log(r2)) / r2);
    out[i++] = loc + scale * f * x2;
    if (i < n) out[i++] = loc + scale * f * x1;
  }
  return out;
}
