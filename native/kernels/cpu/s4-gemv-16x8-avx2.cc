// s4_gemv_16x8_avx2: batch-1 int4 / uint4 GEMV for AVX2 CPUs without VNNI (issue 5). Same panels as
// s4_gemv_16x8_avx512vnni (16 rows x 8 K per 64 bytes, codes u = w + 8 / w in [0,15]), held as two ymm.
// VPMADDUBSW is exact here: a code is at most 15, so a pair sums to at most 2*15*128 = 3840, far from the
// int16 saturation that makes it unusable for full-range int8 (INTEGER.md §a); VPMADDWD by ones then widens
// to int32. The driver (s4-gemv-driver.cc) folds the code offset and zero points back.
// Test: ctest -R intq_fast_gemv (QRB_ISA=avx2). Bench: npm run bench:kernels on an AVX2 machine.
#include "qrb/intq_fast_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

#include <cstring>

#define QRB_AVX2 __attribute__((target("avx2,fma")))

namespace qrb::intq::fast {

namespace {

size_t panel_bytes(size_t kp) { return kp / 8 * 64; }

void pack(const uint8_t* u, size_t n, size_t k, size_t kp, void* dst) {
  uint8_t* d = static_cast<uint8_t*>(dst);
  const size_t np = (n + 15) / 16, no = kp / 8;
  for (size_t p = 0; p < np; ++p)
    for (size_t o = 0; o < no; ++o)
      for (size_t j = 0; j < 16; ++j)
        for (size_t b = 0; b < 4; ++b) {
          const size_t r = p * 16 + j, k0 = o * 8 + b, k1 = o * 8 + 4 + b;
          const uint8_t lo = (r < n && k0 < k) ? u[r * k + k0] : 0, hi = (r < n && k1 < k) ? u[r * k + k1] : 0;
          d[(p * no + o) * 64 + j * 4 + b] = uint8_t(lo | (hi << 4));
        }
}

// 32 lanes of 4 codes x 4 activations -> 8 int32 sums per ymm half (rows j..j+7)
QRB_AVX2 inline __m256i dot4(__m256i u, __m256i x) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(u, x), _mm256_set1_epi16(1));
}

QRB_AVX2 void run(const void* panels, size_t kp, const int8_t* x, size_t p0, size_t p1, int32_t* acc) {
  const size_t no = kp / 8;
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  for (size_t p = p0; p < p1; ++p) {
    const uint8_t* w = static_cast<const uint8_t*>(panels) + p * no * 64;
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, c0 = a0, c1 = a0;  // rows 0-7 / 8-15, lo / hi nibble
    for (size_t o = 0; o < no; ++o) {
      int32_t x0, x1;
      std::memcpy(&x0, x + 8 * o, 4);
      std::memcpy(&x1, x + 8 * o + 4, 4);
      const __m256i b0 = _mm256_set1_epi32(x0), b1 = _mm256_set1_epi32(x1);
      const __m256i v0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + o * 64));
      const __m256i v1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + o * 64 + 32));
      a0 = _mm256_add_epi32(a0, dot4(_mm256_and_si256(v0, m4), b0));
      c0 = _mm256_add_epi32(c0, dot4(_mm256_and_si256(_mm256_srli_epi16(v0, 4), m4), b1));
      a1 = _mm256_add_epi32(a1, dot4(_mm256_and_si256(v1, m4), b0));
      c1 = _mm256_add_epi32(c1, dot4(_mm256_and_si256(_mm256_srli_epi16(v1, 4), m4), b1));
    }
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc + (p - p0) * 16), _mm256_add_epi32(a0, c0));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc + (p - p0) * 16 + 8), _mm256_add_epi32(a1, c1));
  }
}

}  // namespace

const GemvKernel kS4Gemv16x8Avx2{"s4_gemv_16x8_avx2", Isa::avx2, 4, panel_bytes, pack, run};

}  // namespace qrb::intq::fast
#endif
