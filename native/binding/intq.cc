// Binding for the intq functions. See ts/native/intq.ts for the typed contract.
#include "common.h"

namespace qrb::binding {

void init_intq(Napi::Env env, Napi::Object exports) {}

}  // namespace qrb::binding
