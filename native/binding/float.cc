// Binding for the float engine primitives. See ts/native/float.ts for the typed contract.
#include "common.h"

namespace qrb::binding {

void init_float(Napi::Env env, Napi::Object exports) {}

}  // namespace qrb::binding
