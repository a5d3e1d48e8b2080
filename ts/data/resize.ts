/**
 * A separable triangle-filter (bilinear) resize in the manner of Pillow's BILINEAR: the filter support widens
 * by the downscale factor (antialiasing), taps stay inside the crop box, weights are normalised per output
 * pixel. It runs in float64 and rounds to nearest, so it is **not** bit-exact with Pillow's fixed-point code
 * (the exact Pillow resamplers belong to ts/systematic, issue 6); it serves the preprocess stand-in and
 * RandomResizedCrop.
 */
import { int } from '../util/is.ts';
import { invalidOption } from '../util/errors.ts';
import type { HwcImage } from './types.ts';

/** A crop box in pixels. */
export interface Box {
  top: number;
  left: number;
  height: number;
  width: number;
}

function checkImage(img: HwcImage): void {
  if (img.data.length !== img.width * img.height * img.channels) {
    throw invalidOption('image', `${img.width * img.height * img.channels} bytes for ${img.width}x${img.height}x${img.channels}`, img.data);
  }
}

/**
 * Triangle-filter weights for one axis (Pillow-style support scaling), as [first source index, weights].
 * Taps stay inside [offset, offset + span): the crop is taken first, as torchvision's resized_crop does.
 */
function axisWeights(outSize: number, offset: number, span: number): AxisWeights {
  const key = `${outSize}/${offset}/${span}`;
  const hit = weightCache.get(key);
  if (hit) return hit;
  const made = makeAxisWeights(outSize, offset, span);
  if (weightCache.size >= 64) weightCache.delete(weightCache.keys().next().value!);
  weightCache.set(key, made);
  return made;
}

interface AxisWeights {
  start: Int32Array;
  weights: Float64Array[];
}

/** Recently used weight tables: batches resize many images with the same geometry. */
const weightCache = new Map<string, AxisWeights>();

function makeAxisWeights(outSize: number, offset: number, span: number): AxisWeights {
  const scale = span / outSize;
  const support = Math.max(scale, 1);
  const start = new Int32Array(outSize);
  const weights: Float64Array[] = [];
  for (let o = 0; o < outSize; o++) {
    const centre = offset + (o + 0.5) * scale;
    const lo = Math.max(offset, Math.floor(centre - support));
    const hi = Math.min(offset + span, Math.ceil(centre + support));
    const ws = new Float64Array(Math.max(0, hi - lo));
    let sum = 0;
    for (let s = lo; s < hi; s++) {
      const t = Math.abs((s + 0.5 - centre) / support);
      const v = t < 1 ? 1 - t : 0;
      ws[s - lo] = v;
      sum += v;
    }
    if (sum > 0) for (let k = 0; k < ws.length; k++) ws[k]! /= sum;
    start[o] = lo;
    weights.push(ws);
  }
  return { start, weights };
}

/**
 * Crops `box` and resizes it to `outW` x `outH` with a triangle (bilinear) filter, antialiased when shrinking.
 * @param img HWC uint8
 * @param box the region (must lie inside the image)
 * @param outW output width
 * @param outH output height
 * @throws UsageError when the box leaves the image
 * @example
 * resizedCrop(img, { top: 0, left: 0, height: img.height, width: img.width }, img.width, img.height) // equal to img
 */
export function resizedCrop<T extends HwcImage>(img: T, box: Box, outW: number, outH: number): T {
  checkImage(img);
  const { width: w, channels: c } = img;
  int('box.top', box.top, 0, img.height - 1);
  int('box.left', box.left, 0, img.width - 1);
  int('box.height', box.height, 1, img.height - box.top);
  int('box.width', box.width, 1, img.width - box.left);
  int('outW', outW, 1);
  int('outH', outH, 1);
  const wx = axisWeights(outW, box.left, box.width);
  const wy = axisWeights(outH, box.top, box.height);
  // Horizontal pass over the rows of the box, then the vertical pass row by row. Each output value sums its
  // taps in ascending order in both passes, so the loop shapes below do not change the result.
  const rows0 = box.top;
  const rows1 = box.top + box.height;
  const d = img.data;
  const rowLen = outW * c;
  const tmp = new Float64Array((rows1 - rows0) * rowLen);
  for (let y = rows0; y < rows1; y++) {
    const src = y * w;
    const dst = (y - rows0) * rowLen;
    for (let o = 0; o < outW; o++) {
      const ws = wx.weights[o]!;
      const s0 = src + wx.start[o]!;
      if (c === 3) {
        let a0 = 0;
        let a1 = 0;
        let a2 = 0;
        for (let t = 0; t < ws.length; t++) {
          const p = (s0 + t) * 3;
          const wt = ws[t]!;
          a0 += wt * d[p]!;
          a1 += wt * d[p + 1]!;
          a2 += wt * d[p + 2]!;
        }
        tmp[dst + o * 3] = a0;
        tmp[dst + o * 3 + 1] = a1;
        tmp[dst + o * 3 + 2] = a2;
      } else {
        for (let k = 0; k < c; k++) {
          let acc = 0;
          for (let t = 0; t < ws.length; t++) acc += ws[t]! * d[(s0 + t) * c + k]!;
          tmp[dst + o * c + k] = acc;
        }
      }
    }
  }
  const out = new Uint8Array(outH * rowLen);
  const acc = new Float64Array(rowLen);
  for (let o = 0; o < outH; o++) {
    const ws = wy.weights[o]!;
    const s0 = wy.start[o]! - rows0;
    acc.fill(0);
    for (let t = 0; t < ws.length; t++) {
      const wt = ws[t]!;
      const row = (s0 + t) * rowLen;
      for (let x = 0; x < rowLen; x++) acc[x] += wt * tmp[row + x]!;
    }
    const base = o * rowLen;
    for (let x = 0; x < rowLen; x++) {
      const v = Math.round(acc[x]!);
      out[base + x] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
  return { ...img, data: out, width: outW, height: outH };
}

/**
 * Copies the `size` x `size` window at (`left`, `top`).
 * @param img HWC uint8
 * @param left first column
 * @param top first row
 * @param width window width
 * @param height window height
 * @throws UsageError when the window leaves the image
 * @example
 * crop(img, 2, 2, 32, 32).width // 32
 */
export function crop<T extends HwcImage>(img: T, left: number, top: number, width: number, height: number): T {
  checkImage(img);
  int('left', left, 0, img.width - width);
  int('top', top, 0, img.height - height);
  const c = img.channels;
  const out = new Uint8Array(width * height * c);
  for (let y = 0; y < height; y++) {
    const s = ((top + y) * img.width + left) * c;
    out.set(img.data.subarray(s, s + width * c), y * width * c);
  }
  return { ...img, data: out, width, height };
}
