/**
 * Preprocessing pipelines as data (CONVENTIONS.md "Pipelines", PROTOCOL.md §4): an id, a decoder, a
 * resizer and options. The 14 systematic-noise ids come first, in the fixed order; the extras
 * follow. Each descriptor is a frozen, JSON-serialisable config with a `version`; the behaviour lives
 * in ts/systematic/preprocess.ts, which dispatches on `decoder.library` / `resizer.library`.
 *
 * Every id runs (issue 7): libjpeg + Pillow (issue 6: `dec-pil` = `rs-pil-bilinear`, the reference,
 * the other `rs-pil-*`, `dec-nvjpeg-like`, `dec-tf-fast`), OpenCV through our own binding (`dec-opencv`,
 * `rs-opencv-*`), the ffmpeg program (`dec-ffmpeg`, `dec-ffmpeg-accurate`), sharp (`dec-sharp`,
 * `rs-sharp-*`) and jpeg-js (`dec-jpegjs`). `requires` names the libraries a pipeline needs; a missing
 * one is a named error at run time.
 */
import { QrobustError, UsageError } from '../util/errors.ts';
import type { DctMethod, PilFilter } from '../native/image.ts';

/** A libjpeg(-turbo) decoder (our binding). */
export interface LibjpegDecoder {
  readonly library: 'libjpeg';
  readonly dct: DctMethod;
  readonly fancyUpsampling: boolean;
}
/** Decoders of issue 7: OpenCV imdecode, the ffmpeg program, sharp/libvips, jpeg-js. */
export interface OtherDecoder {
  readonly library: 'opencv' | 'ffmpeg' | 'sharp' | 'jpeg-js';
  /** e.g. ffmpeg swscale flags for `dec-ffmpeg-accurate` */
  readonly options?: Readonly<Record<string, string>>;
}
export type DecoderSpec = LibjpegDecoder | OtherDecoder;

/** Pillow's resampling (antialiased when shrinking, pixel-centre aligned, 22-bit fixed point). */
export interface PilResizer {
  readonly library: 'pil';
  readonly filter: PilFilter;
}
/** Resizers of issue 7: cv2.resize (`kernel` = a CV_INTERPOLATIONS name) and sharp (`kernel` = a sharp kernel). */
export interface OtherResizer {
  readonly library: 'opencv' | 'sharp';
  readonly kernel: string;
}
export type ResizerSpec = PilResizer | OtherResizer;

/** Where a pipeline is reported: one of the two SR sweeps, or `extras` (never counted in SR). */
export type PipelineGroup = 'decoder' | 'resizer' | 'extra';

export interface PipelineConfig {
  readonly version: 1;
  readonly id: string;
  readonly group: PipelineGroup;
  readonly decoder: DecoderSpec;
  readonly resizer: ResizerSpec;
  /** true for every id since issue 7 (kept so that a future id can be registered before it runs) */
  readonly implemented: boolean;
  readonly pendingIssue?: number;
  /** libraries the pipeline needs (JPEG inputs); a missing one is a named error when it runs */
  readonly requires: readonly PipelineLibrary[];
  readonly describe: string;
}

/** The libraries a pipeline can need. */
export type PipelineLibrary = 'libjpeg' | 'opencv' | 'ffmpeg' | 'sharp' | 'jpeg-js';

/** The 14 systematic-noise ids, in the order of CONVENTIONS.md (SR is computed over exactly these). */
export const SYSTEMATIC_IDS = [
  'dec-pil', 'dec-opencv', 'dec-ffmpeg',
  'rs-pil-nearest', 'rs-pil-box', 'rs-pil-bilinear', 'rs-pil-hamming', 'rs-pil-bicubic', 'rs-pil-lanczos',
  'rs-opencv-nearest', 'rs-opencv-linear', 'rs-opencv-area', 'rs-opencv-cubic', 'rs-opencv-lanczos4',
] as const;

/** sharp's resize kernels (ECOSYSTEM.md), each an `rs-sharp-<kernel>` extra. */
export const SHARP_KERNELS = ['nearest', 'linear', 'cubic', 'mitchell', 'lanczos2', 'lanczos3', 'mks2013', 'mks2021'] as const;

/** Extras: reported under `"extras"`, never in SR. */
export const EXTRA_IDS = [
  'dec-sharp', 'dec-jpegjs', 'dec-nvjpeg-like', 'dec-tf-fast', 'dec-ffmpeg-accurate',
  'rs-opencv-nearest_exact', 'rs-opencv-linear_exact',
  ...SHARP_KERNELS.map((k) => `rs-sharp-${k}` as const),
] as const;

export type SystematicId = (typeof SYSTEMATIC_IDS)[number];
export type PipelineId = SystematicId | (typeof EXTRA_IDS)[number];

/** The reference pipeline: Pillow decode + Pillow bilinear. */
export const REFERENCE_PIPELINE: PipelineId = 'dec-pil';

/** The issue that implemented the OpenCV / FFmpeg / sharp / jpeg-js pipelines. */
export const PENDING_ISSUE = 7;

const PIL_DECODER: LibjpegDecoder = Object.freeze({ library: 'libjpeg', dct: 'islow', fancyUpsampling: true });
const PIL_BILINEAR: PilResizer = Object.freeze({ library: 'pil', filter: 'bilinear' });

function make(id: PipelineId, group: PipelineGroup, decoder: DecoderSpec, resizer: ResizerSpec, describe: string): PipelineConfig {
  const requires = [...new Set<PipelineLibrary>([decoder.library, resizer.library === 'pil' ? 'libjpeg' : resizer.library])];
  return Object.freeze({
    version: 1 as const, id, group, decoder: Object.freeze({ ...decoder }), resizer: Object.freeze({ ...resizer }),
    implemented: true, requires: Object.freeze(requires), describe,
  });
}

const TABLE: readonly PipelineConfig[] = [
  make('dec-pil', 'decoder', PIL_DECODER, PIL_BILINEAR,
    'Pillow decode (libjpeg-turbo islow, fancy upsampling) + Pillow bilinear: the reference'),
  make('dec-opencv', 'decoder', { library: 'opencv' }, PIL_BILINEAR, 'cv2.imdecode(IMREAD_COLOR), BGR->RGB, + Pillow bilinear'),
  make('dec-ffmpeg', 'decoder', { library: 'ffmpeg' }, PIL_BILINEAR, 'ffmpeg -f rawvideo -pix_fmt rgb24 (default swscale) + Pillow bilinear'),
  ...(['nearest', 'box', 'bilinear', 'hamming', 'bicubic', 'lanczos'] as const).map((f) =>
    make(`rs-pil-${f}`, 'resizer', PIL_DECODER, { library: 'pil', filter: f },
      f === 'bilinear' ? 'Pillow decode + Pillow bilinear (the same pipeline as dec-pil)' : `Pillow decode + Pillow ${f}`)),
  ...(['nearest', 'linear', 'area', 'cubic', 'lanczos4'] as const).map((k) =>
    make(`rs-opencv-${k}`, 'resizer', PIL_DECODER, { library: 'opencv', kernel: k }, `Pillow decode + cv2.resize INTER_${k.toUpperCase()}`)),
  make('dec-sharp', 'extra', { library: 'sharp' }, PIL_BILINEAR, 'sharp/libvips decode + Pillow bilinear'),
  make('dec-jpegjs', 'extra', { library: 'jpeg-js' }, PIL_BILINEAR, 'jpeg-js decode + Pillow bilinear'),
  make('dec-nvjpeg-like', 'extra', { library: 'libjpeg', dct: 'islow', fancyUpsampling: false }, PIL_BILINEAR,
    'libjpeg islow without fancy (triangle) chroma upsampling, as nvJPEG decodes + Pillow bilinear'),
  make('dec-tf-fast', 'extra', { library: 'libjpeg', dct: 'ifast', fancyUpsampling: true }, PIL_BILINEAR,
    'libjpeg ifast IDCT (TensorFlow decode_jpeg default) + Pillow bilinear'),
  make('dec-ffmpeg-accurate', 'extra', { library: 'ffmpeg', options: { sws_flags: 'bilinear+accurate_rnd+full_chroma_int' } }, PIL_BILINEAR,
    'ffmpeg with accurate swscale + Pillow bilinear'),
  make('rs-opencv-nearest_exact', 'extra', PIL_DECODER, { library: 'opencv', kernel: 'nearest_exact' }, 'Pillow decode + cv2 INTER_NEAREST_EXACT'),
  make('rs-opencv-linear_exact', 'extra', PIL_DECODER, { library: 'opencv', kernel: 'linear_exact' }, 'Pillow decode + cv2 INTER_LINEAR_EXACT'),
  ...SHARP_KERNELS.map((k) => make(`rs-sharp-${k}`, 'extra', PIL_DECODER, { library: 'sharp', kernel: k }, `Pillow decode + sharp ${k}`)),
];

const BY_ID = new Map<string, PipelineConfig>(TABLE.map((p) => [p.id, p]));

/** Every known id: the 14 systematic ones in order, then the extras. */
export const PIPELINE_IDS: readonly PipelineId[] = [...SYSTEMATIC_IDS, ...EXTRA_IDS];

/** Thrown for a known id whose implementation belongs to a later issue (exit code 1). */
export class PipelineNotImplementedError extends QrobustError {
  constructor(readonly pipeline: PipelineConfig) {
    super(`Pipeline '${pipeline.id}' (${pipeline.describe}) is not implemented yet: it arrives with issue ${pipeline.pendingIssue} ` +
      `(OpenCV, FFmpeg, sharp and jpeg-js pipelines); implemented now: ${implementedPipelineIds().join(', ')}`);
    this.name = 'PipelineNotImplementedError';
  }
}

/**
 * The descriptor of a pipeline id.
 * @param id a pipeline id of CONVENTIONS.md
 * @param name the option name used in the error message (default `pipeline`)
 * @throws UsageError naming every allowed id when `id` is unknown
 * @example
 * getPipeline('dec-tf-fast').decoder // { library: 'libjpeg', dct: 'ifast', fancyUpsampling: true }
 */
export function getPipeline(id: string, name = 'pipeline'): PipelineConfig {
  const p = BY_ID.get(id);
  if (!p) {
    const shown = typeof id === 'string' ? `'${id}'` : String(id);
    throw new UsageError(`Expected one of ${PIPELINE_IDS.join(', ')} for ${name} but received ${shown}`);
  }
  return p;
}

/**
 * The descriptor, only if it is implemented.
 * @param id a pipeline id
 * @throws UsageError for an unknown id; PipelineNotImplementedError (exit 1) for an id registered before it runs (none since issue 7)
 * @example
 * requireImplemented('rs-pil-lanczos').resizer // { library: 'pil', filter: 'lanczos' }
 */
export function requireImplemented(id: string, name = 'pipeline'): PipelineConfig {
  const p = getPipeline(id, name);
  if (!p.implemented) throw new PipelineNotImplementedError(p);
  return p;
}

/**
 * The ids that run today (all of them since issue 7).
 * @throws never
 * @example
 * implementedPipelineIds().includes('dec-opencv') // true
 */
export function implementedPipelineIds(): PipelineId[] {
  return TABLE.filter((p) => p.implemented).map((p) => p.id as PipelineId);
}

/**
 * The ids made only of libjpeg + Pillow (issue 6), whose outputs Pillow and djpeg can check.
 * @throws never
 * @example
 * pilExactPipelineIds().includes('dec-opencv') // false
 */
export function pilExactPipelineIds(): PipelineId[] {
  return TABLE.filter((p) => p.decoder.library === 'libjpeg' && p.resizer.library === 'pil').map((p) => p.id as PipelineId);
}

/**
 * The decoder part of a pipeline as a string key: pipelines with the same key decode identically,
 * so a suite decodes once per key (e.g. every `rs-*` shares `dec-pil`'s decode).
 * @param p a descriptor
 * @throws never
 * @example
 * decoderKey(getPipeline('rs-opencv-area')) === decoderKey(getPipeline('dec-pil')) // true
 */
export function decoderKey(p: PipelineConfig): string {
  return JSON.stringify(p.decoder);
}

/**
 * Whether two ids are the same pipeline (dec-pil and rs-pil-bilinear are).
 * @throws UsageError for unknown ids
 * @example
 * samePipeline('dec-pil', 'rs-pil-bilinear') // true
 */
export function samePipeline(a: string, b: string): boolean {
  const pa = getPipeline(a);
  const pb = getPipeline(b);
  return JSON.stringify({ d: pa.decoder, r: pa.resizer }) === JSON.stringify({ d: pb.decoder, r: pb.resizer });
}
