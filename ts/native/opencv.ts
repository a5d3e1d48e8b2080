/**
 * Typed contract of the OpenCV functions in the addon (native/binding/opencv.cc), and the checked
 * wrappers ts/systematic calls: `cv2.imdecode` (as RGB) and `cv2.resize` with every interpolation.
 * We bind OpenCV directly (a few hundred lines, 2.5 s to build) instead of through opencv4nodejs,
 * whose 5-8 minute compile buys nothing here. Addons built without OpenCV export
 * `opencvAvailable: false`; the wrappers then throw a {@link QrobustError} saying so.
 */
import { QrobustError, UsageError, invalidOption } from '../util/errors.ts';
import { int, oneOf } from '../util/is.ts';
import { native } from './binding.ts';
import type { Image8 } from './image.ts';

/** The native functions (absent when `opencvAvailable` is false). */
export interface OpencvNative {
  opencvAvailable?: boolean;
  opencvVersion?: string | null;
  cvDecode?(src: Uint8Array, ignoreOrientation: boolean): Promise<{ data: Uint8Array; width: number; height: number; channels: 3 }>;
  cvResize?(src: Uint8Array, width: number, height: number, channels: number, outWidth: number, outHeight: number,
    interpolation: number): Promise<Uint8Array>;
}

/**
 * cv2 interpolation names and their flag values (cv::InterpolationFlags; pinned by static_assert in
 * native/image/opencv.cc). `nearest_exact` is INTER_NEAREST_EXACT (6), `linear_exact` INTER_LINEAR_EXACT (5).
 */
export const CV_INTERPOLATIONS = {
  nearest: 0,
  linear: 1,
  cubic: 2,
  area: 3,
  lanczos4: 4,
  linear_exact: 5,
  nearest_exact: 6,
} as const satisfies Record<string, number>;
export type CvInterpolation = keyof typeof CV_INTERPOLATIONS;
const INTERP_NAMES = Object.keys(CV_INTERPOLATIONS) as CvInterpolation[];

const MAX_SIDE = 1 << 20;
type Present<T> = { [K in keyof T]-?: T[K] };

/**
 * The OpenCV part of the addon.
 * @throws QrobustError when the addon was built without OpenCV (or is not built)
 * @example
 * typeof opencvNative().cvResize // 'function'
 */
export function opencvNative(): Present<OpencvNative> {
  const n = native();
  if (!n.opencvAvailable || !n.cvDecode) {
    throw new QrobustError('OpenCV is not available: the qrobust addon was built without it (dec-opencv and rs-opencv-* need it): ' +
      'install libopencv-dev (apt) and rebuild with `npm run build`');
  }
  return n as unknown as Present<OpencvNative>;
}

/**
 * Whether the addon has the OpenCV functions.
 * @throws never
 * @example
 * opencvAvailable() // true
 */
export function opencvAvailable(): boolean {
  try {
    return native().opencvAvailable === true;
  } catch {
    return false;
  }
}

/**
 * `cv2.cvtColor(cv2.imdecode(bytes, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)`: interleaved RGB, greyscale
 * replicated, EXIF orientation applied as OpenCV does (Pillow ignores it), unless `ignoreOrientation`
 * (IMREAD_IGNORE_ORIENTATION).
 * @param bytes the encoded image (JPEG, PNG, ... whatever this OpenCV build reads)
 * @param opts `ignoreOrientation` (default false, OpenCV's default)
 * @throws UsageError on bad arguments; QrobustError without OpenCV; Error with OpenCV's message when it cannot decode
 * @example
 * (await cvDecode(bytes)).channels // 3
 */
export async function cvDecode(bytes: Uint8Array, opts: { ignoreOrientation?: boolean } = {}): Promise<Image8> {
  if (!(bytes instanceof Uint8Array)) throw invalidOption('bytes', 'Uint8Array', bytes);
  const ignore = opts.ignoreOrientation ?? false;
  if (typeof ignore !== 'boolean') throw invalidOption('ignoreOrientation', 'boolean', ignore);
  const r = await opencvNative().cvDecode(bytes, ignore);
  return { data: r.data, width: r.width, height: r.height, channels: 3 };
}

/**
 * `cv2.resize(img, (width, height), interpolation=flag)`, byte-identical to python3-opencv of the same build.
 * @param img source image (1..4 interleaved channels)
 * @param width output width
 * @param height output height
 * @param interpolation one of {@link CV_INTERPOLATIONS}
 * @throws UsageError on bad sizes or an unknown interpolation; QrobustError without OpenCV
 * @example
 * (await cvResize(img, 256, 256, 'area')).width // 256
 */
export async function cvResize(img: Image8, width: number, height: number, interpolation: CvInterpolation): Promise<Image8> {
  if (typeof img !== 'object' || img === null) throw invalidOption('image', 'an image {data, width, height, channels}', img);
  if (!(img.data instanceof Uint8Array)) throw invalidOption('image.data', 'Uint8Array', img.data);
  int('image.width', img.width, 1, MAX_SIDE);
  int('image.height', img.height, 1, MAX_SIDE);
  int('image.channels', img.channels, 1, 4);
  if (img.data.length !== img.width * img.height * img.channels) {
    throw new UsageError(`Expected ${img.width * img.height * img.channels} bytes (${img.width}x${img.height}x${img.channels}) for image.data but received ${img.data.length}`);
  }
  int('width', width, 1, MAX_SIDE);
  int('height', height, 1, MAX_SIDE);
  oneOf('interpolation', interpolation, INTERP_NAMES);
  const data = await opencvNative().cvResize(img.data, img.width, img.height, img.channels, width, height, CV_INTERPOLATIONS[interpolation]);
  return { data, width, height, channels: img.channels };
}
