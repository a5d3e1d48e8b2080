// OpenCV wrappers (native/image/opencv.cc): cv_decode hands back RGB (not BGR) and equals our libjpeg
// islow decode on a colour JPEG (the same libjpeg-turbo underneath); greyscale comes back replicated;
// cv_resize nearest follows src = floor(x * scale) (no half-pixel offset) and nearest_exact the
// half-pixel rule; every interpolation keeps a constant image constant; bad input is a Status, never a
// crash (this suite also runs under ASan+UBSan). Byte parity with python3-opencv is checked in
// test/parity/opencv-*.test.ts.
#include <cstring>
#include <vector>

#include "harness.h"
#include "qrb/image.h"
#include "qrb/opencv.h"

using qrb::image::CvInterp;

namespace {

std::vector<uint8_t> stripes(int w, int h) {
  std::vector<uint8_t> img(size_t(w) * h * 3, 0);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) img[(size_t(y) * w + x) * 3 + size_t(3 * x / w)] = 255;
  return img;
}

}  // namespace

QRB_TEST(image_opencv, decode_is_rgb_and_matches_libjpeg) {
  if (!qrb::image::cv_available()) return;
  const int w = 48, h = 16;
  std::vector<uint8_t> jpg;
  QRB_CHECK(qrb::image::jpeg_encode_rgb(stripes(w, h).data(), size_t(w) * h * 3, w, h, 95, &jpg).ok);
  qrb::image::Image8 cv, lj;
  QRB_CHECK(qrb::image::cv_decode(jpg.data(), jpg.size(), false, &cv).ok);
  QRB_CHECK(qrb::image::jpeg_decode(jpg.data(), jpg.size(), qrb::image::DecodeOptions{}, &lj).ok);
  QRB_CHECK_EQ(cv.width, w);
  QRB_CHECK_EQ(cv.height, h);
  QRB_CHECK_EQ(cv.channels, 3);
  QRB_CHECK(cv.data == lj.data);
  // Left stripe red, middle green, right blue (centre pixel of each third, row 8).
  for (int s = 0; s < 3; ++s) {
    const uint8_t* p = &cv.data[(size_t(8) * w + size_t(s * 16 + 8)) * 3];
    for (int c = 0; c < 3; ++c) QRB_CHECK(c == s ? p[c] > 200 : p[c] < 60);
  }
}

QRB_TEST(image_opencv, grey_jpeg_is_replicated) {
  if (!qrb::image::cv_available()) return;
  const int w = 20, h = 12;
  std::vector<uint8_t> rgb(size_t(w) * h * 3);
  for (size_t i = 0; i < rgb.size() / 3; ++i) rgb[i * 3] = rgb[i * 3 + 1] = rgb[i * 3 + 2] = uint8_t(i * 3);
  std::vector<uint8_t> jpg;
  QRB_CHECK(qrb::image::jpeg_encode_rgb(rgb.data(), rgb.size(), w, h, 90, &jpg).ok);
  qrb::image::Image8 cv;
  QRB_CHECK(qrb::image::cv_decode(jpg.data(), jpg.size(), true, &cv).ok);
  QRB_CHECK_EQ(cv.channels, 3);
  QRB_CHECK_EQ(cv.data.size(), size_t(w) * h * 3);
}

QRB_TEST(image_opencv, nearest_rules) {
  if (!qrb::image::cv_available()) return;
  // 1 channel, 10 pixels 0..9 downscaled to 4: INTER_NEAREST src = floor(x * 2.5) = 0,2,5,7;
  // INTER_NEAREST_EXACT src = floor((x + 0.5) * 2.5) = 1,3,6,8.
  std::vector<uint8_t> src(10);
  for (int i = 0; i < 10; ++i) src[size_t(i)] = uint8_t(i);
  std::vector<uint8_t> dst(4);
  QRB_CHECK(qrb::image::cv_resize(src.data(), 10, 10, 1, 1, 4, 1, CvInterp::Nearest, dst.data(), 4).ok);
  QRB_CHECK(dst == (std::vector<uint8_t>{0, 2, 5, 7}));
  QRB_CHECK(qrb::image::cv_resize(src.data(), 10, 10, 1, 1, 4, 1, CvInterp::NearestExact, dst.data(), 4).ok);
  QRB_CHECK(dst == (std::vector<uint8_t>{1, 3, 6, 8}));
}

QRB_TEST(image_opencv, constant_stays_constant) {
  if (!qrb::image::cv_available()) return;
  for (int c = 1; c <= 4; ++c) {
    std::vector<uint8_t> src(size_t(13) * 7 * c, 77);
    for (int k = 0; k <= 6; ++k) {
      for (int ow : {5, 13, 29}) {
        std::vector<uint8_t> dst(size_t(ow) * 9 * c, 0);
        QRB_CHECK(qrb::image::cv_resize(src.data(), src.size(), 13, 7, c, ow, 9, CvInterp(k), dst.data(), dst.size()).ok);
        for (uint8_t v : dst) QRB_CHECK_EQ(int(v), 77);
      }
    }
  }
}

QRB_TEST(image_opencv, bad_input_is_a_status) {
  qrb::image::Image8 img;
  const uint8_t junk[] = {0xff, 0xd8, 0xff, 0xe0, 0, 16, 1, 2, 3};
  QRB_CHECK(!qrb::image::cv_decode(junk, sizeof junk, false, &img).ok);
  QRB_CHECK(!qrb::image::cv_decode(nullptr, 0, false, &img).ok);
  std::vector<uint8_t> src(12), dst(12);
  QRB_CHECK(!qrb::image::cv_resize(src.data(), 11, 2, 2, 3, 2, 2, CvInterp::Linear, dst.data(), 12).ok);
  QRB_CHECK(!qrb::image::cv_resize(src.data(), 12, 2, 2, 3, 2, 2, CvInterp(9), dst.data(), 12).ok);
  QRB_CHECK(!qrb::image::cv_resize(src.data(), 12, 2, 2, 3, 2, 2, CvInterp::Linear, dst.data(), 11).ok);
  QRB_CHECK(!qrb::image::cv_resize(src.data(), 12, 2, 2, 5, 2, 2, CvInterp::Linear, dst.data(), 12).ok);
}
