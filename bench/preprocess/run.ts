/**
 * bench/preprocess: decode + resize + centre crop of 500x375 JPEGs to 224 through `dec-pil`, ours
 * (libjpeg binding + Pillow-exact resampler, ts/systematic/preprocess.ts) against Pillow
 * (python3-pil) on the same files in one run. Both sides run one image at a time on one thread,
 * from bytes in memory, and produce the HWC RGB bytes the model gets. Outputs are validated first
 * (ours must equal Pillow's bytes), then each side is warmed up and timed for REPS repetitions of
 * ITERS passes over the files; the median per-image time and the ratio are printed.
 *
 *   QROBUST_ADDON=$PWD/build-image/Release/qrobust.node npx tsx bench/preprocess/run.ts [--reps 7] [--iters 10]
 *     [--files 8] [--mode square|onecrop] [--dir <folder of .jpg to use instead of the synthetic ones>]
 *
 * Printed: time ratio ours/Pillow (< 1: ours faster) and the speed-up Pillow/ours (the goal: >= 1).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { preprocess, cropGeometry } from '../../ts/systematic/preprocess.ts';
import { native } from '../../ts/native/binding.ts';

const here = fileURLToPath(new URL('.', import.meta.url));
const PY = '/usr/bin/python3';
const script = join(here, 'pil_bench.py');

function flag(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : dflt;
}

function median(a: number[]): number {
  const s = [...a].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function py(args: string[]): string {
  const r = spawnSync(PY, [script, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`pil_bench.py ${args[0]} failed: ${r.stderr}`);
  return r.stdout;
}

async function main(): Promise<void> {
  const reps = Number(flag('reps', '7'));
  const iters = Number(flag('iters', '10'));
  const nfiles = Number(flag('files', '8'));
  const mode = flag('mode', 'square') as 'square' | 'onecrop';
  const size = 224;
  let dir = flag('dir', '');
  let tmp = '';
  if (!dir) {
    tmp = mkdtempSync(join(tmpdir(), 'qrb-bench-'));
    dir = tmp;
    py(['make', dir, String(nfiles)]);
  }
  const files = readdirSync(dir).filter((f) => /\.jpe?g$/i.test(f)).sort().map((f) => join(dir, f));
  const blobs = files.map((f) => new Uint8Array(readFileSync(f)));

  // Validate: our bytes equal Pillow's (via a one-off Pillow dump of the first file).
  const check = spawnSync(PY, ['-c', `
import sys
from PIL import Image
im = Image.open(sys.argv[1]).convert('RGB')
rw, rh, l, t = [int(v) for v in sys.argv[2:6]]
sys.stdout.buffer.write(im.resize((rw, rh), Image.BILINEAR).crop((l, t, l + ${size}, t + ${size})).tobytes())`,
  files[0]!, ...(() => { const g = cropGeometry(500, 375, size, mode); return [g.rw, g.rh, g.left, g.top].map(String); })()], { maxBuffer: 1 << 24 });
  const ours0 = await preprocess(blobs[0]!, files[0]!, { pipeline: 'dec-pil', size, mode });
  const want = new Uint8Array(check.stdout);
  if (want.length !== ours0.data.length || want.some((v, i) => v !== ours0.data[i])) throw new Error('validation failed: our dec-pil output differs from Pillow');

  // Ours.
  for (let i = 0; i < blobs.length; i++) await preprocess(blobs[i]!, files[i]!, { pipeline: 'dec-pil', size, mode });
  const oursMs: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    for (let k = 0; k < iters; k++) for (let i = 0; i < blobs.length; i++) await preprocess(blobs[i]!, files[i]!, { pipeline: 'dec-pil', size, mode });
    oursMs.push((performance.now() - t0) / (iters * blobs.length));
  }
  // Pillow.
  const pil = JSON.parse(py(['time', String(size), mode, String(reps), String(iters), ...files]).trim()) as { pillow: string; perImageMs: number[] };

  const o = median(oursMs);
  const p = median(pil.perImageMs);
  const lib = native().info().libraries.libjpeg.version;
  console.log(`bench/preprocess: ${blobs.length} JPEGs 500x375 -> ${size} (${mode}), dec-pil, ${reps} reps x ${iters} passes, 1 thread each`);
  console.log(`  machine: ${cpus()[0]?.model ?? '?'} (${cpus().length} cpus), node ${process.versions.node}, ${lib}, Pillow ${pil.pillow}`);
  console.log(`  validated: our output == Pillow's bytes`);
  console.log(`  ours   median ${o.toFixed(3)} ms/image  (reps: ${oursMs.map((v) => v.toFixed(3)).join(' ')})`);
  console.log(`  Pillow median ${p.toFixed(3)} ms/image  (reps: ${pil.perImageMs.map((v) => v.toFixed(3)).join(' ')})`);
  console.log(`  ratio ours/Pillow = ${(o / p).toFixed(3)} (time; < 1: ours faster); speed-up Pillow/ours = ${(p / o).toFixed(2)} (goal >= 1)`);
  if (tmp) rmSync(tmp, { recursive: true, force: true });
}

await main();
