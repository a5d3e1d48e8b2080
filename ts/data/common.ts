/** Small helpers shared by the readers. */
import { QrobustError, UsageError } from '../util/errors.ts';

/**
 * The error for an unknown split name.
 * @param data the data name
 * @param allowed the splits it has
 * @param name what was asked for
 * @throws never; returns the error
 * @example
 * usageUnknownSplit('fashion-mnist', ['train', 'test'], 'val').message
 * // "Expected one of train, test for the split of fashion-mnist but received 'val'"
 */
export function usageUnknownSplit(data: string, allowed: readonly string[], name: string): UsageError {
  const list = allowed.length > 12 ? `${allowed.slice(0, 12).join(', ')}, ... (${allowed.length} in all)` : allowed.join(', ');
  return new UsageError(`Expected one of ${list} for the split of ${data} but received '${name}'`);
}

/**
 * Checks a sample index.
 * @param i the index
 * @param n the split length
 * @param split the split name, for the message
 * @throws QrobustError when `i` is not an integer in 0..n-1
 * @example
 * checkIndex(3, 10, 'test') // 3
 */
export function checkIndex(i: number, n: number, split: string): number {
  if (!Number.isInteger(i) || i < 0 || i >= n) throw new QrobustError(`Sample index ${i} out of range 0..${n - 1} for split ${split}`);
  return i;
}

/**
 * Sorts strings by code point, as Python's sorted() does (torchvision's class and file order), in place.
 * @param a the strings
 * @throws never
 * @example
 * sortCodePoint(['b', 'C', 'a']) // ['C', 'a', 'b']
 */
export function sortCodePoint(a: string[]): string[] {
  return a.sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
}
