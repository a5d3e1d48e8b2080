/**
 * Blur corruptions; the pixel loops are native (native/corrupt/, ts/native/corrupt.ts).
 * - defocus_blur: disk kernel (17×17 for r ≤ 8, antialiased by cv2.GaussianBlur 3×3, σ = alias; 5×5
 *   beyond), cv2.filter2D per channel on float64, BORDER_REFLECT_101 (OpenCV itself). No draws.
 * - glass_blur: skimage gaussian (mode 'nearest', truncate 4) → uint8 truncation → `iterations` passes
 *   over rows H−δ…δ+1 and columns W−δ…δ+1 (descending), (dx, dy) = randint(−δ, δ) (upper bound
 *   exclusive), x[h, w] ← x[h+dy, w+dx] (numpy's view "swap" is a copy) → gaussian again. Draws: offsets.
 * - motion_blur: ImageMagick MotionBlurImage(radius, σ, angle ~ U(−45, 45)): one-sided kernel, edge
 *   replication. Draws: the angle.
 * - zoom_blur: mean of x and clipped_zoom(x, z) for z in np.arange(1, end, step) (1.0 included, numpy's
 *   length quirk kept), scipy zoom order 1, float32 throughout. No draws.
 */
import { corruptNative } from '../native/corrupt.ts';
import type { Rng } from '../util/rng.ts';
import { like } from './common.ts';
import { registerCorruption } from './registry.ts';
import { npArange } from './tables.ts';

export interface GlassDraws { offsets: Int32Array }
export interface MotionDraws { angle: number }

registerCorruption<'defocus_blur', null>({
  id: 'defocus_blur',
  draw: () => null,
  async apply(img, [radius, alias]) {
    const out = await corruptNative(true, 'defocus_blur').defocusBlur(img.data, img.height, img.width, 3, radius, alias);
    return like(img, out);
  },
});

/**
 * How many (dx, dy) pairs glass blur draws for an image (rows H−δ…δ+1 times columns W−δ…δ+1, per pass).
 * @param height image height
 * @param width image width
 * @param delta the maximum offset δ
 * @param iterations passes
 * @throws never
 * @example
 * glassOffsetCount(224, 224, 1, 2) // 2 * 222 * 222
 */
export function glassOffsetCount(height: number, width: number, delta: number, iterations: number): number {
  return iterations * Math.max(0, height - 2 * delta) * Math.max(0, width - 2 * delta);
}

registerCorruption<'glass_blur', GlassDraws>({
  id: 'glass_blur',
  draw(rng: Rng, img, [, delta, iterations]) {
    const n = glassOffsetCount(img.height, img.width, delta, iterations);
    const offsets = new Int32Array(2 * n);
    for (let i = 0; i < offsets.length; i++) offsets[i] = rng.int(2 * delta) - delta;
    return { offsets };
  },
  async apply(img, [sigma, delta, iterations], d) {
    const out = await corruptNative().glassBlur(img.data, img.height, img.width, 3, sigma, delta, iterations, d.offsets);
    return like(img, out);
  },
});

registerCorruption<'motion_blur', MotionDraws>({
  id: 'motion_blur',
  draw: (rng: Rng) => ({ angle: -45 + 90 * rng.uniform() }),
  async apply(img, [radius, sigma], d) {
    const out = await corruptNative().motionBlur(img.data, img.height, img.width, 3, radius, sigma, d.angle);
    return like(img, out);
  },
});

registerCorruption<'zoom_blur', null>({
  id: 'zoom_blur',
  draw: () => null,
  async apply(img, [end, step]) {
    const zooms = Float64Array.from(npArange(1, end, step));
    const out = await corruptNative().zoomBlur(img.data, img.height, img.width, 3, zooms);
    return like(img, out);
  },
});
