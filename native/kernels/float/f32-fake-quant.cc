// Fake quantization kernels for QAT (qrb/fake_quant.h): fake-quant forward + STE mask, masked backward,
// LSQ backward, PACT clip fused with fake-quant (forward, backward with the α gradient), min / max.
// Variants: this file (plain C++, threaded over float_threads() on the float kernels' OpenMP team
// (parallel.h), loops written so the compiler vectorises them for the baseline ISA: no intrinsics, so it
// builds and runs the same on x86-64 and aarch64); the scalar twins are native/kernels/ref/f32-fake-quant-ref.cc, and ts/quant/fake.ts
// holds the TS reference loops.
// Layout: the work is cut into blocks of kFqBlock elements that never straddle a channel; threads take
// contiguous runs of blocks. Every reduction is summed per block (kFqLanes double lanes) and the block
// sums are added in block order afterwards, so the result does not depend on the thread count.
// Numerics: nearbyint by the 1.5·2^23 constant (exact half-to-even for |v| ≤ 2^22 and gives +0, never
// −0); values beyond ±2^22 are clamped first, which cannot change clamp(q, qmin, qmax) since
// |qmin|, |qmax| ≤ 2^20. Needs IEEE single arithmetic without contraction (-ffp-contract=off, set for the
// whole build) and without -ffast-math.
// Test: ctest -R fake_quant (every kernel against its twin, awkward sizes, 1..3 threads);
// test/unit/quant/fake-native.test.ts (native against the TS loops, bit for bit); bench: bench/qat/qat-step.ts.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "parallel.h"
#include "qrb/fake_quant.h"
#include "qrb/float.h"

namespace qrb {
namespace {

constexpr float kRound = 12582912.0f;  // 1.5·2^23
constexpr float kClampV = 4194304.0f;  // 2^22
// Below this many elements per thread a parallel region costs more than it saves.
constexpr size_t kMinPerThread = size_t(1) << 15;

// Selects through bit masks: GCC does not if-convert `a < b ? c : d` on floats under the default
// -ftrapping-math, which leaves these loops scalar; a comparison turned into an all-ones / zero mask and
// combined with and / or vectorises on every target (and gives the same values, NaN included).
inline uint32_t bits_of(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}
inline float float_of(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}
inline uint32_t mask_of(bool c) { return 0u - uint32_t(c); }
// m ? a : b for m all ones or zero
inline float sel(uint32_t m, float a, float b) { return float_of((bits_of(a) & m) | (bits_of(b) & ~m)); }

// q = nearbyint(fl(x·inv)) for the clamp that follows (NaN stays NaN).
inline float q_of(float x, float inv) {
  float v = x * inv;
  v = sel(mask_of(v < -kClampV), -kClampV, v);
  v = sel(mask_of(v > kClampV), kClampV, v);
  return (v + kRound) - kRound;
}

// Blocks of one channel-split tensor: channel c's elements [c·inner, (c+1)·inner) in blocks of kFqBlock.
struct Blocks {
  size_t inner = 0, per_channel = 0, count = 0;
  Blocks(size_t n, size_t channels) {
    inner = channels ? n / channels : 0;
    per_channel = (inner + size_t(kFqBlock) - 1) / size_t(kFqBlock);
    count = per_channel * channels;
  }
  size_t channel(size_t b) const { return b / per_channel; }
  size_t begin(size_t b) const { return channel(b) * inner + (b % per_channel) * size_t(kFqBlock); }
  size_t end(size_t b) const { return std::min(begin(b) + size_t(kFqBlock), (channel(b) + 1) * inner); }
};

// Runs fn(b0, b1) over the block range [0, blocks) in contiguous runs on the float kernels' OpenMP team
// (parallel.h: float_threads() threads at most, at least kMinPerThread elements each).
template <class Fn>
void for_blocks(size_t blocks, size_t elements, Fn fn) {
  if (blocks == 0) return;
  const size_t per_block = std::max<size_t>(1, elements / blocks);
  const int64_t min_blocks = int64_t(std::max<size_t>(1, (kMinPerThread + per_block - 1) / per_block));
  float_parallel_for(int64_t(blocks), min_blocks, [&](int64_t b0, int64_t b1) { fn(size_t(b0), size_t(b1)); });
}

// ---- element loops (plain pointer arguments, so the compiler vectorises them) ---------------------------

void fq_range(const float* __restrict x, size_t len, float s, float inv, float lo, float hi, float* __restrict y,
              uint8_t* __restrict mask) {
  for (size_t i = 0; i < len; ++i) {
    const float q = q_of(x[i], inv);
    const uint32_t below = mask_of(q < lo), above = mask_of(q > hi);
    y[i] = sel(above, hi, sel(below, lo, q)) * s;
    mask[i] = uint8_t(~(below | above) & 1u);
  }
}

void fq_range_nomask(const float* __restrict x, size_t len, float s, float inv, float lo, float hi,
                     float* __restrict y) {
  for (size_t i = 0; i < len; ++i) {
    const float q = q_of(x[i], inv);
    y[i] = sel(mask_of(q > hi), hi, sel(mask_of(q < lo), lo, q)) * s;
  }
}

void masked_range(const float* __restrict g, const uint8_t* __restrict mask, size_t len, float* __restrict gx) {
  for (size_t i = 0; i < len; ++i) {
    const float v = g[i];
    gx[i] = mask[i] ? v : 0.0f;
  }
}

// Lane sums of a block: acc[l] over the block's elements i with i mod kFqLanes = l; block sum in lane order.
inline double lane_total(const double* acc) {
  double s = acc[0];
  for (int l = 1; l < kFqLanes; ++l) s += acc[l];
  return s;
}

struct LsqConsts {
  float inv, lo, hi;
};

// The scale-gradient term as a product of two floats in double (exact): fl(g·fl(y−x))·inv) × 1 inside,
// g × qmin below, g × qmax above.
inline double lsq_term(float x, float y, float g, const LsqConsts& k, float* gx) {
  const float q = q_of(x, k.inv);
  const uint32_t below = mask_of(q < k.lo), above = mask_of(q > k.hi), out = below | above;
  const float t = (g * (y - x)) * k.inv;
  *gx = sel(out, 0.0f, g);
  const float a = sel(out, g, t), b = sel(out, sel(below, k.lo, k.hi), 1.0f);
  return double(a) * double(b);
}

// One block of LSQ's backward (len ≤ kFqBlock, starting a block): gx and the block's scale-gradient sum.
double lsq_block(const float* __restrict x, const float* __restrict y, const float* __restrict g, size_t len,
                 const LsqConsts& k, float* __restrict gx) {
  double acc[kFqLanes] = {};
  size_t i = 0;
  for (; i + kFqLanes <= len; i += kFqLanes)
    for (int j = 0; j < kFqLanes; ++j) acc[j] += lsq_term(x[i + j], y[i + j], g[i + j], k, &gx[i + j]);
  for (; i < len; ++i) acc[i % kFqLanes] += lsq_term(x[i], y[i], g[i], k, &gx[i]);
  return lane_total(acc);
}

// PACT: upper clip (and lower when kLower) then fake-quant; returns whether some x < 0. The lower clip is
// a template parameter so that the usual case (after a ReLU: no lower clip) carries none of its work.
template <bool kLower>
bool pact_range(const float* __restrict x, size_t len, float a, float s, float inv, float lo, float hi,
                float* __restrict y, uint8_t* __restrict code) {
  uint32_t neg = 0;
  const float na = -a;
  for (size_t i = 0; i < len; ++i) {
    const float xv = x[i];
    neg |= mask_of(xv < 0.0f);
    const uint32_t up = mask_of(xv > a);
    float v = sel(up, a, xv);
    uint32_t down = 0;
    if (kLower) {
      down = mask_of(v < na);
      v = sel(down, na, v);
    }
    const float q = q_of(v, inv);
    const uint32_t below = mask_of(q < lo), above = mask_of(q > hi);
    y[i] = sel(above, hi, sel(below, lo, q)) * s;
    code[i] = uint8_t((~(below | above) & 1u) | (up & 2u) | (down & 4u));
  }
  return neg != 0;
}

// α's term: the masked gradient where clipped above, its negation where clipped below, 0 elsewhere.
inline float pact_term(float g, uint8_t code, float* gx) {
  const uint32_t in_grid = 0u - uint32_t(code & 1), clip_up = 0u - uint32_t((code >> 1) & 1),
                 clip_down = 0u - uint32_t((code >> 2) & 1);
  const float t = sel(in_grid, g, 0.0f);
  *gx = sel(clip_up | clip_down, 0.0f, t);
  return sel(clip_down, -t, sel(clip_up, t, 0.0f));
}

// One block: gx and the terms in one vectorised loop, then the lane sums of the terms in double.
double pact_block(const float* __restrict g, const uint8_t* __restrict code, size_t len, float* __restrict gx) {
  float term[kFqBlock];
  for (size_t i = 0; i < len; ++i) term[i] = pact_term(g[i], code[i], &gx[i]);
  double acc[kFqLanes] = {};
  size_t i = 0;
  for (; i + kFqLanes <= len; i += kFqLanes)
    for (int j = 0; j < kFqLanes; ++j) acc[j] += double(term[i + j]);
  for (; i < len; ++i) acc[i % kFqLanes] += double(term[i]);
  return lane_total(acc);
}

void min_max_block(const float* __restrict x, size_t len, float* lo, float* hi) {
  float l[kFqLanes], h[kFqLanes];
  for (int j = 0; j < kFqLanes; ++j) {
    l[j] = INFINITY;
    h[j] = -INFINITY;
  }
  size_t i = 0;
  for (; i + kFqLanes <= len; i += kFqLanes)
    for (int j = 0; j < kFqLanes; ++j) {
      const float v = x[i + j];
      l[j] = sel(mask_of(v < l[j]), v, l[j]);
      h[j] = sel(mask_of(v > h[j]), v, h[j]);
    }
  for (; i < len; ++i) {
    const float v = x[i];
    l[0] = v < l[0] ? v : l[0];
    h[0] = v > h[0] ? v : h[0];
  }
  float rl = l[0], rh = h[0];
  for (int j = 1; j < kFqLanes; ++j) {
    rl = l[j] < rl ? l[j] : rl;
    rh = h[j] > rh ? h[j] : rh;
  }
  *lo = rl;
  *hi = rh;
}

// ---- argument checks --------------------------------------------------------------------------------------

Status err(const char* fn, const std::string& what) { return Status::Error(std::string(fn) + what); }

Status check_len(const char* fn, const char* arg, size_t got, size_t want) {
  if (got == want) return Status::Ok();
  return err(fn, std::string("(") + arg + "): expected " + std::to_string(want) + " elements but received " +
                     std::to_string(got));
}

Status check_ptr(const char* fn, const char* arg, const void* p, size_t len) {
  if (p || len == 0) return Status::Ok();
  return err(fn, std::string("(") + arg + "): missing buffer");
}

Status check_range(const char* fn, int32_t qmin, int32_t qmax) {
  if (qmin < -kFqQLimit || qmax > kFqQLimit || qmin > qmax)
    return err(fn, "(qmin, qmax): expected integers with -" + std::to_string(kFqQLimit) + " <= qmin <= qmax <= " +
                       std::to_string(kFqQLimit) + " but received " + std::to_string(qmin) + ", " +
                       std::to_string(qmax));
  return Status::Ok();
}

Status check_scales(const char* fn, const float* scale, size_t channels) {
  if (channels == 0) return err(fn, "(scale): expected at least one scale but received 0");
  if (!scale) return err(fn, "(scale): missing buffer");
  for (size_t c = 0; c < channels; ++c)
    if (!(scale[c] > 0.0f) || !std::isfinite(scale[c]))
      return err(fn, "(scale[" + std::to_string(c) + "]): expected a finite number > 0 but received " +
                         std::to_string(scale[c]));
  return Status::Ok();
}

Status check_channels(const char* fn, size_t n, size_t channels) {
  if (channels == 0 || n % channels != 0)
    return err(fn, "(channels): " + std::to_string(n) + " elements do not split into " + std::to_string(channels) +
                       " channels");
  return Status::Ok();
}

#define QRB_FQ_TRY(expr)             \
  do {                               \
    Status _s = (expr);              \
    if (!_s.ok) return _s;           \
  } while (0)

}  // namespace

Status f32_fake_quant(const float* x, size_t n, const float* scale, size_t channels, int32_t qmin, int32_t qmax,
                      float* y, size_t y_len, uint8_t* mask, size_t mask_len) {
  const char* fn = "f32FakeQuant";
  QRB_FQ_TRY(check_ptr(fn, "x", x, n));
  QRB_FQ_TRY(check_scales(fn, scale, channels));
  QRB_FQ_TRY(check_channels(fn, n, channels));
  QRB_FQ_TRY(check_range(fn, qmin, qmax));
  QRB_FQ_TRY(check_len(fn, "y", y_len, n));
  QRB_FQ_TRY(check_ptr(fn, "y", y, n));
  if (mask) QRB_FQ_TRY(check_len(fn, "mask", mask_len, n));
  const Blocks bl(n, channels);
  const float lo = float(qmin), hi = float(qmax);
  for_blocks(bl.count, n, [&](size_t b0, size_t b1) {
    for (size_t b = b0; b < b1; ++b) {
      const size_t s = bl.begin(b), e = bl.end(b);
      const float sc = scale[bl.channel(b)], inv = 1.0f / sc;
      if (mask)
        fq_range(x + s, e - s, sc, inv, lo, hi, y + s, mask + s);
      else
        fq_range_nomask(x + s, e - s, sc, inv, lo, hi, y + s);
    }
  });
  return Status::Ok();
}

Status f32_fake_quant_backward(const float* g, const uint8_t* mask, size_t n, float* gx, size_t gx_len) {
  const char* fn = "f32FakeQuantBackward";
  QRB_FQ_TRY(check_ptr(fn, "g", g, n));
  QRB_FQ_TRY(check_ptr(fn, "mask", mask, n));
  QRB_FQ_TRY(check_len(fn, "gx", gx_len, n));
  QRB_FQ_TRY(check_ptr(fn, "gx", gx, n));
  const Blocks bl(n, 1);
  for_blocks(bl.count, n, [&](size_t b0, size_t b1) {
    const size_t s = bl.begin(b0), e = b1 > b0 ? bl.end(b1 - 1) : s;
    masked_range(g + s, mask + s, e - s, gx + s);
  });
  return Status::Ok();
}

Status f32_lsq_backward(const float* x, const float* y, const float* g, size_t n, const float* scale,
                        size_t channels, int32_t qmin, int32_t qmax, double grad_factor, float* gx, size_t gx_len,
                        float* gs, size_t gs_len) {
  const char* fn = "f32LsqBackward";
  QRB_FQ_TRY(check_ptr(fn, "x", x, n));
  QRB_FQ_TRY(check_ptr(fn, "y", y, n));
  QRB_FQ_TRY(check_ptr(fn, "g", g, n));
  QRB_FQ_TRY(check_scales(fn, scale, channels));
  QRB_FQ_TRY(check_channels(fn, n, channels));
  QRB_FQ_TRY(check_range(fn, qmin, qmax));
  if (!std::isfinite(grad_factor))
    return err(fn, "(gradFactor): expected a finite number but received " + std::to_string(grad_factor));
  QRB_FQ_TRY(check_len(fn, "gx", gx_len, n));
  QRB_FQ_TRY(check_ptr(fn, "gx", gx, n));
  QRB_FQ_TRY(check_len(fn, "gs", gs_len, channels));
  QRB_FQ_TRY(check_ptr(fn, "gs", gs, channels));
  const Blocks bl(n, channels);
  std::vector<double> part(bl.count);
  for_blocks(bl.count, n, [&](size_t b0, size_t b1) {
    for (size_t b = b0; b < b1; ++b) {
      const size_t s = bl.begin(b), e = bl.end(b);
      const LsqConsts k{1.0f / scale[bl.channel(b)], float(qmin), float(qmax)};
      part[b] = lsq_block(x + s, y + s, g + s, e - s, k, gx + s);
    }
  });
  for (size_t c = 0; c < channels; ++c) {
    double total = 0.0;
    for (size_t k = 0; k < bl.per_channel; ++k) total += part[c * bl.per_channel + k];
    gs[c] = float(total * grad_factor);
  }
  return Status::Ok();
}

Status f32_pact_fake_quant(const float* x, size_t n, float alpha, PactLow low, float scale, int32_t qmin,
                           int32_t qmax, float* y, size_t y_len, uint8_t* code, size_t code_len, bool* low_applied) {
  const char* fn = "f32PactFakeQuant";
  QRB_FQ_TRY(check_ptr(fn, "x", x, n));
  if (!(alpha >= 0.0f) || !std::isfinite(alpha))
    return err(fn, "(alpha): expected a finite number >= 0 but received " + std::to_string(alpha));
  if (low != PactLow::none && low != PactLow::always && low != PactLow::automatic)
    return err(fn, "(low): expected 0 (none), 1 (always) or 2 (auto) but received " + std::to_string(int(low)));
  QRB_FQ_TRY(check_scales(fn, &scale, 1));
  QRB_FQ_TRY(check_range(fn, qmin, qmax));
  QRB_FQ_TRY(check_len(fn, "y", y_len, n));
  QRB_FQ_TRY(check_ptr(fn, "y", y, n));
  QRB_FQ_TRY(check_len(fn, "code", code_len, n));
  QRB_FQ_TRY(check_ptr(fn, "code", code, n));
  const Blocks bl(n, 1);
  const float inv = 1.0f / scale, lo = float(qmin), hi = float(qmax);
  auto pass = [&](bool lower) {
    std::vector<uint8_t> neg(bl.count, 0);
    for_blocks(bl.count, n, [&](size_t b0, size_t b1) {
      for (size_t b = b0; b < b1; ++b) {
        const size_t s = bl.begin(b), e = bl.end(b);
        neg[b] = (lower ? pact_range<true>(x + s, e - s, alpha, scale, inv, lo, hi, y + s, code + s)
                        : pact_range<false>(x + s, e - s, alpha, scale, inv, lo, hi, y + s, code + s)) ? 1 : 0;
      }
    });
    return std::any_of(neg.begin(), neg.end(), [](uint8_t v) { return v != 0; });
  };
  // 'auto' clips below only when some x < 0 (after the upper clip at α ≥ 0 those are the same values):
  // run without the lower clip first and again only when a negative showed up (after a ReLU, never).
  bool lower = low == PactLow::always;
  const bool neg = pass(lower);
  if (low == PactLow::automatic && neg) {
    lower = true;
    pass(true);
  }
  if (low_applied) *low_applied = lower;
  return Status::Ok();
}

Status f32_pact_fake_quant_backward(const float* g, const uint8_t* code, size_t n, float* gx, size_t gx_len,
                                    float* galpha) {
  const char* fn = "f32PactFakeQuantBackward";
  QRB_FQ_TRY(check_ptr(fn, "g", g, n));
  QRB_FQ_TRY(check_ptr(fn, "code", code, n));
  QRB_FQ_TRY(check_len(fn, "gx", gx_len, n));
  QRB_FQ_TRY(check_ptr(fn, "gx", gx, n));
  if (!galpha) return err(fn, "(galpha): missing output");
  const Blocks bl(n, 1);
  std::vector<double> part(bl.count);
  for_blocks(bl.count, n, [&](size_t b0, size_t b1) {
    for (size_t b = b0; b < b1; ++b) {
      const size_t s = bl.begin(b), e = bl.end(b);
      part[b] = pact_block(g + s, code + s, e - s, gx + s);
    }
  });
  double total = 0.0;
  for (double p : part) total += p;
  *galpha = float(total);
  return Status::Ok();
}

Status f32_min_max(const float* x, size_t n, size_t channels, float* lo, float* hi, size_t lohi_len) {
  const char* fn = "f32MinMax";
  QRB_FQ_TRY(check_ptr(fn, "x", x, n));
  QRB_FQ_TRY(check_channels(fn, n, channels));
  QRB_FQ_TRY(check_len(fn, "lo/hi", lohi_len, channels));
  if (!lo || !hi) return err(fn, "(lo/hi): missing output");
  const Blocks bl(n, channels);
  std::vector<float> pl(bl.count), ph(bl.count);
  for_blocks(bl.count, n, [&](size_t b0, size_t b1) {
    for (size_t b = b0; b < b1; ++b) min_max_block(x + bl.begin(b), bl.end(b) - bl.begin(b), &pl[b], &ph[b]);
  });
  for (size_t c = 0; c < channels; ++c) {
    float l = INFINITY, h = -INFINITY;
    for (size_t k = 0; k < bl.per_channel; ++k) {
      const size_t b = c * bl.per_channel + k;
      l = pl[b] < l ? pl[b] : l;
      h = ph[b] > h ? ph[b] : h;
    }
    // A zero result takes the sign of the channel's first zero, as a sequential strict-comparison loop.
    if (l == 0.0f || h == 0.0f) {
      const float* p = x + c * bl.inner;
      for (size_t i = 0; i < bl.inner; ++i)
        if (p[i] == 0.0f) {
          if (l == 0.0f) l = p[i];
          if (h == 0.0f) h = p[i];
          break;
        }
    }
    lo[c] = l;
    hi[c] = h;
  }
  return Status::Ok();
}

Status f32_dorefa_normalize(const float* t, size_t n, size_t channels, float* wn, size_t wn_len, float* lo, float* hi,
                            size_t lohi_len, float* m, float* d) {
  const char* fn = "f32DorefaNormalize";
  QRB_FQ_TRY(check_ptr(fn, "t", t, n));
  QRB_FQ_TRY(check_channels(fn, n, channels));
  QRB_FQ_TRY(check_len(fn, "wn", wn_len, n));
  QRB_FQ_TRY(check_ptr(fn, "wn", wn, n));
  QRB_FQ_TRY(check_len(fn, "lo/hi", lohi_len, channels));
  if (!lo || !hi || !m || !d) return err(fn, "(lo/hi/m/d): missing output");
  // Weights are small (a resnet20 layer has at most 36,864): one thread, two passes.
  float mx = -INFINITY;
  for (size_t i = 0; i < n; ++i) {
    const float a = std::fabs(t[i]);
    if (a > mx || std::isnan(a)) mx = a;  // as ts/autograd's max: a NaN wins
  }
  const float dd = mx + float(1e-5);
  for (size_t i = 0; i < n; ++i) wn[i] = t[i] / dd;
  *m = mx;
  *d = dd;
  return f32_min_max(wn, n, channels, lo, hi, lohi_len);
}

Status f32_dorefa_weight_backward(const float* g, const uint8_t* mask, const float* t, size_t n, float m, float d,
                                  float* gw, size_t gw_len) {
  const char* fn = "f32DorefaWeightBackward";
  QRB_FQ_TRY(check_ptr(fn, "g", g, n));
  QRB_FQ_TRY(check_ptr(fn, "mask", mask, n));
  QRB_FQ_TRY(check_ptr(fn, "t", t, n));
  QRB_FQ_TRY(check_len(fn, "gw", gw_len, n));
  QRB_FQ_TRY(check_ptr(fn, "gw", gw, n));
  // Pass 1: the denominator's gradient (per-element float32 terms summed in index order in double, as
  // ts/autograd's sumTo) and the number of ties at the maximum.
  const double dd = double(d) * double(d);
  double sb = 0.0;
  float ties = 0.0f;
  for (size_t i = 0; i < n; ++i) {
    const float gm = mask[i] ? g[i] : 0.0f;
    sb += double(float((-double(gm) * double(t[i])) / dd));
    ties += std::fabs(t[i]) == m ? 1.0f : 0.0f;
  }
  const float share = ties > 0.0f ? float(double(float(sb)) / double(ties)) : 0.0f;
  // Pass 2: numerator's gradient + the max's share × sign(t), then × (1 − t²) in double.
  for (size_t i = 0; i < n; ++i) {
    const float gm = mask[i] ? g[i] : 0.0f;
    const float ga = float(double(gm) / double(d));
    const float ti = t[i];
    const float gabs = std::fabs(ti) == m ? share : 0.0f;
    const float sg = ti > 0.0f ? 1.0f : (ti < 0.0f ? -1.0f : 0.0f);
    const float gt = ga + gabs * sg;
    gw[i] = float(double(gt) * (1.0 - double(ti) * double(ti)));
  }
  return Status::Ok();
}

}  // namespace qrb
