// OpenCV wrappers of the systematic-noise pipelines; see qrb/opencv.h. Each call mirrors the Python
// expression the paper's source uses, so that outputs are byte-identical to python3-opencv of the same
// OpenCV build: imdecode with IMREAD_COLOR (EXIF orientation applied by OpenCV itself) then cvtColor
// BGR -> RGB; resize with the given interpolation flag and no fx/fy.
#include "qrb/opencv.h"

#include <cstring>
#include <exception>
#include <string>

#ifdef QRB_HAVE_OPENCV
#include <opencv2/core.hpp>
#include <opencv2/core/version.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#endif

namespace qrb::image {

#ifdef QRB_HAVE_OPENCV
// The wire values are OpenCV's own flags.
static_assert(int(CvInterp::Nearest) == cv::INTER_NEAREST, "INTER_NEAREST");
static_assert(int(CvInterp::Linear) == cv::INTER_LINEAR, "INTER_LINEAR");
static_assert(int(CvInterp::Cubic) == cv::INTER_CUBIC, "INTER_CUBIC");
static_assert(int(CvInterp::Area) == cv::INTER_AREA, "INTER_AREA");
static_assert(int(CvInterp::Lanczos4) == cv::INTER_LANCZOS4, "INTER_LANCZOS4");
static_assert(int(CvInterp::LinearExact) == cv::INTER_LINEAR_EXACT, "INTER_LINEAR_EXACT");
static_assert(int(CvInterp::NearestExact) == 6, "INTER_NEAREST_EXACT (not in every OpenCV header as a name)");

bool cv_available() { return true; }
std::string cv_version() { return CV_VERSION; }

Status cv_decode(const uint8_t* src, size_t len, bool ignore_orientation, Image8* out) {
  if (!src || len == 0) return Status::Error("cv_decode: empty input");
  if (len > size_t(INT32_MAX)) return Status::Error("cv_decode: input larger than 2 GiB");
  try {
    // A header-only view: imdecode reads from it and never writes.
    cv::Mat buf(1, int(len), CV_8UC1, const_cast<uint8_t*>(src));
    int flags = cv::IMREAD_COLOR | (ignore_orientation ? cv::IMREAD_IGNORE_ORIENTATION : 0);
    cv::Mat bgr = cv::imdecode(buf, flags);
    if (bgr.empty()) return Status::Error("OpenCV cannot decode the image (cv::imdecode returned an empty image)");
    if (bgr.type() != CV_8UC3) return Status::Error("cv_decode: unexpected OpenCV image type " + std::to_string(bgr.type()));
    cv::Mat rgb;
    cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
    out->width = rgb.cols;
    out->height = rgb.rows;
    out->channels = 3;
    out->data.resize(size_t(rgb.cols) * size_t(rgb.rows) * 3);
    const size_t row = size_t(rgb.cols) * 3;
    for (int y = 0; y < rgb.rows; ++y) std::memcpy(out->data.data() + size_t(y) * row, rgb.ptr<uint8_t>(y), row);
    return Status::Ok();
  } catch (const cv::Exception& e) {
    return Status::Error(std::string("OpenCV cannot decode the image: ") + e.what());
  }
}

Status cv_resize(const uint8_t* src, size_t src_len, int in_w, int in_h, int channels, int out_w, int out_h,
                 CvInterp interp, uint8_t* dst, size_t dst_len) {
  if (in_w < 1 || in_h < 1 || out_w < 1 || out_h < 1) return Status::Error("cv_resize: sizes must be positive");
  if (channels < 1 || channels > 4) return Status::Error("cv_resize: channels must be 1..4");
  int code = int(interp);
  if (code < 0 || code > 6) return Status::Error("cv_resize: interpolation must be 0..6 but received " + std::to_string(code));
  if (src_len != size_t(in_w) * size_t(in_h) * size_t(channels))
    return Status::Error("cv_resize: src holds " + std::to_string(src_len) + " bytes, expected " +
                         std::to_string(size_t(in_w) * size_t(in_h) * size_t(channels)));
  if (dst_len != size_t(out_w) * size_t(out_h) * size_t(channels))
    return Status::Error("cv_resize: dst holds " + std::to_string(dst_len) + " bytes, expected " +
                         std::to_string(size_t(out_w) * size_t(out_h) * size_t(channels)));
  try {
    cv::Mat in(in_h, in_w, CV_8UC(channels), const_cast<uint8_t*>(src));
    // Writing straight into dst: cv::resize reuses a Mat of the right size and type without reallocating.
    cv::Mat out(out_h, out_w, CV_8UC(channels), dst);
    cv::resize(in, out, cv::Size(out_w, out_h), 0, 0, code);
    if (out.data != dst) return Status::Error("cv_resize: OpenCV reallocated the output");
    return Status::Ok();
  } catch (const cv::Exception& e) {
    return Status::Error(std::string("cv_resize: ") + e.what());
  }
}

#else

namespace {
const char* kNoOpenCV = "OpenCV is not available: the qrobust addon was built without it (apt: libopencv-dev, then rebuild)";
}
bool cv_available() { return false; }
std::string cv_version() { return ""; }
Status cv_decode(const uint8_t*, size_t, bool, Image8*) { return Status::Error(kNoOpenCV); }
Status cv_resize(const uint8_t*, size_t, int, int, int, int, int, CvInterp, uint8_t*, size_t) {
  return Status::Error(kNoOpenCV);
}

#endif

}  // namespace qrb::image
