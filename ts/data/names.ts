/**
 * Parsing of the data names of CONVENTIONS.md: `fashion-mnist`, `imagefolder:<dir>`, `imagenet-c:<dir>`,
 * `cifar10:<dir>`, `idx:<dir>`. Errors are one-line {@link UsageError}s (exit code 2).
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError, invalidOption } from '../util/errors.ts';
import type { DataKind } from './types.ts';

/** The names `--data` accepts, as printed in errors and help. */
export const DATA_NAMES = ['fashion-mnist', 'imagefolder:<dir>', 'imagenet-c:<dir>', 'cifar10:<dir>', 'idx:<dir>'] as const;

const DIR_SCHEMES = ['imagefolder', 'imagenet-c', 'cifar10', 'idx'] as const satisfies readonly DataKind[];

/** A parsed data name. `dir` is absolute (resolved against the working directory) or null for fashion-mnist. */
export interface DataName {
  kind: DataKind;
  dir: string | null;
  /** canonical spelling: `fashion-mnist` or `<scheme>:<absolute dir>` */
  canonical: string;
}

/**
 * Parses and checks a data name. Directories must exist (checked here so the error names the option).
 * @param name the `--data` value
 * @param option the option name used in error messages (default `--data`)
 * @throws UsageError for an unknown scheme (listing the allowed names), an empty directory part, or a
 *   directory that does not exist or is not a directory
 * @example
 * parseDataName('fashion-mnist') // { kind: 'fashion-mnist', dir: null, canonical: 'fashion-mnist' }
 * parseDataName('cifar10:/data/cifar-10-batches-bin').kind // 'cifar10'
 */
export function parseDataName(name: unknown, option = '--data'): DataName {
  const allowed = `one of ${DATA_NAMES.join(', ')}`;
  if (typeof name !== 'string' || name.length === 0) throw invalidOption(option, allowed, name);
  if (name === 'fashion-mnist') return { kind: 'fashion-mnist', dir: null, canonical: 'fashion-mnist' };
  const colon = name.indexOf(':');
  const scheme = colon < 0 ? name : name.slice(0, colon);
  if (colon < 0 || !(DIR_SCHEMES as readonly string[]).includes(scheme)) {
    if ((DIR_SCHEMES as readonly string[]).includes(scheme)) {
      throw invalidOption(option, `${scheme}:<dir> (a directory after the colon)`, name);
    }
    throw invalidOption(option, allowed, name);
  }
  const rawDir = name.slice(colon + 1);
  if (rawDir.length === 0) throw invalidOption(option, `${scheme}:<dir> (a directory after the colon)`, name);
  const dir = resolve(rawDir);
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    throw new UsageError(`Directory ${dir} for ${option} ${name} does not exist`);
  }
  if (!isDir) throw new UsageError(`Expected a directory for ${option} ${name} but ${dir} is not a directory`);
  return { kind: scheme as DataKind, dir, canonical: `${scheme}:${dir}` };
}
