// Pillow-exact resampling of interleaved uint8 images (see qrb/image.h).
//
// Semantics reproduced (Pillow 9.x, Image.resize without box / reducing_gap):
// - nearest: an affine scale with a = in/out (in double), source index = int(a/2 + x*a) where the position is
//   accumulated by repeated addition (as Pillow does, which matters at exact .0 boundaries); indices
//   outside the image give 0.
// - convolution filters: separable, horizontal pass first over only the source rows the vertical pass
//   needs, then vertical. Per output pixel the filter is centred at (x + 0.5) * scale, its support is
//   widened by the scale when shrinking (antialiasing), the taps are [int(c - s + 0.5), int(c + s + 0.5))
//   clipped to the image, weights are normalised to sum 1 in double, then converted to fixed point
//   with 22 fractional bits (round half away from zero). Accumulation starts at 0.5 LSB and the result
//   is the accumulator >> 22 clipped to [0, 255]. A pass is skipped when its size is unchanged.
// - the double expressions are evaluated in Pillow's order (the build uses -ffp-contract=off), and the
//   hamming window uses single-precision constants 0.54f / 0.46f, as Pillow does.
// - reduce (box): sum of the block plus half its size, times a float-derived reciprocal
//   (uint32)(2^32 / (256 * n)), >> 24; partial blocks at the right / bottom edges use their own n.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "qrb/image.h"

namespace qrb::image {
namespace {

constexpr int kPrecisionBits = 32 - 8 - 2;

double box_filter(double x) { return (x > -0.5 && x <= 0.5) ? 1.0 : 0.0; }

double bilinear_filter(double x) {
  if (x < 0.0) x = -x;
  if (x < 1.0) return 1.0 - x;
  return 0.0;
}

double hamming_filter(double x) {
  if (x < 0.0) x = -x;
  if (x == 0.0) return 1.0;
  if (x >= 1.0) return 0.0;
  x = x * M_PI;
  // NOTE: single-precision constants, promoted to double, as in Pillow.
  return std::sin(x) / x * (double(0.54f) + double(0.46f) * std::cos(x));
}

double bicubic_filter(double x) {
  const double a = -0.5;
  if (x < 0.0) x = -x;
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

double sinc(double x) {
  if (x == 0.0) return 1.0;
  x = x * M_PI;
  return std::sin(x) / x;
}

double lanczos_filter(double x) {
  if (-3.0 <= x && x < 3.0) return sinc(x) * sinc(x / 3);
  return 0.0;
}

struct FilterDef {
  double (*fn)(double);
  double support;
};

bool filter_def(Filter f, FilterDef* d) {
  switch (f) {
    case Filter::Box: *d = {box_filter, 0.5}; return true;
    case Filter::Bilinear: *d = {bilinear_filter, 1.0}; return true;
    case Filter::Hamming: *d = {hamming_filter, 1.0}; return true;
    case Filter::Bicubic: *d = {bicubic_filter, 2.0}; return true;
    case Filter::Lanczos: *d = {lanczos_filter, 3.0}; return true;
    default: return false;
  }
}

// Per output index: first source index, tap count, and ksize fixed-point weights.
struct Coeffs {
  int ksize = 0;
  std::vector<int> first, count;
  std::vector<int32_t> k;
};

// Coefficients of output indices [lo, hi) of a resize of in_size to out_size (full source box).
Coeffs precompute(int in_size, int out_size, const FilterDef& fd, int lo, int hi) {
  Coeffs c;
  // Pillow keeps the box in float: (double)(in1 - in0) with in0 = 0.
  const float in0 = 0.0f, in1 = float(in_size);
  const double scale = double(in1 - in0) / out_size;
  double filterscale = scale;
  if (filterscale < 1.0) filterscale = 1.0;
  const double support = fd.support * filterscale;
  c.ksize = int(std::ceil(support)) * 2 + 1;
  const int n = hi - lo;
  c.first.resize(n);
  c.count.resize(n);
  c.k.assign(size_t(n) * c.ksize, 0);
  std::vector<double> w(c.ksize);
  for (int i = 0; i < n; ++i) {
    const int xx = lo + i;
    const double center = in0 + (xx + 0.5) * scale;
    double ww = 0.0;
    const double ss = 1.0 / filterscale;
    int xmin = int(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    int xmax = int(center + support + 0.5);
    if (xmax > in_size) xmax = in_size;
    xmax -= xmin;
    if (xmax > c.ksize) xmax = c.ksize;  // cannot happen (support bounds the span); keeps memory safe
    for (int x = 0; x < xmax; ++x) {
      const double v = fd.fn((x + xmin - center + 0.5) * ss);
      w[x] = v;
      ww += v;
    }
    int32_t* kk = &c.k[size_t(i) * c.ksize];
    for (int x = 0; x < xmax; ++x) {
      double v = w[x];
      if (ww != 0.0) v /= ww;
      kk[x] = v < 0 ? int32_t(-0.5 + v * (1 << kPrecisionBits)) : int32_t(0.5 + v * (1 << kPrecisionBits));
    }
    c.first[i] = xmin;
    c.count[i] = xmax;
  }
  return c;
}

inline uint8_t clip8(int32_t ss) {
  const int32_t v = ss >> kPrecisionBits;  // arithmetic shift, as Pillow's lookup index
  return uint8_t(v < 0 ? 0 : v > 255 ? 255 : v);
}

// Horizontal pass: rows [row0, row0 + rows) of src, output columns given by c, into tmp (c.first.size() wide).
template <int C>
void horizontal_fixed(const uint8_t* src, int in_w, int row0, int rows, const Coeffs& c, uint8_t* tmp) {
  const int ow = int(c.first.size());
  for (int y = 0; y < rows; ++y) {
    const uint8_t* line = src + size_t(row0 + y) * in_w * C;
    uint8_t* out = tmp + size_t(y) * ow * C;
    for (int xx = 0; xx < ow; ++xx) {
      const int xmin = c.first[xx], cnt = c.count[xx];
      const int32_t* k = &c.k[size_t(xx) * c.ksize];
      int32_t acc[C];
      for (int ch = 0; ch < C; ++ch) acc[ch] = 1 << (kPrecisionBits - 1);
      const uint8_t* p = line + size_t(xmin) * C;
      for (int x = 0; x < cnt; ++x) {
        const int32_t kv = k[x];
        for (int ch = 0; ch < C; ++ch) acc[ch] += int32_t(p[x * C + ch]) * kv;
      }
      for (int ch = 0; ch < C; ++ch) out[xx * C + ch] = clip8(acc[ch]);
    }
  }
}

void horizontal(const uint8_t* src, int in_w, int channels, int row0, int rows, const Coeffs& c, uint8_t* tmp) {
  switch (channels) {
    case 1: horizontal_fixed<1>(src, in_w, row0, rows, c, tmp); break;
    case 2: horizontal_fixed<2>(src, in_w, row0, rows, c, tmp); break;
    case 3: horizontal_fixed<3>(src, in_w, row0, rows, c, tmp); break;
    default: horizontal_fixed<4>(src, in_w, row0, rows, c, tmp); break;
  }
}

// Vertical pass: src rows are addressed relative to src_row0 (the first row held in src), each row
// src_stride bytes, of which `bytes` starting at byte offset col0 are used.
void vertical(const uint8_t* src, size_t src_stride, int src_row0, size_t col0, size_t bytes, const Coeffs& c,
              uint8_t* dst) {
  std::vector<int32_t> acc(bytes);
  const int oh = int(c.first.size());
  for (int yy = 0; yy < oh; ++yy) {
    std::fill(acc.begin(), acc.end(), int32_t(1) << (kPrecisionBits - 1));
    const int32_t* k = &c.k[size_t(yy) * c.ksize];
    for (int y = 0; y < c.count[yy]; ++y) {
      const uint8_t* line = src + size_t(c.first[yy] + y - src_row0) * src_stride + col0;
      const int32_t kv = k[y];
      for (size_t i = 0; i < bytes; ++i) acc[i] += int32_t(line[i]) * kv;
    }
    uint8_t* out = dst + size_t(yy) * bytes;
    for (size_t i = 0; i < bytes; ++i) out[i] = clip8(acc[i]);
  }
}

// Pillow's affine "scale" path for nearest: positions accumulated by repeated addition of a double.
std::vector<int> nearest_table(int in_size, int out_size) {
  const float box0 = 0.0f, box1 = float(in_size);
  const double a = double(box1 - box0) / out_size;
  double xo = double(box0) + a * 0.5;
  std::vector<int> t(out_size);
  for (int x = 0; x < out_size; ++x) {
    const int xin = xo < 0.0 ? -1 : int(xo);
    t[x] = (xin >= 0 && xin < in_size) ? xin : -1;  // -1: outside, filled with 0
    xo += a;
  }
  return t;
}

Status check_geometry(const char* fn, size_t src_len, int in_w, int in_h, int channels) {
  if (channels < 1 || channels > 4)
    return Status::Error(std::string(fn) + "(channels): expected 1..4 but received " + std::to_string(channels));
  if (in_w < 1 || in_h < 1)
    return Status::Error(std::string(fn) + ": expected a non-empty source image but received " + std::to_string(in_w) +
                         "x" + std::to_string(in_h));
  if (uint64_t(in_w) * uint64_t(in_h) > kMaxPixels)
    return Status::Error(std::string(fn) + ": source image " + std::to_string(in_w) + "x" + std::to_string(in_h) +
                         " is larger than the limit of " + std::to_string(kMaxPixels) + " pixels");
  const uint64_t need = uint64_t(in_w) * in_h * channels;
  if (src_len != need)
    return Status::Error(std::string(fn) + "(src): expected " + std::to_string(need) + " bytes (" +
                         std::to_string(in_w) + "x" + std::to_string(in_h) + "x" + std::to_string(channels) +
                         ") but received " + std::to_string(src_len));
  return Status::Ok();
}

}  // namespace

Status pil_resize(const uint8_t* src, size_t src_len, int in_w, int in_h, int channels, int out_w, int out_h,
                  Filter filter, const Window& win, uint8_t* dst, size_t dst_len) {
  Status st = check_geometry("pil_resize", src_len, in_w, in_h, channels);
  if (!st.ok) return st;
  if (out_w < 1 || out_h < 1 || uint64_t(out_w) * uint64_t(out_h) > kMaxPixels)
    return Status::Error("pil_resize(size): expected 1.." + std::to_string(kMaxPixels) + " output pixels but received " +
                         std::to_string(out_w) + "x" + std::to_string(out_h));
  if (win.w < 1 || win.h < 1 || win.x < 0 || win.y < 0 || win.x > out_w - win.w || win.y > out_h - win.h)
    return Status::Error("pil_resize(window): expected a non-empty window inside " + std::to_string(out_w) + "x" +
                         std::to_string(out_h) + " but received " + std::to_string(win.w) + "x" + std::to_string(win.h) +
                         " at (" + std::to_string(win.x) + ", " + std::to_string(win.y) + ")");
  const size_t C = size_t(channels);
  const size_t need = size_t(win.w) * win.h * C;
  if (dst_len != need)
    return Status::Error("pil_resize(dst): expected " + std::to_string(need) + " bytes but received " +
                         std::to_string(dst_len));

  if (filter == Filter::Nearest) {
    const std::vector<int> tx = nearest_table(in_w, out_w), ty = nearest_table(in_h, out_h);
    for (int y = 0; y < win.h; ++y) {
      uint8_t* out = dst + size_t(y) * win.w * C;
      const int sy = ty[win.y + y];
      for (int x = 0; x < win.w; ++x) {
        const int sx = tx[win.x + x];
        if (sx < 0 || sy < 0) {
          std::memset(out + x * C, 0, C);
        } else {
          std::memcpy(out + x * C, src + (size_t(sy) * in_w + sx) * C, C);
        }
      }
    }
    return Status::Ok();
  }
  FilterDef fd;
  if (!filter_def(filter, &fd))
    return Status::Error("pil_resize(filter): expected 0..5 (nearest, box, bilinear, hamming, bicubic, lanczos) but received " +
                         std::to_string(int(filter)));

  const bool need_h = out_w != in_w;
  const bool need_v = out_h != in_h;
  if (!need_h && !need_v) {
    for (int y = 0; y < win.h; ++y)
      std::memcpy(dst + size_t(y) * win.w * C, src + (size_t(win.y + y) * in_w + win.x) * C, size_t(win.w) * C);
    return Status::Ok();
  }
  if (need_h && !need_v) {
    // Vertical coefficients would be the identity: output row y is the horizontal pass of source row y.
    const Coeffs ch = precompute(in_w, out_w, fd, win.x, win.x + win.w);
    horizontal(src, in_w, channels, win.y, win.h, ch, dst);
    return Status::Ok();
  }
  const Coeffs cv = precompute(in_h, out_h, fd, win.y, win.y + win.h);
  if (!need_h) {
    vertical(src, size_t(in_w) * C, 0, size_t(win.x) * C, size_t(win.w) * C, cv, dst);
    return Status::Ok();
  }
  const int row_first = cv.first.front();
  const int row_last = cv.first.back() + cv.count.back();
  const Coeffs ch = precompute(in_w, out_w, fd, win.x, win.x + win.w);
  std::vector<uint8_t> tmp(size_t(row_last - row_first) * win.w * C);
  horizontal(src, in_w, channels, row_first, row_last - row_first, ch, tmp.data());
  vertical(tmp.data(), size_t(win.w) * C, row_first, 0, size_t(win.w) * C, cv, dst);
  return Status::Ok();
}

namespace {

// (uint32)(2^32 / (256 * n)) computed in float, as Pillow's Reduce.c does.
uint32_t reduce_multiplier(uint32_t n) {
  const uint32_t max_dividend = (uint32_t(1) << 8) * n;
  const float max_int = float(1 << 30) * 4.0f;
  return uint32_t(max_int / float(max_dividend));
}

}  // namespace

Status pil_reduce_box(const uint8_t* src, size_t src_len, int in_w, int in_h, int channels, int fx, int fy,
                      uint8_t* dst, size_t dst_len) {
  Status st = check_geometry("pil_reduce_box", src_len, in_w, in_h, channels);
  if (!st.ok) return st;
  if (fx < 1 || fy < 1 || fx > in_w || fy > in_h || uint64_t(fx) * uint64_t(fy) > (1u << 16))
    return Status::Error("pil_reduce_box(factor): expected 1..width x 1..height with fx*fy <= 65536 but received " +
                         std::to_string(fx) + "x" + std::to_string(fy));
  const int ow = (in_w + fx - 1) / fx, oh = (in_h + fy - 1) / fy;
  const size_t C = size_t(channels);
  if (dst_len != size_t(ow) * oh * C)
    return Status::Error("pil_reduce_box(dst): expected " + std::to_string(size_t(ow) * oh * C) +
                         " bytes but received " + std::to_string(dst_len));
  for (int y = 0; y < oh; ++y) {
    const int y0 = y * fy, y1 = std::min(in_h, y0 + fy);
    for (int x = 0; x < ow; ++x) {
      const int x0 = x * fx, x1 = std::min(in_w, x0 + fx);
      const uint32_t n = uint32_t((x1 - x0) * (y1 - y0));
      const uint32_t mult = reduce_multiplier(n), amend = n / 2;
      for (size_t c = 0; c < C; ++c) {
        uint32_t ss = amend;
        for (int yy = y0; yy < y1; ++yy) {
          const uint8_t* line = src + size_t(yy) * in_w * C;
          for (int xx = x0; xx < x1; ++xx) ss += line[size_t(xx) * C + c];
        }
        dst[(size_t(y) * ow + x) * C + c] = uint8_t((ss * mult) >> 24);
      }
    }
  }
  return Status::Ok();
}

}  // namespace qrb::image
