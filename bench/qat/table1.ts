/**
 * Table 1 on the embedded default: the 12 QAT configs (dorefa / pact / lsq × 2 / 4 / 6 / 8 bits) from one FP
 * checkpoint, each fine-tuned with the same budget, then clean top-1 on the test split. Sequential, one
 * process; each config writes <out>/<method>-<bits>.safetensors + .json, and the table goes to <out>/table.json.
 *
 *   OMP_NUM_THREADS=2 nice -n 10 npx tsx bench/qat/table1.ts --fp /work/ckpt/resnet20-fp.safetensors \
 *     --out /work/qat [--train-limit 5000] [--epochs 1] [--test-limit N] [--seed 0] [--only lsq-4,dorefa-2]
 */
import { writeFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openDataset } from '../../ts/data/index.ts';
import { readCheckpointMeta } from '../../ts/train/checkpoint.ts';
import { runQuantize, type QuantizeRecord } from '../../ts/quant/qat.ts';

const { values: a } = parseArgs({
  options: {
    fp: { type: 'string' }, out: { type: 'string' }, 'train-limit': { type: 'string', default: '5000' }, epochs: { type: 'string', default: '1' },
    'test-limit': { type: 'string' }, seed: { type: 'string', default: '0' }, only: { type: 'string' }, skip: { type: 'boolean', default: false },
  },
});
if (!a.fp || !a.out) throw new Error('usage: table1.ts --fp <fp ckpt> --out <dir> [--train-limit N] [--epochs E] [--test-limit N] [--seed S] [--only ids] [--skip]');
const meta = readCheckpointMeta(a.fp);
const ds = await openDataset(meta.data);
const rows: QuantizeRecord[] = [];
const only = a.only ? new Set(a.only.split(',')) : null;
for (const method of ['dorefa', 'pact', 'lsq'] as const) {
  for (const bits of [2, 4, 6, 8] as const) {
    const id = `${method}-${bits}`;
    if (only && !only.has(id)) continue;
    const out = join(a.out, `${id}.safetensors`);
    const rec = join(a.out, `${id}.json`);
    if (a.skip && existsSync(rec)) {
      rows.push(JSON.parse(readFileSync(rec, 'utf8')) as QuantizeRecord);
      continue;
    }
    const t = performance.now();
    const r = await runQuantize({
      fpCheckpoint: a.fp, dataset: ds, method, bits, epochs: Number(a.epochs), trainLimit: Number(a['train-limit']),
      testLimit: a['test-limit'] === undefined ? null : Number(a['test-limit']), seed: Number(a.seed), out,
    });
    rows.push(r);
    process.stderr.write(`[table1] ${id}: top-1 ${r.top1?.toFixed(2)}%${r.nc ? ' NC' : ''} (${((performance.now() - t) / 1000).toFixed(0)} s; train ${r.seconds.train.toFixed(0)} s, ${r.secondsPerEpoch.toFixed(0)} s/epoch)\n`);
  }
}
const fpTop1 = rows[0]?.fp.top1 ?? null;
const table = {
  fp: { checkpoint: a.fp, top1: fpTop1 }, budget: { epochs: Number(a.epochs), trainLimit: Number(a['train-limit']), batch: rows[0]?.batch, lr: rows[0]?.lr, seed: Number(a.seed), testN: rows[0]?.test?.n },
  rows: rows.map((r) => ({ method: r.method, bits: r.bits, top1: r.top1, nc: r.nc, observer_mode: r.observer_mode, trainSeconds: r.seconds.train, evalSeconds: r.seconds.eval })),
};
writeFileSync(join(a.out, 'table.json'), `${JSON.stringify(table, null, 1)}\n`);
const cell = (m: string, b: number) => {
  const r = rows.find((x) => x.method === m && x.bits === b);
  return r ? `${r.top1?.toFixed(2)}${r.nc ? ' (NC)' : ''}` : '–';
};
process.stdout.write(`| method | 2 | 4 | 6 | 8 |  (FP ${fpTop1})\n|---|---|---|---|---|\n`);
for (const m of ['dorefa', 'pact', 'lsq']) process.stdout.write(`| ${m} | ${[2, 4, 6, 8].map((b) => cell(m, b)).join(' | ')} |\n`);
