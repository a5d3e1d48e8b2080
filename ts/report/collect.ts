/**
 * From the store's cells to the report's metrics: per (arch, target, model) the clean top-1, WCAR / AR per
 * attack and tier, NR with per-corruption means, SR with the 14 accuracies, each with its 95 % interval
 * (ts/report/stats.ts) and NC.
 */
import { SYSTEMATIC_IDS } from '../systematic/pipelines.ts';
import { CORRUPTIONS } from '../corrupt/tables.ts';
import type { CellRow, ModelRow } from '../store/store.ts';
import { meanScoreInterval, srInterval, wilson, type Estimate } from './stats.ts';

/** The metrics of one model on one target. */
export interface ModelMetrics {
  arch: string;
  target: string;
  /** 'fp' or the QAT method */
  method: string;
  /** 32 for FP */
  bits: number;
  nc: boolean;
  ncReason: string | null;
  clean: Estimate | null;
  /** WCAR (Eq. 3) per tier */
  wcar: Record<string, Estimate>;
  /** WCAR_RA per tier (clean-correct denominator), point values */
  wcarRa: Record<string, number>;
  /** AR per attack and tier */
  ar: Record<string, Record<string, Estimate>>;
  attacks: string[];
  nr: Estimate | null;
  /** mean accuracy per corruption over the severities run */
  perCorruption: Record<string, number>;
  /** accuracy per corruption and severity */
  corruption: Record<string, Record<string, number>>;
  sr: Estimate | null;
  /** accuracy per systematic id (the 14) */
  systematic: Record<string, number>;
  /** the budget each suite ran with (from the cells' configs) */
  budgets: Record<string, unknown>;
  /** suites stored as not applicable on this target (the FP model's adversarial cell on a deployment target): the reason */
  notApplicable: Record<string, string>;
  /** the cells' `deploy` records on a deployment target, per suite (what ran: deployed model or float32, pipeline) */
  deploy: Record<string, Record<string, unknown>>;
}

/** All metrics, grouped. */
export interface ReportData {
  models: ModelMetrics[];
  archs: string[];
  targets: string[];
  methods: string[];
  bits: number[];
  /** data name, seed(s), commit(s), versions of the cells */
  data: string[];
  seeds: number[];
  commits: string[];
  /** cells and models counted */
  cells: number;
  trained: { id: string; nc: boolean; record: Record<string, unknown> }[];
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

function emptyMetrics(arch: string, target: string, method: string, bits: number): ModelMetrics {
  return { arch, target, method, bits, nc: false, ncReason: null, clean: null, wcar: {}, wcarRa: {}, ar: {}, attacks: [], nr: null, perCorruption: {}, corruption: {}, sr: null, systematic: {}, budgets: {}, notApplicable: {}, deploy: {} };
}

/**
 * Builds the report data from the store's rows.
 * @param cells every cell of the store
 * @param models every model row
 */
export function collect(cells: readonly CellRow[], models: readonly ModelRow[]): ReportData {
  const byKey = new Map<string, ModelMetrics>();
  const data = new Set<string>();
  const seeds = new Set<number>();
  const commits = new Set<string>();
  for (const c of cells) {
    const key = `${c.arch}|${c.target}|${c.method}|${c.bits}`;
    let m = byKey.get(key);
    if (!m) byKey.set(key, (m = emptyMetrics(c.arch, c.target, c.method, c.bits)));
    const r = c.result;
    seeds.add(c.seed);
    if (c.commit) commits.add(c.commit);
    if (typeof c.config.data === 'string') data.add(c.config.data);
    m.budgets[c.suite] = c.config.budget;
    if (r.nc === true) {
      m.nc = true;
      m.ncReason = (r.nc_reason as string | undefined) ?? m.ncReason;
    }
    if (r.deploy && typeof r.deploy === 'object') m.deploy[c.suite] = r.deploy as Record<string, unknown>;
    if (r.not_applicable === true) {
      m.notApplicable[c.suite] = typeof r.reason === 'string' ? r.reason : 'not applicable';
      continue;
    }
    const n = num(r.n) ?? 0;
    if (c.suite === 'clean') {
      const t = num(r.top1);
      if (t !== null) m.clean = wilson(t, n);
    } else if (r.nc === true) {
      continue;
    } else if (c.suite === 'adversarial') {
      const w = (r.wcar ?? {}) as Record<string, unknown>;
      for (const [tier, v] of Object.entries(w)) if (num(v) !== null) m.wcar[tier] = wilson(v as number, n);
      const wr = (r.wcar_ra ?? {}) as Record<string, unknown>;
      for (const [tier, v] of Object.entries(wr)) if (num(v) !== null) m.wcarRa[tier] = v as number;
      const ar = (r.ar ?? {}) as Record<string, Record<string, unknown>>;
      for (const [a, tiers] of Object.entries(ar)) {
        m.ar[a] = {};
        for (const [tier, v] of Object.entries(tiers)) if (num(v) !== null) m.ar[a]![tier] = wilson(v as number, n);
      }
      m.attacks = Array.isArray(r.attacks) ? (r.attacks as string[]) : Object.keys(ar);
    } else if (c.suite === 'corruption') {
      const nr = num(r.nr);
      if (nr !== null) m.nr = meanScoreInterval(nr, n);
      m.corruption = (r.accuracy ?? {}) as Record<string, Record<string, number>>;
      const per = (r.perCorruption ?? {}) as Record<string, number>;
      m.perCorruption = Object.fromEntries(CORRUPTIONS.filter((k) => typeof per[k] === 'number').map((k) => [k, per[k]!]));
    } else if (c.suite === 'systematic') {
      const acc = (r.accuracy ?? {}) as Record<string, number>;
      m.systematic = Object.fromEntries(SYSTEMATIC_IDS.filter((k) => typeof acc[k] === 'number').map((k) => [k, acc[k]!]));
      const sr = num(r.sr);
      const ps = r.per_sample as { correct?: Record<string, string> } | undefined;
      const flags = ps?.correct && SYSTEMATIC_IDS.every((k) => typeof ps.correct![k] === 'string') ? Object.fromEntries(SYSTEMATIC_IDS.map((k) => [k, ps.correct![k]!])) : null;
      if (flags) m.sr = srInterval(flags);
      else if (sr !== null) m.sr = { value: sr, lo: sr, hi: sr, n, method: 'none' };
    }
  }
  const all = [...byKey.values()].sort((a, b) => a.arch.localeCompare(b.arch) || a.target.localeCompare(b.target) || methodOrder(a.method) - methodOrder(b.method) || a.bits - b.bits);
  return {
    models: all,
    archs: [...new Set(all.map((m) => m.arch))],
    targets: [...new Set(all.map((m) => m.target))].sort((a, b) => (a === 'reference' ? -1 : b === 'reference' ? 1 : a.localeCompare(b))),
    methods: [...new Set(all.filter((m) => m.method !== 'fp').map((m) => m.method))].sort((a, b) => methodOrder(a) - methodOrder(b)),
    bits: [...new Set(all.filter((m) => m.method !== 'fp').map((m) => m.bits))].sort((a, b) => a - b),
    data: [...data].sort(),
    seeds: [...seeds].sort((a, b) => a - b),
    commits: [...commits].sort(),
    cells: cells.length,
    trained: models.map((m) => ({ id: m.id, nc: m.nc, record: m.record })),
  };
}

const ORDER = ['fp', 'dorefa', 'pact', 'lsq'];
function methodOrder(m: string): number {
  const i = ORDER.indexOf(m);
  return i < 0 ? ORDER.length : i;
}
