// Library paths of the float GEMM: dnnl_sgemm (QRB_HAVE_DNNL) and cblas_sgemm (QRB_HAVE_OPENBLAS).
// Both are row-major here. Without the library a path returns an error Status and the dispatcher
// (f32-dispatch.cc) uses the scalar twin native/kernels/ref/f32-gemm-ref.cc.
// Threads: oneDNN's OpenMP pool / OpenBLAS's pthread pool (default = cores).
// Test: native/tests/test_float_gemm.cc; test/parity/float-native.test.ts.
#include "qrb/float.h"

#ifdef QRB_HAVE_DNNL
#include <oneapi/dnnl/dnnl.h>

#include "qrb/float-signals.h"
#endif

#ifdef QRB_HAVE_OPENBLAS
// Declared here rather than through <cblas.h>: Debian ships several cblas.h (reference, openblas) and
// the enums are plain ints in the ABI.
extern "C" void cblas_sgemm(int order, int trans_a, int trans_b, int m, int n, int k, float alpha, const float* a,
                            int lda, const float* b, int ldb, float beta, float* c, int ldc);
#endif

namespace qrb {

Status f32_gemm_dnnl(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                     int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
#ifdef QRB_HAVE_DNNL
  AsyncSignalsBlocked guard;  // see f32-conv2d-dnnl.cc
  dnnl_status_t st = dnnl_sgemm(trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  if (st != dnnl_success) return Status::Error("f32_gemm_dnnl: dnnl_sgemm failed with status " + std::to_string(int(st)));
  return Status::Ok();
#else
  return Status::Error("f32_gemm_dnnl: oneDNN is not compiled into this build (apt: libdnnl-dev)");
#endif
}

Status f32_gemm_openblas(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                         int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
#ifdef QRB_HAVE_OPENBLAS
  const int64_t lim = 2147483647;
  if (m > lim || n > lim || k > lim || lda > lim || ldb > lim || ldc > lim)
    return Status::Error("f32_gemm_openblas: a dimension exceeds OpenBLAS's 32-bit int");
  cblas_sgemm(101 /*RowMajor*/, trans_a ? 112 : 111, trans_b ? 112 : 111, int(m), int(n), int(k), alpha, a, int(lda),
              b, int(ldb), beta, c, int(ldc));
  return Status::Ok();
#else
  return Status::Error("f32_gemm_openblas: OpenBLAS is not compiled into this build (apt: libopenblas-dev)");
#endif
}

}  // namespace qrb
