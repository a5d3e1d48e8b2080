/**
 * Losses the AutoAttack components maximise, on logits, with their gradients with respect to the
 * logits (the seed handed to {@link AttackModel.vjp}).
 *
 * - cross-entropy: CE(z, y) = logsumexp(z) − z_y
 * - DLR (Croce & Hein 2020, eq. 6): −(z_y − max_{i≠y} z_i) / (z_π1 − z_π3 + 1e-12)
 * - targeted DLR (eq. 7): −(z_y − z_t) / (z_π1 − ½(z_π3 + z_π4) + 1e-12)
 *
 * π is the order of the logits from largest to smallest. The DLR denominators are differentiated too
 * (as autograd does in the reference implementation): the gradient reaches the logits that are π1,
 * π3 and π4, whoever they are.
 */
import { invalidOption } from '../util/errors.ts';

/** The denominators' guard against division by zero, as in the paper. */
export const DLR_EPS = 1e-12;

/** Per-sample loss values and dLoss/dlogits of a batch. */
export interface LossAndGrad {
  /** n loss values */
  loss: Float64Array;
  /** n·K gradient with respect to the logits */
  grad: Float32Array;
}

/** The positions of the four largest logits of a row (ties: lower index first). */
function top4(z: Float32Array, off: number, k: number): [number, number, number, number] {
  let a = -1, b = -1, c = -1, d = -1;
  for (let j = 0; j < k; j++) {
    const v = z[off + j]!;
    if (a < 0 || v > z[off + a]!) { d = c; c = b; b = a; a = j; }
    else if (b < 0 || v > z[off + b]!) { d = c; c = b; b = j; }
    else if (c < 0 || v > z[off + c]!) { d = c; c = j; }
    else if (d < 0 || v > z[off + d]!) { d = j; }
  }
  return [a, b, c, d];
}

/**
 * Cross-entropy per sample and its gradient softmax(z) − onehot(y).
 * @param z n·K logits
 * @param y n labels
 * @param k number of classes K
 * @throws UsageError when the sizes disagree
 * @example
 * Math.abs(ceLoss(new Float32Array([0, 0]), new Int32Array([0]), 2).loss[0] - Math.LN2) < 1e-12 // true
 */
export function ceLoss(z: Float32Array, y: Int32Array, k: number): LossAndGrad {
  const n = y.length;
  if (z.length !== n * k) throw invalidOption('logits', `n*K = ${n}*${k} values`, z);
  const loss = new Float64Array(n);
  const grad = new Float32Array(n * k);
  for (let i = 0; i < n; i++) {
    const o = i * k;
    let m = -Infinity;
    for (let j = 0; j < k; j++) m = Math.max(m, z[o + j]!);
    let s = 0;
    for (let j = 0; j < k; j++) s += Math.exp(z[o + j]! - m);
    const lse = m + Math.log(s);
    loss[i] = lse - z[o + y[i]!]!;
    for (let j = 0; j < k; j++) grad[o + j] = Math.exp(z[o + j]! - lse);
    grad[o + y[i]!] -= 1;
  }
  return { loss, grad };
}

/**
 * Untargeted DLR loss per sample and its gradient. Needs K ≥ 3.
 * @param z n·K logits
 * @param y n labels
 * @param k number of classes K
 * @throws UsageError when K < 3 or the sizes disagree
 * @example
 * Math.round(dlrLoss(new Float32Array([1, 4, 2, 3, 0]), new Int32Array([0]), 5).loss[0] * 1e9) / 1e9 // 1.5
 */
export function dlrLoss(z: Float32Array, y: Int32Array, k: number): LossAndGrad {
  const n = y.length;
  if (k < 3) throw invalidOption('numClasses', 'at least 3 classes for the DLR loss', k);
  if (z.length !== n * k) throw invalidOption('logits', `n*K = ${n}*${k} values`, z);
  const loss = new Float64Array(n);
  const grad = new Float32Array(n * k);
  for (let i = 0; i < n; i++) {
    const o = i * k;
    const [p1, p2, p3] = top4(z, o, k);
    const yi = y[i]!;
    // the strongest other class: π2 when y is on top, else π1
    const other = p1 === yi ? p2 : p1;
    const num = z[o + yi]! - z[o + other]!;
    const den = z[o + p1]! - z[o + p3]! + DLR_EPS;
    loss[i] = -num / den;
    // L = -num/den: dL/dnum = -1/den, dL/dden = num/den²
    const gn = -1 / den;
    const gd = num / (den * den);
    grad[o + yi] += gn;
    grad[o + other] -= gn;
    grad[o + p1] += gd;
    grad[o + p3] -= gd;
  }
  return { loss, grad };
}

/**
 * Targeted DLR loss per sample and its gradient. Needs K ≥ 4.
 * @param z n·K logits
 * @param y n true labels
 * @param t n target classes
 * @param k number of classes K
 * @throws UsageError when K < 4 or the sizes disagree
 * @example
 * Math.round(dlrTargetedLoss(new Float32Array([1, 4, 2, 3, 0]), new Int32Array([0]), new Int32Array([3]), 5).loss[0] * 1e9) / 1e9 // 0.8
 */
export function dlrTargetedLoss(z: Float32Array, y: Int32Array, t: Int32Array, k: number): LossAndGrad {
  const n = y.length;
  if (k < 4) throw invalidOption('numClasses', 'at least 4 classes for the targeted DLR loss', k);
  if (z.length !== n * k || t.length !== n) throw invalidOption('logits', `n*K = ${n}*${k} values and n targets`, z);
  const loss = new Float64Array(n);
  const grad = new Float32Array(n * k);
  for (let i = 0; i < n; i++) {
    const o = i * k;
    const [p1, , p3, p4] = top4(z, o, k);
    const yi = y[i]!;
    const ti = t[i]!;
    const num = z[o + yi]! - z[o + ti]!;
    const den = z[o + p1]! - 0.5 * (z[o + p3]! + z[o + p4]!) + DLR_EPS;
    loss[i] = -num / den;
    const gn = -1 / den;
    const gd = num / (den * den);
    grad[o + yi] += gn;
    grad[o + ti] -= gn;
    grad[o + p1] += gd;
    grad[o + p3] -= 0.5 * gd;
    grad[o + p4] -= 0.5 * gd;
  }
  return { loss, grad };
}
