import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { repoRoot } from '../../ts/native/binding.ts';
import { REPORT_FILES } from '../../ts/report/report.ts';

/** The real entry point, as a user runs it. */
function cli(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['ts/cli/bin.mjs', ...args], { cwd: repoRoot, encoding: 'utf8', timeout: 600000, env: { ...process.env, QROBUST_PROGRESS: '' } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Starts `qrobust run` and SIGKILLs it once `k` cells have been reported finished on stderr. */
function runAndKill(args: string[], k: number): Promise<{ signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['ts/cli/bin.mjs', ...args], { cwd: repoRoot, env: { ...process.env, QROBUST_PROGRESS: '' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    let killed = false;
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      if (!killed && new RegExp(`^\\[${k}/\\d+\\] `, 'm').test(err)) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.on('error', reject);
    child.on('exit', (_code, signal) => resolve({ signal, stderr: err }));
  });
}

const sha = (f: string): string => createHash('sha256').update(readFileSync(f)).digest('hex');
const SMOKE_CELLS = ['fp/32', 'lsq/2', 'lsq/8'].flatMap((m) => ['clean', 'adversarial', 'corruption', 'systematic'].map((s) => `resnet20/${m}/${s}/reference`)).sort();

describe('e2e: qrobust run (smoke preset): kill -9 and resume, same seed twice, shards + merge, bad stores', function () {
  this.timeout(900000);
  const dir = join(repoRoot, 'test', '.generated', 'e2e-run');
  const a = join(dir, 'a.db');
  const b = join(dir, 'b.db');

  before(() => {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
  });

  it('killed with SIGKILL mid-way and started again: completes, every cell exactly once, finished cells reused', async () => {
    const k = await runAndKill(['run', '--preset', 'smoke', '--store', a], 3);
    assert.equal(k.signal, 'SIGKILL', k.stderr);
    const mid = new Database(a, { readonly: true });
    const doneBefore = (mid.prepare('SELECT id FROM cells').all() as { id: string }[]).map((r) => r.id);
    mid.close();
    assert.ok(doneBefore.length >= 3 && doneBefore.length < 12, `cells stored before the kill: ${doneBefore.length}`);

    const r = cli(['run', '--preset', 'smoke', '--store', a, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout.trim());
    assert.equal(s.cells_total, 12);
    assert.equal(s.reused, doneBefore.length);
    assert.equal(s.computed, 12 - doneBefore.length);

    const db = new Database(a, { readonly: true });
    const ids = (db.prepare('SELECT id FROM cells ORDER BY id').all() as { id: string }[]).map((x) => x.id);
    assert.deepEqual(ids, SMOKE_CELLS);
    assert.deepEqual(db.prepare('SELECT id, COUNT(*) AS c FROM cells GROUP BY id HAVING c > 1').all(), []);
    assert.equal((db.prepare('SELECT COUNT(*) AS c FROM models').get() as { c: number }).c, 3);
    for (const id of doneBefore) assert.ok(ids.includes(id));
    db.close();

    const st = cli(['status', '--store', a, '--json']);
    assert.equal(st.code, 0, st.stderr);
    const status = JSON.parse(st.stdout.trim());
    assert.equal(status.cells_total, 12);
    assert.equal(status.done, 12);
    assert.equal(status.running, 0);
    assert.equal(status.schema_version, 2);

    // a third run computes nothing
    const again = JSON.parse(cli(['run', '--preset', 'smoke', '--store', a, '--json']).stdout.trim());
    assert.deepEqual([again.computed, again.reused], [0, 12]);
  });

  it('the same seed twice (one run interrupted, one not) gives identical tables, CSVs, findings and figures', () => {
    const r = cli(['run', '--preset', 'smoke', '--store', b, '--out', join(dir, 'rep-b'), '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout.trim()).computed, 12);
    const ra = cli(['report', '--store', a, '--out', join(dir, 'rep-a'), '--json']);
    assert.equal(ra.code, 0, ra.stderr);
    for (const f of REPORT_FILES) {
      assert.ok(existsSync(join(dir, 'rep-a', f)), f);
      assert.equal(sha(join(dir, 'rep-a', f)), sha(join(dir, 'rep-b', f)), `${f} differs between the two runs`);
    }
    const md = readFileSync(join(dir, 'rep-a', 'tables.md'), 'utf8');
    assert.match(md, /### Table 1: clean top-1 accuracy/);
    assert.match(md, /\| LSQ \| (NC \()?\d+\.\d\d/);
  });

  it('--shard 1/2 and 2/2 into two stores, merged: the same report as the unsharded run', () => {
    const s1 = join(dir, 's1.db');
    const s2 = join(dir, 's2.db');
    const m = join(dir, 'merged.db');
    const r1 = cli(['run', '--preset', 'smoke', '--shard', '1/2', '--store', s1, '--json']);
    assert.equal(r1.code, 0, r1.stderr);
    const r2 = cli(['run', '--preset', 'smoke', '--shard', '2/2', '--store', s2, '--json']);
    assert.equal(r2.code, 0, r2.stderr);
    // lines dealt round-robin: fp and lsq/8 to shard 1, lsq/2 to shard 2 (which also needs the FP clean cell for NC)
    assert.equal(JSON.parse(r1.stdout.trim()).cells_total, 8);
    assert.equal(JSON.parse(r2.stdout.trim()).cells_total, 4);
    const mg = cli(['merge', '--store', m, s1, s2, '--json']);
    assert.equal(mg.code, 0, mg.stderr);
    const merged = JSON.parse(mg.stdout.trim());
    assert.equal(merged.sources[0].cellsAdded + merged.sources[1].cellsAdded, 12);
    const db = new Database(m, { readonly: true });
    assert.deepEqual((db.prepare('SELECT id FROM cells ORDER BY id').all() as { id: string }[]).map((x) => x.id), SMOKE_CELLS);
    db.close();
    const rep = cli(['report', '--store', m, '--out', join(dir, 'rep-m')]);
    assert.equal(rep.code, 0, rep.stderr);
    for (const f of ['tables.md', 'table1-clean.csv', 'table2-wcar.csv', 'table3-nr.csv', 'table4-sr.csv', 'findings.md']) {
      assert.equal(sha(join(dir, 'rep-m', f)), sha(join(dir, 'rep-b', f)), `${f} differs between the sharded and the plain run`);
    }
  });

  it('a corrupt store or a store of an older schema: a named error, exit 1, the file untouched', () => {
    const junk = join(dir, 'junk.db');
    writeFileSync(junk, 'not a database\n'.repeat(100));
    const h = sha(junk);
    const r = cli(['run', '--preset', 'smoke', '--store', junk]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr.trim(), /^qrobust: .*junk\.db is not a usable qrobust store: the file does not start with the SQLite header; it was left untouched/);
    assert.equal(sha(junk), h);

    const old = join(dir, 'old.db');
    const db = new Database(old);
    db.exec("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL); INSERT INTO meta VALUES ('format', 'qrobust-store'), ('schema_version', '1');");
    db.close();
    const h2 = sha(old);
    for (const args of [['run', '--preset', 'smoke', '--store', old], ['status', '--store', old], ['report', '--store', old, '--out', join(dir, 'rep-old')]]) {
      const x = cli(args);
      assert.equal(x.code, 1, x.stderr);
      assert.match(x.stderr.trim(), /old\.db is a qrobust store of schema version 1, but this build reads version 2 only; it was left untouched/);
    }
    assert.equal(sha(old), h2);
  });
});
