// u8chw_avx2: 8 pixels per step, one channel plane at a time. C==1 loads 8 contiguous bytes;
// other C gather the strided bytes. One multiply per element, no FMA, so it equals u8chw_ref exactly.
// Built without -mavx2: the target attribute scopes AVX2 to this function; dispatch calls it only
// when cpuid reports AVX2. Test: ctest -R convert (and QRB_ISA=scalar to compare).
#include "qrb/convert.h"

#if defined(__x86_64__)
#include <immintrin.h>

namespace qrb {

__attribute__((target("avx2"))) void u8chw_avx2(const uint8_t* src, size_t hw, size_t c, float* dst,
                                                 float scale) {
  const __m256 vs = _mm256_set1_ps(scale);
  for (size_t ch = 0; ch < c; ++ch) {
    float* plane = dst + ch * hw;
    size_t i = 0;
    if (c == 1) {
      for (; i + 8 <= hw; i += 8) {
        __m128i b = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(src + i));
        __m256 f = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(b));
        _mm256_storeu_ps(plane + i, _mm256_mul_ps(f, vs));
      }
    } else {
      const uint8_t* p = src + ch;
      for (; i + 8 <= hw; i += 8) {
        const uint8_t* q = p + i * c;
        __m256i v = _mm256_setr_epi32(q[0], q[c], q[2 * c], q[3 * c], q[4 * c], q[5 * c], q[6 * c], q[7 * c]);
        _mm256_storeu_ps(plane + i, _mm256_mul_ps(_mm256_cvtepi32_ps(v), vs));
      }
    }
    for (; i < hw; ++i) plane[i] = float(src[i * c + ch]) * scale;
  }
}

}  // namespace qrb
#endif
