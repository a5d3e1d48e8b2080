// Batchnorm statistics / apply / backward and ReLU kernels: hand-computed values, the backward
// against central differences of apply (in double, on a small tensor), thread-split sizes, and
// named errors for bad sizes. The TS reference comparison is test/parity/float-bn-relu.test.ts.
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"
#include "qrb/float.h"

QRB_TEST(float_bn, hand_computed_stats_and_apply) {
  // n = 2, c = 2, hw = 2: channel 0 holds {1, 2, 3, 6}, channel 1 holds {0, 0, 4, 4}
  const float x[8] = {1, 2, 0, 0, 3, 6, 4, 4};
  float mean[2], var[2], y[8];
  QRB_CHECK(qrb::f32_bn_stats(2, 2, 2, x, 8, mean, var, 2).ok);
  QRB_CHECK_EQ(mean[0], 3.0f);
  QRB_CHECK_EQ(var[0], 3.5f);
  QRB_CHECK_EQ(mean[1], 2.0f);
  QRB_CHECK_EQ(var[1], 4.0f);
  const float gamma[2] = {2, 1}, beta[2] = {0, 1};
  QRB_CHECK(qrb::f32_bn_apply(2, 2, 2, x, 8, mean, var, gamma, beta, 2, 1e-5f, y, 8).ok);
  QRB_CHECK(std::fabs(y[2] - (0.0f - 2.0f) / std::sqrt(4.00001f) - 1.0f) < 1e-6f);
  QRB_CHECK(std::fabs(y[0] - 2.0f * (1.0f - 3.0f) / std::sqrt(3.50001f)) < 1e-6f);
}

QRB_TEST(float_bn, backward_matches_finite_differences) {
  // L = Σ r·bn(x) with batch statistics; dL/dx by central differences of stats+apply.
  const int64_t n = 3, c = 2, hw = 5, len = n * c * hw;
  qrb::test::Rng rng(12);
  std::vector<float> x(len), r(len), dx(len), mean(c), var(c), y(len);
  for (auto& v : x) v = float(int64_t(rng.next() % 2001) - 1000) / 500.0f;
  for (auto& v : r) v = float(int64_t(rng.next() % 2001) - 1000) / 1000.0f;
  const float gamma[2] = {1.5f, -0.5f}, beta[2] = {0.1f, 0.2f};
  auto loss = [&](const std::vector<float>& xx) {
    std::vector<float> m(c), v(c), yy(len);
    qrb::f32_bn_stats(n, c, hw, xx.data(), len, m.data(), v.data(), c);
    qrb::f32_bn_apply(n, c, hw, xx.data(), len, m.data(), v.data(), gamma, beta, c, 1e-5f, yy.data(), len);
    double s = 0;
    for (int64_t i = 0; i < len; ++i) s += double(r[i]) * yy[i];
    return s;
  };
  QRB_CHECK(qrb::f32_bn_stats(n, c, hw, x.data(), len, mean.data(), var.data(), c).ok);
  QRB_CHECK(qrb::f32_bn_backward(n, c, hw, x.data(), r.data(), len, mean.data(), var.data(), gamma, c, 1e-5f, true,
                                 dx.data(), nullptr, nullptr).ok);
  for (int64_t i = 0; i < len; ++i) {
    std::vector<float> xp = x, xm = x;
    xp[i] += 1e-2f;
    xm[i] -= 1e-2f;
    const double num = (loss(xp) - loss(xm)) / double(xp[i] - xm[i]);
    QRB_CHECK(std::fabs(num - dx[i]) <= 2e-3 + 1e-2 * std::fabs(num));
  }
}

QRB_TEST(float_bn, relu_values_and_split_sizes) {
  for (size_t len : {size_t(1), size_t(65535), size_t(65536), size_t(200003)}) {
    std::vector<float> x(len), y(len), dy(len, 2.0f), dx(len);
    for (size_t i = 0; i < len; ++i) x[i] = (i % 3 == 0) ? -1.0f : float(i % 7);
    QRB_CHECK(qrb::f32_relu(x.data(), len, y.data(), len).ok);
    QRB_CHECK(qrb::f32_relu_backward(x.data(), dy.data(), len, dx.data(), len).ok);
    for (size_t i = 0; i < len; ++i) {
      QRB_CHECK_EQ(y[i], x[i] > 0 ? x[i] : 0.0f);
      QRB_CHECK_EQ(dx[i], x[i] > 0 ? 2.0f : 0.0f);
    }
  }
}

QRB_TEST(float_bn, bad_arguments_are_errors) {
  std::vector<float> x(12), m(3), v(3), y(12);
  QRB_CHECK(qrb::f32_bn_stats(2, 3, 2, x.data(), 12, m.data(), v.data(), 3).ok);
  QRB_CHECK(!qrb::f32_bn_stats(2, 3, 2, x.data(), 11, m.data(), v.data(), 3).ok);
  QRB_CHECK(!qrb::f32_bn_stats(2, 3, 2, x.data(), 12, m.data(), v.data(), 2).ok);
  QRB_CHECK(!qrb::f32_bn_stats(0, 3, 2, x.data(), 0, m.data(), v.data(), 3).ok);
  QRB_CHECK(!qrb::f32_bn_apply(2, 3, 2, x.data(), 12, m.data(), v.data(), nullptr, nullptr, 3, 0.0f, y.data(), 12).ok);
  QRB_CHECK(!qrb::f32_bn_apply(2, 3, 2, x.data(), 12, m.data(), v.data(), nullptr, nullptr, 3, 1e-5f, y.data(), 11).ok);
  QRB_CHECK(!qrb::f32_bn_backward(2, 3, 2, nullptr, y.data(), 12, m.data(), v.data(), nullptr, 3, 1e-5f, true,
                                  y.data(), nullptr, nullptr).ok);
  QRB_CHECK(!qrb::f32_relu(x.data(), 12, y.data(), 11).ok);
}

QRB_TEST(float_bn, stats_over_blocks_match_double_two_pass) {
  // planes of 1517 values (over one 1024-value block, a 16-lane tail) and a mean that dwarfs the
  // spread: float lanes inside blocks must still give the double two-pass answer to float rounding
  const int64_t n = 3, c = 2, hw = 37 * 41, len = n * c * hw;
  qrb::test::Rng rng(5);
  std::vector<float> x(len), mean(c), var(c);
  for (int64_t i = 0; i < len; ++i) x[i] = 1000.0f + float(int64_t(rng.next() % 2001) - 1000) / 50000.0f;
  QRB_CHECK(qrb::f32_bn_stats(n, c, hw, x.data(), len, mean.data(), var.data(), c).ok);
  for (int64_t ch = 0; ch < c; ++ch) {
    double s = 0, v = 0;
    for (int64_t b = 0; b < n; ++b)
      for (int64_t i = 0; i < hw; ++i) s += x[(b * c + ch) * hw + i];
    const double mu = s / double(n * hw);
    for (int64_t b = 0; b < n; ++b)
      for (int64_t i = 0; i < hw; ++i) v += (x[(b * c + ch) * hw + i] - mu) * (x[(b * c + ch) * hw + i] - mu);
    v /= double(n * hw);
    QRB_CHECK(std::fabs(mean[ch] - mu) <= 1e-7 * mu);
    QRB_CHECK(std::fabs(var[ch] - v) <= 1e-4 * v);
  }
}

QRB_TEST(float_bn, relu_backward_passes_nan_and_add_accumulates_in_place) {
  const float x[4] = {1, -1, 2, 0};
  const float dy[4] = {NAN, NAN, INFINITY, 5};
  float dx[4];
  QRB_CHECK(qrb::f32_relu_backward(x, dy, 4, dx, 4).ok);
  QRB_CHECK(std::isnan(dx[0]));
  QRB_CHECK_EQ(dx[1], 0.0f);
  QRB_CHECK_EQ(dx[2], INFINITY);
  QRB_CHECK_EQ(dx[3], 0.0f);
  for (size_t len : {size_t(1), size_t(65537), size_t(200003)}) {
    std::vector<float> a(len), b(len), want(len);
    for (size_t i = 0; i < len; ++i) {
      a[i] = float(i % 13) * 0.25f;
      b[i] = -float(i % 7);
      want[i] = a[i] + b[i];
    }
    QRB_CHECK(qrb::f32_add(a.data(), b.data(), len, a.data(), len).ok);  // y aliases a
    for (size_t i = 0; i < len; ++i) QRB_CHECK_EQ(a[i], want[i]);
  }
  std::vector<float> a(3), y(2);
  QRB_CHECK(!qrb::f32_add(a.data(), a.data(), 3, y.data(), 2).ok);
  QRB_CHECK(!qrb::f32_add(nullptr, a.data(), 3, a.data(), 3).ok);
}

QRB_TEST(float_bn, sgd_step_hand_computed_and_errors) {
  // Nesterov, weight decay: g = 0.5 + 0.01·1 = 0.51; first step buf = g; p = 1 − 0.1·(g + 0.9·buf)
  float p[1] = {1}, g[1] = {0.5f}, buf[1] = {0};
  qrb::SgdParams o;
  o.lr = 0.1;
  o.momentum = 0.9;
  o.weight_decay = 0.01;
  o.nesterov = true;
  o.first = true;
  QRB_CHECK(qrb::f32_sgd_step(p, g, buf, 1, o).ok);
  QRB_CHECK_EQ(buf[0], 0.51f);
  QRB_CHECK(std::fabs(p[0] - (1.0f - 0.1f * (0.51f + 0.9f * 0.51f))) < 1e-6f);
  qrb::SgdParams plain;
  plain.lr = 0.5;
  float q[2] = {1, 2}, gq[2] = {2, -2};
  QRB_CHECK(qrb::f32_sgd_step(q, gq, nullptr, 2, plain).ok);  // no momentum: no buffer needed
  QRB_CHECK_EQ(q[0], 0.0f);
  QRB_CHECK_EQ(q[1], 3.0f);
  QRB_CHECK(!qrb::f32_sgd_step(p, g, nullptr, 1, o).ok);  // momentum without a buffer
  o.lr = -1;
  QRB_CHECK(!qrb::f32_sgd_step(p, g, buf, 1, o).ok);
}

namespace {
// Every kernel of f32-bn-relu.cc on one input set; the outputs concatenated (bits compared).
std::vector<float> run_all_kernels(int64_t n, int64_t c, int64_t hw, uint64_t seed) {
  const int64_t len = n * c * hw;
  qrb::test::Rng rng(seed);
  std::vector<float> x(len), dy(len), gamma(c), beta(c);
  for (auto& v : x) v = float(int64_t(rng.next() % 2001) - 1000) / 300.0f;
  for (auto& v : dy) v = float(int64_t(rng.next() % 2001) - 1000) / 700.0f;
  for (auto& v : gamma) v = float(int64_t(rng.next() % 2001) - 1000) / 900.0f;
  for (auto& v : beta) v = float(int64_t(rng.next() % 2001) - 1000) / 900.0f;
  std::vector<float> mean(c), var(c), y(len), dx(len), dg(c), db(c), r(len), rb(len), sum(len);
  std::vector<float> p(x), buf(len, 0.5f);
  qrb::SgdParams o;
  o.lr = 0.05;
  o.momentum = 0.9;
  o.weight_decay = 5e-4;
  o.nesterov = true;
  bool ok = qrb::f32_bn_stats(n, c, hw, x.data(), len, mean.data(), var.data(), c).ok &&
            qrb::f32_bn_apply(n, c, hw, x.data(), len, mean.data(), var.data(), gamma.data(), beta.data(), c, 1e-5f,
                              y.data(), len).ok &&
            qrb::f32_bn_backward(n, c, hw, x.data(), dy.data(), len, mean.data(), var.data(), gamma.data(), c, 1e-5f,
                                 true, dx.data(), dg.data(), db.data()).ok &&
            qrb::f32_relu(y.data(), len, r.data(), len).ok &&
            qrb::f32_relu_backward(y.data(), dy.data(), len, rb.data(), len).ok &&
            qrb::f32_add(r.data(), dx.data(), len, sum.data(), len).ok &&
            qrb::f32_sgd_step(p.data(), dy.data(), buf.data(), len, o).ok;
  std::vector<float> out;
  if (!ok) return out;
  for (const auto* v : {&mean, &var, &y, &dx, &dg, &db, &r, &rb, &sum, &p, &buf}) out.insert(out.end(), v->begin(), v->end());
  return out;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return !a.empty() && a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// Sets OMP_NUM_THREADS (read by float_threads() on every call) for one scope.
struct OmpThreads {
  std::string prev;
  bool had;
  explicit OmpThreads(int t) : had(std::getenv("OMP_NUM_THREADS") != nullptr) {
    if (had) prev = std::getenv("OMP_NUM_THREADS");
    setenv("OMP_NUM_THREADS", std::to_string(t).c_str(), 1);
  }
  ~OmpThreads() {
    if (had) setenv("OMP_NUM_THREADS", prev.c_str(), 1);
    else unsetenv("OMP_NUM_THREADS");
  }
};
}  // namespace

// The kernels run on a shared thread team (native/kernels/float/parallel.h): 1, 2, 3, 5 and 8
// threads (more than this machine may have) give the same bits as one thread, over sizes around the
// elementwise split (65536 per thread) and channel counts below and above the thread count (small
// planes run batchnorm on one thread: min_channels_per_thread).
QRB_TEST(float_bn, thread_counts_give_the_same_bits) {
  struct Shape { int64_t n, c, hw; };
  for (Shape s : {Shape{1, 1, 1}, Shape{2, 3, 7}, Shape{3, 5, 1517}, Shape{4, 16, 1024}, Shape{2, 7, 65536 / 7 + 3}, Shape{2, 9, 40000}}) {
    std::vector<float> one;
    {
      OmpThreads t(1);
      one = run_all_kernels(s.n, s.c, s.hw, 77);
    }
    QRB_CHECK(!one.empty());
    for (int threads : {2, 3, 5, 8}) {
      OmpThreads t(threads);
      QRB_CHECK(same_bits(run_all_kernels(s.n, s.c, s.hw, 77), one));
    }
  }
}

// Two callers at once (Node worker threads, or a caller's own threads): each gets its own team and
// the results are those of a lone call. Under ASan + UBSan this also checks the team's start-up and
// reuse from several threads.
QRB_TEST(float_bn, concurrent_callers_give_the_same_bits) {
  OmpThreads t(2);
  const std::vector<float> lone = run_all_kernels(3, 6, 25000, 5);
  QRB_CHECK(!lone.empty());
  std::vector<std::vector<float>> got(3);
  std::vector<std::thread> callers;
  for (int i = 0; i < 3; ++i)
    callers.emplace_back([&got, i] {
      for (int rep = 0; rep < 3; ++rep) got[i] = run_all_kernels(3, 6, 25000, 5);
    });
  for (auto& th : callers) th.join();
  for (const auto& g : got) QRB_CHECK(same_bits(g, lone));
}
