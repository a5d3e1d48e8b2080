/**
 * bench/systematic: throughput of the systematic suite's preprocessing, the 14 pipelines (optionally
 * with the 15 extras) over N images, against one reference pass (dec-pil decode + square resize + crop +
 * NCHW packing) over the same images, both through the same chunked machinery and the same cheap
 * stand-in classifier (argmax of channel means), so the ratio is what the suite adds on top of one clean
 * pass before any model time. Inputs: N synthetic colour JPEGs (seeded, quality 90, 4:2:0; default 64x64
 * as the embedded set, which is greyscale: `--grey` for that), or `--dir` with your own .jpg files.
 *
 *   QROBUST_ADDON=$PWD/build-sys/Release/qrobust.node npx tsx bench/systematic/run.ts [--n 1000] [--reps 3]
 *     [--size 32] [--width 64] [--height 64] [--batch 64] [--extras] [--grey] [--dir <folder>]
 *
 * Validates first (the stand-in classifier must score 100 % on every pipeline), warms up once, then prints
 * the median seconds of each side over the reps, images/s, and the ratio suite / reference.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { jpegEncode } from '../../ts/native/image.ts';
import { Rng } from '../../ts/util/rng.ts';
import { decodeManyWith, preprocessPixels, type RgbImage } from '../../ts/systematic/preprocess.ts';
import { packNchw, runSystematic, systematicVersions, type Classifier, type SystematicSample } from '../../ts/systematic/suite.ts';

function flag(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : dflt;
}
const has = (name: string) => process.argv.includes(`--${name}`);

function median(a: number[]): number {
  const s = [...a].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const n = Number(flag('n', '1000'));
const reps = Number(flag('reps', '3'));
const size = Number(flag('size', '32'));
const width = Number(flag('width', '64'));
const height = Number(flag('height', '64'));
const batch = Number(flag('batch', '64'));
const extras = has('extras');
const grey = has('grey');
const dir = flag('dir', '');

async function synthetic(): Promise<SystematicSample[]> {
  const rng = new Rng(2024);
  const out: SystematicSample[] = [];
  for (let i = 0; i < n; i++) {
    const label = i % 3;
    const d = new Uint8Array(width * height * 3);
    const ph = rng.uniform() * 6;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const g = 50 + 40 * Math.sin(ph + x / 5) * Math.cos(y / 7) + rng.uniform() * 20;
        for (let c = 0; c < 3; c++) d[(y * width + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(grey ? g + 100 : (c === label ? 150 : 0) + g)));
      }
    }
    out.push({ file: `syn${i}.jpg`, label: grey ? 0 : label, bytes: await jpegEncode({ data: d, width, height, channels: 3 }, 90) });
  }
  return out;
}

function fromDir(): SystematicSample[] {
  const files = readdirSync(dir).filter((f) => /\.jpe?g$/i.test(f)).sort().slice(0, n);
  return files.map((f) => ({ file: f, label: 0, bytes: new Uint8Array(readFileSync(join(dir, f))) }));
}

// The stand-in classifier: argmax of channel means (touches every value, as a model's first layer would).
const classify: Classifier = async (x, k) => {
  const plane = size * size;
  const out = new Int32Array(k);
  for (let i = 0; i < k; i++) {
    const m = [0, 1, 2].map((c) => { let s = 0; for (let j = 0; j < plane; j++) s += x[(i * 3 + c) * plane + j]!; return s; });
    out[i] = grey ? 0 : m.indexOf(Math.max(...m));
  }
  return out;
};

/** One clean pass: dec-pil decode, square resize, crop, pack, classify; same chunking as the suite. */
async function reference(samples: SystematicSample[]): Promise<number> {
  let correct = 0;
  for (let s = 0; s < samples.length; s += batch) {
    const chunk = samples.slice(s, s + batch);
    const dec = await decodeManyWith(chunk.map((c) => ({ bytes: c.bytes!, file: c.file })), 'dec-pil');
    const imgs = await Promise.all(dec.map((d) => preprocessPixels(d as RgbImage, { pipeline: 'dec-pil', size, mode: 'square' })));
    const pred = await classify(packNchw(imgs, size), chunk.length);
    chunk.forEach((c, i) => { if (pred[i] === c.label) correct++; });
  }
  return (100 * correct) / samples.length;
}

const samples = dir ? fromDir() : await synthetic();
// validate
const check = await runSystematic(samples, classify, { size, batch, extras });
const refAcc = await reference(samples);
if (!dir) {
  const bad = Object.entries({ ...check.accuracy, ...check.extras }).filter(([, a]) => a !== 100);
  if (bad.length || refAcc !== 100) throw new Error(`validation failed: ${JSON.stringify(bad)} ref ${refAcc}`);
}
if (check.accuracy['dec-pil'] !== refAcc) throw new Error('reference pass and suite disagree on dec-pil');

const tSuite: number[] = [];
const tRef: number[] = [];
for (let r = 0; r < reps; r++) {
  let t = performance.now();
  await reference(samples);
  tRef.push((performance.now() - t) / 1000);
  t = performance.now();
  await runSystematic(samples, classify, { size, batch, extras });
  tSuite.push((performance.now() - t) / 1000);
}
const ms = median(tSuite);
const mr = median(tRef);
const v = await systematicVersions();
console.log(`machine: ${cpus()[0]?.model ?? '?'} x${cpus().length}, node ${process.version}; OpenCV ${v.opencv}, ffmpeg ${v.ffmpeg}, sharp ${v.sharp} (libvips ${v.libvips}), libjpeg ${v.libjpeg}, jpeg-js ${v['jpeg-js']}`);
console.log(`images: ${samples.length} ${dir ? `from ${dir}` : `synthetic ${grey ? 'grey' : 'colour'} ${width}x${height} JPEG q90`}, S=${size}, batch ${batch}, reps ${reps} (median)`);
console.log(`reference pass (dec-pil):            ${mr.toFixed(3)} s  (${(samples.length / mr).toFixed(0)} images/s)`);
console.log(`systematic suite (14${extras ? ' + 15 extras' : ''} pipelines):  ${ms.toFixed(3)} s  (${(samples.length / ms).toFixed(0)} images/s)`);
console.log(`ratio suite / reference: ${(ms / mr).toFixed(2)}x  (${extras ? 29 : 14} pipelines, ${extras ? 8 : 3} distinct decoders)`);
