/**
 * What the corruption suite (`qrobust eval --suite corruption`, issue 8; it needs the float engine) calls,
 * so that it only has to loop and classify:
 * - {@link corruptionCells}: the (corruption, severity) grid in the reference order, `--severities` parsed;
 * - {@link corruptSample}: one test image corrupted with its own generator, derived from (seed,
 *   corruption, severity, sample index) only, so results do not depend on order, batching or sharding;
 *   optionally stored the way the released ImageNet-C is (JPEG quality 85, decoded again);
 * - {@link noiseRobustness}: NR = mean over the 15 × 5 cells of top-1 % (CONVENTIONS.md corruption JSON),
 *   with the per-corruption means.
 * Images reach the model after the usual ONECROP; the corruption runs on the preprocessed 224 / 64 / 32
 * RGB image, whose size picks the table column (as make_imagenet_c / tiny / cifar do).
 */
import { jpegDecode, jpegEncode } from '../native/image.ts';
import { invalidOption } from '../util/errors.ts';
import { Rng } from '../util/rng.ts';
import { checkCorruption, corrupt, type CorruptOptions } from './index.ts';
import { CORRUPTIONS, type CorruptionId } from './tables.ts';

/** One cell of the grid. */
export interface CorruptionCell { corruption: CorruptionId; severity: 1 | 2 | 3 | 4 | 5 }

/**
 * Parses `--severities`: `1-5`, `2`, `1,3,5` or `2-4`.
 * @throws UsageError naming --severities
 * @example
 * parseSeverities('1-3') // [1, 2, 3]
 */
export function parseSeverities(s: string): (1 | 2 | 3 | 4 | 5)[] {
  const out = new Set<number>();
  for (const part of s.split(',').map((x) => x.trim()).filter(Boolean)) {
    const m = /^([1-5])(?:-([1-5]))?$/.exec(part);
    if (!m) throw invalidOption('--severities', 'severities 1..5 as a list or range, e.g. 1-5 or 1,3,5', s);
    const a = Number(m[1]);
    const b = m[2] ? Number(m[2]) : a;
    if (b < a) throw invalidOption('--severities', 'an increasing range such as 2-4', s);
    for (let k = a; k <= b; k++) out.add(k);
  }
  if (out.size === 0) throw invalidOption('--severities', 'at least one severity 1..5', s);
  return [...out].sort() as (1 | 2 | 3 | 4 | 5)[];
}

/**
 * The (corruption, severity) cells, corruption-major in the reference order.
 * @param corruptions subset (default all 15)
 * @param severities subset (default 1..5)
 * @throws UsageError for an unknown corruption
 * @example
 * corruptionCells().length // 75
 */
export function corruptionCells(corruptions: readonly string[] = CORRUPTIONS, severities: readonly number[] = [1, 2, 3, 4, 5]): CorruptionCell[] {
  const cells: CorruptionCell[] = [];
  for (const c of corruptions) {
    const id = checkCorruption(c);
    for (const s of severities) cells.push({ corruption: id, severity: s as CorruptionCell['severity'] });
  }
  return cells;
}

/**
 * The generator of one sample in one cell: a pure function of its inputs.
 * @throws RangeError for a bad seed
 * @example
 * sampleRng(0, 'fog', 3, 17).uniform() === sampleRng(0, 'fog', 3, 17).uniform() // true
 */
export function sampleRng(seed: number, corruption: CorruptionId, severity: number, index: number): Rng {
  return new Rng(seed).fork(`corrupt/${corruption}/${severity}/${index}`);
}

/** Options of {@link corruptSample}. */
export interface SampleOptions extends CorruptOptions {
  /** Store as the released ImageNet-C does (JPEG quality 85) and decode again; default false (in memory). */
  releasedJpeg?: boolean;
}

/**
 * One test image corrupted for one cell.
 * @param img the preprocessed uint8 RGB HWC image
 * @param cell corruption and severity
 * @param seed the run's seed (recorded in the result)
 * @param index the sample's index in the (subset of the) test set
 * @param opts column / params / frostDir overrides, `releasedJpeg`
 * @throws UsageError as {@link corrupt}
 * @example
 * const x = await corruptSample(img, { corruption: 'snow', severity: 2 }, 0, 5);
 * x.width // 32
 */
export async function corruptSample(img: Parameters<typeof corrupt>[0], cell: CorruptionCell, seed: number, index: number, opts: SampleOptions = {}): Promise<Parameters<typeof corrupt>[0]> {
  const out = await corrupt(img, cell.corruption, cell.severity, sampleRng(seed, cell.corruption, cell.severity, index), opts);
  if (!opts.releasedJpeg) return out;
  const dec = await jpegDecode(await jpegEncode(out, 85));
  return { data: dec.data, width: dec.width, height: dec.height, channels: 3 };
}

/**
 * NR from per-cell top-1 accuracies (percent): the mean over every cell given, plus the mean per
 * corruption. With all 15 × 5 cells this is the paper's NR.
 * @param accuracy `{corruption: {"1": top1, …, "5": top1}}`
 * @throws UsageError when no cell is given or a value is not a finite number
 * @example
 * noiseRobustness({ fog: { '1': 50, '2': 30 } }).nr // 40
 */
export function noiseRobustness(accuracy: Record<string, Record<string, number>>): { nr: number; perCorruption: Record<string, number>; cells: number } {
  let sum = 0;
  let cells = 0;
  const per: Record<string, number> = {};
  for (const [id, bySev] of Object.entries(accuracy)) {
    checkCorruption(id);
    const vals = Object.values(bySev);
    for (const v of vals) if (typeof v !== 'number' || !Number.isFinite(v)) throw invalidOption(`accuracy.${id}`, 'finite percentages', v);
    if (vals.length === 0) continue;
    per[id] = vals.reduce((a, b) => a + b, 0) / vals.length;
    sum += vals.reduce((a, b) => a + b, 0);
    cells += vals.length;
  }
  if (cells === 0) throw invalidOption('accuracy', 'at least one cell', accuracy);
  return { nr: sum / cells, perCorruption: per, cells };
}
