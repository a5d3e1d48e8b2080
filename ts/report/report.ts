/**
 * `qrobust report --store results.db --out report/`: the fixed report layout
 *
 *   report/tables.md            the four tables (Table 1 clean, 2 WCAR small, 3 NR, 4 SR) and the per-target tables
 *   report/table1-clean.csv, table2-wcar.csv, table3-nr.csv, table4-sr.csv
 *   report/results.json         every metric with its interval, the findings, the budgets, seeds, commits, versions
 *   report/fig1-ar.{svg,png}, fig2-corruptions.{svg,png}, fig3-systematic.{svg,png}
 *   report/findings.md
 *
 * Nothing time-dependent is written (no dates, no seconds), so the same store content gives the same bytes,
 * and the same seed twice gives identical tables.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ResultStore } from '../store/store.ts';
import { collect, type ReportData } from './collect.ts';
import { TABLES, tableCsv, tablesMarkdown } from './tables.ts';
import { findings, findingsMarkdown, type Finding } from './findings.ts';
import { writeFigures } from './figures.ts';

/** The files of the fixed layout (figures: the first architecture and target). */
export const REPORT_FILES = [
  'tables.md', 'table1-clean.csv', 'table2-wcar.csv', 'table3-nr.csv', 'table4-sr.csv', 'results.json',
  'fig1-ar.svg', 'fig1-ar.png', 'fig2-corruptions.svg', 'fig2-corruptions.png', 'fig3-systematic.svg', 'fig3-systematic.png', 'findings.md',
] as const;

function header(d: ReportData, title: string): string {
  const budgets = d.models.find((m) => m.method !== 'fp')?.budgets ?? d.models[0]?.budgets ?? {};
  const fpb = d.models.find((m) => m.method === 'fp')?.budgets ?? {};
  const b = (s: string, x: Record<string, unknown>): string => (x[s] ? JSON.stringify(x[s]) : '–');
  const grey = d.data.includes('fashion-mnist') ? '\n\nfashion-mnist is greyscale: its JPEGs have no chroma, so decoder noise (dec-*) is small on this set.' : '';
  return `# ${title}\n\nData ${d.data.join(', ') || '–'}; seed ${d.seeds.join(', ') || '–'}; ${d.cells} cells; git commit ${d.commits.join(', ') || 'unknown'}.\n\n` +
    `Budgets (FP model): clean ${b('clean', fpb)}, adversarial ${b('adversarial', fpb)}, corruption ${b('corruption', fpb)}, systematic ${b('systematic', fpb)}.\n` +
    `Budgets (quantized models): adversarial ${b('adversarial', budgets)}.${grey}`;
}

/**
 * Writes the report.
 * @param o `store` (opened read-only), `out` (created)
 * @returns the report data and findings
 * @throws the store's named errors (missing, corrupt, other schema)
 */
export async function writeReport(o: { store: string; out: string }): Promise<{ data: ReportData; findings: Finding[]; files: string[] }> {
  const store = ResultStore.open(o.store, { readonly: true });
  let d: ReportData;
  try {
    d = collect(store.cells(), store.models());
  } finally {
    store.close();
  }
  mkdirSync(o.out, { recursive: true });
  const files: string[] = [];
  const put = (name: string, text: string): void => {
    writeFileSync(join(o.out, name), text);
    files.push(name);
  };
  put('tables.md', tablesMarkdown(d, header(d, 'qrobust benchmark: tables')));
  for (const t of TABLES) put(`${t.id}.csv`, tableCsv(t, d));
  const fs = findings(d);
  put('findings.md', findingsMarkdown(fs, header(d, 'qrobust benchmark: findings')));
  const json = {
    format: 'qrobust-report/1',
    data: d.data, seeds: d.seeds, commits: d.commits, cells: d.cells,
    archs: d.archs, targets: d.targets, methods: d.methods, bits: d.bits,
    models: d.models,
    trained: d.trained.map((t) => ({ id: t.id, nc: t.nc, record: stripTimes(t.record) })),
    findings: fs,
  };
  put('results.json', `${JSON.stringify(json, null, 1)}\n`);
  files.push(...(await writeFigures(d, o.out)));
  return { data: d, findings: fs, files };
}

/** A training record without its wall-clock fields (seconds, secondsPerEpoch, per-epoch seconds). */
function stripTimes(r: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r)) {
    if (k === 'seconds' || k === 'secondsPerEpoch' || k === 'threads') continue;
    if (k === 'history' && Array.isArray(v)) out[k] = v.map((e) => (e && typeof e === 'object' ? Object.fromEntries(Object.entries(e as object).filter(([kk]) => kk !== 'seconds')) : e));
    else if (k === 'test' && v && typeof v === 'object') out[k] = Object.fromEntries(Object.entries(v as object).filter(([kk]) => kk !== 'seconds'));
    else out[k] = v;
  }
  return out;
}
