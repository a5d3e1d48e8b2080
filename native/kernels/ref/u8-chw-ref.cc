// u8chw_ref: scalar reference twin for the HWC uint8 -> CHW float32 conversion (see qrb/convert.h).
#include "qrb/convert.h"

namespace qrb {

void u8chw_ref(const uint8_t* src, size_t hw, size_t c, float* dst, float scale) {
  for (size_t ch = 0; ch < c; ++ch) {
    float* plane = dst + ch * hw;
    for (size_t i = 0; i < hw; ++i) plane[i] = float(src[i * c + ch]) * scale;
  }
}

}  // namespace qrb
