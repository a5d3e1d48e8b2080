/**
 * `qrobust merge --store <into.db> <from.db>... [--json]`: copies into the first store every model and cell
 * of the others that it lacks (one transaction per source). A cell present in both with the same config is
 * kept once; with different configs the merge stops with a named error and writes nothing from that source.
 */
import { Option, type Command } from 'commander';
import { UsageError } from '../util/errors.ts';
import { ResultStore } from '../store/store.ts';

/**
 * Merges stores.
 * @returns per source: cells and models added / already present
 * @throws UsageError without sources or when a source is the target; the stores' named errors
 */
export function mergeStores(into: string, from: readonly string[]): { source: string; cellsAdded: number; cellsPresent: number; modelsAdded: number; modelsPresent: number }[] {
  if (from.length === 0) throw new UsageError('Expected at least one store to merge from (qrobust merge --store <into.db> <from.db>...) but received none');
  for (const f of from) if (f === into) throw new UsageError(`Expected stores other than --store ${into} to merge from but received '${f}'`);
  const sources = from.map((f) => ResultStore.open(f, { readonly: true }));
  try {
    const target = ResultStore.open(into, { create: true });
    try {
      return sources.map((s) => ({ source: s.file, ...target.mergeFrom(s) }));
    } finally {
      target.close();
    }
  } finally {
    for (const s of sources) s.close();
  }
}

/**
 * Registers `qrobust merge`.
 * @param program the root commander program
 */
export function registerMergeCommand(program: Command): void {
  program
    .command('merge')
    .description('combine result stores (e.g. the shards of a run) into --store')
    .argument('<from...>', 'stores to copy from')
    .addOption(new Option('--store <db>', 'the store to merge into (created when missing)').default('results.db'))
    .addOption(new Option('--json', 'print one JSON object'))
    .action((from: string[], o: { store: string; json?: boolean }) => {
      const r = mergeStores(o.store, from);
      if (o.json) process.stdout.write(`${JSON.stringify({ store: o.store, sources: r })}\n`);
      else for (const x of r) process.stdout.write(`${x.source}: ${x.cellsAdded} cells added (${x.cellsPresent} already there), ${x.modelsAdded} models added (${x.modelsPresent} already there) -> ${o.store}\n`);
    });
}
