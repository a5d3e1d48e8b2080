/**
 * Digital corruptions.
 * - contrast: (x − μ)·c + μ with μ the per-channel spatial mean of x = v/255 (double). No draws.
 * - elastic_transform: random affine (3 points centre ± min(H, W)//3, jittered by float32 U(−a, a)),
 *   cv2.warpAffine (linear, BORDER_REFLECT_101) on float32, then dx, dy = gaussian(U(−1, 1), σ,
 *   mode 'reflect', truncate 3)·α as float32 and map_coordinates order 1 'reflect' (native). Draws: the
 *   6 jitters and the two uniform fields (dx's first).
 * - pixelate: Pillow BOX resize to int(W·c) × int(H·c), then BOX back to W × H (Pillow-exact resampler).
 * - jpeg_compression: Pillow's save(quality=c) (4:2:0, standard tables) and Pillow's decode, via the
 *   libjpeg binding (ts/native/image.ts).
 */
import { corruptNative } from '../native/corrupt.ts';
import { jpegDecode, jpegEncode, pilResize } from '../native/image.ts';
import type { Rng } from '../util/rng.ts';
import { like, unitToByte } from './common.ts';
import { registerCorruption } from './registry.ts';

export interface ElasticDraws { jitter: Float32Array; ux: Float64Array; uy: Float64Array }

registerCorruption<'contrast', null>({
  id: 'contrast',
  draw: () => null,
  async apply(img, c) {
    const src = img.data;
    const n = img.width * img.height;
    // the per-channel mean of x = v/255, summed in pixel order (as numpy reduces axes (0, 1) here)
    let m0 = 0;
    let m1 = 0;
    let m2 = 0;
    for (let i = 0; i < 3 * n; i += 3) {
      m0 += src[i]! / 255;
      m1 += src[i + 1]! / 255;
      m2 += src[i + 2]! / 255;
    }
    const means = [m0 / n, m1 / n, m2 / n];
    // the output depends only on (channel, value): a 3x256 table
    const lut = new Uint8Array(768);
    for (let k = 0; k < 3; k++) for (let v = 0; v < 256; v++) lut[k * 256 + v] = unitToByte((v / 255 - means[k]!) * c + means[k]!);
    const out = new Uint8Array(src.length);
    for (let i = 0; i < src.length; i += 3) {
      out[i] = lut[src[i]!]!;
      out[i + 1] = lut[256 + src[i + 1]!]!;
      out[i + 2] = lut[512 + src[i + 2]!]!;
    }
    return like(img, out);
  },
});

registerCorruption<'elastic_transform', ElasticDraws>({
  id: 'elastic_transform',
  draw(rng: Rng, img, [, , a]) {
    const jitter = new Float32Array(6);
    for (let i = 0; i < 6; i++) jitter[i] = -a + (a - -a) * rng.uniform();
    const n = img.width * img.height;
    const ux = new Float64Array(n);
    const uy = new Float64Array(n);
    for (let i = 0; i < n; i++) ux[i] = -1 + 2 * rng.uniform();
    for (let i = 0; i < n; i++) uy[i] = -1 + 2 * rng.uniform();
    return { jitter, ux, uy };
  },
  async apply(img, [alpha, sigma], d) {
    const out = await corruptNative(true, 'elastic_transform').elastic(img.data, img.height, img.width, 3, alpha, sigma, d.jitter, d.ux, d.uy);
    return like(img, out);
  },
});

registerCorruption<'pixelate', null>({
  id: 'pixelate',
  draw: () => null,
  async apply(img, c) {
    const w = Math.max(1, Math.trunc(img.width * c));
    const h = Math.max(1, Math.trunc(img.height * c));
    const small = await pilResize(img, w, h, 'box');
    const back = await pilResize(small, img.width, img.height, 'box');
    return like(img, back.data);
  },
});

registerCorruption<'jpeg_compression', null>({
  id: 'jpeg_compression',
  draw: () => null,
  async apply(img, q) {
    const bytes = await jpegEncode(img, q);
    const dec = await jpegDecode(bytes);
    return like(img, dec.data);
  },
});
