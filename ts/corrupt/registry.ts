/**
 * The corruption registry: each corruption is a {@link CorruptionDef} registered by name. A definition
 * splits into `draw` (every random number, taken from the generator passed in) and `apply` (the
 * deterministic rest), so tests can inject the reference's draws (a fixed motion angle, glass offsets,
 * elastic fields, frost crop, noise arrays) and compare per pixel.
 */
import { UsageError } from '../util/errors.ts';
import type { Rng } from '../util/rng.ts';
import type { CorruptContext, Image8 } from './common.ts';
import { CORRUPTIONS, type Column, type CorruptionId, type Params } from './tables.ts';

/** One corruption. `D` is the record of its random draws. */
export interface CorruptionDef<K extends CorruptionId = CorruptionId, D = unknown> {
  id: K;
  /** Every random draw for one image, from `rng` only. */
  draw(rng: Rng, img: Image8, p: Params[K], ctx: CorruptContext): D | Promise<D>;
  /** The deterministic part, given the draws. */
  apply(img: Image8, p: Params[K], draws: D, ctx: CorruptContext): Promise<Image8>;
}

const registry = new Map<CorruptionId, CorruptionDef<CorruptionId, unknown>>();

/**
 * Registers a corruption under its id (the 15 register themselves when ts/corrupt is imported).
 * @param def the definition
 * @throws UsageError for an id outside the 15, or one already registered
 * @example
 * // the 15 register themselves on import; a second registration of an id is refused:
 * (() => { try { registerCorruption(corruptionDef('fog')); return 'registered'; } catch { return 'refused'; } })() // 'refused'
 */
export function registerCorruption<K extends CorruptionId, D>(def: CorruptionDef<K, D>): void {
  if (!(CORRUPTIONS as readonly string[]).includes(def.id)) throw new UsageError(`Expected one of ${CORRUPTIONS.join(', ')} for corruption id but received '${def.id}'`);
  if (registry.has(def.id)) throw new UsageError(`corruption ${def.id} is already registered`);
  registry.set(def.id, def as unknown as CorruptionDef<CorruptionId, unknown>);
}

/**
 * The definition registered under `id`.
 * @throws UsageError listing the 15 ids when `id` is unknown
 * @example
 * corruptionDef('fog').id // 'fog'
 */
export function corruptionDef<K extends CorruptionId>(id: K): CorruptionDef<K, unknown> {
  const d = registry.get(id);
  if (!d) throw new UsageError(`Unknown corruption '${String(id)}': expected one of ${CORRUPTIONS.join(', ')}`);
  return d as unknown as CorruptionDef<K, unknown>;
}

/** The column type re-exported for definitions. */
export type { Column };
