// Scalar reference twins of the fake-quant kernels (qrb/fake_quant.h): one element at a time, in index
// order, written from the formulas (std::nearbyint in double; the threaded variant rounds with a
// constant instead), with the reductions in the fixed block / lane order spelled out.
// Variants: native/kernels/float/f32-fake-quant.cc (threaded, vectorisable). The TS loops in
// ts/quant/fake.ts are the same computation.
// Test: native/tests/test_fake_quant.cc (ctest -R fake_quant); test/unit/quant/fake-native.test.ts.
#include <cmath>
#include <cstdint>
#include <vector>

#include "qrb/fake_quant.h"

namespace qrb {
namespace {

// q = nearbyint(fl(x·inv)) as a double (exact: a float's rounding is an integer-valued float or huge);
// + 0.0 turns a rounded −0 into +0, as torch's integer (and the TS loops' floor).
inline double q_of(float x, float inv) {
  const float v = x * inv;
  return std::nearbyint(double(v)) + 0.0;
}

// Sum of term(i) over [base, end) in the fixed order of qrb/fake_quant.h.
template <class Term>
double fixed_order_sum(size_t base, size_t end, Term term) {
  double total = 0.0;
  for (size_t b0 = base; b0 < end; b0 += size_t(kFqBlock)) {
    const size_t e = end - b0 < size_t(kFqBlock) ? end : b0 + size_t(kFqBlock);
    double lane[kFqLanes] = {};
    for (size_t i = b0; i < e; ++i) lane[(i - b0) % kFqLanes] += term(i);
    double s = lane[0];
    for (int l = 1; l < kFqLanes; ++l) s += lane[l];
    total += s;
  }
  return total;
}

// clamp(q, qmin, qmax); `inside` is false only where q was clamped (the straight-through mask; NaN stays
// inside and unchanged, as the comparisons leave it).
inline double clamp_q(double q, int32_t qmin, int32_t qmax, bool& inside) {
  inside = !(q < qmin) && !(q > qmax);
  return q < qmin ? double(qmin) : q > qmax ? double(qmax) : q;
}
}  // namespace

void f32_fake_quant_ref(const float* x, size_t n, const float* scale, size_t channels, int32_t qmin, int32_t qmax,
                        float* y, uint8_t* mask) {
  const size_t inner = channels ? n / channels : 0;
  for (size_t c = 0; c < channels; ++c) {
    const float s = scale[c];
    const float inv = 1.0f / s;
    for (size_t i = c * inner; i < (c + 1) * inner; ++i) {
      bool inside;
      const double q = clamp_q(q_of(x[i], inv), qmin, qmax, inside);
      y[i] = float(q) * s;
      if (mask) mask[i] = inside ? 1 : 0;
    }
  }
}

void f32_fake_quant_backward_ref(const float* g, const uint8_t* mask, size_t n, float* gx) {
  for (size_t i = 0; i < n; ++i) gx[i] = mask[i] ? g[i] : 0.0f;
}

void f32_lsq_backward_ref(const float* x, const float* y, const float* g, size_t n, const float* scale,
                          size_t channels, int32_t qmin, int32_t qmax, double grad_factor, float* gx, float* gs) {
  const size_t inner = channels ? n / channels : 0;
  for (size_t c = 0; c < channels; ++c) {
    const float inv = 1.0f / scale[c];
    const size_t base = c * inner, end = base + inner;
    for (size_t i = base; i < end; ++i) {
      const double q = q_of(x[i], inv);
      gx[i] = (q < qmin || q > qmax) ? 0.0f : g[i];
    }
    const double sum = fixed_order_sum(base, end, [&](size_t i) -> double {
      const double q = q_of(x[i], inv);
      if (q < qmin) return double(g[i]) * double(qmin);
      if (q > qmax) return double(g[i]) * double(qmax);
      const float d = y[i] - x[i];
      const float t = g[i] * d;
      return double(t * inv);
    });
    gs[c] = float(sum * grad_factor);
  }
}

void f32_pact_fake_quant_ref(const float* x, size_t n, float alpha, PactLow low, float scale, int32_t qmin,
                             int32_t qmax, float* y, uint8_t* code, bool* low_applied) {
  // The TS order: the upper clip with the minimum of its result, then the lower clip, then fake-quant.
  float mn = INFINITY;
  for (size_t i = 0; i < n; ++i) {
    const float v = x[i] > alpha ? alpha : x[i];
    if (v < mn) mn = v;
  }
  const bool lower = low == PactLow::always || (low == PactLow::automatic && mn < 0.0f);
  if (low_applied) *low_applied = lower;
  const float inv = 1.0f / scale;
  for (size_t i = 0; i < n; ++i) {
    float v = x[i];
    uint8_t clip = 0;
    if (v > alpha) {
      v = alpha;
      clip = 1;
    }
    if (lower && v < -alpha) {
      v = -alpha;
      clip = 2;
    }
    bool inside;
    const double q = clamp_q(q_of(v, inv), qmin, qmax, inside);
    y[i] = float(q) * scale;
    code[i] = uint8_t((inside ? 1 : 0) | (clip << 1));
  }
}

void f32_pact_fake_quant_backward_ref(const float* g, const uint8_t* code, size_t n, float* gx, float* galpha) {
  for (size_t i = 0; i < n; ++i) {
    const float t = (code[i] & 1) ? g[i] : 0.0f;
    gx[i] = (code[i] >> 1) == 0 ? t : 0.0f;
  }
  const double sum = fixed_order_sum(0, n, [&](size_t i) -> double {
    const float t = (code[i] & 1) ? g[i] : 0.0f;
    const int clip = code[i] >> 1;
    return clip == 1 ? double(t) : clip == 2 ? -double(t) : 0.0;
  });
  *galpha = float(sum);
}

void f32_min_max_ref(const float* x, size_t n, size_t channels, float* lo, float* hi) {
  const size_t inner = channels ? n / channels : 0;
  for (size_t c = 0; c < channels; ++c) {
    float l = INFINITY, h = -INFINITY;
    for (size_t i = c * inner; i < (c + 1) * inner; ++i) {
      if (x[i] < l) l = x[i];
      if (x[i] > h) h = x[i];
    }
    lo[c] = l;
    hi[c] = h;
  }
}

void f32_dorefa_normalize_ref(const float* t, size_t n, size_t channels, float* wn, float* lo, float* hi, float* m,
                              float* d) {
  // ts/autograd: abs, max (v > m or NaN replaces), add of the float32 scalar 1e-5, div.
  float mx = -INFINITY;
  for (size_t i = 0; i < n; ++i) {
    const float a = std::fabs(t[i]);
    if (a > mx || std::isnan(a)) mx = a;
  }
  const float dd = mx + float(1e-5);
  for (size_t i = 0; i < n; ++i) wn[i] = t[i] / dd;
  f32_min_max_ref(wn, n, channels, lo, hi);
  *m = mx;
  *d = dd;
}

void f32_dorefa_weight_backward_ref(const float* g, const uint8_t* mask, const float* t, size_t n, float m, float d,
                                    float* gw) {
  // The rules of ts/autograd in the order the tape runs them; every stored gradient is a float32.
  std::vector<float> gm(n), ga(n), gb(n), gabs(n), gt(n);
  for (size_t i = 0; i < n; ++i) gm[i] = mask[i] ? g[i] : 0.0f;  // fake-quant (STE)
  // div: ga = g / d; gb = (−g·t)/(d·d) per element in double, stored as float32, then summed in index order
  const double dd = double(d) * double(d);
  for (size_t i = 0; i < n; ++i) {
    ga[i] = float(double(gm[i]) / double(d));
    gb[i] = float((-double(gm[i]) * double(t[i])) / dd);
  }
  double sb = 0.0;
  for (size_t i = 0; i < n; ++i) sb += gb[i];
  const float gden = float(sb);  // d loss / d (max + 1e-5) = d loss / d max (add passes it through)
  // max: ties share equally
  float ties = 0.0f;
  for (size_t i = 0; i < n; ++i)
    if (std::fabs(t[i]) == m) ties += 1.0f;
  for (size_t i = 0; i < n; ++i) gabs[i] = std::fabs(t[i]) == m ? float(double(gden) / double(ties)) : 0.0f;  // ties ≥ 1 here
  // abs: × sign(t) (0 at 0); accumulated with the numerator's gradient
  for (size_t i = 0; i < n; ++i) {
    const float sg = t[i] > 0.0f ? 1.0f : (t[i] < 0.0f ? -1.0f : 0.0f);
    gt[i] = ga[i] + gabs[i] * sg;
  }
  // tanh: × (1 − t²) in double
  for (size_t i = 0; i < n; ++i) gw[i] = float(double(gt[i]) * (1.0 - double(t[i]) * double(t[i])));
}

}  // namespace qrb
