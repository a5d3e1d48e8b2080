/**
 * Error types with the exit codes of CONVENTIONS.md: a {@link UsageError} (bad flag, value, data name,
 * missing file the user named) exits 2; a {@link QrobustError} (runtime failure) exits 1.
 * Messages are one line naming the option or file, what is allowed and what was received.
 */

/** A runtime failure (exit code 1). */
export class QrobustError extends Error {
  readonly exitCode: number = 1;
  constructor(message: string) {
    super(message);
    this.name = 'QrobustError';
  }
}

/** A usage error: bad flag, bad value, unknown name, missing input (exit code 2). */
export class UsageError extends QrobustError {
  override readonly exitCode: number = 2;
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Describes a received value the way the error messages quote it: `7 of type number`. */
export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (typeof v === 'string') return `'${v}' of type string`;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return `${String(v)} of type ${typeof v}`;
  if (ArrayBuffer.isView(v)) return `a ${v.constructor.name}`;
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  return `a value of type ${typeof v}`;
}

/**
 * The standard "bad option" error.
 * @param name the option, argument or field, e.g. `--severity` or `severity`
 * @param expected what is allowed, e.g. `integer 1..5`
 * @param actual what was received
 * @throws never; returns the error for the caller to throw
 * @example
 * invalidOption('severity', 'integer 1..5', 7).message
 * // "Expected integer 1..5 for severity but received 7 of type number"
 */
export function invalidOption(name: string, expected: string, actual: unknown): UsageError {
  return new UsageError(`Expected ${expected} for ${name} but received ${describeValue(actual)}`);
}

/** Turns any thrown value into the one line printed by the CLI. */
export function oneLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.replace(/\s*\n\s*/g, ' ').trim();
}

/** Exit code for a thrown value: 2 for usage errors, 1 otherwise. */
export function exitCodeOf(err: unknown): number {
  return err instanceof QrobustError ? err.exitCode : 1;
}
