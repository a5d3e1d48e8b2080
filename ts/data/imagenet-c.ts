/**
 * `imagenet-c:<dir>`: the released ImageNet-C tree, `<corruption>/<severity>/<class>/*.JPEG`.
 *
 * Each corruption+severity is one split, named `<corruption>/<severity>` (e.g. `gaussian_noise/3`); splits are
 * listed with the 15 corruptions of PROTOCOL.md §3 first, in the reference order, then any other corruption
 * folders (the held-out ones) by name, severities ascending. Classes are the sorted class folders of the
 * first split; every split labels by that list. Splits are scanned lazily (the released tree has 3.75 M
 * files), so opening only lists the corruption and severity folders.
 */
import { join } from 'node:path';
import { UsageError } from '../util/errors.ts';
import { usageUnknownSplit } from './common.ts';
import { scanClassFolder, subdirs, type FileSplit } from './imagefolder.ts';
import type { Dataset, Split } from './types.ts';

/** The 15 corruptions of PROTOCOL.md §3, reference order. */
export const IMAGENET_C_CORRUPTIONS = [
  'gaussian_noise', 'shot_noise', 'impulse_noise', 'defocus_blur', 'glass_blur', 'motion_blur', 'zoom_blur',
  'snow', 'frost', 'fog', 'brightness', 'contrast', 'elastic_transform', 'pixelate', 'jpeg_compression',
] as const;

/**
 * Opens an ImageNet-C tree.
 * @param dir the tree root (absolute)
 * @param name the canonical data name, for messages
 * @throws UsageError when no `<corruption>/<severity>/` folder (severity an integer) exists
 * @example
 * const ds = openImagenetC('/data/imagenet-c'); ds.splits[0] // 'gaussian_noise/1'
 * const s = ds.split('gaussian_noise/3');
 */
export function openImagenetC(dir: string, name = `imagenet-c:${dir}`): Dataset {
  const corruptions = subdirs(dir);
  const ref = IMAGENET_C_CORRUPTIONS as readonly string[];
  corruptions.sort((a, b) => {
    const ia = ref.indexOf(a);
    const ib = ref.indexOf(b);
    if (ia >= 0 || ib >= 0) return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib);
    return a < b ? -1 : a > b ? 1 : 0;
  });
  const splitNames: string[] = [];
  for (const c of corruptions) {
    const sev = subdirs(join(dir, c)).filter((s) => /^\d+$/.test(s)).sort((a, b) => Number(a) - Number(b));
    for (const s of sev) splitNames.push(`${c}/${s}`);
  }
  if (splitNames.length === 0) {
    throw new UsageError(`Expected <corruption>/<severity>/<class>/ folders (e.g. gaussian_noise/1/n01440764/) in ${dir} for imagenet-c but found none`);
  }
  const classes = subdirs(join(dir, splitNames[0]!));
  if (classes.length === 0) throw new UsageError(`Expected class folders in ${join(dir, splitNames[0]!)} for imagenet-c but found none`);
  const cache = new Map<string, FileSplit>();
  return {
    name,
    kind: 'imagenet-c',
    classes,
    splits: splitNames,
    trainSplit: null,
    testSplit: null,
    cacheDir: null,
    stats: null,
    split(s: string): Split {
      if (!splitNames.includes(s)) throw usageUnknownSplit(name, splitNames, s);
      let sp = cache.get(s);
      if (!sp) {
        sp = scanClassFolder(join(dir, s), s, classes);
        cache.set(s, sp);
      }
      return sp;
    },
  };
}
