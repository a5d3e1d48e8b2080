// The ε table: ImageNet values at d = 150528, the §7.14 scaling elsewhere (√(d/150528) for ℓ2,
// d/150528 for ℓ1, ℓ∞ unchanged) with the numbers PROTOCOL.md quotes for CIFAR size, the 'unscaled'
// rule, overrides recorded, and named errors for unknown attacks / tiers and ε < 0.
import assert from 'node:assert/strict';
import { UsageError } from '../../../ts/util/errors.ts';
import { checkAttacks, checkTiers, magnitudes } from '../../../ts/attacks/magnitudes.ts';

describe('attacks/magnitudes', () => {
  it('is the paper table at ImageNet size', () => {
    const t = magnitudes([3, 224, 224]);
    assert.equal(t.rule, 'imagenet');
    assert.deepEqual(t.eps.fgsm, { small: 0.5 / 255, middle: 2 / 255, large: 8 / 255 });
    assert.deepEqual(t.eps['pgd-linf'], t.eps.aa);
    assert.deepEqual(t.eps['pgd-l2'], { small: 0.5, middle: 2, large: 8 });
    assert.deepEqual(t.eps['pgd-l1'], { small: 100, middle: 400, large: 1600 });
  });

  it('scales l2 and l1 by d at 3x32x32 (PROTOCOL §7.14 numbers) and keeps linf', () => {
    const t = magnitudes([3, 32, 32]);
    assert.equal(t.rule, 'scaled-7.14');
    assert.equal(t.d, 3072);
    const r = (v: number, k: number) => Math.round(v * 10 ** k) / 10 ** k;
    assert.deepEqual([t.eps['pgd-l2'].small, t.eps['pgd-l2'].middle, t.eps['pgd-l2'].large].map((v) => r(v, 3)), [0.071, 0.286, 1.143]);
    assert.deepEqual([t.eps['pgd-l1'].small, t.eps['pgd-l1'].middle, t.eps['pgd-l1'].large].map((v) => r(v, 2)), [2.04, 8.16, 32.65]);
    assert.equal(t.eps['pgd-linf'].large, 8 / 255);
    assert.ok(Math.abs(t.scale.l2 ** 2 - t.scale.l1) < 1e-15);
  });

  it('can stay unscaled and takes overrides (recorded)', () => {
    const u = magnitudes([3, 32, 32], { rule: 'unscaled' });
    assert.equal(u.rule, 'unscaled');
    assert.equal(u.eps['pgd-l1'].large, 1600);
    const o = magnitudes([3, 32, 32], { overrides: { 'pgd-l2': { small: 0.25 }, fgsm: { large: 0.1 } } });
    assert.equal(o.eps['pgd-l2'].small, 0.25);
    assert.equal(o.eps.fgsm.large, 0.1);
    assert.deepEqual(o.overridden, ['pgd-l2/small', 'fgsm/large']);
    assert.deepEqual(JSON.parse(JSON.stringify(o)), o);
  });

  it('names ε < 0, unknown attacks and tiers', () => {
    assert.throws(() => magnitudes([3, 32, 32], { overrides: { fgsm: { small: -1 } } }), (e: unknown) => e instanceof UsageError && /for overrides.fgsm.small but received -1/.test(e.message));
    assert.throws(() => magnitudes([3, 32, 32], { overrides: { cw: { small: 1 } } as never }), /one of fgsm, pgd-linf, pgd-l2, pgd-l1, aa for overrides attack but received 'cw'/);
    assert.throws(() => magnitudes([3, 32, 32], { overrides: { fgsm: { huge: 1 } } as never }), /one of small, middle, large for overrides.fgsm tier but received 'huge'/);
    assert.throws(() => magnitudes([3, 32, 32], { rule: 'sqrt' as never }), /for rule/);
    assert.throws(() => magnitudes([3, 32] as never), /inputShape/);
    assert.throws(() => checkAttacks(['fgsm', 'deepfool']), (e: unknown) => e instanceof UsageError && /for attacks but received 'deepfool'/.test(e.message));
    assert.throws(() => checkAttacks(['fgsm', 'fgsm']), /without duplicates/);
    assert.throws(() => checkAttacks([]), /non-empty/);
    assert.throws(() => checkTiers(['small', 'huge']), (e: unknown) => e instanceof UsageError && /one of small, middle, large for magnitudes but received 'huge'/.test(e.message));
    assert.deepEqual(checkTiers(['large', 'small']), ['large', 'small']);
  });
});
