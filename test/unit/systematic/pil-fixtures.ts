/**
 * Shared by the Pillow parity tests: makes sure test/.generated/pil holds the fixtures of the current
 * scripts/gen-pil-fixtures.py (runs it with Debian's /usr/bin/python3 when missing or stale) and reads them.
 * Returns null (the caller skips with the reason) when python3-pil is not installed or the addon has
 * no image support.
 */
import { loadGeneratedFixtures } from '../generated-fixtures.ts';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../../ts/native/binding.ts';
import { imageAvailable } from '../../../ts/native/image.ts';

export const FIXTURE_DIR = join(repoRoot, 'test', '.generated', 'pil');
const SCRIPT = join(repoRoot, 'scripts', 'gen-pil-fixtures.py');
const PYTHON = '/usr/bin/python3';

export interface Manifest {
  versions: { pillow: string; python: string; djpeg: string | null };
  inputs: Record<string, { file: string; width: number; height: number }>;
  resize: { id: string; source: string; filter: string; width: number; height: number; file: string }[];
  reduce: { id: string; source: string; fx: number; fy: number; width: number; height: number; file: string }[];
  jpeg: { id: string; file: string; mode: string; width: number; height: number; pillow: string; djpeg: Record<string, string> }[];
  cmyk: { file: string; pillow: string; mode: string };
  encode: { id: string; source: string; quality: number; jpeg: string; decoded: string }[];
  pipelines: { id: string; jpeg: string; decoder: string; filter: string; mode: 'onecrop' | 'square'; size: number; file: string }[];
}

let cached: Manifest | null | undefined;
let failure: Error | null = null;
let why = '';

/**
 * The manifest, generating the fixtures first when needed; null with {@link skipReason} when Pillow or
 * libjpeg support is absent. A failing generator throws, every time (never a silent skip).
 */
export function pilFixtures(): Manifest | null {
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

function load(): Manifest | null {
  if (!imageAvailable()) {
    why = 'addon built without libjpeg (imageAvailable false)';
    return null;
  }
  const r = loadGeneratedFixtures<Manifest>({ python: PYTHON, script: SCRIPT, dir: FIXTURE_DIR, module: 'PIL', apt: 'python3-pil' });
  why = r.why;
  return r.manifest;
}

/** Why {@link pilFixtures} returned null. */
export function skipReason(): string {
  return why;
}

/** A fixture file's bytes. */
export function fixture(rel: string): Uint8Array {
  const b = readFileSync(join(FIXTURE_DIR, rel));
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}

/** Reads a binary PPM (P6) or PGM (P5) as RGB (grey replicated). */
export function readPnm(bytes: Uint8Array): { data: Uint8Array; width: number; height: number } {
  let pos = 0;
  const tokens: string[] = [];
  while (tokens.length < 4) {
    while (pos < bytes.length && /\s/.test(String.fromCharCode(bytes[pos]!))) pos++;
    if (bytes[pos] === 0x23) {
      while (pos < bytes.length && bytes[pos] !== 0x0a) pos++;
      continue;
    }
    let t = '';
    while (pos < bytes.length && !/\s/.test(String.fromCharCode(bytes[pos]!))) t += String.fromCharCode(bytes[pos++]!);
    tokens.push(t);
  }
  pos++; // the single whitespace after maxval
  const [magic, w, h, max] = tokens as [string, string, string, string];
  if ((magic !== 'P6' && magic !== 'P5') || max !== '255') throw new Error(`unsupported PNM header ${tokens.join(' ')}`);
  const width = Number(w);
  const height = Number(h);
  const body = bytes.subarray(pos);
  if (magic === 'P6') return { data: body.subarray(0, width * height * 3), width, height };
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) data[i * 3] = data[i * 3 + 1] = data[i * 3 + 2] = body[i]!;
  return { data, width, height };
}

/** Number of differing bytes and the largest absolute difference. */
export function compareBytes(a: Uint8Array, b: Uint8Array): { mismatches: number; maxDiff: number } {
  if (a.length !== b.length) return { mismatches: Math.max(a.length, b.length), maxDiff: 255 };
  let mismatches = 0;
  let maxDiff = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (d) {
      mismatches++;
      if (d > maxDiff) maxDiff = d;
    }
  }
  return { mismatches, maxDiff };
}

/** Runs the real CLI entry point (ts/cli/bin.mjs) in a child process, as a user would. */
export function runCliProcess(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['ts/cli/bin.mjs', ...args], { cwd: repoRoot, encoding: 'utf8', timeout: 120000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Runs the CLI's main() in this process (fast), capturing what it writes to stdout and stderr. */
export async function runCliInProcess(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const { main } = await import('../../../ts/cli/main.ts');
  let stdout = '';
  let stderr = '';
  const ow = process.stdout.write.bind(process.stdout);
  const ew = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((s: string | Uint8Array) => { stdout += String(s); return true; }) as typeof process.stdout.write;
  process.stderr.write = ((s: string | Uint8Array) => { stderr += String(s); return true; }) as typeof process.stderr.write;
  try {
    const code = await main(['node', 'qrobust', ...args]);
    return { code, stdout, stderr };
  } finally {
    process.stdout.write = ow;
    process.stderr.write = ew;
  }
}
