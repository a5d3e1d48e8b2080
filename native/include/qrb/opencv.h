// Thin OpenCV wrappers for the systematic-noise pipelines (issue 7): `dec-opencv` (cv::imdecode) and
// `rs-opencv-*` (cv::resize). Plain C++ (no napi.h); the binding is native/binding/opencv.cc.
//
//   cv_available     false when the build had no OpenCV (QRB_HAVE_OPENCV undefined): every other
//                    function then returns a Status naming the missing library.
//   cv_decode        cv::imdecode(buf, IMREAD_COLOR) then cvtColor(BGR -> RGB): exactly what
//                    `cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)` gives,
//                    EXIF orientation applied as OpenCV does (unlike Pillow) unless ignore_orientation
//                    (IMREAD_IGNORE_ORIENTATION). Greyscale files come back replicated to RGB.
//   cv_resize        cv::resize(src, Size(out_w, out_h), 0, 0, interp) on 1..4 interleaved uint8 channels.
//
// Tests: native/tests/test_image_opencv.cc (ctest -R image_opencv) and test/parity/opencv-*.test.ts
// (identical bytes to Debian's python3-opencv).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "qrb/image.h"
#include "qrb/status.h"

namespace qrb::image {

// cv::InterpolationFlags values (the binding's wire format; static_assert'ed against OpenCV in opencv.cc).
enum class CvInterp : int {
  Nearest = 0,
  Linear = 1,
  Cubic = 2,
  Area = 3,
  Lanczos4 = 4,
  LinearExact = 5,
  NearestExact = 6,
};

bool cv_available();
// "4.6.0", or "" without OpenCV.
std::string cv_version();

Status cv_decode(const uint8_t* src, size_t len, bool ignore_orientation, Image8* out);

// src: in_h*in_w*channels bytes; dst: out_h*out_w*channels bytes.
Status cv_resize(const uint8_t* src, size_t src_len, int in_w, int in_h, int channels, int out_w, int out_h,
                 CvInterp interp, uint8_t* dst, size_t dst_len);

}  // namespace qrb::image
