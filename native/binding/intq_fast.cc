// Binding for the fast integer kernels (qrb/intq_fast.h, issue 5). Typed contract: ts/native/intq-fast.ts
// (IntqFastNative). Packed weights cross as an opaque External holding a shared_ptr (freed by the GC).
// Calls are synchronous on purpose: the benchmark times the kernel itself and the kernels run their own
// thread pool (opts.threads). Argument errors name the path, e.g. "intqFastGemm(opts.m): expected ...".
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "common.h"
#include "qrb/intq.h"
#include "qrb/intq_fast.h"

namespace qrb::binding {

using namespace qrb::intq;

namespace {

Napi::Object obj_arg(const Napi::CallbackInfo& info, size_t i, const std::string& where) {
  Napi::Value v = info[i];
  if (!v.IsObject() || v.IsArray() || v.IsTypedArray()) throw_type(info.Env(), where, "object", v);
  return v.As<Napi::Object>();
}

int64_t opt_int(const Napi::Object& o, const char* key, int64_t dflt, const std::string& where, bool required = false) {
  Napi::Value v = o.Get(key);
  if (!required && (v.IsUndefined() || v.IsNull())) return dflt;
  if (!v.IsNumber()) throw_type(o.Env(), where + "." + key, "integer", v);
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= -2147483648.0 && d <= 4294967295.0) || d != std::floor(d))
    throw Napi::RangeError::New(o.Env(), where + "." + key + ": expected an integer but received " + std::to_string(d));
  return int64_t(d);
}

size_t opt_size(const Napi::Object& o, const char* key, size_t dflt, const std::string& where, bool required = false) {
  const int64_t v = opt_int(o, key, int64_t(dflt), where, required);
  if (v < 0) throw Napi::RangeError::New(o.Env(), where + "." + key + ": expected a non-negative integer but received " + std::to_string(v));
  return size_t(v);
}

bool opt_bool(const Napi::Object& o, const char* key, const std::string& where) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return false;
  if (!v.IsBoolean()) throw_type(o.Env(), where + "." + key, "boolean", v);
  return v.As<Napi::Boolean>().Value();
}

template <class T>
bool opt_typed(const Napi::Object& o, const char* key, napi_typedarray_type type, const char* type_name,
               const std::string& where, Napi::TypedArrayOf<T>* out) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return false;
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != type) throw_type(o.Env(), where + "." + key, type_name, v);
  *out = v.As<Napi::TypedArrayOf<T>>();
  return true;
}

Operand bytes_arg(const Napi::CallbackInfo& info, size_t i, const std::string& where) {
  Napi::Value v = info[i];
  if (v.IsTypedArray()) {
    auto t = v.As<Napi::TypedArray>();
    if (t.TypedArrayType() == napi_int8_array) {
      auto a = v.As<Napi::Int8Array>();
      return {a.Data(), a.ElementLength(), DType::kS8};
    }
    if (t.TypedArrayType() == napi_uint8_array) {
      auto a = v.As<Napi::Uint8Array>();
      return {a.Data(), a.ElementLength(), DType::kU8};
    }
  }
  throw_type(info.Env(), where, "Int8Array or Uint8Array", v);
}

// weights + opts {bits, unsignedWeights, wZeroPoint} (the same convention as intqGemm)
Weights weights_arg(const Napi::CallbackInfo& info, size_t i, const Napi::Object& o, const std::string& fn,
                    Napi::Int32Array* zp) {
  Weights wt;
  wt.bits = int(opt_int(o, "bits", 8, fn + "(opts)"));
  const Operand b = bytes_arg(info, i, fn + "(weights)");
  wt.data = b.data, wt.len = b.len;
  if (wt.bits == 8) {
    wt.dtype = b.dtype;
  } else {
    if (b.dtype != DType::kU8) throw Napi::TypeError::New(info.Env(), fn + "(weights): packed weights must be a Uint8Array");
    wt.dtype = opt_bool(o, "unsignedWeights", fn + "(opts)") ? DType::kU8 : DType::kS8;
  }
  if (opt_typed<int32_t>(o, "wZeroPoint", napi_int32_array, "Int32Array", fn + "(opts)", zp)) {
    wt.zp = zp->Data();
    wt.zp_len = zp->ElementLength();
  }
  return wt;
}

Variant variant_arg(Napi::Env env, const Napi::Object& o, const std::string& where) {
  Napi::Value v = o.Get("variant");
  if (!v.IsString()) throw_type(env, where + ".variant", "string", v);
  Variant r;
  const std::string name = v.As<Napi::String>().Utf8Value();
  if (!variant_from_name(name, &r)) {
    std::string all;
    for (int i = 0; i < int(Variant::kCount); ++i) all += std::string(i ? ", " : "") + variant_name(Variant(i));
    throw Napi::RangeError::New(env, where + ".variant: expected one of " + all + " but received '" + name + "'");
  }
  return r;
}

// The epilogue: out Int32Array -> accumulators; Int8Array / Uint8Array -> requantized with opts
// {variant, multipliers | sx, sw, sy, zeroPoint, qmin, qmax, depthwiseUpward, beta}.
struct EpHolder {
  fast::Epilogue ep;
  std::vector<Multiplier> mult;
  Napi::Float32Array beta;
  void* out = nullptr;
  size_t out_len = 0;
};

void epilogue_arg(const Napi::CallbackInfo& info, size_t i, const Napi::Object& o, const std::string& fn, EpHolder* h) {
  Napi::Env env = info.Env();
  Napi::Value v = info[i];
  const std::string w = fn + "(opts)";
  if (v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == napi_int32_array) {
    auto a = v.As<Napi::Int32Array>();
    h->out = a.Data(), h->out_len = a.ElementLength();
    h->ep.requant = false;
    return;
  }
  if (!v.IsTypedArray()) throw_type(env, fn + "(out)", "Int32Array, Int8Array or Uint8Array", v);
  const auto tt = v.As<Napi::TypedArray>().TypedArrayType();
  if (tt != napi_int8_array && tt != napi_uint8_array) throw_type(env, fn + "(out)", "Int32Array, Int8Array or Uint8Array", v);
  const Operand ob = bytes_arg(info, i, fn + "(out)");
  h->out = const_cast<void*>(ob.data), h->out_len = ob.len;
  fast::Epilogue& ep = h->ep;
  ep.requant = true;
  ep.out_dtype = ob.dtype;
  ep.variant = variant_arg(env, o, w);
  Napi::Float64Array real;
  Napi::Float32Array sw;
  if (opt_typed<double>(o, "multipliers", napi_float64_array, "Float64Array", w, &real)) {
    h->mult.resize(real.ElementLength());
    for (size_t c = 0; c < h->mult.size(); ++c) check(env, form_multiplier(ep.variant, real[c], &h->mult[c]));
  } else if (opt_typed<float>(o, "sw", napi_float32_array, "Float32Array", w, &sw)) {
    Napi::Value sx = o.Get("sx"), sy = o.Get("sy");
    if (!sx.IsNumber()) throw_type(env, w + ".sx", "number", sx);
    if (!sy.IsNumber()) throw_type(env, w + ".sy", "number", sy);
    h->mult.resize(sw.ElementLength());
    for (size_t c = 0; c < h->mult.size(); ++c)
      check(env, form_multiplier_scales(ep.variant, float(sx.As<Napi::Number>().DoubleValue()), sw[c],
                                        float(sy.As<Napi::Number>().DoubleValue()), &h->mult[c]));
  } else {
    throw Napi::TypeError::New(env, w + ": expected multipliers (Float64Array) or sx, sw (Float32Array), sy for a byte output");
  }
  ep.mult = h->mult.data();
  ep.mult_len = h->mult.size();
  const bool u8 = ob.dtype == DType::kU8;
  ep.opt.zy = int32_t(opt_int(o, "zeroPoint", 0, w));
  ep.opt.qmin = int32_t(opt_int(o, "qmin", u8 ? 0 : -128, w));
  ep.opt.qmax = int32_t(opt_int(o, "qmax", u8 ? 255 : 127, w));
  ep.opt.depthwise_upward = opt_bool(o, "depthwiseUpward", w);
  if (opt_typed<float>(o, "beta", napi_float32_array, "Float32Array", w, &h->beta)) {
    if (h->beta.ElementLength() != h->mult.size())
      throw Napi::RangeError::New(env, w + ".beta: expected one value per multiplier (" + std::to_string(h->mult.size()) + ")");
    ep.beta = h->beta.Data();
  }
}

template <class T>
Napi::Value wrap(Napi::Env env, std::shared_ptr<T> p, const char* tag) {
  auto* holder = new std::shared_ptr<T>(std::move(p));
  auto ext = Napi::External<std::shared_ptr<T>>::New(env, holder, [](Napi::Env, std::shared_ptr<T>* q) { delete q; });
  Napi::Object o = Napi::Object::New(env);
  o.Set("kind", tag);
  o.Set("handle", ext);
  return o;
}

template <class T>
const T& unwrap(const Napi::CallbackInfo& info, size_t i, const char* tag, const std::string& where) {
  Napi::Value v = info[i];
  if (v.IsObject()) {
    Napi::Object o = v.As<Napi::Object>();
    Napi::Value k = o.Get("kind"), h = o.Get("handle");
    if (k.IsString() && k.As<Napi::String>().Utf8Value() == tag && h.IsExternal())
      return **h.As<Napi::External<std::shared_ptr<T>>>().Data();
  }
  throw_type(info.Env(), where, std::string("packed weights of kind '") + tag + "'", v);
}

// intqFastPackGemm(weights, opts {n, k, bits, unsignedWeights, wZeroPoint}) -> {kind: 'gemm', handle}
Napi::Value PackGemm(const Napi::CallbackInfo& info) {
  const std::string fn = "intqFastPackGemm";
  Napi::Object o = obj_arg(info, 1, fn + "(opts)");
  Napi::Int32Array zp;
  const Weights wt = weights_arg(info, 0, o, fn, &zp);
  std::shared_ptr<fast::PackedWeights> p;
  check(info.Env(), fast::pack_weights(wt, opt_size(o, "n", 0, fn + "(opts)", true), opt_size(o, "k", 0, fn + "(opts)", true), &p));
  return wrap(info.Env(), p, "gemm");
}

// intqFastGemm(packed, a, out, opts {m, aZeroPoint, bias, threads, ...epilogue})
Napi::Value Gemm(const Napi::CallbackInfo& info) {
  const std::string fn = "intqFastGemm", w = fn + "(opts)";
  const auto& pw = unwrap<fast::PackedWeights>(info, 0, "gemm", fn + "(packed)");
  const Operand a = bytes_arg(info, 1, fn + "(a)");
  Napi::Object o = obj_arg(info, 3, w);
  EpHolder h;
  epilogue_arg(info, 2, o, fn, &h);
  Napi::Int32Array bias;
  const bool has_bias = opt_typed<int32_t>(o, "bias", napi_int32_array, "Int32Array", w, &bias);
  check(info.Env(), fast::gemm(pw, opt_size(o, "m", 0, w, true), a, int32_t(opt_int(o, "aZeroPoint", 0, w)),
                               has_bias ? bias.Data() : nullptr, has_bias ? bias.ElementLength() : 0, h.ep, h.out, h.out_len,
                               int(opt_int(o, "threads", 0, w))));
  return info.Env().Undefined();
}

ConvShape conv_shape(const Napi::Object& o, const std::string& w) {
  ConvShape s;
  s.n = opt_size(o, "n", 1, w), s.c = opt_size(o, "c", 0, w, true), s.h = opt_size(o, "h", 1, w), s.w = opt_size(o, "w", 1, w);
  s.oc = opt_size(o, "oc", 0, w, true), s.kh = opt_size(o, "kh", 0, w, true), s.kw = opt_size(o, "kw", 0, w, true);
  s.groups = opt_size(o, "groups", 1, w);
  s.stride_h = opt_size(o, "strideH", 1, w), s.stride_w = opt_size(o, "strideW", 1, w);
  s.dil_h = opt_size(o, "dilationH", 1, w), s.dil_w = opt_size(o, "dilationW", 1, w);
  s.pad_t = opt_size(o, "padTop", 0, w), s.pad_l = opt_size(o, "padLeft", 0, w);
  s.pad_b = opt_size(o, "padBottom", 0, w), s.pad_r = opt_size(o, "padRight", 0, w);
  return s;
}

// intqFastPackConv(weights, opts {c, oc, kh, kw, groups, bits, unsignedWeights, wZeroPoint}) -> {kind: 'conv', handle}
Napi::Value PackConv(const Napi::CallbackInfo& info) {
  const std::string fn = "intqFastPackConv";
  Napi::Object o = obj_arg(info, 1, fn + "(opts)");
  Napi::Int32Array zp;
  const Weights wt = weights_arg(info, 0, o, fn, &zp);
  std::shared_ptr<fast::PackedConv> p;
  check(info.Env(), fast::pack_conv_weights(conv_shape(o, fn + "(opts)"), wt, &p));
  return wrap(info.Env(), p, "conv");
}

// intqFastConv(packed, x, out, opts {n, c, h, w, oc, kh, kw, groups, strides, pads, dilations, xZeroPoint, bias,
// threads, ...epilogue})
Napi::Value Conv(const Napi::CallbackInfo& info) {
  const std::string fn = "intqFastConv", w = fn + "(opts)";
  const auto& pw = unwrap<fast::PackedConv>(info, 0, "conv", fn + "(packed)");
  const Operand x = bytes_arg(info, 1, fn + "(x)");
  Napi::Object o = obj_arg(info, 3, w);
  EpHolder h;
  epilogue_arg(info, 2, o, fn, &h);
  Napi::Int32Array bias;
  const bool has_bias = opt_typed<int32_t>(o, "bias", napi_int32_array, "Int32Array", w, &bias);
  check(info.Env(), fast::conv(pw, conv_shape(o, w), x, int32_t(opt_int(o, "xZeroPoint", 0, w)), has_bias ? bias.Data() : nullptr,
                               has_bias ? bias.ElementLength() : 0, h.ep, h.out, h.out_len, int(opt_int(o, "threads", 0, w))));
  return info.Env().Undefined();
}

// intqFastPackGemv(weights, opts {n, k, bits, unsignedWeights, wZeroPoint}) -> {kind: 'gemv', handle}
Napi::Value PackGemv(const Napi::CallbackInfo& info) {
  const std::string fn = "intqFastPackGemv";
  Napi::Object o = obj_arg(info, 1, fn + "(opts)");
  Napi::Int32Array zp;
  const Weights wt = weights_arg(info, 0, o, fn, &zp);
  std::shared_ptr<fast::PackedGemv> p;
  check(info.Env(), fast::pack_gemv_weights(wt, opt_size(o, "n", 0, fn + "(opts)", true), opt_size(o, "k", 0, fn + "(opts)", true), &p));
  return wrap(info.Env(), p, "gemv");
}

// intqFastGemv(packed, x, out, opts {xZeroPoint, bias, threads, ...epilogue})
Napi::Value Gemv(const Napi::CallbackInfo& info) {
  const std::string fn = "intqFastGemv", w = fn + "(opts)";
  const auto& pw = unwrap<fast::PackedGemv>(info, 0, "gemv", fn + "(packed)");
  const Operand x = bytes_arg(info, 1, fn + "(x)");
  Napi::Object o = obj_arg(info, 3, w);
  EpHolder h;
  epilogue_arg(info, 2, o, fn, &h);
  Napi::Int32Array bias;
  const bool has_bias = opt_typed<int32_t>(o, "bias", napi_int32_array, "Int32Array", w, &bias);
  check(info.Env(), fast::gemv(pw, x, int32_t(opt_int(o, "xZeroPoint", 0, w)), has_bias ? bias.Data() : nullptr,
                               has_bias ? bias.ElementLength() : 0, h.ep, h.out, h.out_len, int(opt_int(o, "threads", 0, w))));
  return info.Env().Undefined();
}

// intqFastKernels() -> {gemm: chosen name, all: [{name, available}], threads}
Napi::Value Kernels(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object r = Napi::Object::New(env);
  r.Set("gemm", fast::gemm_kernel_name());
  Napi::Array all = Napi::Array::New(env);
  uint32_t i = 0;
  for (const auto& k : fast::gemm_kernels()) {
    Napi::Object e = Napi::Object::New(env);
    e.Set("name", k.first);
    e.Set("available", k.second);
    all.Set(i++, e);
  }
  r.Set("all", all);
  r.Set("threads", fast::default_threads());
  r.Set("gemv4", fast::gemv_kernel_name(4));
  r.Set("gemv2", fast::gemv_kernel_name(2));
  return r;
}

// intqFastSetThreads(n) -> n as applied (1..64)
Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  const size_t n = arg_size(info, 0, "intqFastSetThreads(n)");
  fast::set_default_threads(int(std::min<size_t>(n, 64)));
  return Napi::Number::New(info.Env(), fast::default_threads());
}

}  // namespace

void init_intq_fast(Napi::Env env, Napi::Object exports) {
  exports.Set("intqFastPackGemm", Napi::Function::New(env, PackGemm, "intqFastPackGemm"));
  exports.Set("intqFastGemm", Napi::Function::New(env, Gemm, "intqFastGemm"));
  exports.Set("intqFastPackConv", Napi::Function::New(env, PackConv, "intqFastPackConv"));
  exports.Set("intqFastConv", Napi::Function::New(env, Conv, "intqFastConv"));
  exports.Set("intqFastPackGemv", Napi::Function::New(env, PackGemv, "intqFastPackGemv"));
  exports.Set("intqFastGemv", Napi::Function::New(env, Gemv, "intqFastGemv"));
  exports.Set("intqFastKernels", Napi::Function::New(env, Kernels, "intqFastKernels"));
  exports.Set("intqFastSetThreads", Napi::Function::New(env, SetThreads, "intqFastSetThreads"));
}

}  // namespace qrb::binding
