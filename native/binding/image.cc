// Binding for the image functions. See ts/native/image.ts for the typed contract.
#include "common.h"

namespace qrb::binding {

void init_image(Napi::Env env, Napi::Object exports) {}

}  // namespace qrb::binding
