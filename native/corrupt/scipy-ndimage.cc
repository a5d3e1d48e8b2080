// scipy.ndimage / skimage twins used by the ImageNet-C reference, written from their documented
// semantics (scipy 1.10, skimage 0.19), with the reference's dtypes and operation order so that results
// agree to the last bit where the library's arithmetic is reproducible:
//   gaussian_filter_hw      skimage.filters.gaussian(multichannel) = gaussian_filter with sigma (s, s, 0)
//   clipped_zoom_f32/_f64   crop + scipy.ndimage.zoom(order=1) + trim (the reference's clipped_zoom)
//   map_coordinates_hw_f32  scipy.ndimage.map_coordinates(order=1, mode='reflect')
//   zoom_blur_u8, glass_blur_u8 (whole corruptions built from the above)
// Known residual: numpy's exp (SIMD) and glibc's exp can differ by one ulp, so gaussian weights (and thus
// a rare truncation to uint8) may differ by one grey level; the parity tests state that tolerance.
// Tests: native/tests/test_image_corrupt.cc; test/parity/corrupt-*.test.ts against scipy/skimage.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "qrb/corrupt.h"

namespace qrb::corrupt {

namespace {

// numpy's pairwise summation for float64 (add.reduce over a contiguous axis): 8 accumulators per block of
// at most 128, recursive halving above.
double pairwise_sum(const double* a, size_t n) {
  if (n < 8) {
    double r = 0.0;
    for (size_t i = 0; i < n; i++) r += a[i];
    return r;
  }
  if (n <= 128) {
    double r[8];
    for (int j = 0; j < 8; j++) r[j] = a[j];
    size_t i = 8;
    for (; i < n - (n % 8); i += 8)
      for (int j = 0; j < 8; j++) r[j] += a[i + j];
    double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; i++) res += a[i];
    return res;
  }
  size_t n2 = n / 2;
  n2 -= n2 % 8;
  return pairwise_sum(a, n2) + pairwise_sum(a + n2, n - n2);
}

// scipy's _gaussian_kernel1d(sigma, 0, radius): exp(-0.5/sigma^2 * x^2) / sum.
std::vector<double> gaussian_weights(double sigma, double truncate) {
  const int r = int(truncate * sigma + 0.5);
  const double f = -0.5 / (sigma * sigma);
  std::vector<double> phi(size_t(2 * r + 1));
  for (int i = -r; i <= r; i++) phi[size_t(i + r)] = std::exp(f * double(i * i));
  const double s = pairwise_sum(phi.data(), phi.size());
  for (double& v : phi) v = v / s;
  return phi;
}

// Index of an extended line position for scipy's boundary modes.
inline long extend_index(long i, long n, NdMode mode) {
  if (i >= 0 && i < n) return i;
  if (mode == NdMode::Nearest) return i < 0 ? 0 : n - 1;
  // 'reflect': d c b a | a b c d | d c b a, periodic with period 2n (also for radii beyond n).
  const long p = 2 * n;
  long m = i % p;
  if (m < 0) m += p;
  return m < n ? m : p - 1 - m;
}

// correlate1d with a symmetric kernel along one axis of a (lines x n) strided array:
// out = in[0]*w[0] + sum_{j=-r}^{-1} (in[j] + in[-j]) * w[j], the outermost pair first (NI_Correlate1D).
void correlate_axis(const double* src, double* dst, long n, long lines, long line_stride, long step,
                    const std::vector<double>& wts, NdMode mode, std::vector<double>& buf) {
  const long r = long(wts.size() / 2);
  const double* fw = wts.data() + r;
  buf.assign(size_t(n + 2 * r), 0.0);
  for (long l = 0; l < lines; l++) {
    const double* in = src + l * line_stride;
    for (long i = -r; i < n + r; i++) buf[size_t(i + r)] = in[extend_index(i, n, mode) * step];
    double* out = dst + l * line_stride;
    for (long k = 0; k < n; k++) {
      const double* p = buf.data() + k + r;
      double acc = p[0] * fw[0];
      for (long j = -r; j < 0; j++) acc += (p[j] + p[-j]) * fw[j];
      out[k * step] = acc;
    }
  }
}

inline double round_half_even(double v) { return std::nearbyint(v); }  // default FE_TONEAREST

// One axis of scipy.ndimage.zoom(order=1, grid_mode=False) restricted to the output positions a clipped
// zoom keeps: input index pair, weights 1-t and 1-(1-t), and whether the position lies outside
// ('constant' mode: the value is 0).
struct AxisTap {
  long i0, i1;
  double w0, w1;
  bool zero;
};

Status zoom_axis(int n, double z, std::vector<AxisTap>* taps, int* crop_top) {
  if (!(z >= 1.0) || !std::isfinite(z)) return Status::Error("clipped_zoom: zoom must be a finite number >= 1, got " + std::to_string(z));
  const long ch = long(std::ceil(double(n) / z));
  const long top = (n - ch) / 2;  // n >= ch
  const long out = long(round_half_even(double(ch) * z));
  const long trim = (out - n) >= 0 ? (out - n) / 2 : -((n - out + 1) / 2);
  if (out < n || trim < 0) return Status::Error("clipped_zoom: zoomed size smaller than the image");
  const double zf = out > 1 ? double(ch - 1) / double(out - 1) : 1.0;
  taps->resize(size_t(n));
  for (int k = 0; k < n; k++) {
    AxisTap& t = (*taps)[size_t(k)];
    double cc = double(k + trim) * zf;
    t.zero = false;
    if (cc < 0 || cc > double(ch - 1)) {  // NI_EXTEND_CONSTANT maps outside coordinates to cval
      t.zero = true;
      t.i0 = t.i1 = 0;
      t.w0 = t.w1 = 0;
      continue;
    }
    const double fl = std::floor(cc);
    const double x = cc - fl;
    t.w0 = 1.0 - x;
    t.w1 = 1.0 - t.w0;
    long s = long(fl);
    t.i0 = s;
    long i1 = s + 1;
    if (i1 >= ch) {  // mirror the neighbour (its weight is 0 here)
      const long s2 = 2 * ch - 2;
      if (ch <= 1) i1 = 0;
      else {
        i1 -= s2 * (i1 / s2);
        if (i1 >= ch) i1 = s2 - i1;
      }
    }
    t.i1 = i1;
  }
  *crop_top = int(top);
  return Status::Ok();
}

template <class T>
Status clipped_zoom_t(const T* src, int h, int w, int c, double zoom, T* dst) {
  if (!src || !dst || h < 1 || w < 1 || c < 1) return Status::Error("clipped_zoom: bad image (h, w, c must be >= 1)");
  std::vector<AxisTap> ty, tx;
  int top_y = 0, top_x = 0;
  Status st = zoom_axis(h, zoom, &ty, &top_y);
  if (!st.ok) return st;
  st = zoom_axis(w, zoom, &tx, &top_x);
  if (!st.ok) return st;
  const long rs = long(w) * c;
  for (int y = 0; y < h; y++) {
    const AxisTap& a = ty[size_t(y)];
    for (int x = 0; x < w; x++) {
      const AxisTap& b = tx[size_t(x)];
      T* o = dst + (long(y) * w + x) * c;
      if (a.zero || b.zero) {
        for (int k = 0; k < c; k++) o[k] = T(0);
        continue;
      }
      const T* r0 = src + (a.i0 + top_y) * rs;
      const T* r1 = src + (a.i1 + top_y) * rs;
      const long c0 = (b.i0 + top_x) * c, c1 = (b.i1 + top_x) * c;
      for (int k = 0; k < c; k++) {
        double t = 0.0;
        t += (double(r0[c0 + k]) * a.w0) * b.w0;
        t += (double(r0[c1 + k]) * a.w0) * b.w1;
        t += (double(r1[c0 + k]) * a.w1) * b.w0;
        t += (double(r1[c1 + k]) * a.w1) * b.w1;
        o[k] = T(t);
      }
    }
  }
  return Status::Ok();
}

// map_coordinate() for 'reflect' (scipy >= 1.6): fold a coordinate outside [0, n-1].
inline double map_reflect(double in, long len) {
  if (in < 0) {
    if (len <= 1) return 0;
    const long sz2 = 2 * len;
    if (in < -double(sz2)) in = double(sz2 * long(-in / double(sz2))) + in;
    return in < -double(len) ? in + double(sz2) : -in - 1;
  }
  if (in > double(len - 1)) {
    if (len <= 1) return 0;
    const long sz2 = 2 * len;
    in -= double(sz2 * long(in / double(sz2)));
    if (in >= double(len)) in = double(sz2) - in - 1;
  }
  return in;
}

inline long reflect_index(long i, long n) {
  if (n <= 1) return 0;
  const long p = 2 * n;
  long m = i % p;
  if (m < 0) m += p;
  return m < n ? m : p - 1 - m;
}

}  // namespace

Status gaussian_filter_hw(const double* src, int h, int w, int c, double sigma, double truncate, NdMode mode,
                          double* dst) {
  if (!src || !dst || h < 1 || w < 1 || c < 1) return Status::Error("gaussian_filter: bad image (h, w, c must be >= 1)");
  if (!(sigma >= 0) || !std::isfinite(sigma)) return Status::Error("gaussian_filter: sigma must be finite and >= 0, got " + std::to_string(sigma));
  if (!(truncate > 0) || !std::isfinite(truncate)) return Status::Error("gaussian_filter: truncate must be > 0");
  if (mode != NdMode::Reflect && mode != NdMode::Nearest) return Status::Error("gaussian_filter: mode must be reflect (0) or nearest (1)");
  const size_t n = size_t(h) * w * c;
  if (sigma <= 1e-15) {  // scipy skips axes whose sigma is ~0
    std::memmove(dst, src, n * sizeof(double));
    return Status::Ok();
  }
  const std::vector<double> wts = gaussian_weights(sigma, truncate);
  std::vector<double> tmp(n), buf;
  // axis 0 (rows): one line per (x, ch), stride w*c
  for (int x = 0; x < w; x++)
    correlate_axis(src + long(x) * c, tmp.data() + long(x) * c, h, c, 1, long(w) * c, wts, mode, buf);
  // axis 1 (columns): one line per (y, ch), stride c
  for (int y = 0; y < h; y++)
    correlate_axis(tmp.data() + long(y) * w * c, dst + long(y) * w * c, w, c, 1, c, wts, mode, buf);
  return Status::Ok();
}

Status clipped_zoom_f32(const float* src, int h, int w, int c, double zoom, float* dst) {
  return clipped_zoom_t<float>(src, h, w, c, zoom, dst);
}
Status clipped_zoom_f64(const double* src, int h, int w, int c, double zoom, double* dst) {
  return clipped_zoom_t<double>(src, h, w, c, zoom, dst);
}

Status map_coordinates_hw_f32(const float* src, int h, int w, int c, const float* dy, const float* dx, float* dst) {
  if (!src || !dst || !dy || !dx || h < 1 || w < 1 || c < 1) return Status::Error("map_coordinates: bad arguments");
  const long rs = long(w) * c;
  for (int y = 0; y < h; y++) {
    for (int x = 0; x < w; x++) {
      const long p = long(y) * w + x;
      const double cy = map_reflect(double(y) + double(dy[p]), h);
      const double cx = map_reflect(double(x) + double(dx[p]), w);
      float* o = dst + p * c;
      if (!(cy > -1.0) || !(cx > -1.0)) {  // cannot happen for 'reflect'; scipy would write cval
        for (int k = 0; k < c; k++) o[k] = 0.0f;
        continue;
      }
      const double fy = std::floor(cy), fx = std::floor(cx);
      const double wy0 = 1.0 - (cy - fy), wy1 = 1.0 - wy0;
      const double wx0 = 1.0 - (cx - fx), wx1 = 1.0 - wx0;
      const long y0 = reflect_index(long(fy), h), y1 = reflect_index(long(fy) + 1, h);
      const long x0 = reflect_index(long(fx), w), x1 = reflect_index(long(fx) + 1, w);
      for (int k = 0; k < c; k++) {
        double t = 0.0;
        t += (double(src[y0 * rs + x0 * c + k]) * wy0) * wx0;
        t += (double(src[y0 * rs + x1 * c + k]) * wy0) * wx1;
        t += (double(src[y1 * rs + x0 * c + k]) * wy1) * wx0;
        t += (double(src[y1 * rs + x1 * c + k]) * wy1) * wx1;
        o[k] = float(t);
      }
    }
  }
  return Status::Ok();
}

Status zoom_blur_u8(const uint8_t* src, int h, int w, int c, const double* zooms, int n_zooms, uint8_t* dst) {
  if (!src || !dst || h < 1 || w < 1 || c < 1) return Status::Error("zoom_blur: bad image (h, w, c must be >= 1)");
  if (n_zooms < 1 || !zooms) return Status::Error("zoom_blur: need at least one zoom factor");
  const size_t n = size_t(h) * w * c;
  std::vector<float> x(n), acc(n, 0.0f), z(n);
  for (size_t i = 0; i < n; i++) x[i] = float(double(src[i]) / 255.0);
  for (int k = 0; k < n_zooms; k++) {
    Status st = clipped_zoom_f32(x.data(), h, w, c, zooms[k], z.data());
    if (!st.ok) return st;
    for (size_t i = 0; i < n; i++) acc[i] = acc[i] + z[i];
  }
  const float div = float(n_zooms + 1);
  for (size_t i = 0; i < n; i++) {
    float v = (x[i] + acc[i]) / div;
    v = v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v);
    dst[i] = uint8_t(v * 255.0f);
  }
  return Status::Ok();
}

Status glass_blur_u8(const uint8_t* src, int h, int w, int c, double sigma, int delta, int iterations,
                     const int32_t* offsets, size_t n_offsets, uint8_t* dst) {
  if (!src || !dst || h < 1 || w < 1 || c < 1) return Status::Error("glass_blur: bad image (h, w, c must be >= 1)");
  if (delta < 1 || iterations < 0) return Status::Error("glass_blur: delta must be >= 1 and iterations >= 0");
  const long rows = std::max(0, h - 2 * delta), cols = std::max(0, w - 2 * delta);
  const size_t need = size_t(iterations) * size_t(rows) * size_t(cols) * 2;
  if (n_offsets != need)
    return Status::Error("glass_blur: offsets must hold " + std::to_string(need) + " values (iterations*(h-2d)*(w-2d)*2), got " + std::to_string(n_offsets));
  for (size_t i = 0; i < n_offsets; i++)
    if (offsets[i] < -delta || offsets[i] >= delta) return Status::Error("glass_blur: offsets[" + std::to_string(i) + "] outside [-delta, delta)");
  const size_t n = size_t(h) * w * c;
  std::vector<double> f(n), g(n);
  for (size_t i = 0; i < n; i++) f[i] = double(src[i]) / 255.0;
  Status st = gaussian_filter_hw(f.data(), h, w, c, sigma, 4.0, NdMode::Nearest, g.data());
  if (!st.ok) return st;
  std::vector<uint8_t> x(n);
  for (size_t i = 0; i < n; i++) x[i] = uint8_t(g[i] * 255.0);
  // numpy's "swap" through views is a copy: x[h, w] <- x[h', w'] (x[h', w'] is rewritten with itself).
  const int32_t* o = offsets;
  for (int it = 0; it < iterations; it++)
    for (int yy = h - delta; yy > delta; yy--)
      for (int xx = w - delta; xx > delta; xx--, o += 2) {
        const long yp = yy + o[1], xp = xx + o[0];
        std::memcpy(&x[(size_t(yy) * w + xx) * c], &x[(size_t(yp) * w + xp) * c], size_t(c));
      }
  for (size_t i = 0; i < n; i++) f[i] = double(x[i]) / 255.0;
  st = gaussian_filter_hw(f.data(), h, w, c, sigma, 4.0, NdMode::Nearest, g.data());
  if (!st.ok) return st;
  for (size_t i = 0; i < n; i++) {
    double v = g[i] < 0 ? 0 : (g[i] > 1 ? 1 : g[i]);
    dst[i] = uint8_t(v * 255.0);
  }
  return Status::Ok();
}

}  // namespace qrb::corrupt
