// Binding for the corruption kernels (issue 8). See ts/native/corrupt.ts for the typed contract.
//
//   corruptAvailable: boolean     false when the addon was built without the image group (libjpeg)
//   corruptOpencv: boolean        whether defocus / elastic / cvResizeLinear can run (OpenCV found)
//   gaussianFilter(src f64, h, w, c, sigma, truncate, mode)            -> Promise<Float64Array>
//   clippedZoom(src f64, h, w, c, zoom)                                 -> Promise<Float64Array>
//   zoomBlur(src u8, h, w, c, zooms f64)                                -> Promise<Uint8Array>
//   motionBlur(src u8, h, w, c, radius, sigma, angleDeg)                -> Promise<Uint8Array>
//   glassBlur(src u8, h, w, c, sigma, delta, iterations, offsets i32)   -> Promise<Uint8Array>
//   defocusBlur(src u8, h, w, c, radius, aliasBlur)                     -> Promise<Uint8Array>
//   elastic(src u8, h, w, c, alpha, sigma, jitter f32[6], ux f64, uy f64) -> Promise<Uint8Array>
//   cvResizeLinear(src u8, h, w, c, fx, fy)                             -> Promise<{data, width, height}>
//
// Inputs are copied before the worker starts (JS may reuse its buffers at once; native keeps no JS
// memory); the work runs in an AsyncWorker. Errors reject with the kernel's message naming the argument.
#include "common.h"

#ifdef QRB_HAVE_IMAGE
#include <cstring>
#include <functional>
#include <new>
#include <utility>
#include <vector>

#include "qrb/corrupt.h"
#endif

namespace qrb::binding {

#ifdef QRB_HAVE_IMAGE
namespace {

template <class T>
std::vector<T> copy_of(const Napi::TypedArrayOf<T>& a) {
  return std::vector<T>(a.Data(), a.Data() + a.ElementLength());
}

int arg_dim(const Napi::CallbackInfo& info, size_t i, const std::string& where, int hi) {
  double d = arg_number(info, i, where);
  if (!(d >= 1 && d <= hi) || d != double(int(d)))
    throw Napi::RangeError::New(info.Env(), where + ": expected integer 1.." + std::to_string(hi) + " but received " + std::to_string(d));
  return int(d);
}

// Shape check shared by every entry: src holds h*w*c elements.
struct Shape {
  int h, w, c;
};
Shape arg_shape(const Napi::CallbackInfo& info, size_t first, const std::string& fn, size_t have, int max_c = 4) {
  Shape s{arg_dim(info, first, fn + "(h)", 1 << 16), arg_dim(info, first + 1, fn + "(w)", 1 << 16),
          arg_dim(info, first + 2, fn + "(c)", max_c)};
  if (size_t(s.h) * s.w * s.c != have)
    throw Napi::RangeError::New(info.Env(), fn + "(src): expected " + std::to_string(size_t(s.h) * s.w * s.c) +
                                                " elements (h*w*c) but received " + std::to_string(have));
  return s;
}

template <class T>
Napi::Value to_js(Napi::Env env, const std::vector<T>& v);
template <>
Napi::Value to_js<uint8_t>(Napi::Env env, const std::vector<uint8_t>& v) {
  auto out = Napi::Uint8Array::New(env, v.size());
  if (!v.empty()) std::memcpy(out.Data(), v.data(), v.size());
  return out;
}
template <>
Napi::Value to_js<double>(Napi::Env env, const std::vector<double>& v) {
  auto out = Napi::Float64Array::New(env, v.size());
  if (!v.empty()) std::memcpy(out.Data(), v.data(), v.size() * sizeof(double));
  return out;
}

// Runs `work` (which fills `out`) off the main thread and resolves with `out` (or `extra` decorates it).
template <class T>
class Worker : public Napi::AsyncWorker {
 public:
  Worker(Napi::Env env, std::function<Status(std::vector<T>&)> work)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), work_(std::move(work)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }
  std::function<Napi::Value(Napi::Env, Napi::Value)> decorate;

 protected:
  void Execute() override {
    try {
      status_ = work_(out_);
    } catch (const std::bad_alloc&) {
      status_ = Status::Error("out of memory");
    }
  }
  void OnOK() override {
    Napi::Env env = Env();
    if (!status_.ok) {
      deferred_.Reject(Napi::Error::New(env, status_.message).Value());
      return;
    }
    Napi::Value v = to_js<T>(env, out_);
    deferred_.Resolve(decorate ? decorate(env, v) : v);
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  std::function<Status(std::vector<T>&)> work_;
  std::vector<T> out_;
  Status status_;
};

template <class T>
Napi::Value queue(Napi::Env env, std::function<Status(std::vector<T>&)> work) {
  auto* w = new Worker<T>(env, std::move(work));
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

Napi::Value GaussianFilter(const Napi::CallbackInfo& info) {
  auto src = copy_of(arg_typed<double>(info, 0, napi_float64_array, "Float64Array", "gaussianFilter(src)"));
  Shape s = arg_shape(info, 1, "gaussianFilter", src.size(), 1 << 16);
  double sigma = arg_number(info, 4, "gaussianFilter(sigma)");
  double truncate = arg_number(info, 5, "gaussianFilter(truncate)");
  double mode = arg_number(info, 6, "gaussianFilter(mode)");
  if (mode != 0 && mode != 1) throw Napi::RangeError::New(info.Env(), "gaussianFilter(mode): expected 0 (reflect) or 1 (nearest)");
  return queue<double>(info.Env(), [=, src = std::move(src)](std::vector<double>& out) {
    out.resize(src.size());
    return corrupt::gaussian_filter_hw(src.data(), s.h, s.w, s.c, sigma, truncate, corrupt::NdMode(int(mode)), out.data());
  });
}

Napi::Value ClippedZoom(const Napi::CallbackInfo& info) {
  auto src = copy_of(arg_typed<double>(info, 0, napi_float64_array, "Float64Array", "clippedZoom(src)"));
  Shape s = arg_shape(info, 1, "clippedZoom", src.size(), 1 << 16);
  double z = arg_number(info, 4, "clippedZoom(zoom)");
  return queue<double>(info.Env(), [=, src = std::move(src)](std::vector<double>& out) {
    out.resize(src.size());
    return corrupt::clipped_zoom_f64(src.data(), s.h, s.w, s.c, z, out.data());
  });
}

Napi::Value ZoomBlur(const Napi::CallbackInfo& info) {
  auto src = copy_of(arg_typed<uint8_t>(info, 0, napi_uint8_array, "Uint8Array", "zoomBlur(src)"));
  Shape s = arg_shape(info, 1, "zoomBlur", src.size());
  auto zooms = copy_of(arg_typed<double>(info, 4, napi_float64_array, "Float64Array", "zoomBlur(zooms)"));
  return queue<uint8_t>(info.Env(), [=, src = std::move(src), zooms = std::move(zooms)](std::vector<uint8_t>& out) {
    out.resize(src.size());
    return corrupt::zoom_blur_u8(src.data(), s.h, s.w, s.c, zooms.data(), int(zooms.size()), out.data());
  });
}

Napi::Value MotionBlur(const Napi::CallbackInfo& info) {
  auto src = copy_of(arg_typed<uint8_t>(info, 0, napi_uint8_array, "Uint8Array", "motionBlur(src)"));
  Shape s = arg_shape(info, 1, "motionBlur", src.size());
  double radius = arg_number(info, 4, "motionBlur(radius)");
  double sigma = arg_number(info, 5, "motionBlur(sigma)");
  double angle = arg_number(info, 6, "motionBlur(angle)");
  return queue<uint8_t>(info.Env(), [=, src = std::move(src)](std::vector<uint8_t>& out) {
    out.resize(src.size());
    return corrupt::motion_blur_u8(src.data(), s.h, s.w, s.c, radius, sigma, angle, out.data());
  });
}

Napi::Value GlassBlur(const Napi::CallbackInfo& info) {
  auto src = copy_of(arg_typed<uint8_t>(info, 0, napi_uint8_array, "Uint8Array", "glassBlur(src)"));
  Shape s = arg_shape(info, 1, "glassBlur", src.size());
  double sigma = arg_number(info, 4, "glassBlur(sigma)");
  int delta = arg_dim(info, 5, "glassBlur(delta)", 1 << 12);
  double iters = arg_number(info, 6, "glassBlur(iterations)");
  if (!(iters >= 0 && iters <= 100) || iters != double(int(iters)))
    throw Napi::RangeError::New(info.Env(), "glassBlur(iterations): expected integer 0..100");
  auto off = copy_of(arg_typed<int32_t>(info, 7, napi_int32_array, "Int32Array", "glassBlur(offsets)"));
  return queue<uint8_t>(info.Env(), [=, src = std::move(src), off = std::move(off)](std::vector<uint8_t>& out) {
    out.resize(src.size());
    return corrupt::glass_blur_u8(src.data(), s.h, s.w, s.c, sigma, delta, int(iters), off.data(), off.size(), out.data());
  });
}

Napi::Value DefocusBlur(const Napi::CallbackInfo& info) {
  auto src = copy_of(arg_typed<uint8_t>(info, 0, napi_uint8_array, "Uint8Array", "defocusBlur(src)"));
  Shape s = arg_shape(info, 1, "defocusBlur", src.size());
  double radius = arg_number(info, 4, "defocusBlur(radius)");
  double alias = arg_number(info, 5, "defocusBlur(aliasBlur)");
  return queue<uint8_t>(info.Env(), [=, src = std::move(src)](std::vector<uint8_t>& out) {
    out.resize(src.size());
    return corrupt::defocus_blur_u8(src.data(), s.h, s.w, s.c, radius, alias, out.data());
  });
}

Napi::Value Elastic(const Napi::CallbackInfo& info) {
  auto src = copy_of(arg_typed<uint8_t>(info, 0, napi_uint8_array, "Uint8Array", "elastic(src)"));
  Shape s = arg_shape(info, 1, "elastic", src.size());
  double alpha = arg_number(info, 4, "elastic(alpha)");
  double sigma = arg_number(info, 5, "elastic(sigma)");
  auto jit = copy_of(arg_typed<float>(info, 6, napi_float32_array, "Float32Array", "elastic(jitter)"));
  auto ux = copy_of(arg_typed<double>(info, 7, napi_float64_array, "Float64Array", "elastic(ux)"));
  auto uy = copy_of(arg_typed<double>(info, 8, napi_float64_array, "Float64Array", "elastic(uy)"));
  const size_t hw = size_t(s.h) * s.w;
  if (jit.size() != 6) throw Napi::RangeError::New(info.Env(), "elastic(jitter): expected 6 values");
  if (ux.size() != hw || uy.size() != hw) throw Napi::RangeError::New(info.Env(), "elastic(ux, uy): expected h*w values each");
  return queue<uint8_t>(info.Env(), [=, src = std::move(src), jit = std::move(jit), ux = std::move(ux), uy = std::move(uy)](std::vector<uint8_t>& out) {
    out.resize(src.size());
    return corrupt::elastic_u8(src.data(), s.h, s.w, s.c, alpha, sigma, jit.data(), ux.data(), uy.data(), out.data());
  });
}

Napi::Value CvResizeLinear(const Napi::CallbackInfo& info) {
  auto src = copy_of(arg_typed<uint8_t>(info, 0, napi_uint8_array, "Uint8Array", "cvResizeLinear(src)"));
  Shape s = arg_shape(info, 1, "cvResizeLinear", src.size());
  double fx = arg_number(info, 4, "cvResizeLinear(fx)");
  double fy = arg_number(info, 5, "cvResizeLinear(fy)");
  int oh = 0, ow = 0;
  check(info.Env(), corrupt::cv_resize_linear_u8(src.data(), s.h, s.w, s.c, fx, fy, &oh, &ow, nullptr, 0));
  auto* w = new Worker<uint8_t>(info.Env(), [=, src = std::move(src)](std::vector<uint8_t>& out) {
    int h2 = 0, w2 = 0;
    out.resize(size_t(oh) * ow * s.c);
    return corrupt::cv_resize_linear_u8(src.data(), s.h, s.w, s.c, fx, fy, &h2, &w2, out.data(), out.size());
  });
  w->decorate = [oh, ow](Napi::Env env, Napi::Value data) -> Napi::Value {
    Napi::Object o = Napi::Object::New(env);
    o.Set("data", data);
    o.Set("width", ow);
    o.Set("height", oh);
    return o;
  };
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

}  // namespace
#endif

void init_corrupt(Napi::Env env, Napi::Object exports) {
#ifdef QRB_HAVE_IMAGE
  exports.Set("corruptAvailable", Napi::Boolean::New(env, true));
  exports.Set("corruptOpencv", Napi::Boolean::New(env, corrupt::have_opencv()));
  exports.Set("gaussianFilter", Napi::Function::New(env, GaussianFilter, "gaussianFilter"));
  exports.Set("clippedZoom", Napi::Function::New(env, ClippedZoom, "clippedZoom"));
  exports.Set("zoomBlur", Napi::Function::New(env, ZoomBlur, "zoomBlur"));
  exports.Set("motionBlur", Napi::Function::New(env, MotionBlur, "motionBlur"));
  exports.Set("glassBlur", Napi::Function::New(env, GlassBlur, "glassBlur"));
  exports.Set("defocusBlur", Napi::Function::New(env, DefocusBlur, "defocusBlur"));
  exports.Set("elastic", Napi::Function::New(env, Elastic, "elastic"));
  exports.Set("cvResizeLinear", Napi::Function::New(env, CvResizeLinear, "cvResizeLinear"));
#else
  exports.Set("corruptAvailable", Napi::Boolean::New(env, false));
  exports.Set("corruptOpencv", Napi::Boolean::New(env, false));
#endif
}

}  // namespace qrb::binding
