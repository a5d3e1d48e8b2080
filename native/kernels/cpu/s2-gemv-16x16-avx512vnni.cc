// s2_gemv_16x16_avx512vnni: batch-1 int2 / uint2 GEMV on AVX-512 VNNI (issue 5). A quarter of the int8
// bytes: each 64-byte load holds 16 rows x 16 K codes (u = w + 2 for int2, w for uint2, in [0,3]) and is
// split into four VPDPBUSD operands by shifts of 0, 2, 4, 6 and an AND with 0x03:
//   byte b of row j = u[16h+b] | u[16h+4+b] << 2 | u[16h+8+b] << 4 | u[16h+12+b] << 6
// The s8 activations are broadcast one dword (4 K) at a time; the driver (s4-gemv-driver.cc) folds the +2
// and the zero points back, so the result equals intq::gemm_acc (M = 1) exactly.
// Test: ctest -R intq_fast_gemv. Bench: npm run bench:kernels.
#include "qrb/intq_fast_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

#include <cstring>

#define QRB_VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")))

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

// One 16-row panel, or two side by side sharing each activation broadcast (the broadcasts and shifts, not
// memory, bound a single panel on Zen4).
template <int P>
QRB_VNNI inline void panels(const uint8_t* w0, size_t stride, size_t nh, const int8_t* x, int32_t* acc) {
  const __m512i m2 = _mm512_set1_epi8(0x03);
  // named accumulators (an array here made GCC shuffle registers every iteration)
  __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0, c0 = a0, c1 = a0, c2 = a0, c3 = a0;
  const uint8_t* w1 = w0 + stride;
  for (size_t h = 0; h < nh; ++h) {
    int32_t x0, x1, x2, x3;
    std::memcpy(&x0, x + 16 * h, 4);
    std::memcpy(&x1, x + 16 * h + 4, 4);
    std::memcpy(&x2, x + 16 * h + 8, 4);
    std::memcpy(&x3, x + 16 * h + 12, 4);
    const __m512i b0 = _mm512_set1_epi32(x0), b1 = _mm512_set1_epi32(x1), b2 = _mm512_set1_epi32(x2),
                  b3 = _mm512_set1_epi32(x3);
    const __m512i v = _mm512_loadu_si512(w0 + h * 64);
    a0 = _mm512_dpbusd_epi32(a0, _mm512_and_si512(v, m2), b0);
    a1 = _mm512_dpbusd_epi32(a1, _mm512_and_si512(_mm512_srli_epi16(v, 2), m2), b1);
    a2 = _mm512_dpbusd_epi32(a2, _mm512_and_si512(_mm512_srli_epi16(v, 4), m2), b2);
    a3 = _mm512_dpbusd_epi32(a3, _mm512_and_si512(_mm512_srli_epi16(v, 6), m2), b3);
    if constexpr (P > 1) {
      const __m512i u = _mm512_loadu_si512(w1 + h * 64);
      c0 = _mm512_dpbusd_epi32(c0, _mm512_and_si512(u, m2), b0);
      c1 = _mm512_dpbusd_epi32(c1, _mm512_and_si512(_mm512_srli_epi16(u, 2), m2), b1);
      c2 = _mm512_dpbusd_epi32(c2, _mm512_and_si512(_mm512_srli_epi16(u, 4), m2), b2);
      c3 = _mm512_dpbusd_epi32(c3, _mm512_and_si512(_mm512_srli_epi16(u, 6), m2), b3);
    }
  }
  _mm512_storeu_si512(acc, _mm512_add_epi32(_mm512_add_epi32(a0, a1), _mm512_add_epi32(a2, a3)));
  if constexpr (P > 1) _mm512_storeu_si512(acc + 16, _mm512_add_epi32(_mm512_add_epi32(c0, c1), _mm512_add_epi32(c2, c3)));
}

QRB_VNNI void run(const void* pan, size_t kp, const int8_t* x, size_t p0, size_t p1, int32_t* acc) {
  const size_t nh = kp / 16, stride = nh * 64;
  const uint8_t* base = static_cast<const uint8_t*>(pan);
  size_t p = p0;
  for (; p + 2 <= p1; p += 2) panels<2>(base + p * stride, stride, nh, x, acc + (p - p0) * 16);
  if (p < p1) panels<1>(base + p * stride, stride, nh, x, acc + (p - p0) * 16);
}

}  // namespace

const GemvKernel kS2Gemv16x16Avx512Vnni{"s2_gemv_16x16_avx512vnni", Isa::avx512vnni, 2, panel_bytes, pack, run};

}  // namespace qrb::intq::fast
#endif
