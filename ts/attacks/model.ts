/**
 * The only thing attacks see of a model: logits, and a vector-Jacobian product with respect to the input.
 * Attacks define their own losses (cross-entropy, DLR, targeted margins) on the logits in plain TypeScript,
 * hand the model dLoss/dLogits, and get dLoss/dInput back. So attacks never import ts/quant, ts/nn or
 * ts/autograd: a fake-quant model (straight-through gradients), a float model, an integer engine (logits
 * only) or a test double all plug in through this interface.
 *
 * Inputs are NCHW float32 in [0,1] pixel space; normalisation lives inside the model.
 */

/** A classifier as attacks see it. */
export interface AttackModel {
  /** number of classes K */
  readonly numClasses: number;
  /** per-sample input shape [C, H, W] */
  readonly inputShape: readonly [number, number, number];
  /** human-readable name recorded in results */
  readonly name: string;
  /**
   * Logits of a batch.
   * @param x n*C*H*W floats in [0,1]
   * @param n batch size
   * @returns n*K logits, row-major
   */
  logits(x: Float32Array, n: number): Promise<Float32Array>;
  /**
   * Logits and the input gradient of a scalar loss the caller defines on the logits.
   * @param x n*C*H*W floats
   * @param n batch size
   * @param seed receives the n*K logits and returns dLoss/dLogits (n*K); called exactly once
   * @returns the logits and dLoss/dx (n*C*H*W)
   * Models without gradients (an integer engine, a black box) leave this undefined; gradient attacks
   * then refuse them by name and only score-based attacks (Square) run.
   */
  vjp?(x: Float32Array, n: number, seed: (logits: Float32Array) => Float32Array): Promise<{ logits: Float32Array; grad: Float32Array }>;
}

/** Number of floats in one sample. */
export function sampleSize(m: AttackModel): number {
  return m.inputShape[0] * m.inputShape[1] * m.inputShape[2];
}

/**
 * A linear classifier z = W x + b over flattened inputs: the closed-form test model of the attack tests
 * (its optimal l_inf / l2 / l1 perturbations are known exactly).
 * @param w K x D weights, row-major
 * @param b K biases
 * @param inputShape [C, H, W] with C*H*W = D
 * @throws RangeError when the sizes disagree
 * @example
 * const m = linearModel(new Float32Array([1, -1]), new Float32Array([0, 0]).subarray(0, 2), [1, 1, 1]);
 */
export function linearModel(w: Float32Array, b: Float32Array, inputShape: readonly [number, number, number], name = 'linear'): AttackModel {
  const d = inputShape[0] * inputShape[1] * inputShape[2];
  const k = b.length;
  if (w.length !== k * d) throw new RangeError(`linearModel: w has ${w.length} values, expected K*D = ${k}*${d}`);
  const logits = (x: Float32Array, n: number): Float32Array => {
    if (x.length !== n * d) throw new RangeError(`linearModel: x has ${x.length} values, expected n*D = ${n}*${d}`);
    const z = new Float32Array(n * k);
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < k; c++) {
        let s = b[c]!;
        for (let j = 0; j < d; j++) s += w[c * d + j]! * x[i * d + j]!;
        z[i * k + c] = s;
      }
    }
    return z;
  };
  return {
    numClasses: k,
    inputShape,
    name,
    logits: async (x, n) => logits(x, n),
    vjp: async (x, n, seed) => {
      const z = logits(x, n);
      const gz = seed(z);
      if (gz.length !== n * k) throw new RangeError(`linearModel.vjp: seed returned ${gz.length} values, expected ${n * k}`);
      const g = new Float32Array(n * d);
      for (let i = 0; i < n; i++) {
        for (let c = 0; c < k; c++) {
          const s = gz[i * k + c]!;
          if (s === 0) continue;
          for (let j = 0; j < d; j++) g[i * d + j] += s * w[c * d + j]!;
        }
      }
      return { logits: z, grad: g };
    },
  };
}
