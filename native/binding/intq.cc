// Binding for the integer reference kernels (qrb/intq.h). Typed contract: ts/native/intq.ts (IntqNative),
// which checks every argument before calling; this layer rechecks cheaply and names the argument path
// ("intqGemm(opts.bias): expected Int32Array but received Float32Array"). Typed arrays are read zero-copy
// (byteOffset honoured by TypedArrayOf::Data). All functions are synchronous: the reference kernels serve
// tests, the CLI and small parity runs.
#include <cmath>
#include <string>
#include <vector>

#include "common.h"
#include "qrb/intq.h"

namespace qrb::binding {

using namespace qrb::intq;

namespace {

Napi::Object arg_object(const Napi::CallbackInfo& info, size_t i, const std::string& where) {
  Napi::Value v = info[i];
  if (!v.IsObject() || v.IsArray() || v.IsTypedArray()) throw_type(info.Env(), where, "object", v);
  return v.As<Napi::Object>();
}

std::string arg_string(const Napi::CallbackInfo& info, size_t i, const std::string& where) {
  Napi::Value v = info[i];
  if (!v.IsString()) throw_type(info.Env(), where, "string", v);
  return v.As<Napi::String>().Utf8Value();
}

double get_number(const Napi::Object& o, const char* key, const std::string& where) {
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) throw_type(o.Env(), where + "." + key, "number", v);
  return v.As<Napi::Number>().DoubleValue();
}

int32_t get_int(const Napi::Object& o, const char* key, int32_t dflt, const std::string& where, bool required = false) {
  Napi::Value v = o.Get(key);
  if (!required && (v.IsUndefined() || v.IsNull())) return dflt;
  if (!v.IsNumber()) throw_type(o.Env(), where + "." + key, "integer", v);
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= -2147483648.0 && d <= 2147483647.0) || d != std::floor(d))
    throw Napi::RangeError::New(o.Env(), where + "." + key + ": expected an int32 integer but received " + std::to_string(d));
  return int32_t(d);
}

size_t get_size(const Napi::Object& o, const char* key, size_t dflt, const std::string& where, bool required = false) {
  Napi::Value v = o.Get(key);
  if (!required && (v.IsUndefined() || v.IsNull())) return dflt;
  if (!v.IsNumber()) throw_type(o.Env(), where + "." + key, "non-negative integer", v);
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0) || d != std::floor(d) || d > 9007199254740991.0)
    throw Napi::RangeError::New(o.Env(), where + "." + key + ": expected a non-negative integer but received " + std::to_string(d));
  return size_t(d);
}

bool get_bool(const Napi::Object& o, const char* key, const std::string& where) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return false;
  if (!v.IsBoolean()) throw_type(o.Env(), where + "." + key, "boolean", v);
  return v.As<Napi::Boolean>().Value();
}

// An optional typed array property of the given type (null/undefined -> empty).
template <class T>
bool get_typed(const Napi::Object& o, const char* key, napi_typedarray_type type, const char* type_name, const std::string& where,
               Napi::TypedArrayOf<T>* out) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return false;
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != type) throw_type(o.Env(), where + "." + key, type_name, v);
  *out = v.As<Napi::TypedArrayOf<T>>();
  return true;
}

Variant parse_variant(Napi::Env env, const std::string& name, const std::string& where) {
  Variant v;
  if (!variant_from_name(name, &v)) {
    std::string all;
    for (int i = 0; i < int(Variant::kCount); ++i) all += std::string(i ? ", " : "") + variant_name(Variant(i));
    throw Napi::RangeError::New(env, where + ": expected one of " + all + " but received '" + name + "'");
  }
  return v;
}

// An int8 byte operand: Int8Array -> s8, Uint8Array -> u8.
Operand byte_operand(const Napi::CallbackInfo& info, size_t i, const std::string& where) {
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

Napi::Object multiplier_object(Napi::Env env, const Multiplier& m) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("m64", m.m64);
  o.Set("m32", double(m.m32));
  o.Set("q", m.qm.q);
  o.Set("shift", m.qm.shift);
  o.Set("rndnuMultiplier", m.rndnu_mult);
  o.Set("rndnuShift", m.rndnu_shift);
  return o;
}

// Per-channel multipliers from opts.multipliers (Float64Array of real M) or opts.sx, opts.sw (Float32Array), opts.sy.
std::vector<Multiplier> multipliers_from(Napi::Env env, Variant v, const Napi::Object& o, const std::string& where) {
  std::vector<Multiplier> ms;
  Napi::Float64Array real;
  Napi::Float32Array sw;
  if (get_typed<double>(o, "multipliers", napi_float64_array, "Float64Array", where, &real)) {
    ms.resize(real.ElementLength());
    for (size_t i = 0; i < ms.size(); ++i) check(env, form_multiplier(v, real[i], &ms[i]));
  } else if (get_typed<float>(o, "sw", napi_float32_array, "Float32Array", where, &sw)) {
    const float sx = float(get_number(o, "sx", where)), sy = float(get_number(o, "sy", where));
    ms.resize(sw.ElementLength());
    for (size_t i = 0; i < ms.size(); ++i) check(env, form_multiplier_scales(v, sx, sw[i], sy, &ms[i]));
  } else {
    throw Napi::TypeError::New(env, where + ": expected multipliers (Float64Array) or sx, sw (Float32Array), sy");
  }
  if (ms.empty()) throw Napi::RangeError::New(env, where + ": expected at least one channel multiplier");
  return ms;
}

Napi::Value Multiplier_(const Napi::CallbackInfo& info) {
  const Variant v = parse_variant(info.Env(), arg_string(info, 0, "intqMultiplier(variant)"), "intqMultiplier(variant)");
  Multiplier m;
  if (info.Length() >= 4) {
    const double sx = arg_number(info, 1, "intqMultiplier(sx)"), sw = arg_number(info, 2, "intqMultiplier(sw)"),
                 sy = arg_number(info, 3, "intqMultiplier(sy)");
    check(info.Env(), form_multiplier_scales(v, float(sx), float(sw), float(sy), &m));
  } else {
    check(info.Env(), form_multiplier(v, arg_number(info, 1, "intqMultiplier(m)"), &m));
  }
  return multiplier_object(info.Env(), m);
}

// intqRequantize(acc: Int32Array, out: Int32Array | Float32Array, opts)
Napi::Value Requantize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string w = "intqRequantize(opts)";
  auto acc = arg_typed<int32_t>(info, 0, napi_int32_array, "Int32Array", "intqRequantize(acc)");
  Napi::Object o = arg_object(info, 2, w);
  Napi::Value vname = o.Get("variant");
  if (!vname.IsString()) throw_type(env, w + ".variant", "string", vname);
  const Variant v = parse_variant(env, vname.As<Napi::String>().Utf8Value(), w + ".variant");
  const std::vector<Multiplier> ms = multipliers_from(env, v, o, w);
  const size_t inner = get_size(o, "inner", 1, w);
  const int32_t zy = get_int(o, "zeroPoint", 0, w);
  if (v == Variant::kFp16Fallback) {
    auto out = arg_typed<float>(info, 1, napi_float32_array, "Float32Array", "intqRequantize(out)");
    if (out.ElementLength() != acc.ElementLength())
      throw Napi::RangeError::New(env, "intqRequantize(out): expected " + std::to_string(acc.ElementLength()) + " elements");
    check(env, requantize_fp16(acc.Data(), acc.ElementLength(), ms.data(), ms.size(), inner, zy, out.Data()));
    return env.Undefined();
  }
  auto out = arg_typed<int32_t>(info, 1, napi_int32_array, "Int32Array", "intqRequantize(out)");
  if (out.ElementLength() != acc.ElementLength())
    throw Napi::RangeError::New(env, "intqRequantize(out): expected " + std::to_string(acc.ElementLength()) + " elements");
  RequantOptions ro;
  ro.zy = zy;
  ro.qmin = get_int(o, "qmin", -128, w);
  ro.qmax = get_int(o, "qmax", 127, w);
  ro.depthwise_upward = get_bool(o, "depthwiseUpward", w);
  Napi::Float32Array beta;
  const bool has_beta = get_typed<float>(o, "beta", napi_float32_array, "Float32Array", w, &beta);
  if (has_beta && beta.ElementLength() != ms.size())
    throw Napi::RangeError::New(env, w + ".beta: expected one value per channel (" + std::to_string(ms.size()) + ")");
  check(env, requantize(v, acc.Data(), acc.ElementLength(), ms.data(), ms.size(), inner, has_beta ? beta.Data() : nullptr, ro,
                        out.Data()));
  return env.Undefined();
}

Weights weights_from(const Napi::CallbackInfo& info, size_t i, const Napi::Object& o, const std::string& fn,
                     Napi::Int32Array* zp_holder) {
  Weights wt;
  wt.bits = get_int(o, "bits", 8, fn + "(opts)");
  Operand b = byte_operand(info, i, fn + "(weights)");
  wt.data = b.data, wt.len = b.len;
  if (wt.bits == 8) {
    wt.dtype = b.dtype;
  } else {
    if (b.dtype != DType::kU8) throw Napi::TypeError::New(info.Env(), fn + "(weights): packed weights must be a Uint8Array");
    wt.dtype = get_bool(o, "unsignedWeights", fn + "(opts)") ? DType::kU8 : DType::kS8;
  }
  if (get_typed<int32_t>(o, "wZeroPoint", napi_int32_array, "Int32Array", fn + "(opts)", zp_holder)) {
    wt.zp = zp_holder->Data();
    wt.zp_len = zp_holder->ElementLength();
  }
  return wt;
}

Hazard hazard_from(const Napi::Object& o, const std::string& where) { return Hazard(get_int(o, "hazard", 0, where)); }

// intqGemm(a, weights, out: Int32Array, opts {m, n, k, aZeroPoint, bits, unsignedWeights, wZeroPoint, bias, hazard})
Napi::Value Gemm(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string fn = "intqGemm";
  const Operand a = byte_operand(info, 0, fn + "(a)");
  auto out = arg_typed<int32_t>(info, 2, napi_int32_array, "Int32Array", fn + "(out)");
  Napi::Object o = arg_object(info, 3, fn + "(opts)");
  Napi::Int32Array zp, bias;
  const Weights wt = weights_from(info, 1, o, fn, &zp);
  const bool has_bias = get_typed<int32_t>(o, "bias", napi_int32_array, "Int32Array", fn + "(opts)", &bias);
  GemmShape s{get_size(o, "m", 0, fn + "(opts)", true), get_size(o, "n", 0, fn + "(opts)", true), get_size(o, "k", 0, fn + "(opts)", true)};
  check(env, gemm_acc(s, a, get_int(o, "aZeroPoint", 0, fn + "(opts)"), wt, has_bias ? bias.Data() : nullptr,
                      has_bias ? bias.ElementLength() : 0, hazard_from(o, fn + "(opts)"), out.Data(), out.ElementLength()));
  return env.Undefined();
}

// intqConv(x, weights, out, opts {n, c, h, w, oc, kh, kw, groups, strides, pads, dilations, xZeroPoint, ...})
Napi::Value Conv(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string fn = "intqConv", w = "intqConv(opts)";
  const Operand x = byte_operand(info, 0, fn + "(x)");
  auto out = arg_typed<int32_t>(info, 2, napi_int32_array, "Int32Array", fn + "(out)");
  Napi::Object o = arg_object(info, 3, w);
  Napi::Int32Array zp, bias;
  const Weights wt = weights_from(info, 1, o, fn, &zp);
  const bool has_bias = get_typed<int32_t>(o, "bias", napi_int32_array, "Int32Array", w, &bias);
  ConvShape s;
  s.n = get_size(o, "n", 1, w), s.c = get_size(o, "c", 0, w, true), s.h = get_size(o, "h", 0, w, true), s.w = get_size(o, "w", 0, w, true);
  s.oc = get_size(o, "oc", 0, w, true), s.kh = get_size(o, "kh", 0, w, true), s.kw = get_size(o, "kw", 0, w, true);
  s.groups = get_size(o, "groups", 1, w);
  s.stride_h = get_size(o, "strideH", 1, w), s.stride_w = get_size(o, "strideW", 1, w);
  s.dil_h = get_size(o, "dilationH", 1, w), s.dil_w = get_size(o, "dilationW", 1, w);
  s.pad_t = get_size(o, "padTop", 0, w), s.pad_l = get_size(o, "padLeft", 0, w);
  s.pad_b = get_size(o, "padBottom", 0, w), s.pad_r = get_size(o, "padRight", 0, w);
  check(env, conv_acc(s, x, get_int(o, "xZeroPoint", 0, w), wt, has_bias ? bias.Data() : nullptr, has_bias ? bias.ElementLength() : 0,
                      hazard_from(o, w), out.Data(), out.ElementLength()));
  return env.Undefined();
}

// intqPack(values: Int8Array, bits, signed, out: Uint8Array, rows?, k?)
Napi::Value Pack(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto v = arg_typed<int8_t>(info, 0, napi_int8_array, "Int8Array", "intqPack(values)");
  const int bits = int(arg_number(info, 1, "intqPack(bits)"));
  if (!info[2].IsBoolean()) throw_type(env, "intqPack(signed)", "boolean", info[2]);
  const bool sg = info[2].As<Napi::Boolean>().Value();
  auto out = arg_typed<uint8_t>(info, 3, napi_uint8_array, "Uint8Array", "intqPack(out)");
  if (info.Length() > 4 && !info[4].IsUndefined()) {
    const size_t rows = arg_size(info, 4, "intqPack(rows)"), k = arg_size(info, 5, "intqPack(k)");
    if (rows * k != v.ElementLength()) throw Napi::RangeError::New(env, "intqPack(values): expected rows*k elements");
    check(env, pack_rows(v.Data(), rows, k, bits, sg, out.Data(), out.ElementLength()));
  } else {
    check(env, pack(v.Data(), v.ElementLength(), bits, sg, out.Data(), out.ElementLength()));
  }
  return env.Undefined();
}

// intqUnpack(packed: Uint8Array, bits, signed, out: Int8Array, rows?, k?)
Napi::Value Unpack(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto p = arg_typed<uint8_t>(info, 0, napi_uint8_array, "Uint8Array", "intqUnpack(packed)");
  const int bits = int(arg_number(info, 1, "intqUnpack(bits)"));
  if (!info[2].IsBoolean()) throw_type(env, "intqUnpack(signed)", "boolean", info[2]);
  const bool sg = info[2].As<Napi::Boolean>().Value();
  auto out = arg_typed<int8_t>(info, 3, napi_int8_array, "Int8Array", "intqUnpack(out)");
  if (info.Length() > 4 && !info[4].IsUndefined()) {
    const size_t rows = arg_size(info, 4, "intqUnpack(rows)"), k = arg_size(info, 5, "intqUnpack(k)");
    if (rows * k != out.ElementLength()) throw Napi::RangeError::New(env, "intqUnpack(out): expected rows*k elements");
    check(env, unpack_rows(p.Data(), p.ElementLength(), rows, k, bits, sg, out.Data()));
  } else {
    check(env, unpack(p.Data(), p.ElementLength(), out.ElementLength(), bits, sg, out.Data()));
  }
  return env.Undefined();
}

// intqQuantize(x: Float32Array, out: Int32Array, mode, scale, zeroPoint, qmin, qmax)
Napi::Value Quantize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto x = arg_typed<float>(info, 0, napi_float32_array, "Float32Array", "intqQuantize(x)");
  auto out = arg_typed<int32_t>(info, 1, napi_int32_array, "Int32Array", "intqQuantize(out)");
  if (out.ElementLength() != x.ElementLength()) throw Napi::RangeError::New(env, "intqQuantize(out): expected x.length elements");
  const double mode = arg_number(info, 2, "intqQuantize(mode)");
  const double s = arg_number(info, 3, "intqQuantize(scale)");
  const double z = arg_number(info, 4, "intqQuantize(zeroPoint)"), lo = arg_number(info, 5, "intqQuantize(qmin)"),
               hi = arg_number(info, 6, "intqQuantize(qmax)");
  for (double d : {mode, z, lo, hi})
    if (!(d >= -2147483648.0 && d <= 2147483647.0) || d != std::floor(d))
      throw Napi::RangeError::New(env, "intqQuantize: mode, zeroPoint, qmin and qmax must be int32 integers");
  check(env, quantize(QuantizeMode(int(mode)), x.Data(), x.ElementLength(), float(s), int32_t(z), int32_t(lo), int32_t(hi), out.Data()));
  return env.Undefined();
}

// intqDequantize(q: Int32Array, out: Float32Array, scale, zeroPoint)
Napi::Value Dequantize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto q = arg_typed<int32_t>(info, 0, napi_int32_array, "Int32Array", "intqDequantize(q)");
  auto out = arg_typed<float>(info, 1, napi_float32_array, "Float32Array", "intqDequantize(out)");
  if (out.ElementLength() != q.ElementLength()) throw Napi::RangeError::New(env, "intqDequantize(out): expected q.length elements");
  const double s = arg_number(info, 2, "intqDequantize(scale)"), z = arg_number(info, 3, "intqDequantize(zeroPoint)");
  if (!(z >= -2147483648.0 && z <= 2147483647.0) || z != std::floor(z))
    throw Napi::RangeError::New(env, "intqDequantize(zeroPoint): expected an int32 integer");
  check(env, dequantize(q.Data(), q.ElementLength(), float(s), int32_t(z), out.Data()));
  return env.Undefined();
}

// intqAdd(variant, a: Int32Array, b: Int32Array, out: Int32Array, params {sa, sb, sy, za, zb, zy, qmin, qmax})
Napi::Value Add(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string w = "intqAdd(params)";
  const Variant v = parse_variant(env, arg_string(info, 0, "intqAdd(variant)"), "intqAdd(variant)");
  auto a = arg_typed<int32_t>(info, 1, napi_int32_array, "Int32Array", "intqAdd(a)");
  auto b = arg_typed<int32_t>(info, 2, napi_int32_array, "Int32Array", "intqAdd(b)");
  auto out = arg_typed<int32_t>(info, 3, napi_int32_array, "Int32Array", "intqAdd(out)");
  if (b.ElementLength() != a.ElementLength() || out.ElementLength() != a.ElementLength())
    throw Napi::RangeError::New(env, "intqAdd: a, b and out must have the same length");
  Napi::Object o = arg_object(info, 4, w);
  AddParams p;
  p.sa = float(get_number(o, "sa", w)), p.sb = float(get_number(o, "sb", w)), p.sy = float(get_number(o, "sy", w));
  p.za = get_int(o, "za", 0, w), p.zb = get_int(o, "zb", 0, w), p.zy = get_int(o, "zy", 0, w);
  p.qmin = get_int(o, "qmin", -128, w), p.qmax = get_int(o, "qmax", 127, w);
  check(env, add(v, a.Data(), b.Data(), a.ElementLength(), p, out.Data()));
  return env.Undefined();
}

// intqGlobalAvgPool(variant, x: Int32Array, out: Int32Array, params {channels, image, sx, sy, zx, zy, qmin, qmax})
Napi::Value GlobalAvgPool(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string w = "intqGlobalAvgPool(params)";
  const Variant v = parse_variant(env, arg_string(info, 0, "intqGlobalAvgPool(variant)"), "intqGlobalAvgPool(variant)");
  auto x = arg_typed<int32_t>(info, 1, napi_int32_array, "Int32Array", "intqGlobalAvgPool(x)");
  auto out = arg_typed<int32_t>(info, 2, napi_int32_array, "Int32Array", "intqGlobalAvgPool(out)");
  Napi::Object o = arg_object(info, 3, w);
  const size_t channels = get_size(o, "channels", 0, w, true), image = get_size(o, "image", 0, w, true);
  if (image == 0 || channels * image != x.ElementLength() || out.ElementLength() != channels)
    throw Napi::RangeError::New(env, "intqGlobalAvgPool: expected x of channels*image and out of channels elements");
  PoolParams p;
  p.sx = float(get_number(o, "sx", w)), p.sy = float(get_number(o, "sy", w));
  p.zx = get_int(o, "zx", 0, w), p.zy = get_int(o, "zy", 0, w), p.qmin = get_int(o, "qmin", -128, w), p.qmax = get_int(o, "qmax", 127, w);
  check(env, global_avg_pool(v, x.Data(), channels, image, p, out.Data()));
  return env.Undefined();
}

// intqAvgPoolTflite(x: Int32Array, out: Int32Array, opts {n, c, h, w, kh, kw, strideH, strideW, pads, qmin, qmax})
Napi::Value AvgPoolTflite(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string w = "intqAvgPoolTflite(opts)";
  auto x = arg_typed<int32_t>(info, 0, napi_int32_array, "Int32Array", "intqAvgPoolTflite(x)");
  auto out = arg_typed<int32_t>(info, 1, napi_int32_array, "Int32Array", "intqAvgPoolTflite(out)");
  Napi::Object o = arg_object(info, 2, w);
  const size_t n = get_size(o, "n", 1, w), c = get_size(o, "c", 0, w, true), h = get_size(o, "h", 0, w, true), ww = get_size(o, "w", 0, w, true);
  if (n * c * h * ww != x.ElementLength()) throw Napi::RangeError::New(env, "intqAvgPoolTflite(x): expected n*c*h*w elements");
  check(env, avg_pool_tflite(x.Data(), n, c, h, ww, get_size(o, "kh", 0, w, true), get_size(o, "kw", 0, w, true), get_size(o, "strideH", 1, w),
                             get_size(o, "strideW", 1, w), get_size(o, "padTop", 0, w), get_size(o, "padLeft", 0, w),
                             get_size(o, "padBottom", 0, w), get_size(o, "padRight", 0, w), get_int(o, "qmin", -128, w),
                             get_int(o, "qmax", 127, w), out.Data(), out.ElementLength()));
  return env.Undefined();
}

}  // namespace

void init_intq(Napi::Env env, Napi::Object exports) {
  exports.Set("intqMultiplier", Napi::Function::New(env, Multiplier_, "intqMultiplier"));
  exports.Set("intqRequantize", Napi::Function::New(env, Requantize, "intqRequantize"));
  exports.Set("intqGemm", Napi::Function::New(env, Gemm, "intqGemm"));
  exports.Set("intqConv", Napi::Function::New(env, Conv, "intqConv"));
  exports.Set("intqPack", Napi::Function::New(env, Pack, "intqPack"));
  exports.Set("intqUnpack", Napi::Function::New(env, Unpack, "intqUnpack"));
  exports.Set("intqQuantize", Napi::Function::New(env, Quantize, "intqQuantize"));
  exports.Set("intqDequantize", Napi::Function::New(env, Dequantize, "intqDequantize"));
  exports.Set("intqAdd", Napi::Function::New(env, Add, "intqAdd"));
  exports.Set("intqGlobalAvgPool", Napi::Function::New(env, GlobalAvgPool, "intqGlobalAvgPool"));
  exports.Set("intqAvgPoolTflite", Napi::Function::New(env, AvgPoolTflite, "intqAvgPoolTflite"));
}

}  // namespace qrb::binding
