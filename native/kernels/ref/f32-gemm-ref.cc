// Scalar reference twin of the float GEMM (row-major, BLAS semantics: beta == 0 ignores C's contents,
// so NaN garbage in C never leaks). Accumulates in double.
// Variants: native/kernels/float/f32-gemm-dnnl.cc (dnnl_sgemm), f32-gemm-openblas.cc (cblas_sgemm).
// Test: native/tests/test_float_gemm.cc, test/parity/float-native.test.ts.
#include "qrb/float.h"

namespace qrb {

void f32_gemm_ref(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                  int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double s = 0.0;
      for (int64_t t = 0; t < k; ++t) {
        const double av = trans_a ? a[t * lda + i] : a[i * lda + t];
        const double bv = trans_b ? b[j * ldb + t] : b[t * ldb + j];
        s += av * bv;
      }
      const double prev = beta == 0.0f ? 0.0 : double(beta) * double(c[i * ldc + j]);
      c[i * ldc + j] = float(double(alpha) * s + prev);
    }
}

}  // namespace qrb
