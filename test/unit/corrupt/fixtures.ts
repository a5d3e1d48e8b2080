/**
 * Shared by the corruption parity tests: makes sure test/.generated/corrupt holds the outputs of the
 * current scripts/gen-corrupt-fixtures.py (runs it with Debian's /usr/bin/python3 when missing or stale;
 * the real frost photographs in ../shared/data/frost are used when present) and reads them.
 * Returns null (the caller skips with {@link corruptSkipReason}) when Python or its packages, or the
 * addon's corruption kernels, are missing. A failing generator throws (never a silent skip).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { native, repoRoot } from '../../../ts/native/binding.ts';
import type { Image8 } from '../../../ts/corrupt/index.ts';

export const FIXTURE_DIR = join(repoRoot, 'test', '.generated', 'corrupt');
const SCRIPT = join(repoRoot, 'scripts', 'gen-corrupt-fixtures.py');
const PYTHON = '/usr/bin/python3';
/** The reference's frost photographs (test data only, never committed). */
export const FROST_DIR = resolve(repoRoot, '..', 'shared', 'data', 'frost');

export interface DrawFile { file: string; dtype: string; shape: number[] }
export interface FixtureCase {
  id: string;
  severity: number;
  image: string;
  column: 224 | 64 | 32;
  file: string;
  draws: Record<string, DrawFile>;
  scalars: Record<string, number>;
}
export interface CorruptManifest {
  versions: Record<string, string>;
  frost: boolean;
  inputs: Record<string, { file: string; width: number; height: number }>;
  cases: FixtureCase[];
  scriptSha256?: string;
}

let cached: CorruptManifest | null | undefined;
let failure: Error | null = null;
let why = '';

/** Why {@link corruptFixtures} returned null. */
export function corruptSkipReason(): string {
  return why;
}

/**
 * The manifest, generating the fixtures first when needed; null when they cannot be made here.
 * @throws Error when the generator fails for a reason other than a missing package
 */
export function corruptFixtures(): CorruptManifest | null {
  if (failure) throw failure;
  if (cached !== undefined) return cached;
  try {
    cached = load();
  } catch (e) {
    failure = e instanceof Error ? e : new Error(String(e));
    throw failure;
  }
  return cached;
}

function load(): CorruptManifest | null {
  try {
    if (!native().corruptAvailable) {
      why = 'addon built without the image group (corruptAvailable false)';
      return null;
    }
  } catch (e) {
    why = `addon not loadable: ${e instanceof Error ? e.message : String(e)}`;
    return null;
  }
  if (!existsSync(PYTHON)) {
    why = `${PYTHON} not found (needs Debian python3-numpy, -scipy, -skimage, -opencv, -pil, -wand)`;
    return null;
  }
  const frost = existsSync(join(FROST_DIR, 'frost1.png'));
  const sha = createHash('sha256').update(readFileSync(SCRIPT)).update(frost ? 'frost' : 'nofrost').digest('hex');
  const mpath = join(FIXTURE_DIR, 'manifest.json');
  if (existsSync(mpath)) {
    try {
      const m = JSON.parse(readFileSync(mpath, 'utf8')) as CorruptManifest;
      if (m.scriptSha256 === sha) return m;
    } catch {
      // regenerate
    }
  }
  const tmp = `${FIXTURE_DIR}.tmp-${process.pid}`;
  const args = [SCRIPT, '--out', tmp, ...(frost ? ['--frost-dir', FROST_DIR] : [])];
  const r = spawnSync(PYTHON, args, { encoding: 'utf8', timeout: 180000 });
  if (r.status !== 0) {
    rmSync(tmp, { recursive: true, force: true });
    const m = /No module named '([^']+)'/.exec(r.stderr ?? '');
    if (m) {
      why = `python module ${m[1]} is not installed (apt: python3-${m[1]!.split('.')[0]!.replace('cv2', 'opencv')})`;
      return null;
    }
    throw new Error(`scripts/gen-corrupt-fixtures.py failed (${r.status ?? r.signal}): ${(r.stderr ?? '').slice(-2000)}`);
  }
  const m = JSON.parse(readFileSync(join(tmp, 'manifest.json'), 'utf8')) as CorruptManifest;
  m.scriptSha256 = sha;
  writeFileSync(join(tmp, 'manifest.json'), JSON.stringify(m));
  rmSync(FIXTURE_DIR, { recursive: true, force: true });
  renameSync(tmp, FIXTURE_DIR);
  return m;
}

function bytes(rel: string): Uint8Array {
  return new Uint8Array(readFileSync(join(FIXTURE_DIR, rel)));
}

/** An input image of the manifest. */
export function fixtureInput(m: CorruptManifest, name: string): Image8 {
  const i = m.inputs[name]!;
  return { data: bytes(i.file), width: i.width, height: i.height, channels: 3 };
}

/** The reference output of a case. */
export function fixtureOutput(c: FixtureCase): Uint8Array {
  return bytes(c.file);
}

/** A raw draw array as its typed array. */
export function fixtureDraw(c: FixtureCase, label: string): Float64Array | Float32Array | Int32Array | Uint8Array {
  const d = c.draws[label];
  if (!d) throw new Error(`case ${c.id} s${c.severity} ${c.image} has no draw ${label}`);
  const b = bytes(d.file);
  const buf = b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
  switch (d.dtype) {
    case 'float64': return new Float64Array(buf);
    case 'float32': return new Float32Array(buf);
    case 'int32': return new Int32Array(buf);
    case 'uint8': return new Uint8Array(buf);
    default: throw new Error(`unsupported dtype ${d.dtype}`);
  }
}

/** The draws record the TS corruption expects, built from the reference's draws. */
export function fixtureDraws(c: FixtureCase): unknown {
  switch (c.id) {
    case 'gaussian_noise': return { noise: fixtureDraw(c, 'noise') };
    case 'shot_noise': return { counts: fixtureDraw(c, 'counts') };
    case 'impulse_noise': return { flipped: fixtureDraw(c, 'flipped'), salted: fixtureDraw(c, 'salted') };
    case 'glass_blur': return { offsets: fixtureDraw(c, 'offsets') };
    case 'motion_blur': return { angle: c.scalars.angle };
    case 'snow': return { layer: fixtureDraw(c, 'layer'), angle: c.scalars.angle };
    case 'frost': return { index: c.scalars.index, top: c.scalars.top, left: c.scalars.left };
    case 'fog': return { plasma: fixtureDraw(c, 'plasma'), mapsize: c.scalars.mapsize };
    case 'elastic_transform': return { jitter: fixtureDraw(c, 'jitter'), ux: fixtureDraw(c, 'ux'), uy: fixtureDraw(c, 'uy') };
    default: return null;
  }
}

/** Per-pixel comparison: mean and max |Δ| and the count of differing bytes. */
export function diffStats(a: Uint8Array, b: Uint8Array): { mean: number; max: number; differ: number } {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let sum = 0;
  let max = 0;
  let differ = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    sum += d;
    if (d > max) max = d;
    if (d) differ++;
  }
  return { mean: sum / a.length, max, differ };
}

/** Runs the real CLI entry point (ts/cli/bin.mjs) as a user would. */
export function runCli(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['ts/cli/bin.mjs', ...args], { cwd: repoRoot, encoding: 'utf8', env: process.env, timeout: 120000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
