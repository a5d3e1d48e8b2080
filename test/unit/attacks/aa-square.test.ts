// Square (ts/attacks/square.ts): the p schedule and square sides against hand-computed values; at its
// published budget (5000 queries, p_init 0.8) it breaks most points of a model whose input gradient is
// zero almost everywhere (a linear classifier on an input quantized to 32 levels), where APGD-CE at its
// published budget breaks almost none; it runs on a logits-only model; its output stays in the ε-ball
// and [0,1] and is misclassified where broken; queries are counted; it is deterministic per seed.
import assert from 'node:assert/strict';
import { square, squarePSelection, squareSide } from '../../../ts/attacks/square.ts';
import { apgd } from '../../../ts/attacks/apgd.ts';
import { stepModel } from '../../../ts/attacks/aa-toy-models.ts';
import type { AttackModel } from '../../../ts/attacks/model.ts';
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

const count = (f: Uint8Array): number => f.reduce((s, v) => s + v, 0);

async function stepSetup(n: number): Promise<{ m: AttackModel; x: Float32Array; y: Int32Array }> {
  const K = 10;
  const D = 16;
  const r = new Rng(5);
  const w = new Float32Array(K * D).map(() => r.normal());
  const b = new Float32Array(K).map(() => r.normal() * 0.1);
  const m = stepModel(w, b, [1, 4, 4], 32);
  const x = new Float32Array(n * D).map(() => 0.2 + 0.6 * r.uniform());
  return { m, x, y: argmax(await m.logits(x, n), K) };
}

describe('attacks/square', () => {
  it('p schedule: p_init halves after 10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000', () => {
    const at = (i: number): number => squarePSelection(i, 0.8, 5000) / 0.8;
    assert.deepEqual([0, 10, 11, 50, 51, 200, 201, 500, 501, 1000, 1001, 2000, 2001, 4000, 4001, 6000, 6001, 8000, 8001].map(at),
      [1, 1, 1 / 2, 1 / 2, 1 / 4, 1 / 4, 1 / 8, 1 / 8, 1 / 16, 1 / 16, 1 / 32, 1 / 32, 1 / 64, 1 / 64, 1 / 128, 1 / 128, 1 / 256, 1 / 256, 1 / 512]);
    // rescaled schedule maps 500 of 1000 queries to 5000 of 10000
    assert.equal(squarePSelection(500, 0.8, 1000, true), 0.8 / 128);
    // sides on 32×32: round(√(0.8·1024)) = 29, round(√(0.1·1024)) = 10, last of 5000: round(√(6.4)) = 3
    assert.equal(squareSide(0, 0.8, 32, 32, 5000), 29);
    assert.equal(squareSide(300, 0.8, 32, 32, 5000), 10);
    assert.equal(squareSide(4999, 0.8, 32, 32, 5000), 3);
    // never below 1 nor above the image
    assert.equal(squareSide(9000, 0.8, 4, 4, 10000), 1);
    assert.equal(squareSide(0, 1, 4, 8, 10000), 4);
  });

  it('breaks a zero-gradient (step) model where APGD-CE fails, both at the published budget', async () => {
    const n = 100;
    const { m, x, y } = await stepSetup(n);
    const eps = 0.05;
    const s = await square(m, x, y, { eps, seed: 0 });
    const a = await apgd(m, x, y, { eps, seed: 0 });
    const sBroken = n - count(s.robust);
    const aBroken = n - count(a.robust);
    assert.ok(sBroken >= 50, `square broke only ${sBroken}`);
    assert.ok(aBroken <= 10, `apgd broke ${aBroken} of a zero-gradient model`);
    let p = 0;
    for (let i = 0; i < x.length; i++) {
      p = Math.max(p, Math.abs(s.xAdv[i]! - x[i]!));
      assert.ok(s.xAdv[i]! >= 0 && s.xAdv[i]! <= 1);
    }
    assert.ok(p <= eps + 1e-6);
    const ya = argmax(await m.logits(s.xAdv, n), 10);
    for (let i = 0; i < n; i++) {
      if (!s.robust[i]) {
        assert.notEqual(ya[i], y[i]);
        assert.ok(s.margin[i]! <= 0);
      } else assert.equal(s.queries[i], 5001);
      assert.ok(s.queries[i]! >= 1 && s.queries[i]! <= 5001);
    }
  });

  it('runs on a logits-only model, deterministically per seed', async () => {
    const { m, x, y } = await stepSetup(20);
    const bb: AttackModel = { numClasses: m.numClasses, inputShape: m.inputShape, name: 'blackbox', logits: m.logits };
    const a = await square(bb, x, y, { eps: 0.05, seed: 4, nQueries: 300 });
    const b = await square(bb, x, y, { eps: 0.05, seed: 4, nQueries: 300 });
    assert.deepEqual(a.xAdv, b.xAdv);
    assert.deepEqual(a.queries, b.queries);
    const c = await square(bb, x, y, { eps: 0.05, seed: 5, nQueries: 300 });
    assert.notDeepEqual(a.xAdv, c.xAdv);
    assert.ok(count(a.robust) < 20);
    // batch composition does not matter: sample 3 alone, same global index
    const one = await square(bb, x.subarray(48, 64), y.subarray(3, 4), { eps: 0.05, seed: 4, nQueries: 300, index: new Int32Array([3]) });
    assert.deepEqual(one.xAdv, a.xAdv.subarray(48, 64));
  });

  it('names bad options', async () => {
    const { m, x, y } = await stepSetup(2);
    await assert.rejects(square(m, x, y, { eps: -0.01 }), (e: unknown) => e instanceof UsageError && /for eps/.test(e.message));
    await assert.rejects(square(m, x, y, { eps: 0.1, pInit: 2 }), /for pInit/);
    await assert.rejects(square(m, x.subarray(1), y, { eps: 0.1 }), /for x/);
  });
});
