/**
 * `qrobust status --store <db> [--json]`: cells total / done / running of a store. "Total" is the grid
 * recorded by the last `run` on the store (its preset narrowed by its flags, all shards); "running" counts the
 * claims of live processes on this host (a killed run's claims are stale and are not counted).
 */
import { hostname } from 'node:os';
import { Option, type Command } from 'commander';
import { QrobustError } from '../util/errors.ts';
import { ResultStore } from '../store/store.ts';
import { gridModels, modelCells, type GridSpec } from '../runner/grid.ts';

/** The status object (`--json`). */
export interface StoreStatus {
  store: string;
  schema_version: number;
  preset: string | null;
  cells_total: number | null;
  done: number;
  running: number;
  stale_claims: number;
  nc: number;
  models: { done: number; nc: number };
  by_suite: Record<string, number>;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Reads a store's status.
 * @throws the store's named errors (missing, corrupt, other schema)
 */
export function storeStatus(file: string): StoreStatus {
  const s = ResultStore.open(file, { readonly: true });
  try {
    const meta = s.meta();
    let total: number | null = null;
    let preset: string | null = null;
    const last = s.getMeta('last_run');
    if (last) {
      let j: { preset?: string; grid?: GridSpec };
      try {
        j = JSON.parse(last) as typeof j;
      } catch {
        throw new QrobustError(`${file}: meta.last_run is not valid JSON`);
      }
      preset = j.preset ?? null;
      if (j.grid) total = gridModels(j.grid).reduce((acc, m) => acc + new Set([...modelCells(m, j.grid!).map((c) => c.id), ...j.grid!.targets.map((t) => `${m.id}/clean/${t}`)]).size, 0);
    }
    const cells = s.cells();
    const host = hostname();
    const claims = s.claims().filter((c) => !cells.some((x) => x.id === c.id));
    const live = claims.filter((c) => c.host === host && alive(c.pid));
    const bySuite: Record<string, number> = {};
    for (const c of cells) bySuite[c.suite] = (bySuite[c.suite] ?? 0) + 1;
    const models = s.models();
    return {
      store: file, schema_version: Number(meta.schema_version), preset, cells_total: total, done: cells.length, running: live.length,
      stale_claims: claims.length - live.length, nc: cells.filter((c) => c.result.nc === true).length,
      models: { done: models.length, nc: models.filter((m) => m.nc).length }, by_suite: bySuite,
    };
  } finally {
    s.close();
  }
}

/**
 * Registers `qrobust status`.
 * @param program the root commander program
 */
export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description('cells total / done / running of a result store')
    .addOption(new Option('--store <db>', 'result store').default('results.db'))
    .addOption(new Option('--json', 'print one JSON object'))
    .action((o: { store: string; json?: boolean }) => {
      const st = storeStatus(o.store);
      if (o.json) process.stdout.write(`${JSON.stringify(st)}\n`);
      else {
        process.stdout.write(`${o.store} (schema ${st.schema_version}${st.preset ? `, preset ${st.preset}` : ''}): ${st.done}${st.cells_total !== null ? ` / ${st.cells_total}` : ''} cells done, ${st.running} running${st.stale_claims ? ` (${st.stale_claims} stale claims of stopped runs)` : ''}, ${st.nc} NC; ${st.models.done} models (${st.models.nc} NC)\n`);
        process.stdout.write(`  by suite: ${Object.entries(st.by_suite).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}\n`);
      }
    });
}
