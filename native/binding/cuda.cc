// Binding for the CUDA path (qrb/cuda.h). Typed contract: ts/native/cuda.ts (CudaNative), which checks the options
// first; this layer rechecks and names the argument. Without -DQRB_CUDA=ON, or without a usable GPU, cudaInfo()
// says so (compiled / available / reason) and every kernel throws "no CUDA device: ...". Calls are synchronous.
//   cudaInfo() -> {compiled, archs, available, device, reason, count, ccMajor, ccMinor, smCount, totalMem,
//                  runtimeVersion, driverVersion}
//   cudaGemmS8(a: Int8Array, w: Int8Array | Uint8Array, m, n, k, opts) -> Int32Array [m * n]
//   cudaConvS8(x: Int8Array, w, shape: number[16], opts) -> Int32Array [n * oc * oh * ow]
//     shape = [n, c, h, w, oc, kh, kw, groups, strideH, strideW, dilH, dilW, padTop, padLeft, padBottom, padRight]
//     opts = {bits: 8 | 4 | 2, unsignedWeights, bias: Int32Array | null, alpha: Float32Array | null (null: int32
//             accumulators; else trt-gpu codes), beta: Float32Array | null, qmin, qmax}
#include <cmath>
#include <string>

#include "common.h"
#include "qrb/cuda.h"

namespace qrb::binding {
namespace {

struct Opts {
  int bits = 8;
  bool unsigned_w = false;
  Napi::TypedArrayOf<int32_t> bias;
  Napi::TypedArrayOf<float> alpha, beta;
  bool has_bias = false, has_alpha = false, has_beta = false;
  int32_t qmin = -128, qmax = 127;
};

int32_t opt_int(const Napi::Object& o, const char* key, int32_t dflt, const std::string& where) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return dflt;
  if (!v.IsNumber()) throw_type(o.Env(), where + "." + key, "integer", v);
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= -2147483648.0 && d <= 2147483647.0) || d != std::floor(d))
    throw Napi::RangeError::New(o.Env(), where + "." + key + ": expected an int32 integer but received " +
                                             std::to_string(d));
  return int32_t(d);
}

template <class T>
bool opt_typed(const Napi::Object& o, const char* key, napi_typedarray_type type, const char* tname,
               const std::string& where, Napi::TypedArrayOf<T>* out) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return false;
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != type)
    throw_type(o.Env(), where + "." + key, tname, v);
  *out = v.As<Napi::TypedArrayOf<T>>();
  return true;
}

Opts parse_opts(const Napi::CallbackInfo& info, size_t i, const std::string& fn) {
  Napi::Value v = info[i];
  if (!v.IsObject() || v.IsArray() || v.IsTypedArray()) throw_type(info.Env(), fn + "(opts)", "object", v);
  const Napi::Object o = v.As<Napi::Object>();
  const std::string where = fn + "(opts)";
  Opts r;
  r.bits = opt_int(o, "bits", 8, where);
  Napi::Value u = o.Get("unsignedWeights");
  if (!u.IsUndefined() && !u.IsNull()) {
    if (!u.IsBoolean()) throw_type(info.Env(), where + ".unsignedWeights", "boolean", u);
    r.unsigned_w = u.As<Napi::Boolean>().Value();
  }
  r.has_bias = opt_typed<int32_t>(o, "bias", napi_int32_array, "Int32Array", where, &r.bias);
  r.has_alpha = opt_typed<float>(o, "alpha", napi_float32_array, "Float32Array", where, &r.alpha);
  r.has_beta = opt_typed<float>(o, "beta", napi_float32_array, "Float32Array", where, &r.beta);
  r.qmin = opt_int(o, "qmin", -128, where);
  r.qmax = opt_int(o, "qmax", 127, where);
  return r;
}

intq::Weights weights_arg(const Napi::CallbackInfo& info, size_t i, const Opts& o, const std::string& fn) {
  Napi::Value v = info[i];
  if (!v.IsTypedArray()) throw_type(info.Env(), fn + "(w)", "Int8Array or Uint8Array", v);
  const auto t = v.As<Napi::TypedArray>();
  intq::Weights w;
  if (t.TypedArrayType() == napi_int8_array) {
    auto a = v.As<Napi::TypedArrayOf<int8_t>>();
    w.data = a.Data();
    w.len = a.ElementLength();
  } else if (t.TypedArrayType() == napi_uint8_array) {
    auto a = v.As<Napi::TypedArrayOf<uint8_t>>();
    w.data = a.Data();
    w.len = a.ElementLength();
  } else {
    throw_type(info.Env(), fn + "(w)", "Int8Array or Uint8Array", v);
  }
  w.bits = o.bits;
  w.dtype = o.unsigned_w ? intq::DType::kU8 : intq::DType::kS8;
  if (o.bits == 8 && t.TypedArrayType() != napi_int8_array)
    throw Napi::TypeError::New(info.Env(), fn + "(w): 8-bit weights must be an Int8Array (symmetric int8 on the GPU)");
  return w;
}

qrb::cuda::Epilogue epilogue_of(const Opts& o) {
  qrb::cuda::Epilogue ep;
  if (o.has_alpha) {
    ep.mode = qrb::cuda::OutMode::kTrtGpu;
    ep.alpha = o.alpha.Data();
    ep.alpha_len = o.alpha.ElementLength();
    if (o.has_beta) {
      ep.beta = o.beta.Data();
      ep.beta_len = o.beta.ElementLength();
    }
    ep.qmin = o.qmin;
    ep.qmax = o.qmax;
  }
  return ep;
}

Napi::Value CudaInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const auto d = qrb::cuda::device_info();
  Napi::Object o = Napi::Object::New(env);
  o.Set("compiled", Napi::Boolean::New(env, qrb::cuda::compiled()));
  Napi::Array archs = Napi::Array::New(env);
  const auto list = qrb::cuda::archs();
  for (size_t i = 0; i < list.size(); ++i) archs.Set(uint32_t(i), Napi::String::New(env, list[i]));
  o.Set("archs", archs);
  o.Set("available", Napi::Boolean::New(env, d.available));
  o.Set("device", Napi::String::New(env, d.available ? d.name : "none"));
  o.Set("reason", Napi::String::New(env, d.reason));
  o.Set("count", Napi::Number::New(env, d.count));
  o.Set("ccMajor", Napi::Number::New(env, d.cc_major));
  o.Set("ccMinor", Napi::Number::New(env, d.cc_minor));
  o.Set("smCount", Napi::Number::New(env, d.sm_count));
  o.Set("totalMem", Napi::Number::New(env, double(d.total_mem)));
  o.Set("runtimeVersion", Napi::Number::New(env, d.runtime_version));
  o.Set("driverVersion", Napi::Number::New(env, d.driver_version));
  return o;
}

Napi::Value CudaGemmS8(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string fn = "cudaGemmS8";
  auto a = arg_typed<int8_t>(info, 0, napi_int8_array, "Int8Array", fn + "(a)");
  const Opts o = parse_opts(info, 5, fn);
  const intq::Weights w = weights_arg(info, 1, o, fn);
  intq::GemmShape s;
  s.m = arg_size(info, 2, fn + "(m)");
  s.n = arg_size(info, 3, fn + "(n)");
  s.k = arg_size(info, 4, fn + "(k)");
  if (s.m == 0 || s.n == 0 || s.k == 0 || s.m * s.n > (size_t(1) << 31))
    throw Napi::RangeError::New(env, fn + "(m, n, k): expected positive sizes with m * n < 2^31");
  intq::Operand op;
  op.data = a.Data();
  op.len = a.ElementLength();
  op.dtype = intq::DType::kS8;
  Napi::TypedArrayOf<int32_t> out = Napi::TypedArrayOf<int32_t>::New(env, s.m * s.n);
  check(env, qrb::cuda::gemm_s8(s, op, 0, w, o.has_bias ? o.bias.Data() : nullptr,
                                o.has_bias ? o.bias.ElementLength() : 0, epilogue_of(o), out.Data(),
                                out.ElementLength()));
  return out;
}

Napi::Value CudaConvS8(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string fn = "cudaConvS8";
  auto x = arg_typed<int8_t>(info, 0, napi_int8_array, "Int8Array", fn + "(x)");
  const Opts o = parse_opts(info, 3, fn);
  const intq::Weights w = weights_arg(info, 1, o, fn);
  Napi::Value sv = info[2];
  if (!sv.IsArray()) throw_type(env, fn + "(shape)", "Array of 16 integers", sv);
  Napi::Array sa = sv.As<Napi::Array>();
  if (sa.Length() != 16)
    throw Napi::RangeError::New(env, fn + "(shape): expected 16 integers but received " + std::to_string(sa.Length()));
  size_t f[16];
  for (uint32_t i = 0; i < 16; ++i) {
    Napi::Value e = sa.Get(i);
    const double d = e.IsNumber() ? e.As<Napi::Number>().DoubleValue() : -1;
    if (!(d >= 0) || d != std::floor(d) || d > 1e12)
      throw Napi::RangeError::New(env, fn + "(shape[" + std::to_string(i) + "]): expected a non-negative integer");
    f[i] = size_t(d);
  }
  intq::ConvShape s;
  s.n = f[0], s.c = f[1], s.h = f[2], s.w = f[3], s.oc = f[4], s.kh = f[5], s.kw = f[6], s.groups = f[7];
  s.stride_h = f[8], s.stride_w = f[9], s.dil_h = f[10], s.dil_w = f[11];
  s.pad_t = f[12], s.pad_l = f[13], s.pad_b = f[14], s.pad_r = f[15];
  size_t oh = 0, ow = 0;
  check(env, intq::conv_out_size(s, &oh, &ow));
  const size_t count = s.n * s.oc * oh * ow;
  if (count == 0 || count > (size_t(1) << 31)) throw Napi::RangeError::New(env, fn + "(shape): output size out of range");
  intq::Operand op;
  op.data = x.Data();
  op.len = x.ElementLength();
  op.dtype = intq::DType::kS8;
  Napi::TypedArrayOf<int32_t> out = Napi::TypedArrayOf<int32_t>::New(env, count);
  check(env, qrb::cuda::conv_s8(s, op, 0, w, o.has_bias ? o.bias.Data() : nullptr,
                                o.has_bias ? o.bias.ElementLength() : 0, epilogue_of(o), out.Data(),
                                out.ElementLength()));
  return out;
}

}  // namespace

void init_cuda(Napi::Env env, Napi::Object exports) {
  exports.Set("cudaInfo", Napi::Function::New(env, CudaInfo, "cudaInfo"));
  exports.Set("cudaGemmS8", Napi::Function::New(env, CudaGemmS8, "cudaGemmS8"));
  exports.Set("cudaConvS8", Napi::Function::New(env, CudaConvS8, "cudaConvS8"));
}

}  // namespace qrb::binding
