/**
 * The paper's four tables, laid out as in the paper (methods × bits, the FP value in the header, NC where a
 * model did not converge), in Markdown and CSV:
 * Table 1 clean top-1, Table 2 WCAR at the small tier, Table 3 NR, Table 4 SR (lower is better).
 * Every value carries its 95 % interval (ts/report/stats.ts) and n.
 */
import type { Estimate } from './stats.ts';
import type { ModelMetrics, ReportData } from './collect.ts';

/** A table id and how to read its metric from a model. */
export interface TableSpec {
  id: 'table1-clean' | 'table2-wcar' | 'table3-nr' | 'table4-sr';
  /** the suite the metric comes from */
  suite: 'clean' | 'adversarial' | 'corruption' | 'systematic';
  title: string;
  /** short name of the metric */
  metric: string;
  /** higher is better (false for SR) */
  higherBetter: boolean;
  get(m: ModelMetrics): Estimate | null;
}

export const TABLES: readonly TableSpec[] = [
  { id: 'table1-clean', suite: 'clean', title: 'Table 1: clean top-1 accuracy (%)', metric: 'clean', higherBetter: true, get: (m) => m.clean },
  { id: 'table2-wcar', suite: 'adversarial', title: 'Table 2: worst-case adversarial robustness WCAR (%, Eq. 3, small tier)', metric: 'WCAR small', higherBetter: true, get: (m) => m.wcar.small ?? null },
  { id: 'table3-nr', suite: 'corruption', title: 'Table 3: natural robustness NR (%, mean over corruptions x severities)', metric: 'NR', higherBetter: true, get: (m) => m.nr },
  { id: 'table4-sr', suite: 'systematic', title: 'Table 4: systematic robustness SR (std of the 14 accuracies, points; lower is better)', metric: 'SR', higherBetter: false, get: (m) => m.sr },
];

const METHOD_NAMES: Record<string, string> = { fp: 'FP', dorefa: 'DoReFa', pact: 'PACT', lsq: 'LSQ' };
/** Display name of a method. */
export function methodName(m: string): string {
  return METHOD_NAMES[m] ?? m;
}

function fmt(e: Estimate | null): string {
  if (!e) return '–';
  return e.method === 'none' ? e.value.toFixed(2) : `${e.value.toFixed(2)} [${e.lo.toFixed(2)}, ${e.hi.toFixed(2)}]`;
}

function cellText(t: TableSpec, m: ModelMetrics | undefined): string {
  if (!m) return '–';
  if (m.nc) return t.id === 'table1-clean' && m.clean ? `NC (${m.clean.value.toFixed(2)})` : 'NC';
  if (m.notApplicable[t.suite] !== undefined) return 'n/a';
  return fmt(t.get(m));
}

function find(d: ReportData, arch: string, target: string, method: string, bits: number): ModelMetrics | undefined {
  return d.models.find((m) => m.arch === arch && m.target === target && m.method === method && m.bits === bits);
}

/**
 * One table in Markdown for (arch, target).
 * @example
 * // | method | 2 bits | 4 bits | ... with the FP value in the heading
 */
export function tableMarkdown(t: TableSpec, d: ReportData, arch: string, target: string): string {
  const fp = find(d, arch, target, 'fp', 32);
  const ns = new Set(d.models.filter((m) => m.arch === arch && m.target === target).map((m) => t.get(m)?.n).filter((n): n is number => typeof n === 'number'));
  const nText = ns.size ? `n = ${[...ns].join(' / ')} test images` : 'no data';
  const lines = [`### ${t.title} — ${arch}, target ${target}`, '', `FP [${fp ? cellText(t, fp) : '–'}]; ${nText}; 95% intervals in brackets.`, ''];
  lines.push(`| method | ${d.bits.map((b) => `${b} bits`).join(' | ')} |`);
  lines.push(`|---|${d.bits.map(() => '---').join('|')}|`);
  for (const method of d.methods) lines.push(`| ${methodName(method)} | ${d.bits.map((b) => cellText(t, find(d, arch, target, method, b))).join(' | ')} |`);
  return lines.join('\n');
}

/** CSV of one table over every arch and target: one row per model (FP included). */
export function tableCsv(t: TableSpec, d: ReportData): string {
  const rows = ['arch,target,method,bits,value,ci_low,ci_high,ci_method,n,nc'];
  for (const m of d.models) {
    const e = t.get(m);
    const showValue = e && (!m.nc || t.id === 'table1-clean');
    rows.push([m.arch, m.target, m.method, m.bits, showValue ? e.value : '', showValue ? e.lo : '', showValue ? e.hi : '', showValue ? e.method : '', e ? e.n : '', m.nc ? 1 : 0].join(','));
  }
  return `${rows.join('\n')}\n`;
}

/** Per-target table: every metric of every model on one target. */
export function targetTableMarkdown(d: ReportData, arch: string, target: string): string {
  const ms = d.models.filter((m) => m.arch === arch && m.target === target);
  const lines = [`### ${arch} on target ${target}: all four metrics`, '', '| model | clean | WCAR small | NR | SR |', '|---|---|---|---|---|'];
  for (const m of ms) lines.push(`| ${methodName(m.method)}${m.method === 'fp' ? '' : ` ${m.bits}-bit`} | ${TABLES.map((t) => cellText(t, m)).join(' | ')} |`);
  const notes = targetNotes(ms, target);
  return notes.length ? `${lines.join('\n')}\n\n${notes.join('\n')}` : lines.join('\n');
}

/** What ran on a deployment target (from the cells' `deploy` records), and why a cell is n/a. */
function targetNotes(ms: readonly ModelMetrics[], target: string): string[] {
  if (target === 'reference') return [];
  const notes: string[] = [];
  const q = ms.find((m) => m.method !== 'fp' && m.deploy.clean);
  if (q) notes.push(`Quantized models: the deployed model (${String(q.deploy.clean!.execution)} execution, pipeline ${String(q.deploy.clean!.pipeline)}); WCAR is transfer: the examples crafted on the fake-quant model, re-classified by the deployed model.`);
  const fp = ms.find((m) => m.method === 'fp' && m.deploy.clean);
  if (fp) notes.push(`FP: ${String(fp.deploy.clean!.note ?? 'float32')}.`);
  for (const m of ms) for (const [suite, why] of Object.entries(m.notApplicable)) notes.push(`n/a: ${methodName(m.method)}${m.method === 'fp' ? '' : ` ${m.bits}-bit`} ${suite}: ${why}.`);
  return notes;
}

/** The whole tables.md. */
export function tablesMarkdown(d: ReportData, header: string): string {
  const parts = [header];
  const main = d.targets[0] ?? 'reference';
  for (const arch of d.archs) for (const t of TABLES) parts.push(tableMarkdown(t, d, arch, main));
  parts.push('## Per-target tables');
  for (const arch of d.archs) for (const target of d.targets) parts.push(targetTableMarkdown(d, arch, target));
  return `${parts.join('\n\n')}\n`;
}
