// Quantized add, global average pooling / MEAN and TFLite average pooling against their definitions.
// (ORT's QLinearAdd and QLinearGlobalAveragePool themselves are the oracle in test/parity/ort-intq.test.ts.)
#include <cmath>
#include <vector>

#include "harness.h"
#include "qrb/intq.h"

using namespace qrb::intq;

QRB_TEST(intq_eltwise, add_variants_near_the_real_sum) {
  qrb::test::Rng rng(3);
  for (int t = 0; t < 300; ++t) {
    AddParams p;
    p.sa = float(std::ldexp(double(rng.range(1000, 9999)), -int(rng.range(12, 18))));
    p.sb = float(std::ldexp(double(rng.range(1000, 9999)), -int(rng.range(12, 18))));
    p.sy = float(std::ldexp(double(rng.range(1000, 9999)), -int(rng.range(11, 16))));
    p.za = int32_t(rng.range(-128, 127)), p.zb = int32_t(rng.range(-128, 127)), p.zy = int32_t(rng.range(-128, 127));
    std::vector<int32_t> a(17), b(17), y(17);
    for (auto& v : a) v = int32_t(rng.range(-128, 127));
    for (auto& v : b) v = int32_t(rng.range(-128, 127));
    for (Variant v : {Variant::kOrtMlas, Variant::kTfliteDouble, Variant::kTfliteSingle, Variant::kOnnxRef, Variant::kXnnpackFp32,
                      Variant::kXnnpackRndnu}) {
      const float ra = p.sa / p.sy, rb = p.sb / p.sy;
      const bool xnn = v == Variant::kXnnpackFp32 || v == Variant::kXnnpackRndnu;
      if (xnn && !(std::min(ra, rb) >= 0x1.0p-10f && std::max(ra, rb) < 0x1.0p+8f)) {
        QRB_CHECK(!add(v, a.data(), b.data(), a.size(), p, y.data()).ok);  // XNNPACK's range
        continue;
      }
      QRB_CHECK(add(v, a.data(), b.data(), a.size(), p, y.data()).ok);
      if (xnn) {
        // twin: the exact rational (ma(a-za) + mb(b-zb)) / 2^shift rounded half up in long double
        int e = 0;
        std::frexp(std::max(ra, rb), &e);  // max in [2^(e-1), 2^e)
        const int shift = 20 - (e - 1);
        const double ma = std::nearbyint(std::ldexp(double(ra), shift)), mb = std::nearbyint(std::ldexp(double(rb), shift));
        for (size_t i = 0; i < a.size(); ++i) {
          const long double r = std::floor(((long double)ma * (a[i] - p.za) + (long double)mb * (b[i] - p.zb)) / std::ldexp(1.0L, shift) + 0.5L);
          QRB_CHECK_EQ(double(y[i]), double(std::min(std::max(r + p.zy, -128.0L), 127.0L)));
        }
      }
      for (size_t i = 0; i < a.size(); ++i) {
        const double real = (double(p.sa) * (a[i] - p.za) + double(p.sb) * (b[i] - p.zb)) / double(p.sy) + p.zy;
        const double clamped = std::min(std::max(real, -128.0), 127.0);
        QRB_CHECK(std::fabs(double(y[i]) - clamped) <= 1.0);
        if (v == Variant::kOnnxRef) QRB_CHECK_EQ(double(y[i]), std::min(std::max(std::nearbyint(real), -128.0), 127.0));
      }
    }
  }
  AddParams p;
  std::vector<int32_t> a(2), y(2);
  QRB_CHECK(!add(Variant::kTrtGpu, a.data(), a.data(), 2, p, y.data()).ok);
  p.sy = 0;
  QRB_CHECK(!add(Variant::kOrtMlas, a.data(), a.data(), 2, p, y.data()).ok);
}

QRB_TEST(intq_eltwise, tflite_add_known_values) {
  // Equal scales, zero points 0: sa = sb = sy gives an exact integer sum.
  AddParams p;
  p.sa = p.sb = p.sy = 0.05f;
  const int32_t a[4] = {1, -3, 100, -128}, b[4] = {2, -4, 100, -128};
  int32_t y[4];
  for (Variant v : {Variant::kTfliteDouble, Variant::kTfliteSingle, Variant::kOrtMlas, Variant::kOnnxRef, Variant::kXnnpackFp32}) {
    QRB_CHECK(add(v, a, b, 4, p, y).ok);
    QRB_CHECK_EQ(y[0], 3);
    QRB_CHECK_EQ(y[1], -7);
    QRB_CHECK_EQ(y[2], 127);
    QRB_CHECK_EQ(y[3], -128);
  }
}

QRB_TEST(intq_eltwise, global_avg_pool) {
  // mean of {1, 2} with equal scales = 1.5: ort (RNE) -> 2, tflite fixed point (RHU / RHAZ) -> 2; {1, 4}: 2.5
  PoolParams p;
  p.sx = p.sy = 0.1f;
  const int32_t x[4] = {1, 2, 1, 4};
  int32_t y[2];
  QRB_CHECK(global_avg_pool(Variant::kOrtMlas, x, 2, 2, p, y).ok);
  QRB_CHECK_EQ(y[0], 2);
  QRB_CHECK_EQ(y[1], 2);  // 2.5 -> RNE 2
  QRB_CHECK(global_avg_pool(Variant::kTfliteSingle, x, 2, 2, p, y).ok);
  QRB_CHECK_EQ(y[1], 3);  // RHU
  QRB_CHECK(global_avg_pool(Variant::kTfliteDouble, x, 2, 2, p, y).ok);
  QRB_CHECK_EQ(y[1], 3);
  // zero point enters as -zx*N
  p.zx = 1;
  QRB_CHECK(global_avg_pool(Variant::kOrtMlas, x, 2, 2, p, y).ok);
  QRB_CHECK_EQ(y[0], 0);  // 0.5 -> 0
  QRB_CHECK_EQ(y[1], 2);  // 1.5 -> 2
  QRB_CHECK(!global_avg_pool(Variant::kTrtGpu, x, 2, 2, p, y).ok);
  QRB_CHECK(!global_avg_pool(Variant::kOrtMlas, x, 2, 0, p, y).ok);
  // random vs the float definition within 1 LSB
  qrb::test::Rng rng(8);
  for (int t = 0; t < 100; ++t) {
    const size_t img = size_t(rng.range(1, 70));
    std::vector<int32_t> v(img);
    for (auto& e : v) e = int32_t(rng.range(0, 255));
    PoolParams q;
    q.sx = float(std::ldexp(double(rng.range(1000, 9999)), -14));
    q.sy = float(std::ldexp(double(rng.range(1000, 9999)), -14));
    q.zx = int32_t(rng.range(0, 255)), q.zy = int32_t(rng.range(0, 255)), q.qmin = 0, q.qmax = 255;
    double s = 0;
    for (int32_t e : v) s += e - q.zx;
    const double real = std::min(std::max(s / double(img) * double(q.sx) / double(q.sy) + q.zy, 0.0), 255.0);
    for (Variant var : {Variant::kOrtMlas, Variant::kTfliteDouble, Variant::kTfliteSingle}) {
      int32_t out = 0;
      QRB_CHECK(global_avg_pool(var, v.data(), 1, img, q, &out).ok);
      QRB_CHECK(std::fabs(out - real) <= 1.0);
    }
  }
}

QRB_TEST(intq_eltwise, tflite_avg_pool_rounds_half_away) {
  // 1x1x2x2 input, 2x2 kernel: sums 5 over 4 taps? use a 1x2 window instead: {2, 3} -> 2.5 -> 3; {-2, -3} -> -3
  const int32_t x[4] = {2, 3, -2, -3};
  int32_t y[2];
  QRB_CHECK(avg_pool_tflite(x, 1, 1, 2, 2, 1, 2, 1, 1, 0, 0, 0, 0, -128, 127, y, 2).ok);
  QRB_CHECK_EQ(y[0], 3);
  QRB_CHECK_EQ(y[1], -3);
  // padding: count only in-bounds taps
  const int32_t z[1] = {7};
  int32_t o[1];
  QRB_CHECK(avg_pool_tflite(z, 1, 1, 1, 1, 2, 2, 1, 1, 1, 1, 0, 0, -128, 127, o, 1).ok);
  QRB_CHECK_EQ(o[0], 7);
  QRB_CHECK(!avg_pool_tflite(z, 1, 1, 1, 1, 2, 2, 1, 1, 2, 0, 0, 0, -128, 127, o, 1).ok);
  QRB_CHECK(!avg_pool_tflite(z, 1, 1, 1, 1, 2, 2, 1, 1, 1, 1, 0, 0, -128, 127, o, 2).ok);
}
