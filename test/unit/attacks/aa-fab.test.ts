// FAB-T (ts/attacks/fab.ts): the box-constrained ℓ∞ projection onto a hyperplane against hand-computed
// cases and against an independent bisection on random problems (feasible, on the plane, inside the box,
// and no smaller radius works); FAB-T at its published budget (9 targets × 100 iterations, α_max 0.1,
// η 1.05, β 0.9) finds the minimal ℓ∞ adversarial perturbation of linear classifiers (closed form), both
// where the box is inactive and where it binds, within 1% and never below the optimum; with ε, a point
// is broken exactly when its optimum is within ε (up to that tolerance).
import assert from 'node:assert/strict';
import { fabTargeted, projectLinfBox } from '../../../ts/attacks/fab.ts';
import { linearModel } from '../../../ts/attacks/model.ts';
import { Rng } from '../../../ts/util/rng.ts';
import { UsageError } from '../../../ts/util/errors.ts';

/** Smallest λ with Σ|w_i|·min(λ, room_i) ≥ need, by bisection (independent of the sort in fab.ts). */
function radius(t: ArrayLike<number>, w: ArrayLike<number>, b: number): number {
  let c = b;
  for (let i = 0; i < w.length; i++) c -= w[i]! * t[i]!;
  const s = c > 0 ? 1 : -1;
  const gain = (l: number): number => {
    let g = 0;
    for (let i = 0; i < w.length; i++) {
      const dir = Math.sign(w[i]!) * s;
      const room = dir > 0 ? 1 - t[i]! : t[i]!;
      g += Math.abs(w[i]!) * Math.min(l, room);
    }
    return g;
  };
  if (gain(1) < Math.abs(c)) return Infinity;
  let lo = 0;
  let hi = 1;
  for (let it = 0; it < 100; it++) {
    const mid = (lo + hi) / 2;
    if (gain(mid) >= Math.abs(c)) hi = mid;
    else lo = mid;
  }
  return hi;
}

const close = (a: number, b: number, tol: number): void => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

function argmax(z: Float32Array, k: number): Int32Array {
  const n = z.length / k;
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let b = 0;
    for (let c = 1; c < k; c++) if (z[i * k + c]! > z[i * k + b]!) b = c;
    y[i] = b;
  }
  return y;
}

/** Minimal ℓ∞ distance (in the box) from x_i to any class t ≠ y of a linear classifier. */
function optimum(w: Float32Array, b: Float32Array, x: Float32Array, i: number, y: number, k: number, d: number): number {
  let best = Infinity;
  const xi = Array.from(x.subarray(i * d, i * d + d));
  for (let t = 0; t < k; t++) {
    if (t === y) continue;
    const wt = new Float64Array(d);
    for (let j = 0; j < d; j++) wt[j] = w[t * d + j]! - w[y * d + j]!;
    best = Math.min(best, radius(xi, wt, b[y]! - b[t]!));
  }
  return best;
}

describe('attacks/fab', () => {
  it('projection: hand-computed cases', () => {
    const d = new Float64Array(2);
    close(projectLinfBox([0.5, 0.5], [1, 1], 1.2, d), 0.1, 1e-12);
    close(d[0]!, 0.1, 1e-12);
    close(d[1]!, 0.1, 1e-12);
    // downwards, one negative weight: w·t = 0.5 − 0.5 = 0 → b = −0.4: λ = 0.2, δ = [−0.2, +0.2]
    close(projectLinfBox([0.5, 0.5], [1, -1], -0.4, d), 0.2, 1e-12);
    assert.deepEqual(Array.from(d, (v) => Math.round(v * 1e9) / 1e9), [-0.2, 0.2]);
    // box binds: rooms 0.05, 0.5, 0.5; 0.05 + 2λ = 0.3 → λ = 0.125
    const d3 = new Float64Array(3);
    close(projectLinfBox([0.95, 0.5, 0.5], [1, 1, 1], 2.25, d3), 0.125, 1e-12);
    assert.deepEqual(Array.from(d3, (v) => Math.round(v * 1e9) / 1e9), [0.05, 0.125, 0.125]);
    // unreachable inside the box: every coordinate to its bound
    close(projectLinfBox([0.9, 0.8], [1, 1], 5, d), 0.2, 1e-12);
    assert.deepEqual(Array.from(d, (v) => Math.round(v * 1e9) / 1e9), [0.1, 0.2]);
    // zero weights do not move; already on the plane: no move
    close(projectLinfBox([0.5, 0.5], [0, 2], 1.4, d), 0.2, 1e-12);
    assert.equal(d[0], 0);
    assert.equal(projectLinfBox([0.5, 0.5], [1, 1], 1, d), 0);
  });

  it('projection: optimal on random problems (independent bisection)', () => {
    const rng = new Rng(3);
    for (let trial = 0; trial < 200; trial++) {
      const n = 1 + rng.int(40);
      const t = Array.from({ length: n }, () => rng.uniform());
      const w = Array.from({ length: n }, () => (rng.uniform() < 0.1 ? 0 : rng.normal()));
      let wt = 0;
      for (let i = 0; i < n; i++) wt += w[i]! * t[i]!;
      const b = wt + rng.normal() * 0.5;
      const r = radius(t, w, b);
      const d = new Float64Array(n);
      const lam = projectLinfBox(t, w, b, d);
      for (let i = 0; i < n; i++) assert.ok(t[i]! + d[i]! >= -1e-12 && t[i]! + d[i]! <= 1 + 1e-12);
      if (r === Infinity) continue;
      let on = 0;
      for (let i = 0; i < n; i++) on += w[i]! * (t[i]! + d[i]!);
      close(on, b, 1e-9);
      close(lam, r, 1e-9);
    }
  });

  it('FAB-T (published budget) finds the minimal l_inf perturbation of linear classifiers', async () => {
    for (const [lo, hi, seed] of [[0.4, 0.6, 7], [0.0, 1.0, 8]] as const) {
      // [0.4, 0.6]: the box never binds; [0, 1] with larger logit gaps: it often does
      const K = 10;
      const D = 16;
      const rng = new Rng(seed);
      const w = new Float32Array(K * D).map(() => rng.normal());
      const b = new Float32Array(K).map(() => rng.normal() * (lo === 0 ? 2 : 0.1));
      const m = linearModel(w, b, [1, 4, 4]);
      const n = 16;
      const x = new Float32Array(n * D).map(() => lo + (hi - lo) * rng.uniform());
      const y = argmax(await m.logits(x, n), K);
      const f = await fabTargeted(m, x, y, { eps: 0 });
      assert.equal(f.targetsRun, 9);
      let worst = 0;
      let finite = 0;
      for (let i = 0; i < n; i++) {
        const opt = optimum(w, b, x, i, y[i]!, K, D);
        if (opt === Infinity) {
          assert.equal(f.dist[i], Infinity);
          continue;
        }
        finite++;
        const got = f.dist[i]!;
        assert.ok(got >= opt - 1e-6, `sample ${i}: FAB ${got} below the optimum ${opt}`);
        worst = Math.max(worst, (got - opt) / opt);
        // the returned point is adversarial and at that distance
        const z = await m.logits(f.xMin.subarray(i * D, i * D + D), 1);
        assert.notEqual(argmax(z, K)[0], y[i]);
      }
      assert.ok(finite >= 12);
      assert.ok(worst < 0.01, `worst relative excess ${worst}`);
    }
  });

  it('with eps: broken exactly when the optimum is within eps', async () => {
    const K = 10;
    const D = 16;
    const rng = new Rng(7);
    const w = new Float32Array(K * D).map(() => rng.normal());
    const b = new Float32Array(K).map(() => rng.normal() * 0.1);
    const m = linearModel(w, b, [1, 4, 4]);
    const n = 24;
    const x = new Float32Array(n * D).map(() => 0.4 + 0.2 * rng.uniform());
    const y = argmax(await m.logits(x, n), K);
    const opts = Array.from({ length: n }, (_, i) => optimum(w, b, x, i, y[i]!, K, D));
    const eps = [...opts].sort((a, c) => a - c)[n >> 1]!;
    const f = await fabTargeted(m, x, y, { eps, nIter: 100 });
    let broken = 0;
    for (let i = 0; i < n; i++) {
      if (opts[i]! > eps) assert.equal(f.robust[i], 1, `sample ${i} broken beyond its optimum`);
      if (opts[i]! * 1.01 < eps) assert.equal(f.robust[i], 0, `sample ${i} missed`);
      if (!f.robust[i]) {
        broken++;
        let p = 0;
        for (let j = 0; j < D; j++) p = Math.max(p, Math.abs(f.xAdv[i * D + j]! - x[i * D + j]!));
        assert.ok(p <= eps);
      }
    }
    assert.ok(broken >= n / 2 - 2);
  });

  it('names bad options', async () => {
    const m = linearModel(new Float32Array(4 * 4), new Float32Array(4), [1, 2, 2]);
    const x = new Float32Array(4).fill(0.5);
    await assert.rejects(fabTargeted(m, x, new Int32Array([0]), { eps: -1 }), UsageError);
    await assert.rejects(fabTargeted(m, x, new Int32Array([0]), { eps: 0.1, beta: 2 }), /for beta/);
    await assert.rejects(fabTargeted({ ...m, vjp: undefined }, x, new Int32Array([0]), { eps: 0.1 }), /no vjp/);
  });
});
