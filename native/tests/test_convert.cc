// Every u8chw variant equals the scalar reference exactly, over awkward sizes and channel counts.
#include <cstring>
#include <vector>

#include "harness.h"
#include "qrb/cpu.h"
#include "qrb/registry.h"

QRB_TEST(convert, variants_match_reference) {
  qrb::test::Rng rng(1234);
  const size_t sizes[] = {1, 2, 7, 8, 9, 15, 16, 17, 31, 63, 64, 65, 127, 1000, 1031};
  const size_t chans[] = {1, 2, 3, 4, 5};
  const float scales[] = {1.0f / 255.0f, 1.0f, -0.5f, 3.3e-3f};
  int compared = 0;
  for (auto& v : qrb::u8chw_variants()) {
    qrb::set_isa_cap("native");
    if (!qrb::isa_available(v.isa)) continue;
    for (size_t hw : sizes)
      for (size_t c : chans)
        for (float s : scales) {
          std::vector<uint8_t> src(hw * c);
          for (auto& b : src) b = uint8_t(rng.next());
          src[0] = 0;
          src[src.size() - 1] = 255;
          std::vector<float> want(hw * c, -1.0f), got(hw * c, -2.0f);
          qrb::u8chw_ref(src.data(), hw, c, want.data(), s);
          v.fn(src.data(), hw, c, got.data(), s);
          QRB_CHECK(std::memcmp(want.data(), got.data(), want.size() * sizeof(float)) == 0);
          ++compared;
        }
  }
  QRB_CHECK(compared > 0);
}

QRB_TEST(convert, validating_entry_rejects_bad_sizes) {
  std::vector<uint8_t> src(12);
  std::vector<float> dst(12);
  QRB_CHECK(qrb::u8hwc_to_f32chw(src.data(), 12, 2, 2, 3, dst.data(), 12, 1.0f).ok);
  QRB_CHECK(!qrb::u8hwc_to_f32chw(src.data(), 11, 2, 2, 3, dst.data(), 12, 1.0f).ok);
  QRB_CHECK(!qrb::u8hwc_to_f32chw(src.data(), 12, 2, 2, 3, dst.data(), 11, 1.0f).ok);
  QRB_CHECK(!qrb::u8hwc_to_f32chw(src.data(), 12, 0, 2, 3, dst.data(), 12, 1.0f).ok);
  auto s = qrb::u8hwc_to_f32chw(src.data(), 12, size_t(1) << 40, size_t(1) << 40, 3, dst.data(), 12, 1.0f);
  QRB_CHECK(!s.ok);
}

QRB_TEST(convert, layout_is_planar) {
  const uint8_t src[6] = {10, 20, 30, 11, 21, 31};  // two RGB pixels
  float dst[6];
  QRB_CHECK(qrb::u8hwc_to_f32chw(src, 6, 1, 2, 3, dst, 6, 1.0f).ok);
  const float want[6] = {10, 11, 20, 21, 30, 31};
  for (int i = 0; i < 6; ++i) QRB_CHECK_EQ(dst[i], want[i]);
}
