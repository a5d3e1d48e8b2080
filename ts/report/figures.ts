/**
 * The report's figures as vega-lite specs, rendered headless to SVG by vega (no canvas) and to PNG by resvg,
 * with every text in DejaVu Sans (vega's `config.font`, and resvg's default and sans-serif family, since
 * resvg maps `sans-serif` to a serif face on Debian).
 *
 * - fig1-ar: AR per attack per bit width at the small tier, one panel per method (FP drawn as "FP").
 * - fig2-corruptions: accuracy per corruption (mean over the severities run) per bit width, a panel per method.
 * - fig3-systematic: accuracy of each of the 14 systematic pipelines per bit width, a panel per method.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { Resvg } from '@resvg/resvg-js';
import { SYSTEMATIC_IDS } from '../systematic/pipelines.ts';
import { CORRUPTIONS } from '../corrupt/tables.ts';
import type { ReportData, ModelMetrics } from './collect.ts';
import { methodName } from './tables.ts';

/** The font of every figure. */
export const FIGURE_FONT = 'DejaVu Sans';

const CONFIG = { font: FIGURE_FONT, view: { stroke: '#bbb' }, axis: { labelFontSize: 11, titleFontSize: 12 }, legend: { labelFontSize: 11, titleFontSize: 12 }, header: { labelFontSize: 12, titleFontSize: 12 }, title: { fontSize: 14 } };

function bitsLabel(m: ModelMetrics): string {
  return m.method === 'fp' ? 'FP' : `${m.bits}-bit`;
}

function bitsOrder(d: ReportData): string[] {
  return [...d.bits.map((b) => `${b}-bit`), 'FP'];
}

/**
 * Figure rows of one (arch, target): for each method's panel, its converged models and the FP model (drawn as
 * "FP" in every panel), each turned into rows by `rows`.
 */
function panelRows(d: ReportData, arch: string, target: string, rows: (m: ModelMetrics) => Record<string, unknown>[]): Record<string, unknown>[] {
  const ms = d.models.filter((m) => m.arch === arch && m.target === target && !m.nc);
  const fp = ms.find((m) => m.method === 'fp');
  const out: Record<string, unknown>[] = [];
  for (const method of d.methods) {
    for (const m of [...ms.filter((x) => x.method === method), ...(fp ? [fp] : [])]) {
      for (const r of rows(m)) out.push({ method: methodName(method), bits: bitsLabel(m), ...r });
    }
  }
  return out;
}

/** fig1: AR per attack and WCAR at the small tier, with their intervals. */
function arRows(m: ModelMetrics): Record<string, unknown>[] {
  const out = m.attacks.filter((a) => m.ar[a]?.small).map((a) => ({ attack: a, ar: m.ar[a]!.small!.value, lo: m.ar[a]!.small!.lo, hi: m.ar[a]!.small!.hi }));
  const w = m.wcar.small;
  if (w) out.push({ attack: 'WCAR', ar: w.value, lo: w.lo, hi: w.hi });
  return out;
}

/** The three vega-lite specs for one (arch, target). */
export function figureSpecs(d: ReportData, arch: string, target: string): Record<'fig1-ar' | 'fig2-corruptions' | 'fig3-systematic', TopLevelSpec> {
  const methods = d.methods.map(methodName);
  const bitsDomain = bitsOrder(d);
  const attackDomain = [...new Set(d.models.flatMap((m) => m.attacks)), 'WCAR'];
  const facet = { field: 'method', type: 'nominal', sort: methods, title: null } as const;
  const fig1: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `Figure 1: adversarial robustness (small tier) per attack and bit width — ${arch}, ${target}`,
    data: { values: panelRows(d, arch, target, arRows) },
    facet: { column: facet },
    spec: {
      width: 260, height: 240,
      layer: [
        {
          mark: { type: 'line', point: { size: 45 } },
          encoding: {
            x: { field: 'bits', type: 'ordinal', sort: bitsDomain, title: 'bit width', axis: { labelAngle: 0 } },
            xOffset: { field: 'attack', type: 'nominal', sort: attackDomain },
            y: { field: 'ar', type: 'quantitative', title: 'accuracy under attack (%; bars: 95% interval)', scale: { domain: [0, 100] } },
            color: { field: 'attack', type: 'nominal', sort: attackDomain, title: 'attack' },
          },
        },
        {
          mark: { type: 'rule', strokeWidth: 1.5, opacity: 0.7 },
          encoding: {
            x: { field: 'bits', type: 'ordinal', sort: bitsDomain },
            xOffset: { field: 'attack', type: 'nominal', sort: attackDomain },
            y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' },
            color: { field: 'attack', type: 'nominal', sort: attackDomain },
          },
        },
      ],
    },
    config: CONFIG,
  } as TopLevelSpec;
  const fig2: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `Figure 2: accuracy per corruption (mean over severities) per bit width — ${arch}, ${target}`,
    data: { values: panelRows(d, arch, target, (m) => CORRUPTIONS.filter((c) => typeof m.perCorruption[c] === 'number').map((c) => ({ corruption: c, accuracy: m.perCorruption[c] }))) },
    facet: { row: facet },
    spec: {
      width: 620, height: 170,
      mark: { type: 'line', point: true },
      encoding: { x: { field: 'corruption', type: 'nominal', sort: [...CORRUPTIONS], title: null, axis: { labelAngle: -35 } }, y: { field: 'accuracy', type: 'quantitative', title: 'top-1 (%)', scale: { domain: [0, 100] } }, color: { field: 'bits', type: 'nominal', sort: bitsDomain, title: 'bit width', scale: { scheme: 'tableau10' } } },
    },
    config: CONFIG,
  } as TopLevelSpec;
  const fig3: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `Figure 3: accuracy under the 14 systematic noises per bit width — ${arch}, ${target}`,
    data: { values: panelRows(d, arch, target, (m) => SYSTEMATIC_IDS.filter((id) => typeof m.systematic[id] === 'number').map((id) => ({ pipeline: id, accuracy: m.systematic[id] }))) },
    facet: { row: facet },
    spec: {
      width: 620, height: 170,
      mark: { type: 'line', point: true },
      encoding: { x: { field: 'pipeline', type: 'nominal', sort: [...SYSTEMATIC_IDS], title: null, axis: { labelAngle: -35 } }, y: { field: 'accuracy', type: 'quantitative', title: 'top-1 (%)', scale: { zero: false } }, color: { field: 'bits', type: 'nominal', sort: bitsDomain, title: 'bit width', scale: { scheme: 'tableau10' } } },
    },
    config: CONFIG,
  } as TopLevelSpec;
  return { 'fig1-ar': fig1, 'fig2-corruptions': fig2, 'fig3-systematic': fig3 };
}

/**
 * Renders a vega-lite spec to SVG (vega, no canvas) and PNG (resvg, DejaVu Sans, 2x scale).
 * @returns the SVG text and PNG bytes
 */
export async function renderSpec(spec: TopLevelSpec): Promise<{ svg: string; png: Uint8Array }> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  const png = new Resvg(svg, {
    background: '#ffffff',
    fitTo: { mode: 'zoom', value: 2 },
    font: { loadSystemFonts: true, defaultFontFamily: FIGURE_FONT, sansSerifFamily: FIGURE_FONT },
  }).render().asPng();
  return { svg, png: new Uint8Array(png) };
}

/**
 * Writes fig1-ar, fig2-corruptions, fig3-systematic (.svg and .png) for the first architecture and target,
 * and `<fig>-<arch>-<target>` variants for the others.
 * @returns the files written
 */
export async function writeFigures(d: ReportData, out: string): Promise<string[]> {
  const files: string[] = [];
  let first = true;
  for (const arch of d.archs) {
    for (const target of d.targets) {
      const specs = figureSpecs(d, arch, target);
      for (const [name, spec] of Object.entries(specs)) {
        const base = first ? name : `${name}-${arch}-${target}`;
        const { svg, png } = await renderSpec(spec);
        writeFileSync(join(out, `${base}.svg`), svg);
        writeFileSync(join(out, `${base}.png`), png);
        files.push(`${base}.svg`, `${base}.png`);
      }
      first = false;
    }
  }
  return files;
}
