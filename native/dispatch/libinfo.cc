// Library presence and versions, read from the libraries themselves at run time where they offer it.
#include "qrb/libinfo.h"

#ifdef QRB_HAVE_OPENCV
#include <opencv2/core/utility.hpp>
#endif
#ifdef QRB_HAVE_JPEG
#include <cstdio>
#include <jpeglib.h>
#endif
#ifdef QRB_HAVE_OPENBLAS
extern "C" char* openblas_get_config(void);
#endif
#ifdef QRB_HAVE_DNNL
#include <oneapi/dnnl/dnnl.h>
#endif

#ifndef QRB_VERSION
#define QRB_VERSION "0.0.0"
#endif

namespace qrb {

std::string addon_version() { return QRB_VERSION; }

std::vector<LibInfo> library_info() {
  std::vector<LibInfo> out;
#ifdef QRB_HAVE_OPENCV
  out.push_back({"opencv", true, cv::getVersionString()});
#else
  out.push_back({"opencv", false, ""});
#endif
#ifdef QRB_HAVE_JPEG
#ifdef LIBJPEG_TURBO_VERSION
#define QRB_STR2(x) #x
#define QRB_STR(x) QRB_STR2(x)
  out.push_back({"libjpeg", true, std::string("libjpeg-turbo ") + QRB_STR(LIBJPEG_TURBO_VERSION)});
#else
  out.push_back({"libjpeg", true, "libjpeg " + std::to_string(JPEG_LIB_VERSION)});
#endif
#else
  out.push_back({"libjpeg", false, ""});
#endif
#ifdef QRB_HAVE_OPENBLAS
  {
    std::string cfg = openblas_get_config();  // "OpenBLAS 0.3.21 DYNAMIC_ARCH ..."
    out.push_back({"openblas", true, cfg});
  }
#else
  out.push_back({"openblas", false, ""});
#endif
#ifdef QRB_HAVE_DNNL
  {
    const dnnl_version_t* v = dnnl_version();
    out.push_back({"dnnl", true,
                   std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch)});
  }
#else
  out.push_back({"dnnl", false, ""});
#endif
  out.push_back({"cuda", false, ""});
  return out;
}

std::string blas_backend() {
#if defined(QRB_HAVE_DNNL)
  return "dnnl";
#elif defined(QRB_HAVE_OPENBLAS)
  return "openblas";
#else
  return "none";
#endif
}

}  // namespace qrb
