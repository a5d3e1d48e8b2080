/**
 * The `dec-ffmpeg` / `dec-ffmpeg-accurate` decoders: the ffmpeg program (Debian's, on PATH) decoding
 * JPEGs to rgb24 rawvideo, as `ffmpeg -i file -f rawvideo -pix_fmt rgb24 -` does (MJPEG decode, then
 * swscale YUV -> RGB; `-sws_flags` for the accurate variant).
 *
 * Many images per process: the files are concatenated on stdin (`-f image2pipe -c:v mjpeg`) and
 * `-autoscale 0` keeps each frame at its own size (by default ffmpeg would rescale every frame to the
 * first one's size). Frame sizes come from each file's SOF header, and the output is accepted only
 * when ffmpeg exits 0, prints no error and writes exactly the expected number of bytes; otherwise the
 * batch is decoded again one process per file, so that a corrupt file fails alone, with its name.
 * test/parity/systematic-ffmpeg.test.ts checks the batched bytes against the program run per file.
 */
import { spawn, spawnSync } from 'node:child_process';
import { QrobustError } from '../util/errors.ts';

/** Thrown when the ffmpeg program cannot be started. */
export class FfmpegNotFoundError extends QrobustError {
  constructor(program: string) {
    super(`ffmpeg is not available: cannot run '${program}' (install it: apt-get install ffmpeg); dec-ffmpeg and dec-ffmpeg-accurate need it`);
    this.name = 'FfmpegNotFoundError';
  }
}

export interface FfmpegOptions {
  /** swscale flags, e.g. `bilinear+accurate_rnd+full_chroma_int` (default: ffmpeg's own) */
  swsFlags?: string;
  /** the program (default `ffmpeg`, found on PATH) */
  program?: string;
}

/** A decoded frame (RGB, interleaved). */
export interface FfmpegFrame {
  data: Uint8Array;
  width: number;
  height: number;
  channels: 3;
}

/**
 * Width and height from a JPEG's SOF segment (baseline, extended, progressive, lossless), or null
 * when the bytes hold no JPEG frame header.
 * @param bytes the file
 * @throws never
 * @example
 * jpegFrameSize(bytes) // { width: 128, height: 96 }
 */
export function jpegFrameSize(bytes: Uint8Array): { width: number; height: number } | null {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) return null;
  let pos = 2;
  while (pos + 4 <= bytes.length) {
    if (bytes[pos] !== 0xff) return null;
    const marker = bytes[pos + 1]!;
    if (marker === 0xff) { pos++; continue; }
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) { pos += 2; continue; }
    if (marker === 0xd9 || marker === 0xda) return null;
    const len = (bytes[pos + 2]! << 8) | bytes[pos + 3]!;
    if (len < 2) return null;
    const sof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (sof) {
      if (pos + 9 > bytes.length) return null;
      const height = (bytes[pos + 5]! << 8) | bytes[pos + 6]!;
      const width = (bytes[pos + 7]! << 8) | bytes[pos + 8]!;
      return width > 0 && height > 0 ? { width, height } : null;
    }
    pos += 2 + len;
  }
  return null;
}

function run(program: string, args: string[], input: Uint8Array, expected: number): Promise<{ code: number | null; out: Uint8Array; got: number; err: string }> {
  return new Promise((resolve, reject) => {
    let child;
    try {
      child = spawn(program, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    } catch {
      reject(new FfmpegNotFoundError(program));
      return;
    }
    const out = new Uint8Array(expected);
    let got = 0;
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => {
      if (got + chunk.length <= expected) out.set(chunk, got);
      got += chunk.length;
    });
    child.stderr.on('data', (chunk: Buffer) => { if (err.length < 4096) err += chunk.toString(); });
    child.on('error', (e: NodeJS.ErrnoException) => reject(e.code === 'ENOENT' || e.code === 'EACCES' ? new FfmpegNotFoundError(program) : e));
    child.stdin.on('error', () => { /* ffmpeg may exit before reading all input; the exit code reports it */ });
    child.on('close', (code) => resolve({ code, out, got, err }));
    child.stdin.end(input);
  });
}

function args(opts: FfmpegOptions): string[] {
  return ['-hide_banner', '-nostats', '-loglevel', 'error', '-f', 'image2pipe', '-c:v', 'mjpeg', '-i', 'pipe:0', '-autoscale', '0',
    ...(opts.swsFlags ? ['-sws_flags', opts.swsFlags] : []), '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'];
}

function concat(parts: Uint8Array[]): Uint8Array {
  const n = parts.reduce((s, p) => s + p.length, 0);
  const all = new Uint8Array(n);
  let o = 0;
  for (const p of parts) { all.set(p, o); o += p.length; }
  return all;
}

/**
 * Decodes many JPEGs with one ffmpeg process (falling back to one process per file when the batch
 * fails), each to what `ffmpeg -i file [-sws_flags F] -f rawvideo -pix_fmt rgb24 -` writes.
 * @param items the files' bytes and names
 * @param opts `swsFlags`, `program`
 * @returns per item, its frame or an Error naming the file (a corrupt file does not stop the others)
 * @throws FfmpegNotFoundError when the program cannot be started
 * @example
 * const [a, b] = await ffmpegDecodeMany([{ bytes, file: 'x.jpg' }, { bytes: new Uint8Array(3), file: 'y.jpg' }]);
 * [a.width, b instanceof Error] // [128, true]
 */
export async function ffmpegDecodeMany(items: readonly { bytes: Uint8Array; file: string }[], opts: FfmpegOptions = {}): Promise<(FfmpegFrame | Error)[]> {
  const program = opts.program ?? 'ffmpeg';
  const result: (FfmpegFrame | Error)[] = new Array(items.length);
  const ok: number[] = [];
  const sizes: { width: number; height: number }[] = [];
  items.forEach((it, i) => {
    const s = jpegFrameSize(it.bytes);
    if (!s) result[i] = new QrobustError(`ffmpeg cannot decode ${it.file}: not a JPEG (no frame header)`);
    else { ok.push(i); sizes[i] = s; }
  });
  if (ok.length === 0) return result;
  const expected = ok.reduce((s, i) => s + sizes[i]!.width * sizes[i]!.height * 3, 0);
  const r = await run(program, args(opts), concat(ok.map((i) => items[i]!.bytes)), expected);
  if (r.code === 0 && r.got === expected && r.err.trim() === '') {
    let o = 0;
    for (const i of ok) {
      const { width, height } = sizes[i]!;
      const n = width * height * 3;
      result[i] = { data: r.out.slice(o, o + n), width, height, channels: 3 };
      o += n;
    }
    return result;
  }
  if (ok.length === 1) {
    const i = ok[0]!;
    const why = r.err.trim().split('\n')[0] || (r.code !== 0 ? `exit code ${r.code}` : `wrote ${r.got} bytes, expected ${expected}`);
    result[i] = new QrobustError(`ffmpeg cannot decode ${items[i]!.file}: ${why}`);
    return result;
  }
  for (const i of ok) result[i] = (await ffmpegDecodeMany([items[i]!], opts))[0]!;
  return result;
}

/**
 * The ffmpeg program's version (`5.1.9-0+deb12u1`), or null when it does not run.
 * @param program default `ffmpeg`
 * @throws never
 * @example
 * typeof ffmpegVersion() // 'string'
 */
export function ffmpegVersion(program = 'ffmpeg'): string | null {
  const r = spawnSync(program, ['-version'], { encoding: 'utf8', timeout: 10000 });
  if (r.status !== 0) return null;
  return /^ffmpeg version (\S+)/m.exec(r.stdout ?? '')?.[1] ?? null;
}
