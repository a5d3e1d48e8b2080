/**
 * `qrobust run --targets reference,rpi5-tflite` (issue #13, per-target cells) on the smoke preset narrowed to
 * LSQ 8-bit: every cell stored exactly once, a run killed mid-way resumes, the report's per-target table shows the
 * target's numbers, the deployed clean top-1 equals `qrobust eval --target`, the adversarial cell on the target
 * equals `eval --suite adversarial --transfer-to <target>`, unknown targets are named usage errors.
 *
 * rpi5-tflite: integer (xnnpack-fp32 requantization, fast kernels) behind the rs-opencv-linear pipeline, so both
 * the deployed arithmetic and the target's preprocessing differ from `reference`.
 */
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { repoRoot } from '../../ts/native/binding.ts';
import { cli, oneJson, oneLineError } from './cli.ts';

const TARGET = 'rpi5-tflite';
const BASE = ['run', '--preset', 'smoke', '--bits', '8'];
const MODELS = ['fp/32', 'lsq/8'];
const SUITES = ['clean', 'adversarial', 'corruption', 'systematic'];
const cellsFor = (targets: string[]) => MODELS.flatMap((m) => SUITES.flatMap((s) => targets.map((t) => `resnet20/${m}/${s}/${t}`))).sort();

/** Starts `qrobust run` and SIGKILLs it once a progress line on stderr matches `re`. */
function runAndKill(args: string[], re: RegExp): Promise<{ signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['ts/cli/bin.mjs', ...args], { cwd: repoRoot, env: { ...process.env, OMP_NUM_THREADS: '2', QROBUST_PROGRESS: '' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    let killed = false;
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      if (!killed && re.test(err)) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.on('error', reject);
    child.on('exit', (_code, signal) => resolve({ signal, stderr: err }));
  });
}

type Row = { id: string; result: string };
function cells(db: string): Map<string, Record<string, any>> {
  const d = new Database(db, { readonly: true });
  const rows = d.prepare('SELECT id, result FROM cells ORDER BY id').all() as Row[];
  const dup = d.prepare('SELECT id, COUNT(*) AS c FROM cells GROUP BY id HAVING c > 1').all();
  d.close();
  assert.deepEqual(dup, []);
  return new Map(rows.map((r) => [r.id, JSON.parse(r.result)]));
}

describe(`e2e: qrobust run --targets reference,${TARGET} (smoke, LSQ 8-bit)`, function () {
  this.timeout(1800000);
  const dir = join(repoRoot, 'test', '.generated', 'e2e-run-targets');
  const db = join(dir, 't.db');
  const q = join(dir, 'lsq8.safetensors');

  before(() => {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
  });

  it('unknown target ids: a usage error naming --targets and every allowed id, before any work', () => {
    oneLineError(cli([...BASE, '--store', join(dir, 'bad.db'), '--targets', 'reference,rpi9-tflite']), 2,
      /^qrobust: Expected target ids among reference, x86-onnxruntime, rpi4-tflite, rpi4-tflite-noxnnpack, rpi5-tflite, jetson-orin-tensorrt, jetson-nano-fp16, rpi4-tflite-a72wrap for --targets but received 'rpi9-tflite'$/);
  });

  it('reference first, then reference + the target with a kill -9 mid-way: every cell once, the reference cells reused', async () => {
    const a = oneJson(cli([...BASE, '--store', db, '--json']));
    assert.deepEqual([a.cells_total, a.computed, a.reused], [8, 8, 0]);
    // killed once the quantized model's first target cell is stored (the FP line's 4 target cells before it)
    const k = await runAndKill([...BASE, '--targets', `reference,${TARGET}`, '--store', db], new RegExp(`^\\[\\d+/16\\] resnet20/lsq/8/clean/${TARGET} \\(.*\\): computed`, 'm'));
    assert.equal(k.signal, 'SIGKILL', k.stderr);
    const mid = cells(db);
    assert.ok(mid.size >= 13 && mid.size < 16, `cells stored before the kill: ${mid.size}`);
    const b = oneJson(cli([...BASE, '--targets', `reference,${TARGET}`, '--store', db, '--json']));
    assert.deepEqual([b.cells_total, b.reused, b.computed], [16, mid.size, 16 - mid.size]);
    const all = cells(db);
    assert.deepEqual([...all.keys()], cellsFor(['reference', TARGET]));
    const c = oneJson(cli([...BASE, '--targets', `reference,${TARGET}`, '--store', db, '--json']));
    assert.deepEqual([c.computed, c.reused], [0, 16]);
  });

  it('target cells record what ran: the deployed model (quantized), float32 behind the target pipeline (FP), transfer (adversarial), n/a with a reason', () => {
    const all = cells(db);
    const qc = all.get(`resnet20/lsq/8/clean/${TARGET}`)!;
    assert.equal(qc.target, TARGET);
    assert.deepEqual([qc.deploy.model, qc.deploy.execution, qc.deploy.pipeline], ['deployed', 'integer', 'rs-opencv-linear']);
    assert.ok(qc.deploy.conversions.length > 0 && qc.deploy.calibration.n === 256);
    const fc = all.get(`resnet20/fp/32/clean/${TARGET}`)!;
    assert.deepEqual([fc.deploy.model, fc.deploy.execution, fc.deploy.pipeline], ['float', 'float32', 'rs-opencv-linear']);
    assert.equal(typeof fc.top1, 'number');
    const fa = all.get(`resnet20/fp/32/adversarial/${TARGET}`)!;
    assert.equal(fa.not_applicable, true);
    assert.equal(fa.same_as, 'resnet20/fp/32/adversarial/reference');
    assert.match(fa.reason, /float32/);
    const qa = all.get(`resnet20/lsq/8/adversarial/${TARGET}`)!;
    const ra = all.get('resnet20/lsq/8/adversarial/reference')!;
    assert.equal(qa.mode, 'transfer');
    assert.equal(qa.target, TARGET);
    // the examples are the reference cell's: the crafting model's white-box numbers repeat it exactly
    assert.deepEqual(qa.crafted_on.wcar, ra.wcar);
    assert.deepEqual(qa.crafted_on.ar, ra.ar);
    assert.equal(qa.crafted_on.clean, ra.clean);
    for (const s of ['corruption', 'systematic']) {
      const r = all.get(`resnet20/lsq/8/${s}/${TARGET}`)!;
      assert.equal(r.deploy.model, 'deployed');
      assert.equal(typeof (s === 'corruption' ? r.nr : r.sr), 'number');
    }
  });

  it("the deployed clean top-1 and the transfer numbers equal qrobust eval --target / --transfer-to on the store's checkpoint", () => {
    const d = new Database(db, { readonly: true });
    const blob = (d.prepare('SELECT checkpoint FROM models WHERE id = ?').get('resnet20/lsq/8') as { checkpoint: Buffer }).checkpoint;
    d.close();
    writeFileSync(q, blob);
    const all = cells(db);
    const clean = all.get(`resnet20/lsq/8/clean/${TARGET}`)!;
    const e = oneJson(cli(['eval', '--model', q, '--target', TARGET, '--test-limit', String(clean.n), '--seed', '0', '--json']));
    assert.equal(e.n, clean.n);
    assert.equal(e.top1, clean.top1);
    assert.deepEqual(e.subset, clean.subset);
    const adv = all.get(`resnet20/lsq/8/adversarial/${TARGET}`)!;
    const t = oneJson(cli(['eval', '--model', q, '--suite', 'adversarial', '--attacks', 'fgsm,pgd-linf', '--magnitudes', 'small', '--pgd-steps', '3',
      '--test-limit', String(adv.n), '--seed', '0', '--batch', '8', '--transfer-to', TARGET, '--json']));
    const tr = t.transfer[`target:${TARGET}`];
    assert.deepEqual([tr.clean, tr.ar, tr.wcar], [adv.clean, adv.ar, adv.wcar]);
  });

  it("the report's per-target table shows the target's numbers", () => {
    const r = cli(['report', '--store', db, '--out', join(dir, 'rep')]);
    assert.equal(r.code, 0, r.stderr);
    const md = readFileSync(join(dir, 'rep', 'tables.md'), 'utf8');
    const all = cells(db);
    const section = md.slice(md.indexOf(`### resnet20 on target ${TARGET}: all four metrics`));
    assert.ok(section.length < md.length, md);
    const v = (x: number) => x.toFixed(2).replace('.', '\\.');
    const fp = all.get(`resnet20/fp/32/clean/${TARGET}`)!;
    assert.match(section, new RegExp(`\\| FP \\| ${v(fp.top1)} \\[[^\\]]+\\] \\| n/a \\| ${v(all.get(`resnet20/fp/32/corruption/${TARGET}`)!.nr)} `));
    const q8 = (s: string) => all.get(`resnet20/lsq/8/${s}/${TARGET}`)!;
    if (q8('clean').nc) assert.match(section, /\| LSQ 8-bit \| NC \(/);
    else assert.match(section, new RegExp(`\\| LSQ 8-bit \\| ${v(q8('clean').top1)} \\[[^\\]]+\\] \\| ${v(q8('adversarial').wcar.small)} \\[[^\\]]+\\] \\| ${v(q8('corruption').nr)} \\[[^\\]]+\\] \\| ${v(q8('systematic').sr)}`));
    assert.match(section, /WCAR is transfer/);
  });

  it('the FP model under jetson-nano-fp16: its binary16 float graph behind the target pipeline, the adversarial cell as transfer', () => {
    const r = oneJson(cli(['run', '--preset', 'smoke', '--methods', 'none', '--targets', 'jetson-nano-fp16', '--suites', 'clean,adversarial', '--store', db, '--json']));
    assert.deepEqual([r.cells_total, r.computed, r.models.reused], [2, 2, 1]);
    const all = cells(db);
    const c = all.get('resnet20/fp/32/clean/jetson-nano-fp16')!;
    assert.deepEqual([c.deploy.model, c.deploy.execution, c.deploy.pipeline], ['float', 'fp16', 'dec-nvjpeg-like']);
    assert.match(c.deploy.conversions.join(' '), /binary16/);
    assert.equal(typeof c.top1, 'number');
    const a = all.get('resnet20/fp/32/adversarial/jetson-nano-fp16')!;
    assert.equal(a.not_applicable, undefined);
    assert.equal(a.mode, 'transfer');
    const ref = all.get('resnet20/fp/32/adversarial/reference')!;
    assert.deepEqual(a.crafted_on.wcar, ref.wcar);
    assert.ok(Math.abs(a.clean - ref.clean) <= 100 / ref.n * 2, `fp16 clean ${a.clean} vs float32 ${ref.clean}`);
  });
});
