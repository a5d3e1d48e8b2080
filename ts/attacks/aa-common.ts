/**
 * Shared bits of the AutoAttack components (APGD-CE, APGD-T, FAB-T, Square): batched prediction,
 * the ℓ∞ box projection in float32, gathering sub-batches, and the checks AutoAttack makes on its
 * output (perturbation within ε, pixels in [0,1], robust accuracy ≤ clean accuracy), which throw
 * {@link AutoAttackCheckError} naming what failed.
 *
 * Everything works on flattened NCHW float32 batches in [0,1] pixel space (STYLE habit 9).
 */
import { QrobustError, invalidOption } from '../util/errors.ts';
import { Rng } from '../util/rng.ts';
import type { AttackModel } from './model.ts';
import { sampleSize } from './model.ts';

/**
 * Absolute slack of the ‖δ‖∞ ≤ ε check. Adversarial pixels are stored as float32, and rounding a
 * value in [0,1] to float32 moves it by at most 2^-25 ≈ 3e-8; 1e-6 leaves room for that and nothing
 * else (a real violation of a budget of 0.5/255 ≈ 2e-3 is three orders larger).
 */
export const LINF_TOLERANCE = 1e-6;

/** A check AutoAttack makes on its own output failed (a bug in an attack or a model, never silently passed). */
export class AutoAttackCheckError extends QrobustError {
  /** which check: 'perturbation' | 'range' | 'nan' | 'robust<=clean' */
  readonly check: string;
  constructor(check: string, message: string) {
    super(message);
    this.name = 'AutoAttackCheckError';
    this.check = check;
  }
}

/**
 * Checks ε: a finite number ≥ 0.
 * @param eps the ℓ∞ budget in [0,1] pixel units
 * @throws UsageError when ε is negative, NaN or infinite
 * @example
 * checkEps(0.5) // 0.5
 */
export function checkEps(eps: unknown): number {
  if (typeof eps !== 'number' || !Number.isFinite(eps) || eps < 0) throw invalidOption('eps', 'finite number >= 0', eps);
  return eps;
}

/**
 * Checks the inputs of an attack: x has n·C·H·W values in [0,1], y has n labels in [0,K).
 * @param model the model attacked
 * @param x n samples, NCHW flattened
 * @param y n labels
 * @returns n
 * @throws UsageError naming x or y when the sizes or values are wrong
 * @example
 * checkInputs(linearModel(new Float32Array(4), new Float32Array(2), [1, 1, 2]), new Float32Array(2), new Int32Array([0])) // 1
 */
export function checkInputs(model: AttackModel, x: Float32Array, y: Int32Array): number {
  const d = sampleSize(model);
  const n = y.length;
  if (!(x instanceof Float32Array) || x.length !== n * d) {
    throw invalidOption('x', `Float32Array of n*C*H*W = ${n}*${d} values`, x);
  }
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (!(v >= 0 && v <= 1)) throw invalidOption(`x[${i}]`, 'pixel in [0,1]', v);
  }
  for (let i = 0; i < n; i++) {
    const c = y[i]!;
    if (!Number.isInteger(c) || c < 0 || c >= model.numClasses) throw invalidOption(`y[${i}]`, `label 0..${model.numClasses - 1}`, c);
  }
  return n;
}

/** Index of the largest of k logits starting at `off` (first one on ties, like torch.max). */
export function argmaxRow(z: Float32Array | Float64Array, off: number, k: number): number {
  let best = 0;
  let bv = z[off]!;
  for (let c = 1; c < k; c++) {
    const v = z[off + c]!;
    if (v > bv) {
      bv = v;
      best = c;
    }
  }
  return best;
}

/**
 * Logits of n samples in chunks of at most `batch`.
 * @param model the model
 * @param x n samples
 * @param n number of samples
 * @param batch largest chunk handed to the model
 * @returns n·K logits
 * @throws whatever the model throws
 * @example
 * const z = await logitsBatched(m, x, 10, 4);
 * z.length // 100
 */
export async function logitsBatched(model: AttackModel, x: Float32Array, n: number, batch: number): Promise<Float32Array> {
  const d = sampleSize(model);
  const k = model.numClasses;
  if (n <= batch) return model.logits(x.subarray(0, n * d), n);
  const out = new Float32Array(n * k);
  for (let s = 0; s < n; s += batch) {
    const m = Math.min(batch, n - s);
    out.set(await model.logits(x.subarray(s * d, (s + m) * d), m), s * k);
  }
  return out;
}

/**
 * Per-sample correctness: argmax(logits) === y.
 * @param model the model
 * @param x n samples
 * @param y n labels
 * @param batch largest chunk handed to the model
 * @returns 1 where the model is correct
 * @throws whatever the model throws
 * @example
 * const ok = await correctFlags(m, x, y, 100);
 * ok.length // 10
 */
export async function correctFlags(model: AttackModel, x: Float32Array, y: Int32Array, batch: number): Promise<Uint8Array> {
  const n = y.length;
  const k = model.numClasses;
  const z = await logitsBatched(model, x, n, batch);
  const ok = new Uint8Array(n);
  for (let i = 0; i < n; i++) ok[i] = argmaxRow(z, i * k, k) === y[i] ? 1 : 0;
  return ok;
}

/** Copies the samples listed in `idx` (d floats each) into a new array. */
export function gather(x: Float32Array, idx: ArrayLike<number>, d: number): Float32Array {
  const out = new Float32Array(idx.length * d);
  for (let j = 0; j < idx.length; j++) out.set(x.subarray(idx[j]! * d, idx[j]! * d + d), j * d);
  return out;
}

/** Labels (or any int32 per-sample values) at `idx`. */
export function gatherInt(y: Int32Array, idx: ArrayLike<number>): Int32Array {
  const out = new Int32Array(idx.length);
  for (let j = 0; j < idx.length; j++) out[j] = y[idx[j]!]!;
  return out;
}

/** Indices where `flags` is non-zero. */
export function nonzero(flags: ArrayLike<number>): Int32Array {
  let c = 0;
  for (let i = 0; i < flags.length; i++) if (flags[i]) c++;
  const out = new Int32Array(c);
  c = 0;
  for (let i = 0; i < flags.length; i++) if (flags[i]) out[c++] = i;
  return out;
}

/**
 * Clamps v to [max(0, x−ε), min(1, x+ε)] and rounds to float32 without leaving that interval
 * (rounding x+ε to float32 could otherwise exceed the budget by half an ulp).
 * @param v proposed value (float64)
 * @param x clean value
 * @param eps ℓ∞ budget
 * @returns the float32 value written into the adversarial image
 * @throws never
 * @example
 * Math.abs(clipLinf(0.9, 0.5, 0.1) - 0.5) <= 0.1 // true
 * clipLinf(0.9, 0.5, 0.1) < Math.fround(0.6) // true (float32(0.6) lies above 0.5 + 0.1)
 */
export function clipLinf(v: number, x: number, eps: number): number {
  const lo = Math.max(0, x - eps);
  const hi = Math.min(1, x + eps);
  let r = v < lo ? lo : v > hi ? hi : v;
  if (Number.isNaN(r)) r = x;
  let f = Math.fround(r);
  if (f > hi) f = prevF32(f);
  else if (f < lo) f = nextF32(f);
  return f;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
function nextF32(v: number): number {
  f32[0] = v;
  if (v >= 0) u32[0] = u32[0]! + 1;
  else u32[0] = u32[0]! - 1;
  return f32[0]!;
}
function prevF32(v: number): number {
  f32[0] = v;
  if (v > 0) u32[0] = u32[0]! - 1;
  else if (v === 0) return -Number.MIN_VALUE;
  else u32[0] = u32[0]! + 1;
  return f32[0]!;
}

/** Largest |a_i − b_i| over one sample. */
export function linfDist(a: Float32Array, b: Float32Array, off: number, d: number): number {
  let m = 0;
  for (let j = 0; j < d; j++) {
    const v = Math.abs(a[off + j]! - b[off + j]!);
    if (v > m) m = v;
  }
  return m;
}

/**
 * AutoAttack's output checks: no NaN, every pixel in [0,1], ‖x_adv − x‖∞ ≤ ε (+{@link LINF_TOLERANCE}).
 * @param x clean batch
 * @param xAdv adversarial batch, same shape
 * @param eps ℓ∞ budget
 * @param d floats per sample
 * @param who which attack produced xAdv (named in the error)
 * @returns the largest perturbation found
 * @throws AutoAttackCheckError (check 'nan', 'range' or 'perturbation') naming the sample
 * @example
 * checkAdversarial(new Float32Array([0.5]), new Float32Array([0.6]), 0.1, 1, 'apgd-ce') < 0.1 + 1e-6 // true
 */
export function checkAdversarial(x: Float32Array, xAdv: Float32Array, eps: number, d: number, who: string): number {
  if (x.length !== xAdv.length) throw new AutoAttackCheckError('shape', `${who}: adversarial batch has ${xAdv.length} values, clean batch ${x.length}`);
  let worst = 0;
  for (let i = 0; i < x.length; i++) {
    const v = xAdv[i]!;
    if (Number.isNaN(v)) throw new AutoAttackCheckError('nan', `${who}: NaN in the adversarial batch (sample ${Math.floor(i / d)})`);
    if (v < 0 || v > 1) throw new AutoAttackCheckError('range', `${who}: adversarial pixel ${v} outside [0,1] (sample ${Math.floor(i / d)})`);
    const p = Math.abs(v - x[i]!);
    if (p > worst) worst = p;
    if (p > eps + LINF_TOLERANCE) {
      throw new AutoAttackCheckError('perturbation', `${who}: perturbation ${p} exceeds eps ${eps} (sample ${Math.floor(i / d)})`);
    }
  }
  return worst;
}

/**
 * Robust accuracy may never exceed clean accuracy: every robust point must be clean-correct.
 * @param clean 1 where the clean point is classified correctly
 * @param robust 1 where no attack broke the point
 * @throws AutoAttackCheckError (check 'robust<=clean') naming the first offending sample
 * @example
 * checkRobustLeClean(new Uint8Array([1, 0]), new Uint8Array([1, 0])) // undefined
 */
export function checkRobustLeClean(clean: Uint8Array, robust: Uint8Array): void {
  for (let i = 0; i < clean.length; i++) {
    if (robust[i] && !clean[i]) {
      throw new AutoAttackCheckError('robust<=clean', `sample ${i} is counted robust but its clean point is misclassified (robust accuracy would exceed clean accuracy)`);
    }
  }
}

/**
 * One independent random stream per sample, derived from the component's seed and the sample's index
 * in the whole evaluation, so that a sample's attack does not depend on which others share its batch.
 * When the caller hands per-sample streams (the adversarial suite forks one per sample), each sample's
 * stream is forked from its own by the label instead, and the seed and index are not used.
 * @param seed the evaluation's seed
 * @param label the component and restart/target, e.g. 'apgd-t:3'
 * @param index the samples' global indices
 * @param streams optional per-sample base streams, aligned with `index`
 * @example
 * sampleRngs(0, 'square', new Int32Array([0, 5])).length // 2
 */
export function sampleRngs(seed: number, label: string, index: ArrayLike<number>, streams?: readonly Rng[]): Rng[] {
  const out: Rng[] = [];
  if (streams) {
    for (let j = 0; j < index.length; j++) out.push(streams[j]!.fork(label));
    return out;
  }
  const base = new Rng(seed).fork(label);
  for (let j = 0; j < index.length; j++) out.push(base.fork(index[j]!));
  return out;
}

/**
 * Checks optional per-sample streams: one {@link Rng} per sample.
 * @param streams the streams or undefined
 * @param n samples
 * @throws UsageError when the length or the type is wrong
 * @example
 * checkStreams(undefined, 3) // undefined
 */
export function checkStreams(streams: unknown, n: number): readonly Rng[] | undefined {
  if (streams === undefined) return undefined;
  if (!Array.isArray(streams) || streams.length !== n || !streams.every((r) => r instanceof Rng)) {
    throw invalidOption('rngs', `an array of ${n} Rng (one per sample)`, streams);
  }
  return streams as readonly Rng[];
}

/** The streams of the samples at `idx` (undefined stays undefined). */
export function pickStreams(streams: readonly Rng[] | undefined, idx: ArrayLike<number>): Rng[] | undefined {
  return streams ? Array.from(idx, (i) => streams[i]!) : undefined;
}

/** Identity index 0..n-1. */
export function iota(n: number): Int32Array {
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  return a;
}

/**
 * Sample indices of the c-th highest logit per row (c = 1 is the top class): how APGD-T and FAB-T pick
 * their targets (c = 2..10) on the clean logits. Ties keep the lower class index first.
 * @param z n·K logits
 * @param k K
 * @param c rank, 1..K
 * @example
 * Array.from(kthClass(new Float32Array([0, 3, 1]), 3, 2)) // [2]
 */
export function kthClass(z: Float32Array, k: number, c: number): Int32Array {
  const n = z.length / k;
  const out = new Int32Array(n);
  const idx = new Int32Array(k);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < k; j++) idx[j] = j;
    const row = z.subarray(i * k, i * k + k);
    const sorted = Array.from(idx).sort((a, b) => (row[b]! - row[a]!) || (a - b));
    out[i] = sorted[c - 1]!;
  }
  return out;
}
