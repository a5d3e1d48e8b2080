// Invariants of the corruption kernels that need no Python (per-pixel parity with scipy / skimage /
// ImageMagick / OpenCV is test/parity/corrupt-*.test.ts): constant images stay constant, gaussian
// weights sum to one, zoom by 1 is the identity, motion blur with radius ~0 keeps the image, the glass
// shuffle copies instead of swapping, map_coordinates reflects at the borders, and bad arguments give a
// Status naming them.
#include <cmath>
#include <cstring>
#include <vector>

#include "harness.h"
#include "qrb/corrupt.h"

using namespace qrb::corrupt;

QRB_TEST(image_corrupt, gaussian_constant_and_impulse) {
  const int h = 9, w = 7, c = 2;
  std::vector<double> a(h * w * c, 0.25), b(a.size());
  QRB_CHECK(gaussian_filter_hw(a.data(), h, w, c, 1.3, 4.0, NdMode::Nearest, b.data()).ok);
  for (double v : b) QRB_CHECK(std::fabs(v - 0.25) < 1e-15);
  std::vector<double> d(h * w * c, 0.0);
  d[(4 * w + 3) * c] = 1.0;
  QRB_CHECK(gaussian_filter_hw(d.data(), h, w, c, 0.8, 4.0, NdMode::Reflect, b.data()).ok);
  double s0 = 0, s1 = 0;
  for (int i = 0; i < h * w; i++) { s0 += b[i * c]; s1 += b[i * c + 1]; }
  QRB_CHECK(std::fabs(s0 - 1.0) < 1e-12);
  QRB_CHECK(s1 == 0.0);
  QRB_CHECK(b[(4 * w + 2) * c] == b[(4 * w + 4) * c]);  // symmetric
  // radius far beyond the image (elastic at 224 uses sigma 170.8, truncate 3)
  QRB_CHECK(gaussian_filter_hw(a.data(), h, w, c, 170.8, 3.0, NdMode::Reflect, b.data()).ok);
  for (double v : b) QRB_CHECK(std::fabs(v - 0.25) < 1e-12);
  QRB_CHECK(!gaussian_filter_hw(a.data(), h, w, c, -1, 4.0, NdMode::Nearest, b.data()).ok);
}

QRB_TEST(image_corrupt, zoom_identity_and_constant) {
  const int h = 11, w = 11, c = 3;
  std::vector<float> a(h * w * c), b(a.size());
  for (size_t i = 0; i < a.size(); i++) a[i] = float(i % 17) / 16.0f;
  QRB_CHECK(clipped_zoom_f32(a.data(), h, w, c, 1.0, b.data()).ok);
  QRB_CHECK(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
  std::vector<double> k(h * w, 0.5), kb(k.size());
  QRB_CHECK(clipped_zoom_f64(k.data(), h, w, 1, 1.37, kb.data()).ok);
  for (double v : kb) QRB_CHECK(std::fabs(v - 0.5) < 1e-15);
  QRB_CHECK(!clipped_zoom_f64(k.data(), h, w, 1, 0.5, kb.data()).ok);
  std::vector<uint8_t> u(h * w * c, 77), o(u.size());
  const double zs[] = {1.0, 1.01, 1.02};
  QRB_CHECK(zoom_blur_u8(u.data(), h, w, c, zs, 3, o.data()).ok);
  for (uint8_t v : o) QRB_CHECK(v == 76 || v == 77);
}

QRB_TEST(image_corrupt, motion_blur_basics) {
  const int h = 12, w = 10, c = 3;
  std::vector<uint8_t> a(h * w * c, 200), b(a.size());
  QRB_CHECK(motion_blur_u8(a.data(), h, w, c, 5, 2, 30, b.data()).ok);
  for (uint8_t v : b) QRB_CHECK(v == 200);  // constant stays constant (weights normalised, edge replicate)
  for (size_t i = 0; i < a.size(); i++) a[i] = uint8_t((i * 37) % 256);
  QRB_CHECK(motion_blur_u8(a.data(), h, w, c, 1e-6, 1e-9, 0, b.data()).ok);  // width 3, all weight at i=0
  QRB_CHECK(std::memcmp(a.data(), b.data(), a.size()) == 0);
  QRB_CHECK(!motion_blur_u8(a.data(), h, w, c, 0, 1, 0, b.data()).ok);
}

QRB_TEST(image_corrupt, glass_copy_not_swap) {
  const int h = 6, w = 6, c = 1, d = 1;
  std::vector<uint8_t> a(h * w * c, 0), b(a.size());
  const int n = (h - 2 * d) * (w - 2 * d);
  std::vector<int32_t> off(size_t(n) * 2, 0);
  QRB_CHECK(glass_blur_u8(a.data(), h, w, c, 0.5, d, 1, off.data(), off.size(), b.data()).ok);
  for (uint8_t v : b) QRB_CHECK(v == 0);
  QRB_CHECK(!glass_blur_u8(a.data(), h, w, c, 0.5, d, 1, off.data(), off.size() - 2, b.data()).ok);
  off[0] = 1;  // dx = 1 is outside [-1, 1)
  QRB_CHECK(!glass_blur_u8(a.data(), h, w, c, 0.5, d, 1, off.data(), off.size(), b.data()).ok);
}

QRB_TEST(image_corrupt, map_coordinates_reflect) {
  // 1 x 5 x 1 image 0,10,20,30,40: scipy 1.10 map_coordinates(order=1, mode='reflect') gives these values
  // (half-sample reflection, periodic: -0.25 -> 0, -1.25 -> 2.5, -4.5 -> 35, -7.25 -> 27.5, 5.25 -> 37.5)
  const float img[5] = {0, 10, 20, 30, 40};
  std::vector<float> o(5), dy(5, 0.0f), dx(5);
  const double at[5] = {-0.25, -1.25, -4.5, -7.25, 5.25};
  for (int i = 0; i < 5; i++) dx[size_t(i)] = float(at[i] - i);
  QRB_CHECK(map_coordinates_hw_f32(img, 1, 5, 1, dy.data(), dx.data(), o.data()).ok);
  const double want2[5] = {0, 2.5, 35, 27.5, 37.5};
  for (int i = 0; i < 5; i++) QRB_CHECK(std::fabs(o[size_t(i)] - want2[i]) < 1e-4);
}

QRB_TEST(image_corrupt, opencv_ops) {
  const int h = 20, w = 20, c = 3;
  std::vector<uint8_t> a(h * w * c, 128), b(a.size());
  qrb::Status st = defocus_blur_u8(a.data(), h, w, c, 3, 0.1, b.data());
  if (!have_opencv()) {
    QRB_CHECK(!st.ok && st.message.find("OpenCV") != std::string::npos);
    return;
  }
  QRB_CHECK(st.ok);
  for (uint8_t v : b) QRB_CHECK(v == 127 || v == 128);
  std::vector<double> ux(h * w, 0.0), uy(h * w, 0.0);
  float jit[6] = {0, 0, 0, 0, 0, 0};
  for (size_t i = 0; i < a.size(); i++) a[i] = uint8_t(i % 251);
  QRB_CHECK(elastic_u8(a.data(), h, w, c, 5, 2, jit, ux.data(), uy.data(), b.data()).ok);
  int off = 0;  // no jitter, no displacement: identity up to the /255*255 truncation
  for (size_t i = 0; i < a.size(); i++) off += std::abs(int(a[i]) - int(b[i])) > 1;
  QRB_CHECK(off == 0);
  int oh = 0, ow = 0;
  QRB_CHECK(cv_resize_linear_u8(a.data(), h, w, c, 0.3, 0.3, &oh, &ow, nullptr, 0).ok);
  QRB_CHECK(oh == 6 && ow == 6);
  std::vector<uint8_t> r(size_t(oh) * ow * c);
  QRB_CHECK(cv_resize_linear_u8(a.data(), h, w, c, 0.3, 0.3, &oh, &ow, r.data(), r.size()).ok);
}
