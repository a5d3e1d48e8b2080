// Metrics from per-sample flags, against hand counts: clean accuracy, AR over all samples, WCAR by
// Eq. 3 (all samples; clean-misclassified = broken, even when an attack "fixes" it) and WCAR_RA
// (clean-correct only), WCAR ≤ min AR on random flags, the JSON shape of CONVENTIONS.md, the
// per-sample round trip, aa_components from component counts, and errors for missing flags.
import assert from 'node:assert/strict';
import { Rng } from '../../../ts/util/rng.ts';
import { QrobustError } from '../../../ts/util/errors.ts';
import { AdversarialFlags, adversarialJson, cleanAccuracy, flagsFromJson, robustAccuracy, worstCaseAccuracy } from '../../../ts/attacks/metrics.ts';

// 8 samples, labels 0..; preds encoded as correct (1) / wrong (0)
function preds(ok: number[], labels: number[]): Int32Array {
  return Int32Array.from(labels, (y, i) => (ok[i] ? y : y + 1));
}

describe('attacks/metrics', () => {
  const labels = [0, 1, 2, 3, 0, 1, 2, 3];
  const clean = [1, 1, 1, 1, 1, 1, 0, 0];
  const fgsm = [1, 1, 1, 0, 0, 1, 1, 0]; // sample 6 is clean-wrong but "fixed" by fgsm
  const pgd = [1, 0, 1, 0, 0, 1, 0, 0];

  function build(): AdversarialFlags {
    const f = new AdversarialFlags(8);
    f.setClean(0, preds(clean.slice(0, 5), labels.slice(0, 5)), labels.slice(0, 5));
    f.setClean(5, preds(clean.slice(5), labels.slice(5)), labels.slice(5));
    f.setAdversarial('fgsm', 'small', 0, preds(fgsm, labels), labels);
    f.setAdversarial('pgd-linf', 'small', 0, preds(pgd, labels), labels);
    return f;
  }

  it('computes clean, AR, WCAR (Eq. 3) and WCAR_RA by hand counts', () => {
    const f = build();
    assert.equal(cleanAccuracy(f), 75);
    assert.equal(robustAccuracy(f, 'fgsm', 'small'), 62.5);
    assert.equal(robustAccuracy(f, 'pgd-linf', 'small'), 37.5);
    // robust to both and clean-correct: samples 0, 2, 5
    const w = worstCaseAccuracy(f, ['fgsm', 'pgd-linf'], 'small');
    assert.equal(w.count, 3);
    assert.equal(w.eq3, 37.5);
    assert.equal(w.ra, 50);
    // over fgsm only: clean-correct ∧ fgsm-robust = 0,1,2,5 (sample 6 excluded although fgsm left it correct)
    assert.deepEqual(worstCaseAccuracy(f, ['fgsm'], 'small'), { eq3: 50, ra: 400 / 6, count: 4 });
  });

  it('WCAR ≤ min AR and WCAR_RA ≈ WCAR / clean on random flags', () => {
    const rng = new Rng(3);
    for (let trial = 0; trial < 20; trial++) {
      const n = 50 + rng.int(50);
      const f = new AdversarialFlags(n);
      const ys = Array.from({ length: n }, () => rng.int(10));
      f.setClean(0, preds(ys.map(() => (rng.uniform() < 0.8 ? 1 : 0)), ys), ys);
      const atks = ['fgsm', 'pgd-linf', 'pgd-l2', 'pgd-l1'];
      for (const a of atks) f.setAdversarial(a, 'middle', 0, preds(ys.map(() => (rng.uniform() < 0.6 ? 1 : 0)), ys), ys);
      const w = worstCaseAccuracy(f, atks, 'middle');
      const minAr = Math.min(...atks.map((a) => robustAccuracy(f, a, 'middle')));
      assert.ok(w.eq3 <= minAr + 1e-12);
      assert.ok(Math.abs(w.ra! * cleanAccuracy(f) / 100 - w.eq3) < 1e-9);
    }
  });

  it('writes the adversarial JSON of CONVENTIONS.md and round-trips per-sample flags', () => {
    const f = build();
    f.addComponent('aa', 'apgd-ce', 'small', 2);
    f.addComponent('aa', 'apgd-ce', 'small', 1);
    f.addComponent('aa', 'square', 'small', 0);
    const j = adversarialJson(f, ['fgsm', 'pgd-linf'], ['small'], { model: 'm', seed: 7, data: 'fashion-mnist' });
    assert.equal(j.suite, 'adversarial');
    assert.deepEqual(j.attacks, ['fgsm', 'pgd-linf']);
    assert.deepEqual(j.ar, { fgsm: { small: 62.5 }, 'pgd-linf': { small: 37.5 } });
    assert.deepEqual(j.wcar, { small: 37.5 });
    assert.deepEqual(j.wcar_ra, { small: 50 });
    assert.equal(j.clean, 75);
    assert.deepEqual(j.aa_components, { 'apgd-ce': { small: 3 }, square: { small: 0 } });
    for (const k of ['model', 'data', 'target', 'n', 'seed', 'subset', 'versions', 'seconds']) assert.ok(k in j, k);
    const ps = j.per_sample as { clean_correct: string; robust: Record<string, Record<string, string>> };
    assert.equal(ps.clean_correct, '11111100');
    assert.equal(ps.robust.fgsm!.small, '11100110');
    const back = flagsFromJson(JSON.parse(JSON.stringify(j)));
    assert.deepEqual(worstCaseAccuracy(back, j.attacks, 'small'), worstCaseAccuracy(f, j.attacks, 'small'));
    assert.equal(robustAccuracy(back, 'fgsm', 'small'), 62.5);
    assert.equal(adversarialJson(f, ['fgsm'], ['small'], { seed: 0 }, false).per_sample, undefined);
  });

  it('refuses incomplete or inconsistent flags', () => {
    const f = new AdversarialFlags(4);
    f.setClean(0, [0, 1], [0, 1]);
    assert.throws(() => adversarialJson(f, ['fgsm'], ['small'], { seed: 0 }), (e: unknown) => e instanceof QrobustError && /sample 2 has no clean prediction/.test(e.message));
    f.setClean(2, [0, 1], [0, 1]);
    assert.throws(() => robustAccuracy(f, 'fgsm', 'small'), /fgsm\/small was not run/);
    f.setAdversarial('fgsm', 'small', 0, [0, 1, 0], [0, 1, 0]);
    assert.throws(() => adversarialJson(f, ['fgsm'], ['small'], { seed: 0 }), /sample 3 has no prediction under fgsm\/small/);
    assert.throws(() => f.setAdversarial('fgsm', 'small', 3, [0], [0]), /label 0 under fgsm\/small but 1/);
    assert.throws(() => f.setAdversarial('fgsm', 'small', 3, [1, 1], [1, 1]), /outside 0..3/);
    assert.throws(() => new AdversarialFlags(0), /integer >= 1 for n/);
    assert.throws(() => worstCaseAccuracy(f, [], 'small'), /at least one attack/);
  });
});
