// Binding for the fake-quant kernels (qrb/fake_quant.h). Typed contract: ts/native/fake-quant.ts
// (FakeQuantNative); ts/quant/fake.ts checks arguments before calling, this layer rechecks types and
// integer ranges and the kernels recheck lengths, scales and ranges, naming the argument
// ("f32FakeQuant(scale[0]): expected a finite number > 0 but received 0.000000"). Typed arrays cross
// zero-copy; nothing is kept after returning. Synchronous: a 2M-element activation takes about a millisecond.
#include <cmath>
#include <string>

#include "common.h"
#include "qrb/fake_quant.h"

namespace qrb::binding {
namespace {

std::pair<float*, size_t> f32(const Napi::CallbackInfo& info, size_t i, const std::string& where) {
  auto a = arg_typed<float>(info, i, napi_float32_array, "Float32Array", where);
  return {a.Data(), a.ElementLength()};
}

std::pair<uint8_t*, size_t> u8(const Napi::CallbackInfo& info, size_t i, const std::string& where,
                               bool optional = false) {
  Napi::Value v = info[i];
  if (optional && (v.IsNull() || v.IsUndefined())) return {nullptr, 0};
  auto a = arg_typed<uint8_t>(info, i, napi_uint8_array, optional ? "Uint8Array or null" : "Uint8Array", where);
  return {a.Data(), a.ElementLength()};
}

int32_t int32_arg(const Napi::CallbackInfo& info, size_t i, const std::string& where) {
  const double d = arg_number(info, i, where);
  if (!(d >= -2147483648.0 && d <= 2147483647.0) || d != std::floor(d))
    throw Napi::RangeError::New(info.Env(), where + ": expected an int32 integer but received " + std::to_string(d));
  return int32_t(d);
}

// f32FakeQuant(x, scale, qmin, qmax, y, mask | null)
Napi::Value FakeQuant(const Napi::CallbackInfo& info) {
  const std::string fn = "f32FakeQuant";
  auto x = f32(info, 0, fn + "(x)");
  auto scale = f32(info, 1, fn + "(scale)");
  const int32_t qmin = int32_arg(info, 2, fn + "(qmin)");
  const int32_t qmax = int32_arg(info, 3, fn + "(qmax)");
  auto y = f32(info, 4, fn + "(y)");
  auto mask = u8(info, 5, fn + "(mask)", true);
  check(info.Env(), f32_fake_quant(x.first, x.second, scale.first, scale.second, qmin, qmax, y.first, y.second,
                                   mask.first, mask.second));
  return info.Env().Undefined();
}

// f32FakeQuantBackward(g, mask, gx)
Napi::Value FakeQuantBackward(const Napi::CallbackInfo& info) {
  const std::string fn = "f32FakeQuantBackward";
  auto g = f32(info, 0, fn + "(g)");
  auto mask = u8(info, 1, fn + "(mask)");
  auto gx = f32(info, 2, fn + "(gx)");
  if (mask.second != g.second) throw Napi::RangeError::New(info.Env(), fn + "(mask): length differs from g");
  check(info.Env(), f32_fake_quant_backward(g.first, mask.first, g.second, gx.first, gx.second));
  return info.Env().Undefined();
}

// f32LsqBackward(x, y, g, scale, qmin, qmax, gradFactor, gx, gs)
Napi::Value LsqBackward(const Napi::CallbackInfo& info) {
  const std::string fn = "f32LsqBackward";
  auto x = f32(info, 0, fn + "(x)");
  auto y = f32(info, 1, fn + "(y)");
  auto g = f32(info, 2, fn + "(g)");
  auto scale = f32(info, 3, fn + "(scale)");
  const int32_t qmin = int32_arg(info, 4, fn + "(qmin)");
  const int32_t qmax = int32_arg(info, 5, fn + "(qmax)");
  const double gf = arg_number(info, 6, fn + "(gradFactor)");
  auto gx = f32(info, 7, fn + "(gx)");
  auto gs = f32(info, 8, fn + "(gs)");
  if (y.second != x.second) throw Napi::RangeError::New(info.Env(), fn + "(y): length differs from x");
  if (g.second != x.second) throw Napi::RangeError::New(info.Env(), fn + "(g): length differs from x");
  check(info.Env(), f32_lsq_backward(x.first, y.first, g.first, x.second, scale.first, scale.second, qmin, qmax, gf,
                                     gx.first, gx.second, gs.first, gs.second));
  return info.Env().Undefined();
}

// f32PactFakeQuant(x, alpha, low (0 none | 1 always | 2 auto), scale, qmin, qmax, y, code) -> lower clip ran
Napi::Value PactFakeQuant(const Napi::CallbackInfo& info) {
  const std::string fn = "f32PactFakeQuant";
  auto x = f32(info, 0, fn + "(x)");
  const double alpha = arg_number(info, 1, fn + "(alpha)");
  const int32_t low = int32_arg(info, 2, fn + "(low)");
  const double scale = arg_number(info, 3, fn + "(scale)");
  const int32_t qmin = int32_arg(info, 4, fn + "(qmin)");
  const int32_t qmax = int32_arg(info, 5, fn + "(qmax)");
  auto y = f32(info, 6, fn + "(y)");
  auto code = u8(info, 7, fn + "(code)");
  bool lower = false;
  check(info.Env(), f32_pact_fake_quant(x.first, x.second, float(alpha), static_cast<PactLow>(low), float(scale), qmin,
                                        qmax, y.first, y.second, code.first, code.second, &lower));
  return Napi::Boolean::New(info.Env(), lower);
}

// f32PactFakeQuantBackward(g, code, gx) -> dL/dα
Napi::Value PactFakeQuantBackward(const Napi::CallbackInfo& info) {
  const std::string fn = "f32PactFakeQuantBackward";
  auto g = f32(info, 0, fn + "(g)");
  auto code = u8(info, 1, fn + "(code)");
  auto gx = f32(info, 2, fn + "(gx)");
  if (code.second != g.second) throw Napi::RangeError::New(info.Env(), fn + "(code): length differs from g");
  float ga = 0.0f;
  check(info.Env(), f32_pact_fake_quant_backward(g.first, code.first, g.second, gx.first, gx.second, &ga));
  return Napi::Number::New(info.Env(), ga);
}

// f32MinMax(x, channels, lo, hi)
Napi::Value MinMax(const Napi::CallbackInfo& info) {
  const std::string fn = "f32MinMax";
  auto x = f32(info, 0, fn + "(x)");
  const size_t channels = arg_size(info, 1, fn + "(channels)");
  auto lo = f32(info, 2, fn + "(lo)");
  auto hi = f32(info, 3, fn + "(hi)");
  if (hi.second != lo.second) throw Napi::RangeError::New(info.Env(), fn + "(hi): length differs from lo");
  check(info.Env(), f32_min_max(x.first, x.second, channels, lo.first, hi.first, lo.second));
  return info.Env().Undefined();
}

// f32DorefaNormalize(t, channels, wn, lo, hi, md) -> md = [max|t|, max|t| + 1e-5]
Napi::Value DorefaNormalize(const Napi::CallbackInfo& info) {
  const std::string fn = "f32DorefaNormalize";
  auto t = f32(info, 0, fn + "(t)");
  const size_t channels = arg_size(info, 1, fn + "(channels)");
  auto wn = f32(info, 2, fn + "(wn)");
  auto lo = f32(info, 3, fn + "(lo)");
  auto hi = f32(info, 4, fn + "(hi)");
  auto md = f32(info, 5, fn + "(md)");
  if (hi.second != lo.second) throw Napi::RangeError::New(info.Env(), fn + "(hi): length differs from lo");
  if (md.second != 2) throw Napi::RangeError::New(info.Env(), fn + "(md): expected 2 elements but received " + std::to_string(md.second));
  check(info.Env(), f32_dorefa_normalize(t.first, t.second, channels, wn.first, wn.second, lo.first, hi.first, lo.second,
                                         &md.first[0], &md.first[1]));
  return info.Env().Undefined();
}

// f32DorefaWeightBackward(g, mask, t, m, d, gw)
Napi::Value DorefaWeightBackward(const Napi::CallbackInfo& info) {
  const std::string fn = "f32DorefaWeightBackward";
  auto g = f32(info, 0, fn + "(g)");
  auto mask = u8(info, 1, fn + "(mask)");
  auto t = f32(info, 2, fn + "(t)");
  const double m = arg_number(info, 3, fn + "(m)");
  const double d = arg_number(info, 4, fn + "(d)");
  auto gw = f32(info, 5, fn + "(gw)");
  if (mask.second != g.second) throw Napi::RangeError::New(info.Env(), fn + "(mask): length differs from g");
  if (t.second != g.second) throw Napi::RangeError::New(info.Env(), fn + "(t): length differs from g");
  check(info.Env(), f32_dorefa_weight_backward(g.first, mask.first, t.first, g.second, float(m), float(d), gw.first,
                                               gw.second));
  return info.Env().Undefined();
}

}  // namespace

void init_fake_quant(Napi::Env env, Napi::Object exports) {
  exports.Set("f32FakeQuant", Napi::Function::New(env, FakeQuant, "f32FakeQuant"));
  exports.Set("f32FakeQuantBackward", Napi::Function::New(env, FakeQuantBackward, "f32FakeQuantBackward"));
  exports.Set("f32LsqBackward", Napi::Function::New(env, LsqBackward, "f32LsqBackward"));
  exports.Set("f32PactFakeQuant", Napi::Function::New(env, PactFakeQuant, "f32PactFakeQuant"));
  exports.Set("f32PactFakeQuantBackward", Napi::Function::New(env, PactFakeQuantBackward, "f32PactFakeQuantBackward"));
  exports.Set("f32MinMax", Napi::Function::New(env, MinMax, "f32MinMax"));
  exports.Set("f32DorefaNormalize", Napi::Function::New(env, DorefaNormalize, "f32DorefaNormalize"));
  exports.Set("f32DorefaWeightBackward", Napi::Function::New(env, DorefaWeightBackward, "f32DorefaWeightBackward"));
}

}  // namespace qrb::binding
