// u8chw_neon: AArch64. RGB uses vld3_u8 to de-interleave 8 pixels at once; C==1 loads 8 bytes;
// other C fall back to the scalar loop. One multiply per element (vmulq_f32, never vfma), so it
// equals u8chw_ref exactly. Tested under qemu-aarch64 by the aarch64 CMake preset.
#include "qrb/convert.h"

#if defined(__aarch64__)
#include <arm_neon.h>

namespace qrb {

static inline void widen_store(uint8x8_t b, float32x4_t vs, float* out) {
  uint16x8_t h = vmovl_u8(b);
  float32x4_t lo = vcvtq_f32_u32(vmovl_u16(vget_low_u16(h)));
  float32x4_t hi = vcvtq_f32_u32(vmovl_u16(vget_high_u16(h)));
  vst1q_f32(out, vmulq_f32(lo, vs));
  vst1q_f32(out + 4, vmulq_f32(hi, vs));
}

void u8chw_neon(const uint8_t* src, size_t hw, size_t c, float* dst, float scale) {
  const float32x4_t vs = vdupq_n_f32(scale);
  size_t i = 0;
  if (c == 3) {
    for (; i + 8 <= hw; i += 8) {
      uint8x8x3_t v = vld3_u8(src + 3 * i);
      widen_store(v.val[0], vs, dst + i);
      widen_store(v.val[1], vs, dst + hw + i);
      widen_store(v.val[2], vs, dst + 2 * hw + i);
    }
  } else if (c == 1) {
    for (; i + 8 <= hw; i += 8) widen_store(vld1_u8(src + i), vs, dst + i);
  }
  for (size_t ch = 0; ch < c; ++ch)
    for (size_t j = i; j < hw; ++j) dst[ch * hw + j] = float(src[j * c + ch]) * scale;
}

}  // namespace qrb
#endif
