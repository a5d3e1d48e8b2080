// Module entry: each feature file registers its own functions.
#include "common.h"

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  qrb::binding::init_info(env, exports);
  qrb::binding::init_convert(env, exports);
  qrb::binding::init_intq(env, exports);
  qrb::binding::init_image(env, exports);
  qrb::binding::init_float(env, exports);
  qrb::binding::init_opencv(env, exports);
  qrb::binding::init_intq_fast(env, exports);
  qrb::binding::init_corrupt(env, exports);
  qrb::binding::init_cuda(env, exports);
  qrb::binding::init_fake_quant(env, exports);
  return exports;
}

NODE_API_MODULE(qrobust, Init)
