/** Seeded weight initialisers (torch.nn.init semantics); each takes an explicit {@link Rng}. */
import type { Rng } from '../util/rng.ts';
import type { Tensor } from '../tensor/tensor.ts';

/** fan_in and fan_out of a [out, in, kh, kw] or [out, in] weight, as torch computes them. */
export function fans(t: Tensor): { fanIn: number; fanOut: number } {
  const rf = t.shape.slice(2).reduce((a, b) => a * b, 1);
  return { fanIn: (t.shape[1] ?? 1) * rf, fanOut: (t.shape[0] ?? 1) * rf };
}

/** U(−bound, bound) in place; returns t. */
export function uniform(t: Tensor, rng: Rng, bound: number): Tensor {
  const d = t.data;
  for (let i = 0; i < d.length; i++) d[i] = (2 * rng.uniform() - 1) * bound;
  return t;
}

/** N(0, std²) in place; returns t. */
export function normal(t: Tensor, rng: Rng, std: number): Tensor {
  const d = t.data;
  for (let i = 0; i < d.length; i++) d[i] = std * rng.normal();
  return t;
}

/** torch's default for Conv2d / Linear weights: kaiming_uniform(a = √5), i.e. U(±1/√fan_in). */
export function torchDefaultWeight(t: Tensor, rng: Rng): Tensor {
  return uniform(t, rng, 1 / Math.sqrt(fans(t).fanIn));
}

/** kaiming_normal(mode, nonlinearity = relu): N(0, 2/fan). torchvision ResNets use mode 'fan_out'. */
export function kaimingNormal(t: Tensor, rng: Rng, mode: 'fanIn' | 'fanOut' = 'fanOut'): Tensor {
  return normal(t, rng, Math.sqrt(2 / fans(t)[mode]));
}
