// s8_gemm_4x16_scalar: the portable member of the fast int8 GEMM family (issue 5). Plain C++, any CPU.
// It exists so that dispatch always has a kernel that runs through the same driver (offsets, zero-point
// folding, panels, threads, epilogue) as the SIMD ones; its scalar twin is intq::gemm_acc + requantize.
//   A rows: a' = x (s16 container, no offset)   B panels: [kp][16] s8, column-minor within a K step
//   tile 4 rows x 16 columns, int32 accumulators with uint32 wrap (as the reference)
// Test: ctest -R intq_fast (QRB_ISA=scalar reaches it on any machine). Bench: npm run bench:kernels.
#include <algorithm>
#include <cstring>

#include "qrb/intq_fast_kernels.h"

namespace qrb::intq::fast {

namespace {

constexpr int kMR = 4, kNR = 16;

size_t panel_bytes(size_t kp) { return kp * kNR; }

void pack_b(const int8_t* v, size_t n, size_t k, size_t kp, void* dst) {
  int8_t* d = static_cast<int8_t*>(dst);
  const size_t np = (n + kNR - 1) / kNR;
  for (size_t p = 0; p < np; ++p)
    for (size_t kk = 0; kk < kp; ++kk)
      for (size_t j = 0; j < size_t(kNR); ++j) {
        const size_t c = p * kNR + j;
        d[(p * kp + kk) * kNR + j] = (c < n && kk < k) ? v[c * k + kk] : 0;
      }
}

void run(const TileArgs& t, size_t m0, size_t m1, size_t p0, size_t p1) {
  const int16_t* a = static_cast<const int16_t*>(t.a);
  const int8_t* b = static_cast<const int8_t*>(t.b);
  for (size_t p = p0; p < p1; ++p) {
    const int8_t* bp = b + p * t.kp * kNR;
    const size_t c0 = p * kNR, cols = std::min<size_t>(kNR, t.n - c0);
    for (size_t r0 = m0; r0 < m1; r0 += kMR) {
      const size_t rows = std::min<size_t>(kMR, m1 - r0);
      uint32_t acc[kMR][kNR] = {};
      for (size_t i = 0; i < rows; ++i) {
        const int16_t* ar = a + (r0 + i) * t.lda;
        for (size_t kk = 0; kk < t.kp; ++kk) {
          const int32_t x = ar[kk];
          const int8_t* bk = bp + kk * kNR;
          for (int j = 0; j < kNR; ++j) acc[i][j] += uint32_t(x * int32_t(bk[j]));
        }
      }
      int32_t tile[kMR * kNR];
      for (size_t i = 0; i < rows; ++i)
        for (int j = 0; j < kNR; ++j) {
          uint32_t v = acc[i][j] + uint32_t(t.col_add[c0 + j]);
          if (t.zv) v -= uint32_t(t.zv[c0 + j]) * uint32_t(t.rowsum[r0 + i]);
          tile[i * kNR + j] = int32_t(v);
        }
      store_tile_generic(t, tile, kNR, r0, rows, c0, cols);
    }
  }
}

}  // namespace

const KernelDesc kS8Gemm4x16Scalar{"s8_gemm_4x16_scalar", Isa::scalar, kMR, kNR, 1, AKind::kS16, 0, 0,
                                   panel_bytes, pack_b, run};

}  // namespace qrb::intq::fast
