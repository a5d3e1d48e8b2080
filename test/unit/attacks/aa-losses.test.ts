// The losses of the AutoAttack components (ts/attacks/dlr.ts): DLR and targeted DLR against values and
// gradients computed by hand (including the gradient through the denominator's sorted logits), both
// against central finite differences on random logits, cross-entropy against softmax − onehot, and
// named errors for too few classes.
import assert from 'node:assert/strict';
import { ceLoss, dlrLoss, dlrTargetedLoss, type LossAndGrad } from '../../../ts/attacks/dlr.ts';
import { Rng } from '../../../ts/util/rng.ts';
import { UsageError } from '../../../ts/util/errors.ts';

const close = (a: number, b: number, tol = 1e-6): void => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

function fdCheck(f: (z: Float32Array) => LossAndGrad, z: Float32Array): void {
  const g = f(z).grad;
  const h = 1e-3;
  for (let j = 0; j < z.length; j++) {
    const zp = z.slice();
    const zm = z.slice();
    zp[j] += h;
    zm[j] -= h;
    const fd = (f(zp).loss[0]! - f(zm).loss[0]!) / (zp[j]! - zm[j]!);
    close(g[j]!, fd, 2e-3 * Math.max(1, Math.abs(fd)));
  }
}

describe('attacks/aa losses', () => {
  // z = [1, 4, 2, 3, 0], y = 0: order π = (1, 3, 2, 0, 4) with values 4, 3, 2, 1, 0
  const z = new Float32Array([1, 4, 2, 3, 0]);
  const y = new Int32Array([0]);

  it('DLR: value and gradient by hand', () => {
    const r = dlrLoss(z, y, 5);
    // −(z_y − z_π1)/(z_π1 − z_π3) = −(1 − 4)/(4 − 2) = 1.5
    close(r.loss[0]!, 1.5);
    // L = −num/den, num = z0 − z1, den = z1 − z2: dL/dz0 = −1/2, dL/dz1 = 1/2 + num/den² = 0.5 − 0.75, dL/dz2 = −num/den² = 0.75
    assert.deepEqual(Array.from(r.grad, (v) => Math.round(v * 1e6) / 1e6), [-0.5, -0.25, 0.75, 0, 0]);
  });

  it('DLR uses the runner-up when y is on top', () => {
    const r = dlrLoss(new Float32Array([5, 4, 2, 3, 0]), y, 5);
    // −(5 − 4)/(5 − 3)
    close(r.loss[0]!, -0.5);
  });

  it('targeted DLR: value and gradient by hand', () => {
    const r = dlrTargetedLoss(z, y, new Int32Array([3]), 5);
    // −(z_y − z_t)/(z_π1 − ½(z_π3 + z_π4)) = −(1 − 3)/(4 − 1.5) = 0.8
    close(r.loss[0]!, 0.8);
    // den = 2.5, num = −2: dL/dz_y = −1/den = −0.4 plus (num/den²)·(−½) for z0 = π4 → −0.4 + 0.16 = −0.24
    // z1 = π1: num/den² = −0.32; z2 = π3: +0.16; z3 = t: +0.4; z4: 0
    const want = [-0.24, -0.32, 0.16, 0.4, 0];
    for (let j = 0; j < 5; j++) close(r.grad[j]!, want[j]!, 1e-6);
  });

  it('gradients agree with central finite differences on random logits', () => {
    const rng = new Rng(11);
    for (let trial = 0; trial < 20; trial++) {
      const k = 10;
      const zz = new Float32Array(k).map(() => rng.normal() * 3);
      const yy = new Int32Array([rng.int(k)]);
      let t = rng.int(k);
      if (t === yy[0]) t = (t + 1) % k;
      fdCheck((v) => dlrLoss(v, yy, k), zz);
      fdCheck((v) => dlrTargetedLoss(v, yy, new Int32Array([t]), k), zz);
      fdCheck((v) => ceLoss(v, yy, k), zz);
    }
  });

  it('cross-entropy: ln K at equal logits, gradient softmax − onehot', () => {
    const r = ceLoss(new Float32Array([0, 0, 0, 0]), new Int32Array([2]), 4);
    close(r.loss[0]!, Math.log(4));
    assert.deepEqual(Array.from(r.grad), [0.25, 0.25, -0.75, 0.25]);
  });

  it('names too few classes', () => {
    assert.throws(() => dlrTargetedLoss(new Float32Array(3), new Int32Array([0]), new Int32Array([1]), 3), (e: unknown) => e instanceof UsageError && /at least 4 classes/.test(e.message));
    assert.throws(() => dlrLoss(new Float32Array(2), new Int32Array([0]), 2), UsageError);
  });
});
