// APGD-CE and APGD-T (ts/attacks/apgd.ts) on tiny models: the checkpoint schedule and both step-size
// conditions against hand-computed values; the step is halved at every checkpoint when the gradient is
// zero (2ε/2⁸ after 100 iterations); APGD-CE at its published budget is at least as strong as
// PGD-ℓ∞ with the same number of gradient steps; APGD on the targeted DLR loss reaches a chosen target
// (the lowest-logit class); APGD-T breaks points; the output stays in the ε-ball and [0,1]; a seed gives
// the same result and another seed a different start; bad options are named errors.
import assert from 'node:assert/strict';
import { apgd, apgdCheckpoints, apgdOscillation, apgdTargeted } from '../../../ts/attacks/apgd.ts';
import { mlpModel, stepModel } from '../../../ts/attacks/aa-toy-models.ts';
import { linearModel, type AttackModel } from '../../../ts/attacks/model.ts';
import { PGD } from '../../../ts/attacks/pgd.ts';
import { Rng } from '../../../ts/util/rng.ts';
import { UsageError } from '../../../ts/util/errors.ts';

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

async function labelled(m: AttackModel, n: number, seed: number, lo = 0, hi = 1): Promise<{ x: Float32Array; y: Int32Array }> {
  const d = m.inputShape[0] * m.inputShape[1] * m.inputShape[2];
  const r = new Rng(seed);
  const x = new Float32Array(n * d).map(() => lo + (hi - lo) * r.uniform());
  return { x, y: argmax(await m.logits(x, n), m.numClasses) };
}

function maxLinf(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

const count = (f: Uint8Array): number => f.reduce((s, v) => s + v, 0);

describe('attacks/apgd', () => {
  it('checkpoints: 22, 41, 57, 70, 80, 87, 93, 99 of 100 iterations (p_j of the paper)', () => {
    assert.deepEqual(apgdCheckpoints(100), [22, 41, 57, 70, 80, 87, 93, 99]);
    // N = 20: first ⌊4.4⌋ = 4, decrease ⌊0.6⌋→1, minimum ⌊1.2⌋ = 1
    assert.deepEqual(apgdCheckpoints(20), [4, 7, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
    assert.throws(() => apgdCheckpoints(0), UsageError);
  });

  it('condition 1: halve when the loss rose in at most ρ·k of the last k steps', () => {
    // 4 steps ending at j = 4: pairs (4,3) (3,2) (2,1) (1,0) → increases at 1→2 and 3→4
    const l = [5, 4, 6, 5, 7, 0];
    assert.equal(apgdOscillation(l, 4, 4, 0.75), true); // 2 ≤ 3
    assert.equal(apgdOscillation(l, 4, 4, 0.25), false); // 2 > 1
    // strictly increasing: 4 increases > 3 → keep the step
    assert.equal(apgdOscillation([1, 2, 3, 4, 5], 4, 4, 0.75), false);
    // j = k − 1 (first checkpoint): the oldest step compares with the last slot, still zero
    assert.equal(apgdOscillation([1, 2, 3, 4, 0], 3, 4, 0.75), false); // 1>0, 2>1, 3>2, 4>3: 4 > 3
    assert.equal(apgdOscillation([-1, 2, 3, 4, 0], 3, 4, 0.75), true); // −1 > 0 fails: 3 ≤ 3
  });

  it('zero gradient: both conditions fire, the step is halved at all 8 checkpoints', async () => {
    const rng = new Rng(1);
    const w = new Float32Array(5 * 16).map(() => rng.normal());
    const m = stepModel(w, new Float32Array(5), [1, 4, 4], 8);
    const { x, y } = await labelled(m, 6, 2, 0.3, 0.7);
    const eps = 0.01;
    const r = await apgd(m, x, y, { eps, seed: 0 });
    for (let i = 0; i < 6; i++) {
      if (!r.robust[i]) continue;
      assert.equal(r.reductions[i], 8);
      assert.equal(r.stepSize[i], (2 * eps) / 256);
    }
  });

  it('APGD-CE at its published budget is at least as strong as PGD-ℓ∞ with 100 steps', async () => {
    let strict = 0;
    for (const [hidden, seed, eps] of [[16, 4, 0.05], [16, 4, 0.1], [64, 2, 0.2]] as const) {
      const m = mlpModel(seed, [1, 4, 4], hidden, 10);
      const { x, y } = await labelled(m, 100, 3);
      const a = await apgd(m, x, y, { eps, seed: 0 });
      const adv = await new PGD(m, { eps, steps: 100 }).perturb(x, y, 100, new Rng(0));
      const py = argmax(await m.logits(adv, 100), 10);
      let pgdRobust = 0;
      for (let i = 0; i < 100; i++) pgdRobust += py[i] === y[i] ? 1 : 0;
      const apgdRobust = count(a.robust);
      assert.ok(apgdRobust <= pgdRobust, `eps ${eps}: APGD-CE robust ${apgdRobust} > PGD robust ${pgdRobust}`);
      if (apgdRobust < pgdRobust) strict++;
      assert.ok(maxLinf(a.xAdv, x) <= eps + 1e-6);
      assert.ok(a.xAdv.every((v) => v >= 0 && v <= 1));
      // every point counted broken is misclassified at its returned adversarial
      const ay = argmax(await m.logits(a.xAdv, 100), 10);
      for (let i = 0; i < 100; i++) if (!a.robust[i]) assert.notEqual(ay[i], y[i]);
    }
    assert.ok(strict >= 2, 'APGD-CE should beat PGD strictly on at least two of the three settings');
  });

  it('APGD on the targeted DLR loss reaches a chosen target where APGD-CE goes elsewhere', async () => {
    // z0 = Σ pixels 0..7 (the label, 3.2..4.0), z1 = 2·Σ pixels 16..23 (a decoy that can grow fastest),
    // z2 = z3 = −5, z4 = Σ pixels 8..15 (0.4..1.2, the chosen target). Within ε = 0.4 both z1 and z4 can
    // overtake z0; cross-entropy prefers the decoy, the targeted DLR loss must end at class 4.
    const K = 5;
    const D = 24;
    const w = new Float32Array(K * D);
    for (let j = 0; j < 8; j++) {
      w[0 * D + j] = 1;
      w[4 * D + 8 + j] = 1;
      w[1 * D + 16 + j] = 2;
    }
    const m = linearModel(w, new Float32Array([0, 0, -5, -5, 0]), [1, 4, 6]);
    const n = 12;
    const rng = new Rng(9);
    const x = new Float32Array(n * D).map((_, i) => (i % D < 8 ? 0.4 + 0.1 * rng.uniform() : 0.05 + 0.1 * rng.uniform()));
    const y = new Int32Array(n);
    const target = new Int32Array(n).fill(4);
    assert.deepEqual(Array.from(argmax(await m.logits(x, n), K)), Array.from(y));
    const r = await apgd(m, x, y, { eps: 0.4, loss: 'dlr-targeted', target, seed: 3 });
    assert.deepEqual(Array.from(argmax(await m.logits(r.xBest, n), K)), Array.from(target));
    assert.equal(count(r.robust), 0);
    assert.ok(maxLinf(r.xBest, x) <= 0.4 + 1e-6);
    const ce = await apgd(m, x, y, { eps: 0.4, seed: 3 });
    assert.deepEqual(Array.from(argmax(await m.logits(ce.xBest, n), K)), Array.from(new Int32Array(n).fill(1)));
  });

  it('APGD-T (9 targets, 50 iterations) breaks points and respects the ball', async () => {
    const m = mlpModel(4, [1, 4, 4], 16, 10);
    const { x, y } = await labelled(m, 40, 5);
    const eps = 0.1;
    const t = await apgdTargeted(m, x, y, { eps, seed: 0, nIter: 50 });
    assert.equal(t.targetsRun, 9);
    assert.ok(count(t.robust) < 40, 'APGD-T broke nothing');
    assert.ok(maxLinf(t.xAdv, x) <= eps + 1e-6);
    const ty = argmax(await m.logits(t.xAdv, 40), 10);
    for (let i = 0; i < 40; i++) if (!t.robust[i]) assert.notEqual(ty[i], y[i]);
  });

  it('is deterministic per seed; another seed starts elsewhere', async () => {
    const m = mlpModel(4, [1, 4, 4], 16, 10);
    const { x, y } = await labelled(m, 10, 6);
    const a = await apgd(m, x, y, { eps: 0.05, seed: 7, nIter: 10 });
    const b = await apgd(m, x, y, { eps: 0.05, seed: 7, nIter: 10 });
    assert.deepEqual(a.xBest, b.xBest);
    assert.deepEqual(a.robust, b.robust);
    const c = await apgd(m, x, y, { eps: 0.05, seed: 8, nIter: 10 });
    assert.notDeepEqual(a.xBest, c.xBest);
    // a sample's run does not depend on the rest of the batch
    const one = await apgd(m, x.subarray(3 * 16, 4 * 16), y.subarray(3, 4), { eps: 0.05, seed: 7, nIter: 10, index: new Int32Array([3]) });
    assert.deepEqual(one.xBest, a.xBest.subarray(3 * 16, 4 * 16));
  });

  it('names bad options and models without gradients', async () => {
    const m = mlpModel(4, [1, 4, 4], 16, 10);
    const { x, y } = await labelled(m, 2, 6);
    await assert.rejects(apgd(m, x, y, { eps: -0.1 }), (e: unknown) => e instanceof UsageError && /for eps/.test(e.message));
    await assert.rejects(apgd(m, x, y, { eps: 0.1, loss: 'dlr-targeted' }), /for target/);
    await assert.rejects(apgd(m, x, y, { eps: 0.1, nIter: 0 }), /for nIter/);
    const noGrad: AttackModel = { numClasses: 10, inputShape: [1, 4, 4], name: 'blackbox', logits: m.logits };
    await assert.rejects(apgd(noGrad, x, y, { eps: 0.1 }), /has no vjp/);
    const small = linearModel(new Float32Array(3 * 16), new Float32Array(3), [1, 4, 4]);
    await assert.rejects(apgdTargeted(small, x, new Int32Array([0, 1]), { eps: 0.1 }), /at least 4 classes/);
  });
});
