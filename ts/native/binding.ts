/**
 * The sole loader of the native addon. Everything else in ts/ calls native code through the typed
 * {@link Native} interface exported here. Typed arrays cross zero-copy (byteOffset honoured).
 *
 * Search order: $QROBUST_ADDON (an explicit .node path), build/Release/qrobust.node (cmake-js and
 * node-gyp both write there), build/Debug/qrobust.node.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { QrobustError } from '../util/errors.ts';
import type { IntqNative } from './intq.ts';
import type { ImageNative } from './image.ts';
import type { FloatNative } from './float.ts';
import type { IntqFastNative } from './intq-fast.ts';
import type { CorruptNative } from './corrupt.ts';
import type { OpencvNative } from './opencv.ts';
import type { FakeQuantNative } from './fake-quant.ts';

export interface LibraryInfo {
  present: boolean;
  version: string | null;
}

export interface NativeInfo {
  addon: string;
  napi: number;
  arch: string;
  features: string[];
  isaCap: string;
  kernels: Record<string, string>;
  libraries: Record<'opencv' | 'libjpeg' | 'openblas' | 'dnnl' | 'cuda', LibraryInfo>;
  blas: 'dnnl' | 'openblas' | 'none';
}

/** The native contract. Each function rechecks its arguments and throws a TypeError/RangeError/Error naming them. */
export interface Native extends IntqNative, ImageNative, FloatNative, CorruptNative, OpencvNative, IntqFastNative, FakeQuantNative {
  info(): NativeInfo;
  /** Caps run-time dispatch: 'native' (no cap), 'scalar', 'avx2', 'avx512', 'avx512vnni', 'neon', 'neondot'. */
  setIsaCap(name: string): string;
  /** Interleaved uint8 HWC -> planar float32 CHW, each value times `scale`. */
  hwcToChw(src: Uint8Array, h: number, w: number, c: number, dst: Float32Array, scale: number): void;
}

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

let cached: Native | null = null;
let loadedFrom = '';

/** Path of the .node file in use (after {@link native} was called). */
export function addonPath(): string {
  return loadedFrom;
}

/**
 * The addon, loaded once.
 * @throws QrobustError naming the paths tried and the build command when no addon is built
 */
export function native(): Native {
  if (cached) return cached;
  const candidates = [
    process.env.QROBUST_ADDON,
    join(repoRoot, 'build', 'Release', 'qrobust.node'),
    join(repoRoot, 'build', 'Debug', 'qrobust.node'),
  ].filter((p): p is string => typeof p === 'string' && p.length > 0);
  const found = candidates.find((p) => existsSync(p));
  if (!found) {
    throw new QrobustError(`qrobust addon not built: looked for ${candidates.join(', ')}; run \`npm run build\` (cmake-js) or \`npm run build:gyp\``);
  }
  const require = createRequire(import.meta.url);
  cached = require(found) as Native;
  loadedFrom = found;
  return cached;
}
