/**
 * Inverted dropout, forward beside backward: in training each element is zeroed with probability p
 * and the survivors scaled by 1/(1 − p); in evaluation it is the identity. The mask comes from the
 * caller's seeded {@link Rng} (never Math.random), so a run is reproducible from its seed.
 */
import { invalidOption } from '../util/errors.ts';
import { Rng } from '../util/rng.ts';
import { Tensor } from '../tensor/tensor.ts';
import { record } from './graph.ts';

/**
 * @param p drop probability in [0, 1)
 * @param rng the seeded generator the mask is drawn from
 * @param training identity when false (default true)
 * @throws UsageError on a bad p or a missing generator
 * @example
 * dropout(Tensor.ones([4]), 0.5, new Rng(1)).toArray().every((v) => v === 0 || v === 2) // true
 */
export function dropout(x: Tensor, p: number, rng: Rng, training = true): Tensor {
  if (!(x instanceof Tensor)) throw invalidOption('x', 'a Tensor', x);
  if (typeof p !== 'number' || !(p >= 0 && p < 1)) throw invalidOption('p', 'number in [0, 1)', p);
  if (!(rng instanceof Rng)) throw invalidOption('rng', 'an Rng (seeded generator)', rng);
  if (!training || p === 0) return x;
  const xd = x.contiguous().data;
  const scale = 1 / (1 - p);
  const mask = new Float32Array(xd.length);
  for (let i = 0; i < mask.length; i++) mask[i] = rng.uniform() < p ? 0 : scale;
  const out = Tensor.zeros(x.shape);
  const o = out.data;
  for (let i = 0; i < o.length; i++) o[i] = xd[i]! * mask[i]!;
  return record('dropout', [x], out, (g) => {
    const gd = g.contiguous().data;
    const gx = new Float32Array(gd.length);
    for (let i = 0; i < gx.length; i++) gx[i] = gd[i]! * mask[i]!;
    return [Tensor.from(gx, x.shape)];
  });
}
