/**
 * The 15 ImageNet-C corruptions (PROTOCOL.md §3), each `f(image uint8 HWC, severity 1..5, rng) → uint8
 * HWC`, table-driven (ts/corrupt/tables.ts: 224 / 64 / 32 columns chosen from the image size, or given)
 * and registered by name. {@link corrupt} is what the corruption suite and the CLI call; tests use
 * {@link corruptWithDraws} to inject the reference's random draws.
 */
import { UsageError, invalidOption } from '../util/errors.ts';
import { Rng } from '../util/rng.ts';
import { checkRgb, type CorruptContext, type Image8 } from './common.ts';
import { corruptionDef } from './registry.ts';
import { CORRUPTIONS, TABLES, columnFor, type Column, type CorruptionId, type Params } from './tables.ts';
import './noise.ts';
import './blur.ts';
import './weather.ts';
import './digital.ts';

export { CORRUPTIONS, FAMILY, TABLES, COLUMNS, columnFor, npArange, parseColumn, type Column, type CorruptionId, type Params } from './tables.ts';
export { corruptionDef, registerCorruption, type CorruptionDef } from './registry.ts';
export { checkRgb, type Image8, type CorruptContext } from './common.ts';
export { plasmaFractal } from './plasma.ts';
export { poisson } from './poisson.ts';
export { frostTexture, proceduralFrost, FROST_FILES } from './frost-textures.ts';

/** Options of {@link corrupt}. */
export interface CorruptOptions {
  /** Table column (224, 64, 32); default {@link columnFor} the image size. */
  column?: Column;
  /** Overrides the parameters: a whole five-entry table, or the tuple for this severity. */
  params?: unknown;
  /** A folder with the reference's frost1.png … frost5.jpg; default: procedural textures. */
  frostDir?: string;
}

/**
 * Checks a corruption name.
 * @throws UsageError listing the 15 names
 * @example
 * checkCorruption('fog') // 'fog'
 */
export function checkCorruption(name: unknown): CorruptionId {
  if (typeof name !== 'string' || !(CORRUPTIONS as readonly string[]).includes(name)) {
    throw new UsageError(`Unknown corruption ${typeof name === 'string' ? `'${name}'` : String(name)}: expected one of ${CORRUPTIONS.join(', ')}`);
  }
  return name as CorruptionId;
}

/**
 * Checks a severity.
 * @throws UsageError unless an integer 1..5
 * @example
 * checkSeverity(3) // 3
 */
export function checkSeverity(severity: unknown): 1 | 2 | 3 | 4 | 5 {
  if (typeof severity !== 'number' || !Number.isInteger(severity) || severity < 1 || severity > 5) throw invalidOption('severity', 'integer 1..5', severity);
  return severity as 1 | 2 | 3 | 4 | 5;
}

/**
 * The parameters a corruption uses at a severity for an image of the given size.
 * @param id corruption
 * @param severity 1..5
 * @param column table column
 * @param override `CorruptOptions.params`
 * @throws UsageError on an unknown id or severity, or an override of the wrong shape
 * @example
 * severityParams('zoom_blur', 1, 224) // [1.11, 0.01]
 */
export function severityParams<K extends CorruptionId>(id: K, severity: number, column: Column, override?: unknown): Params[K] {
  checkCorruption(id);
  const s = checkSeverity(severity);
  const table = TABLES[id][column] as readonly Params[K][];
  const ref = table[s - 1]!;
  if (override === undefined) return ref;
  const pick = Array.isArray(override) && override.length === 5 && (Array.isArray(override[0]) === Array.isArray(ref)) && (Array.isArray(ref) || typeof override[0] === 'number')
    ? override[s - 1] : override;
  const ok = Array.isArray(ref)
    ? Array.isArray(pick) && pick.length === ref.length && pick.every((v) => typeof v === 'number' && Number.isFinite(v))
    : typeof pick === 'number' && Number.isFinite(pick);
  if (!ok) {
    throw invalidOption(`params of ${id}`, Array.isArray(ref) ? `a tuple of ${ref.length} numbers or a table of 5 such tuples` : 'a number or a table of 5 numbers', override);
  }
  return pick as Params[K];
}

function context(img: Image8, opts: CorruptOptions): CorruptContext {
  const column = opts.column ?? columnFor(img.height, img.width);
  return { column, frostDir: opts.frostDir };
}

/**
 * Applies one corruption at one severity. Every random draw comes from `rng`.
 * @param img uint8 RGB HWC
 * @param id one of the 15 {@link CORRUPTIONS}
 * @param severity 1..5
 * @param rng the generator (its seed goes into results)
 * @param opts table column, parameter override, frost photographs
 * @throws UsageError for an unknown corruption (listing the 15), a severity outside 1..5, or an image
 *   that is not uint8 HxWx3; QrobustError when the addon lacks a library a corruption needs
 * @example
 * const out = await corrupt(img, 'fog', 3, new Rng(0));
 * out.width === img.width // true
 */
export async function corrupt(img: Image8, id: string, severity: number, rng: Rng, opts: CorruptOptions = {}): Promise<Image8> {
  const cid = checkCorruption(id);
  checkSeverity(severity);
  checkRgb(img);
  if (!(rng instanceof Rng)) throw invalidOption('rng', 'an Rng', rng);
  const ctx = context(img, opts);
  const p = severityParams(cid, severity, ctx.column, opts.params);
  const def = corruptionDef(cid);
  const draws = await def.draw(rng, img, p, ctx);
  return def.apply(img, p, draws, ctx);
}

/**
 * The deterministic part of a corruption with given draws (the reference's, in tests).
 * @param img uint8 RGB HWC
 * @param id corruption
 * @param severity 1..5
 * @param draws the record `draw` would have produced (see each family's `*Draws` type)
 * @param opts as for {@link corrupt}
 * @throws UsageError as {@link corrupt}
 * @example
 * (await corruptWithDraws(img, 'motion_blur', 2, { angle: 30 })).height // 32
 */
export async function corruptWithDraws(img: Image8, id: string, severity: number, draws: unknown, opts: CorruptOptions = {}): Promise<Image8> {
  const cid = checkCorruption(id);
  checkSeverity(severity);
  checkRgb(img);
  const ctx = context(img, opts);
  const p = severityParams(cid, severity, ctx.column, opts.params);
  return corruptionDef(cid).apply(img, p, draws, ctx);
}
export { corruptSample, corruptionCells, noiseRobustness, parseSeverities, sampleRng, type CorruptionCell, type SampleOptions } from './suite.ts';
