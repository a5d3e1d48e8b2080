// s8_gemm_4x16_neon: exact int8 GEMM micro-kernel for ARMv8.0 NEON without dot product (Pi 3/4: A53/A72)
// (issue 5).
//   XNNPACK's A72 qs8 c8 kernels pair two products in int16 (SMULL + SMLAL) and can wrap (INTEGER.md §a,
//   the reference's opt-in Hazard::kA72Int16Pair). This default path is exact: every s8 x s8 product
//   (|p| <= 16384) is widened into int32 on its own (SMULL by a broadcast activation, then SADDW).
//   A rows:   a'[m][kp] s8 (u8 activations as x - 128, folded into col_add), kp = K (no padding needed)
//   B panels: 16 columns; per K step: 16 bytes (one q-register)
//   tile:     4 rows x 16 columns = 16 int32x4 accumulators
//   epilogue: + col_add, - zv*rowsum, then the shared store (int32 / fp32 / generic requant, exact)
// Test: ctest -R intq_fast under qemu-aarch64 -cpu cortex-a72 (and QRB_ISA=neon on dotprod CPUs).
#include "qrb/intq_fast_kernels.h"

#if defined(__aarch64__)
#include <arm_neon.h>

#include <algorithm>

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

template <int MR>
void tile(const TileArgs& t, size_t r0, size_t p) {
  const int8_t* a = static_cast<const int8_t*>(t.a) + r0 * t.lda;
  const int8_t* b = static_cast<const int8_t*>(t.b) + p * t.kp * kNR;
  const size_t lda = t.lda;
  int32x4_t acc[MR][4];
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < 4; ++j) acc[i][j] = vdupq_n_s32(0);
  for (size_t kk = 0; kk < t.kp; ++kk) {
    const int8x16_t bv = vld1q_s8(b);
    b += 16;
    const int8x8_t blo = vget_low_s8(bv), bhi = vget_high_s8(bv);
    for (int i = 0; i < MR; ++i) {
      const int8x8_t va = vdup_n_s8(a[i * lda + kk]);
      const int16x8_t plo = vmull_s8(va, blo), phi = vmull_s8(va, bhi);
      acc[i][0] = vaddw_s16(acc[i][0], vget_low_s16(plo));
      acc[i][1] = vaddw_s16(acc[i][1], vget_high_s16(plo));
      acc[i][2] = vaddw_s16(acc[i][2], vget_low_s16(phi));
      acc[i][3] = vaddw_s16(acc[i][3], vget_high_s16(phi));
    }
  }
  const size_t c0 = p * kNR;
  const size_t cols = std::min<size_t>(kNR, t.n - c0);
  int32_t buf[MR * kNR];
  for (int j = 0; j < 4; ++j) {
    const int32x4_t ca = vld1q_s32(t.col_add + c0 + 4 * j);
    const int32x4_t z = t.zv ? vld1q_s32(t.zv + c0 + 4 * j) : vdupq_n_s32(0);
    for (int i = 0; i < MR; ++i) {
      int32x4_t v = vaddq_s32(acc[i][j], ca);
      if (t.zv) v = vmlsq_s32(v, z, vdupq_n_s32(t.rowsum[r0 + i]));
      vst1q_s32(buf + i * kNR + 4 * j, v);
    }
  }
  store_tile_generic(t, buf, kNR, r0, MR, c0, cols);
}

void run(const TileArgs& t, size_t m0, size_t m1, size_t p0, size_t p1) {
  for (size_t p = p0; p < p1; ++p) {
    size_t r = m0;
    for (; r + kMR <= m1; r += kMR) tile<kMR>(t, r, p);
    switch (m1 - r) {
      case 3: tile<3>(t, r, p); break;
      case 2: tile<2>(t, r, p); break;
      case 1: tile<1>(t, r, p); break;
      default: break;
    }
  }
}

}  // namespace

const KernelDesc kS8Gemm4x16Neon{"s8_gemm_4x16_neon", Isa::neon, kMR, kNR, 1, AKind::kS8, 0, -128, panel_bytes,
                                 pack_b, run};

}  // namespace qrb::intq::fast
#endif
