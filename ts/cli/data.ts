/**
 * `qrobust data prepare` and `qrobust data info` (docs/data.md).
 *
 *   qrobust data prepare [--data <name>] [--json]
 *   qrobust data info    [--data <name>] [--json] [--test-limit N] [--train-limit N] [--seed S]
 *
 * `--data` defaults to `fashion-mnist`; `prepare` materialises it when the cache is missing (progress on
 * stderr) and prints a summary. Usage errors (unknown data name, missing directory) exit 2, runtime failures
 * (a manifest mismatch, corrupt files) exit 1, each as one line (main.ts).
 */
import { Command, Option } from 'commander';
import { parseIntFlag } from '../util/is.ts';
import { openDataset, DATA_NAMES, preprocessProvider, selectSubset, type Dataset, type ChannelStats, type SubsetRecord } from '../data/index.ts';
import { FASHION_MNIST_MANIFEST } from '../data/fashion-mnist.ts';

/** The summary both commands print (`--json` prints it as one object). */
export interface DataSummary {
  data: string;
  kind: string;
  classes: string[];
  splits: Record<string, number>;
  trainSplit: string | null;
  testSplit: string | null;
  cacheDir: string | null;
  /** fashion-mnist: whether this run built the cache */
  built: boolean | null;
  seconds: number;
  stats: ChannelStats | null;
  preprocess: { id: string; impl: string; standIn: boolean };
  manifest?: string;
  dropped?: { malformed: number; duplicate: number };
  subsets?: Record<string, SubsetRecord>;
}

/** Split sizes; imagenet-c's splits are scanned lazily, so only its first split is counted unless asked. */
function splitSizes(ds: Dataset): Record<string, number> {
  const out: Record<string, number> = {};
  const names = ds.kind === 'imagenet-c' ? ds.splits.slice(0, 1) : ds.splits;
  for (const s of names) out[s] = ds.split(s).length;
  return out;
}

/**
 * Opens `name` and summarises it.
 * @param name the data name
 * @param limits optional `--test-limit` / `--train-limit` and `--seed`
 * @throws UsageError / QrobustError from openDataset
 * @example
 * const s = await summariseData('fashion-mnist'); s.splits.train // 60000
 */
export async function summariseData(name: string, limits: { testLimit?: number; trainLimit?: number; seed?: number } = {}): Promise<DataSummary> {
  const t0 = performance.now();
  const ds = await openDataset(name);
  const pre = preprocessProvider();
  const cache = (ds as Dataset & { cache?: { built: boolean; meta: { dropped: { malformed: number; duplicate: number } } } }).cache;
  const summary: DataSummary = {
    data: ds.name,
    kind: ds.kind,
    classes: [...ds.classes],
    splits: splitSizes(ds),
    trainSplit: ds.trainSplit,
    testSplit: ds.testSplit,
    cacheDir: ds.cacheDir,
    built: cache ? cache.built : null,
    seconds: 0,
    stats: ds.stats,
    preprocess: { id: pre.id, impl: pre.impl, standIn: pre.standIn },
  };
  if (cache) {
    summary.manifest = FASHION_MNIST_MANIFEST;
    summary.dropped = cache.meta.dropped;
  }
  const seed = limits.seed ?? 0;
  const subsets: Record<string, SubsetRecord> = {};
  for (const [split, limit] of [[ds.testSplit, limits.testLimit], [ds.trainSplit, limits.trainLimit]] as const) {
    if (limit === undefined || split === null) continue;
    subsets[split] = selectSubset(ds.split(split).labels, limit, seed, { split }).record;
  }
  if (Object.keys(subsets).length > 0) summary.subsets = subsets;
  summary.seconds = (performance.now() - t0) / 1000;
  return summary;
}

/**
 * Human-readable rendering of a summary.
 * @param s the summary
 * @throws never
 * @example
 * renderSummary(await summariseData('fashion-mnist')).split('\n')[0] // 'data: fashion-mnist (fashion-mnist)'
 */
export function renderSummary(s: DataSummary): string {
  const fmt = (v: number): string => v.toFixed(4);
  const lines = [
    `data: ${s.data} (${s.kind})`,
    `classes (${s.classes.length}): ${s.classes.slice(0, 12).join(', ')}${s.classes.length > 12 ? ', ...' : ''}`,
    `splits: ${Object.entries(s.splits).map(([k, v]) => `${k} ${v}`).join(', ')}`,
  ];
  if (s.cacheDir) lines.push(`cache: ${s.cacheDir}${s.built ? ' (built now)' : ''}`);
  if (s.dropped) lines.push(`dropped: ${s.dropped.malformed} malformed, ${s.dropped.duplicate} duplicates`);
  if (s.stats) lines.push(`train mean ${s.stats.mean.map(fmt).join(' ')}  std ${s.stats.std.map(fmt).join(' ')}  (${s.stats.images} images, ${s.stats.preprocess})`);
  lines.push(`preprocess: ${s.preprocess.id} = ${s.preprocess.impl}${s.preprocess.standIn ? ' (stand-in)' : ''}`);
  for (const [k, r] of Object.entries(s.subsets ?? {})) lines.push(`subset ${k}: ${r.n} of ${r.of}, ${r.method}, seed ${r.seed}, sha256 ${r.sha256}`);
  lines.push(`seconds: ${s.seconds.toFixed(2)}`);
  return lines.join('\n');
}

const dataOption = (): Option => new Option('--data <name>', `data set: ${DATA_NAMES.join(', ')}`).default('fashion-mnist');

/**
 * Registers `data prepare` and `data info` on the program.
 * @param program the root command
 * @throws never
 * @example
 * registerDataCommands(new Command());
 */
export function registerDataCommands(program: Command): void {
  const data = program.command('data').description('prepare and inspect data sets (fashion-mnist, imagefolder:, imagenet-c:, cifar10:, idx:)');
  data
    .command('prepare')
    .description('materialise the data set if needed (fashion-mnist: the embedded default) and print a summary')
    .addOption(dataOption())
    .addOption(new Option('--json', 'print one JSON object to stdout'))
    .action(async (opts: { data: string; json?: boolean }) => {
      const s = await summariseData(opts.data);
      process.stdout.write(opts.json ? `${JSON.stringify(s)}\n` : `${renderSummary(s)}\n`);
    });
  data
    .command('info')
    .description('classes, split sizes, cache and normalisation stats, and the seeded subset a limit selects')
    .addOption(dataOption())
    .addOption(new Option('--json', 'print one JSON object to stdout'))
    .addOption(new Option('--test-limit <n>', 'a seeded, stratified subset of the test split').argParser((v) => parseIntFlag('--test-limit', v, 0)))
    .addOption(new Option('--train-limit <n>', 'a seeded, stratified subset of the train split').argParser((v) => parseIntFlag('--train-limit', v, 0)))
    .addOption(new Option('--seed <s>', 'seed of the subset').argParser((v) => parseIntFlag('--seed', v, 0, 0xffffffff)).default(0))
    .action(async (opts: { data: string; json?: boolean; testLimit?: number; trainLimit?: number; seed: number }) => {
      const s = await summariseData(opts.data, { testLimit: opts.testLimit, trainLimit: opts.trainLimit, seed: opts.seed });
      process.stdout.write(opts.json ? `${JSON.stringify(s)}\n` : `${renderSummary(s)}\n`);
    });
  for (const c of data.commands) c.exitOverride().configureOutput({ writeErr: () => {}, writeOut: (s) => process.stdout.write(s) });
  data.exitOverride().configureOutput({ writeErr: () => {}, writeOut: (s) => process.stdout.write(s) });
}
