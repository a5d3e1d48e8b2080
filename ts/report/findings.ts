/**
 * findings.md: whether each of the paper's claims holds on this run, decided from the data with the 95 %
 * intervals of ts/report/stats.ts.
 *
 * Trend claims (lower bits → higher WCAR, lower NR, higher SR) compare, per method, the lowest and the
 * highest bit width that converged: **holds** when their intervals are disjoint in the claimed direction,
 * **contradicted** when disjoint in the other direction, **not resolved at this n** when they overlap (the
 * point estimates' direction and Spearman's ρ over every bit width are given either way).
 * The most harmful corruption / systematic noise: the lowest mean accuracy over the converged models, with
 * its interval and whether it is separated from the runner-up.
 */
import { SYSTEMATIC_IDS } from '../systematic/pipelines.ts';
import { CORRUPTIONS } from '../corrupt/tables.ts';
import type { ModelMetrics, ReportData } from './collect.ts';
import { meanScoreInterval, spearman, type Estimate } from './stats.ts';
import { methodName } from './tables.ts';

/** A verdict. */
export type Verdict = 'holds' | 'contradicted' | 'not resolved at this n' | 'no data';

/** One claim's outcome (also in results.json). */
export interface Finding {
  claim: string;
  scope: string;
  verdict: Verdict;
  detail: string;
}

const f2 = (e: Estimate): string => `${e.value.toFixed(2)} [${e.lo.toFixed(2)}, ${e.hi.toFixed(2)}]`;

/**
 * Compares a low-bit and a high-bit estimate for a claim "low > high" (sign +1) or "low < high" (sign −1).
 * @example
 * trendVerdict({ value: 10, lo: 8, hi: 12, n: 1, method: 'wilson' }, { value: 5, lo: 3, hi: 7, n: 1, method: 'wilson' }, 1) // 'holds'
 */
export function trendVerdict(low: Estimate, high: Estimate, sign: 1 | -1): Verdict {
  if (sign > 0 ? low.lo > high.hi : low.hi < high.lo) return 'holds';
  if (sign > 0 ? low.hi < high.lo : low.lo > high.hi) return 'contradicted';
  return 'not resolved at this n';
}

function trendFindings(d: ReportData, arch: string, target: string, claim: string, metric: string, get: (m: ModelMetrics) => Estimate | null, sign: 1 | -1): Finding[] {
  const out: Finding[] = [];
  for (const method of d.methods) {
    const ms = d.models.filter((m) => m.arch === arch && m.target === target && m.method === method && !m.nc && get(m)).sort((a, b) => a.bits - b.bits);
    const scope = `${arch}, ${target}, ${methodName(method)}`;
    if (ms.length < 2) {
      out.push({ claim, scope, verdict: 'no data', detail: `fewer than two converged bit widths with ${metric} (NC: ${d.models.filter((m) => m.arch === arch && m.target === target && m.method === method && m.nc).map((m) => `${m.bits}-bit`).join(', ') || 'none'})` });
      continue;
    }
    const lo = ms[0]!;
    const hi = ms[ms.length - 1]!;
    const el = get(lo)!;
    const eh = get(hi)!;
    const v = trendVerdict(el, eh, sign);
    const rho = spearman(ms.map((m) => m.bits), ms.map((m) => get(m)!.value));
    const dir = el.value === eh.value ? 'equal point estimates' : (el.value > eh.value) === (sign > 0) ? 'point estimates in the claimed direction' : 'point estimates against the claim';
    out.push({
      claim, scope, verdict: v,
      detail: `${metric} ${lo.bits}-bit ${f2(el)} vs ${hi.bits}-bit ${f2(eh)} (${dir}); over ${ms.map((m) => `${m.bits}`).join('/')} bits ${metric} = ${ms.map((m) => get(m)!.value.toFixed(2)).join(' / ')}, Spearman ρ(bits, ${metric}) = ${Number.isNaN(rho) ? 'n/a' : rho.toFixed(2)}`,
    });
  }
  return out;
}

function harmful(d: ReportData, arch: string, target: string, kind: 'corruption' | 'systematic'): Finding {
  const ms = d.models.filter((m) => m.arch === arch && m.target === target && !m.nc);
  const ids: readonly string[] = kind === 'corruption' ? CORRUPTIONS : SYSTEMATIC_IDS;
  const per = (m: ModelMetrics): Record<string, number> => (kind === 'corruption' ? m.perCorruption : m.systematic);
  const withData = ms.filter((m) => Object.keys(per(m)).length === ids.length);
  const scope = `${arch}, ${target}, ${withData.length} converged models`;
  const claim = kind === 'corruption'
    ? 'the most harmful corruption is impulse noise (≈50% average accuracy drop; brightness ≈10%)'
    : 'the most harmful systematic noise is nearest-neighbour resizing (Pillow and OpenCV nearest cost ≈6% for 2-bit models)';
  if (withData.length === 0) return { claim, scope, verdict: 'no data', detail: `no ${kind} results` };
  // n: the images of each model's run (the same budget for all)
  const n = Math.min(...withData.map((m) => (kind === 'corruption' ? m.nr?.n : m.sr?.n) ?? 0));
  const mean = ids.map((id) => ({ id, acc: withData.reduce((s, m) => s + per(m)[id]!, 0) / withData.length }));
  const ranked = [...mean].sort((a, b) => a.acc - b.acc);
  // the claimed worst (impulse noise; the two nearest resizers as one family) against the worst of the rest
  const claimed = new Set(kind === 'corruption' ? ['impulse_noise'] : ['rs-pil-nearest', 'rs-opencv-nearest']);
  const inBest = ranked.find((x) => claimed.has(x.id))!;
  const outBest = ranked.find((x) => !claimed.has(x.id))!;
  const eIn = meanScoreInterval(inBest.acc, n);
  const eOut = meanScoreInterval(outBest.acc, n);
  const verdict: Verdict = eIn.hi < eOut.lo ? 'holds' : eOut.hi < eIn.lo ? 'contradicted' : 'not resolved at this n';
  const clean = withData.map((m) => m.clean?.value).filter((v): v is number => typeof v === 'number');
  const cleanMean = clean.length ? clean.reduce((s, v) => s + v, 0) / clean.length : NaN;
  let extra = '';
  if (kind === 'corruption') {
    const bri = mean.find((x) => x.id === 'brightness')!;
    extra = `; impulse noise drop ${(cleanMean - inBest.acc).toFixed(2)} points (rank ${ranked.indexOf(inBest) + 1} of 15), brightness drop ${(cleanMean - bri.acc).toFixed(2)} points, from a mean clean top-1 of ${cleanMean.toFixed(2)}`;
  } else {
    const low = d.bits[0];
    const lowModels = withData.filter((m) => m.method !== 'fp' && m.bits === low);
    if (lowModels.length) {
      const drop = (id: string): number => lowModels.reduce((s, m) => s + (m.systematic['dec-pil']! - m.systematic[id]!), 0) / lowModels.length;
      extra = `; for the ${low}-bit models, Pillow nearest costs ${drop('rs-pil-nearest').toFixed(2)} and OpenCV nearest ${drop('rs-opencv-nearest').toFixed(2)} points against the reference dec-pil`;
    }
  }
  const e0 = meanScoreInterval(ranked[0]!.acc, n);
  return {
    claim, scope, verdict,
    detail: `lowest mean accuracy: ${ranked.slice(0, 3).map((x) => `${x.id} ${x.acc.toFixed(2)}`).join(', ')} (${ranked[0]!.id} ${f2(e0)}); claimed ${inBest.id} ${f2(eIn)} vs the worst of the others ${outBest.id} ${f2(eOut)} (n = ${n}, Wilson intervals of mean scores)${extra}`,
  };
}

/**
 * Every finding of the run.
 * @param d the report data
 */
export function findings(d: ReportData): Finding[] {
  const out: Finding[] = [];
  for (const arch of d.archs) {
    for (const target of d.targets) {
      out.push(...trendFindings(d, arch, target, 'lower bits → higher WCAR (small tier)', 'WCAR', (m) => m.wcar.small ?? null, 1));
      out.push(...trendFindings(d, arch, target, 'lower bits → lower NR', 'NR', (m) => m.nr, -1));
      out.push(...trendFindings(d, arch, target, 'lower bits → higher SR', 'SR', (m) => m.sr, 1));
      out.push(harmful(d, arch, target, 'corruption'));
      out.push(harmful(d, arch, target, 'systematic'));
    }
  }
  return out;
}

/** findings.md. */
export function findingsMarkdown(fs: readonly Finding[], header: string): string {
  const lines = [header, '', '| claim | scope | verdict | evidence |', '|---|---|---|---|'];
  for (const f of fs) lines.push(`| ${f.claim} | ${f.scope} | **${f.verdict}** | ${f.detail.replace(/\|/g, '\\|')} |`);
  lines.push('', 'Verdicts: **holds** when the 95% intervals of the lowest and highest converged bit widths are disjoint in the claimed direction; **contradicted** when disjoint the other way; **not resolved at this n** when they overlap. WCAR and clean use Wilson intervals; NR and the per-corruption / per-pipeline means a Wilson interval of a mean score; SR a paired bootstrap over images (see docs/runner.md).');
  return `${lines.join('\n')}\n`;
}
