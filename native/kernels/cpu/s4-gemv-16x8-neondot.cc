// s4_gemv_16x8_neondot / s2_gemv_16x16_neondot: batch-1 int4 / int2 GEMV on ARMv8.2 dot product (Pi 5,
// Cortex-A76) (issue 5). Same panels as the x86 kernels (16 rows; int4: 8 K per 64 bytes, int2: 16 K per 64
// bytes; row j's dword at 4j), read as four q-registers of 4 rows each. Codes u (<= 15) fit the signed
// operand of SDOT as they are; the s8 activations x' (x, or x - 128 for u8 x) are duplicated one dword (4 K)
// at a time. int4 planes: AND 0x0F / USHR 4; int2 planes: USHR 0, 2, 4, 6 + AND 0x03. The driver
// (s4-gemv-driver.cc) folds the code offset and zero points back, so results equal the reference exactly.
// Test: ctest -R intq_fast_gemv under qemu-aarch64 -cpu max. (No dot-product CPU: the portable loop.)
#include "qrb/intq_fast_kernels.h"

#if defined(__aarch64__)
#include <arm_neon.h>

#include <cstring>

#define QRB_DOT __attribute__((target("arch=armv8.2-a+dotprod")))

namespace qrb::intq::fast {

namespace {

size_t panel_bytes4(size_t kp) { return kp / 8 * 64; }
size_t panel_bytes2(size_t kp) { return kp / 16 * 64; }

void pack4(const uint8_t* u, size_t n, size_t k, size_t kp, void* dst) {
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

void pack2(const uint8_t* u, size_t n, size_t k, size_t kp, void* dst) {
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

QRB_DOT inline int8x16_t dup4(const int8_t* x) {
  int32_t v;
  std::memcpy(&v, x, 4);
  return vreinterpretq_s8_s32(vdupq_n_s32(v));
}

QRB_DOT void run4(const void* panels, size_t kp, const int8_t* x, size_t p0, size_t p1, int32_t* acc) {
  const size_t no = kp / 8;
  const uint8x16_t m4 = vdupq_n_u8(0x0F);
  for (size_t p = p0; p < p1; ++p) {
    const uint8_t* w = static_cast<const uint8_t*>(panels) + p * no * 64;
    int32x4_t a[4] = {vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0)};
    for (size_t o = 0; o < no; ++o) {
      const int8x16_t x0 = dup4(x + 8 * o), x1 = dup4(x + 8 * o + 4);
      for (int r = 0; r < 4; ++r) {
        const uint8x16_t v = vld1q_u8(w + o * 64 + 16 * r);
        a[r] = vdotq_s32(a[r], vreinterpretq_s8_u8(vandq_u8(v, m4)), x0);
        a[r] = vdotq_s32(a[r], vreinterpretq_s8_u8(vshrq_n_u8(v, 4)), x1);
      }
    }
    for (int r = 0; r < 4; ++r) vst1q_s32(acc + (p - p0) * 16 + 4 * r, a[r]);
  }
}

QRB_DOT void run2(const void* panels, size_t kp, const int8_t* x, size_t p0, size_t p1, int32_t* acc) {
  const size_t nh = kp / 16;
  const uint8x16_t m2 = vdupq_n_u8(0x03);
  for (size_t p = p0; p < p1; ++p) {
    const uint8_t* w = static_cast<const uint8_t*>(panels) + p * nh * 64;
    int32x4_t a[4] = {vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0)};
    for (size_t h = 0; h < nh; ++h) {
      const int8x16_t x0 = dup4(x + 16 * h), x1 = dup4(x + 16 * h + 4), x2 = dup4(x + 16 * h + 8),
                      x3 = dup4(x + 16 * h + 12);
      for (int r = 0; r < 4; ++r) {
        const uint8x16_t v = vld1q_u8(w + h * 64 + 16 * r);
        a[r] = vdotq_s32(a[r], vreinterpretq_s8_u8(vandq_u8(v, m2)), x0);
        a[r] = vdotq_s32(a[r], vreinterpretq_s8_u8(vandq_u8(vshrq_n_u8(v, 2), m2)), x1);
        a[r] = vdotq_s32(a[r], vreinterpretq_s8_u8(vandq_u8(vshrq_n_u8(v, 4), m2)), x2);
        a[r] = vdotq_s32(a[r], vreinterpretq_s8_u8(vshrq_n_u8(v, 6)), x3);
      }
    }
    for (int r = 0; r < 4; ++r) vst1q_s32(acc + (p - p0) * 16 + 4 * r, a[r]);
  }
}

}  // namespace

const GemvKernel kS4Gemv16x8NeonDot{"s4_gemv_16x8_neondot", Isa::neondot, 4, panel_bytes4, pack4, run4};
const GemvKernel kS2Gemv16x16NeonDot{"s2_gemv_16x16_neondot", Isa::neondot, 2, panel_bytes2, pack2, run2};

}  // namespace qrb::intq::fast
#endif
