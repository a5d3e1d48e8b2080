/** Distribution tests of the noise corruptions (our draws are not numpy's, so only statistics compare). */
import { strict as assert } from 'node:assert';
import { corrupt, poisson } from '../../../ts/corrupt/index.ts';
import { Rng } from '../../../ts/util/rng.ts';
import { corruptFixtures } from './fixtures.ts';

function grey(v: number, side = 128): { data: Uint8Array; width: number; height: number; channels: number } {
  return { data: new Uint8Array(side * side * 3).fill(v), width: side, height: side, channels: 3 };
}

function stats(a: ArrayLike<number>): { mean: number; variance: number } {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  const mean = s / a.length;
  let v = 0;
  for (let i = 0; i < a.length; i++) v += (a[i]! - mean) ** 2;
  return { mean, variance: v / a.length };
}

describe('corrupt/noise distributions', function () {
  this.timeout(30000);

  it('poisson(): mean and variance equal lambda on both branches (λ < 10 and PTRS)', () => {
    const rng = new Rng(3);
    for (const lam of [0.3, 4, 9.9, 12, 60, 500]) {
      const xs = new Float64Array(40000);
      for (let i = 0; i < xs.length; i++) xs[i] = poisson(rng, lam);
      const s = stats(xs);
      const se = Math.sqrt(lam / xs.length);
      assert.ok(Math.abs(s.mean - lam) < 5 * se, `λ=${lam}: mean ${s.mean}`);
      assert.ok(Math.abs(s.variance / lam - 1) < 0.05, `λ=${lam}: variance ${s.variance}`);
    }
  });

  it('gaussian_noise: mean 0 and sd c (in [0,1] units, away from the clip)', async function () {
    if (!corruptFixtures()) this.skip();
    for (const [sev, c] of [[1, 0.08], [3, 0.18]] as const) {
      const img = grey(128, 224);
      const out = await corrupt(img, 'gaussian_noise', sev, new Rng(11));
      // truncation lowers the mean by ~0.5 grey level
      const d = Float64Array.from(out.data, (v) => (v + 0.5 - 128) / 255);
      const s = stats(d);
      assert.ok(Math.abs(s.mean) < 0.002, `s${sev}: mean ${s.mean}`);
      assert.ok(Math.abs(Math.sqrt(s.variance) / c - 1) < 0.03, `s${sev}: sd ${Math.sqrt(s.variance)} vs ${c}`);
    }
  });

  it('shot_noise: mean x and variance x/c', async function () {
    if (!corruptFixtures()) this.skip();
    const c = 25; // 224 severity 2
    const out = await corrupt(grey(100, 224), 'shot_noise', 2, new Rng(12));
    const d = Float64Array.from(out.data, (v) => v / 255);
    const s = stats(d);
    const x = 100 / 255;
    assert.ok(Math.abs(s.mean - x) < 0.01, `mean ${s.mean} vs ${x}`);
    assert.ok(Math.abs(s.variance / (x / c) - 1) < 0.05, `variance ${s.variance} vs ${x / c}`);
  });

  it('impulse_noise: flip rate c per element, salt and pepper 50/50', async function () {
    if (!corruptFixtures()) this.skip();
    const out = await corrupt(grey(100, 224), 'impulse_noise', 4, new Rng(13)); // c = 0.17
    let salt = 0;
    let pepper = 0;
    for (const v of out.data) {
      if (v === 255) salt++;
      else if (v === 0) pepper++;
      else assert.equal(v, 100);
    }
    const n = out.data.length;
    assert.ok(Math.abs((salt + pepper) / n - 0.17) < 0.004, `flip rate ${(salt + pepper) / n}`);
    assert.ok(Math.abs(salt / (salt + pepper) - 0.5) < 0.01, `salt share ${salt / (salt + pepper)}`);
  });
});
