// Pillow resampler invariants that need no Pillow (the byte-exact comparison with Pillow itself is
// test/parity/pil-resize.test.ts): constant images stay constant, identity sizes copy, a window equals
// the same crop of the full output, hand-computed values for tiny cases, reduce averages, and bad
// arguments give a Status naming them.
#include <cstring>
#include <vector>

#include "harness.h"
#include "qrb/image.h"

using qrb::image::Filter;
using qrb::image::Window;

namespace {

std::vector<uint8_t> resize(const std::vector<uint8_t>& src, int w, int h, int c, int ow, int oh, Filter f,
                            Window win = {}) {
  if (win.w == 0) win = {0, 0, ow, oh};
  std::vector<uint8_t> out(size_t(win.w) * win.h * c, 0xAB);
  qrb::Status st = qrb::image::pil_resize(src.data(), src.size(), w, h, c, ow, oh, f, win, out.data(), out.size());
  if (!st.ok) out.clear();
  return out;
}

const Filter kAll[] = {Filter::Nearest, Filter::Box, Filter::Bilinear, Filter::Hamming, Filter::Bicubic, Filter::Lanczos};

}  // namespace

QRB_TEST(image_resample, constant_stays_constant) {
  const int sizes[][4] = {{7, 5, 3, 11}, {64, 48, 13, 17}, {3, 3, 30, 2}, {100, 1, 7, 1}, {1, 100, 1, 9}};
  for (Filter f : kAll)
    for (auto& s : sizes)
      for (int v : {0, 1, 128, 254, 255}) {
        std::vector<uint8_t> src(size_t(s[0]) * s[1] * 3, uint8_t(v));
        auto out = resize(src, s[0], s[1], 3, s[2], s[3], f);
        QRB_CHECK(!out.empty());
        for (uint8_t b : out) QRB_CHECK_EQ(int(b), v);
      }
}

QRB_TEST(image_resample, identity_copies_and_window_is_a_crop) {
  qrb::test::Rng rng(7);
  std::vector<uint8_t> src(23 * 17 * 3);
  for (auto& b : src) b = uint8_t(rng.next());
  for (Filter f : kAll) {
    QRB_CHECK(resize(src, 23, 17, 3, 23, 17, f) == src);
    for (auto [ow, oh] : {std::pair{41, 29}, std::pair{11, 9}, std::pair{23, 8}, std::pair{9, 17}}) {
      auto full = resize(src, 23, 17, 3, ow, oh, f);
      Window win{ow / 4, oh / 3, ow / 2, oh / 2};
      auto part = resize(src, 23, 17, 3, ow, oh, f, win);
      QRB_CHECK_EQ(part.size(), size_t(win.w) * win.h * 3);
      for (int y = 0; y < win.h; ++y)
        QRB_CHECK(std::memcmp(&part[size_t(y) * win.w * 3], &full[(size_t(win.y + y) * ow + win.x) * 3], size_t(win.w) * 3) == 0);
    }
  }
}

QRB_TEST(image_resample, hand_computed_values) {
  // 2 -> 1 pixel, grey: box and bilinear average (support 1*2 covers both with equal weight).
  std::vector<uint8_t> two = {10, 21};
  QRB_CHECK_EQ(int(resize(two, 2, 1, 1, 1, 1, Filter::Box)[0]), 16);  // (10+21)/2 = 15.5 -> 16 (+0.5 LSB)
  QRB_CHECK_EQ(int(resize(two, 2, 1, 1, 1, 1, Filter::Bilinear)[0]), 16);
  // nearest 4 -> 2 picks source pixels 1 and 3 (centres 1.0 and 3.0).
  std::vector<uint8_t> four = {1, 2, 3, 4};
  auto n = resize(four, 4, 1, 1, 2, 1, Filter::Nearest);
  QRB_CHECK_EQ(int(n[0]), 2);
  QRB_CHECK_EQ(int(n[1]), 4);
  // upscale 2 -> 4 bilinear: centres 0.25, 0.75, 1.25, 1.75 -> weights (1,0) (.75,.25) (.25,.75) (0,1).
  std::vector<uint8_t> ab = {0, 200};
  auto u = resize(ab, 2, 1, 1, 4, 1, Filter::Bilinear);
  QRB_CHECK_EQ(int(u[0]), 0);
  QRB_CHECK_EQ(int(u[1]), 50);
  QRB_CHECK_EQ(int(u[2]), 150);
  QRB_CHECK_EQ(int(u[3]), 200);
  // bicubic overshoot is clipped to [0, 255].
  std::vector<uint8_t> step = {0, 0, 255, 255};
  auto b = resize(step, 4, 1, 1, 9, 1, Filter::Bicubic);
  for (uint8_t v : b) QRB_CHECK(v <= 255);
}

QRB_TEST(image_resample, reduce_box) {
  // 5x3, factor 2: blocks 2x2, 2x2, 1x2 (right), then the bottom row 2x1, 2x1, 1x1.
  std::vector<uint8_t> src = {0, 1, 2, 3, 4, 10, 11, 12, 13, 14, 100, 101, 102, 103, 104};
  std::vector<uint8_t> out(3 * 2);
  QRB_CHECK(qrb::image::pil_reduce_box(src.data(), src.size(), 5, 3, 1, 2, 2, out.data(), out.size()).ok);
  QRB_CHECK_EQ(int(out[0]), 6);    // (0+1+10+11+2)/4 = 24/4 = 6 (sum + n/2, times ~1/n)
  QRB_CHECK_EQ(int(out[2]), 9);    // (4+14+1)/2 = 9.5 -> 9
  QRB_CHECK_EQ(int(out[5]), 104);  // lone corner pixel
  std::vector<uint8_t> flat(17 * 13 * 3, 77);
  for (int f : {1, 2, 3, 4, 5, 6, 7, 13}) {
    int ow = (17 + f - 1) / f, oh = (13 + f - 1) / f;
    std::vector<uint8_t> o(size_t(ow) * oh * 3);
    QRB_CHECK(qrb::image::pil_reduce_box(flat.data(), flat.size(), 17, 13, 3, f, f, o.data(), o.size()).ok);
    for (uint8_t v : o) QRB_CHECK_EQ(int(v), 77);
  }
}

QRB_TEST(image_resample, bad_arguments_are_named) {
  std::vector<uint8_t> src(12);
  std::vector<uint8_t> dst(12);
  auto st = qrb::image::pil_resize(src.data(), src.size(), 2, 2, 3, 2, 2, Filter(9), {0, 0, 2, 2}, dst.data(), dst.size());
  QRB_CHECK(!st.ok && st.message.find("filter") != std::string::npos);
  st = qrb::image::pil_resize(src.data(), 11, 2, 2, 3, 2, 2, Filter::Box, {0, 0, 2, 2}, dst.data(), dst.size());
  QRB_CHECK(!st.ok && st.message.find("src") != std::string::npos);
  st = qrb::image::pil_resize(src.data(), 12, 2, 2, 3, 0, 2, Filter::Box, {0, 0, 2, 2}, dst.data(), dst.size());
  QRB_CHECK(!st.ok && st.message.find("size") != std::string::npos);
  st = qrb::image::pil_resize(src.data(), 12, 2, 2, 3, 2, 2, Filter::Box, {1, 0, 2, 2}, dst.data(), dst.size());
  QRB_CHECK(!st.ok && st.message.find("window") != std::string::npos);
  st = qrb::image::pil_reduce_box(src.data(), 12, 2, 2, 3, 0, 1, dst.data(), dst.size());
  QRB_CHECK(!st.ok && st.message.find("factor") != std::string::npos);
  st = qrb::image::pil_resize(src.data(), 12, 2, 2, 5, 2, 2, Filter::Box, {0, 0, 2, 2}, dst.data(), dst.size());
  QRB_CHECK(!st.ok && st.message.find("channels") != std::string::npos);
}
