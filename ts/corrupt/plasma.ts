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
 * const m = plasmaFractal(8, 2, () => 0.5); m.length // 64
 */
export function plasmaFractal(mapsize: number, wibbleDecay: number, uniform01: () => number): Float64Array {
  if (!Number.isInteger(mapsize) || mapsize < 2 || (mapsize & (mapsize - 1)) !== 0) throw invalidOption('mapsize', 'a power of two >= 2', mapsize);
  const N = mapsize;
  const m = new Float64Array(N * N);
  let step = N;
  let wibble = 100;
  const wib = (): number => wibble * (-wibble + (wibble - -wibble) * uniform01());
  while (step >= 2) {
    const k = N / step;
    const h = step / 2;
    // fill squares: corners (i*step, j*step); centre (i*step+h, j*step+h)
    const sq = new Float64Array(k * k);
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) sq[i * k + j] = m[i * step * N + j * step]! + m[((i + 1) % k) * step * N + j * step]!;
    const sq2 = new Float64Array(k * k);
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) sq2[i * k + j] = sq[i * k + j]! + sq[i * k + ((j + 1) % k)]!;
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) m[(i * step + h) * N + j * step + h] = sq2[i * k + j]! / 4 + wib();
    // fill diamonds
    const dr = (i: number, j: number): number => m[(i * step + h) * N + j * step + h]!;
    const ul = (i: number, j: number): number => m[i * step * N + j * step]!;
    const lt = new Float64Array(k * k);
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) {
      const ldrsum = dr(i, j) + dr((i - 1 + k) % k, j);
      const lulsum = ul(i, j) + ul(i, (j + 1) % k);
      lt[i * k + j] = ldrsum + lulsum;
    }
    const tt = new Float64Array(k * k);
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) {
      const tdrsum = dr(i, j) + dr(i, (j - 1 + k) % k);
      const tulsum = ul(i, j) + ul((i + 1) % k, j);
      tt[i * k + j] = tdrsum + tulsum;
    }
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) m[i * step * N + j * step + h] = lt[i * k + j]! / 4 + wib();
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) m[(i * step + h) * N + j * step] = tt[i * k + j]! / 4 + wib();
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
