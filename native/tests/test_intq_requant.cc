// Requantization: every vector of INTEGER.md §e for every variant it concerns, the primitives' edge cases,
// and random accumulators against independent twins written from the published definitions
// (long double / float64 arithmetic instead of the kernels' int64 shifts and float32 steps).
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "harness.h"
#include "qrb/intq.h"

using namespace qrb::intq;

namespace {

constexpr int32_t kMin = std::numeric_limits<int32_t>::min();
constexpr int32_t kMax = std::numeric_limits<int32_t>::max();

Multiplier mk(Variant v, double m) {
  Multiplier r;
  auto s = form_multiplier(v, m, &r);
  if (!s.ok) std::fprintf(stderr, "form_multiplier failed: %s\n", s.message.c_str());
  return r;
}

RequantOptions wide(int32_t zy = 0) {
  RequantOptions o;
  o.zy = zy;
  o.qmin = kMin;
  o.qmax = kMax;
  return o;
}

int32_t rq(Variant v, double m, int32_t acc, const RequantOptions& o = wide()) { return requant_one(v, mk(v, m), acc, o); }

// ---- independent twins -------------------------------------------------------------------------------
// gemmlowp's own nudge-and-truncate form of SRDHM (the kernel uses the floor form).
int32_t twin_srdhm(int32_t a, int32_t b) {
  if (a == kMin && b == kMin) return kMax;
  const int64_t ab = int64_t(a) * b;
  const int64_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
  return int32_t((ab + nudge) / (int64_t(1) << 31));
}
// RHAZ of x / 2^e with a double division (exact: x is an int32, 2^e a power of two).
int32_t twin_rdbpot(int32_t x, int e) { return int32_t(std::round(std::ldexp(double(x), -e))); }

int32_t twin_tflite_double(const Multiplier& m, int32_t acc, int32_t zy, int32_t lo, int32_t hi) {
  const int left = std::max(m.qm.shift, 0), right = std::max(-m.qm.shift, 0);
  const int32_t shifted = int32_t(uint32_t(int64_t(acc) * (int64_t(1) << left)));  // int32 wrap
  const int64_t r = int64_t(twin_rdbpot(twin_srdhm(shifted, m.qm.q), right)) + zy;
  return int32_t(std::min<int64_t>(std::max<int64_t>(r, lo), hi));
}
int32_t twin_tflite_single(const Multiplier& m, int32_t acc, int32_t zy, int32_t lo, int32_t hi) {
  const long double exact = std::ldexp((long double)acc * (long double)m.qm.q, m.qm.shift - 31);
  const int64_t r = int64_t(int32_t(uint32_t(uint64_t(int64_t(std::floor(exact + 0.5L)))))) + zy;  // RHU, int32 cast
  return int32_t(std::min<int64_t>(std::max<int64_t>(r, lo), hi));
}
int32_t twin_fp32(float m32, int32_t acc, int32_t zy, int32_t lo, int32_t hi) {
  // float*float is exact in double; one conversion back to float is the single IEEE rounding.
  const float prod = float(double(float(acc)) * double(m32));
  const double r = std::rint(double(prod)) + zy;
  return int32_t(std::min(std::max(r, double(lo)), double(hi)));
}
int32_t twin_rndnu(float m32, int32_t acc, int32_t zy, int32_t lo, int32_t hi) {
  int e = 0;
  const float f = std::frexp(m32, &e);  // m32 = f 2^e; mantissa = f 2^24, shift = 24 - e
  const long double exact = (long double)acc * (long double)std::ldexp(double(f), 24) * std::ldexp(1.0L, e - 24);
  const int64_t r = int32_t(uint32_t(uint64_t(int64_t(std::floor(exact + 0.5L)))));  // scalar kernel's int32 cast
  return int32_t(std::min<int64_t>(std::max<int64_t>(r, int64_t(lo) - zy), int64_t(hi) - zy) + zy);
}

}  // namespace

QRB_TEST(intq_requant, variant_names_round_trip) {
  for (int i = 0; i < int(Variant::kCount); ++i) {
    Variant v;
    QRB_CHECK(variant_from_name(variant_name(Variant(i)), &v));
    QRB_CHECK_EQ(int(v), i);
  }
  Variant v;
  QRB_CHECK(!variant_from_name("tflite", &v));
}

QRB_TEST(intq_requant, e4_primitives) {
  QRB_CHECK_EQ(srdhm(kMin, kMin), kMax);
  QRB_CHECK_EQ(srdhm(-1, 1 << 30), 0);
  QRB_CHECK_EQ(rdbpot(-1, 1), -1);
  QRB_CHECK_EQ(rdbpot(1, 1), 1);
  QRB_CHECK_EQ(rdbpot(-5, 2), -1);
  QRB_CHECK_EQ(rdbpot(kMin, 31), -1);
  QRB_CHECK_EQ(rdbpot(kMax, 31), 1);
  QRB_CHECK_EQ(rdbpot_upward(-1, 1), 0);
  QRB_CHECK_EQ(rdbpot_upward(-3, 1), -1);
  qrb::test::Rng rng(4);
  for (int i = 0; i < 20000; ++i) {
    const int32_t a = int32_t(rng.next()), b = int32_t(rng.next());
    QRB_CHECK_EQ(srdhm(a, b), twin_srdhm(a, b));
    const int e = int(rng.range(0, 31));
    QRB_CHECK_EQ(rdbpot(a, e), twin_rdbpot(a, e));
  }
}

QRB_TEST(intq_requant, e5_quantize_multiplier_edges) {
  auto qm = [](double m, bool single = false) { return quantize_multiplier(m, single); };
  QRB_CHECK_EQ(qm(1.0).q, 1 << 30);
  QRB_CHECK_EQ(qm(1.0).shift, 1);
  QRB_CHECK_EQ(qm(1.0 - std::ldexp(1.0, -33)).q, 1 << 30);
  QRB_CHECK_EQ(qm(1.0 - std::ldexp(1.0, -33)).shift, 1);
  QRB_CHECK_EQ(qm(std::ldexp(1.0, -31)).q, 1 << 30);
  QRB_CHECK_EQ(qm(std::ldexp(1.0, -31)).shift, -30);
  QRB_CHECK_EQ(qm(std::ldexp(1.0, -32)).q, 1 << 30);
  QRB_CHECK_EQ(qm(std::ldexp(1.0, -32)).shift, -31);
  QRB_CHECK_EQ(qm(std::ldexp(1.0, -33)).q, 0);
  QRB_CHECK_EQ(qm(std::ldexp(1.0, -33)).shift, 0);
  QRB_CHECK_EQ(qm(3.0).q, 1610612736);
  QRB_CHECK_EQ(qm(3.0).shift, 2);
  QRB_CHECK_EQ(qm(255.9).q, 2146644787);
  QRB_CHECK_EQ(qm(255.9).shift, 8);
  QRB_CHECK_EQ(qm(0.5 + std::ldexp(1.0, -32)).q, 1073741825);  // RHAZ of an exact .5
  QRB_CHECK_EQ(qm(0.0).q, 0);
  QRB_CHECK_EQ(qm(std::ldexp(1.0, 40), true).q, kMax);  // single rounding clamps e > 30
  QRB_CHECK_EQ(qm(std::ldexp(1.0, 40), true).shift, 30);
  QRB_CHECK_EQ(qm(std::ldexp(1.0, 40), false).shift, 41);
  // The §e derivations: M = 0.5 -> (2^30, 0); M = 0.25 -> (2^30, -1); the non-tie vector's multiplier.
  QRB_CHECK_EQ(qm(0.5).q, 1 << 30);
  QRB_CHECK_EQ(qm(0.5).shift, 0);
  QRB_CHECK_EQ(qm(0.25).shift, -1);
  QRB_CHECK_EQ(qm(0.021454659224142497).q, 1474352955);
  QRB_CHECK_EQ(qm(0.021454659224142497).shift, -5);
}

QRB_TEST(intq_requant, e1_ties_at_half) {
  const int32_t rhu[7] = {-1, -1, 0, 0, 1, 1, 2};
  const int32_t rne[7] = {-2, -1, 0, 0, 0, 1, 2};
  for (int acc = -3; acc <= 3; ++acc) {
    for (Variant v : {Variant::kTfliteDouble, Variant::kTfliteSingle, Variant::kXnnpackRndnu}) QRB_CHECK_EQ(rq(v, 0.5, acc), rhu[acc + 3]);
    for (Variant v : {Variant::kXnnpackFp32, Variant::kOrtMlas, Variant::kOnnxRef, Variant::kTrtGpu})
      QRB_CHECK_EQ(rq(v, 0.5, acc), rne[acc + 3]);
  }
}

QRB_TEST(intq_requant, e2_double_vs_single_rounding) {
  const int32_t accs[5] = {-10, -6, -2, 2, 10};
  const int32_t dbl[5] = {-3, -2, -1, 1, 3}, sgl[5] = {-2, -1, 0, 1, 3}, rne[5] = {-2, -2, 0, 0, 2};
  for (int i = 0; i < 5; ++i) {
    QRB_CHECK_EQ(rq(Variant::kTfliteDouble, 0.25, accs[i]), dbl[i]);
    QRB_CHECK_EQ(rq(Variant::kTfliteSingle, 0.25, accs[i]), sgl[i]);
    QRB_CHECK_EQ(rq(Variant::kXnnpackRndnu, 0.25, accs[i]), sgl[i]);
    for (Variant v : {Variant::kXnnpackFp32, Variant::kOrtMlas, Variant::kOnnxRef, Variant::kTrtGpu}) QRB_CHECK_EQ(rq(v, 0.25, accs[i]), rne[i]);
  }
}

QRB_TEST(intq_requant, e3_non_tie_double_rounding_error) {
  const double m = 0.021454659224142497;
  QRB_CHECK_EQ(rq(Variant::kTfliteDouble, m, -7527), -162);
  QRB_CHECK_EQ(rq(Variant::kTfliteSingle, m, -7527), -161);
  QRB_CHECK_EQ(rq(Variant::kXnnpackFp32, m, -7527), -161);
  QRB_CHECK_EQ(rq(Variant::kOrtMlas, m, -7527), -161);
  QRB_CHECK_EQ(rq(Variant::kXnnpackRndnu, m, -7527), -161);
  QRB_CHECK_EQ(rq(Variant::kOnnxRef, m, -7527), -161);
}

QRB_TEST(intq_requant, e6_left_shift_wraps_in_double_path) {
  const int32_t acc = (1 << 29) + 1;
  QRB_CHECK_EQ(rq(Variant::kTfliteDouble, 3.0, acc), -1610612733);
  QRB_CHECK_EQ(rq(Variant::kTfliteSingle, 3.0, acc), 1610612739);
}

QRB_TEST(intq_requant, e7_int32_to_float32_precision) {
  const double m = std::ldexp(1.0, -19);
  const int32_t acc = 34340863;
  // NOTE: INTEGER.md §e7 says "tflite-* give 65"; that holds for tflite-single only. Double rounding gives
  // 66: SRDHM(acc, 2^30) = RHU(17170431.5) = 17170432, then RDBPOT(17170432, 18) = RHAZ(65.5 exactly) = 66.
  QRB_CHECK_EQ(rq(Variant::kTfliteDouble, m, acc), 66);
  QRB_CHECK_EQ(srdhm(acc, 1 << 30), 17170432);
  QRB_CHECK_EQ(rq(Variant::kTfliteSingle, m, acc), 65);
  QRB_CHECK_EQ(rq(Variant::kXnnpackRndnu, m, acc), 65);
  QRB_CHECK_EQ(rq(Variant::kOnnxRef, m, acc), 65);  // float64 product, no fl32(acc)
  QRB_CHECK_EQ(rq(Variant::kXnnpackFp32, m, acc), 66);
  QRB_CHECK_EQ(rq(Variant::kOrtMlas, m, acc), 66);
  QRB_CHECK_EQ(rq(Variant::kTrtGpu, m, acc), 66);
}

QRB_TEST(intq_requant, e12_zero_multiplier_and_range) {
  for (int i = 0; i < int(Variant::kCount); ++i) {
    const Variant v = Variant(i);
    if (v == Variant::kFp16Fallback) continue;
    RequantOptions o;
    o.zy = v == Variant::kTrtGpu ? 0 : -7;
    for (int32_t acc : {kMin, -1000, 0, 1, 123456, kMax}) QRB_CHECK_EQ(rq(v, 0.0, acc, o), o.zy);
    Multiplier m;
    QRB_CHECK(!form_multiplier(v, 256.0, &m).ok);
    QRB_CHECK(!form_multiplier(v, -0.5, &m).ok);
    QRB_CHECK(!form_multiplier(v, std::nan(""), &m).ok);
    QRB_CHECK(form_multiplier(v, 255.9, &m).ok);
    QRB_CHECK(!form_multiplier_scales(v, 0.0f, 1.0f, 1.0f, &m).ok);
    QRB_CHECK(form_multiplier_scales(v, 0.5f, 0.0f, 1.0f, &m).ok);  // sw = 0 -> M = 0
    QRB_CHECK_EQ(requant_one(v, m, 99999, o), o.zy);
  }
}

QRB_TEST(intq_requant, clamp_fusion_and_zero_point) {
  RequantOptions relu;  // ReLU fused as qmin = zy
  relu.zy = -5;
  relu.qmin = -5;
  relu.qmax = 127;
  for (int i = 0; i < int(Variant::kCount); ++i) {
    const Variant v = Variant(i);
    if (v == Variant::kFp16Fallback || v == Variant::kTrtGpu) continue;
    QRB_CHECK_EQ(rq(v, 0.5, -100, relu), -5);
    QRB_CHECK_EQ(rq(v, 0.5, 100, relu), 45);
    QRB_CHECK_EQ(rq(v, 0.5, 1000, relu), 127);
  }
  std::vector<int32_t> acc = {1, 2, 3}, out(3);
  Multiplier m = mk(Variant::kTrtGpu, 1.0);
  RequantOptions o;
  o.zy = 3;
  QRB_CHECK(!requantize(Variant::kTrtGpu, acc.data(), 3, &m, 1, 1, nullptr, o, out.data()).ok);  // symmetric only
  QRB_CHECK(!requantize(Variant::kFp16Fallback, acc.data(), 3, &m, 1, 1, nullptr, o, out.data()).ok);
  o.zy = 0;
  o.depthwise_upward = true;
  QRB_CHECK(!requantize(Variant::kOrtMlas, acc.data(), 3, &m, 1, 1, nullptr, o, out.data()).ok);
  o.depthwise_upward = false;
  o.qmin = 5;
  o.qmax = 4;
  QRB_CHECK(!requantize(Variant::kOrtMlas, acc.data(), 3, &m, 1, 1, nullptr, o, out.data()).ok);
  QRB_CHECK(!requantize(Variant::kOrtMlas, acc.data(), 3, &m, 0, 1, nullptr, o, out.data()).ok);
}

QRB_TEST(intq_requant, trt_beta_and_per_channel_layout) {
  // out[n][c][hw]: channel = (i / inner) % channels
  std::vector<int32_t> acc = {10, 10, 10, 10, 10, 10, 10, 10}, out(8);
  Multiplier m[2] = {mk(Variant::kTrtGpu, 1.0), mk(Variant::kTrtGpu, 0.5)};
  const float beta[2] = {0.25f, -3.0f};
  RequantOptions o;
  QRB_CHECK(requantize(Variant::kTrtGpu, acc.data(), 8, m, 2, 2, beta, o, out.data()).ok);
  const int32_t want[8] = {10, 10, 2, 2, 10, 10, 2, 2};
  for (int i = 0; i < 8; ++i) QRB_CHECK_EQ(out[i], want[i]);
}

QRB_TEST(intq_requant, depthwise_upward_rounding) {
  RequantOptions o = wide();
  o.depthwise_upward = true;
  // M = 0.25: acc -6 is -1.5 exactly; SRDHM gives -3 (exact), then RHU(-3/2) = -1 vs RHAZ = -2
  QRB_CHECK_EQ(rq(Variant::kTfliteDouble, 0.25, -6, o), -1);
  QRB_CHECK_EQ(rq(Variant::kTfliteDouble, 0.25, -6), -2);
}

QRB_TEST(intq_requant, fp16_fallback) {
  QRB_CHECK_EQ(round_to_half(1.0f), 1.0f);
  QRB_CHECK_EQ(round_to_half(2049.0f), 2048.0f);  // tie to even (spacing 2)
  QRB_CHECK_EQ(round_to_half(2051.0f), 2052.0f);
  QRB_CHECK_EQ(round_to_half(65504.0f), 65504.0f);
  QRB_CHECK(std::isinf(round_to_half(65520.0f)));
  QRB_CHECK_EQ(round_to_half(65519.0f), 65504.0f);
  QRB_CHECK_EQ(round_to_half(std::ldexp(1.0f, -24)), std::ldexp(1.0f, -24));
  QRB_CHECK_EQ(round_to_half(std::ldexp(1.0f, -25)), 0.0f);                      // tie to even (0)
  QRB_CHECK_EQ(round_to_half(std::ldexp(3.0f, -25)), std::ldexp(1.0f, -23));     // 1.5 ulp -> 2 ulp
  QRB_CHECK_EQ(round_to_half(-0.1f), -0.0999755859375f);
  Multiplier m = mk(Variant::kFp16Fallback, 0.001);
  QRB_CHECK_EQ(fp16_output(m, 1234567, 3), round_to_half(float(1234567) * m.m32) + 3.0f);
  // Independent twin over all float16-representable neighbourhoods: compare with a double-based rounding.
  qrb::test::Rng rng(16);
  for (int i = 0; i < 20000; ++i) {
    const float x = std::ldexp(float(rng.range(-(1 << 23), 1 << 23)), int(rng.range(-40, -4)));
    const double ax = std::fabs(double(x));
    int e = 0;
    std::frexp(ax, &e);                    // ax in [2^(e-1), 2^e)
    const int q = std::max(e - 11, -24);   // half spacing 2^q (subnormals: 2^-24)
    const double want = std::copysign(std::nearbyint(std::ldexp(ax, -q)) * std::ldexp(1.0, q), double(x));
    QRB_CHECK_EQ(double(round_to_half(x)), std::fabs(want) > 65504.0 ? std::copysign(double(INFINITY), want) : want);
  }
}

QRB_TEST(intq_requant, random_vs_definition_twins) {
  qrb::test::Rng rng(2024);
  int n = 0;
  for (int i = 0; i < 20000; ++i) {
    // Multipliers spanning the §e cases: tiny to large, float32-derived like deployed scales.
    const double m = std::ldexp(double(rng.range(1 << 20, (1 << 24) - 1)) / double(1 << 24), int(rng.range(-24, 7)));
    const int32_t zy = int32_t(rng.range(-128, 127));
    const int64_t mag = int64_t(1) << rng.range(4, 31);
    const int32_t acc = int32_t(std::max<int64_t>(std::min<int64_t>(rng.range(-mag, mag), kMax), kMin));
    const int32_t lo = -128, hi = 127;
    RequantOptions o;
    o.zy = zy;
    const Multiplier md = mk(Variant::kTfliteDouble, m), ms = mk(Variant::kTfliteSingle, m), mf = mk(Variant::kXnnpackFp32, m),
                     mr = mk(Variant::kXnnpackRndnu, m);
    QRB_CHECK_EQ(requant_one(Variant::kTfliteDouble, md, acc, o), twin_tflite_double(md, acc, zy, lo, hi));
    QRB_CHECK_EQ(requant_one(Variant::kTfliteSingle, ms, acc, o), twin_tflite_single(ms, acc, zy, lo, hi));
    QRB_CHECK_EQ(requant_one(Variant::kXnnpackFp32, mf, acc, o), twin_fp32(mf.m32, acc, zy, lo, hi));
    QRB_CHECK_EQ(requant_one(Variant::kOrtMlas, mf, acc, o), twin_fp32(mf.m32, acc, zy, lo, hi));
    QRB_CHECK_EQ(requant_one(Variant::kXnnpackRndnu, mr, acc, o), twin_rndnu(mr.m32, acc, zy, lo, hi));
    const double onnx = std::rint(double(acc) * double(mf.m32) + zy);
    QRB_CHECK_EQ(requant_one(Variant::kOnnxRef, mf, acc, o), int32_t(std::min(std::max(onnx, double(lo)), double(hi))));
    // trt-gpu: fl32(fl32(fl32(acc)*alpha) + beta), RNE, saturate; twin in double with explicit float roundings
    const float beta = float(rng.range(-4000, 4000)) / 64.0f;
    const float tp = float(double(float(acc)) * double(mf.m32));
    const double tr = std::rint(double(float(double(tp) + double(beta))));
    RequantOptions ot;
    QRB_CHECK_EQ(requant_one(Variant::kTrtGpu, mf, acc, ot, beta), int32_t(std::min(std::max(tr, double(lo)), double(hi))));
    // §a note: with the same float32 M, single rounding and rndnu agree exactly (mantissa << 7 = q).
    const Multiplier ms32 = mk(Variant::kTfliteSingle, double(mf.m32));
    QRB_CHECK_EQ(requant_one(Variant::kTfliteSingle, ms32, acc, o), requant_one(Variant::kXnnpackRndnu, mr, acc, o));
    // Wide range (no clamp): the fixed-point variants stay within 1 LSB of the exact value.
    const long double exact = (long double)acc * (long double)md.m64;
    const int32_t d = requant_one(Variant::kTfliteDouble, md, acc, wide());
    if (std::fabs((long double)acc * m) < 2e9L && md.qm.shift <= 0) QRB_CHECK(std::fabs((long double)d - exact) <= 1.0L);
    ++n;
  }
  QRB_CHECK_EQ(n, 20000);
}

QRB_TEST(intq_requant, e8_e10_quantize_modes) {
  // §e8: x / s = -123.5 -> RNE -124; x * (1/s) = -123.49999 -> -123.
  uint32_t bits = 0xC039BE76u;
  float x;
  std::memcpy(&x, &bits, 4);
  int32_t q = 0;
  QRB_CHECK(quantize(QuantizeMode::kRneDivide, &x, 1, 0.0235f, 0, -128, 127, &q).ok);
  QRB_CHECK_EQ(q, -124);
  QRB_CHECK(quantize(QuantizeMode::kRneReciprocal, &x, 1, 0.0235f, 0, -128, 127, &q).ok);
  QRB_CHECK_EQ(q, -123);
  // §e10: ties
  const float ties[6] = {-2.5f, -1.5f, -0.5f, 0.5f, 1.5f, 2.5f};
  const int32_t rne[6] = {-2, -2, 0, 0, 2, 2}, rhaz[6] = {-3, -2, -1, 1, 2, 3};
  int32_t out[6];
  QRB_CHECK(quantize(QuantizeMode::kRneDivide, ties, 6, 1.0f, 0, -128, 127, out).ok);
  for (int i = 0; i < 6; ++i) QRB_CHECK_EQ(out[i], rne[i]);
  QRB_CHECK(quantize(quantize_mode_of(Variant::kTfliteDouble), ties, 6, 1.0f, 0, -128, 127, out).ok);
  for (int i = 0; i < 6; ++i) QRB_CHECK_EQ(out[i], rhaz[i]);
  QRB_CHECK(quantize(quantize_mode_of(Variant::kTrtGpu), ties, 6, 1.0f, 0, -128, 127, out).ok);
  for (int i = 0; i < 6; ++i) QRB_CHECK_EQ(out[i], rne[i]);
  // saturation, NaN, zero point, bad scale
  const float ext[4] = {1e30f, -1e30f, std::nanf(""), 0.0f};
  QRB_CHECK(quantize(QuantizeMode::kRneDivide, ext, 4, 0.1f, 10, 0, 255, out).ok);
  QRB_CHECK_EQ(out[0], 255);
  QRB_CHECK_EQ(out[1], 0);
  QRB_CHECK_EQ(out[2], 0);
  QRB_CHECK_EQ(out[3], 10);
  QRB_CHECK(!quantize(QuantizeMode::kRneDivide, ext, 4, 0.0f, 0, -128, 127, out).ok);
  QRB_CHECK(!quantize(QuantizeMode::kRneDivide, ext, 4, 1.0f, 200, -128, 127, out).ok);
  // dequantize: fl32(fl32(q - z) * s)
  const int32_t qs[3] = {-128, 0, 127};
  float deq[3];
  QRB_CHECK(dequantize(qs, 3, 0.1f, 3, deq).ok);
  QRB_CHECK_EQ(deq[0], -131.0f * 0.1f);
  QRB_CHECK_EQ(deq[2], 124.0f * 0.1f);
}

QRB_TEST(intq_requant, e11_uint8_legacy_maps_to_int8) {
  // q - 128 and z - 128 give the same real values, so every variant's output shifts by exactly 128.
  qrb::test::Rng rng(11);
  for (int i = 0; i < 2000; ++i) {
    const double m = std::ldexp(double(rng.range(1 << 20, (1 << 24) - 1)) / double(1 << 24), int(rng.range(-12, 0)));
    const int32_t acc = int32_t(rng.range(-100000, 100000)), zy = int32_t(rng.range(0, 255));
    for (Variant v : {Variant::kTfliteDouble, Variant::kTfliteSingle, Variant::kXnnpackFp32, Variant::kXnnpackRndnu, Variant::kOrtMlas,
                      Variant::kOnnxRef}) {
      RequantOptions u8, s8;
      u8.zy = zy, u8.qmin = 0, u8.qmax = 255;
      s8.zy = zy - 128, s8.qmin = -128, s8.qmax = 127;
      const Multiplier mm = mk(v, m);
      QRB_CHECK_EQ(requant_one(v, mm, acc, u8) - 128, requant_one(v, mm, acc, s8));
    }
  }
}
