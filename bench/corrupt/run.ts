/**
 * bench/corrupt: images/s per corruption at 224, ours (ts/corrupt + native kernels) against the Python
 * reference (bench/corrupt/reference.py: numpy / scipy / skimage / OpenCV / Pillow / Wand, as
 * scripts/gen-corrupt-fixtures.py runs them) on the same images in one run. Each side: one warm-up pass,
 * then `--reps` passes over the `--n` images, median; one image at a time, one thread each.
 * Before timing, ours is validated: every corruption returns a 224x224x3 image.
 *
 *   QROBUST_ADDON=$PWD/build-corrupt/Release/qrobust.node npx tsx bench/corrupt/run.ts [--n 4] [--reps 3]
 *     [--severity 3] [--frost-dir ../shared/data/frost] [--only fog,snow]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { CORRUPTIONS, corrupt, type Image8 } from '../../ts/corrupt/index.ts';
import { repoRoot } from '../../ts/native/binding.ts';
import { Rng } from '../../ts/util/rng.ts';

const argv = process.argv.slice(2);
const flag = (name: string, def: string): string => (argv.includes(name) ? argv[argv.indexOf(name) + 1]! : def);
const n = Number(flag('--n', '4'));
const reps = Number(flag('--reps', '3'));
const severity = Number(flag('--severity', '3'));
const defaultFrost = join(repoRoot, '..', 'shared', 'data', 'frost');
const frostDir = flag('--frost-dir', existsSync(join(defaultFrost, 'frost1.png')) ? defaultFrost : '');
const only = flag('--only', '');
const ids = only ? only.split(',') : [...CORRUPTIONS];
const PY = '/usr/bin/python3';
const REF = join(repoRoot, 'bench', 'corrupt', 'reference.py');

function median(a: number[]): number {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

const dir = mkdtempSync(join(tmpdir(), 'qrb-bench-corrupt-'));
try {
  const mk = spawnSync(PY, [REF, '--make-inputs', dir, '--n', String(n)], { encoding: 'utf8' });
  if (mk.status !== 0) throw new Error(`reference.py --make-inputs failed: ${mk.stderr}`);
  const imgs: Image8[] = [];
  for (let k = 0; k < n; k++) imgs.push({ data: new Uint8Array(readFileSync(join(dir, `in${k}.rgb`))), width: 224, height: 224, channels: 3 });
  const opts = { frostDir: frostDir || undefined };

  const ours: Record<string, number> = {};
  for (const id of ids) {
    const probe = await corrupt(imgs[0]!, id, severity, new Rng(0), opts);
    if (probe.width !== 224 || probe.height !== 224 || probe.data.length !== 224 * 224 * 3) throw new Error(`${id}: bad output shape`);
    const times: number[] = [];
    const rng = new Rng(1);
    for (let r = 0; r <= reps; r++) {
      const t0 = performance.now();
      for (const img of imgs) await corrupt(img, id, severity, rng, opts);
      if (r > 0) times.push((performance.now() - t0) / 1000);
    }
    ours[id] = median(times);
  }

  const py = spawnSync(PY, [REF, '--time', dir, '--n', String(n), '--reps', String(reps), '--severity', String(severity),
    ...(frostDir ? ['--frost-dir', frostDir] : []), ...(only ? ['--only', only] : [])], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (py.status !== 0) throw new Error(`reference.py --time failed: ${py.stderr}`);
  const ref = JSON.parse(py.stdout.trim().split('\n').pop()!) as { versions: Record<string, string>; seconds: Record<string, number> };

  console.log(`corruptions at 224, severity ${severity}, ${n} images, median of ${reps} passes; ${cpus()[0]?.model ?? '?'} (${cpus().length} cpus), node ${process.versions.node}`);
  console.log(`reference: ${Object.entries(ref.versions).map(([k, v]) => `${k} ${v}`).join(', ')}; frost: ${frostDir ? 'photographs on both sides' : 'procedural (ours only)'}`);
  console.log('| corruption | ours img/s | reference img/s | speed-up (ours/reference) |');
  console.log('|---|---|---|---|');
  for (const id of ids) {
    const o = n / ours[id]!;
    const r = ref.seconds[id] !== undefined ? n / ref.seconds[id]! : NaN;
    console.log(`| ${id} | ${o.toFixed(1)} | ${Number.isNaN(r) ? 'n/a' : r.toFixed(1)} | ${Number.isNaN(r) ? 'n/a' : `${(o / r).toFixed(2)}x`} |`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
