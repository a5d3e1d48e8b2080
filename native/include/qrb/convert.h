// Image layout conversion: interleaved uint8 HWC -> planar float32 CHW, times a scale (1/255 gives [0,1]).
//
// Variants (same signature, registry in native/dispatch/registry.cc):
//   u8chw_ref    scalar reference twin (native/kernels/ref/u8-chw-ref.cc)
//   u8chw_avx2   x86-64 AVX2 (native/kernels/cpu/u8-chw-avx2.cc)
//   u8chw_neon   AArch64 NEON, vld3 de-interleave for RGB (native/kernels/cpu/u8-chw-neon.cc)
// Exactness: every variant computes float(v) * scale with one IEEE multiply (no FMA), so all
// variants are bit-identical; native/tests/test_convert.cc checks that over awkward sizes.
// Test: ctest -R convert. Used by ts/data to build model input batches.
#pragma once
#include <cstddef>
#include <cstdint>

#include "qrb/status.h"

namespace qrb {

// src: hw*c bytes (pixel-major), dst: c*hw floats (plane-major).
using U8ChwFn = void (*)(const uint8_t* src, size_t hw, size_t c, float* dst, float scale);

void u8chw_ref(const uint8_t* src, size_t hw, size_t c, float* dst, float scale);
#if defined(__x86_64__)
void u8chw_avx2(const uint8_t* src, size_t hw, size_t c, float* dst, float scale);
#endif
#if defined(__aarch64__)
void u8chw_neon(const uint8_t* src, size_t hw, size_t c, float* dst, float scale);
#endif

// Validating entry point used by the binding: checks sizes, then runs the dispatched variant.
Status u8hwc_to_f32chw(const uint8_t* src, size_t src_len, size_t h, size_t w, size_t c, float* dst,
                       size_t dst_len, float scale);

}  // namespace qrb
