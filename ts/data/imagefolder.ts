/**
 * `imagefolder:<dir>`: the ImageNet layout (CONVENTIONS.md "Data names").
 *
 * A *split folder* is either
 *  - class mode: one sub-folder per class; classes sorted by code point and files found recursively and
 *    sorted, as torchvision's `ImageFolder` does (extensions .jpg .jpeg .png .ppm .bmp .pgm .tif .tiff
 *    .webp, case-insensitive); or
 *  - flat mode: image files plus a label file of "file label" lines: `labels.txt` or `val.txt` inside the
 *    folder, or `<folder>.txt` beside it (ImageNet's `val.txt`). Labels are class indices when every label
 *    is an integer, else class names. Images without a line are ignored; a listed file that is missing is
 *    an error.
 *
 * `<dir>` itself is one split folder (split `all`, evaluation only), unless it has sub-folders `train`,
 * `val` and/or `test`: then each is a split folder. Class names are the sorted union over the splits (so a
 * label means the same class in every split).
 */
import { existsSync, readFileSync, readdirSync, statSync, type Dirent } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { QrobustError, UsageError } from '../util/errors.ts';
import { checkIndex, sortCodePoint, usageUnknownSplit } from './common.ts';
import type { Dataset, EncodedSample, Split } from './types.ts';

/** torchvision's IMG_EXTENSIONS. */
export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.ppm', '.bmp', '.pgm', '.tif', '.tiff', '.webp'] as const;

/** Label file names looked for inside a flat split folder, in this order. */
export const LABEL_FILES = ['labels.txt', 'val.txt'] as const;

const SPLIT_DIRS = ['train', 'val', 'test'] as const;

/**
 * True for file names torchvision's ImageFolder would load.
 * @param name a file name
 * @throws never
 * @example
 * isImageFile('x.JPEG') // true
 */
export function isImageFile(name: string): boolean {
  return (IMAGE_EXTENSIONS as readonly string[]).includes(extname(name).toLowerCase());
}

function dirents(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    throw new UsageError(`Cannot list directory ${dir} (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
}

function isDir(path: string, d: Dirent): boolean {
  if (d.isDirectory()) return true;
  if (d.isSymbolicLink()) {
    try {
      return statSync(path).isDirectory();
    } catch {
      return false;
    }
  }
  return false;
}

/** Image files under `dir`, recursively, in torchvision's order (walk roots sorted, then file names). */
function walkImages(dir: string): string[] {
  const roots: [string, string[]][] = [];
  const visit = (d: string): void => {
    const files: string[] = [];
    for (const e of dirents(d)) {
      const p = join(d, e.name);
      if (isDir(p, e)) visit(p);
      else if (isImageFile(e.name)) files.push(e.name);
    }
    roots.push([d, sortCodePoint(files)]);
  };
  visit(dir);
  roots.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return roots.flatMap(([r, fs]) => fs.map((f) => join(r, f)));
}

/** A scanned split folder before labels are mapped to the common class list. */
interface RawSplit {
  name: string;
  dir: string;
  files: string[];
  /** class names (class mode, or flat mode with named labels) or indices (flat mode, numeric labels) */
  labels: (string | number)[];
  mode: 'classes' | 'flat';
  classNames: string[];
}

function findLabelFile(dir: string): string | null {
  for (const f of LABEL_FILES) if (existsSync(join(dir, f))) return join(dir, f);
  const sibling = join(dirname(dir), `${basename(dir)}.txt`);
  return existsSync(sibling) ? sibling : null;
}

function parseLabelFile(file: string): [string, string][] {
  const out: [string, string][] = [];
  readFileSync(file, 'utf8').split(/\r?\n/).forEach((line, i) => {
    const t = line.trim();
    if (t.length === 0 || t.startsWith('#')) return;
    const parts = t.split(/\s+/);
    if (parts.length !== 2) throw new UsageError(`Expected "file label" on line ${i + 1} of ${file} but received '${t.slice(0, 80)}'`);
    out.push([parts[0]!, parts[1]!]);
  });
  if (out.length === 0) throw new UsageError(`Label file ${file} has no "file label" lines`);
  return out;
}

/**
 * Scans one split folder (class mode or flat mode, see the module comment).
 * @param dir the folder
 * @param name the split name used in messages
 * @throws UsageError when it has neither class folders with images nor a label file, or a listed file is missing
 */
function scanSplit(dir: string, name: string): RawSplit {
  const entries = dirents(dir);
  const classDirs = sortCodePoint(entries.filter((e) => isDir(join(dir, e.name), e)).map((e) => e.name));
  const labelFile = findLabelFile(dir);
  const hasFlatImages = entries.some((e) => !isDir(join(dir, e.name), e) && isImageFile(e.name));
  if (labelFile && (hasFlatImages || classDirs.length === 0)) {
    const lines = parseLabelFile(labelFile);
    const present = new Set(entries.map((e) => e.name));
    const numeric = lines.every(([, l]) => /^\d+$/.test(l));
    const files: string[] = [];
    const labels: (string | number)[] = [];
    for (const [f, l] of lines) {
      if (!present.has(f) && !existsSync(join(dir, f))) throw new UsageError(`File ${join(dir, f)} listed in ${labelFile} does not exist`);
      files.push(join(dir, f));
      labels.push(numeric ? Number(l) : l);
    }
    const classNames = numeric ? [] : sortCodePoint([...new Set(labels as string[])]);
    return { name, dir, files, labels, mode: 'flat', classNames };
  }
  if (classDirs.length === 0) {
    throw new UsageError(`Expected class folders or a label file (${LABEL_FILES.join(', ')} or ${basename(dir)}.txt beside it) in ${dir} for imagefolder but found neither`);
  }
  const files: string[] = [];
  const labels: string[] = [];
  const empty: string[] = [];
  for (const c of classDirs) {
    const fs = walkImages(join(dir, c));
    if (fs.length === 0) empty.push(c);
    for (const f of fs) {
      files.push(f);
      labels.push(c);
    }
  }
  if (empty.length > 0) {
    throw new UsageError(`Class folder(s) ${empty.slice(0, 5).join(', ')}${empty.length > 5 ? ', ...' : ''} in ${dir} have no image files (${IMAGE_EXTENSIONS.join(' ')})`);
  }
  return { name, dir, files, labels, mode: 'classes', classNames: classDirs };
}

/** A split of encoded image files with labels. */
export class FileSplit implements Split {
  readonly length: number;
  /**
   * @param name split name
   * @param files absolute paths
   * @param labels one label per file
   */
  constructor(readonly name: string, readonly files: readonly string[], readonly labels: Int32Array) {
    if (files.length !== labels.length) throw new QrobustError(`Split ${name}: ${files.length} files but ${labels.length} labels`);
    this.length = files.length;
  }
  locate(i: number): string {
    return this.files[checkIndex(i, this.length, this.name)]!;
  }
  async get(i: number): Promise<EncodedSample> {
    const file = this.locate(i);
    let b: Buffer;
    try {
      b = await readFile(file);
    } catch (e) {
      throw new QrobustError(`Cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
    }
    return { kind: 'encoded', bytes: new Uint8Array(b.buffer, b.byteOffset, b.length), file, label: this.labels[i]! };
  }
}

/**
 * Maps scanned splits onto one class list: the sorted union of class names; numeric flat labels index it
 * (or, when no split names classes, define classes '0'..max).
 */
function unify(raws: RawSplit[], where: string): { classes: string[]; splits: FileSplit[] } {
  const named = sortCodePoint([...new Set(raws.flatMap((r) => r.classNames))]);
  let classes = named;
  if (classes.length === 0) {
    const max = Math.max(...raws.flatMap((r) => r.labels as number[]));
    classes = Array.from({ length: max + 1 }, (_, i) => String(i));
  }
  const index = new Map(classes.map((c, i) => [c, i]));
  const splits = raws.map((r) => {
    const labels = Int32Array.from(r.labels, (l) => {
      if (typeof l === 'number') {
        if (l >= classes.length) throw new UsageError(`Label ${l} in split ${r.name} of ${where} is out of range 0..${classes.length - 1} (the classes are ${classes.slice(0, 5).join(', ')}...)`);
        return l;
      }
      return index.get(l)!;
    });
    return new FileSplit(r.name, r.files, labels);
  });
  return { classes, splits };
}

/**
 * Opens an ImageFolder tree (see the module comment).
 * @param dir the folder (absolute)
 * @param name the canonical data name, for messages
 * @throws UsageError when the layout is not recognised, a class folder is empty or a labelled file is missing
 * @example
 * const ds = openImageFolder('/data/imagenet', 'imagefolder:/data/imagenet'); ds.split('val').length
 */
export function openImageFolder(dir: string, name = `imagefolder:${dir}`): Dataset {
  const top = dirents(dir);
  const splitNames = SPLIT_DIRS.filter((s) => top.some((e) => e.name === s && isDir(join(dir, s), e)));
  const raws = splitNames.length > 0 ? splitNames.map((s) => scanSplit(join(dir, s), s)) : [scanSplit(dir, 'all')];
  const { classes, splits } = unify(raws, name);
  const byName = new Map(splits.map((s) => [s.name, s]));
  const names = splits.map((s) => s.name);
  return {
    name,
    kind: 'imagefolder',
    classes,
    splits: names,
    trainSplit: byName.has('train') ? 'train' : null,
    testSplit: byName.has('val') ? 'val' : byName.has('test') ? 'test' : byName.has('all') ? 'all' : null,
    cacheDir: null,
    stats: null,
    split(s: string): Split {
      const sp = byName.get(s);
      if (!sp) throw usageUnknownSplit(name, names, s);
      return sp;
    },
  };
}

/**
 * Scans one class-mode folder (used by imagenet-c for each corruption/severity).
 * @example
 * scanClassFolder('/data/imagenet-c/fog/3', 'fog/3', classes).length
 * @param dir the folder with one sub-folder per class
 * @param splitName the split name for messages
 * @param classes the class list labels index
 * @throws UsageError when a class folder is not in `classes` or the folder has no class folders
 */
export function scanClassFolder(dir: string, splitName: string, classes: readonly string[]): FileSplit {
  const raw = scanSplit(dir, splitName);
  if (raw.mode !== 'classes') throw new UsageError(`Expected class folders in ${dir}`);
  const index = new Map(classes.map((c, i) => [c, i]));
  const labels = Int32Array.from(raw.labels as string[], (c) => {
    const l = index.get(c);
    if (l === undefined) throw new UsageError(`Class folder ${join(dir, c)} is not one of the ${classes.length} classes of the first split (${classes.slice(0, 3).join(', ')}...)`);
    return l;
  });
  return new FileSplit(splitName, raw.files, labels);
}

/**
 * Sub-folder names of `dir` (symbolic links to folders included), sorted by code point.
 * @param dir the folder
 * @throws UsageError when it cannot be listed
 * @example
 * subdirs('/data/imagenet/train').length // 1000
 */
export function subdirs(dir: string): string[] {
  return sortCodePoint(dirents(dir).filter((e) => isDir(join(dir, e.name), e)).map((e) => e.name));
}
