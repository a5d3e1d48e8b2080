/**
 * The attack base: argument checks, the cross-entropy input gradient, per-sample random streams, and
 * the ε / [0,1] check after every run (torchattacks' Attack class, in [0,1] pixel space).
 *
 * Randomness: an attack draws sample i's random start from its own stream, `rng.fork(i)` for a single
 * {@link Rng} (or `rngs[i]` when the caller passes one per sample). The suite forks per global sample
 * index, so results do not depend on the batch size.
 */
import { invalidOption, UsageError } from '../util/errors.ts';
import { Rng } from '../util/rng.ts';
import { sampleSize, type AttackModel } from './model.ts';
import { checkPerturbation, type Norm } from './norms.ts';

/** A JSON-serialisable record of an attack's hyperparameters (written into results). */
export type AttackConfig = Readonly<Record<string, number | string | boolean | null>>;

/**
 * Checks ε: a finite number ≥ 0.
 * @param eps the value
 * @param name the option name in the message
 * @throws UsageError "Expected a finite number >= 0 for eps but received -1 of type number"
 * @example
 * checkEps(0.5) // 0.5
 */
export function checkEps(eps: unknown, name = 'eps'): number {
  if (typeof eps !== 'number' || !Number.isFinite(eps) || eps < 0) throw invalidOption(name, 'a finite number >= 0', eps);
  return eps;
}

/**
 * Checks a batch: x holds n samples of the model's size, all in [0,1]; y holds n labels in 0..K−1.
 * @throws UsageError naming the offending argument
 * @example
 * checkBatch(model, x, y, n) // undefined
 */
export function checkBatch(model: AttackModel, x: Float32Array, y: ArrayLike<number>, n: number): void {
  if (!Number.isInteger(n) || n < 1) throw invalidOption('n', 'integer >= 1', n);
  const d = sampleSize(model);
  if (!(x instanceof Float32Array)) throw invalidOption('x', 'a Float32Array', x);
  if (x.length !== n * d) throw invalidOption('x', `${n}*${d} = ${n * d} floats (n*C*H*W)`, x.length);
  if (y === null || typeof y !== 'object' || y.length !== n) throw invalidOption('y', `${n} labels`, y);
  for (let i = 0; i < n; i++) {
    const v = y[i]!;
    if (!Number.isInteger(v) || v < 0 || v >= model.numClasses) throw invalidOption(`y[${i}]`, `integer 0..${model.numClasses - 1}`, v);
  }
  for (let k = 0; k < x.length; k++) {
    const v = x[k]!;
    if (!(v >= 0 && v <= 1)) throw invalidOption(`x[${k}]`, 'a pixel in [0, 1] (normalisation belongs inside the model)', v);
  }
}

/**
 * Predicted classes (argmax, first index on ties) of n rows of K logits.
 * @example
 * Array.from(argmaxRows(new Float32Array([0, 2, 1, 5, 0, 0]), 2, 3)) // [1, 0]
 */
export function argmaxRows(logits: Float32Array, n: number, k: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < k; c++) if (logits[i * k + c]! > logits[i * k + best]!) best = c;
    out[i] = best;
  }
  return out;
}

/**
 * d CE / d logits for the cross-entropy summed over the batch (foolbox: `crossentropy(logits, y).sum()`):
 * softmax(z_i) − onehot(y_i), computed stably in float64.
 * @param z n*K logits
 * @param y n labels
 * @returns n*K gradient
 * @example
 * Array.from(ceLogitGrad(new Float32Array([0, 0]), [1], 1, 2)) // [0.5, -0.5]
 */
export function ceLogitGrad(z: Float32Array, y: ArrayLike<number>, n: number, k: number): Float32Array {
  const g = new Float32Array(n * k);
  for (let i = 0; i < n; i++) {
    let mx = -Infinity;
    for (let c = 0; c < k; c++) mx = Math.max(mx, z[i * k + c]!);
    let se = 0;
    for (let c = 0; c < k; c++) se += Math.exp(z[i * k + c]! - mx);
    for (let c = 0; c < k; c++) g[i * k + c] = Math.exp(z[i * k + c]! - mx) / se - (c === y[i] ? 1 : 0);
  }
  return g;
}

/**
 * The model's vjp, or a named error when it has none (an integer engine, a black box).
 * @throws UsageError "<attack> needs input gradients but model '<name>' provides logits only"
 * @example
 * typeof requireVjp(model, 'pgd-linf') // 'function'
 */
export function requireVjp(model: AttackModel, who: string): NonNullable<AttackModel['vjp']> {
  if (typeof model.vjp !== 'function') {
    throw new UsageError(`${who} needs input gradients but model '${model.name}' provides logits only (use a score-based attack such as square, or --transfer-to)`);
  }
  return model.vjp.bind(model);
}

/**
 * Logits and d(Σ_i CE_i)/dx of a batch.
 * @example
 * const { logits, grad } = await ceInputGradient(model, x, y, n, 'fgsm');
 * grad.length === x.length // true
 */
export async function ceInputGradient(model: AttackModel, x: Float32Array, y: ArrayLike<number>, n: number, who: string): Promise<{ logits: Float32Array; grad: Float32Array }> {
  const vjp = requireVjp(model, who);
  const k = model.numClasses;
  const r = await vjp(x, n, (z) => ceLogitGrad(z, y, n, k));
  if (r.grad.length !== x.length) throw new UsageError(`${who}: model '${model.name}' returned a gradient of ${r.grad.length} values for ${x.length} inputs`);
  return r;
}

/**
 * One stream per sample: `rngs` as given (length n), or `rng.fork(i)`.
 * @throws UsageError when neither an Rng nor n Rngs were given
 * @example
 * perSampleRngs(new Rng(0), 3).length // 3
 */
export function perSampleRngs(rng: Rng | readonly Rng[], n: number): readonly Rng[] {
  if (rng instanceof Rng) return Array.from({ length: n }, (_, i) => rng.fork(i));
  if (Array.isArray(rng) && rng.length === n && rng.every((r) => r instanceof Rng)) return rng;
  throw invalidOption('rng', `an Rng or an array of ${n} Rngs (one per sample)`, rng);
}

/**
 * An evasion attack in [0,1] pixel space with a fixed threat model (norm, ε). Subclasses implement
 * {@link Attack.run}; {@link Attack.perturb} checks the batch before and the threat model after.
 */
export abstract class Attack {
  /** the attack id of CONVENTIONS.md (`fgsm`, `pgd-linf`, ...) */
  abstract readonly id: string;
  /** the threat model's norm */
  abstract readonly norm: Norm;
  readonly model: AttackModel;
  readonly eps: number;

  /**
   * @param model the target
   * @param eps the radius (≥ 0)
   * @throws UsageError when eps is negative or not finite
   */
  protected constructor(model: AttackModel, eps: number) {
    if (!model || typeof model.logits !== 'function') throw invalidOption('model', 'an AttackModel', model);
    this.model = model;
    this.eps = checkEps(eps);
  }

  /** The hyperparameters, for results. */
  abstract config(): AttackConfig;

  /** The attack proper, on checked inputs; returns n*d adversarial values. */
  protected abstract run(x: Float32Array, y: ArrayLike<number>, n: number, rngs: readonly Rng[]): Promise<Float32Array>;

  /**
   * Adversarial examples of a batch (untargeted, ground-truth labels).
   * @param x n*C*H*W clean inputs in [0,1] (not modified)
   * @param y n labels
   * @param n batch size
   * @param rng the seeded stream (forked per sample) or one Rng per sample
   * @returns n*C*H*W adversarial inputs, checked: ‖δ_i‖ ≤ ε (float tolerance) and every pixel in [0,1]
   * @throws UsageError on bad inputs or a model without gradients; PerturbationError when the result leaves the threat model
   * @example
   * const adv = await new PGD(model, { eps: 8 / 255 }).perturb(x, y, n, new Rng(0));
 * adv.length === x.length // true
   */
  async perturb(x: Float32Array, y: ArrayLike<number>, n: number, rng: Rng | readonly Rng[]): Promise<Float32Array> {
    checkBatch(this.model, x, y, n);
    const rngs = perSampleRngs(rng, n);
    const adv = await this.run(x, y, n, rngs);
    checkPerturbation(this.id, x, adv, n, this.norm, this.eps);
    return adv;
  }
}
