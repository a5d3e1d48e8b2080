// Shared helpers of the binding layer (the only napi.h includer). Argument checks name the argument
// path, e.g. "hwcToChw(src): expected Uint8Array but received Float32Array".
#pragma once
#include <napi.h>

#include <string>

#include "qrb/status.h"

namespace qrb::binding {

inline std::string js_type_name(const Napi::Value& v) {
  if (v.IsUndefined()) return "undefined";
  if (v.IsNull()) return "null";
  if (v.IsTypedArray()) {
    switch (v.As<Napi::TypedArray>().TypedArrayType()) {
      case napi_uint8_array: return "Uint8Array";
      case napi_int8_array: return "Int8Array";
      case napi_float32_array: return "Float32Array";
      case napi_int32_array: return "Int32Array";
      case napi_uint8_clamped_array: return "Uint8ClampedArray";
      case napi_float64_array: return "Float64Array";
      default: return "TypedArray";
    }
  }
  if (v.IsArray()) return "Array";
  if (v.IsString()) return "string";
  if (v.IsNumber()) return "number";
  if (v.IsBoolean()) return "boolean";
  if (v.IsFunction()) return "function";
  return "object";
}

[[noreturn]] inline void throw_type(Napi::Env env, const std::string& where, const std::string& expected,
                                    const Napi::Value& got) {
  throw Napi::TypeError::New(env, where + ": expected " + expected + " but received " + js_type_name(got));
}

template <class T>
inline Napi::TypedArrayOf<T> arg_typed(const Napi::CallbackInfo& info, size_t i, napi_typedarray_type type,
                                       const char* type_name, const std::string& where) {
  Napi::Value v = info[i];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != type) throw_type(info.Env(), where, type_name, v);
  return v.As<Napi::TypedArrayOf<T>>();
}

inline double arg_number(const Napi::CallbackInfo& info, size_t i, const std::string& where) {
  Napi::Value v = info[i];
  if (!v.IsNumber()) throw_type(info.Env(), where, "number", v);
  return v.As<Napi::Number>().DoubleValue();
}

inline size_t arg_size(const Napi::CallbackInfo& info, size_t i, const std::string& where) {
  double d = arg_number(info, i, where);
  if (!(d >= 0) || d != double(size_t(d)) || d > 9007199254740991.0)
    throw Napi::RangeError::New(info.Env(), where + ": expected a non-negative integer but received " + std::to_string(d));
  return size_t(d);
}

inline void check(Napi::Env env, const Status& s) {
  if (!s.ok) throw Napi::Error::New(env, s.message);
}

void init_info(Napi::Env env, Napi::Object exports);
void init_convert(Napi::Env env, Napi::Object exports);
void init_intq(Napi::Env env, Napi::Object exports);   // integer kernels (native/binding/intq.cc)
void init_image(Napi::Env env, Napi::Object exports);  // libjpeg + resampling (native/binding/image.cc)
void init_float(Napi::Env env, Napi::Object exports);  // float engine primitives (native/binding/float.cc)
void init_opencv(Napi::Env env, Napi::Object exports);  // OpenCV imdecode/resize (native/binding/opencv.cc)
void init_intq_fast(Napi::Env, Napi::Object);
void init_corrupt(Napi::Env env, Napi::Object exports);  // ImageNet-C corruption kernels (native/binding/corrupt.cc)
void init_cuda(Napi::Env env, Napi::Object exports);     // CUDA path (native/binding/cuda.cc)
void init_fake_quant(Napi::Env env, Napi::Object exports);  // QAT fake-quant kernels (native/binding/fake_quant.cc)

}  // namespace qrb::binding
