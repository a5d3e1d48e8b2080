// autoAttack (ts/attacks/autoattack.ts): AutoAttack standard on a tiny ReLU network: per-component
// counts of newly broken points add up to clean − robust, robust ≤ clean, robust ≤ APGD-CE alone and
// ≤ PGD-ℓ∞, every adversarial within ε, in [0,1] and misclassified; the gradient-masking flags fire on a
// zero-gradient (step) model, where Square does the breaking, and link the flags doc; a model without
// gradients gets Square only and is marked incomplete; 'aa-demo' is recorded as such; fewer than 10
// classes is flagged; results are deterministic per seed and independent of the chunk size; the output
// checks throw named errors; ε < 0, bad versions and norms are named errors.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { AA_BUDGETS, autoAttack } from '../../../ts/attacks/autoattack.ts';
import { AutoAttackCheckError, checkAdversarial, checkRobustLeClean } from '../../../ts/attacks/aa-common.ts';
import { apgd } from '../../../ts/attacks/apgd.ts';
import { mlpModel, stepModel } from '../../../ts/attacks/aa-toy-models.ts';
import type { AttackModel } from '../../../ts/attacks/model.ts';
import { PGD } from '../../../ts/attacks/pgd.ts';
import { arraySource, availableAttacks, runAdversarial } from '../../../ts/attacks/suite.ts';
import { registerAutoAttack } from '../../../ts/attacks/aa-register.ts';
import { setQuiet } from '../../../ts/util/progress.ts';
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

/** A ReLU net with true labels that it gets ~75% right (a quarter of the labels shifted). */
async function mlpSetup(n: number): Promise<{ m: AttackModel; x: Float32Array; y: Int32Array }> {
  const m = mlpModel(4, [1, 4, 4], 16, 10);
  const r = new Rng(3);
  const x = new Float32Array(n * 16).map(() => r.uniform());
  const y = argmax(await m.logits(x, n), 10);
  for (let i = 0; i < n; i += 4) y[i] = (y[i]! + 1) % 10;
  return { m, x, y };
}

describe('attacks/autoattack', () => {
  it('standard on a ReLU net: counts, flags and the AutoAttack checks', async () => {
    const n = 60;
    const { m, x, y } = await mlpSetup(n);
    const eps = 0.05;
    const warnings: string[] = [];
    const seen: string[] = [];
    const r = await autoAttack(m, x, y, { eps, seed: 1, warn: (l) => warnings.push(l), onComponent: (c) => seen.push(`${c.component}:${c.broken}`) });
    assert.deepEqual(seen.map((s) => s.split(':')[0]), ['apgd-ce', 'apgd-t', 'fab-t', 'square'].slice(0, seen.length));
    assert.equal(seen.reduce((s, v) => s + Number(v.split(':')[1]), 0), count(r.clean) - count(r.robust));
    assert.equal(r.version, 'standard');
    assert.equal(r.complete, true);
    assert.deepEqual(r.budget, AA_BUDGETS.standard);
    assert.equal(r.seed, 1);
    assert.equal(count(r.clean), 45);
    assert.equal(r.cleanAccuracy, 75);
    const sum = r.components['apgd-ce'] + r.components['apgd-t'] + r.components['fab-t'] + r.components.square;
    assert.equal(sum, count(r.clean) - count(r.robust));
    assert.ok(r.components['apgd-ce'] > 0);
    for (let i = 0; i < n; i++) if (r.robust[i]) assert.equal(r.clean[i], 1);
    assert.ok(r.robustAccuracy <= r.cleanAccuracy);
    assert.ok(r.maxPerturbation <= eps + 1e-6);
    const ya = argmax(await m.logits(r.xAdv, n), 10);
    for (let i = 0; i < n; i++) {
      if (r.clean[i] && !r.robust[i]) assert.notEqual(ya[i], y[i]);
      if (r.robust[i]) assert.deepEqual(r.xAdv.subarray(i * 16, i * 16 + 16), x.subarray(i * 16, i * 16 + 16));
    }
    // stage one is APGD-CE with the same seed: AutoAttack can only be stronger
    const ce = await apgd(m, x, y, { eps, seed: 1, label: 'apgd-ce' });
    assert.equal(r.components['apgd-ce'], count(r.clean) - count(ce.robust));
    assert.ok(count(r.robust) <= count(ce.robust));
    const adv = await new PGD(m, { eps, steps: 20 }).perturb(x, y, n, new Rng(1));
    const yp = argmax(await m.logits(adv, n), 10);
    let pgdRobust = 0;
    for (let i = 0; i < n; i++) pgdRobust += yp[i] === y[i] ? 1 : 0;
    assert.ok(count(r.robust) <= pgdRobust);
    assert.deepEqual(warnings, []);
  });

  it('flags masked gradients on a step model: zero gradients, and Square breaking what APGD missed', async () => {
    const K = 10;
    const D = 16;
    const rng = new Rng(5);
    const w = new Float32Array(K * D).map(() => rng.normal());
    const b = new Float32Array(K).map(() => rng.normal() * 0.1);
    const m = stepModel(w, b, [1, 4, 4], 32);
    const n = 40;
    const x = new Float32Array(n * D).map(() => 0.2 + 0.6 * rng.uniform());
    const y = argmax(await m.logits(x, n), K);
    const warnings: string[] = [];
    const r = await autoAttack(m, x, y, { eps: 0.05, version: 'aa-demo', seed: 0, warn: (l) => warnings.push(l) });
    // the gradient components only break points through their random starts
    assert.ok(r.components.square >= 15, JSON.stringify(r.components));
    assert.ok(r.components.square > 2 * (r.components['apgd-ce'] + r.components['apgd-t'] + r.components['fab-t']));
    assert.equal(warnings.length, 2);
    assert.match(warnings[0]!, /zero-gradient.*40 clean-correct point\(s\).*docs\/autoattack-flags\.md#zero-gradient/);
    assert.match(warnings[1]!, /square-breaks.*docs\/autoattack-flags\.md#square-breaks/);
    assert.deepEqual(r.warnings, warnings);
    // every anchor the warnings link exists in the doc
    const doc = readFileSync(new URL('../../../docs/autoattack-flags.md', import.meta.url), 'utf8');
    for (const key of ['zero-gradient', 'square-breaks', 'few-classes', 'no-gradient']) assert.match(doc, new RegExp(`^## ${key}$`, 'm'));
  });

  it('aa-demo is recorded as such; a model without gradients gets Square only; few classes are flagged', async () => {
    const { m, x, y } = await mlpSetup(8);
    const demo = await autoAttack(m, x, y, { eps: 0.05, version: 'aa-demo', seed: 0, warn: () => {} });
    assert.equal(demo.version, 'aa-demo');
    assert.equal(demo.complete, false);
    assert.equal(demo.budget.apgdIter, 20);
    const bb: AttackModel = { numClasses: 10, inputShape: [1, 4, 4], name: 'int-engine', logits: m.logits };
    const warnings: string[] = [];
    const r = await autoAttack(bb, x, y, { eps: 0.05, version: 'aa-demo', seed: 0, warn: (l) => warnings.push(l) });
    assert.deepEqual(r.skipped, ['apgd-ce', 'apgd-t', 'fab-t']);
    assert.equal(r.complete, false);
    assert.equal(r.components['apgd-ce'], 0);
    assert.match(warnings[0]!, /no-gradient.*int-engine/);
    const five = mlpModel(1, [1, 4, 4], 8, 5);
    const y5 = argmax(await five.logits(x, 8), 5);
    const w5: string[] = [];
    await autoAttack(five, x, y5, { eps: 0.01, version: 'aa-demo', warn: (l) => w5.push(l) });
    assert.ok(!w5.some((l) => /few-classes/.test(l)), 'aa-demo uses 3 targets, which 5 classes allow');
    const w5s: string[] = [];
    const r5 = await autoAttack(five, x, y5, { eps: 0.01, components: ['apgd-t'], warn: (l) => w5s.push(l) });
    assert.match(w5s[0]!, /few-classes.*5 classes.*4 target classes instead of 9/);
    assert.equal(r5.complete, false);
    // three classes: apgd-t cannot run (targeted DLR needs 4), skipped with the warning
    const three = mlpModel(1, [1, 4, 4], 8, 3);
    const y3 = argmax(await three.logits(x, 8), 3);
    const w3: string[] = [];
    const r3 = await autoAttack(three, x, y3, { eps: 0.05, version: 'aa-demo', warn: (l) => w3.push(l) });
    assert.deepEqual(r3.skipped, ['apgd-t']);
    assert.equal(r3.components['apgd-t'], 0);
    assert.match(w3[0]!, /few-classes.*3 classes; apgd-t needs at least 4/);
  });

  it('is deterministic per seed and does not depend on the chunk size', async () => {
    const { m, x, y } = await mlpSetup(16);
    const a = await autoAttack(m, x, y, { eps: 0.05, version: 'aa-demo', seed: 9, warn: () => {} });
    const b = await autoAttack(m, x, y, { eps: 0.05, version: 'aa-demo', seed: 9, batch: 5, warn: () => {} });
    assert.deepEqual(a.robust, b.robust);
    assert.deepEqual(a.xAdv, b.xAdv);
    assert.deepEqual(a.components, b.components);
  });

  it('checks: perturbation, range, NaN and robust <= clean are named errors', () => {
    const x = new Float32Array([0.5, 0.5]);
    assert.throws(() => checkAdversarial(x, new Float32Array([0.5, 0.61]), 0.1, 2, 'apgd-ce'),
      (e: unknown) => e instanceof AutoAttackCheckError && e.check === 'perturbation' && /apgd-ce: perturbation/.test(e.message));
    assert.throws(() => checkAdversarial(new Float32Array([0.95]), new Float32Array([1.02]), 0.1, 1, 'square'), (e: unknown) => e instanceof AutoAttackCheckError && e.check === 'range');
    assert.throws(() => checkAdversarial(x, new Float32Array([NaN, 0.5]), 0.1, 2, 'fab-t'), (e: unknown) => e instanceof AutoAttackCheckError && e.check === 'nan');
    assert.throws(() => checkRobustLeClean(new Uint8Array([1, 0]), new Uint8Array([1, 1])), (e: unknown) => e instanceof AutoAttackCheckError && e.check === 'robust<=clean');
    checkRobustLeClean(new Uint8Array([1, 0]), new Uint8Array([0, 0]));
    assert.ok(Math.abs(checkAdversarial(x, new Float32Array([0.6, 0.5]), 0.1, 2, 'ok') - 0.1) < 1e-6);
  });

  it('a model with NaN or huge gradients cannot push points out of the ball or into NaN', async () => {
    const { m, x, y } = await mlpSetup(8);
    for (const f of [(v: number) => v * 1e30, () => NaN]) {
      const liar: AttackModel = { ...m, name: 'liar', vjp: async (xx, n, seed) => { const r = await m.vjp!(xx, n, seed); return { logits: r.logits, grad: r.grad.map(f) }; } };
      const r = await autoAttack(liar, x, y, { eps: 0.02, version: 'aa-demo', warn: () => {} });
      assert.ok(r.maxPerturbation <= 0.02 + 1e-6);
      assert.ok(r.xAdv.every((v) => v >= 0 && v <= 1));
    }
  });

  it('plugs into the adversarial suite as `aa`: AR, WCAR and aa_components in the JSON', async () => {
    registerAutoAttack();
    assert.ok(availableAttacks().includes('aa'));
    const n = 24;
    const { m, x, y } = await mlpSetup(n);
    setQuiet(true);
    try {
      const overrides = { 'pgd-linf': { small: 0.05 }, aa: { small: 0.05 } };
      const opts = { attacks: ['pgd-linf', 'aa'] as const, tiers: ['small'] as const, seed: 2, magnitudes: { overrides }, attackOptions: { aa: { version: 'aa-demo' } } };
      const j = await runAdversarial(m, arraySource(x, y), { ...opts, attacks: [...opts.attacks], tiers: [...opts.tiers], batch: 10 });
      const comps = j.aa_components as Record<string, { small?: number }>;
      const broken = ['apgd-ce', 'apgd-t', 'fab-t', 'square'].reduce((s, c) => s + (comps[c]?.small ?? 0), 0);
      const clean = 18; // 3 of 4 labels kept
      assert.equal(Math.round((j.ar['aa']!.small! * n) / 100), clean - broken);
      assert.ok(j.ar['aa']!.small! <= j.ar['pgd-linf']!.small!);
      assert.ok(comps['apgd-ce']!.small! > 0);
      // batch size does not change the result (per-sample streams from the suite)
      const j2 = await runAdversarial(m, arraySource(x, y), { ...opts, attacks: [...opts.attacks], tiers: [...opts.tiers], batch: 7 });
      assert.deepEqual(j2.aa_components, j.aa_components);
      assert.deepEqual(j2.ar, j.ar);
    } finally {
      setQuiet(false);
    }
  });

  it('names eps < 0, bad versions and norms', async () => {
    const { m, x, y } = await mlpSetup(2);
    await assert.rejects(autoAttack(m, x, y, { eps: -1 / 255 }), (e: unknown) => e instanceof UsageError && /Expected finite number >= 0 for eps but received -0.0039/.test(e.message));
    await assert.rejects(autoAttack(m, x, y, { eps: 0.1, version: 'plus' as never }), (e: unknown) => e instanceof UsageError && /for version but received 'plus'/.test(e.message));
    await assert.rejects(autoAttack(m, x, y, { eps: 0.1, norm: 'L2' as never }), /for norm/);
    await assert.rejects(autoAttack(m, x, y, { eps: 0.1, components: ['pgd' as never] }), /for components/);
    assert.ok(existsSync(new URL('../../../docs/autoattack-flags.md', import.meta.url)));
  });
});
