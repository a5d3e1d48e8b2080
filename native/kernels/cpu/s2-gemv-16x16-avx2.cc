// s2_gemv_16x16_avx2: batch-1 int2 / uint2 GEMV for AVX2 CPUs without VNNI (issue 5). Same panels as
// s2_gemv_16x16_avx512vnni (16 rows x 16 K per 64 bytes, codes in [0,3]), two ymm per load. VPMADDUBSW is
// exact for codes <= 3 (pair sums <= 768); VPMADDWD by ones widens to int32. The driver folds the offsets.
// Test: ctest -R intq_fast_gemv (QRB_ISA=avx2).
#include "qrb/intq_fast_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

#include <cstring>

#define QRB_AVX2 __attribute__((target("avx2,fma")))

namespace qrb::intq::fast {

namespace {

size_t panel_bytes(size_t kp) { return kp / 16 * 64; }

void pack(const uint8_t* u, size_t n, size_t k, size_t kp, void* dst) {
  uint8_t* d = static_cast<uint8_t*>(dst);
  const size_t np = (n + 15) / 16, nh = kp / 16;
  for (size_t p = 0; p < np; ++p)
    for (size_t h = 0; h < nh; ++h)
      for (size_t j = 0; j < 16; ++j)
        for (size_t b = 0; b < 4; ++b) {
          const size_t r = p * 16 + j;
          uint8_t v = 0;
          for (size_t f = 0; f < 4; ++f) {
            const size_t kk = h * 16 + 4 * f + b;
            v = uint8_t(v | (((r < n && kk < k) ? u[r * k + kk] : 0) << (2 * f)));
          }
          d[(p * nh + h) * 64 + j * 4 + b] = v;
        }
}

QRB_AVX2 inline __m256i dot4(__m256i u, __m256i x) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(u, x), _mm256_set1_epi16(1));
}

QRB_AVX2 void run(const void* panels, size_t kp, const int8_t* x, size_t p0, size_t p1, int32_t* acc) {
  const size_t nh = kp / 16;
  const __m256i m2 = _mm256_set1_epi8(0x03);
  for (size_t p = p0; p < p1; ++p) {
    const uint8_t* w = static_cast<const uint8_t*>(panels) + p * nh * 64;
    __m256i s0 = _mm256_setzero_si256(), s1 = s0;  // rows 0-7, 8-15
    for (size_t h = 0; h < nh; ++h) {
      int32_t xs[4];
      std::memcpy(xs, x + 16 * h, 16);
      const __m256i v[2] = {_mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + h * 64)),
                            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + h * 64 + 32))};
      __m256i t0 = _mm256_setzero_si256(), t1 = t0;
      for (int f = 0; f < 4; ++f) {
        const __m256i b = _mm256_set1_epi32(xs[f]);
        const __m256i u0 = _mm256_and_si256(_mm256_srl_epi16(v[0], _mm_cvtsi32_si128(2 * f)), m2);
        const __m256i u1 = _mm256_and_si256(_mm256_srl_epi16(v[1], _mm_cvtsi32_si128(2 * f)), m2);
        t0 = _mm256_add_epi16(t0, _mm256_maddubs_epi16(u0, b));
        t1 = _mm256_add_epi16(t1, _mm256_maddubs_epi16(u1, b));
      }
      // four int16 pair sums of |.| <= 768 each: at most 3072 per lane, exact in int16
      s0 = _mm256_add_epi32(s0, _mm256_madd_epi16(t0, _mm256_set1_epi16(1)));
      s1 = _mm256_add_epi32(s1, _mm256_madd_epi16(t1, _mm256_set1_epi16(1)));
    }
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc + (p - p0) * 16), s0);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc + (p - p0) * 16 + 8), s1);
  }
}

}  // namespace

const GemvKernel kS2Gemv16x16Avx2{"s2_gemv_16x16_avx2", Isa::avx2, 2, panel_bytes, pack, run};

}  // namespace qrb::intq::fast
#endif
