/** File helpers shared by the format codecs: one place maps "missing file" to a UsageError naming it. */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { QrobustError, UsageError } from '../util/errors.ts';

/**
 * Reads a whole input file.
 * @param path the file the user named
 * @returns its bytes (a Buffer, so byteOffset is 0 for files over 4 KiB)
 * @throws UsageError when the file does not exist or is not a regular file; QrobustError when reading fails
 * @example
 * readInputFile('package.json').length > 0 // => true
 */
export function readInputFile(path: string): Uint8Array {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new UsageError(`Expected an existing file for ${path} but it does not exist`);
  }
  if (!st.isFile()) throw new UsageError(`Expected a file for ${path} but it is not a regular file`);
  try {
    return readFileSync(path);
  } catch (err) {
    throw new QrobustError(`Cannot read ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/**
 * Writes bytes to a file.
 * @param path the output file
 * @param bytes the content
 * @throws QrobustError naming the file when writing fails
 * @example
 * writeOutputFile('test/.generated/formats/x.bin', new Uint8Array([1]));
 * readInputFile('test/.generated/formats/x.bin').length // => 1
 */
export function writeOutputFile(path: string, bytes: Uint8Array): void {
  try {
    writeFileSync(path, bytes);
  } catch (err) {
    throw new QrobustError(`Cannot write ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
}
