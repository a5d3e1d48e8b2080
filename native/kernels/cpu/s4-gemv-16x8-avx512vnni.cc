// s4_gemv_16x8_avx512vnni: batch-1 int4 / uint4 GEMV on AVX-512 VNNI (issue 5, INTEGER.md §d "unpack in
// registers"). The weights stay at 4 bits in memory (half the bytes of int8), so a memory-bound GEMV
// reads half as much; each 64-byte load holds 16 rows x 8 K codes and is split into two VPDPBUSD operands
// with one AND and one shift+AND:
//   lo = v & 0x0F  (K 8o..8o+3 of each row)   hi = (v >> 4) & 0x0F  (K 8o+4..8o+7)
// Codes are u = w + 8 (int4) or w (uint4) in [0,15]: the u8 operand of VPDPBUSD; the s8 activations
// (x' = x, or x - 128 for u8 x) are broadcast one dword (4 K) at a time. The driver (s4-gemv-driver.cc)
// folds +8 and the zero points back, so the result equals intq::gemm_acc (M = 1) exactly.
// Layout: see GemvKernel in qrb/intq_fast_kernels.h. Test: ctest -R intq_fast_gemv. Bench: npm run bench:kernels.
#include "qrb/intq_fast_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

#include <cstring>

#define QRB_VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")))

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

QRB_VNNI void run(const void* panels, size_t kp, const int8_t* x, size_t p0, size_t p1, int32_t* acc) {
  const size_t no = kp / 8;
  const __m512i m4 = _mm512_set1_epi8(0x0F);
  for (size_t p = p0; p < p1; ++p) {
    const uint8_t* w = static_cast<const uint8_t*>(panels) + p * no * 64;
    __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
    size_t o = 0;
    for (; o + 2 <= no; o += 2) {
      int32_t x0, x1, x2, x3;
      std::memcpy(&x0, x + 8 * o, 4);
      std::memcpy(&x1, x + 8 * o + 4, 4);
      std::memcpy(&x2, x + 8 * o + 8, 4);
      std::memcpy(&x3, x + 8 * o + 12, 4);
      const __m512i v0 = _mm512_loadu_si512(w + o * 64), v1 = _mm512_loadu_si512(w + o * 64 + 64);
      a0 = _mm512_dpbusd_epi32(a0, _mm512_and_si512(v0, m4), _mm512_set1_epi32(x0));
      a1 = _mm512_dpbusd_epi32(a1, _mm512_and_si512(_mm512_srli_epi16(v0, 4), m4), _mm512_set1_epi32(x1));
      a2 = _mm512_dpbusd_epi32(a2, _mm512_and_si512(v1, m4), _mm512_set1_epi32(x2));
      a3 = _mm512_dpbusd_epi32(a3, _mm512_and_si512(_mm512_srli_epi16(v1, 4), m4), _mm512_set1_epi32(x3));
    }
    for (; o < no; ++o) {
      int32_t x0, x1;
      std::memcpy(&x0, x + 8 * o, 4);
      std::memcpy(&x1, x + 8 * o + 4, 4);
      const __m512i v0 = _mm512_loadu_si512(w + o * 64);
      a0 = _mm512_dpbusd_epi32(a0, _mm512_and_si512(v0, m4), _mm512_set1_epi32(x0));
      a1 = _mm512_dpbusd_epi32(a1, _mm512_and_si512(_mm512_srli_epi16(v0, 4), m4), _mm512_set1_epi32(x1));
    }
    const __m512i s = _mm512_add_epi32(_mm512_add_epi32(a0, a1), _mm512_add_epi32(a2, a3));
    _mm512_storeu_si512(acc + (p - p0) * 16, s);
  }
}

}  // namespace

const GemvKernel kS4Gemv16x8Avx512Vnni{"s4_gemv_16x8_avx512vnni", Isa::avx512vnni, 4, panel_bytes, pack, run};

}  // namespace qrb::intq::fast
#endif
