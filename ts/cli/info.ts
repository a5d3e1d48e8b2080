/**
 * `qrobust info`: versions, CPU features, the kernel each op dispatches to, optional libraries, CUDA.
 * The JSON shape is fixed by CONVENTIONS.md.
 */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { native, addonPath } from '../native/binding.ts';
import { cudaInfo } from '../native/cuda.ts';

export interface InfoJson {
  versions: {
    node: string; addon: string | null; sharp: string | null; libvips: string | null; opencv: string | null;
    libjpeg: string | null; ffmpeg: string | null; onnxruntime: string | null; blas: string | null;
  };
  cpu: { arch: string; features: string[]; kernels: Record<string, string>; isaCap: string };
  libraries: Record<string, boolean>;
  cuda: { compiled: boolean; archs: string[]; device: string };
  addonPath: string;
}

function pkgVersion(name: string): string | null {
  try {
    const require = createRequire(import.meta.url);
    return (require(`${name}/package.json`) as { version: string }).version;
  } catch {
    return null;
  }
}

/** ffmpeg's version from the program on PATH, or null when absent. */
export function ffmpegVersion(): string | null {
  try {
    const out = execFileSync('ffmpeg', ['-version'], { stdio: ['ignore', 'pipe', 'ignore'], timeout: 10000 }).toString();
    const m = /^ffmpeg version (\S+)/m.exec(out);
    return m ? m[1]! : null;
  } catch {
    return null;
  }
}

/** Collects everything `qrobust info` prints. */
export async function collectInfo(): Promise<InfoJson> {
  const n = native().info();
  let sharpVersion: string | null = null;
  let libvips: string | null = null;
  try {
    const sharp = (await import('sharp')).default;
    const v = sharp.versions as { vips?: string; sharp?: string };
    sharpVersion = v.sharp ?? pkgVersion('sharp');
    libvips = v.vips ?? null;
  } catch {
    /* sharp missing: reported as null */
  }
  const blasLib = n.blas === 'none' ? null : n.libraries[n.blas];
  const cuda = cudaInfo();
  return {
    versions: {
      node: process.versions.node,
      addon: n.addon,
      sharp: sharpVersion,
      libvips,
      opencv: n.libraries.opencv.version,
      libjpeg: n.libraries.libjpeg.version,
      ffmpeg: ffmpegVersion(),
      onnxruntime: pkgVersion('onnxruntime-node'),
      blas: blasLib && blasLib.version ? `${n.blas} ${blasLib.version}` : null,
    },
    cpu: { arch: n.arch, features: n.features, kernels: n.kernels, isaCap: n.isaCap },
    libraries: {
      ...Object.fromEntries(Object.entries(n.libraries).map(([k, v]) => [k, v.present])),
      sharp: sharpVersion !== null,
      ffmpeg: ffmpegVersion() !== null,
      onnxruntime: pkgVersion('onnxruntime-node') !== null,
      cuda: cuda.compiled,
    },
    cuda: { compiled: cuda.compiled, archs: cuda.archs, device: cuda.device },
    addonPath: addonPath(),
  };
}

/** Human-readable rendering for the terminal. */
export function renderInfo(i: InfoJson): string {
  const lines = ['qrobust info', '', 'versions:'];
  for (const [k, v] of Object.entries(i.versions)) lines.push(`  ${k.padEnd(12)} ${v ?? '(missing)'}`);
  lines.push('', `cpu: ${i.cpu.arch}  features: ${i.cpu.features.join(' ')}  (dispatch cap: ${i.cpu.isaCap})`);
  for (const [k, v] of Object.entries(i.cpu.kernels)) lines.push(`  kernel ${k} -> ${v}`);
  lines.push('', 'libraries:');
  for (const [k, v] of Object.entries(i.libraries)) lines.push(`  ${k.padEnd(12)} ${v ? 'yes' : 'MISSING'}`);
  lines.push('', `cuda: compiled=${i.cuda.compiled} archs=${i.cuda.archs.join(',') || '-'} device=${i.cuda.device}`, `addon: ${i.addonPath}`);
  return lines.join('\n');
}
