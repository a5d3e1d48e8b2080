// hwcToChw(src: Uint8Array, h, w, c, dst: Float32Array, scale): zero-copy (byteOffset honoured by
// node-addon-api's TypedArrayOf::Data), synchronous: one image takes microseconds.
#include "common.h"
#include "qrb/convert.h"

namespace qrb::binding {

static Napi::Value HwcToChw(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto src = arg_typed<uint8_t>(info, 0, napi_uint8_array, "Uint8Array", "hwcToChw(src)");
  size_t h = arg_size(info, 1, "hwcToChw(h)");
  size_t w = arg_size(info, 2, "hwcToChw(w)");
  size_t c = arg_size(info, 3, "hwcToChw(c)");
  auto dst = arg_typed<float>(info, 4, napi_float32_array, "Float32Array", "hwcToChw(dst)");
  double scale = arg_number(info, 5, "hwcToChw(scale)");
  check(env, u8hwc_to_f32chw(src.Data(), src.ElementLength(), h, w, c, dst.Data(), dst.ElementLength(), float(scale)));
  return env.Undefined();
}

void init_convert(Napi::Env env, Napi::Object exports) {
  exports.Set("hwcToChw", Napi::Function::New(env, HwcToChw, "hwcToChw"));
}

}  // namespace qrb::binding
