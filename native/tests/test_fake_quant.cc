// Fake-quant kernels (qrb/fake_quant.h): every threaded kernel against its scalar twin, bit for bit, over
// awkward sizes (0, 1, 7, around a block, several blocks, per-channel planes that are no multiple of the
// block or the lanes), data with exact .5 ties, values at and just beyond the clamp edges, ±0, huge values,
// ±inf and NaN, for 1, 2 and 3 threads; DoReFa weights (ties at the maximum, central differences);
// hand-computed values; and named errors for bad arguments.
// The TS comparison is test/unit/quant/fake-native.test.ts.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "harness.h"
#include "qrb/fake_quant.h"

namespace {

using qrb::PactLow;

// Bitwise equality of float buffers (NaN and the sign of zero included).
bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}
bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof(float)) == 0; }

// OMP_NUM_THREADS (read by float_threads() on every call) for one scope.
struct Threads {
  std::string prev;
  bool had;
  explicit Threads(int t) {
    const char* p = std::getenv("OMP_NUM_THREADS");
    had = p != nullptr;
    if (had) prev = p;
    setenv("OMP_NUM_THREADS", std::to_string(t).c_str(), 1);
  }
  ~Threads() {
    if (had) setenv("OMP_NUM_THREADS", prev.c_str(), 1);
    else unsetenv("OMP_NUM_THREADS");
  }
};

// Values that exercise every branch for scale s and range [qmin, qmax]: exact ties (k + ½)·s with a
// power-of-two s, the clamp edges and one step beyond, ±0, huge, ±inf, NaN, denormals, and plain noise.
std::vector<float> awkward(size_t n, float s, int32_t qmin, int32_t qmax, uint64_t seed, bool specials = true) {
  qrb::test::Rng rng(seed);
  std::vector<float> x(n);
  const float inf = std::numeric_limits<float>::infinity();
  for (size_t i = 0; i < n; ++i) {
    const uint64_t r = rng.next();
    const int64_t k = int64_t(r >> 40) % int64_t(qmax - qmin + 5) + qmin - 2;
    switch (r % 16) {
      case 0: x[i] = (float(k) + 0.5f) * s; break;
      case 1: x[i] = float(qmax) * s; break;
      case 2: x[i] = (float(qmax) + 0.5f) * s; break;
      case 3: x[i] = (float(qmin) - 0.5f) * s; break;
      case 4: x[i] = float(qmin) * s; break;
      case 5: x[i] = (r & 32) ? 0.0f : -0.0f; break;
      case 6: x[i] = specials ? ((r & 32) ? 3e30f : -3e30f) : 0.5f * s; break;
      case 7: x[i] = specials ? ((r & 64) ? inf : -inf) : -0.5f * s; break;
      case 8: x[i] = specials ? std::numeric_limits<float>::quiet_NaN() : 1.0f; break;
      case 9: x[i] = (r & 32) ? 1e-40f : -1e-40f; break;
      case 10: x[i] = -0.5f * s; break;
      default: x[i] = float(int64_t(r >> 33) % 2000001 - 1000000) * 1e-6f * float(qmax - qmin + 2) * s * 0.6f;
    }
  }
  return x;
}

std::vector<float> noise(size_t n, uint64_t seed) {
  qrb::test::Rng rng(seed);
  std::vector<float> g(n);
  for (auto& v : g) v = float(int64_t(rng.next() % 2000001) - 1000000) * 1e-6f;
  return g;
}

const size_t kSizes[] = {0, 1, 7, 8, 9, 4095, 4096, 4099, 8192 + 13, 70001, 200003};
struct Range {
  int32_t qmin, qmax;
};
const Range kRanges[] = {{-8, 7}, {0, 15}, {-128, 127}, {0, 255}, {-2, 1}, {0, 3}, {5, 5}};
const float kScales[] = {0.25f, 0.1f, 1.1920928955078125e-7f, 3.7f};

}  // namespace

QRB_TEST(fake_quant, hand_computed_values) {
  // Ties go to even, −0.5 rounds to +0, 0.35 at s = 0.1 rounds to 4 (fl(0.35·fl(1/0.1)) is just above 3.5).
  const float x[] = {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -0.0f, 0.35f, 9.0f, -9.0f};
  const float s1 = 1.0f;
  float y[9];
  uint8_t m[9];
  QRB_CHECK(qrb::f32_fake_quant(x, 6, &s1, 1, -2, 3, y, 6, m, 6).ok);
  const float want[] = {0.0f, 2.0f, 2.0f, 0.0f, -2.0f, 0.0f};
  for (int i = 0; i < 6; ++i) QRB_CHECK(same_bits(y[i], want[i]));
  for (int i = 0; i < 6; ++i) QRB_CHECK_EQ(int(m[i]), 1);
  const float s01 = 0.1f;
  QRB_CHECK(qrb::f32_fake_quant(x + 6, 3, &s01, 1, -8, 7, y, 3, m, 3).ok);
  QRB_CHECK(same_bits(y[0], 4.0f * 0.1f));
  QRB_CHECK(same_bits(y[1], 7.0f * 0.1f));
  QRB_CHECK(same_bits(y[2], -8.0f * 0.1f));
  QRB_CHECK_EQ(int(m[0]), 1);
  QRB_CHECK_EQ(int(m[1]), 0);
  QRB_CHECK_EQ(int(m[2]), 0);
}

QRB_TEST(fake_quant, forward_and_backward_match_twin) {
  for (int threads : {1, 2, 3}) {
    Threads th(threads);
    for (size_t n : kSizes)
      for (const Range& r : kRanges)
        for (float s : kScales) {
          const auto x = awkward(n, s, r.qmin, r.qmax, n * 31 + size_t(r.qmax) + size_t(s * 1000));
          std::vector<float> y(n), yr(n), y2(n);
          std::vector<uint8_t> m(n), mr(n);
          QRB_CHECK(qrb::f32_fake_quant(x.data(), n, &s, 1, r.qmin, r.qmax, y.data(), n, m.data(), n).ok);
          QRB_CHECK(qrb::f32_fake_quant(x.data(), n, &s, 1, r.qmin, r.qmax, y2.data(), n, nullptr, 0).ok);
          qrb::f32_fake_quant_ref(x.data(), n, &s, 1, r.qmin, r.qmax, yr.data(), mr.data());
          QRB_CHECK(same_bits(y, yr));
          QRB_CHECK(same_bits(y2, yr));
          QRB_CHECK(m == mr);
          const auto g = noise(n, n + 5);
          std::vector<float> gx(n, 9.0f), gxr(n);
          QRB_CHECK(qrb::f32_fake_quant_backward(g.data(), m.data(), n, gx.data(), n).ok);
          qrb::f32_fake_quant_backward_ref(g.data(), mr.data(), n, gxr.data());
          QRB_CHECK(same_bits(gx, gxr));
        }
  }
}

QRB_TEST(fake_quant, per_channel_matches_twin) {
  // Planes that are no multiple of the block or the lanes, one channel per scale.
  const size_t shapes[][2] = {{1, 7}, {3, 1}, {3, 4099}, {5, 13}, {16, 577}, {7, 8195}, {2, 0}, {64, 1001}};
  for (int threads : {1, 2, 3}) {
    Threads th(threads);
    for (auto& sh : shapes) {
      const size_t c = sh[0], inner = sh[1], n = c * inner;
      std::vector<float> sc(c);
      for (size_t k = 0; k < c; ++k) sc[k] = k % 2 ? 0.25f / float(1 << (k % 5)) : 0.013f * float(k + 1);
      auto x = awkward(n, 0.25f, -8, 7, c * 1000 + inner);
      std::vector<float> y(n), yr(n);
      std::vector<uint8_t> m(n), mr(n);
      QRB_CHECK(qrb::f32_fake_quant(x.data(), n, sc.data(), c, -8, 7, y.data(), n, m.data(), n).ok);
      qrb::f32_fake_quant_ref(x.data(), n, sc.data(), c, -8, 7, yr.data(), mr.data());
      QRB_CHECK(same_bits(y, yr));
      QRB_CHECK(m == mr);
      std::vector<float> lo(c), hi(c), lor(c), hir(c);
      QRB_CHECK(qrb::f32_min_max(x.data(), n, c, lo.data(), hi.data(), c).ok);
      qrb::f32_min_max_ref(x.data(), n, c, lor.data(), hir.data());
      QRB_CHECK(same_bits(lo, lor));
      QRB_CHECK(same_bits(hi, hir));
    }
  }
}

QRB_TEST(fake_quant, lsq_backward_matches_twin) {
  const size_t shapes[][2] = {{1, 0}, {1, 1}, {1, 7}, {1, 4099}, {1, 70001}, {1, 200003}, {3, 4099}, {16, 577}, {5, 8195}};
  for (int threads : {1, 2, 3}) {
    Threads th(threads);
    for (auto& sh : shapes)
      for (const Range& r : kRanges) {
        const size_t c = sh[0], n = c * sh[1];
        std::vector<float> sc(c);
        for (size_t k = 0; k < c; ++k) sc[k] = k % 2 ? 0.25f : 0.07f * float(k + 1);
        // no NaN / inf here: their products make NaN sums, which compare unequal bitwise only by payload
        const auto x = awkward(n, sc[0], r.qmin, r.qmax, n + size_t(r.qmin + 100), false);
        std::vector<float> y(n);
        qrb::f32_fake_quant_ref(x.data(), n, sc.data(), c, r.qmin, r.qmax, y.data(), nullptr);
        const auto g = noise(n, n * 3 + 1);
        const double gf = 1.0 / std::sqrt(double(n ? n : 1) * double(r.qmax > 0 ? r.qmax : 1));
        std::vector<float> gx(n, 5.0f), gxr(n), gs(c, 5.0f), gsr(c);
        QRB_CHECK(qrb::f32_lsq_backward(x.data(), y.data(), g.data(), n, sc.data(), c, r.qmin, r.qmax, gf, gx.data(), n,
                                        gs.data(), c).ok);
        qrb::f32_lsq_backward_ref(x.data(), y.data(), g.data(), n, sc.data(), c, r.qmin, r.qmax, gf, gxr.data(), gsr.data());
        QRB_CHECK(same_bits(gx, gxr));
        QRB_CHECK(same_bits(gs, gsr));
      }
  }
}

QRB_TEST(fake_quant, lsq_scale_gradient_against_double) {
  // The fixed-order sum stays within float rounding of an exact double sum of the same terms.
  const size_t n = 100003;
  const float s = 0.05f;
  const auto x = awkward(n, s, 0, 15, 77, false);
  std::vector<float> y(n), gx(n);
  qrb::f32_fake_quant_ref(x.data(), n, &s, 1, 0, 15, y.data(), nullptr);
  const auto g = noise(n, 78);
  float gs = 0;
  QRB_CHECK(qrb::f32_lsq_backward(x.data(), y.data(), g.data(), n, &s, 1, 0, 15, 1.0, gx.data(), n, &gs, 1).ok);
  long double want = 0;
  const float inv = 1.0f / s;
  for (size_t i = 0; i < n; ++i) {
    const double q = std::nearbyint(double(x[i] * inv));
    want += q < 0 ? 0.0L : q > 15 ? (long double)g[i] * 15 : (long double)((g[i] * (y[i] - x[i])) * inv);
  }
  QRB_CHECK(std::fabs(double(gs) - double(want)) <= 1e-6 * std::fabs(double(want)) + 1e-6);
}

QRB_TEST(fake_quant, pact_matches_twin) {
  const size_t sizes[] = {0, 1, 7, 4099, 70001, 200003};
  const float alphas[] = {6.0f, 0.75f, 0.0f};
  for (int threads : {1, 2, 3}) {
    Threads th(threads);
    for (size_t n : sizes)
      for (float a : alphas)
        for (bool nonneg : {false, true})
          for (PactLow low : {PactLow::none, PactLow::always, PactLow::automatic})
            for (bool sgn : {false, true}) {
              const int32_t qmin = sgn ? -8 : 0, qmax = sgn ? 7 : 15;
              const float s = std::max(a / (sgn ? 7.5f : 15.0f), 1.1920928955078125e-7f);
              auto x = awkward(n, s * 1.3f, qmin - 3, qmax + 3, n + size_t(a * 8) + (nonneg ? 1 : 0));
              if (nonneg)
                for (auto& v : x) v = std::fabs(v);  // after a ReLU: the 'auto' lower clip never runs
              std::vector<float> y(n), yr(n);
              std::vector<uint8_t> code(n), coder(n);
              bool lo = false, lor = false;
              QRB_CHECK(qrb::f32_pact_fake_quant(x.data(), n, a, low, s, qmin, qmax, y.data(), n, code.data(), n, &lo).ok);
              qrb::f32_pact_fake_quant_ref(x.data(), n, a, low, s, qmin, qmax, yr.data(), coder.data(), &lor);
              QRB_CHECK(same_bits(y, yr));
              QRB_CHECK(code == coder);
              QRB_CHECK_EQ(lo, lor);
              if (low == PactLow::automatic && nonneg) QRB_CHECK(!lo);
              const auto g = noise(n, n + 11);
              std::vector<float> gx(n, 3.0f), gxr(n);
              float ga = 1.0f, gar = 2.0f;
              QRB_CHECK(qrb::f32_pact_fake_quant_backward(g.data(), code.data(), n, gx.data(), n, &ga).ok);
              qrb::f32_pact_fake_quant_backward_ref(g.data(), coder.data(), n, gxr.data(), &gar);
              QRB_CHECK(same_bits(gx, gxr));
              QRB_CHECK(same_bits(ga, gar));
            }
  }
}

QRB_TEST(fake_quant, pact_hand_computed) {
  // α = 6, 4-bit unsigned (s = 0.4): 9 clips to 6 (code: inside | above), −8 clips to −6 only with a lower clip.
  const float x[] = {-8.0f, 1.0f, 9.0f, 6.0f};
  float y[4];
  uint8_t code[4];
  bool lower = true;
  QRB_CHECK(qrb::f32_pact_fake_quant(x, 4, 6.0f, PactLow::automatic, 0.4f, -8, 7, y, 4, code, 4, &lower).ok);
  QRB_CHECK(lower);
  QRB_CHECK_EQ(int(code[0]), 0 | (2 << 1));  // −6·2.5 = −15 rounds below qmin = −8: outside the grid
  QRB_CHECK_EQ(int(code[1]), 1);
  QRB_CHECK_EQ(int(code[2]), 0 | (1 << 1));
  QRB_CHECK_EQ(int(code[3]), 0);
  const float g[] = {1.0f, 2.0f, 4.0f, 8.0f};
  float gx[4], ga = 0;
  QRB_CHECK(qrb::f32_pact_fake_quant_backward(g, code, 4, gx, 4, &ga).ok);
  QRB_CHECK_EQ(ga, 0.0f);  // the clipped values fall outside the 4-bit grid at this scale: no gradient
  QRB_CHECK(same_bits(gx[1], 2.0f));
  // s = 1: ±6 lie on the grid, so α gets Σ_{x>α} g − Σ_{x<−α} g = 4 − 1; x = 6 is not clipped (x > α is strict)
  QRB_CHECK(qrb::f32_pact_fake_quant(x, 4, 6.0f, PactLow::automatic, 1.0f, -8, 7, y, 4, code, 4, &lower).ok);
  QRB_CHECK(qrb::f32_pact_fake_quant_backward(g, code, 4, gx, 4, &ga).ok);
  QRB_CHECK_EQ(ga, 3.0f);
  QRB_CHECK(same_bits(y[0], -6.0f));
  QRB_CHECK(same_bits(gx[3], 8.0f));
  QRB_CHECK(same_bits(gx[0], 0.0f));
  QRB_CHECK(qrb::f32_pact_fake_quant(x, 4, 6.0f, PactLow::none, 1.0f, -8, 7, y, 4, code, 4, &lower).ok);
  QRB_CHECK(!lower);
  QRB_CHECK(same_bits(y[0], -8.0f));  // no lower clip: −8 stays on the grid
}

QRB_TEST(fake_quant, min_max_zero_signs_nan_and_empty) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  {
    const float x[] = {1.0f, -0.0f, 0.0f, 2.0f};
    float lo, hi;
    QRB_CHECK(qrb::f32_min_max(x, 4, 1, &lo, &hi, 1).ok);
    QRB_CHECK(same_bits(lo, -0.0f));
    QRB_CHECK(same_bits(hi, 2.0f));
  }
  {
    const float x[] = {-1.0f, 0.0f, -0.0f, nan};
    float lo, hi;
    QRB_CHECK(qrb::f32_min_max(x, 4, 1, &lo, &hi, 1).ok);
    QRB_CHECK(same_bits(lo, -1.0f));
    QRB_CHECK(same_bits(hi, 0.0f));
  }
  {
    const float x[] = {nan, nan};
    float lo, hi;
    QRB_CHECK(qrb::f32_min_max(x, 2, 1, &lo, &hi, 1).ok);
    QRB_CHECK(std::isinf(lo) && lo > 0);
    QRB_CHECK(std::isinf(hi) && hi < 0);
  }
  {
    // zeros of both signs spread over several blocks and threads
    for (int threads : {1, 2, 3}) {
      Threads th(threads);
      std::vector<float> x(150000, 0.0f);
      for (size_t i = 0; i < x.size(); i += 3) x[i] = -0.0f;
      x[0] = 0.5f;
      float lo, hi, lor, hir;
      QRB_CHECK(qrb::f32_min_max(x.data(), x.size(), 1, &lo, &hi, 1).ok);
      qrb::f32_min_max_ref(x.data(), x.size(), 1, &lor, &hir);
      QRB_CHECK(same_bits(lo, lor));
      QRB_CHECK(same_bits(hi, hir));
      QRB_CHECK(same_bits(lo, -0.0f) == false);  // index 1 is +0, the first zero
    }
  }
  float lo[2], hi[2];
  QRB_CHECK(qrb::f32_min_max(nullptr, 0, 2, lo, hi, 2).ok);
  QRB_CHECK(std::isinf(lo[1]) && lo[1] > 0);
}

QRB_TEST(fake_quant, bad_arguments_are_named_errors) {
  std::vector<float> x(12, 1.0f), y(12), g(12);
  std::vector<uint8_t> m(12);
  const float s = 0.5f, bad[] = {0.0f, -1.0f, std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()};
  auto has = [](const qrb::Status& st, const char* what) { return !st.ok && st.message.find(what) != std::string::npos; };
  for (float b : bad) QRB_CHECK(has(qrb::f32_fake_quant(x.data(), 12, &b, 1, -8, 7, y.data(), 12, m.data(), 12), "f32FakeQuant(scale[0])"));
  QRB_CHECK(has(qrb::f32_fake_quant(x.data(), 12, &s, 1, 7, -8, y.data(), 12, m.data(), 12), "(qmin, qmax)"));
  QRB_CHECK(has(qrb::f32_fake_quant(x.data(), 12, &s, 1, -(1 << 21), 0, y.data(), 12, m.data(), 12), "(qmin, qmax)"));
  QRB_CHECK(has(qrb::f32_fake_quant(x.data(), 12, &s, 1, -8, 7, y.data(), 11, m.data(), 12), "f32FakeQuant(y)"));
  QRB_CHECK(has(qrb::f32_fake_quant(x.data(), 12, &s, 1, -8, 7, y.data(), 12, m.data(), 13), "f32FakeQuant(mask)"));
  QRB_CHECK(has(qrb::f32_fake_quant(nullptr, 12, &s, 1, -8, 7, y.data(), 12, m.data(), 12), "f32FakeQuant(x)"));
  const float s5[5] = {1, 1, 1, 1, 1};
  QRB_CHECK(has(qrb::f32_fake_quant(x.data(), 12, s5, 5, -8, 7, y.data(), 12, m.data(), 12), "(channels)"));
  QRB_CHECK(has(qrb::f32_fake_quant(x.data(), 12, s5, 0, -8, 7, y.data(), 12, m.data(), 12), "(scale)"));
  QRB_CHECK(has(qrb::f32_fake_quant_backward(g.data(), m.data(), 12, y.data(), 10), "f32FakeQuantBackward(gx)"));
  QRB_CHECK(has(qrb::f32_fake_quant_backward(g.data(), nullptr, 12, y.data(), 12), "f32FakeQuantBackward(mask)"));
  float gs[2];
  QRB_CHECK(has(qrb::f32_lsq_backward(x.data(), y.data(), g.data(), 12, &s, 1, -8, 7, 1.0, g.data(), 12, gs, 2), "f32LsqBackward(gs)"));
  QRB_CHECK(has(qrb::f32_lsq_backward(x.data(), y.data(), g.data(), 12, &s, 1, -8, 7, NAN, g.data(), 12, gs, 1), "(gradFactor)"));
  QRB_CHECK(has(qrb::f32_lsq_backward(x.data(), y.data(), g.data(), 12, bad, 1, -8, 7, 1.0, g.data(), 12, gs, 1), "(scale[0])"));
  bool lo = false;
  QRB_CHECK(has(qrb::f32_pact_fake_quant(x.data(), 12, -1.0f, PactLow::automatic, 0.5f, 0, 15, y.data(), 12, m.data(), 12, &lo), "(alpha)"));
  QRB_CHECK(has(qrb::f32_pact_fake_quant(x.data(), 12, NAN, PactLow::automatic, 0.5f, 0, 15, y.data(), 12, m.data(), 12, &lo), "(alpha)"));
  QRB_CHECK(has(qrb::f32_pact_fake_quant(x.data(), 12, 1.0f, static_cast<PactLow>(7), 0.5f, 0, 15, y.data(), 12, m.data(), 12, &lo), "(low)"));
  QRB_CHECK(has(qrb::f32_pact_fake_quant(x.data(), 12, 1.0f, PactLow::none, 0.0f, 0, 15, y.data(), 12, m.data(), 12, &lo), "(scale"));
  QRB_CHECK(has(qrb::f32_pact_fake_quant(x.data(), 12, 1.0f, PactLow::none, 0.5f, 0, 15, y.data(), 12, m.data(), 3, &lo), "(code)"));
  QRB_CHECK(has(qrb::f32_pact_fake_quant_backward(g.data(), m.data(), 12, y.data(), 12, nullptr), "(galpha)"));
  float l2[2], h2[2];
  QRB_CHECK(has(qrb::f32_min_max(x.data(), 12, 5, l2, h2, 5), "(channels)"));
  QRB_CHECK(has(qrb::f32_min_max(x.data(), 12, 2, l2, h2, 3), "(lo/hi)"));
}

QRB_TEST(fake_quant, dorefa_weight_matches_twin) {
  // t = tanh(w) stand-ins: saturated ±1 (ties at the maximum), ±0, small values, one or several channels.
  const size_t shapes[][2] = {{1, 1}, {1, 7}, {1, 4099}, {16, 144}, {3, 577}, {64, 576}};
  for (auto& sh : shapes) {
    const size_t c = sh[0], n = c * sh[1];
    qrb::test::Rng rng(n + c);
    std::vector<float> t(n);
    for (size_t i = 0; i < n; ++i) {
      const uint64_t r = rng.next();
      t[i] = r % 11 == 0 ? ((r & 64) ? 1.0f : -1.0f) : r % 13 == 0 ? ((r & 64) ? 0.0f : -0.0f)
                                                                  : std::tanh(float(int64_t(r >> 40) % 4001 - 2000) * 1e-3f);
    }
    std::vector<float> wn(n), wnr(n), lo(c), hi(c), lor(c), hir(c);
    float m, d, mr, dr;
    QRB_CHECK(qrb::f32_dorefa_normalize(t.data(), n, c, wn.data(), n, lo.data(), hi.data(), c, &m, &d).ok);
    qrb::f32_dorefa_normalize_ref(t.data(), n, c, wnr.data(), lor.data(), hir.data(), &mr, &dr);
    QRB_CHECK(same_bits(wn, wnr));
    QRB_CHECK(same_bits(lo, lor));
    QRB_CHECK(same_bits(hi, hir));
    QRB_CHECK(same_bits(m, mr));
    QRB_CHECK(same_bits(d, dr));
    QRB_CHECK(same_bits(d, m + float(1e-5)));
    std::vector<uint8_t> mask(n);
    for (size_t i = 0; i < n; ++i) mask[i] = uint8_t(rng.next() % 5 != 0);
    const auto g = noise(n, n * 5 + 3);
    std::vector<float> gw(n), gwr(n);
    QRB_CHECK(qrb::f32_dorefa_weight_backward(g.data(), mask.data(), t.data(), n, m, d, gw.data(), n).ok);
    qrb::f32_dorefa_weight_backward_ref(g.data(), mask.data(), t.data(), n, m, d, gwr.data());
    QRB_CHECK(same_bits(gw, gwr));
  }
  // central difference of L = Σ r·(t/(max|t| + 1e-5)) w.r.t. w, t = tanh(w), everything inside the grid (mask 1)
  const size_t n = 9;
  std::vector<double> w = {0.3, -0.7, 1.1, -1.1, 0.05, 2.0, -0.4, 0.9, -2.5};
  std::vector<float> r = {0.5f, -1.0f, 2.0f, 0.25f, -0.75f, 1.5f, 1.0f, -2.0f, 0.125f};
  auto loss = [&](const std::vector<double>& ww) {
    double mx = 0;
    for (double v : ww) mx = std::max(mx, std::fabs(std::tanh(v)));
    double s = 0;
    for (size_t i = 0; i < n; ++i) s += r[i] * std::tanh(ww[i]) / (mx + 1e-5);
    return s;
  };
  std::vector<float> t(n), wn(n), gw(n);
  for (size_t i = 0; i < n; ++i) t[i] = float(std::tanh(w[i]));
  float lo, hi, m, d;
  QRB_CHECK(qrb::f32_dorefa_normalize(t.data(), n, 1, wn.data(), n, &lo, &hi, 1, &m, &d).ok);
  std::vector<uint8_t> ones(n, 1);
  QRB_CHECK(qrb::f32_dorefa_weight_backward(r.data(), ones.data(), t.data(), n, m, d, gw.data(), n).ok);
  for (size_t i = 0; i < n; ++i) {
    std::vector<double> wp = w, wm = w;
    wp[i] += 1e-4;
    wm[i] -= 1e-4;
    const double num = (loss(wp) - loss(wm)) / 2e-4;
    QRB_CHECK(std::fabs(num - gw[i]) <= 1e-3 + 1e-3 * std::fabs(num));
  }
  std::vector<float> x(12);
  float l2[2], h2[2], mm, dd;
  QRB_CHECK(!qrb::f32_dorefa_normalize(x.data(), 12, 5, x.data(), 12, l2, h2, 5, &mm, &dd).ok);
  QRB_CHECK(!qrb::f32_dorefa_normalize(x.data(), 12, 2, x.data(), 11, l2, h2, 2, &mm, &dd).ok);
  QRB_CHECK(!qrb::f32_dorefa_weight_backward(x.data(), nullptr, x.data(), 12, 1.0f, 1.0f, x.data(), 12).ok);
  QRB_CHECK(!qrb::f32_dorefa_weight_backward(x.data(), ones.data(), x.data(), 9, 1.0f, 1.0f, x.data(), 12).ok);
}
