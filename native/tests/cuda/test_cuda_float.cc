// float32 GEMM / convolution on the GPU against the CPU engine's scalar twins (qrb/float.h *_ref, double
// accumulation), and one SGD training step of a small conv net computed end to end on the device against the same
// step on the twins. Bound: |gpu - ref| <= 2e-4 + 2e-4 |ref| per element (float32 vs double accumulation).
#include <cmath>
#include <string>
#include <vector>

#include "cuda_test_util.h"

using namespace qrb;
using qrb::test::Rng;

namespace {

std::vector<float> randv(Rng& r, size_t n, double scale = 1.0) {
  std::vector<float> v(n);
  for (auto& x : v) x = float(scale * (double(r.range(-100000, 100000)) / 100000.0));
  return v;
}

// Max of |a - b| / (tol_abs + tol_rel |b|); <= 1 passes.
double worst(const std::vector<float>& a, const std::vector<float>& b, double ta = 2e-4, double tr = 2e-4) {
  double w = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double e = std::fabs(double(a[i]) - double(b[i])) / (ta + tr * std::fabs(double(b[i])));
    if (!(e <= w)) w = std::isnan(e) ? 1e30 : e;
  }
  return w;
}

struct Dev {
  cuda::DeviceBuffer b;
  Status put(const std::vector<float>& v) {
    Status s = b.alloc(v.size() * 4);
    if (!s.ok) return s;
    return b.upload(v.data(), v.size() * 4);
  }
  Status zeros(size_t n) {
    Status s = b.alloc(n * 4);
    if (!s.ok) return s;
    return b.fill_byte(0);
  }
  std::vector<float> get(size_t n) const {
    std::vector<float> v(n);
    b.download(v.data(), n * 4);
    return v;
  }
  float* p() const { return b.as<float>(); }
};

}  // namespace

QRB_TEST(cuda_float, gemm_equals_twin) {
  QRB_CUDA_REQUIRE_DEVICE();
  const int64_t shapes[][3] = {{1, 1, 1}, {7, 5, 3}, {33, 17, 129}, {128, 128, 8}, {130, 257, 65}, {16, 20, 5000}, {300, 200, 1100}};
  Rng r(14101);
  double w_all = 0;
  int cases = 0;
  for (auto& s : shapes) {
    const int64_t m = s[0], n = s[1], k = s[2];
    for (int t = 0; t < 4; ++t) {
      const bool ta = t & 1, tb = t & 2;
      const int64_t lda = (ta ? m : k) + (t == 3 ? 3 : 0), ldb = (tb ? k : n) + 1, ldc = n + (t == 1 ? 2 : 0);
      const auto a = randv(r, size_t(((ta ? k : m) - 1) * lda + (ta ? m : k)));
      const auto b = randv(r, size_t(((tb ? n : k) - 1) * ldb + (tb ? k : n)));
      for (float beta : {0.0f, 0.5f}) {
        auto c = randv(r, size_t((m - 1) * ldc + n));
        auto ref = c;
        f32_gemm_ref(ta, tb, m, n, k, 1.25f, a.data(), lda, b.data(), ldb, beta, ref.data(), ldc);
        QRB_CHECK_OK(cuda::f32_gemm(ta, tb, m, n, k, 1.25f, a.data(), a.size(), lda, b.data(), b.size(), ldb, beta,
                                    c.data(), c.size(), ldc));
        const double w = worst(c, ref, 2e-4 * std::sqrt(double(k)), 2e-4);
        if (w > 1) std::fprintf(stderr, "  gemm %lldx%lldx%lld t%d beta %g: worst %g\n", (long long)m, (long long)n, (long long)k, t, beta, w);
        QRB_CHECK(w <= 1);
        w_all = std::max(w_all, w);
        ++cases;
      }
    }
  }
  std::printf("  %d GEMM cases within bound (worst ratio %.3g)\n", cases, w_all);
}

QRB_TEST(cuda_float, conv_fwd_bwd_equal_twins) {
  QRB_CUDA_REQUIRE_DEVICE();
  struct S {
    int64_t n, cin, h, w, cout, kh, kw, sh, sw, ph, pw, dh, dw, g;
  };
  const S shapes[] = {{1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1},   {2, 3, 7, 9, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1},
                      {1, 4, 11, 13, 6, 3, 5, 2, 3, 1, 2, 1, 1, 2}, {2, 8, 10, 10, 8, 3, 3, 1, 1, 1, 1, 1, 1, 8},
                      {1, 6, 12, 12, 9, 3, 3, 1, 1, 2, 2, 2, 2, 3}, {3, 16, 9, 9, 32, 1, 1, 2, 2, 0, 0, 1, 1, 1},
                      {2, 64, 14, 14, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1}};
  Rng r(14102);
  double wf = 0, wd = 0, ww = 0, wb = 0;
  for (const S& s : shapes) {
    Conv2dParams p;
    p.n = s.n, p.cin = s.cin, p.h = s.h, p.w = s.w, p.cout = s.cout, p.kh = s.kh, p.kw = s.kw;
    p.stride_h = s.sh, p.stride_w = s.sw, p.pad_h = s.ph, p.pad_w = s.pw, p.dil_h = s.dh, p.dil_w = s.dw, p.groups = s.g;
    QRB_CHECK_OK(conv2d_check(p));
    const auto x = randv(r, p.x_size()), w = randv(r, p.w_size()), b = randv(r, size_t(p.cout)), dy = randv(r, p.y_size());
    std::vector<float> y(p.y_size()), yr(p.y_size()), dx(p.x_size()), dxr(p.x_size()), dw(p.w_size()), dwr(p.w_size()),
        db(size_t(p.cout)), dbr(size_t(p.cout));
    f32_conv2d_fwd_ref(p, x.data(), w.data(), b.data(), yr.data());
    f32_conv2d_bwd_data_ref(p, dy.data(), w.data(), dxr.data());
    f32_conv2d_bwd_weights_ref(p, x.data(), dy.data(), dwr.data(), dbr.data());
    QRB_CHECK_OK(cuda::f32_conv2d_fwd(p, x.data(), x.size(), w.data(), w.size(), b.data(), b.size(), y.data(), y.size()));
    QRB_CHECK_OK(cuda::f32_conv2d_bwd_data(p, dy.data(), dy.size(), w.data(), w.size(), dx.data(), dx.size()));
    QRB_CHECK_OK(cuda::f32_conv2d_bwd_weights(p, x.data(), x.size(), dy.data(), dy.size(), dw.data(), dw.size(),
                                              db.data(), db.size()));
    const double red = std::sqrt(double(p.n * p.oh() * p.ow()));  // bwd-weights reduction length scale
    wf = std::max(wf, worst(y, yr));
    wd = std::max(wd, worst(dx, dxr));
    ww = std::max(ww, worst(dw, dwr, 2e-4 * red, 2e-4));
    wb = std::max(wb, worst(db, dbr, 2e-4 * red, 2e-4));
  }
  std::printf("  conv worst ratios: fwd %.3g bwd-data %.3g bwd-weights %.3g bias %.3g\n", wf, wd, ww, wb);
  QRB_CHECK(wf <= 1);
  QRB_CHECK(wd <= 1);
  QRB_CHECK(ww <= 1);
  QRB_CHECK(wb <= 1);
}

// One SGD step of conv(3->8, 3x3, pad 1) + bias -> ReLU -> conv(8->4, 3x3, stride 2, pad 1, groups 2) + bias with
// loss 0.5 * sum((y - t)^2), all on the device (tensors stay resident between ops), against the same step on the
// CPU twins; then the loss after the step must have dropped on both and agree.
QRB_TEST(cuda_float, training_step_matches_twins) {
  QRB_CUDA_REQUIRE_DEVICE();
  Rng r(14103);
  Conv2dParams p1, p2;
  p1.n = 4, p1.cin = 3, p1.h = 12, p1.w = 12, p1.cout = 8, p1.kh = 3, p1.kw = 3, p1.pad_h = 1, p1.pad_w = 1;
  p2.n = 4, p2.cin = 8, p2.h = 12, p2.w = 12, p2.cout = 4, p2.kh = 3, p2.kw = 3, p2.pad_h = 1, p2.pad_w = 1;
  p2.stride_h = 2, p2.stride_w = 2, p2.groups = 2;
  const float lr = 0.01f;
  auto x = randv(r, p1.x_size()), w1 = randv(r, p1.w_size(), 0.3), b1 = randv(r, 8, 0.1), w2 = randv(r, p2.w_size(), 0.3),
       b2 = randv(r, 4, 0.1), t = randv(r, p2.y_size());

  // ---- CPU twins
  auto cpu_forward = [&](const std::vector<float>& W1, const std::vector<float>& B1, const std::vector<float>& W2,
                         const std::vector<float>& B2, std::vector<float>* h, std::vector<float>* a,
                         std::vector<float>* y) {
    h->assign(p1.y_size(), 0);
    a->assign(p1.y_size(), 0);
    y->assign(p2.y_size(), 0);
    f32_conv2d_fwd_ref(p1, x.data(), W1.data(), B1.data(), h->data());
    for (size_t i = 0; i < h->size(); ++i) (*a)[i] = (*h)[i] > 0 ? (*h)[i] : 0;
    f32_conv2d_fwd_ref(p2, a->data(), W2.data(), B2.data(), y->data());
    double loss = 0;
    for (size_t i = 0; i < y->size(); ++i) loss += 0.5 * double((*y)[i] - t[i]) * double((*y)[i] - t[i]);
    return loss;
  };
  std::vector<float> h, a, y;
  const double loss0 = cpu_forward(w1, b1, w2, b2, &h, &a, &y);
  std::vector<float> dy(y.size()), da(a.size()), dh(h.size()), gw1(w1.size()), gb1(8), gw2(w2.size()), gb2(4);
  for (size_t i = 0; i < y.size(); ++i) dy[i] = y[i] - t[i];
  f32_conv2d_bwd_weights_ref(p2, a.data(), dy.data(), gw2.data(), gb2.data());
  f32_conv2d_bwd_data_ref(p2, dy.data(), w2.data(), da.data());
  for (size_t i = 0; i < h.size(); ++i) dh[i] = h[i] > 0 ? da[i] : 0;
  f32_conv2d_bwd_weights_ref(p1, x.data(), dh.data(), gw1.data(), gb1.data());
  auto sgd = [&](std::vector<float>& w, const std::vector<float>& g) {
    for (size_t i = 0; i < w.size(); ++i) w[i] = w[i] - lr * g[i];
  };
  auto cw1 = w1, cb1 = b1, cw2 = w2, cb2 = b2;
  sgd(cw1, gw1), sgd(cb1, gb1), sgd(cw2, gw2), sgd(cb2, gb2);
  const double loss1 = cpu_forward(cw1, cb1, cw2, cb2, &h, &a, &y);

  // ---- GPU, resident
  Dev X, W1, B1, W2, B2, T, H, A, Y, DY, DA, DH, GW1, GB1, GW2, GB2;
  QRB_CHECK_OK(X.put(x));
  QRB_CHECK_OK(W1.put(w1));
  QRB_CHECK_OK(B1.put(b1));
  QRB_CHECK_OK(W2.put(w2));
  QRB_CHECK_OK(B2.put(b2));
  QRB_CHECK_OK(H.zeros(p1.y_size()));
  QRB_CHECK_OK(A.zeros(p1.y_size()));
  QRB_CHECK_OK(Y.zeros(p2.y_size()));
  QRB_CHECK_OK(DY.zeros(p2.y_size()));
  QRB_CHECK_OK(DA.zeros(p1.y_size()));
  QRB_CHECK_OK(DH.zeros(p1.y_size()));
  QRB_CHECK_OK(GW1.zeros(w1.size()));
  QRB_CHECK_OK(GB1.zeros(8));
  QRB_CHECK_OK(GW2.zeros(w2.size()));
  QRB_CHECK_OK(GB2.zeros(4));
  auto gpu_forward = [&]() -> Status {
    QRB_CU_TRY_T(cuda::f32_conv2d_fwd_device(p1, X.p(), W1.p(), B1.p(), H.p()));
    QRB_CU_TRY_T(cuda::f32_relu_device(H.p(), int64_t(p1.y_size()), A.p()));
    QRB_CU_TRY_T(cuda::f32_conv2d_fwd_device(p2, A.p(), W2.p(), B2.p(), Y.p()));
    return cuda::synchronize();
  };
  QRB_CHECK_OK(gpu_forward());
  auto yg = Y.get(p2.y_size());
  double gl0 = 0;
  std::vector<float> dyg(yg.size());
  for (size_t i = 0; i < yg.size(); ++i) {
    gl0 += 0.5 * double(yg[i] - t[i]) * double(yg[i] - t[i]);
    dyg[i] = yg[i] - t[i];
  }
  QRB_CHECK_OK(DY.b.upload(dyg.data(), dyg.size() * 4));  // the loss gradient (host-computed, 128 values)
  QRB_CHECK_OK(cuda::f32_conv2d_bwd_weights_device(p2, A.p(), DY.p(), GW2.p(), GB2.p()));
  QRB_CHECK_OK(cuda::f32_conv2d_bwd_data_device(p2, DY.p(), W2.p(), DA.p()));
  QRB_CHECK_OK(cuda::f32_relu_backward_device(H.p(), DA.p(), int64_t(p1.y_size()), DH.p()));
  QRB_CHECK_OK(cuda::f32_conv2d_bwd_weights_device(p1, X.p(), DH.p(), GW1.p(), GB1.p()));
  QRB_CHECK_OK(cuda::f32_sgd_device(W1.p(), GW1.p(), int64_t(w1.size()), lr));
  QRB_CHECK_OK(cuda::f32_sgd_device(B1.p(), GB1.p(), 8, lr));
  QRB_CHECK_OK(cuda::f32_sgd_device(W2.p(), GW2.p(), int64_t(w2.size()), lr));
  QRB_CHECK_OK(cuda::f32_sgd_device(B2.p(), GB2.p(), 4, lr));
  QRB_CHECK_OK(gpu_forward());
  yg = Y.get(p2.y_size());
  double gl1 = 0;
  for (size_t i = 0; i < yg.size(); ++i) gl1 += 0.5 * double(yg[i] - t[i]) * double(yg[i] - t[i]);

  const double e_w1 = worst(W1.get(w1.size()), cw1), e_w2 = worst(W2.get(w2.size()), cw2);
  const double e_b1 = worst(B1.get(8), cb1), e_b2 = worst(B2.get(4), cb2);
  const double e_g1 = worst(GW1.get(w1.size()), gw1, 1e-3, 1e-3), e_g2 = worst(GW2.get(w2.size()), gw2, 1e-3, 1e-3);
  std::printf("  loss cpu %.6f -> %.6f, gpu %.6f -> %.6f; worst ratios w1 %.3g b1 %.3g w2 %.3g b2 %.3g gw1 %.3g gw2 %.3g\n",
              loss0, loss1, gl0, gl1, e_w1, e_b1, e_w2, e_b2, e_g1, e_g2);
  QRB_CHECK(loss1 < loss0);
  QRB_CHECK(gl1 < gl0);
  QRB_CHECK(std::fabs(gl0 - loss0) <= 1e-4 * loss0);
  QRB_CHECK(std::fabs(gl1 - loss1) <= 1e-4 * loss1);
  QRB_CHECK(e_w1 <= 1 && e_w2 <= 1 && e_b1 <= 1 && e_b2 <= 1 && e_g1 <= 1 && e_g2 <= 1);
}
