// Batch normalisation (statistics, apply, backward), ReLU (forward, backward) and elementwise add
// over NCHW float32: plain C++ threaded over channels (BN) or contiguous chunks (the rest) on the
// OpenMP team oneDNN also uses (parallel.h: a fixed cut, so the bits do not depend on scheduling). Variants: this file only; the reference is the TS implementation in ts/autograd
// (norm.ts, elementwise.ts; used with setFloatBackend('ref')).
// Accumulation: per-channel sums run in float over 16 independent lanes inside blocks of at most
// kBlock values (so the compiler vectorises them without reassociating), and the blocks add up in
// double; the relative error of a block sum stays near 1e-7 however large the plane (224×224 too).
// The element loops are branch-free (a data-dependent branch in ReLU's backward cost 10-20x on
// random signs).
// Test: native/tests/test_float_bn.cc; test/parity/float-bn-relu.test.ts (native vs TS, awkward
// shapes incl. planes over one block); test/parity/float-torch.test.ts (vs torch).
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "parallel.h"
#include "qrb/float.h"

namespace qrb {
namespace {

constexpr int64_t kLanes = 16;
constexpr int64_t kBlock = 1024;

// The blocked reduction behind every per-channel sum: over [0, len) in blocks of kBlock, term(i) for
// each of the K sums is added into float accumulators acc[k][lane] (16 independent lanes, so the
// compiler vectorises without reassociating), the block's tail and lanes are summed in double, and
// the block totals add up in double into out[k].
template <int K, class Term>
inline void blocked_sums(int64_t len, double* out, Term term) {
  for (int64_t b0 = 0; b0 < len; b0 += kBlock) {
    const int64_t e = std::min(len, b0 + kBlock);
    float acc[K][kLanes] = {};
    int64_t i = b0;
    for (; i + kLanes <= e; i += kLanes)
      for (int64_t j = 0; j < kLanes; ++j) {
        float t[K];
        term(i + j, t);
        for (int k = 0; k < K; ++k) acc[k][j] += t[k];
      }
    double s[K] = {};
    for (; i < e; ++i) {
      float t[K];
      term(i, t);
      for (int k = 0; k < K; ++k) s[k] += t[k];
    }
    for (int k = 0; k < K; ++k) {
      for (int64_t j = 0; j < kLanes; ++j) s[k] += acc[k][j];
      out[k] += s[k];
    }
  }
}

// Σ p[i] over [0, len).
double block_sum(const float* __restrict p, int64_t len) {
  double out[1] = {0};
  blocked_sums<1>(len, out, [p](int64_t i, float* t) { t[0] = p[i]; });
  return out[0];
}

// Σ (p[i] − mu)² over [0, len).
double block_sq_dev(const float* __restrict p, int64_t len, float mu) {
  double out[1] = {0};
  blocked_sums<1>(len, out, [p, mu](int64_t i, float* t) {
    const float d = p[i] - mu;
    t[0] = d * d;
  });
  return out[0];
}

// Σ g[i] and Σ g[i]·(x[i] − mu) over [0, len), added into *sg and *sgx.
void block_sum_gx(const float* __restrict x, const float* __restrict g, int64_t len, float mu, double* sg,
                  double* sgx) {
  double out[2] = {0, 0};
  blocked_sums<2>(len, out, [x, g, mu](int64_t i, float* t) {
    t[0] = g[i];
    t[1] = g[i] * (x[i] - mu);
  });
  *sg += out[0];
  *sgx += out[1];
}

Status check_bn(const char* fn, int64_t n, int64_t c, int64_t hw, size_t x_len, size_t c_len) {
  if (n < 1 || c < 1 || hw < 1 || n > (int64_t(1) << 31) || c > (int64_t(1) << 31) || hw > (int64_t(1) << 31))
    return Status::Error(std::string(fn) + ": expected positive n, c, hw but received " + std::to_string(n) + ", " +
                         std::to_string(c) + ", " + std::to_string(hw));
  if (double(n) * double(c) * double(hw) > double(int64_t(1) << 50)) return Status::Error(std::string(fn) + ": size overflows");
  if (x_len != size_t(n * c * hw))
    return Status::Error(std::string(fn) + "(x): expected " + std::to_string(n * c * hw) + " floats but received " +
                         std::to_string(x_len));
  if (c_len != size_t(c))
    return Status::Error(std::string(fn) + ": per-channel vectors need " + std::to_string(c) + " floats but received " +
                         std::to_string(c_len));
  return Status::Ok();
}

// y = x·sc + sh over one plane (vectorised: no reduction).
inline void affine_plane(const float* __restrict p, float* __restrict q, int64_t hw, float sc, float sh, bool relu) {
  if (relu)
    for (int64_t i = 0; i < hw; ++i) {
      const float v = p[i] * sc + sh;
      q[i] = v > 0.0f ? v : 0.0f;
    }
  else
    for (int64_t i = 0; i < hw; ++i) q[i] = p[i] * sc + sh;
}

// Element loops over one range, with their pointers as plain arguments (a lambda capturing them by
// reference reloads them every iteration and defeats vectorisation).
void relu_range(const float* __restrict x, float* __restrict y, int64_t len) {
  for (int64_t i = 0; i < len; ++i) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}
// dy where x > 0, else 0, branch-free (a select, so NaN/inf in dy pass through where x > 0, as torch).
void relu_bwd_range(const float* __restrict x, const float* __restrict dy, float* __restrict dx, int64_t len) {
  for (int64_t i = 0; i < len; ++i) {
    const float g = dy[i];  // loaded unconditionally, so the compiler can select instead of branching
    dx[i] = x[i] > 0.0f ? g : 0.0f;
  }
}
// y may be a or b (same index read before written), so no __restrict here.
void add_range(const float* a, const float* b, float* y, int64_t len) {
  for (int64_t i = 0; i < len; ++i) y[i] = a[i] + b[i];
}

void bn_backward_plane(const float* __restrict px, const float* __restrict pg, float* __restrict pd, int64_t hw,
                       float a, float bb, float k, float mu, bool batch_stats) {
  if (batch_stats)
    for (int64_t i = 0; i < hw; ++i) pd[i] = a * pg[i] + (bb * (px[i] - mu) + k);
  else
    for (int64_t i = 0; i < hw; ++i) pd[i] = a * pg[i];
}

constexpr int64_t kMinChunk = 1 << 16;

// Channels per thread so that each thread gets about kMinChunk values at least: a small batch (the
// attacks run batch 1-32) does not pay a team wake-up for a few µs of work per channel.
inline int64_t min_channels_per_thread(int64_t per_channel) {
  return std::max<int64_t>(1, kMinChunk / std::max<int64_t>(1, per_channel));
}

}  // namespace

Status f32_bn_stats(int64_t n, int64_t c, int64_t hw, const float* x, size_t x_len, float* mean, float* var,
                    size_t c_len) {
  Status s = check_bn("f32_bn_stats", n, c, hw, x_len, c_len);
  if (!s.ok) return s;
  if (!x || !mean || !var) return Status::Error("f32_bn_stats: null buffer");
  float_parallel_for(c, min_channels_per_thread(n * hw), [&](int64_t c0, int64_t c1) {
    for (int64_t ch = c0; ch < c1; ++ch) {
      double sum = 0;
      for (int64_t b = 0; b < n; ++b) sum += block_sum(x + (b * c + ch) * hw, hw);
      const double mu = sum / double(n * hw);
      double v = 0;
      for (int64_t b = 0; b < n; ++b) v += block_sq_dev(x + (b * c + ch) * hw, hw, float(mu));
      // the deviations were taken from float(mu): correct for the difference (exact in double)
      const double dmu = double(float(mu)) - mu;
      v -= double(n * hw) * dmu * dmu;
      mean[ch] = float(mu);
      var[ch] = float(std::max(0.0, v) / double(n * hw));
    }
  });
  return Status::Ok();
}

Status f32_bn_apply(int64_t n, int64_t c, int64_t hw, const float* x, size_t x_len, const float* mean,
                    const float* var, const float* gamma, const float* beta, size_t c_len, float eps, float* y,
                    size_t y_len) {
  Status s = check_bn("f32_bn_apply", n, c, hw, x_len, c_len);
  if (!s.ok) return s;
  if (y_len != x_len) return Status::Error("f32_bn_apply(y): length differs from x");
  if (!x || !mean || !var || !y) return Status::Error("f32_bn_apply: null buffer");
  if (!(eps > 0)) return Status::Error("f32_bn_apply(eps): expected > 0");
  float_parallel_for(c, min_channels_per_thread(n * hw), [&](int64_t c0, int64_t c1) {
    for (int64_t ch = c0; ch < c1; ++ch) {
      const double invstd = 1.0 / std::sqrt(double(var[ch]) + double(eps));
      const float sc = float(invstd * (gamma ? double(gamma[ch]) : 1.0));
      const float sh = float((beta ? double(beta[ch]) : 0.0) - double(mean[ch]) * double(sc));
      for (int64_t b = 0; b < n; ++b) affine_plane(x + (b * c + ch) * hw, y + (b * c + ch) * hw, hw, sc, sh, false);
    }
  });
  return Status::Ok();
}

Status f32_bn_backward(int64_t n, int64_t c, int64_t hw, const float* x, const float* dy, size_t x_len,
                       const float* mean, const float* var, const float* gamma, size_t c_len, float eps,
                       bool batch_stats, float* dx, float* dgamma, float* dbeta) {
  Status s = check_bn("f32_bn_backward", n, c, hw, x_len, c_len);
  if (!s.ok) return s;
  if (!x || !dy || !mean || !var) return Status::Error("f32_bn_backward: null buffer");
  if (!(eps > 0)) return Status::Error("f32_bn_backward(eps): expected > 0");
  const double m = double(n * hw);
  float_parallel_for(c, min_channels_per_thread(n * hw), [&](int64_t c0, int64_t c1) {
    for (int64_t ch = c0; ch < c1; ++ch) {
      const float mu = mean[ch];
      const double is = 1.0 / std::sqrt(double(var[ch]) + double(eps));
      double sg = 0, sgx = 0;
      for (int64_t b = 0; b < n; ++b) block_sum_gx(x + (b * c + ch) * hw, dy + (b * c + ch) * hw, hw, mu, &sg, &sgx);
      sgx *= is;  // Σ dy · x̂
      if (dgamma) dgamma[ch] = float(sgx);
      if (dbeta) dbeta[ch] = float(sg);
      if (!dx) continue;
      const double gm = gamma ? double(gamma[ch]) : 1.0;
      // dx = a·dy + b·(x − mean) + k with a = γ·invstd; with batch statistics
      // b = −a·invstd·Σdy·x̂ / M and k = −a·Σdy / M (the mean and variance paths), else 0.
      const float a = float(gm * is);
      const float bb = batch_stats ? float(-gm * is * is * sgx / m) : 0.0f;
      const float k = batch_stats ? float(-gm * is * sg / m) : 0.0f;
      for (int64_t b = 0; b < n; ++b)
        bn_backward_plane(x + (b * c + ch) * hw, dy + (b * c + ch) * hw, dx + (b * c + ch) * hw, hw, a, bb, k, mu,
                          batch_stats);
    }
  });
  return Status::Ok();
}

Status f32_relu(const float* x, size_t len, float* y, size_t y_len) {
  if (y_len != len) return Status::Error("f32_relu(y): length differs from x");
  if (len > 0 && (!x || !y)) return Status::Error("f32_relu: null buffer");
  float_parallel_for(int64_t(len), kMinChunk, [x, y](int64_t b, int64_t e) { relu_range(x + b, y + b, e - b); });
  return Status::Ok();
}

Status f32_relu_backward(const float* x, const float* dy, size_t len, float* dx, size_t dx_len) {
  if (dx_len != len) return Status::Error("f32_relu_backward(dx): length differs from x");
  if (len > 0 && (!x || !dy || !dx)) return Status::Error("f32_relu_backward: null buffer");
  float_parallel_for(int64_t(len), kMinChunk, [x, dy, dx](int64_t b, int64_t e) { relu_bwd_range(x + b, dy + b, dx + b, e - b); });
  return Status::Ok();
}

// One SGD update (torch.optim.SGD) over [0, len), in double with float32 rounding exactly where the
// TS reference (ts/nn/optim.ts) stores float32 values, so both give the same bits.
void sgd_range(float* __restrict p, const float* __restrict g, float* __restrict buf, int64_t len, const SgdParams& o) {
  for (int64_t i = 0; i < len; ++i) {
    const float gi = o.weight_decay != 0.0 ? float(double(g[i]) + o.weight_decay * double(p[i])) : g[i];
    if (o.momentum == 0.0) {
      p[i] = float(double(p[i]) - o.lr * double(gi));
      continue;
    }
    const float b = o.first ? gi : float(o.momentum * double(buf[i]) + (1.0 - o.dampening) * double(gi));
    buf[i] = b;
    const float step = o.nesterov ? float(double(gi) + o.momentum * double(b)) : b;
    p[i] = float(double(p[i]) - o.lr * double(step));
  }
}

Status f32_sgd_step(float* p, const float* g, float* buf, size_t len, const SgdParams& o) {
  if (len > 0 && (!p || !g)) return Status::Error("f32_sgd_step: null buffer");
  if (o.momentum != 0.0 && len > 0 && !buf) return Status::Error("f32_sgd_step(buf): momentum needs a buffer");
  for (double v : {o.lr, o.momentum, o.dampening, o.weight_decay})
    if (!(v >= 0) || !std::isfinite(v)) return Status::Error("f32_sgd_step: lr, momentum, dampening, weightDecay must be finite and >= 0");
  float_parallel_for(int64_t(len), kMinChunk, [p, g, buf, &o](int64_t s, int64_t e) {
    sgd_range(p + s, g + s, buf ? buf + s : nullptr, e - s, o);
  });
  return Status::Ok();
}

Status f32_add(const float* a, const float* b, size_t len, float* y, size_t y_len) {
  if (y_len != len) return Status::Error("f32_add(y): length differs from a");
  if (len > 0 && (!a || !b || !y)) return Status::Error("f32_add: null buffer");
  float_parallel_for(int64_t(len), kMinChunk, [a, b, y](int64_t s, int64_t e) { add_range(a + s, b + s, y + s, e - s); });
  return Status::Ok();
}

}  // namespace qrb
