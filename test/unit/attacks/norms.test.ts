// Norms and projections: per-sample norms, the ℓ∞ / ℓ2 clips of foolbox, ART's ℓ1 rescale, the exact
// sort-based ℓ1-ball projection (against a brute-force bisection on θ and the KKT conditions),
// gradient normalisation, and the perturbation check's named errors.
import assert from 'node:assert/strict';
import { Rng } from '../../../ts/util/rng.ts';
import {
  checkPerturbation, clamp01, l1BallProject, normalizeGradient, normTolerance, perSampleNorms, PerturbationError,
  projectL1Exact, projectL2, projectLinf, rescaleL1,
} from '../../../ts/attacks/norms.ts';

function randVec(rng: Rng, n: number, lo = 0, hi = 1): Float32Array {
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * rng.uniform());
}

describe('attacks/norms', () => {
  it('computes per-sample linf, l2, l1 norms', () => {
    const a = new Float32Array([3, -4, 0, 1, 1, 1]);
    assert.deepEqual([...perSampleNorms(a, null, 2, 'l2')], [5, Math.sqrt(3)]);
    assert.deepEqual([...perSampleNorms(a, null, 2, 'l1')], [7, 3]);
    assert.deepEqual([...perSampleNorms(a, null, 2, 'linf')], [4, 1]);
    assert.deepEqual([...perSampleNorms(a, new Float32Array(6).fill(1), 3, 'linf')], [5, 1, 0]);
    assert.throws(() => perSampleNorms(a, null, 4, 'l2'), RangeError);
  });

  it('projects onto the linf ball and the box', () => {
    const x0 = new Float32Array([0.5, 0.5, 0.98, 0.01]);
    const adv = projectLinf(new Float32Array([0.9, 0.45, 1.5, -0.5]), x0, 0.1);
    assert.deepEqual([...adv].map((v) => +v.toFixed(6)), [0.6, 0.45, 1, 0]);
    assert.deepEqual([...clamp01(new Float32Array([-1, 0.25, 7]))], [0, 0.25, 1]);
  });

  it('projects onto the l2 ball per sample, leaving inside points alone', () => {
    const x0 = new Float32Array([0.5, 0.5, 0.5, 0.5]);
    const adv = projectL2(new Float32Array([0.8, 0.9, 0.51, 0.5]), x0, 2, 0.25);
    assert.ok(Math.abs(adv[0]! - 0.65) < 1e-6 && Math.abs(adv[1]! - 0.7) < 1e-6);
    assert.ok(Math.abs(adv[2]! - 0.51) < 1e-7 && adv[3] === 0.5);
    const rng = new Rng(3);
    const x = randVec(rng, 300);
    const a = randVec(rng, 300);
    projectL2(a, x, 3, 0.7);
    for (const v of perSampleNorms(a, x, 3, 'l2')) assert.ok(v <= 0.7 + 1e-6);
  });

  it("rescales l1 as ART does (δ·min(1, ε/(‖δ‖₁+1e-7)))", () => {
    const x0 = new Float32Array([0.5, 0.5]);
    const adv = rescaleL1(new Float32Array([0.8, 0.9]), x0, 1, 0.35);
    const f = 0.35 / (0.7 + 1e-7);
    assert.ok(Math.abs(adv[0]! - (0.5 + 0.3 * f)) < 1e-6 && Math.abs(adv[1]! - (0.5 + 0.4 * f)) < 1e-6);
  });

  it('projects exactly onto the l1 ball (matches bisection on θ; KKT holds)', () => {
    const rng = new Rng(11);
    for (let trial = 0; trial < 20; trial++) {
      const d = 1 + rng.int(60);
      const v = Float64Array.from({ length: d }, () => rng.normal());
      const eps = rng.uniform() * 2;
      const orig = v.slice();
      const theta = l1BallProject(v, eps);
      const l1 = orig.reduce((s, a) => s + Math.abs(a), 0);
      if (l1 <= eps) { assert.deepEqual([...v], [...orig]); continue; }
      // bisection for θ with Σ max(|v|−θ, 0) = ε
      let lo = 0, hi = Math.max(...orig.map(Math.abs));
      for (let it = 0; it < 200; it++) {
        const mid = (lo + hi) / 2;
        const s = orig.reduce((a, x) => a + Math.max(Math.abs(x) - mid, 0), 0);
        if (s > eps) lo = mid; else hi = mid;
      }
      assert.ok(Math.abs(theta - lo) < 1e-9, `θ ${theta} vs bisection ${lo}`);
      const nv = v.reduce((s, a) => s + Math.abs(a), 0);
      assert.ok(Math.abs(nv - eps) < 1e-9);
      for (let j = 0; j < d; j++) {
        if (v[j] !== 0) assert.ok(Math.sign(v[j]!) === Math.sign(orig[j]!) && Math.abs(Math.abs(orig[j]!) - Math.abs(v[j]!) - theta) < 1e-9);
        else assert.ok(Math.abs(orig[j]!) <= theta + 1e-12);
      }
    }
    const w = Float64Array.from([3, -1]);
    assert.equal(l1BallProject(w, 2), 1);
    assert.deepEqual([...w], [2, 0]);
  });

  it('exact l1 projection is never farther (in l2) than the rescale from the original point', () => {
    const rng = new Rng(2);
    const x0 = randVec(rng, 64, 0.3, 0.7);
    const a = randVec(rng, 64, 0, 1);
    const e = projectL1Exact(a.slice(), x0, 1, 1.0);
    const r = rescaleL1(a.slice(), x0, 1, 1.0);
    assert.ok(perSampleNorms(e, x0, 1, 'l1')[0]! <= 1 + 1e-5);
    assert.ok(perSampleNorms(e, a, 1, 'l2')[0]! <= perSampleNorms(r, a, 1, 'l2')[0]! + 1e-6);
  });

  it('normalises gradients per sample', () => {
    assert.deepEqual([...normalizeGradient(new Float32Array([3, -4, 0, 2]), 2, 'linf')], [1, -1, 0, 1]);
    const g2 = normalizeGradient(new Float32Array([3, -4, 0, 0]), 2, 'l2');
    assert.ok(Math.abs(g2[0]! - 0.6) < 1e-7 && Math.abs(g2[1]! + 0.8) < 1e-7 && g2[2] === 0);
    const g1 = normalizeGradient(new Float32Array([1, -3]), 1, 'l1');
    assert.ok(Math.abs(g1[0]! - 0.25) < 1e-6 && Math.abs(g1[1]! + 0.75) < 1e-6);
  });

  it('checkPerturbation names norm, box and NaN violations', () => {
    const x0 = new Float32Array([0.5, 0.5, 0.5, 0.5]);
    assert.deepEqual([...checkPerturbation('t', x0, new Float32Array([0.6, 0.4, 0.5, 0.5]), 2, 'linf', 0.1)].map((v) => +v.toFixed(6)), [0.1, 0]);
    assert.throws(() => checkPerturbation('pgd-linf', x0, new Float32Array([0.7, 0.5, 0.5, 0.5]), 2, 'linf', 0.1),
      (e: unknown) => e instanceof PerturbationError && e.kind === 'norm' && e.sample === 0 && /pgd-linf: sample 0 has linf perturbation/.test(e.message));
    assert.throws(() => checkPerturbation('x', x0, new Float32Array([0.5, 0.5, 1.01, 0.5]), 2, 'l2', 1),
      (e: unknown) => e instanceof PerturbationError && e.kind === 'box' && e.sample === 1);
    assert.throws(() => checkPerturbation('x', x0, new Float32Array([0.5, NaN, 0.5, 0.5]), 2, 'l1', 1),
      (e: unknown) => e instanceof PerturbationError && e.kind === 'nan');
    // tolerance: one float32 rounding per element, summed like the norm
    assert.ok(normTolerance('l1', 1, 3072) > normTolerance('l2', 1, 3072) && normTolerance('l2', 1, 3072) > normTolerance('linf', 1, 3072));
    assert.ok(normTolerance('linf', 8 / 255, 3072) < 2e-6);
  });
});
