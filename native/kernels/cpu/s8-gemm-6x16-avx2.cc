// s8_gemm_6x16_avx2: exact int8 GEMM micro-kernel for AVX2 CPUs without VNNI (issue 5).
//   The obvious AVX2 int8 path, VPMADDUBSW, sums two u8 x s8 products in int16 with SATURATION
//   (255*127*2 = 64770 -> 32767; INTEGER.md §a, the reference's opt-in Hazard::kMaddubsSat). The default
//   path must be exact, so both operands are widened to int16 and multiplied with VPMADDWD, whose pair sum
//   (at most 2 * 255 * 128) always fits int32 (XNNPACK's qs8 avx2 c8 kernels do the same).
//   A rows:   a'[m][kp] int16 = raw x (s8 or u8), kp = K rounded up to 2 (zero padded)
//   B panels: 16 columns; per K pair: 16 x 2 int16 (column j's pair at 2j), i.e. 64 bytes = 2 ymm
//   tile:     6 rows x 16 columns = 12 ymm accumulators + 2 B + 1 broadcast
//   epilogue: + col_add, - zv*rowsum; int32 out / fp32 requant (vectorised) / generic per element
// Test: ctest -R intq_fast (QRB_ISA=avx2 reaches it on AVX-512 machines). Bench: npm run bench:kernels.
#include "qrb/intq_fast_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#define QRB_AVX2 __attribute__((target("avx2,fma")))

namespace qrb::intq::fast {

namespace {

constexpr int kMR = 6, kNR = 16;

size_t panel_bytes(size_t kp) { return kp * kNR * 2; }

void pack_b(const int8_t* v, size_t n, size_t k, size_t kp, void* dst) {
  int16_t* d = static_cast<int16_t*>(dst);
  const size_t np = (n + kNR - 1) / kNR;
  for (size_t p = 0; p < np; ++p)
    for (size_t q = 0; q < kp / 2; ++q)
      for (size_t j = 0; j < size_t(kNR); ++j)
        for (size_t u = 0; u < 2; ++u) {
          const size_t c = p * kNR + j, kk = q * 2 + u;
          d[((p * (kp / 2) + q) * kNR + j) * 2 + u] = (c < n && kk < k) ? v[c * k + kk] : 0;
        }
}

template <int MR>
QRB_AVX2 void tile(const TileArgs& t, size_t r0, size_t p) {
  const int16_t* a = static_cast<const int16_t*>(t.a) + r0 * t.lda;
  const int16_t* b = static_cast<const int16_t*>(t.b) + p * t.kp * kNR;
  const size_t lda = t.lda;
  __m256i acc[MR][2];
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i) acc[i][0] = acc[i][1] = _mm256_setzero_si256();
  const size_t nq = t.kp / 2;
  for (size_t q = 0; q < nq; ++q) {
    const __m256i b0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(b));
    const __m256i b1 = _mm256_load_si256(reinterpret_cast<const __m256i*>(b + 16));
    b += 32;
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
      int32_t av;
      std::memcpy(&av, a + i * lda + 2 * q, 4);
      const __m256i va = _mm256_set1_epi32(av);
      acc[i][0] = _mm256_add_epi32(acc[i][0], _mm256_madd_epi16(va, b0));
      acc[i][1] = _mm256_add_epi32(acc[i][1], _mm256_madd_epi16(va, b1));
    }
  }
  const size_t c0 = p * kNR;
  const size_t cols = std::min<size_t>(kNR, t.n - c0);
  for (int j = 0; j < 2; ++j) {
    const __m256i ca = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(t.col_add + c0 + 8 * j));
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) acc[i][j] = _mm256_add_epi32(acc[i][j], ca);
  }
  if (t.zv) {
    for (int j = 0; j < 2; ++j) {
      const __m256i z = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(t.zv + c0 + 8 * j));
#pragma GCC unroll 8
      for (int i = 0; i < MR; ++i)
        acc[i][j] = _mm256_sub_epi32(acc[i][j], _mm256_mullo_epi32(z, _mm256_set1_epi32(t.rowsum[r0 + i])));
    }
  }
  if (t.mode == EpMode::kFp32) {
    const __m256 vlo = _mm256_set1_ps(t.lo), vhi = _mm256_set1_ps(t.hi);
    const __m256i vzy = _mm256_set1_epi32(t.opt.zy);
    for (int j = 0; j < 2; ++j) {
      const __m256 m = _mm256_loadu_ps(t.m32 + c0 + 8 * j);
#pragma GCC unroll 8
      for (int i = 0; i < MR; ++i) {
        __m256 f = _mm256_mul_ps(_mm256_cvtepi32_ps(acc[i][j]), m);
        f = _mm256_min_ps(_mm256_max_ps(f, vlo), vhi);
        acc[i][j] = _mm256_add_epi32(_mm256_cvtps_epi32(f), vzy);
      }
    }
  }
  alignas(32) int32_t buf[MR * kNR];
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < 2; ++j) _mm256_store_si256(reinterpret_cast<__m256i*>(buf + i * kNR + 8 * j), acc[i][j]);
  if (t.mode == EpMode::kAcc32 || t.mode == EpMode::kFp32)
    store_tile_codes(t, buf, kNR, r0, MR, c0, cols);
  else
    store_tile_generic(t, buf, kNR, r0, MR, c0, cols);
}

QRB_AVX2 void run(const TileArgs& t, size_t m0, size_t m1, size_t p0, size_t p1) {
  for (size_t p = p0; p < p1; ++p) {
    size_t r = m0;
    for (; r + kMR <= m1; r += kMR) tile<kMR>(t, r, p);
    switch (m1 - r) {
      case 5: tile<5>(t, r, p); break;
      case 4: tile<4>(t, r, p); break;
      case 3: tile<3>(t, r, p); break;
      case 2: tile<2>(t, r, p); break;
      case 1: tile<1>(t, r, p); break;
      default: break;
    }
  }
}

}  // namespace

const KernelDesc kS8Gemm6x16Avx2{"s8_gemm_6x16_avx2", Isa::avx2, kMR, kNR, 2, AKind::kS16, 0, 0, panel_bytes, pack_b,
                                 run};

}  // namespace qrb::intq::fast
#endif
