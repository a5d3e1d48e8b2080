// Which optional system libraries this build found and linked, and their versions.
// Each is compiled in only when CMake / binding.gyp found it (QRB_HAVE_* defines), so a machine
// without OpenCV still builds; the feature that needs it then reports the library by name.
#pragma once
#include <string>
#include <vector>

namespace qrb {

struct LibInfo {
  std::string name;     // "opencv", "libjpeg", "openblas", "dnnl", "cuda"
  bool present;
  std::string version;  // empty when absent
};

std::vector<LibInfo> library_info();
std::string addon_version();
std::string blas_backend();  // "dnnl", "openblas" or "none": the float GEMM backend the engine will use

}  // namespace qrb
