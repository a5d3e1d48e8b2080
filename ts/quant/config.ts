/**
 * Quantization configs as frozen, versioned JSON data (PROTOCOL.md §1 and §7.6 / §7.7).
 *
 * A config names the method (`dorefa`, `pact`, `lsq`), the bit width of the body (2, 4, 6, 8; the first conv
 * and the last linear always run at 8 bits), the code base whose semantics are reproduced (`academic` =
 * mqbench-paper, the default; `library` = the newer MQBench library), per-tensor or per-channel weight scales
 * and the observer mode used for evaluation (`frozen`, the default, or `faithful`). `quantConfig` checks
 * every field and returns a frozen object; `toJSON` / `parseQuantConfig` round-trip it with its version tag.
 */
import { UsageError, describeValue, invalidOption } from '../util/errors.ts';

/** The version tag every serialised config carries. */
export const QUANT_CONFIG_VERSION = 'qrobust-quant/1';

export const QUANT_METHODS = ['dorefa', 'pact', 'lsq'] as const;
export type QuantMethod = (typeof QUANT_METHODS)[number];

export const QUANT_BITS = [2, 4, 6, 8] as const;
export type QuantBits = (typeof QUANT_BITS)[number];

export const QUANT_VARIANTS = ['academic', 'library'] as const;
export type QuantVariant = (typeof QUANT_VARIANTS)[number];

/**
 * `faithful`: DoReFa / PACT min/max observers run on every batch, at evaluation too (as mqbench-paper), and
 * the signed → unsigned switch of an activation quantizer may still happen on a later batch.
 * `frozen`: ranges calibrated once after training (mean of per-batch min / max over calibration batches) and
 * fixed; the sign chosen at build time is kept. Results do not depend on the batch. LSQ is the same in both.
 */
export const OBSERVER_MODES = ['frozen', 'faithful'] as const;
export type ObserverMode = (typeof OBSERVER_MODES)[number];

/** A checked, frozen quantization config. */
export interface QuantConfig {
  readonly version: typeof QUANT_CONFIG_VERSION;
  readonly method: QuantMethod;
  readonly bits: QuantBits;
  readonly variant: QuantVariant;
  readonly perChannel: boolean;
  readonly observerMode: ObserverMode;
  /** bits of the first conv and the last linear (weights and input activations): 8 */
  readonly firstLastBits: 8;
}

/** An unknown quantization method (exit 2). */
export class UnknownMethodError extends UsageError {
  constructor(readonly received: unknown, option = '--method') {
    super(`Expected one of ${QUANT_METHODS.join(', ')} for ${option} but received ${describeValue(received)}`);
    this.name = 'UnknownMethodError';
  }
}

/** A bit width outside 2, 4, 6, 8 (exit 2). */
export class UnsupportedBitsError extends UsageError {
  constructor(readonly received: unknown, option = '--bits') {
    super(`Expected one of ${QUANT_BITS.join(', ')} for ${option} but received ${describeValue(received)}`);
    this.name = 'UnsupportedBitsError';
  }
}

/** A checkpoint that is not a float (FP) checkpoint where one is required (exit 2). */
export class NotFloatCheckpointError extends UsageError {
  constructor(file: string, what: string) {
    super(`Expected a float (FP) checkpoint for --model but ${file} is ${what}`);
    this.name = 'NotFloatCheckpointError';
  }
}

/** Input of {@link quantConfig}; missing fields take the defaults (academic, per-tensor, frozen). */
export interface QuantConfigInput {
  method: unknown;
  bits: unknown;
  variant?: unknown;
  perChannel?: unknown;
  observerMode?: unknown;
}

/**
 * Checks and freezes a config.
 * @param c method and bits (required), variant / perChannel / observerMode (optional)
 * @throws UnknownMethodError, UnsupportedBitsError, or UsageError naming a bad variant / mode / flag
 * @example
 * quantConfig({ method: 'lsq', bits: 4 }).observerMode // 'frozen'
 */
export function quantConfig(c: QuantConfigInput): QuantConfig {
  if (c === null || typeof c !== 'object') throw invalidOption('quant config', 'an object { method, bits, ... }', c);
  if (typeof c.method !== 'string' || !(QUANT_METHODS as readonly string[]).includes(c.method)) throw new UnknownMethodError(c.method);
  const bits = typeof c.bits === 'string' && /^\s*\d+\s*$/.test(c.bits) ? Number(c.bits) : c.bits;
  if (typeof bits !== 'number' || !(QUANT_BITS as readonly number[]).includes(bits)) throw new UnsupportedBitsError(c.bits);
  const variant = c.variant ?? 'academic';
  if (typeof variant !== 'string' || !(QUANT_VARIANTS as readonly string[]).includes(variant)) throw invalidOption('--variant', `one of ${QUANT_VARIANTS.join(', ')}`, variant);
  const mode = c.observerMode ?? 'frozen';
  if (typeof mode !== 'string' || !(OBSERVER_MODES as readonly string[]).includes(mode)) throw invalidOption('--observer-mode', `one of ${OBSERVER_MODES.join(', ')}`, mode);
  const perChannel = c.perChannel ?? false;
  if (typeof perChannel !== 'boolean') throw invalidOption('--per-channel', 'true or false', perChannel);
  return Object.freeze({
    version: QUANT_CONFIG_VERSION, method: c.method as QuantMethod, bits: bits as QuantBits, variant: variant as QuantVariant,
    perChannel, observerMode: mode as ObserverMode, firstLastBits: 8 as const,
  });
}

/** The JSON form (snake_case keys, the version tag first). */
export interface QuantConfigJson {
  version: string;
  method: string;
  bits: number;
  variant: string;
  per_channel: boolean;
  observer_mode: string;
  first_last_bits: number;
}

/**
 * The config as JSON data.
 * @throws never
 * @example
 * quantConfigToJson(quantConfig({ method: 'pact', bits: 4 })).version // 'qrobust-quant/1'
 */
export function quantConfigToJson(c: QuantConfig): QuantConfigJson {
  return { version: c.version, method: c.method, bits: c.bits, variant: c.variant, per_channel: c.perChannel, observer_mode: c.observerMode, first_last_bits: c.firstLastBits };
}

/**
 * Parses a serialised config (an object or its JSON text), checking the version tag.
 * @param v the JSON value or text
 * @param where names the source in errors (a file, `checkpoint metadata`)
 * @throws UsageError for another version or a bad field (named)
 * @example
 * parseQuantConfig(quantConfigToJson(quantConfig({ method: 'lsq', bits: 2 }))).bits // 2
 */
export function parseQuantConfig(v: unknown, where = 'quant config'): QuantConfig {
  let j = v;
  if (typeof v === 'string') {
    try {
      j = JSON.parse(v);
    } catch {
      throw new UsageError(`${where}: not valid JSON`);
    }
  }
  if (j === null || typeof j !== 'object') throw invalidOption(where, 'a quant config object', j);
  const o = j as Record<string, unknown>;
  if (o.version !== QUANT_CONFIG_VERSION) throw invalidOption(`${where} version`, `'${QUANT_CONFIG_VERSION}'`, o.version);
  if (o.first_last_bits !== 8) throw invalidOption(`${where} first_last_bits`, '8', o.first_last_bits);
  return quantConfig({ method: o.method, bits: o.bits, variant: o.variant, perChannel: o.per_channel, observerMode: o.observer_mode });
}

/**
 * A short id for file names and tables: `lsq-4`, `dorefa-2-library`, `pact-8-pc`.
 * @throws never
 * @example
 * quantId(quantConfig({ method: 'lsq', bits: 4 })) // 'lsq-4'
 */
export function quantId(c: QuantConfig): string {
  return `${c.method}-${c.bits}${c.variant === 'library' ? '-library' : ''}${c.perChannel ? '-pc' : ''}`;
}

/** What a q-checkpoint records about its quantization (safetensors metadata key `quant`, JSON). */
export interface QuantMeta {
  /** the config ({@link quantConfigToJson}) */
  config: QuantConfigJson;
  /** the FP checkpoint it was fine-tuned from */
  fp: { checkpoint: string; arch: string; seed: number; epochs: number; top1: number | null };
  /** the calibration of the frozen ranges, or null (faithful mode, or nothing to calibrate) */
  calibration: { batches: number; batch: number; seed: number; split: string } | null;
}

/**
 * Checks the `quant` record of a checkpoint's metadata.
 * @param v the parsed JSON value
 * @param where the file, for errors
 * @throws UsageError naming the bad field
 */
export function parseQuantMeta(v: unknown, where: string): QuantMeta {
  if (v === null || typeof v !== 'object') throw invalidOption(`${where} metadata quant`, 'an object', v);
  const o = v as Record<string, unknown>;
  parseQuantConfig(o.config, `${where} metadata quant.config`);
  if (o.fp === null || typeof o.fp !== 'object') throw invalidOption(`${where} metadata quant.fp`, 'an object', o.fp);
  return o as unknown as QuantMeta;
}
