/**
 * The benchmark's result store: one SQLite file (better-sqlite3, WAL journal) with a versioned schema.
 *
 * - `meta`: `format` = `qrobust-store`, `schema_version` (see {@link STORE_SCHEMA_VERSION}), `created`.
 * - `models`: one row per trained model of the grid (the FP model, every QAT cell), keyed by its id
 *   (`resnet20/fp/32`, `resnet20/lsq/4`), with the checkpoint bytes (safetensors) as a BLOB, the training
 *   record (JSON), the config and its hash, seed, versions and git commit.
 * - `cells`: one row per evaluation cell (`<arch>/<method>/<bits>/<suite>/<target>`), with the suite's
 *   JSON result, config + hash, seed, subset, versions, git commit and seconds.
 * - `claims`: which process is computing which cell now (pid, host, since); a row is removed with the cell's
 *   insert, in the same transaction. Rows of a killed process stay until the next run of the same cell
 *   replaces them, and `status` only counts claims of live processes on this host as running.
 *
 * Every model and cell is written in ONE transaction, and the primary key forbids a second row: a process
 * killed at any moment leaves either the complete row or nothing, so a rerun recomputes exactly the
 * missing ones. Opening never rewrites an existing file: a file that is not a SQLite database, a database
 * that is not a qrobust store, or a store of another schema version is a named error.
 */
import { existsSync, openSync, readSync, closeSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type BetterSqlite3 from 'better-sqlite3';
import { QrobustError, UsageError } from '../util/errors.ts';

const require = createRequire(import.meta.url);

/** The schema version this build reads and writes. */
export const STORE_SCHEMA_VERSION = 2;
/** The `format` value in `meta`. */
export const STORE_FORMAT = 'qrobust-store';

/** The store file is not a SQLite database, or its content is damaged. */
export class StoreCorruptError extends QrobustError {
  constructor(readonly file: string, detail: string) {
    super(`${file} is not a usable qrobust store: ${detail}; it was left untouched (use another --store, or move it away)`);
    this.name = 'StoreCorruptError';
  }
}

/** The store was written by another schema version. */
export class StoreSchemaError extends QrobustError {
  constructor(readonly file: string, readonly found: string) {
    super(`${file} is a qrobust store of schema version ${found}, but this build reads version ${STORE_SCHEMA_VERSION} only; it was left untouched (use another --store, or the qrobust version that wrote it)`);
    this.name = 'StoreSchemaError';
  }
}

/** A cell or model already in the store was computed with another configuration. */
export class StoreConfigMismatchError extends QrobustError {
  constructor(readonly file: string, readonly id: string, detail: string) {
    super(`${file} already holds ${id} computed with another configuration (${detail}); use another --store for a different budget, seed or data`);
    this.name = 'StoreConfigMismatchError';
  }
}

/** A stable JSON encoding (sorted keys) and its SHA-256, used to compare configurations. */
export function stableJson(v: unknown): string {
  const norm = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(norm);
    if (x && typeof x === 'object') return Object.fromEntries(Object.keys(x as object).sort().map((k) => [k, norm((x as Record<string, unknown>)[k])]));
    return x;
  };
  return JSON.stringify(norm(v));
}

/**
 * SHA-256 (hex, first 16 digits) of a configuration's stable JSON.
 * @example
 * configHash({ b: 1, a: 2 }) === configHash({ a: 2, b: 1 }) // true
 */
export function configHash(v: unknown): string {
  return createHash('sha256').update(stableJson(v)).digest('hex').slice(0, 16);
}

/** One evaluation cell as stored. */
export interface CellRow {
  id: string;
  arch: string;
  method: string;
  bits: number;
  suite: string;
  target: string;
  config: Record<string, unknown>;
  configHash: string;
  seed: number;
  subset: unknown;
  versions: Record<string, string | null>;
  commit: string | null;
  result: Record<string, unknown>;
  seconds: number;
  /** CPU seconds of the process (all threads) spent on the cell; null when not measured */
  cpuSeconds?: number | null;
  finishedAt: string;
}

/** One trained model as stored. */
export interface ModelRow {
  id: string;
  arch: string;
  method: string;
  bits: number;
  config: Record<string, unknown>;
  configHash: string;
  seed: number;
  record: Record<string, unknown>;
  nc: boolean;
  versions: Record<string, string | null>;
  commit: string | null;
  seconds: number;
  /** CPU seconds of the process (all threads) spent training; null when not measured */
  cpuSeconds?: number | null;
  finishedAt: string;
}

/** A claim row. */
export interface ClaimRow {
  id: string;
  pid: number;
  host: string;
  since: string;
}

const DDL = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE models (
  id TEXT PRIMARY KEY, arch TEXT NOT NULL, method TEXT NOT NULL, bits INTEGER NOT NULL,
  config TEXT NOT NULL, config_hash TEXT NOT NULL, seed INTEGER NOT NULL, record TEXT NOT NULL, nc INTEGER NOT NULL,
  versions TEXT NOT NULL, git_commit TEXT, seconds REAL NOT NULL, cpu_seconds REAL, finished_at TEXT NOT NULL, checkpoint BLOB
);
CREATE TABLE cells (
  id TEXT PRIMARY KEY, arch TEXT NOT NULL, method TEXT NOT NULL, bits INTEGER NOT NULL, suite TEXT NOT NULL, target TEXT NOT NULL,
  config TEXT NOT NULL, config_hash TEXT NOT NULL, seed INTEGER NOT NULL, subset TEXT NOT NULL, versions TEXT NOT NULL,
  git_commit TEXT, result TEXT NOT NULL, seconds REAL NOT NULL, cpu_seconds REAL, finished_at TEXT NOT NULL
);
CREATE TABLE claims (id TEXT PRIMARY KEY, pid INTEGER NOT NULL, host TEXT NOT NULL, since TEXT NOT NULL);
`;

const SQLITE_MAGIC = 'SQLite format 3\u0000';

function loadDriver(): typeof BetterSqlite3 {
  try {
    return require('better-sqlite3') as typeof BetterSqlite3;
  } catch (err) {
    throw new QrobustError(`the result store needs better-sqlite3 (npm ci builds it): ${err instanceof Error ? err.message : String(err)}`);
  }
}

function parseJson<T>(file: string, what: string, s: string): T {
  try {
    return JSON.parse(s) as T;
  } catch {
    throw new StoreCorruptError(file, `${what} is not valid JSON`);
  }
}

/**
 * The result store.
 * @example
 * const s = ResultStore.open('/tmp/r.db', { create: true });
 * s.hasCell('resnet20/fp/32/clean/reference') // false
 * s.close();
 */
export class ResultStore {
  private constructor(readonly file: string, private readonly db: BetterSqlite3.Database) {}

  /**
   * Opens a store; creates it when the file does not exist and `create` is set.
   * @param file the `.db` path
   * @param opts `create`: create a missing file (run); false: a missing file is an error (status, report);
   *   `readonly`: open read-only
   * @throws UsageError for a missing file without `create`; StoreCorruptError for a file that is not a
   *   SQLite database, is damaged, or is a database without the qrobust tables; StoreSchemaError for
   *   another schema version. The file is never modified in these cases.
   */
  static open(file: string, opts: { create?: boolean; readonly?: boolean } = {}): ResultStore {
    if (typeof file !== 'string' || file.length === 0) throw new UsageError('Expected a store file for --store but received nothing');
    const Driver = loadDriver();
    const exists = existsSync(file);
    if (!exists && !opts.create) throw new UsageError(`Expected an existing store for --store but received '${file}' (not found)`);
    if (exists) {
      const st = statSync(file);
      if (!st.isFile()) throw new UsageError(`Expected a store file for --store but '${file}' is not a file`);
      if (st.size > 0) {
        const head = Buffer.alloc(16);
        const fd = openSync(file, 'r');
        try {
          readSync(fd, head, 0, 16, 0);
        } finally {
          closeSync(fd);
        }
        if (head.toString('latin1') !== SQLITE_MAGIC) throw new StoreCorruptError(file, 'the file does not start with the SQLite header');
      } else if (!opts.create) {
        throw new StoreCorruptError(file, 'the file is empty');
      }
    }
    let db: BetterSqlite3.Database;
    try {
      db = new Driver(file, { readonly: !!opts.readonly && exists, fileMustExist: exists });
    } catch (err) {
      throw new StoreCorruptError(file, `SQLite cannot open it (${err instanceof Error ? err.message : String(err)})`);
    }
    try {
      const store = new ResultStore(file, db);
      store.init(exists && statSync(file).size > 0, !!opts.readonly);
      return store;
    } catch (err) {
      db.close();
      throw err;
    }
  }

  private init(existing: boolean, readonly: boolean): void {
    const db = this.db;
    let tables: string[];
    try {
      const ok = db.pragma('quick_check', { simple: true });
      if (ok !== 'ok') throw new StoreCorruptError(this.file, `SQLite integrity check: ${String(ok)}`);
      tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((r) => r.name);
    } catch (err) {
      if (err instanceof StoreCorruptError) throw err;
      throw new StoreCorruptError(this.file, `SQLite cannot read it (${err instanceof Error ? err.message : String(err)})`);
    }
    if (!existing || tables.length === 0) {
      if (readonly) throw new StoreCorruptError(this.file, 'it holds no tables');
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.transaction(() => {
        db.exec(DDL);
        const put = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
        put.run('format', STORE_FORMAT);
        put.run('schema_version', String(STORE_SCHEMA_VERSION));
        put.run('created', new Date().toISOString());
      })();
      return;
    }
    if (!tables.includes('meta')) throw new StoreCorruptError(this.file, `a SQLite database without the qrobust 'meta' table (tables: ${tables.join(', ')})`);
    const meta = new Map((db.prepare('SELECT key, value FROM meta').all() as { key: string; value: string }[]).map((r) => [r.key, r.value]));
    if (meta.get('format') !== STORE_FORMAT) throw new StoreCorruptError(this.file, `meta.format is '${meta.get('format') ?? '(absent)'}', expected '${STORE_FORMAT}'`);
    const v = meta.get('schema_version') ?? '(absent)';
    if (v !== String(STORE_SCHEMA_VERSION)) throw new StoreSchemaError(this.file, v);
    for (const t of ['models', 'cells', 'claims']) if (!tables.includes(t)) throw new StoreCorruptError(this.file, `schema ${v} but the '${t}' table is missing`);
    if (!readonly) {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
    }
  }

  /** Closes the database (checkpoints the WAL). */
  close(): void {
    if (this.db.open) this.db.close();
  }

  /** The `meta` table as an object. */
  meta(): Record<string, string> {
    return Object.fromEntries((this.db.prepare('SELECT key, value FROM meta').all() as { key: string; value: string }[]).map((r) => [r.key, r.value]));
  }

  /** Whether an evaluation cell is stored. */
  hasCell(id: string): boolean {
    return this.db.prepare('SELECT 1 FROM cells WHERE id = ?').get(id) !== undefined;
  }

  /** The config hash of a stored cell, or null. */
  cellHash(id: string): string | null {
    const r = this.db.prepare('SELECT config_hash FROM cells WHERE id = ?').get(id) as { config_hash: string } | undefined;
    return r ? r.config_hash : null;
  }

  /** The config hash of a stored model, or null. */
  modelHash(id: string): string | null {
    const r = this.db.prepare('SELECT config_hash FROM models WHERE id = ?').get(id) as { config_hash: string } | undefined;
    return r ? r.config_hash : null;
  }

  /**
   * Inserts a row once, in one transaction that also drops its claim: an existing row with the same config
   * hash is kept (false), one with another hash is an error.
   */
  private putOnce(table: 'cells' | 'models', id: string, hash: string, insert: () => void): boolean {
    return this.db.transaction(() => {
      const h = table === 'cells' ? this.cellHash(id) : this.modelHash(id);
      if (h !== null && h !== hash) throw new StoreConfigMismatchError(this.file, id, `stored ${h}, now ${hash}`);
      if (h === null) insert();
      this.db.prepare('DELETE FROM claims WHERE id = ?').run(id);
      return h === null;
    })();
  }

  /**
   * Stores one finished cell, in one transaction that also drops its claim.
   * @throws StoreConfigMismatchError when the cell is already stored with another config hash
   * @returns false when an identical-config row was already there (nothing written)
   */
  putCell(row: Omit<CellRow, 'finishedAt'>): boolean {
    return this.putOnce('cells', row.id, row.configHash, () => {
      this.db.prepare(`INSERT INTO cells (id, arch, method, bits, suite, target, config, config_hash, seed, subset, versions, git_commit, result, seconds, cpu_seconds, finished_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(
        row.id, row.arch, row.method, row.bits, row.suite, row.target, JSON.stringify(row.config), row.configHash, row.seed,
        JSON.stringify(row.subset ?? null), JSON.stringify(row.versions), row.commit, JSON.stringify(row.result), row.seconds, row.cpuSeconds ?? null, new Date().toISOString(),
      );
    });
  }

  /**
   * Stores one trained model (checkpoint bytes + record) in one transaction.
   * @returns false when an identical-config row was already there
   * @throws StoreConfigMismatchError when it is stored with another config hash
   */
  putModel(row: Omit<ModelRow, 'finishedAt'>, checkpoint: Uint8Array | null): boolean {
    return this.putOnce('models', row.id, row.configHash, () => {
      this.db.prepare(`INSERT INTO models (id, arch, method, bits, config, config_hash, seed, record, nc, versions, git_commit, seconds, cpu_seconds, finished_at, checkpoint)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(
        row.id, row.arch, row.method, row.bits, JSON.stringify(row.config), row.configHash, row.seed, JSON.stringify(row.record), row.nc ? 1 : 0,
        JSON.stringify(row.versions), row.commit, row.seconds, row.cpuSeconds ?? null, new Date().toISOString(), checkpoint ? Buffer.from(checkpoint.buffer, checkpoint.byteOffset, checkpoint.byteLength) : null,
      );
    });
  }

  /** Records that this process is computing `id` now (replacing a stale claim). */
  claim(id: string): void {
    this.db.prepare('INSERT OR REPLACE INTO claims (id, pid, host, since) VALUES (?, ?, ?, ?)').run(id, process.pid, hostname(), new Date().toISOString());
  }

  /** Drops this process's claim of `id` (after a failure). */
  release(id: string): void {
    this.db.prepare('DELETE FROM claims WHERE id = ? AND pid = ?').run(id, process.pid);
  }

  /** Every stored cell, ordered by id. */
  cells(): CellRow[] {
    const rows = this.db.prepare('SELECT * FROM cells ORDER BY id').all() as Record<string, unknown>[];
    return rows.map((r) => ({
      id: r.id as string, arch: r.arch as string, method: r.method as string, bits: r.bits as number, suite: r.suite as string, target: r.target as string,
      config: parseJson(this.file, `cell ${r.id as string} config`, r.config as string), configHash: r.config_hash as string, seed: r.seed as number,
      subset: parseJson(this.file, `cell ${r.id as string} subset`, r.subset as string), versions: parseJson(this.file, `cell ${r.id as string} versions`, r.versions as string),
      commit: (r.git_commit as string | null) ?? null, result: parseJson(this.file, `cell ${r.id as string} result`, r.result as string),
      seconds: r.seconds as number, cpuSeconds: (r.cpu_seconds as number | null) ?? null, finishedAt: r.finished_at as string,
    }));
  }

  /** Every stored model's row (without the checkpoint bytes), ordered by id. */
  models(): ModelRow[] {
    const rows = this.db.prepare('SELECT id, arch, method, bits, config, config_hash, seed, record, nc, versions, git_commit, seconds, cpu_seconds, finished_at FROM models ORDER BY id').all() as Record<string, unknown>[];
    return rows.map((r) => ({
      id: r.id as string, arch: r.arch as string, method: r.method as string, bits: r.bits as number,
      config: parseJson(this.file, `model ${r.id as string} config`, r.config as string), configHash: r.config_hash as string, seed: r.seed as number,
      record: parseJson(this.file, `model ${r.id as string} record`, r.record as string), nc: r.nc === 1,
      versions: parseJson(this.file, `model ${r.id as string} versions`, r.versions as string), commit: (r.git_commit as string | null) ?? null,
      seconds: r.seconds as number, cpuSeconds: (r.cpu_seconds as number | null) ?? null, finishedAt: r.finished_at as string,
    }));
  }

  /** A stored model's checkpoint bytes, or null when the model is absent or has none (NC). */
  checkpoint(id: string): Uint8Array | null {
    const r = this.db.prepare('SELECT checkpoint FROM models WHERE id = ?').get(id) as { checkpoint: Buffer | null } | undefined;
    return r?.checkpoint ? new Uint8Array(r.checkpoint) : null;
  }

  /** Whether a model is stored. */
  hasModel(id: string): boolean {
    return this.db.prepare('SELECT 1 FROM models WHERE id = ?').get(id) !== undefined;
  }

  /** The claims table. */
  claims(): ClaimRow[] {
    return this.db.prepare('SELECT id, pid, host, since FROM claims ORDER BY id').all() as ClaimRow[];
  }

  /** A value of the `runs` log in meta (`run_config`), or null. */
  getMeta(key: string): string | null {
    const r = this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined;
    return r ? r.value : null;
  }

  /** Sets a meta value (not `format` / `schema_version`). */
  setMeta(key: string, value: string): void {
    if (key === 'format' || key === 'schema_version') throw new UsageError(`meta key '${key}' is reserved`);
    this.db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)').run(key, value);
  }

  /**
   * Copies every model and cell of `other` that this store lacks (one transaction).
   * @returns counts of rows added and of rows already present with the same config
   * @throws StoreConfigMismatchError when both hold an id with different config hashes (nothing is written)
   */
  mergeFrom(other: ResultStore): { cellsAdded: number; cellsPresent: number; modelsAdded: number; modelsPresent: number } {
    const out = { cellsAdded: 0, cellsPresent: 0, modelsAdded: 0, modelsPresent: 0 };
    const src = other.db;
    const copy = (table: 'models' | 'cells'): [number, number] => {
      const cols = (this.db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name);
      const insert = this.db.prepare(`INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map((c) => `@${c}`).join(', ')})`);
      let added = 0;
      let present = 0;
      for (const r of src.prepare(`SELECT * FROM ${table} ORDER BY id`).iterate() as Iterable<Record<string, unknown>>) {
        const h = table === 'cells' ? this.cellHash(r.id as string) : this.modelHash(r.id as string);
        if (h !== null && h !== r.config_hash) throw new StoreConfigMismatchError(this.file, r.id as string, `here ${h}, in ${other.file} ${r.config_hash as string}`);
        if (h !== null) present++;
        else {
          insert.run(r);
          added++;
        }
      }
      return [added, present];
    };
    this.db.transaction(() => {
      [out.modelsAdded, out.modelsPresent] = copy('models');
      [out.cellsAdded, out.cellsPresent] = copy('cells');
    })();
    return out;
  }
}
