/**
 * Shared by the fixture loaders of the Python-generated parity fixtures (Pillow, OpenCV): regenerate into
 * `dir` when the generator script changed (its sha256 is stored in the manifest), generating beside and
 * swapping in, since other test runs in this working tree may be reading the old set.
 * Returns the manifest, or null with a reason when the Python module is missing; a failing generator throws.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';

export function loadGeneratedFixtures<T>(o: { python: string; script: string; dir: string; module: string; apt: string }): { manifest: T | null; why: string } {
  if (!existsSync(o.python)) return { manifest: null, why: `${o.python} not found (needs Debian ${o.apt})` };
  const sha = createHash('sha256').update(readFileSync(o.script)).digest('hex');
  const mpath = join(o.dir, 'manifest.json');
  let fresh = false;
  if (existsSync(mpath)) {
    try {
      fresh = (JSON.parse(readFileSync(mpath, 'utf8')) as { scriptSha256?: string }).scriptSha256 === sha;
    } catch {
      fresh = false;
    }
  }
  if (!fresh) {
    const tmp = `${o.dir}.tmp-${process.pid}`;
    const r = spawnSync(o.python, [o.script, '--out', tmp], { encoding: 'utf8', timeout: 120000 });
    if (r.status === 0) {
      rmSync(o.dir, { recursive: true, force: true });
      renameSync(tmp, o.dir);
    } else {
      rmSync(tmp, { recursive: true, force: true });
      if (new RegExp(`No module named '${o.module}'`).test(r.stderr ?? '')) {
        return { manifest: null, why: `${o.apt} is not installed (apt: ${o.apt})` };
      }
      throw new Error(`${basename(o.script)} failed (${r.status}): ${r.stderr}`);
    }
  }
  return { manifest: JSON.parse(readFileSync(mpath, 'utf8')) as T, why: '' };
}
