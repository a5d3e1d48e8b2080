/**
 * Shared by the issue-7 parity tests: makes sure test/.generated/opencv holds the outputs of the current
 * scripts/gen-opencv-fixtures.py (runs it with Debian's /usr/bin/python3 when missing or stale) and reads
 * them, plus the committed colour JPEGs of test/fixtures/systematic. Returns null (the caller skips with
 * the reason) when python3-opencv is not installed or the addon has no OpenCV; a failing generator throws.
 */
import { loadGeneratedFixtures } from '../generated-fixtures.ts';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { repoRoot } from '../../../ts/native/binding.ts';
import { opencvAvailable } from '../../../ts/native/opencv.ts';

export const CV_FIXTURE_DIR = join(repoRoot, 'test', '.generated', 'opencv');
export const COMMITTED_DIR = join(repoRoot, 'test', 'fixtures', 'systematic');
const SCRIPT = join(repoRoot, 'scripts', 'gen-opencv-fixtures.py');
const PYTHON = '/usr/bin/python3';

export interface CvManifest {
  versions: { opencv: string; numpy: string; python: string };
  decode: { jpeg: string; flags: 'color' | 'ignore'; width: number; height: number; file: string }[];
  inputs: Record<string, { png: string; width: number; height: number }>;
  resize: { source: string; interpolation: string; width: number; height: number; file: string }[];
  pipelines: { jpeg: string; interpolation: string; size: number; file: string }[];
}

let cached: CvManifest | null | undefined;
let failure: Error | null = null;
let why = '';

/** The manifest, generating first when needed; null with {@link cvSkipReason} when python3-opencv or the addon's OpenCV is absent. */
export function cvFixtures(): CvManifest | null {
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

function load(): CvManifest | null {
  if (!opencvAvailable()) {
    why = 'addon built without OpenCV (opencvAvailable false)';
    return null;
  }
  const r = loadGeneratedFixtures<CvManifest>({ python: PYTHON, script: SCRIPT, dir: CV_FIXTURE_DIR, module: 'cv2', apt: 'python3-opencv' });
  why = r.why;
  return r.manifest;
}

/** Why {@link cvFixtures} returned null. */
export function cvSkipReason(): string {
  return why;
}

/** A generated fixture's bytes. */
export function cvFixture(rel: string): Uint8Array {
  const b = readFileSync(join(CV_FIXTURE_DIR, rel));
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}

/** The committed JPEG fixtures (name -> bytes), sorted by name. */
export function committedJpegs(): { name: string; path: string; bytes: Uint8Array }[] {
  return readdirSync(COMMITTED_DIR).filter((f) => f.endsWith('.jpg')).sort().map((name) => {
    const path = join(COMMITTED_DIR, name);
    const b = readFileSync(path);
    return { name, path, bytes: new Uint8Array(b.buffer, b.byteOffset, b.length) };
  });
}

/** A PNG's pixels as RGB (via sharp, lossless). */
export async function readPngRgb(path: string): Promise<{ data: Uint8Array; width: number; height: number }> {
  const { data, info } = await sharp(path).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`${path}: ${info.channels} channels`);
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
}

/** Whether the ffmpeg program runs. */
export function ffmpegPresent(): boolean {
  return spawnSync('ffmpeg', ['-version'], { stdio: 'ignore' }).status === 0;
}

const programCache = new Map<string, Uint8Array>();

/** The ffmpeg program's own decode of a file: `ffmpeg -i file [-sws_flags F] -f rawvideo -pix_fmt rgb24 -` (cached per run). */
export function ffmpegProgramRgb(path: string, swsFlags?: string): Uint8Array {
  const key = `${path}\0${swsFlags ?? ''}`;
  const hit = programCache.get(key);
  if (hit) return hit;
  const r = spawnSync('ffmpeg', ['-v', 'error', '-i', path, ...(swsFlags ? ['-sws_flags', swsFlags] : []), '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-'],
    { maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`ffmpeg failed on ${path}: ${r.stderr?.toString()}`);
  const out = new Uint8Array(r.stdout.buffer, r.stdout.byteOffset, r.stdout.length);
  programCache.set(key, out);
  return out;
}
