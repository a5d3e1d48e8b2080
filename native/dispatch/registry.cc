// Kernel registry and the validating entry points. See qrb/registry.h.
#include "qrb/registry.h"

#include <string>

namespace qrb {

std::vector<Variant<U8ChwFn>> u8chw_variants() {
  std::vector<Variant<U8ChwFn>> v{{Isa::scalar, "u8chw_ref", &u8chw_ref}};
#if defined(__x86_64__)
  v.push_back({Isa::avx2, "u8chw_avx2", &u8chw_avx2});
#endif
#if defined(__aarch64__)
  v.push_back({Isa::neon, "u8chw_neon", &u8chw_neon});
#endif
  return v;
}

template <class Fn>
static Variant<Fn> pick_last(const std::vector<Variant<Fn>>& v) {
  Variant<Fn> best = v.front();
  for (const auto& x : v) if (isa_available(x.isa)) best = x;
  return best;
}

Variant<U8ChwFn> u8chw_pick() { return pick_last(u8chw_variants()); }

std::vector<Variant<const intq::fast::KernelDesc*>> s8gemm_variants() {
  namespace f = intq::fast;
  std::vector<Variant<const f::KernelDesc*>> v{{Isa::scalar, f::kS8Gemm4x16Scalar.name, &f::kS8Gemm4x16Scalar}};
#if defined(__x86_64__)
  v.push_back({Isa::avx2, f::kS8Gemm6x16Avx2.name, &f::kS8Gemm6x16Avx2});
  v.push_back({Isa::avx512vnni, f::kS8Gemm6x64Avx512Vnni.name, &f::kS8Gemm6x64Avx512Vnni});
#endif
#if defined(__aarch64__)
  v.push_back({Isa::neon, f::kS8Gemm4x16Neon.name, &f::kS8Gemm4x16Neon});
  v.push_back({Isa::neondot, f::kS8Gemm4x16NeonDot.name, &f::kS8Gemm4x16NeonDot});
#endif
  return v;
}

Variant<const intq::fast::KernelDesc*> s8gemm_pick() { return pick_last(s8gemm_variants()); }

std::vector<std::pair<std::string, std::string>> kernel_choices() {
  return {{"u8hwc_to_f32chw", u8chw_pick().name}, {"s8_gemm", s8gemm_pick().name}};
}

Status u8hwc_to_f32chw(const uint8_t* src, size_t src_len, size_t h, size_t w, size_t c, float* dst,
                       size_t dst_len, float scale) {
  if (h == 0 || w == 0 || c == 0)
    return Status::Error("u8hwc_to_f32chw: expected positive h, w, c but received " + std::to_string(h) + "x" +
                         std::to_string(w) + "x" + std::to_string(c));
  const size_t n = h * w * c;
  if (n / c / w != h) return Status::Error("u8hwc_to_f32chw: h*w*c overflows");
  if (src_len != n)
    return Status::Error("u8hwc_to_f32chw: src has " + std::to_string(src_len) + " bytes, expected h*w*c = " +
                         std::to_string(n));
  if (dst_len != n)
    return Status::Error("u8hwc_to_f32chw: dst has " + std::to_string(dst_len) + " floats, expected " +
                         std::to_string(n));
  if (!src || !dst) return Status::Error("u8hwc_to_f32chw: null buffer");
  u8chw_pick().fn(src, h * w, c, dst, scale);
  return Status::Ok();
}

}  // namespace qrb
