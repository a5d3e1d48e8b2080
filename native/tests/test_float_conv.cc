// Float convolution: every backend compiled into this binary (oneDNN) against the
// scalar twin, over awkward shapes (odd sizes, stride 2, padding, dilation, groups, depthwise), and
// the validating entry points against bad arguments. Without oneDNN (aarch64 cross build) only the
// twin and the checks run. Tolerance: |got - want| <= 1e-4 + 1e-4 * |want| (float32 accumulation
// order vs the twin's double accumulation, sums of <= a few hundred O(1) products).
#include <cmath>
#include <cstdio>
#include <vector>

#include "harness.h"
#include "qrb/float.h"

namespace {

std::vector<float> randv(qrb::test::Rng& r, size_t n) {
  std::vector<float> v(n);
  for (auto& x : v) x = float(int64_t(r.next() % 20001) - 10000) / 10000.0f;
  return v;
}

bool close(const std::vector<float>& got, const std::vector<float>& want, double* worst) {
  *worst = 0;
  bool ok = got.size() == want.size();
  for (size_t i = 0; ok && i < got.size(); ++i) {
    const double d = std::fabs(double(got[i]) - double(want[i]));
    if (d > *worst) *worst = d;
    if (!(d <= 1e-4 + 1e-4 * std::fabs(double(want[i])))) ok = false;
  }
  return ok;
}

qrb::Conv2dParams P(int64_t n, int64_t cin, int64_t h, int64_t w, int64_t cout, int64_t kh, int64_t kw, int64_t s,
                    int64_t pad, int64_t dil, int64_t g) {
  qrb::Conv2dParams p;
  p.n = n; p.cin = cin; p.h = h; p.w = w; p.cout = cout; p.kh = kh; p.kw = kw;
  p.stride_h = p.stride_w = s; p.pad_h = p.pad_w = pad; p.dil_h = p.dil_w = dil; p.groups = g;
  return p;
}

const qrb::Conv2dParams kShapes[] = {
    P(1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1),   P(2, 3, 7, 5, 4, 3, 3, 1, 1, 1, 1),  P(3, 4, 9, 9, 6, 3, 3, 2, 1, 1, 2),
    P(2, 6, 8, 7, 6, 3, 3, 1, 1, 1, 6),   P(1, 5, 11, 13, 7, 3, 2, 2, 2, 2, 1), P(2, 8, 6, 6, 8, 1, 1, 2, 0, 1, 1),
    P(1, 4, 10, 10, 8, 5, 5, 3, 2, 1, 4), P(2, 3, 2, 2, 2, 1, 1, 2, 0, 1, 1),  P(1, 16, 12, 12, 16, 3, 3, 2, 1, 1, 16),
    P(4, 16, 16, 16, 32, 3, 3, 1, 1, 1, 1),
};

}  // namespace

QRB_TEST(float_conv, backends_match_reference) {
  qrb::test::Rng rng(77);
  int compared = 0;
  for (qrb::FloatBackend be : {qrb::FloatBackend::dnnl, qrb::FloatBackend::automatic}) {
    if (!qrb::float_backend_available(be)) continue;
    // `automatic` resolving to the twin would compare the twin with itself.
    if (be == qrb::FloatBackend::automatic && qrb::float_conv_backend() == qrb::FloatBackend::ref) continue;
    for (const auto& p : kShapes) {
      QRB_CHECK(qrb::conv2d_check(p).ok);
      auto x = randv(rng, p.x_size()), w = randv(rng, p.w_size()), b = randv(rng, size_t(p.cout));
      auto dy = randv(rng, p.y_size());
      std::vector<float> y0(p.y_size()), y1(p.y_size(), NAN), dx0(p.x_size()), dx1(p.x_size(), NAN);
      std::vector<float> dw0(p.w_size()), dw1(p.w_size(), NAN), db0(size_t(p.cout)), db1(size_t(p.cout), NAN);
      qrb::f32_conv2d_fwd_ref(p, x.data(), w.data(), b.data(), y0.data());
      qrb::f32_conv2d_bwd_data_ref(p, dy.data(), w.data(), dx0.data());
      qrb::f32_conv2d_bwd_weights_ref(p, x.data(), dy.data(), dw0.data(), db0.data());
      auto s1 = qrb::f32_conv2d_fwd(p, x.data(), x.size(), w.data(), w.size(), b.data(), b.size(), y1.data(),
                                    y1.size(), be);
      auto s2 = qrb::f32_conv2d_bwd_data(p, dy.data(), dy.size(), w.data(), w.size(), dx1.data(), dx1.size(), be);
      auto s3 = qrb::f32_conv2d_bwd_weights(p, x.data(), x.size(), dy.data(), dy.size(), dw1.data(), dw1.size(),
                                            db1.data(), db1.size(), be);
      if (!s1.ok || !s2.ok || !s3.ok)
        std::fprintf(stderr, "  %s: %s %s %s\n", qrb::float_backend_name(be), s1.message.c_str(),
                     s2.message.c_str(), s3.message.c_str());
      QRB_CHECK(s1.ok && s2.ok && s3.ok);
      double e1, e2, e3, e4;
      QRB_CHECK(close(y1, y0, &e1));
      QRB_CHECK(close(dx1, dx0, &e2));
      QRB_CHECK(close(dw1, dw0, &e3));
      QRB_CHECK(close(db1, db0, &e4));
      ++compared;
    }
  }
#ifdef QRB_HAVE_DNNL
  QRB_CHECK(compared == 2 * int(sizeof(kShapes) / sizeof(kShapes[0])));
#endif
}

QRB_TEST(float_conv, ref_backend_is_the_twin) {
  qrb::test::Rng rng(5);
  const auto p = kShapes[2];
  auto x = randv(rng, p.x_size()), w = randv(rng, p.w_size());
  std::vector<float> y0(p.y_size()), y1(p.y_size());
  qrb::f32_conv2d_fwd_ref(p, x.data(), w.data(), nullptr, y0.data());
  QRB_CHECK(qrb::f32_conv2d_fwd(p, x.data(), x.size(), w.data(), w.size(), nullptr, 0, y1.data(), y1.size(),
                                qrb::FloatBackend::ref).ok);
  QRB_CHECK(y0 == y1);
}

QRB_TEST(float_conv, hand_computed_example) {
  // 1x1x3x3 input 1..9, 2x2 kernel of ones, stride 1, pad 0: sums of each 2x2 window.
  const float x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, w[4] = {1, 1, 1, 1};
  float y[4];
  auto p = P(1, 1, 3, 3, 1, 2, 2, 1, 0, 1, 1);
  QRB_CHECK(qrb::f32_conv2d_fwd(p, x, 9, w, 4, nullptr, 0, y, 4, qrb::FloatBackend::automatic).ok);
  QRB_CHECK_EQ(y[0], 12.0f);
  QRB_CHECK_EQ(y[1], 16.0f);
  QRB_CHECK_EQ(y[2], 24.0f);
  QRB_CHECK_EQ(y[3], 28.0f);
}

QRB_TEST(float_conv, bad_arguments_are_errors) {
  std::vector<float> buf(4096);
  auto p = P(1, 4, 5, 5, 6, 3, 3, 1, 1, 1, 1);
  auto fwd = [&](const qrb::Conv2dParams& q, size_t xl, size_t wl, size_t yl) {
    return qrb::f32_conv2d_fwd(q, buf.data(), xl, buf.data(), wl, nullptr, 0, buf.data(), yl,
                               qrb::FloatBackend::automatic);
  };
  QRB_CHECK(fwd(p, p.x_size(), p.w_size(), p.y_size()).ok);
  QRB_CHECK(!fwd(p, p.x_size() - 1, p.w_size(), p.y_size()).ok);
  QRB_CHECK(!fwd(p, p.x_size(), p.w_size() + 1, p.y_size()).ok);
  QRB_CHECK(!fwd(p, p.x_size(), p.w_size(), p.y_size() - 1).ok);
  auto q = p; q.groups = 3;  // 4 % 3 != 0
  QRB_CHECK(!qrb::conv2d_check(q).ok);
  q = p; q.kh = 9; q.pad_h = 0;  // kernel larger than the input
  QRB_CHECK(!qrb::conv2d_check(q).ok);
  q = p; q.stride_w = 0;
  QRB_CHECK(!qrb::conv2d_check(q).ok);
  q = p; q.pad_h = -1;
  QRB_CHECK(!qrb::conv2d_check(q).ok);
  q = p; q.n = int64_t(1) << 40;
  QRB_CHECK(!qrb::conv2d_check(q).ok);
  QRB_CHECK(!qrb::f32_conv2d_fwd(p, nullptr, p.x_size(), buf.data(), p.w_size(), nullptr, 0, buf.data(), p.y_size(),
                                 qrb::FloatBackend::automatic).ok);
  QRB_CHECK(!qrb::f32_conv2d_fwd(p, buf.data(), p.x_size(), buf.data(), p.w_size(), nullptr, 0, buf.data(),
                                 p.y_size(), qrb::FloatBackend::openblas).ok);
  auto e = qrb::f32_conv2d_bwd_weights(p, buf.data(), p.x_size(), buf.data(), p.y_size(), buf.data(), p.w_size(),
                                       buf.data(), 5, qrb::FloatBackend::automatic);
  QRB_CHECK(!e.ok);
  QRB_CHECK(e.message.find("db") != std::string::npos);
}


QRB_TEST(float_conv, twins_are_adjoint) {
  // <conv(x, w), dy> = <x, bwd_data(dy, w)> = <w, bwd_weights(x, dy)>: the three twins agree with
  // each other on every shape, whatever backend exists (this is what runs on the aarch64 build).
  qrb::test::Rng rng(3);
  for (const auto& p : kShapes) {
    if (p.x_size() > 5000) continue;
    auto x = randv(rng, p.x_size()), w = randv(rng, p.w_size()), dy = randv(rng, p.y_size());
    std::vector<float> y(p.y_size()), dx(p.x_size()), dw(p.w_size());
    qrb::f32_conv2d_fwd_ref(p, x.data(), w.data(), nullptr, y.data());
    qrb::f32_conv2d_bwd_data_ref(p, dy.data(), w.data(), dx.data());
    qrb::f32_conv2d_bwd_weights_ref(p, x.data(), dy.data(), dw.data(), nullptr);
    double a = 0, b = 0, c = 0;
    for (size_t i = 0; i < y.size(); ++i) a += double(y[i]) * dy[i];
    for (size_t i = 0; i < x.size(); ++i) b += double(x[i]) * dx[i];
    for (size_t i = 0; i < w.size(); ++i) c += double(w[i]) * dw[i];
    QRB_CHECK(std::fabs(a - b) <= 1e-4 * (1 + std::fabs(a)));
    QRB_CHECK(std::fabs(a - c) <= 1e-4 * (1 + std::fabs(a)));
  }
}

#if defined(QRB_HAVE_DNNL) && defined(__unix__)
#include <csignal>
#include <cstring>
#include <sys/time.h>

namespace {
volatile std::sig_atomic_t g_prof_hits = 0;
void on_prof(int) { g_prof_hits = g_prof_hits + 1; }
}  // namespace

QRB_TEST(float_conv, survives_async_signals) {
  // oneDNN 2.6 corrupted the heap when a signal handler ran inside a convolution (node --cpu-prof,
  // or this SIGPROF timer); the library paths now block asynchronous signals for the call.
  struct sigaction sa, old_sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_prof;
  sa.sa_flags = SA_RESTART;
  sigaction(SIGPROF, &sa, &old_sa);
  itimerval t{}, old_t{};
  t.it_interval.tv_usec = 500;
  t.it_value.tv_usec = 500;
  setitimer(ITIMER_PROF, &t, &old_t);
  auto p = P(2, 16, 24, 24, 16, 3, 3, 1, 1, 1, 1);
  qrb::test::Rng rng(8);
  auto x = randv(rng, p.x_size()), w = randv(rng, p.w_size());
  std::vector<float> y0(p.y_size()), y(p.y_size()), dw(p.w_size());
  qrb::f32_conv2d_fwd_ref(p, x.data(), w.data(), nullptr, y0.data());
  bool ok = true;
  for (int i = 0; i < 200 && ok; ++i) {
    std::vector<float> churn(500 + size_t(i));  // keep malloc's lists busy
    ok = qrb::f32_conv2d_fwd(p, x.data(), x.size(), w.data(), w.size(), nullptr, 0, y.data(), y.size(),
                             qrb::FloatBackend::dnnl).ok &&
         qrb::f32_conv2d_bwd_weights(p, x.data(), x.size(), y.data(), y.size(), dw.data(), dw.size(), nullptr, 0,
                                     qrb::FloatBackend::dnnl).ok;
    double worst;
    ok = ok && close(y, y0, &worst);
  }
  setitimer(ITIMER_PROF, &old_t, nullptr);
  sigaction(SIGPROF, &old_sa, nullptr);
  QRB_CHECK(ok);
}
#endif

QRB_TEST(float_conv, reused_workspace_with_nan_garbage) {
  // The oneDNN path reuses its blocked-layout buffers from call to call. Poison them: a large call
  // on NaN data leaves NaN in every slot; then shapes whose channels pad the 16-blocks (3, 5, 7) and
  // the combined backward must still equal the twin (padding is zeroed by the library, not assumed).
  if (!qrb::float_backend_available(qrb::FloatBackend::dnnl)) return;
  qrb::test::Rng rng(91);
  const auto big = P(4, 16, 16, 16, 32, 3, 3, 1, 1, 1, 1);
  std::vector<float> bx(big.x_size(), NAN), bw(big.w_size(), NAN), by(big.y_size()), bdx(big.x_size()), bdw(big.w_size());
  for (const auto& p : {P(2, 3, 7, 5, 5, 3, 3, 1, 1, 1, 1), P(1, 5, 11, 13, 7, 3, 2, 2, 2, 2, 1), P(3, 4, 9, 9, 6, 3, 3, 2, 1, 1, 2)}) {
    QRB_CHECK(qrb::f32_conv2d_fwd(big, bx.data(), bx.size(), bw.data(), bw.size(), nullptr, 0, by.data(), by.size(),
                                  qrb::FloatBackend::dnnl).ok);
    QRB_CHECK(qrb::f32_conv2d_bwd(big, bx.data(), bx.size(), by.data(), by.size(), bw.data(), bw.size(), bdx.data(),
                                  bdx.size(), bdw.data(), bdw.size(), nullptr, 0, qrb::FloatBackend::dnnl).ok);
    auto x = randv(rng, p.x_size()), w = randv(rng, p.w_size()), b = randv(rng, size_t(p.cout));
    auto dy = randv(rng, p.y_size());
    std::vector<float> y0(p.y_size()), y1(p.y_size()), dx0(p.x_size()), dx1(p.x_size()), dw0(p.w_size()),
        dw1(p.w_size()), db0(size_t(p.cout)), db1(size_t(p.cout));
    qrb::f32_conv2d_fwd_ref(p, x.data(), w.data(), b.data(), y0.data());
    qrb::f32_conv2d_bwd_data_ref(p, dy.data(), w.data(), dx0.data());
    qrb::f32_conv2d_bwd_weights_ref(p, x.data(), dy.data(), dw0.data(), db0.data());
    QRB_CHECK(qrb::f32_conv2d_fwd(p, x.data(), x.size(), w.data(), w.size(), b.data(), b.size(), y1.data(), y1.size(),
                                  qrb::FloatBackend::dnnl).ok);
    QRB_CHECK(qrb::f32_conv2d_fwd(big, bx.data(), bx.size(), bw.data(), bw.size(), nullptr, 0, by.data(), by.size(),
                                  qrb::FloatBackend::dnnl).ok);
    QRB_CHECK(qrb::f32_conv2d_bwd(p, x.data(), x.size(), dy.data(), dy.size(), w.data(), w.size(), dx1.data(),
                                  dx1.size(), dw1.data(), dw1.size(), db1.data(), db1.size(), qrb::FloatBackend::dnnl).ok);
    double e;
    QRB_CHECK(close(y1, y0, &e));
    QRB_CHECK(close(dx1, dx0, &e));
    QRB_CHECK(close(dw1, dw0, &e));
    QRB_CHECK(close(db1, db0, &e));
  }
  // db without dw is refused; nothing asked is a no-op
  const auto p = kShapes[1];
  std::vector<float> x(p.x_size()), dy(p.y_size()), w(p.w_size()), db(size_t(p.cout));
  QRB_CHECK(!qrb::f32_conv2d_bwd(p, x.data(), x.size(), dy.data(), dy.size(), w.data(), w.size(), nullptr, 0, nullptr,
                                 0, db.data(), db.size(), qrb::FloatBackend::automatic).ok);
  QRB_CHECK(qrb::f32_conv2d_bwd(p, x.data(), x.size(), dy.data(), dy.size(), w.data(), w.size(), nullptr, 0, nullptr,
                                0, nullptr, 0, qrb::FloatBackend::automatic).ok);
}
