// Float GEMM: every backend compiled into this binary (oneDNN, OpenBLAS) against the scalar twin,
// all transpositions, leading dimensions above the minimum, beta 0 and 0.5; and the validating entry
// point against bad arguments. Without the libraries (aarch64 cross build) only the twin and the checks
// run. Tolerance: |got - want| <= 1e-4 + 1e-4 * |want|.
#include <cmath>
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

}  // namespace

QRB_TEST(float_gemm, backends_match_reference) {
  qrb::test::Rng rng(99);
  struct S { int64_t m, n, k; };
  const S shapes[] = {{1, 1, 1}, {3, 5, 7}, {17, 1, 33}, {64, 10, 576}, {128, 65, 31}, {2, 100, 3}};
  int compared = 0;
  for (qrb::FloatBackend be : {qrb::FloatBackend::dnnl, qrb::FloatBackend::openblas, qrb::FloatBackend::automatic}) {
    if (!qrb::float_backend_available(be)) continue;
    if (be == qrb::FloatBackend::automatic && qrb::float_gemm_backend() == qrb::FloatBackend::ref) continue;
    for (const auto& s : shapes)
      for (int ta = 0; ta < 2; ++ta)
        for (int tb = 0; tb < 2; ++tb)
          for (float beta : {0.0f, 0.5f}) {
            const int64_t lda = (ta ? s.m : s.k) + 3, ldb = (tb ? s.k : s.n) + 1, ldc = s.n + 2;
            auto a = randv(rng, size_t((ta ? s.k : s.m) * lda)), b = randv(rng, size_t((tb ? s.n : s.k) * ldb));
            auto c0 = randv(rng, size_t(s.m * ldc));
            auto c1 = c0;
            qrb::f32_gemm_ref(ta, tb, s.m, s.n, s.k, 0.75f, a.data(), lda, b.data(), ldb, beta, c0.data(), ldc);
            auto st = qrb::f32_gemm(ta, tb, s.m, s.n, s.k, 0.75f, a.data(), a.size(), lda, b.data(), b.size(), ldb,
                                    beta, c1.data(), c1.size(), ldc, be);
            QRB_CHECK(st.ok);
            double worst;
            QRB_CHECK(close(c1, c0, &worst));
            ++compared;
          }
  }
#if defined(QRB_HAVE_DNNL) || defined(QRB_HAVE_OPENBLAS)
  QRB_CHECK(compared > 0);
#endif
}

QRB_TEST(float_gemm, bad_arguments_are_errors) {
  std::vector<float> a(12), b(12), c(12);
  auto g = [&](int64_t m, int64_t n, int64_t k, int64_t lda, int64_t ldb, int64_t ldc, size_t al) {
    return qrb::f32_gemm(false, false, m, n, k, 1.0f, a.data(), al, lda, b.data(), b.size(), ldb, 0.0f, c.data(),
                         c.size(), ldc, qrb::FloatBackend::automatic);
  };
  QRB_CHECK(g(3, 4, 3, 3, 4, 4, 9).ok);
  QRB_CHECK(!g(3, 4, 3, 3, 4, 4, 8).ok);   // a too short
  QRB_CHECK(!g(3, 4, 3, 2, 4, 4, 12).ok);  // lda < k
  QRB_CHECK(!g(0, 4, 3, 3, 4, 4, 12).ok);
  QRB_CHECK(!g(3, 4, 5, 5, 4, 4, 12).ok);  // b too short for k = 5
  QRB_CHECK(!g(3, 5, 3, 3, 5, 5, 12).ok);  // c too short
}

QRB_TEST(float_gemm, hand_computed_example) {
  // [1 2; 3 4] * [5 6; 7 8] = [19 22; 43 50]; with transA: [1 3; 2 4] * B = [26 30; 38 44].
  const float a[4] = {1, 2, 3, 4}, b[4] = {5, 6, 7, 8};
  float c[4] = {NAN, NAN, NAN, NAN};
  QRB_CHECK(qrb::f32_gemm(false, false, 2, 2, 2, 1.0f, a, 4, 2, b, 4, 2, 0.0f, c, 4, 2, qrb::FloatBackend::automatic).ok);
  QRB_CHECK_EQ(c[0], 19.0f);
  QRB_CHECK_EQ(c[3], 50.0f);
  QRB_CHECK(qrb::f32_gemm(true, false, 2, 2, 2, 1.0f, a, 4, 2, b, 4, 2, 0.0f, c, 4, 2, qrb::FloatBackend::ref).ok);
  QRB_CHECK_EQ(c[0], 26.0f);
  QRB_CHECK_EQ(c[3], 44.0f);
  // beta = 1 accumulates: C += A*B
  QRB_CHECK(qrb::f32_gemm(false, false, 2, 2, 2, 1.0f, a, 4, 2, b, 4, 2, 1.0f, c, 4, 2, qrb::FloatBackend::ref).ok);
  QRB_CHECK_EQ(c[0], 26.0f + 19.0f);
}
