import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ResultStore } from '../../../ts/store/store.ts';
import { writeReport, REPORT_FILES } from '../../../ts/report/report.ts';
import { wilson, meanScoreInterval, srInterval, spearman } from '../../../ts/report/stats.ts';
import { trendVerdict } from '../../../ts/report/findings.ts';
import { SYSTEMATIC_IDS } from '../../../ts/systematic/pipelines.ts';
import { CORRUPTIONS } from '../../../ts/corrupt/tables.ts';
import { Rng } from '../../../ts/util/rng.ts';

describe('runner: report statistics', () => {
  it('Wilson interval: textbook values', () => {
    const e = wilson(50, 100);
    assert.ok(Math.abs(e.lo - 40.383) < 1e-3 && Math.abs(e.hi - 59.617) < 1e-3, `${e.lo} ${e.hi}`);
    const z = wilson(0, 20); // 0/20: [0, 16.11]
    assert.equal(z.lo, 0);
    assert.ok(Math.abs(z.hi - 16.113) < 1e-3, String(z.hi));
  });

  it('the mean-score interval (NR) is the Wilson interval and does not collapse at 0 %', () => {
    const e = meanScoreInterval(70, 200);
    const w = wilson(70, 200);
    assert.deepEqual([e.lo, e.hi], [w.lo, w.hi]);
    const z = meanScoreInterval(0, 8);
    assert.equal(z.lo, 0);
    assert.ok(z.hi > 30, String(z.hi));
  });

  it('SR paired bootstrap: the point value is the population std of the 14 accuracies; the interval holds it; fixed seed', () => {
    const rng = new Rng(3);
    const n = 300;
    const base = Array.from({ length: n }, () => (rng.uniform() < 0.85 ? 1 : 0));
    const flags = Object.fromEntries(SYSTEMATIC_IDS.map((id, k) => [id, base.map((b, i) => (k < 3 && i % 17 === 0 ? 1 - b : b)).join('')]));
    const e = srInterval(flags);
    const acc = SYSTEMATIC_IDS.map((id) => (100 * [...flags[id]!].filter((c) => c === '1').length) / n);
    const mean = acc.reduce((s, v) => s + v, 0) / acc.length;
    const std = Math.sqrt(acc.reduce((s, v) => s + (v - mean) ** 2, 0) / acc.length);
    assert.ok(Math.abs(e.value - std) < 1e-12);
    assert.ok(e.lo <= e.value && e.value <= e.hi, `${e.lo} ${e.value} ${e.hi}`);
    assert.ok(e.hi > e.lo);
    assert.deepEqual(srInterval(flags), e);
  });

  it('Spearman and the trend verdicts', () => {
    assert.equal(spearman([2, 4, 6, 8], [40, 30, 20, 10]), -1);
    assert.ok(Number.isNaN(spearman([2, 8], [1, 2])));
    const hi = wilson(40, 1000);
    const lo = wilson(5, 1000);
    assert.equal(trendVerdict(hi, lo, 1), 'holds');
    assert.equal(trendVerdict(lo, hi, 1), 'contradicted');
    assert.equal(trendVerdict(wilson(40, 10), wilson(30, 10), 1), 'not resolved at this n');
  });
});

/** A synthetic store with the suites' real JSON shapes. */
function fillStore(file: string): void {
  const s = ResultStore.open(file, { create: true });
  const n = 1000;
  const models: [string, number, number][] = [['fp', 32, 90], ['dorefa', 2, 80], ['dorefa', 8, 89], ['pact', 2, 2.61], ['pact', 8, 89.5], ['lsq', 2, 82], ['lsq', 8, 89.7]];
  const rng = new Rng(1);
  for (const [method, bits, top1] of models) {
    const put = (suite: string, result: Record<string, unknown>) => s.putCell({
      id: `resnet20/${method}/${bits}/${suite}/reference`, arch: 'resnet20', method, bits, suite, target: 'reference',
      config: { data: 'fashion-mnist', budget: { testLimit: n } }, configHash: 'h', seed: 0, subset: null, versions: {}, commit: 'c0ffee', result, seconds: 1,
    });
    const nc = method === 'pact' && bits === 2;
    put('clean', { suite: 'clean', top1, n, ...(nc ? { nc: true, nc_reason: 'clean top-1 2.61% below 20%' } : {}) });
    if (nc) {
      for (const suite of ['adversarial', 'corruption', 'systematic']) put(suite, { suite, nc: true, nc_reason: 'x' });
      continue;
    }
    const low = bits === 2;
    // lsq: low bits much higher WCAR (holds); dorefa: the other way (contradicted)
    const wcar = method === 'lsq' ? (low ? 40 : 5) : method === 'dorefa' ? (low ? 5 : 40) : 10;
    put('adversarial', {
      suite: 'adversarial', n, attacks: ['fgsm', 'pgd-linf'], clean: top1,
      wcar: { small: wcar }, wcar_ra: { small: (100 * wcar) / top1 },
      ar: { fgsm: { small: wcar + 10 }, 'pgd-linf': { small: wcar + 2 } },
    });
    const accuracy = Object.fromEntries(CORRUPTIONS.map((c, k) => [c, Object.fromEntries([1, 2, 3, 4, 5].map((sv) => [String(sv), c === 'impulse_noise' ? 20 : 60 + k - (low ? 10 : 0)]))]));
    const perCorruption = Object.fromEntries(CORRUPTIONS.map((c) => [c, accuracy[c]!['1']!]));
    const nr = Object.values(perCorruption).reduce((a, v) => a + v, 0) / 15;
    put('corruption', { suite: 'corruption', n, nr, accuracy, perCorruption, severities: [1, 2, 3, 4, 5] });
    const flags: Record<string, string> = {};
    for (const id of SYSTEMATIC_IDS) {
      const p = id.includes('nearest') ? (low ? 0.6 : 0.8) : top1 / 100;
      flags[id] = Array.from({ length: n }, () => (rng.uniform() < p ? '1' : '0')).join('');
    }
    const acc = Object.fromEntries(SYSTEMATIC_IDS.map((id) => [id, (100 * [...flags[id]!].filter((c) => c === '1').length) / n]));
    const v = Object.values(acc);
    const m = v.reduce((a, x) => a + x, 0) / v.length;
    put('systematic', { suite: 'systematic', n, sr: Math.sqrt(v.reduce((a, x) => a + (x - m) ** 2, 0) / v.length), accuracy: acc, extras: {}, per_sample: { labels: [], correct: flags } });
  }
  s.close();
}

describe('runner: qrobust report', function () {
  this.timeout(120000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'qrb-report-'));
    fillStore(join(dir, 'r.db'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the fixed layout; tables laid out as the paper with NC; same store -> same bytes', async () => {
    const out = join(dir, 'rep');
    const r = await writeReport({ store: join(dir, 'r.db'), out });
    for (const f of REPORT_FILES) assert.ok(existsSync(join(out, f)), f);
    const md = readFileSync(join(out, 'tables.md'), 'utf8');
    assert.match(md, /### Table 1: clean top-1 accuracy \(%\) — resnet20, target reference\n\nFP \[90\.00 \[87\.98, 91\.71\]\]; n = 1000/);
    assert.match(md, /\| method \| 2 bits \| 8 bits \|/);
    assert.match(md, /\| PACT \| NC \(2\.61\) \| 89\.50 \[/);
    assert.match(md, /### Table 2: [^\n]*\n\n[^\n]*\n\n[^\n]*\n[^\n]*\n\| DoReFa \| 5\.00 \[[^\n]*\n\| PACT \| NC \| 10\.00/);
    const csv = readFileSync(join(out, 'table1-clean.csv'), 'utf8').trim().split('\n');
    assert.equal(csv[0], 'arch,target,method,bits,value,ci_low,ci_high,ci_method,n,nc');
    assert.equal(csv.length, 8);
    assert.ok(csv.some((l) => l.startsWith('resnet20,reference,pact,2,2.61,') && l.endsWith(',1000,1')));
    const wcar = readFileSync(join(out, 'table2-wcar.csv'), 'utf8');
    assert.match(wcar, /resnet20,reference,pact,2,,,,,,1\n/);
    const png = readFileSync(join(out, 'fig1-ar.png'));
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const svg = readFileSync(join(out, 'fig2-corruptions.svg'), 'utf8');
    assert.match(svg, /font-family="DejaVu Sans"/);
    assert.doesNotMatch(svg, /font-family="sans-serif"/);
    assert.match(readFileSync(join(out, 'fig3-systematic.svg'), 'utf8'), /rs-opencv-lanczos4/);
    // findings from the data
    const f = (scope: string, claim: RegExp) => r.findings.find((x) => x.scope.includes(scope) && claim.test(x.claim))!;
    assert.equal(f('LSQ', /WCAR/).verdict, 'holds');
    assert.equal(f('DoReFa', /WCAR/).verdict, 'contradicted');
    assert.equal(f('PACT', /WCAR/).verdict, 'no data');
    assert.equal(f('LSQ', /NR/).verdict, 'holds');
    assert.equal(r.findings.find((x) => /corruption/.test(x.claim))!.verdict, 'holds');
    assert.match(r.findings.find((x) => /corruption/.test(x.claim))!.detail, /^lowest mean accuracy: impulse_noise 20\.00/);
    assert.equal(r.findings.find((x) => /systematic/.test(x.claim))!.verdict, 'holds');
    const findingsMd = readFileSync(join(out, 'findings.md'), 'utf8');
    assert.match(findingsMd, /\| lower bits → higher WCAR \(small tier\) \| resnet20, reference, LSQ \| \*\*holds\*\* \|/);
    const json = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8'));
    assert.equal(json.format, 'qrobust-report/1');
    assert.equal(json.models.length, 7);
    assert.equal(json.models.find((m: any) => m.method === 'lsq' && m.bits === 2).sr.method, 'bootstrap-paired');
    // deterministic
    const out2 = join(dir, 'rep2');
    await writeReport({ store: join(dir, 'r.db'), out: out2 });
    for (const f2 of REPORT_FILES) assert.ok(readFileSync(join(out, f2)).equals(readFileSync(join(out2, f2))), f2);
  });
});

describe('runner: report, per-target tables', function () {
  this.timeout(120000);
  let dir: string;
  before(() => { dir = mkdtempSync(join(tmpdir(), 'qrb-report-t-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a deployment target gets its own table with its numbers, the FP adversarial cell n/a with its reason, and notes on what ran', async () => {
    const file = join(dir, 't.db');
    const s = ResultStore.open(file, { create: true });
    const put = (method: string, bits: number, suite: string, target: string, result: Record<string, unknown>) => s.putCell({
      id: `resnet20/${method}/${bits}/${suite}/${target}`, arch: 'resnet20', method, bits, suite, target,
      config: { data: 'fashion-mnist', budget: { testLimit: 100 } }, configHash: 'h', seed: 0, subset: null, versions: {}, commit: 'c0ffee', result, seconds: 1,
    });
    const fpDeploy = { model: 'float', execution: 'float32', pipeline: 'rs-opencv-linear', note: 'the FP model under rpi5-tflite: float32 behind the target pipeline' };
    const qDeploy = { model: 'deployed', execution: 'integer', pipeline: 'rs-opencv-linear', conversions: [], calibration: null };
    for (const [target, fpTop1, qTop1, qWcar] of [['reference', 90, 88, 30], ['rpi5-tflite', 89, 87, 25]] as const) {
      const dep = target === 'reference' ? {} : { deploy: fpDeploy };
      const qdep = target === 'reference' ? {} : { deploy: qDeploy };
      put('fp', 32, 'clean', target, { suite: 'clean', top1: fpTop1, n: 100, ...dep });
      put('lsq', 8, 'clean', target, { suite: 'clean', top1: qTop1, n: 100, ...qdep });
      put('lsq', 8, 'adversarial', target, { suite: 'adversarial', n: 100, attacks: ['fgsm'], clean: qTop1, wcar: { small: qWcar }, wcar_ra: {}, ar: { fgsm: { small: qWcar } }, ...qdep });
      put('lsq', 8, 'corruption', target, { suite: 'corruption', n: 100, nr: target === 'reference' ? 70 : 69, accuracy: {}, ...qdep });
      if (target === 'reference') put('fp', 32, 'adversarial', target, { suite: 'adversarial', n: 100, attacks: ['fgsm'], clean: 90, wcar: { small: 50 }, wcar_ra: {}, ar: { fgsm: { small: 50 } } });
      else put('fp', 32, 'adversarial', target, { suite: 'adversarial', target, not_applicable: true, same_as: 'resnet20/fp/32/adversarial/reference', reason: 'the FP model runs float32 under rpi5-tflite too', deploy: fpDeploy });
    }
    s.close();
    const out = join(dir, 'rep');
    const r = await writeReport({ store: file, out });
    assert.deepEqual(r.data.targets, ['reference', 'rpi5-tflite']);
    const md = readFileSync(join(out, 'tables.md'), 'utf8');
    const section = md.slice(md.indexOf('### resnet20 on target rpi5-tflite'));
    assert.match(section, /\| FP \| 89\.00 \[[^\]]+\] \| n\/a \| – \| – \|/);
    assert.match(section, /\| LSQ 8-bit \| 87\.00 \[[^\]]+\] \| 25\.00 \[[^\]]+\] \| 69\.00 \[[^\]]+\] \| – \|/);
    assert.match(section, /Quantized models: the deployed model \(integer execution, pipeline rs-opencv-linear\); WCAR is transfer/);
    assert.match(section, /FP: the FP model under rpi5-tflite: float32 behind the target pipeline\./);
    assert.match(section, /n\/a: FP adversarial: the FP model runs float32 under rpi5-tflite too\./);
    // the reference tables keep the reference numbers; the CSVs carry both targets
    assert.match(md, /### resnet20 on target reference: all four metrics\n\n[^\n]*\n[^\n]*\n\| FP \| 90\.00 \[[^\]]+\] \| 50\.00/);
    const wcar = readFileSync(join(out, 'table2-wcar.csv'), 'utf8');
    assert.match(wcar, /\nresnet20,rpi5-tflite,fp,32,,,,,,0\n/);
    assert.match(wcar, /\nresnet20,rpi5-tflite,lsq,8,25,/);
  });
});
