// s8_gemm_4x16_neondot: int8 GEMM micro-kernel on ARMv8.2 dot product (SDOT; Pi 5 / Cortex-A76, Apple) (issue 5).
//   SDOT adds 4 s8 x s8 products into each int32 lane, exactly (no int16 stage), so it equals the reference's
//   Hazard::kNone. s8 activations enter unchanged; u8 activations enter as a' = x - 128 (XOR 0x80) and the
//   -128 * sum_k v[c] term is folded into col_add by the driver.
//   A rows:   a'[m][kp] s8, kp = K rounded up to 4 (zero padded)
//   B panels: 16 columns; per K quad: 16 x 4 bytes, column j's quad at 4j (4 q-registers)
//   tile:     4 rows x 16 columns = 16 int32x4 accumulators; each row's quad is broadcast (LD1R) into a lane set
//   epilogue: + col_add, - zv*rowsum, then the shared store (int32 / fp32 / generic requant, scalar, exact)
// Built with a function target attribute (arch=armv8.2-a+dotprod); dispatch calls it only with HWCAP_ASIMDDP.
// Test: ctest -R intq_fast under qemu-aarch64 -cpu max (dotprod). Bench: npm run bench:kernels (on ARM).
#include "qrb/intq_fast_kernels.h"

#if defined(__aarch64__)
#include <arm_neon.h>

#include <algorithm>
#include <cstring>

#define QRB_DOT __attribute__((target("arch=armv8.2-a+dotprod")))

namespace qrb::intq::fast {

namespace {

constexpr int kMR = 4, kNR = 16;

size_t panel_bytes(size_t kp) { return kp * kNR; }

void pack_b(const int8_t* v, size_t n, size_t k, size_t kp, void* dst) {
  int8_t* d = static_cast<int8_t*>(dst);
  const size_t np = (n + kNR - 1) / kNR;
  for (size_t p = 0; p < np; ++p)
    for (size_t q = 0; q < kp / 4; ++q)
      for (size_t j = 0; j < size_t(kNR); ++j)
        for (size_t u = 0; u < 4; ++u) {
          const size_t c = p * kNR + j, kk = q * 4 + u;
          d[((p * (kp / 4) + q) * kNR + j) * 4 + u] = (c < n && kk < k) ? v[c * k + kk] : 0;
        }
}

template <int MR>
QRB_DOT void tile(const TileArgs& t, size_t r0, size_t p) {
  const int8_t* a = static_cast<const int8_t*>(t.a) + r0 * t.lda;
  const int8_t* b = static_cast<const int8_t*>(t.b) + p * t.kp * kNR;
  const size_t lda = t.lda;
  int32x4_t acc[MR][4];
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < 4; ++j) acc[i][j] = vdupq_n_s32(0);
  const size_t nq = t.kp / 4;
  for (size_t q = 0; q < nq; ++q) {
    const int8x16_t b0 = vld1q_s8(b), b1 = vld1q_s8(b + 16), b2 = vld1q_s8(b + 32), b3 = vld1q_s8(b + 48);
    b += 64;
    for (int i = 0; i < MR; ++i) {
      int32_t av;
      std::memcpy(&av, a + i * lda + 4 * q, 4);
      const int8x16_t va = vreinterpretq_s8_s32(vdupq_n_s32(av));
      acc[i][0] = vdotq_s32(acc[i][0], b0, va);
      acc[i][1] = vdotq_s32(acc[i][1], b1, va);
      acc[i][2] = vdotq_s32(acc[i][2], b2, va);
      acc[i][3] = vdotq_s32(acc[i][3], b3, va);
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

QRB_DOT void run(const TileArgs& t, size_t m0, size_t m1, size_t p0, size_t p1) {
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

const KernelDesc kS8Gemm4x16NeonDot{"s8_gemm_4x16_neondot", Isa::neondot, kMR, kNR, 4, AKind::kS8, 0, -128,
                                    panel_bytes, pack_b, run};

}  // namespace qrb::intq::fast
#endif
