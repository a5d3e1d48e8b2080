/**
 * The `versions` object every result and checkpoint records (CONVENTIONS.md "Results and runs"): node, the
 * addon, sharp/libvips, OpenCV, libjpeg, ffmpeg, jpeg-js, onnxruntime, the float backends (oneDNN) and the
 * git commit of the working tree. Collected once per process (ffmpeg is a program run).
 */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { native, repoRoot } from '../native/binding.ts';
import { systematicVersions } from '../systematic/suite.ts';

/** What {@link runVersions} returns: library name → version, null when absent. */
export type Versions = Record<string, string | null>;

let cached: Promise<Versions> | null = null;

/**
 * The git commit (40 hex digits) of the repository qrobust runs from, or null outside a git checkout.
 * @throws never
 * @example
 * gitCommit()?.length // 40
 */
export function gitCommit(): string | null {
  try {
    const out = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'ignore'], timeout: 10000 }).toString().trim();
    return /^[0-9a-f]{40}$/.test(out) ? out : null;
  } catch {
    return null;
  }
}

/**
 * Versions of everything that can change a result, plus the git commit.
 * @returns `{node, addon, sharp, libvips, opencv, libjpeg, ffmpeg, 'jpeg-js', onnxruntime, dnnl, openblas, commit}`
 * @throws never (a missing library is null)
 * @example
 * (await runVersions()).node === process.versions.node // true
 */
export function runVersions(): Promise<Versions> {
  cached ??= (async () => {
    const sys = await systematicVersions();
    let addon: string | null = null;
    let dnnl: string | null = null;
    let openblas: string | null = null;
    try {
      const n = native().info();
      addon = n.addon;
      dnnl = n.libraries.dnnl.version;
      openblas = n.libraries.openblas.version;
    } catch { /* no addon: nulls */ }
    let onnxruntime: string | null = null;
    try {
      onnxruntime = (createRequire(import.meta.url)('onnxruntime-node/package.json') as { version: string }).version;
    } catch { /* absent */ }
    return { node: process.versions.node, addon, ...sys, onnxruntime, dnnl, openblas, commit: gitCommit() };
  })();
  return cached;
}
