// Batch normalisation (statistics, apply, backward) and ReLU (forward, backward) over NCHW float32,
// plain C++ threaded over channels (BN) or contiguous chunks (ReLU) with std::thread, statistics and
// reductions in double. Variants: this file only; the reference is the TS implementation in
// ts/autograd/norm.ts and elementwise.ts (used with setFloatBackend('ref')).
// Test: test/parity/float-bn-relu.test.ts (native vs TS), test/parity/float-torch.test.ts (vs torch).
#include <algorithm>
#include <cmath>
#include <thread>
#include <vector>

#include "qrb/float.h"

namespace qrb {
namespace {

// Runs fn(begin, end) over [0, n) split into at most float_threads() ranges; small n runs inline.
template <class Fn>
void parallel_for(int64_t n, int64_t min_per_thread, Fn fn) {
  int64_t threads = std::min<int64_t>(float_threads(), std::max<int64_t>(1, n / std::max<int64_t>(1, min_per_thread)));
  threads = std::max<int64_t>(1, std::min<int64_t>(threads, 64));
  if (threads == 1) {
    fn(int64_t(0), n);
    return;
  }
  std::vector<std::thread> pool;
  const int64_t step = (n + threads - 1) / threads;
  for (int64_t t = 1; t < threads; ++t) {
    const int64_t b = t * step, e = std::min(n, b + step);
    if (b < e) pool.emplace_back([=] { fn(b, e); });
  }
  fn(0, std::min(n, step));
  for (auto& th : pool) th.join();
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

}  // namespace

Status f32_bn_stats(int64_t n, int64_t c, int64_t hw, const float* x, size_t x_len, float* mean, float* var,
                    size_t c_len) {
  Status s = check_bn("f32_bn_stats", n, c, hw, x_len, c_len);
  if (!s.ok) return s;
  if (!x || !mean || !var) return Status::Error("f32_bn_stats: null buffer");
  parallel_for(c, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t ch = c0; ch < c1; ++ch) {
      double sum = 0;
      for (int64_t b = 0; b < n; ++b) {
        const float* p = x + (b * c + ch) * hw;
        for (int64_t i = 0; i < hw; ++i) sum += p[i];
      }
      const double mu = sum / double(n * hw);
      double v = 0;
      for (int64_t b = 0; b < n; ++b) {
        const float* p = x + (b * c + ch) * hw;
        for (int64_t i = 0; i < hw; ++i) {
          const double d = double(p[i]) - mu;
          v += d * d;
        }
      }
      mean[ch] = float(mu);
      var[ch] = float(v / double(n * hw));
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
  parallel_for(c, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t ch = c0; ch < c1; ++ch) {
      const double invstd = 1.0 / std::sqrt(double(var[ch]) + double(eps));
      const float sc = float(invstd * (gamma ? double(gamma[ch]) : 1.0));
      const float sh = float((beta ? double(beta[ch]) : 0.0) - double(mean[ch]) * double(sc));
      for (int64_t b = 0; b < n; ++b) {
        const float* p = x + (b * c + ch) * hw;
        float* q = y + (b * c + ch) * hw;
        for (int64_t i = 0; i < hw; ++i) q[i] = p[i] * sc + sh;
      }
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
  parallel_for(c, 1, [&](int64_t c0, int64_t c1) {
    for (int64_t ch = c0; ch < c1; ++ch) {
      const double mu = mean[ch];
      const double is = 1.0 / std::sqrt(double(var[ch]) + double(eps));
      double sg = 0, sgx = 0;
      for (int64_t b = 0; b < n; ++b) {
        const float* px = x + (b * c + ch) * hw;
        const float* pg = dy + (b * c + ch) * hw;
        for (int64_t i = 0; i < hw; ++i) {
          sg += pg[i];
          sgx += double(pg[i]) * (double(px[i]) - mu);
        }
      }
      sgx *= is;  // Σ dy · x̂
      if (dgamma) dgamma[ch] = float(sgx);
      if (dbeta) dbeta[ch] = float(sg);
      if (!dx) continue;
      const double gm = gamma ? double(gamma[ch]) : 1.0;
      for (int64_t b = 0; b < n; ++b) {
        const float* px = x + (b * c + ch) * hw;
        const float* pg = dy + (b * c + ch) * hw;
        float* pd = dx + (b * c + ch) * hw;
        if (batch_stats) {
          const double k = gm * is / m;
          for (int64_t i = 0; i < hw; ++i) {
            const double xh = (double(px[i]) - mu) * is;
            pd[i] = float(k * (m * double(pg[i]) - sg - xh * sgx));
          }
        } else {
          const float k = float(gm * is);
          for (int64_t i = 0; i < hw; ++i) pd[i] = k * pg[i];
        }
      }
    }
  });
  return Status::Ok();
}

Status f32_relu(const float* x, size_t len, float* y, size_t y_len) {
  if (y_len != len) return Status::Error("f32_relu(y): length differs from x");
  if (len > 0 && (!x || !y)) return Status::Error("f32_relu: null buffer");
  parallel_for(int64_t(len), 1 << 16, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
  });
  return Status::Ok();
}

Status f32_relu_backward(const float* x, const float* dy, size_t len, float* dx, size_t dx_len) {
  if (dx_len != len) return Status::Error("f32_relu_backward(dx): length differs from x");
  if (len > 0 && (!x || !dy || !dx)) return Status::Error("f32_relu_backward: null buffer");
  parallel_for(int64_t(len), 1 << 16, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) dx[i] = x[i] > 0.0f ? dy[i] : 0.0f;
  });
  return Status::Ok();
}

}  // namespace qrb
