// ImageNet-C corruption kernels (issue 8): the hot loops of ts/corrupt, written from the documented
// semantics of the libraries the reference (hendrycks/robustness, corruptions.py) calls, so that the
// outputs match it per pixel. All random draws are made by the caller (ts/corrupt) and passed in.
//
//   gaussian_filter_hw   scipy.ndimage.gaussian_filter over axes 0 and 1 of an HxWxC float64 array (what
//                        skimage.filters.gaussian(multichannel=True) does): kernel exp(-x^2/2s^2) over
//                        radius int(truncate*s+0.5), normalised with numpy's pairwise sum, symmetric
//                        correlate1d (centre first, then outermost pairs inwards), axis 0 then axis 1,
//                        modes 'reflect' (half-sample, periodic) and 'nearest'.
//   clipped_zoom         the reference's clipped_zoom: centre crop ceil(n/z), scipy.ndimage.zoom order 1
//                        (grid_mode False: in = out*(n-1)/(m-1), weights 1-t and 1-(1-t)), trim to n.
//                        float (zoom_blur) and double (snow) variants, as the reference's dtypes.
//   zoom_blur_u8         the whole zoom_blur in float32 (x + sum of zooms)/(k+1), clip, *255, truncation.
//   motion_blur_u8       ImageMagick 6 MotionBlurImage (Q16, non-HDRI): width 2*ceil(r)+1, one-sided
//                        weights exp(-i^2/2s^2) normalised, offsets ceil(i*cos|sin(angle) - 0.5), edge
//                        virtual pixels, ClampToQuantum rounding, 8-bit PNG scaling.
//   glass_blur_u8        gaussian -> uint8 truncation -> copy-not-swap shuffle with given offsets -> gaussian.
//   defocus_blur_u8      disk kernel (float32, cv::GaussianBlur antialias) + cv::filter2D on float64 planes,
//                        BORDER_REFLECT_101 (needs OpenCV).
//   elastic_u8           cv::getAffineTransform + cv::warpAffine (float32, linear, BORDER_REFLECT_101), then
//                        gaussian(uniform fields, reflect, truncate 3)*alpha as float32 and
//                        map_coordinates order 1 'reflect' (scipy >= 1.6 semantics) (needs OpenCV).
//   cv_resize_linear_u8  cv::resize(fx, fy, INTER_LINEAR) (frost textures at small resolutions; OpenCV).
//
// Tests: native/tests/test_image_corrupt.cc (ctest -R image_corrupt); per-pixel parity with the Python
// reference: test/parity/corrupt-*.test.ts. Bench: bench/corrupt/.
#pragma once
#include <cstddef>
#include <cstdint>

#include "qrb/status.h"

namespace qrb::corrupt {

// scipy.ndimage boundary modes used by the reference; values are the binding's wire format.
enum class NdMode : int { Reflect = 0, Nearest = 1 };

// Whether this build has OpenCV (defocus, elastic, cv_resize_linear need it).
bool have_opencv();

Status gaussian_filter_hw(const double* src, int h, int w, int c, double sigma, double truncate, NdMode mode,
                          double* dst);

Status clipped_zoom_f32(const float* src, int h, int w, int c, double zoom, float* dst);
Status clipped_zoom_f64(const double* src, int h, int w, int c, double zoom, double* dst);

// scipy.ndimage.map_coordinates(order=1, mode='reflect') of an HxWxC float32 image at (y + dy, x + dx, ch)
// for every pixel (the coordinates are formed in double from the float32 fields, as numpy does).
Status map_coordinates_hw_f32(const float* src, int h, int w, int c, const float* dy, const float* dx, float* dst);

Status zoom_blur_u8(const uint8_t* src, int h, int w, int c, const double* zooms, int n_zooms, uint8_t* dst);

Status motion_blur_u8(const uint8_t* src, int h, int w, int c, double radius, double sigma, double angle_deg,
                      uint8_t* dst);

// offsets: iterations * (h-2*delta) * (w-2*delta) pairs (dx, dy), each in [-delta, delta), in the reference's
// loop order (rows h = H-delta .. delta+1 descending, columns likewise).
Status glass_blur_u8(const uint8_t* src, int h, int w, int c, double sigma, int delta, int iterations,
                     const int32_t* offsets, size_t n_offsets, uint8_t* dst);

Status defocus_blur_u8(const uint8_t* src, int h, int w, int c, double radius, double alias_blur, uint8_t* dst);

// jitter: 6 float32 values added to the 3 source points (x0,y0,x1,y1,x2,y2); ux, uy: h*w draws of U(-1,1)
// for dx (first) and dy (second), as the reference draws them.
Status elastic_u8(const uint8_t* src, int h, int w, int c, double alpha, double sigma, const float* jitter,
                  const double* ux, const double* uy, uint8_t* dst);

// OpenCV's output size: round(w*fx) x round(h*fy) (dsize (0,0)); *out_w/*out_h receive it; dst may be null
// to only ask the size.
Status cv_resize_linear_u8(const uint8_t* src, int h, int w, int c, double fx, double fy, int* out_h, int* out_w,
                           uint8_t* dst, size_t dst_len);

}  // namespace qrb::corrupt
