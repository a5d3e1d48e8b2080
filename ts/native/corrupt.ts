/**
 * Typed contract of the corruption kernels in the addon (native/binding/corrupt.cc) and a checked
 * accessor. ts/corrupt calls these; every function copies its inputs and resolves off the main thread.
 * Addons built without the image group export `corruptAvailable: false`; OpenCV-backed kernels
 * (defocus, elastic, cvResizeLinear) need `corruptOpencv: true`.
 */
import { QrobustError } from '../util/errors.ts';
import { native } from './binding.ts';

/** The native functions (absent when `corruptAvailable` is false). */
export interface CorruptNative {
  corruptAvailable?: boolean;
  corruptOpencv?: boolean;
  gaussianFilter?(src: Float64Array, h: number, w: number, c: number, sigma: number, truncate: number, mode: number): Promise<Float64Array>;
  clippedZoom?(src: Float64Array, h: number, w: number, c: number, zoom: number): Promise<Float64Array>;
  zoomBlur?(src: Uint8Array, h: number, w: number, c: number, zooms: Float64Array): Promise<Uint8Array>;
  motionBlur?(src: Uint8Array, h: number, w: number, c: number, radius: number, sigma: number, angleDeg: number): Promise<Uint8Array>;
  glassBlur?(src: Uint8Array, h: number, w: number, c: number, sigma: number, delta: number, iterations: number, offsets: Int32Array): Promise<Uint8Array>;
  defocusBlur?(src: Uint8Array, h: number, w: number, c: number, radius: number, aliasBlur: number): Promise<Uint8Array>;
  elastic?(src: Uint8Array, h: number, w: number, c: number, alpha: number, sigma: number, jitter: Float32Array, ux: Float64Array, uy: Float64Array): Promise<Uint8Array>;
  cvResizeLinear?(src: Uint8Array, h: number, w: number, c: number, fx: number, fy: number): Promise<{ data: Uint8Array; width: number; height: number }>;
}

/** scipy.ndimage boundary modes (wire values of qrb::corrupt::NdMode). */
export const ND_MODES = ['reflect', 'nearest'] as const;

type Required<T> = { [K in keyof T]-?: T[K] };

/**
 * The corruption part of the addon.
 * @param needOpencv also require OpenCV (defocus_blur, elastic_transform, frost below 224 px)
 * @param what the corruption asking, for the message
 * @throws QrobustError when the addon lacks the image group or OpenCV, naming the missing library
 * @example
 * corruptNative().corruptAvailable // true
 */
export function corruptNative(needOpencv = false, what = 'this corruption'): Required<CorruptNative> {
  const n = native();
  if (!n.corruptAvailable || !n.zoomBlur) {
    throw new QrobustError('the qrobust addon was built without the image group (libjpeg not found): the corruption kernels are unavailable; install libjpeg-dev (apt) and rebuild with `npm run build`');
  }
  if (needOpencv && !n.corruptOpencv) {
    throw new QrobustError(`${what} needs OpenCV, which the qrobust addon was built without: install libopencv-dev (apt) and rebuild with \`npm run build\``);
  }
  return n as unknown as Required<CorruptNative>;
}
