/**
 * The fog corruption's plasma fractal (diamond-square), as the reference's plasma_fractal computes it:
 * a mapsize×mapsize map, wibble starting at 100 and divided by `wibbleDecay` after each level; each
 * level fills the square centres, then the two diamond grids, each value being (sum of 4 neighbours)/4
 * + wibble·U(−wibble, wibble) with periodic neighbours (np.roll); finally shifted to min 0 and divided by
 * its max. The uniforms are taken in numpy's order (per filled grid, row-major), from `uniform01`,
 * mapped as numpy's `uniform(low, high)` = low + (high − low)·u.
 */
import { invalidOption } from '../util/errors.ts';

/**
 * @param mapsize a power of two
 * @param wibbleDecay the decay of the random amplitude per level
 * @param uniform01 a source of U[0, 1) numbers (e.g. `() => rng.uniform()`)
 * @throws UsageError when mapsize is not a power of two ≥ 2
 * @example
 * const m = plasmaFractal(8, 2, () => 0.5);
 * m.length // 64
 */
export function plasmaFractal(mapsize: number, wibbleDecay: number, uniform01: () => number): Float64Array {
  if (!Number.isInteger(mapsize) || mapsize < 2 || (mapsize & (mapsize - 1)) !== 0) throw invalidOption('mapsize', 'a power of two >= 2', mapsize);
  const N = mapsize;
  const m = new Float64Array(N * N);
  let step = N;
  let wibble = 100;
  const kmax = N / 2;
  const sq = new Float64Array(kmax * kmax);
  const sq2 = new Float64Array(kmax * kmax);
  const lt = new Float64Array(kmax * kmax);
  const tt = new Float64Array(kmax * kmax);
  while (step >= 2) {
    const k = N / step;
    const h = step / 2;
    const range = wibble - -wibble;
    // fill squares: corners (i*step, j*step); centre (i*step+h, j*step+h)
    for (let i = 0; i < k; i++) {
      const r0 = i * step * N;
      const r1 = ((i + 1) % k) * step * N;
      for (let j = 0; j < k; j++) sq[i * k + j] = m[r0 + j * step]! + m[r1 + j * step]!;
    }
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) sq2[i * k + j] = sq[i * k + j]! + sq[i * k + ((j + 1) % k)]!;
    for (let i = 0; i < k; i++) {
      const r = (i * step + h) * N + h;
      for (let j = 0; j < k; j++) m[r + j * step] = sq2[i * k + j]! / 4 + wibble * (-wibble + range * uniform01());
    }
    // fill diamonds from the centres (dr) and corners (ul), periodic neighbours (np.roll)
    for (let i = 0; i < k; i++) {
      const dRow = (i * step + h) * N + h;
      const dUp = (((i - 1 + k) % k) * step + h) * N + h;
      const uRow = i * step * N;
      const uDown = ((i + 1) % k) * step * N;
      for (let j = 0; j < k; j++) {
        const js = j * step;
        const jn = ((j + 1) % k) * step;
        const jp = ((j - 1 + k) % k) * step;
        lt[i * k + j] = (m[dRow + js]! + m[dUp + js]!) + (m[uRow + js]! + m[uRow + jn]!);
        tt[i * k + j] = (m[dRow + js]! + m[dRow + jp]!) + (m[uRow + js]! + m[uDown + js]!);
      }
    }
    for (let i = 0; i < k; i++) {
      const r = i * step * N + h;
      for (let j = 0; j < k; j++) m[r + j * step] = lt[i * k + j]! / 4 + wibble * (-wibble + range * uniform01());
    }
    for (let i = 0; i < k; i++) {
      const r = (i * step + h) * N;
      for (let j = 0; j < k; j++) m[r + j * step] = tt[i * k + j]! / 4 + wibble * (-wibble + range * uniform01());
    }
    step = step / 2;
    wibble /= wibbleDecay;
  }
  let min = Infinity;
  for (let i = 0; i < m.length; i++) if (m[i]! < min) min = m[i]!;
  let max = -Infinity;
  for (let i = 0; i < m.length; i++) {
    m[i] = m[i]! - min;
    if (m[i]! > max) max = m[i]!;
  }
  for (let i = 0; i < m.length; i++) m[i] = m[i]! / max;
  return m;
}
