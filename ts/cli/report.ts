/**
 * `qrobust report --store results.db --out report/ [--json]`: the paper's tables, CSVs, results.json, the
 * figures (SVG + PNG) and findings.md from a store (ts/report/report.ts).
 */
import { Option, type Command } from 'commander';
import { writeReport } from '../report/report.ts';

/**
 * Registers `qrobust report`.
 * @param program the root commander program
 */
export function registerReportCommand(program: Command): void {
  program
    .command('report')
    .description('write the tables (Markdown, CSV), results.json, figures (SVG, PNG) and findings from a result store')
    .addOption(new Option('--store <db>', 'result store').default('results.db'))
    .addOption(new Option('--out <dir>', 'report folder').default('report'))
    .addOption(new Option('--json', 'print one JSON object (the files and the findings)'))
    .action(async (o: { store: string; out: string; json?: boolean }) => {
      const r = await writeReport({ store: o.store, out: o.out });
      if (o.json) process.stdout.write(`${JSON.stringify({ out: o.out, files: r.files, findings: r.findings })}\n`);
      else {
        process.stdout.write(`${r.files.length} files in ${o.out}: ${r.files.join(', ')}\n`);
        for (const f of r.findings) process.stdout.write(`  ${f.verdict.padEnd(22)} ${f.claim} (${f.scope})\n`);
      }
    });
}
