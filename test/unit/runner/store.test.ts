import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ResultStore, StoreConfigMismatchError, StoreCorruptError, StoreSchemaError, STORE_SCHEMA_VERSION, configHash } from '../../../ts/store/store.ts';
import { mergeStores } from '../../../ts/cli/merge.ts';

const sha = (f: string): string => createHash('sha256').update(readFileSync(f)).digest('hex');

function cell(id: string, hash = 'h1', result: Record<string, unknown> = { top1: 50, n: 10 }) {
  const [arch, method, bits, suite, target] = id.split('/');
  return { id, arch: arch!, method: method!, bits: Number(bits), suite: suite!, target: target!, config: { x: 1 }, configHash: hash, seed: 0, subset: null, versions: { node: '20' }, commit: null, result, seconds: 1 };
}

describe('runner: result store', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'qrb-store-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates a versioned WAL store; a cell is written once and read back', () => {
    const f = join(dir, 'a.db');
    const s = ResultStore.open(f, { create: true });
    assert.equal(s.meta().format, 'qrobust-store');
    assert.equal(s.meta().schema_version, String(STORE_SCHEMA_VERSION));
    assert.equal(s.putCell(cell('r/fp/32/clean/reference')), true);
    assert.equal(s.putCell(cell('r/fp/32/clean/reference')), false, 'an identical second write is a no-op');
    assert.throws(() => s.putCell(cell('r/fp/32/clean/reference', 'h2')), StoreConfigMismatchError);
    s.close();
    const db = new Database(f, { readonly: true });
    assert.equal((db.pragma('journal_mode', { simple: true }) as string).toLowerCase(), 'wal');
    db.close();
    const r = ResultStore.open(f);
    const cells = r.cells();
    assert.equal(cells.length, 1);
    assert.deepEqual(cells[0]!.result, { top1: 50, n: 10 });
    assert.equal(cells[0]!.bits, 32);
    r.close();
  });

  it('keeps checkpoint bytes of models and drops the claim in the same transaction', () => {
    const s = ResultStore.open(join(dir, 'm.db'), { create: true });
    s.claim('r/fp/32');
    assert.equal(s.claims().length, 1);
    const bytes = Uint8Array.from({ length: 1000 }, (_, i) => i % 251);
    s.putModel({ id: 'r/fp/32', arch: 'r', method: 'fp', bits: 32, config: {}, configHash: 'h', seed: 0, record: { a: 1 }, nc: false, versions: {}, commit: null, seconds: 0 }, bytes);
    assert.deepEqual(s.checkpoint('r/fp/32'), bytes);
    assert.equal(s.claims().length, 0);
    assert.equal(s.models()[0]!.record.a, 1);
    s.close();
  });

  it('an older schema is a named error and the file is not modified', () => {
    const f = join(dir, 'old.db');
    const db = new Database(f);
    db.exec("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL); INSERT INTO meta VALUES ('format', 'qrobust-store'), ('schema_version', '1'); CREATE TABLE cells (id TEXT PRIMARY KEY, result TEXT);");
    db.close();
    const before = sha(f);
    assert.throws(() => ResultStore.open(f, { create: true }), (e: unknown) => e instanceof StoreSchemaError && /schema version 1/.test(e.message) && /reads version 2/.test(e.message));
    assert.equal(sha(f), before);
  });

  it('a corrupt file, a foreign SQLite database and a damaged database are named errors, never overwritten', () => {
    const junk = join(dir, 'junk.db');
    writeFileSync(junk, Buffer.from('this is not a database at all, just text\n'.repeat(50)));
    const j0 = sha(junk);
    assert.throws(() => ResultStore.open(junk, { create: true }), (e: unknown) => e instanceof StoreCorruptError && /SQLite header/.test(e.message));
    assert.equal(sha(junk), j0);

    const foreign = join(dir, 'foreign.db');
    const db = new Database(foreign);
    db.exec('CREATE TABLE t (a INTEGER); INSERT INTO t VALUES (1);');
    db.close();
    const f0 = sha(foreign);
    assert.throws(() => ResultStore.open(foreign, { create: true }), (e: unknown) => e instanceof StoreCorruptError && /without the qrobust 'meta' table/.test(e.message));
    assert.equal(sha(foreign), f0);

    // a real store whose pages were overwritten after the header
    const dam = join(dir, 'damaged.db');
    const s = ResultStore.open(dam, { create: true });
    for (let i = 0; i < 50; i++) s.putCell(cell(`r/fp/32/s${i}/reference`, 'h', { pad: 'x'.repeat(500) }));
    s.close();
    const b = readFileSync(dam);
    for (let i = 200; i < b.length; i += 7) b[i] = 0xa5;
    writeFileSync(dam, b);
    const d0 = sha(dam);
    assert.throws(() => ResultStore.open(dam, { create: true }), StoreCorruptError);
    assert.equal(sha(dam), d0);
  });

  it('a missing store is a usage error unless created', () => {
    assert.throws(() => ResultStore.open(join(dir, 'none.db')), /Expected an existing store for --store/);
  });

  it('merge: combines disjoint stores, keeps shared identical cells once, refuses conflicting configs', () => {
    const a = join(dir, 'a.db');
    const b = join(dir, 'b.db');
    const into = join(dir, 'all.db');
    const sa = ResultStore.open(a, { create: true });
    sa.putCell(cell('r/fp/32/clean/reference'));
    sa.putCell(cell('r/lsq/2/clean/reference'));
    sa.close();
    const sb = ResultStore.open(b, { create: true });
    sb.putCell(cell('r/fp/32/clean/reference'));
    sb.putCell(cell('r/lsq/4/clean/reference'));
    sb.close();
    const r = mergeStores(into, [a, b]);
    assert.deepEqual(r.map((x) => [x.cellsAdded, x.cellsPresent]), [[2, 0], [1, 1]]);
    const s = ResultStore.open(into);
    assert.deepEqual(s.cells().map((c) => c.id), ['r/fp/32/clean/reference', 'r/lsq/2/clean/reference', 'r/lsq/4/clean/reference']);
    s.close();
    const c = join(dir, 'c.db');
    const sc = ResultStore.open(c, { create: true });
    sc.putCell(cell('r/lsq/8/clean/reference'));
    sc.putCell(cell('r/lsq/2/clean/reference', 'other'));
    sc.close();
    const before = sha(into);
    assert.throws(() => mergeStores(into, [c]), StoreConfigMismatchError);
    const s2 = ResultStore.open(into);
    assert.equal(s2.cells().length, 3, 'nothing of the conflicting source was written');
    s2.close();
    assert.ok(before.length > 0);
  });

  it('configHash is independent of key order', () => {
    assert.equal(configHash({ a: 1, b: { c: 2, d: [1, 2] } }), configHash({ b: { d: [1, 2], c: 2 }, a: 1 }));
    assert.notEqual(configHash({ a: 1 }), configHash({ a: 2 }));
  });
});
