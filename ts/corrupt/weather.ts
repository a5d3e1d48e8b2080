/**
 * Weather corruptions.
 * - snow: layer ~ N(c0, c1) (H×W) → clipped_zoom(c2) → values < c3 set to 0 → uint8 (truncation) →
 *   ImageMagick motion blur (radius c4, σ c5, angle ~ U(−135, −45)) → /255; the image (float32) becomes
 *   c6·x + (1−c6)·max(x, gray(x)·1.5 + 0.5) with OpenCV's float RGB2GRAY (0.299, 0.587, 0.114); output
 *   clip(x + L + rot180(L)). Draws: the normal layer and the angle.
 * - frost: clip(c0·x₂₅₅ + c1·crop) with the crop taken from texture `randint(5)` (frost6 never), at
 *   (randint(th − H), randint(tw − W)); textures rescaled ×0.3 (64 column) or ×0.2 (32) with
 *   cv2.resize(INTER_LINEAR) first. Photographs from `frostDir` (frost1.png … frost5.jpg, read as
 *   cv2.imread: colour, alpha dropped) or the procedural textures of ts/corrupt/frost-textures.ts.
 *   Draws: texture index and crop corner.
 * - fog: x += c0·plasma(mapsize, c1)[:H, :W]; out = clip(x·M/(M + c0)), M = max(x) before adding.
 *   Draws: the plasma map.
 * - brightness: skimage rgb2hsv, V = clip(V + c, 0, 1), hsv2rgb, clip. No draws.
 */
import { corruptNative } from '../native/corrupt.ts';
import { QrobustError } from '../util/errors.ts';
import type { Rng } from '../util/rng.ts';
import { like, normals, unitToByte, type Image8 } from './common.ts';
import { frostTexture } from './frost-textures.ts';
import { hsv2rgb, rgb2hsv } from './hsv.ts';
import { plasmaFractal } from './plasma.ts';
import { registerCorruption } from './registry.ts';
import { FOG_MAPSIZE, FROST_SCALE, type Column } from './tables.ts';

export interface SnowDraws { layer: Float64Array; angle: number }
export interface FrostDraws { index: number; top: number; left: number }
export interface FogDraws { plasma: Float64Array; mapsize: number }

const f32 = Math.fround;
const GRAY_R = f32(0.299);
const GRAY_G = f32(0.587);
const GRAY_B = f32(0.114);

registerCorruption<'snow', SnowDraws>({
  id: 'snow',
  draw(rng: Rng, img, [loc, scale]) {
    const layer = normals(rng, img.width * img.height, loc, scale);
    return { layer, angle: -135 + 90 * rng.uniform() };
  },
  async apply(img, [, , zoom, thresh, radius, sigma, blend], d) {
    const n = corruptNative();
    const H = img.height;
    const W = img.width;
    const z = await n.clippedZoom(d.layer, H, W, 1, zoom);
    const L8 = new Uint8Array(H * W);
    for (let i = 0; i < L8.length; i++) {
      const v = z[i]! < thresh ? 0 : z[i]!;
      L8[i] = unitToByte(v);
    }
    const blurred = await n.motionBlur(L8, H, W, 1, radius, sigma, d.angle);
    const b = f32(blend);
    const ob = f32(1 - blend);
    const out = new Uint8Array(img.data.length);
    const src = img.data;
    for (let p = 0; p < H * W; p++) {
      const r = f32(src[3 * p]! / 255);
      const g = f32(src[3 * p + 1]! / 255);
      const bl = f32(src[3 * p + 2]! / 255);
      const gray = f32(f32(f32(r * GRAY_R) + f32(g * GRAY_G)) + f32(bl * GRAY_B));
      const lift = f32(f32(gray * 1.5) + 0.5);
      const ch = [r, g, bl];
      for (let c = 0; c < 3; c++) {
        const x = ch[c]!;
        const y = f32(f32(b * x) + f32(ob * Math.max(x, lift)));
        out[3 * p + c] = unitToByte((y + blurred[p]! / 255) + blurred[H * W - 1 - p]! / 255);
      }
    }
    return like(img, out);
  },
});

async function frostSource(index: number, column: Column, frostDir: string | undefined): Promise<Image8> {
  const tex = await frostTexture(index, frostDir);
  const scale = FROST_SCALE[column];
  if (scale === 1) return tex;
  const r = await corruptNative(true, 'frost below 224 px').cvResizeLinear(tex.data, tex.height, tex.width, 3, scale, scale);
  return { data: r.data, width: r.width, height: r.height, channels: 3 };
}

registerCorruption<'frost', FrostDraws>({
  id: 'frost',
  async draw(rng: Rng, img, _p, ctx) {
    const index = rng.int(5);
    const tex = await frostSource(index, ctx.column, ctx.frostDir);
    const dh = tex.height - img.height;
    const dw = tex.width - img.width;
    if (dh < 0 || dw < 0) {
      throw new QrobustError(`frost texture ${index + 1} (${tex.width}x${tex.height} after rescaling) is smaller than the ${img.width}x${img.height} image`);
    }
    const top = dh > 0 ? rng.int(dh) : 0;
    const left = dw > 0 ? rng.int(dw) : 0;
    return { index, top, left };
  },
  async apply(img, [c0, c1], d, ctx) {
    const tex = await frostSource(d.index, ctx.column, ctx.frostDir);
    if (d.top < 0 || d.left < 0 || d.top + img.height > tex.height || d.left + img.width > tex.width) {
      throw new QrobustError(`frost crop (${d.top}, ${d.left}) does not fit texture ${d.index + 1} (${tex.width}x${tex.height})`);
    }
    const out = new Uint8Array(img.data.length);
    for (let y = 0; y < img.height; y++) {
      for (let x = 0; x < img.width * 3; x++) {
        const v = c0 * img.data[y * img.width * 3 + x]! + c1 * tex.data[(y + d.top) * tex.width * 3 + d.left * 3 + x]!;
        out[y * img.width * 3 + x] = Math.trunc(v < 0 ? 0 : v > 255 ? 255 : v);
      }
    }
    return like(img, out);
  },
});

/**
 * The plasma map size for an image: the column's (256/64/32), grown to a power of two covering it.
 * @param column table column
 * @param height image height
 * @param width image width
 * @throws never
 * @example
 * fogMapsize(224, 300, 200) // 512
 */
export function fogMapsize(column: Column, height: number, width: number): number {
  let m = FOG_MAPSIZE[column];
  while (m < Math.max(height, width)) m *= 2;
  return m;
}

registerCorruption<'fog', FogDraws>({
  id: 'fog',
  draw(rng: Rng, img, [, decay], ctx) {
    const mapsize = fogMapsize(ctx.column, img.height, img.width);
    return { plasma: plasmaFractal(mapsize, decay, () => rng.uniform()), mapsize };
  },
  async apply(img, [c0], d) {
    const src = img.data;
    let maxv = 0;
    for (let i = 0; i < src.length; i++) {
      const v = src[i]! / 255;
      if (v > maxv) maxv = v;
    }
    const out = new Uint8Array(src.length);
    for (let y = 0; y < img.height; y++) {
      for (let x = 0; x < img.width; x++) {
        const add = c0 * d.plasma[y * d.mapsize + x]!;
        for (let c = 0; c < 3; c++) {
          const i = (y * img.width + x) * 3 + c;
          const v = src[i]! / 255 + add;
          out[i] = unitToByte((v * maxv) / (maxv + c0));
        }
      }
    }
    return like(img, out);
  },
});

registerCorruption<'brightness', null>({
  id: 'brightness',
  draw: () => null,
  async apply(img, c) {
    const src = img.data;
    const out = new Uint8Array(src.length);
    const hsv = new Float64Array(3);
    const rgb = new Float64Array(3);
    for (let i = 0; i < src.length; i += 3) {
      rgb2hsv(src[i]! / 255, src[i + 1]! / 255, src[i + 2]! / 255, hsv);
      let v = hsv[2]! + c;
      v = v < 0 ? 0 : v > 1 ? 1 : v;
      hsv2rgb(hsv[0]!, hsv[1]!, v, rgb);
      out[i] = unitToByte(rgb[0]!);
      out[i + 1] = unitToByte(rgb[1]!);
      out[i + 2] = unitToByte(rgb[2]!);
    }
    return like(img, out);
  },
});
