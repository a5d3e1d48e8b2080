/**
 * Small data fixtures generated during the test run into test/.generated/data/ (gitignored): PNG/JPEG trees
 * written with sharp, synthetic CIFAR-10 batches and IDX files. Pixel values come from a seeded Rng, so
 * every run writes the same bytes.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import sharp from 'sharp';
import { Rng } from '../../../ts/util/rng.ts';
import { repoRoot } from '../../../ts/native/binding.ts';

export const GEN = join(repoRoot, 'test', '.generated', 'data');

/** Deterministic HWC pixels. */
export function pixels(seed: number, w: number, h: number, c: number): Uint8Array {
  const r = new Rng(seed);
  return Uint8Array.from({ length: w * h * c }, () => r.int(256));
}

/** Writes a PNG (lossless) of deterministic pixels and returns them. */
export async function writePng(file: string, seed: number, w: number, h: number, c: 1 | 3 = 3): Promise<Uint8Array> {
  mkdirSync(dirname(file), { recursive: true });
  const px = pixels(seed, w, h, c);
  await sharp(px, { raw: { width: w, height: h, channels: c } }).png().toFile(file);
  return px;
}

/** Writes a JPEG of deterministic smooth pixels. */
export async function writeJpeg(file: string, seed: number, w: number, h: number): Promise<void> {
  mkdirSync(dirname(file), { recursive: true });
  const px = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < 3; k++) px[(y * w + x) * 3 + k] = (x * 7 + y * 3 + k * 50 + seed * 13) & 255;
  await sharp(px, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 90 }).toFile(file);
}

/** A fresh, empty folder under GEN. */
export function freshDir(name: string): string {
  const d = join(GEN, name);
  rmSync(d, { recursive: true, force: true });
  mkdirSync(d, { recursive: true });
  return d;
}

/** The value of CIFAR record `r` of a synthetic batch at (y, x, channel c). */
export function cifarPixel(seed: number, r: number, y: number, x: number, c: number): number {
  return (seed * 31 + r * 17 + y * 5 + x * 3 + c * 101) & 255;
}

/** Writes a CIFAR-10 binary batch of `labels.length` records (pixels from {@link cifarPixel}). */
export function writeCifarBatch(file: string, seed: number, labels: number[]): void {
  const buf = Buffer.alloc(labels.length * 3073);
  labels.forEach((l, r) => {
    const o = r * 3073;
    buf[o] = l;
    for (let c = 0; c < 3; c++) for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) buf[o + 1 + c * 1024 + y * 32 + x] = cifarPixel(seed, r, y, x, c);
  });
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, buf);
}

/** Encodes an unsigned-byte IDX array. */
export function idxBytes(dims: number[], data: Uint8Array): Buffer {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head[2] = 0x08;
  head[3] = dims.length;
  dims.forEach((d, k) => head.writeUInt32BE(d, 4 + 4 * k));
  return Buffer.concat([head, Buffer.from(data)]);
}

/** Writes an IDX file, gzipped when the name ends in .gz. */
export function writeIdx(file: string, dims: number[], data: Uint8Array): void {
  mkdirSync(dirname(file), { recursive: true });
  const b = idxBytes(dims, data);
  writeFileSync(file, file.endsWith('.gz') ? gzipSync(b) : b);
}
