// Binding for the float engine primitives. See ts/native/float.ts for the typed contract and
// native/include/qrb/float.h for layouts. Typed arrays cross zero-copy (TypedArrayOf::Data honours
// byteOffset); nothing is kept after returning.
// NOTE: synchronous for now. A resnet20 conv layer at batch 128 takes a few ms, which blocks the event
// loop that long; an AsyncWorker variant is planned once whole training steps run natively.
#include "common.h"
#include "qrb/float.h"

namespace qrb::binding {

static int64_t obj_int(Napi::Env env, const Napi::Object& o, const char* key, const std::string& where) {
  Napi::Value v = o.Get(key);
  const std::string path = where + "." + key;
  if (!v.IsNumber()) throw_type(env, path, "number", v);
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d == double(int64_t(d))) || d < -9007199254740991.0 || d > 9007199254740991.0)
    throw Napi::RangeError::New(env, path + ": expected an integer but received " + std::to_string(d));
  return int64_t(d);
}

static Conv2dParams conv_params(const Napi::CallbackInfo& info, size_t i, const std::string& where) {
  Napi::Env env = info.Env();
  if (!info[i].IsObject() || info[i].IsTypedArray() || info[i].IsArray()) throw_type(env, where, "object", info[i]);
  Napi::Object o = info[i].As<Napi::Object>();
  Conv2dParams p;
  p.n = obj_int(env, o, "n", where);
  p.cin = obj_int(env, o, "cin", where);
  p.h = obj_int(env, o, "h", where);
  p.w = obj_int(env, o, "w", where);
  p.cout = obj_int(env, o, "cout", where);
  p.kh = obj_int(env, o, "kh", where);
  p.kw = obj_int(env, o, "kw", where);
  p.stride_h = obj_int(env, o, "strideH", where);
  p.stride_w = obj_int(env, o, "strideW", where);
  p.pad_h = obj_int(env, o, "padH", where);
  p.pad_w = obj_int(env, o, "padW", where);
  p.dil_h = obj_int(env, o, "dilationH", where);
  p.dil_w = obj_int(env, o, "dilationW", where);
  p.groups = obj_int(env, o, "groups", where);
  check(env, conv2d_check(p));
  return p;
}

static FloatBackend backend_arg(const Napi::CallbackInfo& info, size_t i, const std::string& where) {
  Napi::Env env = info.Env();
  if (!info[i].IsString()) throw_type(env, where, "string", info[i]);
  std::string name = info[i].As<Napi::String>().Utf8Value();
  FloatBackend be;
  if (!float_backend_from_name(name, &be))
    throw Napi::RangeError::New(env, where + ": expected one of auto, ref, dnnl, openblas but received " + name);
  return be;
}

// A Float32Array, or null/undefined when `optional`; returns {ptr, len}.
static std::pair<float*, size_t> f32_arg(const Napi::CallbackInfo& info, size_t i, const std::string& where,
                                         bool optional = false) {
  Napi::Value v = info[i];
  if (optional && (v.IsNull() || v.IsUndefined())) return {nullptr, 0};
  auto a = arg_typed<float>(info, i, napi_float32_array, optional ? "Float32Array or null" : "Float32Array", where);
  return {a.Data(), a.ElementLength()};
}

static Napi::Value Conv2dForward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string fn = "f32Conv2dForward";
  Conv2dParams p = conv_params(info, 0, fn + "(p)");
  auto x = f32_arg(info, 1, fn + "(x)");
  auto w = f32_arg(info, 2, fn + "(w)");
  auto b = f32_arg(info, 3, fn + "(b)", true);
  auto y = f32_arg(info, 4, fn + "(y)");
  FloatBackend be = backend_arg(info, 5, fn + "(backend)");
  check(env, f32_conv2d_fwd(p, x.first, x.second, w.first, w.second, b.first, b.second, y.first, y.second, be));
  return env.Undefined();
}

static Napi::Value Conv2dBackwardData(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string fn = "f32Conv2dBackwardData";
  Conv2dParams p = conv_params(info, 0, fn + "(p)");
  auto dy = f32_arg(info, 1, fn + "(dy)");
  auto w = f32_arg(info, 2, fn + "(w)");
  auto dx = f32_arg(info, 3, fn + "(dx)");
  FloatBackend be = backend_arg(info, 4, fn + "(backend)");
  check(env, f32_conv2d_bwd_data(p, dy.first, dy.second, w.first, w.second, dx.first, dx.second, be));
  return env.Undefined();
}

static Napi::Value Conv2dBackwardWeights(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string fn = "f32Conv2dBackwardWeights";
  Conv2dParams p = conv_params(info, 0, fn + "(p)");
  auto x = f32_arg(info, 1, fn + "(x)");
  auto dy = f32_arg(info, 2, fn + "(dy)");
  auto dw = f32_arg(info, 3, fn + "(dw)");
  auto db = f32_arg(info, 4, fn + "(db)", true);
  FloatBackend be = backend_arg(info, 5, fn + "(backend)");
  check(env, f32_conv2d_bwd_weights(p, x.first, x.second, dy.first, dy.second, dw.first, dw.second, db.first,
                                    db.second, be));
  return env.Undefined();
}

// f32Conv2dBackward(p, x, dy, w, dx|null, dw|null, db|null, backend)
static Napi::Value Conv2dBackward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string fn = "f32Conv2dBackward";
  Conv2dParams p = conv_params(info, 0, fn + "(p)");
  auto x = f32_arg(info, 1, fn + "(x)");
  auto dy = f32_arg(info, 2, fn + "(dy)");
  auto w = f32_arg(info, 3, fn + "(w)");
  auto dx = f32_arg(info, 4, fn + "(dx)", true);
  auto dw = f32_arg(info, 5, fn + "(dw)", true);
  auto db = f32_arg(info, 6, fn + "(db)", true);
  FloatBackend be = backend_arg(info, 7, fn + "(backend)");
  check(env, f32_conv2d_bwd(p, x.first, x.second, dy.first, dy.second, w.first, w.second, dx.first, dx.second,
                            dw.first, dw.second, db.first, db.second, be));
  return env.Undefined();
}

static Napi::Value Gemm(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string fn = "f32Gemm";
  if (!info[0].IsBoolean()) throw_type(env, fn + "(transA)", "boolean", info[0]);
  if (!info[1].IsBoolean()) throw_type(env, fn + "(transB)", "boolean", info[1]);
  const bool ta = info[0].As<Napi::Boolean>().Value(), tb = info[1].As<Napi::Boolean>().Value();
  const int64_t m = int64_t(arg_size(info, 2, fn + "(m)"));
  const int64_t n = int64_t(arg_size(info, 3, fn + "(n)"));
  const int64_t k = int64_t(arg_size(info, 4, fn + "(k)"));
  const float alpha = float(arg_number(info, 5, fn + "(alpha)"));
  auto a = f32_arg(info, 6, fn + "(a)");
  const int64_t lda = int64_t(arg_size(info, 7, fn + "(lda)"));
  auto b = f32_arg(info, 8, fn + "(b)");
  const int64_t ldb = int64_t(arg_size(info, 9, fn + "(ldb)"));
  const float beta = float(arg_number(info, 10, fn + "(beta)"));
  auto c = f32_arg(info, 11, fn + "(c)");
  const int64_t ldc = int64_t(arg_size(info, 12, fn + "(ldc)"));
  FloatBackend be = backend_arg(info, 13, fn + "(backend)");
  check(env, f32_gemm(ta, tb, m, n, k, alpha, a.first, a.second, lda, b.first, b.second, ldb, beta, c.first, c.second,
                      ldc, be));
  return env.Undefined();
}

static void check_c_vec(Napi::Env env, const std::pair<float*, size_t>& v, size_t c, const std::string& where) {
  if (v.first && v.second != c)
    throw Napi::RangeError::New(env, where + ": expected " + std::to_string(c) + " floats but received " + std::to_string(v.second));
}

// f32BnStats(n, c, hw, x, mean, var)
static Napi::Value BnStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string fn = "f32BnStats";
  const int64_t n = int64_t(arg_size(info, 0, fn + "(n)")), c = int64_t(arg_size(info, 1, fn + "(c)")),
                hw = int64_t(arg_size(info, 2, fn + "(hw)"));
  auto x = f32_arg(info, 3, fn + "(x)");
  auto mean = f32_arg(info, 4, fn + "(mean)");
  auto var = f32_arg(info, 5, fn + "(var)");
  check_c_vec(env, var, mean.second, fn + "(var)");
  check(env, f32_bn_stats(n, c, hw, x.first, x.second, mean.first, var.first, mean.second));
  return env.Undefined();
}

// f32BnApply(n, c, hw, x, mean, var, gamma|null, beta|null, eps, y)
static Napi::Value BnApply(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string fn = "f32BnApply";
  const int64_t n = int64_t(arg_size(info, 0, fn + "(n)")), c = int64_t(arg_size(info, 1, fn + "(c)")),
                hw = int64_t(arg_size(info, 2, fn + "(hw)"));
  auto x = f32_arg(info, 3, fn + "(x)");
  auto mean = f32_arg(info, 4, fn + "(mean)");
  auto var = f32_arg(info, 5, fn + "(var)");
  auto gamma = f32_arg(info, 6, fn + "(gamma)", true);
  auto beta = f32_arg(info, 7, fn + "(beta)", true);
  const double eps = arg_number(info, 8, fn + "(eps)");
  auto y = f32_arg(info, 9, fn + "(y)");
  for (auto* v : {&var, &gamma, &beta}) check_c_vec(env, *v, mean.second, fn + "(per-channel vector)");
  check(env, f32_bn_apply(n, c, hw, x.first, x.second, mean.first, var.first, gamma.first, beta.first, mean.second,
                          float(eps), y.first, y.second));
  return env.Undefined();
}

// f32BnBackward(n, c, hw, x, dy, mean, var, gamma|null, eps, batchStats, dx|null, dgamma|null, dbeta|null)
static Napi::Value BnBackward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string fn = "f32BnBackward";
  const int64_t n = int64_t(arg_size(info, 0, fn + "(n)")), c = int64_t(arg_size(info, 1, fn + "(c)")),
                hw = int64_t(arg_size(info, 2, fn + "(hw)"));
  auto x = f32_arg(info, 3, fn + "(x)");
  auto dy = f32_arg(info, 4, fn + "(dy)");
  auto mean = f32_arg(info, 5, fn + "(mean)");
  auto var = f32_arg(info, 6, fn + "(var)");
  auto gamma = f32_arg(info, 7, fn + "(gamma)", true);
  const double eps = arg_number(info, 8, fn + "(eps)");
  if (!info[9].IsBoolean()) throw_type(env, fn + "(batchStats)", "boolean", info[9]);
  const bool batch = info[9].As<Napi::Boolean>().Value();
  auto dx = f32_arg(info, 10, fn + "(dx)", true);
  auto dgamma = f32_arg(info, 11, fn + "(dgamma)", true);
  auto dbeta = f32_arg(info, 12, fn + "(dbeta)", true);
  if (dy.second != x.second) throw Napi::RangeError::New(env, fn + "(dy): length differs from x");
  if (dx.first && dx.second != x.second) throw Napi::RangeError::New(env, fn + "(dx): length differs from x");
  for (auto* v : {&var, &gamma, &dgamma, &dbeta}) check_c_vec(env, *v, mean.second, fn + "(per-channel vector)");
  check(env, f32_bn_backward(n, c, hw, x.first, dy.first, x.second, mean.first, var.first, gamma.first, mean.second,
                             float(eps), batch, dx.first, dgamma.first, dbeta.first));
  return env.Undefined();
}

static Napi::Value Relu(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto x = f32_arg(info, 0, "f32Relu(x)");
  auto y = f32_arg(info, 1, "f32Relu(y)");
  check(env, f32_relu(x.first, x.second, y.first, y.second));
  return env.Undefined();
}

static Napi::Value ReluBackward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto x = f32_arg(info, 0, "f32ReluBackward(x)");
  auto dy = f32_arg(info, 1, "f32ReluBackward(dy)");
  auto dx = f32_arg(info, 2, "f32ReluBackward(dx)");
  if (dy.second != x.second) throw Napi::RangeError::New(env, "f32ReluBackward(dy): length differs from x");
  check(env, f32_relu_backward(x.first, dy.first, x.second, dx.first, dx.second));
  return env.Undefined();
}

// f32Add(a, b, y): y = a + b; y may be a (in-place accumulation).
static Napi::Value Add(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto a = f32_arg(info, 0, "f32Add(a)");
  auto b = f32_arg(info, 1, "f32Add(b)");
  auto y = f32_arg(info, 2, "f32Add(y)");
  if (b.second != a.second) throw Napi::RangeError::New(env, "f32Add(b): length differs from a");
  check(env, f32_add(a.first, b.first, a.second, y.first, y.second));
  return env.Undefined();
}

// f32SgdStep(p, g, buf|null, lr, momentum, dampening, weightDecay, nesterov, first)
static Napi::Value SgdStep(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string fn = "f32SgdStep";
  auto p = f32_arg(info, 0, fn + "(p)");
  auto g = f32_arg(info, 1, fn + "(g)");
  auto buf = f32_arg(info, 2, fn + "(buf)", true);
  if (g.second != p.second) throw Napi::RangeError::New(env, fn + "(g): length differs from p");
  if (buf.first && buf.second != p.second) throw Napi::RangeError::New(env, fn + "(buf): length differs from p");
  SgdParams o;
  o.lr = arg_number(info, 3, fn + "(lr)");
  o.momentum = arg_number(info, 4, fn + "(momentum)");
  o.dampening = arg_number(info, 5, fn + "(dampening)");
  o.weight_decay = arg_number(info, 6, fn + "(weightDecay)");
  if (!info[7].IsBoolean()) throw_type(env, fn + "(nesterov)", "boolean", info[7]);
  if (!info[8].IsBoolean()) throw_type(env, fn + "(first)", "boolean", info[8]);
  o.nesterov = info[7].As<Napi::Boolean>().Value();
  o.first = info[8].As<Napi::Boolean>().Value();
  check(env, f32_sgd_step(p.first, g.first, buf.first, p.second, o));
  return env.Undefined();
}

static Napi::Value FloatInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("conv", float_backend_name(float_conv_backend()));
  o.Set("gemm", float_backend_name(float_gemm_backend()));
  Napi::Array avail = Napi::Array::New(env);
  uint32_t i = 0;
  for (FloatBackend b : {FloatBackend::ref, FloatBackend::dnnl, FloatBackend::openblas})
    if (float_backend_available(b)) avail.Set(i++, float_backend_name(b));
  o.Set("available", avail);
  o.Set("threads", float_threads());
  std::string dv = dnnl_version_string();
  o.Set("dnnl", dv.empty() ? env.Null() : Napi::Value(Napi::String::New(env, dv)));
  return o;
}

void init_float(Napi::Env env, Napi::Object exports) {
  exports.Set("floatInfo", Napi::Function::New(env, FloatInfo, "floatInfo"));
  exports.Set("f32Conv2dForward", Napi::Function::New(env, Conv2dForward, "f32Conv2dForward"));
  exports.Set("f32Conv2dBackwardData", Napi::Function::New(env, Conv2dBackwardData, "f32Conv2dBackwardData"));
  exports.Set("f32Conv2dBackwardWeights", Napi::Function::New(env, Conv2dBackwardWeights, "f32Conv2dBackwardWeights"));
  exports.Set("f32Conv2dBackward", Napi::Function::New(env, Conv2dBackward, "f32Conv2dBackward"));
  exports.Set("f32Gemm", Napi::Function::New(env, Gemm, "f32Gemm"));
  exports.Set("f32BnStats", Napi::Function::New(env, BnStats, "f32BnStats"));
  exports.Set("f32BnApply", Napi::Function::New(env, BnApply, "f32BnApply"));
  exports.Set("f32BnBackward", Napi::Function::New(env, BnBackward, "f32BnBackward"));
  exports.Set("f32Relu", Napi::Function::New(env, Relu, "f32Relu"));
  exports.Set("f32ReluBackward", Napi::Function::New(env, ReluBackward, "f32ReluBackward"));
  exports.Set("f32Add", Napi::Function::New(env, Add, "f32Add"));
  exports.Set("f32SgdStep", Napi::Function::New(env, SgdStep, "f32SgdStep"));
}

}  // namespace qrb::binding
