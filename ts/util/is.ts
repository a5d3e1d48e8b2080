/**
 * Argument checks in the style of CONVENTIONS.md. Each returns the checked (and narrowed) value or
 * throws a {@link UsageError} naming the option, the allowed values and what was received.
 */
import { invalidOption } from './errors.ts';

/**
 * An integer within [min, max].
 * @throws UsageError when `v` is not an integer in range
 * @example
 * int('--batch', 64, 1, 4096) // 64
 */
export function int(name: string, v: unknown, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    const range = min === Number.MIN_SAFE_INTEGER && max === Number.MAX_SAFE_INTEGER ? 'integer'
      : max === Number.MAX_SAFE_INTEGER ? `integer >= ${min}` : `integer ${min}..${max}`;
    throw invalidOption(name, range, v);
  }
  return v;
}

/** A finite number within [min, max]. */
export function num(name: string, v: unknown, min = -Infinity, max = Infinity): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    throw invalidOption(name, `number in [${min}, ${max}]`, v);
  }
  return v;
}

/** One of a fixed list of strings. */
export function oneOf<T extends string>(name: string, v: unknown, allowed: readonly T[]): T {
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    throw invalidOption(name, `one of ${allowed.join(', ')}`, v);
  }
  return v as T;
}

/** Parses a CLI integer string strictly ("12" yes, "12x" / "1.5" no). */
export function parseIntFlag(name: string, s: string, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): number {
  if (!/^-?\d+$/.test(s.trim())) throw invalidOption(name, 'an integer', s);
  return int(name, Number(s), min, max);
}

/** Parses a comma-separated list flag, each item checked against `allowed` when given. */
export function parseListFlag<T extends string>(name: string, s: string, allowed?: readonly T[]): T[] {
  const items = s.split(',').map((x) => x.trim()).filter((x) => x.length > 0);
  if (items.length === 0) throw invalidOption(name, allowed ? `a comma-separated list of ${allowed.join(', ')}` : 'a non-empty list', s);
  if (allowed) for (const it of items) oneOf(name, it, allowed);
  return items as T[];
}
