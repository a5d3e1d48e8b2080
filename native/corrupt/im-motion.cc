// ImageMagick 6 MotionBlurImage (Q16, non-HDRI, as Debian's libmagickcore-6.q16 that Wand loads), the
// reference's motion_blur and the blur inside snow, written from ImageMagick's documented algorithm:
//   width  = 2*ceil(radius) + 1 (GetOptimalKernelWidth1D for radius > 0)
//   k[i]   = exp(-i^2 / (2 sigma^2)) / (sqrt(2 pi) sigma), i = 0..width-1, normalised: ONE-SIDED
//   offset = (ceil(i*cos(a) - 0.5), ceil(i*sin(a) - 0.5)) computed as ImageMagick does (i*point / hypot)
//   out    = ClampToQuantum(sum k[i] * in(x + ox[i], y + oy[i])), out-of-image reads replicate the edge
//            (the default virtual-pixel method); 8-bit input is scaled by 257, the result written back as
//            ClampToQuantum (round) then q/257 truncated (measured against Wand).
// Tests: native/tests/test_image_corrupt.cc; test/parity/corrupt-blur.test.ts against Wand.
#include <cmath>
#include <string>
#include <vector>

#include "qrb/corrupt.h"

namespace qrb::corrupt {

namespace {
constexpr double kMagickPI = 3.14159265358979323846264338327950288419716939937510;
constexpr double kMagickSQ2PI = 2.50662827463100024161235523934010416269302368164062;
constexpr double kMagickEpsilon = 1.0e-12;

inline uint16_t clamp_to_quantum(double v) {
  if (v <= 0.0) return 0;
  if (v >= 65535.0) return 65535;
  return uint16_t(v + 0.5);
}
// Measured against Wand (ImageMagick 6.9.11 Q16): the 8-bit PNG written after the blur holds q/257 truncated.
inline uint8_t quantum_to_char(uint16_t q) { return uint8_t(q / 257u); }
}  // namespace

Status motion_blur_u8(const uint8_t* src, int h, int w, int c, double radius, double sigma, double angle_deg,
                      uint8_t* dst) {
  if (!src || !dst || h < 1 || w < 1 || c < 1) return Status::Error("motion_blur: bad image (h, w, c must be >= 1)");
  if (!(radius > kMagickEpsilon) || !std::isfinite(radius) || radius > 1000)
    return Status::Error("motion_blur: radius must be in (0, 1000], got " + std::to_string(radius));
  if (!std::isfinite(sigma) || !std::isfinite(angle_deg)) return Status::Error("motion_blur: sigma and angle must be finite");
  const long width = long(2.0 * std::ceil(radius) + 1.0);
  const double s = std::fabs(sigma) < kMagickEpsilon ? kMagickEpsilon : sigma;
  std::vector<double> k(static_cast<size_t>(width));
  double norm = 0.0;
  for (long i = 0; i < width; i++) {
    k[size_t(i)] = std::exp(-(double(i) * double(i)) / (2.0 * s * s)) / (kMagickSQ2PI * s);
    norm += k[size_t(i)];
  }
  for (double& v : k) v /= norm;
  const double rad = kMagickPI * angle_deg / 180.0;
  const double px = double(width) * std::sin(rad), py = double(width) * std::cos(rad);
  const double hyp = std::hypot(px, py);
  std::vector<long> ox(static_cast<size_t>(width)), oy(static_cast<size_t>(width));
  for (long i = 0; i < width; i++) {
    ox[size_t(i)] = long(std::ceil(double(i) * py / hyp - 0.5));
    oy[size_t(i)] = long(std::ceil(double(i) * px / hyp - 0.5));
  }
  std::vector<double> acc(static_cast<size_t>(c));
  for (int y = 0; y < h; y++) {
    for (int x = 0; x < w; x++) {
      for (int ch = 0; ch < c; ch++) acc[size_t(ch)] = 0.0;
      for (long i = 0; i < width; i++) {
        long sx = x + ox[size_t(i)], sy = y + oy[size_t(i)];
        sx = sx < 0 ? 0 : (sx >= w ? w - 1 : sx);
        sy = sy < 0 ? 0 : (sy >= h ? h - 1 : sy);
        const uint8_t* p = src + (size_t(sy) * w + sx) * c;
        for (int ch = 0; ch < c; ch++) acc[size_t(ch)] += k[size_t(i)] * double(uint16_t(p[ch] * 257u));
      }
      uint8_t* o = dst + (size_t(y) * w + x) * c;
      for (int ch = 0; ch < c; ch++) o[ch] = quantum_to_char(clamp_to_quantum(acc[size_t(ch)]));
    }
  }
  return Status::Ok();
}

}  // namespace qrb::corrupt
