/**
 * Tiny hand-differentiated models for the attack tests and examples (no ts/nn): a one-hidden-layer ReLU
 * network, and a "step" model whose logits depend on an input quantized to L levels, so its exact
 * input gradient is zero almost everywhere (what a quantized network's true gradient looks like, and the
 * case where gradient attacks fail and Square does not).
 */
import { Rng } from '../util/rng.ts';
import * as is from '../util/is.ts';
import type { AttackModel } from './model.ts';

/**
 * z = W₂·relu(W₁x + b₁) + b₂ with random Gaussian weights (scaled 1/√fan-in) and exact vjp.
 * @param seed weight seed
 * @param inputShape [C, H, W]
 * @param hidden hidden width
 * @param k classes
 * @throws UsageError on non-positive sizes
 * @example
 * mlpModel(0, [1, 4, 4], 32, 5).numClasses // 5
 */
export function mlpModel(seed: number, inputShape: readonly [number, number, number], hidden: number, k: number, name = 'toy-mlp'): AttackModel {
  is.int('hidden', hidden, 1);
  is.int('k', k, 2);
  const d = inputShape[0] * inputShape[1] * inputShape[2];
  const rng = new Rng(seed);
  const w1 = new Float64Array(hidden * d).map(() => rng.normal() * 4 / Math.sqrt(d));
  const b1 = new Float64Array(hidden).map(() => rng.normal() * 0.5);
  const w2 = new Float64Array(k * hidden).map(() => rng.normal() / Math.sqrt(hidden));
  const b2 = new Float64Array(k).map(() => rng.normal() * 0.1);
  const fwd = (x: Float32Array, n: number): { z: Float32Array; h: Float64Array } => {
    const h = new Float64Array(n * hidden);
    const z = new Float32Array(n * k);
    for (let i = 0; i < n; i++) {
      for (let u = 0; u < hidden; u++) {
        let s = b1[u]!;
        for (let j = 0; j < d; j++) s += w1[u * d + j]! * x[i * d + j]!;
        h[i * hidden + u] = s > 0 ? s : 0;
      }
      for (let c = 0; c < k; c++) {
        let s = b2[c]!;
        for (let u = 0; u < hidden; u++) s += w2[c * hidden + u]! * h[i * hidden + u]!;
        z[i * k + c] = s;
      }
    }
    return { z, h };
  };
  return {
    numClasses: k,
    inputShape,
    name,
    logits: async (x, n) => fwd(x, n).z,
    vjp: async (x, n, seed) => {
      const { z, h } = fwd(x, n);
      const gz = seed(z);
      const g = new Float32Array(n * d);
      const gh = new Float64Array(hidden);
      for (let i = 0; i < n; i++) {
        gh.fill(0);
        for (let c = 0; c < k; c++) {
          const s = gz[i * k + c]!;
          if (s === 0) continue;
          for (let u = 0; u < hidden; u++) gh[u] += s * w2[c * hidden + u]!;
        }
        for (let u = 0; u < hidden; u++) {
          if (h[i * hidden + u]! <= 0 || gh[u] === 0) continue;
          const s = gh[u]!;
          for (let j = 0; j < d; j++) g[i * d + j] += s * w1[u * d + j]!;
        }
      }
      return { logits: z, grad: g };
    },
  };
}

/**
 * A linear classifier on the input quantized to `levels` steps per unit, z = W·(⌊x·L⌋/L) + b. Its exact
 * input gradient is zero almost everywhere, and its vjp says so (all zeros), like a quantized network
 * without a straight-through estimator.
 * @param w K×D weights
 * @param b K biases
 * @param inputShape [C, H, W]
 * @param levels L
 * @throws RangeError when the sizes disagree
 * @example
 * const s = stepModel(new Float32Array([1, -1]), new Float32Array([0, 0]), [1, 1, 1], 16);
 * Array.from((await s.vjp(new Float32Array([0.3]), 1, (z) => z)).grad) // [0]
 */
export function stepModel(w: Float32Array, b: Float32Array, inputShape: readonly [number, number, number], levels: number, name = 'toy-step'): AttackModel {
  const d = inputShape[0] * inputShape[1] * inputShape[2];
  const k = b.length;
  if (w.length !== k * d) throw new RangeError(`stepModel: w has ${w.length} values, expected K*D = ${k}*${d}`);
  is.int('levels', levels, 1);
  const fwd = (x: Float32Array, n: number): Float32Array => {
    const z = new Float32Array(n * k);
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < k; c++) {
        let s = b[c]!;
        for (let j = 0; j < d; j++) s += w[c * d + j]! * (Math.floor(x[i * d + j]! * levels) / levels);
        z[i * k + c] = s;
      }
    }
    return z;
  };
  return {
    numClasses: k,
    inputShape,
    name,
    logits: async (x, n) => fwd(x, n),
    vjp: async (x, n, seed) => {
      const z = fwd(x, n);
      seed(z);
      return { logits: z, grad: new Float32Array(n * d) };
    },
  };
}
