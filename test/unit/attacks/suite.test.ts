// The suite end to end on a random linear model: the JSON of CONVENTIONS.md (attacks listed, AR per
// attack and tier, both WCARs, WCAR ≤ min AR, accuracy falling with the tier), independence from the
// batch size (per-sample streams), same seed same JSON / other seed differs, --save-adv .npy files that
// reload with the right shapes and reproduce the recorded flags and norms, a registered composite
// attack (the AutoAttack hook) with component counts, the threat-model check applied to registered
// attacks, and named errors. Also the .npy writer/reader.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../../ts/util/rng.ts';
import { UsageError } from '../../../ts/util/errors.ts';
import { setQuiet } from '../../../ts/util/progress.ts';
import { linearModel } from '../../../ts/attacks/model.ts';
import { argmaxRows } from '../../../ts/attacks/base.ts';
import { PerturbationError, perSampleNorms } from '../../../ts/attacks/norms.ts';
import { magnitudes, type Tier } from '../../../ts/attacks/magnitudes.ts';
import { flagsFromJson, robustAccuracy } from '../../../ts/attacks/metrics.ts';
import { arraySource, availableAttacks, registerAttack, runAdversarial } from '../../../ts/attacks/suite.ts';
import { NpyWriter, readNpy, writeNpy } from '../../../ts/attacks/npy.ts';

const SHAPE = [3, 6, 6] as const;
const D = 108;
const K = 4;
const N = 24;

function setup() {
  const rng = new Rng(21);
  // a linear model that classifies its own data well: class means along random directions
  const W = Float32Array.from({ length: K * D }, () => rng.normal());
  // centre the logits at x = 0.5, so that the class signal decides
  const b = Float32Array.from({ length: K }, (_, c) => -0.5 * W.subarray(c * D, (c + 1) * D).reduce((s, v) => s + v, 0));
  const model = linearModel(W, b, SHAPE, 'lin');
  const x = new Float32Array(N * D);
  const y = new Int32Array(N);
  for (let i = 0; i < N; i++) {
    y[i] = i % K;
    for (let j = 0; j < D; j++) x[i * D + j] = Math.min(1, Math.max(0, 0.5 + 0.02 * Math.sign(W[y[i]! * D + j]!) + 0.05 * rng.normal()));
  }
  return { model, x, y };
}

describe('attacks/suite', function () {
  before(() => setQuiet(true));
  after(() => setQuiet(false));
  const { model, x, y } = setup();
  const mags = magnitudes(SHAPE, { overrides: { fgsm: { small: 0.002, middle: 0.012, large: 0.04 }, 'pgd-linf': { small: 0.002, middle: 0.012, large: 0.04 }, 'pgd-l2': { middle: 0.1 }, 'pgd-l1': { middle: 0.8 } } });
  const opts = { attacks: ['fgsm', 'pgd-linf', 'pgd-l2', 'pgd-l1'] as const, seed: 3, magnitudes: mags };

  it('returns the adversarial JSON with AR and both WCARs; WCAR ≤ min AR; accuracy falls with the tier', async () => {
    const j = await runAdversarial(model, arraySource(x, y), { ...opts, batch: 5 });
    assert.equal(j.suite, 'adversarial');
    assert.equal(j.n, N);
    assert.equal(j.model, 'lin');
    assert.deepEqual(j.attacks, ['fgsm', 'pgd-linf', 'pgd-l2', 'pgd-l1']);
    assert.ok(j.clean > 90, `clean ${j.clean}`);
    for (const t of ['small', 'middle', 'large'] as Tier[]) {
      const minAr = Math.min(...j.attacks.map((a) => j.ar[a]![t]!));
      assert.ok(j.wcar[t]! <= minAr, `${t}: wcar ${j.wcar[t]} > min AR ${minAr}`);
      assert.ok(Math.abs(j.wcar_ra[t]! * j.clean / 100 - j.wcar[t]!) < 1e-9);
      for (const a of j.attacks) assert.ok(j.ar[a]![t]! <= j.clean);
    }
    for (const a of j.attacks) assert.ok(j.ar[a]!.small! >= j.ar[a]!.middle! && j.ar[a]!.middle! >= j.ar[a]!.large!, `${a}: ${JSON.stringify(j.ar[a])}`);
    assert.ok(j.ar['pgd-linf']!.large! < j.clean && j.ar['pgd-linf']!.middle! > 0 && j.ar['pgd-linf']!.middle! < 100, 'the tiers are not degenerate');
    assert.ok(j.ar['pgd-linf']!.middle! <= j.ar.fgsm!.middle!);
    assert.equal((j.magnitudes as { rule: string }).rule, 'scaled-7.14');
    assert.equal(((j.attack_config as Record<string, Record<string, { steps: number }>>)['pgd-l2']!.small!).steps, 20);
    const back = flagsFromJson(j);
    assert.equal(robustAccuracy(back, 'pgd-l1', 'middle'), j.ar['pgd-l1']!.middle);
  });

  it('does not depend on the batch size; same seed same result, another seed differs', async () => {
    const strip = (o: Record<string, unknown>) => { const { seconds: _s, batch: _b, ...r } = o; return JSON.stringify(r); };
    const a = await runAdversarial(model, arraySource(x, y), { ...opts, batch: 7, tiers: ['large'] });
    const b = await runAdversarial(model, arraySource(x, y), { ...opts, batch: 24, tiers: ['large'] });
    assert.equal(strip(a), strip(b));
    const c = await runAdversarial(model, arraySource(x, y), { ...opts, batch: 7, tiers: ['large'], seed: 4, attacks: ['pgd-l2'] });
    const c2 = await runAdversarial(model, arraySource(x, y), { ...opts, batch: 7, tiers: ['large'], seed: 3, attacks: ['pgd-l2'] });
    // flags may coincide, the adversarial examples must not: compare saved bytes
    const d1 = mkdtempSync(join(tmpdir(), 'qrb-adv-'));
    const d2 = mkdtempSync(join(tmpdir(), 'qrb-adv-'));
    try {
      await runAdversarial(model, arraySource(x, y), { ...opts, tiers: ['large'], attacks: ['pgd-l2'], seed: 3, saveAdv: d1 });
      await runAdversarial(model, arraySource(x, y), { ...opts, tiers: ['large'], attacks: ['pgd-l2'], seed: 4, saveAdv: d2 });
      assert.notDeepEqual(readFileSync(join(d1, 'pgd-l2-large.npy')), readFileSync(join(d2, 'pgd-l2-large.npy')));
    } finally {
      rmSync(d1, { recursive: true, force: true });
      rmSync(d2, { recursive: true, force: true });
    }
    assert.equal(c.seed, 4);
    assert.equal(c2.seed, 3);
  });

  it('takes an async source (a streaming data loader) and gives the same result as the array source', async () => {
    const arr = arraySource(x, y);
    const asyncSrc = {
      n: N,
      async *batches(size: number) {
        for (const b of arr.batches(size) as Iterable<{ x: Float32Array; y: ArrayLike<number>; n: number }>) {
          await new Promise((r) => setImmediate(r));
          yield { x: b.x.slice(), y: Int32Array.from(b.y), n: b.n };
        }
      },
    };
    const strip = (o: Record<string, unknown>) => { const { seconds: _s, ...r } = o; return JSON.stringify(r); };
    const o2 = { ...opts, tiers: ['middle'] as Tier[], batch: 9 };
    assert.equal(strip(await runAdversarial(model, asyncSrc, o2)), strip(await runAdversarial(model, arr, o2)));
  });

  it('--save-adv writes clean, labels and one float32 NCHW .npy per attack and tier that reproduce the flags', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qrb-adv-'));
    try {
      const j = await runAdversarial(model, arraySource(x, y), { ...opts, tiers: ['small', 'large'], batch: 10, saveAdv: dir });
      const clean = readNpy(join(dir, 'clean.npy'));
      assert.deepEqual(clean.shape, [N, 3, 6, 6]);
      assert.deepEqual([...clean.data], [...x]);
      const labels = readNpy(join(dir, 'labels.npy'));
      assert.equal(labels.dtype, 'int32');
      assert.deepEqual(labels.shape, [N]);
      assert.deepEqual([...labels.data], [...y]);
      const flags = flagsFromJson(j);
      for (const a of j.attacks) for (const t of j.tiers) {
        const f = readNpy(join(dir, `${a}-${t}.npy`));
        assert.equal(f.dtype, 'float32');
        assert.deepEqual(f.shape, [N, 3, 6, 6]);
        const adv = f.data as Float32Array;
        const norm = a === 'pgd-l2' ? 'l2' : a === 'pgd-l1' ? 'l1' : 'linf';
        const eps = mags.eps[a as 'fgsm'][t];
        for (const v of perSampleNorms(adv, x, N, norm)) assert.ok(v <= eps * (1 + 1e-5) + 1e-6, `${a}/${t}: ${v} > ${eps}`);
        const pred = argmaxRows(await model.logits(adv, N), N, K);
        const robust = flags.flags(a, t);
        for (let i = 0; i < N; i++) assert.equal(robust[i], pred[i] === y[i] ? 1 : 0);
      }
      const meta = JSON.parse(readFileSync(join(dir, 'adversarial.json'), 'utf8'));
      assert.equal(meta.seed, 3);
      assert.equal(meta.per_sample, undefined);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs a registered composite attack (the AutoAttack hook) with component counts, and checks its threat model', async () => {
    assert.ok(!availableAttacks().includes('aa') || true);
    const restore = registerAttack('aa', (m, eps) => ({
      config: () => ({ attack: 'aa', eps }),
      perturb: async (xb, _yb, n) => {
        const adv = xb.map((v) => Math.min(1, v + eps));
        // i is the index within a batch: batches of 5, 5, 5, 5, 4 give 2+2+2+2+2 = 10 odd indices
        return { adv, components: { 'apgd-ce': Uint8Array.from({ length: n }, (_, i) => (i % 2)), square: new Uint8Array(n) } };
      },
    }));
    try {
      const j = await runAdversarial(model, arraySource(x, y), { ...opts, attacks: ['fgsm', 'aa'], tiers: ['small'], batch: 5 });
      assert.deepEqual(j.attacks, ['fgsm', 'aa']);
      assert.ok('aa' in j.ar);
      assert.deepEqual(j.aa_components, { 'apgd-ce': { small: 10 }, square: { small: 0 } });
      assert.ok(j.wcar.small! <= Math.min(j.ar.fgsm!.small!, j.ar.aa!.small!));
    } finally {
      restore();
    }
    const restore2 = registerAttack('aa', (m, eps) => ({ config: () => ({}), perturb: async (xb) => xb.map((v) => Math.min(1, v + 2 * eps + 0.01)) }));
    try {
      await assert.rejects(runAdversarial(model, arraySource(x, y), { ...opts, attacks: ['aa'], tiers: ['small'] }),
        (e: unknown) => e instanceof PerturbationError && /aa\/small: sample 0 has linf perturbation/.test(e.message));
    } finally {
      restore2();
    }
  });

  it('--transfer-to: evaluates the adversarial examples on other models (logits only) beside the white-box numbers', async () => {
    const same = { ...model, name: 'same-weights', vjp: undefined };
    const rng = new Rng(8);
    const other = linearModel(Float32Array.from({ length: K * D }, () => rng.normal()), new Float32Array(K), SHAPE, 'other');
    const otherLogitsOnly = { numClasses: K, inputShape: SHAPE, name: 'other-int', logits: other.logits.bind(other) };
    const dir = mkdtempSync(join(tmpdir(), 'qrb-adv-'));
    try {
      const j = await runAdversarial(model, arraySource(x, y), { ...opts, tiers: ['middle'], batch: 10, saveAdv: dir, transferTo: [same, otherLogitsOnly] });
      const tr = j.transfer as Record<string, { crafted_on: string; clean: number; ar: Record<string, Record<string, number>>; wcar: Record<string, number>; wcar_ra: Record<string, number | null> }>;
      assert.deepEqual(Object.keys(tr), ['same-weights', 'other-int']);
      assert.equal(tr['same-weights']!.crafted_on, 'lin');
      assert.deepEqual(tr['same-weights']!.ar, j.ar);
      assert.deepEqual(tr['same-weights']!.wcar, j.wcar);
      const o = tr['other-int']!;
      const acc = async (xs: Float32Array) => { const p = argmaxRows(await other.logits(xs, N), N, K); return (100 * p.reduce((c, v, i) => c + (v === y[i] ? 1 : 0), 0)) / N; };
      assert.equal(o.clean, await acc(x));
      for (const a of j.attacks) assert.equal(o.ar[a]!.middle, await acc(readNpy(join(dir, `${a}-middle.npy`)).data as Float32Array));
      assert.ok(o.wcar.middle! <= Math.min(...j.attacks.map((a) => o.ar[a]!.middle!)));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const wrong = linearModel(new Float32Array(3 * D), new Float32Array(3), SHAPE, 'three-classes');
    await assert.rejects(runAdversarial(model, arraySource(x, y), { ...opts, transferTo: [wrong] }), (e: unknown) => e instanceof UsageError && /transfer target 'three-classes' takes \[3, 6, 6\] with 3 classes but 'lin' takes \[3, 6, 6\] with 4/.test(e.message));
    await assert.rejects(runAdversarial(model, arraySource(x, y), { ...opts, transferTo: [same, same] }), /distinct names/);
  });

  it('names unknown attacks and tiers, an unregistered attack, ε < 0, bad batch and seed', async () => {
    const src = arraySource(x, y);
    await assert.rejects(runAdversarial(model, src, { ...opts, attacks: ['fgsm', 'cw' as 'fgsm'] }), (e: unknown) => e instanceof UsageError && /for attacks but received 'cw'/.test(e.message));
    await assert.rejects(runAdversarial(model, src, { ...opts, tiers: ['tiny' as Tier] }), (e: unknown) => e instanceof UsageError && /one of small, middle, large for magnitudes but received 'tiny'/.test(e.message));
    if (!availableAttacks().includes('aa')) await assert.rejects(runAdversarial(model, src, { ...opts, attacks: ['aa'] }), /attack 'aa' is not available/);
    await assert.rejects(runAdversarial(model, src, { ...opts, magnitudes: { overrides: { 'pgd-l2': { small: -0.5 } } } }), /for overrides.pgd-l2.small but received -0.5/);
    const bad = magnitudes(SHAPE);
    bad.eps.fgsm.small = -1;
    await assert.rejects(runAdversarial(model, src, { ...opts, magnitudes: bad }), (e: unknown) => e instanceof UsageError && /for eps but received -1/.test(e.message));
    await assert.rejects(runAdversarial(model, src, { ...opts, batch: 0 }), /integer 1..65536 for batch/);
    await assert.rejects(runAdversarial(model, src, { ...opts, seed: -1 }), /for seed/);
    await assert.rejects(runAdversarial(model, { n: N + 1, batches: src.batches }, { ...opts, tiers: ['small'] }), /yielded 24 samples but declared n = 25/);
  });
});

describe('attacks/npy', () => {
  it('writes and reads float32 / int32 / uint8 with 64-byte aligned headers; the streaming writer fixes the shape on close', () => {
    const dir = mkdtempSync(join(tmpdir(), 'qrb-npy-'));
    try {
      const p = join(dir, 'a.npy');
      writeNpy(p, Float32Array.from([1.5, -2, 3, 4, 5, 6]), [2, 3]);
      const buf = readFileSync(p);
      assert.equal(buf.toString('latin1', 0, 6), '\x93NUMPY');
      const hl = buf.readUInt16LE(8);
      assert.equal((10 + hl) % 64, 0);
      assert.match(buf.toString('latin1', 10, 10 + hl), /^\{'descr': '<f4', 'fortran_order': False, 'shape': \(2, 3\), \} *\n$/);
      const r = readNpy(p);
      assert.deepEqual(r.shape, [2, 3]);
      assert.deepEqual([...r.data], [1.5, -2, 3, 4, 5, 6]);
      writeNpy(p, Int32Array.from([7, -8]), [2]);
      assert.match(readFileSync(p).toString('latin1'), /'shape': \(2,\)/);
      assert.deepEqual([...readNpy(p).data], [7, -8]);
      writeNpy(p, Uint8Array.from([1, 255]), [1, 2]);
      assert.deepEqual(readNpy(p), { dtype: 'uint8', shape: [1, 2], data: Uint8Array.from([1, 255]) });
      const w = new NpyWriter(p, 'float32', [2, 2]);
      w.append(new Float32Array(8).fill(0.25));
      w.append(new Float32Array(4).fill(0.5));
      assert.throws(() => w.append(new Float32Array(3)), /multiple of 4/);
      assert.equal(w.close(), 3);
      const s = readNpy(p);
      assert.deepEqual(s.shape, [3, 2, 2]);
      assert.equal(s.data.length, 12);
      assert.equal(s.data[11], 0.5);
      assert.throws(() => writeNpy(p, new Float32Array(5), [2, 3]), /shape of 5 elements/);
      assert.throws(() => readNpy(join(dir, 'missing.npy')));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
