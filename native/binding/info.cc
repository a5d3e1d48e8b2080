// info(): versions, CPU features, the kernel each op dispatches to, and optional libraries.
// setIsaCap(name): caps run-time dispatch (tests force each path through it).
#include "common.h"
#include "qrb/cpu.h"
#include "qrb/libinfo.h"
#include "qrb/registry.h"

namespace qrb::binding {

static Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  out.Set("addon", addon_version());
  out.Set("napi", NAPI_VERSION);
  out.Set("arch", arch_name());
  Napi::Array feats = Napi::Array::New(env);
  auto names = cpu_feature_names();
  for (size_t i = 0; i < names.size(); ++i) feats.Set(uint32_t(i), names[i]);
  out.Set("features", feats);
  out.Set("isaCap", isa_cap());
  Napi::Object kernels = Napi::Object::New(env);
  for (auto& kv : kernel_choices()) kernels.Set(kv.first, kv.second);
  out.Set("kernels", kernels);
  Napi::Object libs = Napi::Object::New(env);
  for (auto& l : library_info()) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("present", l.present);
    o.Set("version", l.present ? Napi::Value(Napi::String::New(env, l.version)) : env.Null());
    libs.Set(l.name, o);
  }
  out.Set("libraries", libs);
  out.Set("blas", blas_backend());
  return out;
}

static Napi::Value SetIsaCap(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) throw_type(env, "setIsaCap(name)", "string", info[0]);
  std::string name = info[0].As<Napi::String>().Utf8Value();
  if (!set_isa_cap(name))
    throw Napi::RangeError::New(env, "setIsaCap(name): expected one of native, scalar, avx2, avx512, avx512vnni, neon, "
                                     "neondot but received " + name);
  return Napi::String::New(env, isa_cap());
}

void init_info(Napi::Env env, Napi::Object exports) {
  exports.Set("info", Napi::Function::New(env, Info, "info"));
  exports.Set("setIsaCap", Napi::Function::New(env, SetIsaCap, "setIsaCap"));
}

}  // namespace qrb::binding
