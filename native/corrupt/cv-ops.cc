// The OpenCV parts of the reference: defocus_blur (disk kernel antialiased by cv::GaussianBlur, then
// cv::filter2D on float64 planes), elastic_transform (cv::getAffineTransform + cv::warpAffine on float32,
// then the scipy displacement step), and cv::resize(INTER_LINEAR) for frost textures at 64/32 pixels.
// Calling OpenCV itself (the same libopencv the reference's cv2 loads) keeps its border modes
// (BORDER_REFLECT_101) and its float paths bit-identical. Without OpenCV each returns an error naming it.
// Tests: native/tests/test_image_corrupt.cc; test/parity/corrupt-*.test.ts against cv2.
#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <cstring>
#include <string>
#include <vector>

#include "qrb/corrupt.h"

#ifdef QRB_HAVE_OPENCV
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#endif

namespace qrb::corrupt {

#ifdef QRB_HAVE_OPENCV
bool have_opencv() { return true; }

namespace {
template <class F>
Status guarded(const char* what, F&& f) {
  try {
    f();
  } catch (const cv::Exception& e) {
    return Status::Error(std::string(what) + ": OpenCV error: " + e.what());
  } catch (const std::exception& e) {
    return Status::Error(std::string(what) + ": " + e.what());
  }
  return Status::Ok();
}
}  // namespace

Status defocus_blur_u8(const uint8_t* src, int h, int w, int c, double radius, double alias_blur, uint8_t* dst) {
  if (!src || !dst || h < 1 || w < 1 || c < 1) return Status::Error("defocus_blur: bad image (h, w, c must be >= 1)");
  if (!(radius > 0) || radius > 200 || !(alias_blur > 0)) return Status::Error("defocus_blur: radius must be in (0, 200] and alias_blur > 0");
  return guarded("defocus_blur", [&] {
    // disk(): grid -8..8 and a 3x3 antialias for r <= 8, else -r..r (np.arange(-r, r+1)) and 5x5.
    std::vector<double> L;
    int ks;
    if (radius <= 8) {
      for (int i = -8; i <= 8; i++) L.push_back(double(i));
      ks = 3;
    } else {
      const long len = long(std::ceil((radius + 1) - (-radius)));  // np.arange(-r, r + 1)
      for (long i = 0; i < len; i++) L.push_back(-radius + double(i));
      ks = 5;
    }
    const int n = int(L.size());
    cv::Mat disk(n, n, CV_32F);
    const double r2 = radius * radius;
    float count = 0.0f;
    for (int i = 0; i < n; i++)
      for (int j = 0; j < n; j++) {
        const double X = L[size_t(j)], Y = L[size_t(i)];
        const float v = (X * X + Y * Y) <= r2 ? 1.0f : 0.0f;
        disk.at<float>(i, j) = v;
        count += v;  // exact: a count of ones
      }
    for (int i = 0; i < n; i++)
      for (int j = 0; j < n; j++) disk.at<float>(i, j) = disk.at<float>(i, j) / count;
    cv::Mat kernel;
    cv::GaussianBlur(disk, kernel, cv::Size(ks, ks), alias_blur);
    cv::Mat plane(h, w, CV_64F), out;
    for (int ch = 0; ch < c; ch++) {
      for (int y = 0; y < h; y++) {
        double* row = plane.ptr<double>(y);
        const uint8_t* s = src + size_t(y) * w * c + ch;
        for (int x = 0; x < w; x++) row[x] = double(s[size_t(x) * c]) / 255.0;
      }
      cv::filter2D(plane, out, -1, kernel);
      for (int y = 0; y < h; y++) {
        const double* row = out.ptr<double>(y);
        uint8_t* d = dst + size_t(y) * w * c + ch;
        for (int x = 0; x < w; x++) {
          double v = row[x] < 0 ? 0 : (row[x] > 1 ? 1 : row[x]);
          d[size_t(x) * c] = uint8_t(v * 255.0);
        }
      }
    }
  });
}

Status elastic_u8(const uint8_t* src, int h, int w, int c, double alpha, double sigma, const float* jitter,
                  const double* ux, const double* uy, uint8_t* dst) {
  if (!src || !dst || !jitter || !ux || !uy || h < 1 || w < 1 || c < 1 || c > 4) return Status::Error("elastic_transform: bad arguments");
  if (!std::isfinite(alpha) || !(sigma >= 0) || !std::isfinite(sigma)) return Status::Error("elastic_transform: alpha must be finite and sigma >= 0");
  const size_t n = size_t(h) * w * c, hw = size_t(h) * w;
  std::vector<float> warped(n);
  Status st = guarded("elastic_transform", [&] {
    cv::Mat img(h, w, CV_32FC(c));
    float* p = img.ptr<float>(0);
    for (size_t i = 0; i < n; i++) p[i] = float(src[i]) / 255.0f;
    // pts1 as the reference builds them from shape (H, W): centre (H//2, W//2) used as (x, y).
    const float cy = float(std::floor(float(h) / 2.0f)), cx = float(std::floor(float(w) / 2.0f));
    const float sq = float(std::min(h, w) / 3);
    cv::Point2f p1[3] = {{cy + sq, cx + sq}, {cy + sq, cx - sq}, {cy - sq, cx - sq}};
    cv::Point2f p2[3];
    for (int i = 0; i < 3; i++) p2[i] = {p1[i].x + jitter[2 * i], p1[i].y + jitter[2 * i + 1]};
    cv::Mat M = cv::getAffineTransform(p1, p2);
    cv::Mat out(h, w, CV_32FC(c), warped.data());
    cv::warpAffine(img, out, M, cv::Size(w, h), cv::INTER_LINEAR, cv::BORDER_REFLECT_101);
    if (out.data != reinterpret_cast<uchar*>(warped.data())) std::memcpy(warped.data(), out.ptr<float>(0), n * sizeof(float));
  });
  if (!st.ok) return st;
  std::vector<double> g(hw);
  std::vector<float> dx(hw), dy(hw);
  st = gaussian_filter_hw(ux, h, w, 1, sigma, 3.0, NdMode::Reflect, g.data());
  if (!st.ok) return st;
  for (size_t i = 0; i < hw; i++) dx[i] = float(g[i] * alpha);
  st = gaussian_filter_hw(uy, h, w, 1, sigma, 3.0, NdMode::Reflect, g.data());
  if (!st.ok) return st;
  for (size_t i = 0; i < hw; i++) dy[i] = float(g[i] * alpha);
  std::vector<float> res(n);
  st = map_coordinates_hw_f32(warped.data(), h, w, c, dy.data(), dx.data(), res.data());
  if (!st.ok) return st;
  for (size_t i = 0; i < n; i++) {
    float v = res[i] < 0.0f ? 0.0f : (res[i] > 1.0f ? 1.0f : res[i]);
    dst[i] = uint8_t(v * 255.0f);
  }
  return Status::Ok();
}

Status cv_resize_linear_u8(const uint8_t* src, int h, int w, int c, double fx, double fy, int* out_h, int* out_w,
                           uint8_t* dst, size_t dst_len) {
  if (!src || h < 1 || w < 1 || c < 1 || c > 4) return Status::Error("cv_resize_linear: bad image");
  if (!(fx > 0) || !(fy > 0)) return Status::Error("cv_resize_linear: fx and fy must be > 0");
  const int ow = int(std::lrint(double(w) * fx)), oh = int(std::lrint(double(h) * fy));  // cvRound
  if (ow < 1 || oh < 1) return Status::Error("cv_resize_linear: output would be empty");
  *out_h = oh;
  *out_w = ow;
  if (!dst) return Status::Ok();
  if (dst_len != size_t(oh) * ow * c) return Status::Error("cv_resize_linear: dst has the wrong size");
  return guarded("cv_resize_linear", [&] {
    cv::Mat in(h, w, CV_8UC(c), const_cast<uint8_t*>(src));
    cv::Mat out(oh, ow, CV_8UC(c), dst);
    cv::resize(in, out, cv::Size(), fx, fy, cv::INTER_LINEAR);
    if (out.data != dst) throw std::runtime_error("unexpected output size from cv::resize");
  });
}

#else
bool have_opencv() { return false; }

namespace {
Status no_opencv(const char* what) {
  return Status::Error(std::string(what) + " needs OpenCV, which this build lacks (apt: libopencv-dev, then rebuild)");
}
}  // namespace

Status defocus_blur_u8(const uint8_t*, int, int, int, double, double, uint8_t*) { return no_opencv("defocus_blur"); }
Status elastic_u8(const uint8_t*, int, int, int, double, double, const float*, const double*, const double*, uint8_t*) {
  return no_opencv("elastic_transform");
}
Status cv_resize_linear_u8(const uint8_t*, int, int, int, double, double, int*, int*, uint8_t*, size_t) {
  return no_opencv("cv_resize_linear (frost textures below 224 px)");
}
#endif

}  // namespace qrb::corrupt
