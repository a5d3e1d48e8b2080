// libjpeg wrapper: encode/decode round trips (4:2:0 colour, greyscale replicated to RGB, progressive),
// IDCT / upsampling options, and a seeded fuzz of the decoder (truncations, bit flips, byte
// overwrites) where every input must give either an image or a Status naming the problem, never a
// crash (this suite also runs under ASan+UBSan). Byte parity with djpeg and Pillow is checked in
// test/parity/pil-jpeg.test.ts.
#include <csetjmp>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <jpeglib.h>

#include "harness.h"
#include "qrb/image.h"

namespace {

std::vector<uint8_t> test_image(int w, int h, uint64_t seed) {
  qrb::test::Rng rng(seed);
  std::vector<uint8_t> img(size_t(w) * h * 3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c)
        img[(size_t(y) * w + x) * 3 + c] = uint8_t(x * 180 / w + y * 50 / h + c * 8 + int(rng.next() % 16));
  return img;
}

// A greyscale progressive JPEG written with libjpeg directly (our encoder only writes Pillow's default).
std::vector<uint8_t> grey_progressive(int w, int h) {
  jpeg_compress_struct c;
  jpeg_error_mgr e;
  c.err = jpeg_std_error(&e);
  jpeg_create_compress(&c);
  unsigned char* buf = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&c, &buf, &size);
  c.image_width = JDIMENSION(w);
  c.image_height = JDIMENSION(h);
  c.input_components = 1;
  c.in_color_space = JCS_GRAYSCALE;
  jpeg_set_defaults(&c);
  jpeg_set_quality(&c, 80, TRUE);
  jpeg_simple_progression(&c);
  jpeg_start_compress(&c, TRUE);
  std::vector<uint8_t> row(static_cast<size_t>(w));
  while (c.next_scanline < c.image_height) {
    for (int x = 0; x < w; ++x) row[size_t(x)] = uint8_t((x * 3 + c.next_scanline * 2) & 255);
    JSAMPROW rp = row.data();
    jpeg_write_scanlines(&c, &rp, 1);
  }
  jpeg_finish_compress(&c);
  jpeg_destroy_compress(&c);
  std::vector<uint8_t> out(buf, buf + size);
  std::free(buf);
  return out;
}

double mean_abs_diff(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += std::abs(int(a[i]) - int(b[i]));
  return s / double(a.size());
}

}  // namespace

QRB_TEST(image_jpeg, encode_decode_round_trip) {
  for (auto [w, h] : {std::pair{64, 48}, std::pair{33, 17}, std::pair{1, 1}, std::pair{7, 130}}) {
    auto img = test_image(w, h, 11);
    std::vector<uint8_t> jpg;
    QRB_CHECK(qrb::image::jpeg_encode_rgb(img.data(), img.size(), w, h, 95, &jpg).ok);
    qrb::image::JpegInfo info;
    QRB_CHECK(qrb::image::jpeg_read_info(jpg.data(), jpg.size(), &info).ok);
    QRB_CHECK_EQ(info.width, w);
    QRB_CHECK_EQ(info.height, h);
    QRB_CHECK_EQ(info.subsampling, std::string("4:2:0"));
    QRB_CHECK(!info.progressive);
    for (int dct = 0; dct < 3; ++dct)
      for (bool fancy : {true, false}) {
        qrb::image::Image8 out;
        qrb::Status st = qrb::image::jpeg_decode(jpg.data(), jpg.size(), {qrb::image::Dct(dct), fancy}, &out);
        QRB_CHECK(st.ok);
        QRB_CHECK_EQ(out.width, w);
        QRB_CHECK_EQ(out.height, h);
        QRB_CHECK_EQ(out.channels, 3);
        QRB_CHECK_EQ(out.data.size(), img.size());
        if (w >= 16 && h >= 16) QRB_CHECK(mean_abs_diff(out.data, img) < 12.0);
      }
  }
}

QRB_TEST(image_jpeg, grey_progressive_is_replicated) {
  auto jpg = grey_progressive(37, 21);
  qrb::image::Image8 out;
  qrb::image::JpegInfo info;
  QRB_CHECK(qrb::image::jpeg_decode(jpg.data(), jpg.size(), {}, &out, &info).ok);
  QRB_CHECK(info.progressive);
  QRB_CHECK_EQ(info.components, 1);
  QRB_CHECK_EQ(info.subsampling, std::string("grey"));
  QRB_CHECK_EQ(out.data.size(), size_t(37 * 21 * 3));
  for (size_t i = 0; i < out.data.size(); i += 3) {
    QRB_CHECK_EQ(int(out.data[i]), int(out.data[i + 1]));
    QRB_CHECK_EQ(int(out.data[i]), int(out.data[i + 2]));
  }
}

QRB_TEST(image_jpeg, errors_are_named) {
  qrb::image::Image8 out;
  const uint8_t junk[] = {1, 2, 3, 4, 5, 6, 7, 8};
  auto st = qrb::image::jpeg_decode(junk, sizeof junk, {}, &out);
  QRB_CHECK(!st.ok && st.message.find("corrupt JPEG") == 0);
  st = qrb::image::jpeg_decode(junk, 0, {}, &out);
  QRB_CHECK(!st.ok && st.message.find("empty") != std::string::npos);
  auto img = test_image(40, 30, 3);
  std::vector<uint8_t> jpg;
  QRB_CHECK(qrb::image::jpeg_encode_rgb(img.data(), img.size(), 40, 30, 75, &jpg).ok);
  st = qrb::image::jpeg_decode(jpg.data(), jpg.size() - 10, {}, &out);
  QRB_CHECK(!st.ok && st.message.find("truncated JPEG") == 0);
  QRB_CHECK(out.data.empty());
  std::vector<uint8_t> j2;
  QRB_CHECK(!qrb::image::jpeg_encode_rgb(img.data(), img.size(), 40, 30, 0, &j2).ok);
  QRB_CHECK(!qrb::image::jpeg_encode_rgb(img.data(), img.size() - 1, 40, 30, 75, &j2).ok);
}

QRB_TEST(image_jpeg, fuzz_decoder_never_crashes) {
  qrb::test::Rng rng(20261124);
  std::vector<std::vector<uint8_t>> seeds;
  {
    auto img = test_image(48, 40, 5);
    std::vector<uint8_t> jpg;
    QRB_CHECK(qrb::image::jpeg_encode_rgb(img.data(), img.size(), 48, 40, 85, &jpg).ok);
    seeds.push_back(jpg);
    auto img2 = test_image(17, 9, 6);
    QRB_CHECK(qrb::image::jpeg_encode_rgb(img2.data(), img2.size(), 17, 9, 30, &jpg).ok);
    seeds.push_back(jpg);
    seeds.push_back(grey_progressive(29, 31));
  }
  int images = 0, errors = 0;
  for (int it = 0; it < 600; ++it) {
    std::vector<uint8_t> data = seeds[size_t(it) % seeds.size()];
    const int kind = int(rng.next() % 3);
    if (kind == 0) {
      data.resize(size_t(rng.next() % data.size()));
    } else if (kind == 1) {
      const int flips = 1 + int(rng.next() % 8);
      for (int f = 0; f < flips; ++f) data[size_t(rng.next() % data.size())] ^= uint8_t(1u << (rng.next() % 8));
    } else {
      const size_t at = size_t(rng.next() % data.size());
      const size_t n = std::min<size_t>(data.size() - at, 1 + rng.next() % 16);
      for (size_t i = 0; i < n; ++i) data[at + i] = uint8_t(rng.next());
    }
    qrb::image::Image8 out;
    qrb::Status st = qrb::image::jpeg_decode(data.data(), data.size(), {qrb::image::Dct(it % 3), (it & 1) == 0, 1u << 20}, &out);
    if (st.ok) {
      QRB_CHECK(out.width > 0 && out.height > 0);
      QRB_CHECK_EQ(out.data.size(), size_t(out.width) * out.height * 3);
      ++images;
    } else {
      QRB_CHECK(!st.message.empty());
      QRB_CHECK(st.message.find("JPEG") != std::string::npos);
      ++errors;
    }
  }
  std::printf("  fuzz: %d images, %d named errors\n", images, errors);
  QRB_CHECK(images > 0 && errors > 0);
}
