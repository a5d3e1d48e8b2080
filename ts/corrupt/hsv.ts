/**
 * skimage 0.19's rgb2hsv / hsv2rgb on one pixel in [0, 1] (float64), operation for operation: hue from
 * the last matching max channel (blue over green over red), `(h/6) % 1` with Python's modulo, 0 where
 * delta = 0, S = delta/V (0 where delta = 0); back with hi = floor(6h) % 6 and the p, q, t table.
 */

/**
 * rgb2hsv of one pixel in [0, 1], written into out[0..2].
 * @param r red
 * @param g green
 * @param b blue
 * @param out receives h, s, v
 * @throws never
 * @example
 * const o = [0, 0, 0]; rgb2hsv(0, 0, 1, o);
 * o // [2 / 3, 1, 1]
 */
export function rgb2hsv(r: number, g: number, b: number, out: Float64Array | number[]): void {
  const v = Math.max(r, g, b);
  const delta = v - Math.min(r, g, b);
  let s = delta / v;
  if (delta === 0) s = 0;
  let h = 0;
  // later assignments win, as in skimage's three masked writes
  if (r === v) h = (g - b) / delta;
  if (g === v) h = 2 + (b - r) / delta;
  if (b === v) h = 4 + (r - g) / delta;
  let hh = (h / 6) % 1;
  if (hh !== 0 && hh < 0) hh += 1;
  if (hh === 0) hh = 0;
  if (delta === 0) hh = 0;
  if (Number.isNaN(hh)) hh = 0;
  if (Number.isNaN(s)) s = 0;
  out[0] = hh;
  out[1] = s;
  out[2] = Number.isNaN(v) ? 0 : v;
}

/**
 * hsv2rgb of one pixel, written into out[0..2].
 * @param h hue in [0, 1)
 * @param s saturation
 * @param v value
 * @param out receives r, g, b
 * @throws never
 * @example
 * const o = [0, 0, 0]; hsv2rgb(0, 1, 1, o);
 * o // [1, 0, 0]
 */
export function hsv2rgb(h: number, s: number, v: number, out: Float64Array | number[]): void {
  const hi0 = Math.floor(h * 6);
  const f = h * 6 - hi0;
  const p = v * (1 - s);
  const q = v * (1 - f * s);
  const t = v * (1 - (1 - f) * s);
  // numpy: hi.astype(np.uint8) % 6
  const hi = ((hi0 % 256) + 256) % 256 % 6;
  switch (hi) {
    case 0: out[0] = v; out[1] = t; out[2] = p; break;
    case 1: out[0] = q; out[1] = v; out[2] = p; break;
    case 2: out[0] = p; out[1] = v; out[2] = t; break;
    case 3: out[0] = p; out[1] = q; out[2] = v; break;
    case 4: out[0] = t; out[1] = p; out[2] = v; break;
    default: out[0] = v; out[1] = p; out[2] = q; break;
  }
}
