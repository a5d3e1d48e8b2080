/**
 * `qrobust eval --suite adversarial` end to end, as a user runs it: a resnet20 trained here for a few seconds
 * (`qrobust train`), attacked through the CLI, its JSON checked for the properties the numbers must have, the
 * saved `.npy` examples checked against their ε-balls and re-classified by `qrobust infer`, and the named
 * errors of bad values.
 */
import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../ts/native/binding.ts';
import { readNpy } from '../../ts/attacks/npy.ts';
import { cli as run, oneJson, oneLineError } from './cli.ts';

const cli = (args: string[]) => run(args, { QROBUST_PROGRESS: '' });

/** Per-sample ℓ∞ / ℓ2 / ℓ1 norm of a − b over samples of d values (float64, independent of ts/attacks). */
function norms(a: Float32Array, b: Float32Array, d: number, p: 'linf' | 'l2' | 'l1'): number[] {
  const out: number[] = [];
  for (let i = 0; i < a.length / d; i++) {
    let s = 0;
    for (let j = i * d; j < (i + 1) * d; j++) {
      const v = Math.abs(a[j]! - b[j]!);
      s = p === 'linf' ? Math.max(s, v) : p === 'l2' ? s + v * v : s + v;
    }
    out.push(p === 'l2' ? Math.sqrt(s) : s);
  }
  return out;
}

const COMMON = ['suite', 'model', 'data', 'target', 'n', 'seed', 'subset', 'versions', 'seconds'];
const ATTACKS = ['fgsm', 'pgd-linf', 'pgd-l2', 'pgd-l1'];
const NORM: Record<string, 'linf' | 'l2' | 'l1'> = { fgsm: 'linf', 'pgd-linf': 'linf', 'pgd-l2': 'l2', 'pgd-l1': 'l1', aa: 'linf' };
const N = 16;

describe('e2e: qrobust eval --suite adversarial', function () {
  this.timeout(1800000);
  const dir = join(repoRoot, 'test', '.generated', 'e2e-adversarial');
  const ckpt = join(dir, 'tiny.safetensors');
  const adv = join(dir, 'adv');
  let j: Record<string, any>;

  before(() => {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const t = cli(['train', '--arch', 'resnet20', '--data', 'fashion-mnist', '--out', ckpt, '--epochs', '2', '--batch', '32', '--train-limit', '384', '--test-limit', '20', '--seed', '3', '--json']);
    assert.equal(t.code, 0, t.stderr);
    j = oneJson(cli(['eval', '--model', ckpt, '--suite', 'adversarial', '--attacks', ATTACKS.join(','), '--magnitudes', 'small,large',
      '--test-limit', String(N), '--seed', '7', '--batch', '8', '--save-adv', adv, '--transfer-to', ckpt, '--json']));
  });

  it('JSON per CONVENTIONS.md: common fields, the attacks run, AR per attack and tier, both WCARs, seed and subset recorded', () => {
    for (const k of COMMON) assert.ok(k in j, k);
    assert.equal(j.suite, 'adversarial');
    assert.equal(j.model, ckpt);
    assert.equal(j.data, 'fashion-mnist');
    assert.equal(j.target, 'reference');
    assert.equal(j.n, N);
    assert.equal(j.seed, 7);
    assert.deepEqual([j.subset.method, j.subset.n, j.subset.seed], ['stratified', N, 7]);
    assert.deepEqual(j.attacks, ATTACKS);
    assert.deepEqual(j.tiers, ['small', 'large']);
    assert.deepEqual(Object.keys(j.ar), ATTACKS);
    assert.deepEqual(j.aa_components, {});
    // ε from the §7.14 scaling at 3x32x32, recorded
    assert.equal(j.magnitudes.rule, 'scaled-7.14');
    assert.equal(j.magnitudes.eps.fgsm.small, 0.5 / 255);
    assert.ok(Math.abs(j.magnitudes.eps['pgd-l2'].large - 8 * Math.sqrt(3072 / 150528)) < 1e-12);
    assert.ok(Math.abs(j.magnitudes.eps['pgd-l1'].small - 100 * (3072 / 150528)) < 1e-12);
    assert.equal(j.attack_config['pgd-linf'].small.steps, 20);
    assert.match(j.rng, /fork/);
    assert.equal(j.per_sample.clean_correct.length, N);
  });

  it('the numbers hold together: AR <= clean, accuracy falls with the tier, WCAR <= min AR, WCAR_RA = WCAR / clean', () => {
    assert.ok(j.clean > 30, `the tiny model learned something (clean ${j.clean})`);
    for (const a of ATTACKS) {
      assert.ok(j.ar[a].small <= j.clean, `${a} small ${j.ar[a].small} <= clean ${j.clean}`);
      assert.ok(j.ar[a].large <= j.ar[a].small, `${a}: large ${j.ar[a].large} <= small ${j.ar[a].small}`);
    }
    assert.ok(j.ar['pgd-linf'].large < j.clean, 'an ε of 8/255 breaks something');
    for (const t of ['small', 'large']) {
      assert.ok(j.wcar[t] <= Math.min(...ATTACKS.map((a) => j.ar[a][t])) + 1e-9);
      assert.ok(Math.abs(j.wcar_ra[t] * j.clean / 100 - j.wcar[t]) < 1e-9);
      // WCAR recomputed from the per-sample flags
      let count = 0;
      for (let i = 0; i < N; i++) if (j.per_sample.clean_correct[i] === '1' && ATTACKS.every((a) => j.per_sample.robust[a][t][i] === '1')) count++;
      assert.equal(j.wcar[t], (100 * count) / N);
    }
  });

  it('--save-adv: clean inputs, labels and every attack/tier as float32 NCHW .npy inside the ε-ball and [0,1]; infer on them gives the reported AR', () => {
    const clean = readNpy(join(adv, 'clean.npy'));
    const labels = readNpy(join(adv, 'labels.npy'));
    assert.deepEqual(clean.shape, [N, 3, 32, 32]);
    assert.equal(clean.dtype, 'float32');
    assert.deepEqual(Array.from(labels.data), j.per_sample.labels);
    assert.ok(existsSync(join(adv, 'adversarial.json')));
    const d = 3 * 32 * 32;
    for (const a of ATTACKS) for (const t of ['small', 'large']) {
      const file = join(adv, `${a}-${t}.npy`);
      const x = readNpy(file);
      assert.deepEqual(x.shape, [N, 3, 32, 32]);
      const xa = x.data as Float32Array;
      assert.ok(xa.every((v) => v >= 0 && v <= 1), `${a}/${t}: pixels in [0,1]`);
      const eps = j.magnitudes.eps[a][t];
      const ns = norms(xa, clean.data as Float32Array, d, NORM[a]!);
      const tol = NORM[a] === 'l1' ? d * 2 ** -24 + 1e-6 : 1e-6;
      for (const v of ns) assert.ok(v <= eps + tol, `${a}/${t}: ‖δ‖ ${v} <= ε ${eps}`);
      assert.ok(Math.max(...ns) > 0.5 * eps, `${a}/${t}: the attack moved the inputs`);
      // the model's predictions on the saved examples reproduce AR exactly
      const r = oneJson(cli(['infer', '--model', ckpt, '--input', file, '--json']));
      const correct = (r.top5 as number[][]).filter((row, i) => row[0] === j.per_sample.labels[i]).length;
      assert.equal((100 * correct) / N, j.ar[a][t], `${a}/${t}: re-evaluated AR`);
      assert.equal(r.top5.map((row: number[], i: number) => (row[0] === j.per_sample.labels[i] ? '1' : '0')).join(''), j.per_sample.robust[a][t]);
    }
  });

  it('--transfer-to the same weights reproduces the white-box numbers', () => {
    const tr = j.transfer[ckpt];
    assert.equal(tr.crafted_on, ckpt);
    assert.equal(tr.clean, j.clean);
    assert.deepEqual(tr.ar, j.ar);
    assert.deepEqual(tr.wcar, j.wcar);
  });

  it('--transfer-to <target ids>: a q-checkpoint\'s examples re-classified by its deployed models; the reference target reproduces the white-box numbers', () => {
    const q = join(dir, 'tiny-lsq8.safetensors');
    const r = cli(['quantize', '--model', ckpt, '--method', 'lsq', '--bits', '8', '--out', q, '--train-limit', '64', '--batch', '32', '--test-limit', '16', '--seed', '1', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const t = oneJson(cli(['eval', '--model', q, '--suite', 'adversarial', '--attacks', 'fgsm,pgd-linf', '--magnitudes', 'large', '--test-limit', String(N), '--seed', '7',
      '--batch', '8', '--transfer-to', 'reference,x86-onnxruntime', '--json']));
    const ref = t.transfer['target:reference'];
    const x86 = t.transfer['target:x86-onnxruntime'];
    assert.ok(ref && x86, JSON.stringify(Object.keys(t.transfer)));
    // reference = the QAT model's own forward: exactly the white-box numbers
    assert.equal(ref.clean, t.clean);
    assert.deepEqual(ref.ar, t.ar);
    assert.deepEqual(ref.wcar, t.wcar);
    // the deployed integer model classifies the same pixels: a real accuracy for every attack and tier
    for (const a of ['fgsm', 'pgd-linf']) {
      const v = x86.ar[a].large;
      assert.ok(Number.isFinite(v) && v >= 0 && v <= 100, `${a}: ${v}`);
      assert.equal((v * N / 100) % 1, 0, `${a}: ${v} is not a count out of ${N}`);
    }
    oneLineError(cli(['eval', '--model', ckpt, '--suite', 'adversarial', '--attacks', 'fgsm', '--magnitudes', 'small', '--test-limit', '4', '--transfer-to', 'rpi4-tflite']), 2,
      /q-checkpoint .*--model with --target.*float checkpoint/);
    oneLineError(cli(['eval', '--model', q, '--suite', 'adversarial', '--attacks', 'fgsm', '--magnitudes', 'small', '--test-limit', '4', '--transfer-to', 'rpi9-tflite']), 2,
      /Expected checkpoints .*target ids .* for --transfer-to but received 'rpi9-tflite'/);
  });

  it('same seed -> the same JSON (apart from the timing); the text form prints the table and per-attack progress on stderr', () => {
    const again = oneJson(cli(['eval', '--model', ckpt, '--suite', 'adversarial', '--attacks', ATTACKS.join(','), '--magnitudes', 'small,large',
      '--test-limit', String(N), '--seed', '7', '--batch', '5', '--transfer-to', ckpt, '--json']));
    const strip = (o: Record<string, any>) => { const { seconds: _s, save_adv: _d, batch: _b, ...rest } = o; return rest; };
    assert.deepEqual(strip(again), strip(j), 'another batch size, same seed: identical results');
    const txt = cli(['eval', '--model', ckpt, '--suite', 'adversarial', '--attacks', 'fgsm', '--magnitudes', 'small', '--test-limit', '8', '--seed', '7']);
    assert.equal(txt.code, 0, txt.stderr);
    assert.match(txt.stdout, /adversarial: 8 images, clean [\d.]+%/);
    assert.match(txt.stdout, /WCAR \(Eq\. 3\)/);
    assert.match(txt.stderr, /adversarial: fgsm: 8 steps/);
  });

  it('AutoAttack through the CLI: --attacks aa --aa-version aa-demo records the version and per-component counts that add up', () => {
    const a = oneJson(cli(['eval', '--model', ckpt, '--suite', 'adversarial', '--attacks', 'pgd-linf,aa', '--aa-version', 'aa-demo', '--magnitudes', 'large',
      '--test-limit', '8', '--seed', '1', '--json']));
    assert.deepEqual(a.attacks, ['pgd-linf', 'aa']);
    assert.equal(a.attack_config.aa.large.version, 'aa-demo');
    assert.deepEqual(Object.keys(a.aa_components), ['apgd-ce', 'apgd-t', 'fab-t', 'square']);
    const broken = Object.values(a.aa_components as Record<string, { large: number }>).reduce((s, c) => s + c.large, 0);
    const cleanCorrect = [...a.per_sample.clean_correct].filter((c) => c === '1').length;
    const robust = [...a.per_sample.robust.aa.large].filter((c) => c === '1').length;
    assert.equal(broken, cleanCorrect - robust, 'each clean-correct point broken by exactly one component');
    assert.ok(a.ar.aa.large <= a.clean);
    assert.deepEqual(Object.keys(a.component_seconds.aa), ['apgd-ce', 'apgd-t', 'fab-t', 'square', 'total'], 'wall seconds per component');
    assert.ok(a.component_seconds.aa.total.large > 0);
  });

  it('bad values: named one-line errors, exit 2, before any work', () => {
    const base = ['eval', '--model', ckpt, '--suite', 'adversarial', '--test-limit', '4'];
    oneLineError(cli([...base, '--attacks', 'fgsm,cw']), 2, /Expected one of fgsm, pgd-linf, pgd-l2, pgd-l1, aa for --attacks but received 'cw'/);
    oneLineError(cli([...base, '--magnitudes', 'small,huge']), 2, /Expected one of small, middle, large for --magnitudes but received 'huge'/);
    oneLineError(cli([...base, '--eps', 'pgd-l2/small=-0.1']), 2, /--eps pgd-l2\/small.*received '-0\.1'/);
    oneLineError(cli([...base, '--eps', 'pgd-l9/small=0.1']), 2, /--eps attack.*received 'pgd-l9'/);
    oneLineError(cli([...base, '--eps-rule', 'linear']), 2, /one of scaled-7\.14, unscaled for --eps-rule but received 'linear'/);
    oneLineError(cli([...base, '--aa-version', 'fast']), 2, /one of standard, aa-demo for --aa-version but received 'fast'/);
    oneLineError(cli([...base, '--pgd-steps', '0']), 2, /--pgd-steps/);
    oneLineError(cli([...base, '--transfer-to', 'x86-onnxruntime']), 2, /q-checkpoint .*for --model with --target but .*tiny\.safetensors is a float checkpoint/);
    oneLineError(cli([...base, '--transfer-to', join(dir, 'missing.safetensors')]), 2, /missing\.safetensors/);
  });
});
