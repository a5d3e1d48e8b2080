// Binding for the OpenCV wrappers (issue 7). Typed contract: ts/native/opencv.ts.
//
//   opencvAvailable: boolean           false when the addon was built without OpenCV (QRB_HAVE_OPENCV)
//   opencvVersion: string | null
//   cvDecode(src, ignoreOrientation)   -> Promise<{data (RGB), width, height, channels: 3}>
//   cvResize(src, w, h, c, outW, outH, interp) -> Promise<Uint8Array>
//
// Inputs are copied (JS may reuse its buffer at once; native keeps no JS memory) and the work runs in
// an AsyncWorker. Errors reject with the native message; the TS wrapper adds the file name.
#include "common.h"

#include <cstring>
#include <new>
#include <utility>
#include <vector>

#if defined(QRB_HAVE_OPENCV) && defined(QRB_HAVE_IMAGE)
#include "qrb/opencv.h"
#define QRB_OPENCV_BINDING 1
#endif

namespace qrb::binding {

#ifdef QRB_OPENCV_BINDING
namespace {

int cv_arg_int(const Napi::CallbackInfo& info, size_t i, const std::string& where, int lo, int hi) {
  double d = arg_number(info, i, where);
  if (!(d >= lo && d <= hi) || d != double(int(d)))
    throw Napi::RangeError::New(info.Env(), where + ": expected integer " + std::to_string(lo) + ".." +
                                                std::to_string(hi) + " but received " + std::to_string(d));
  return int(d);
}

Napi::Uint8Array cv_to_js(Napi::Env env, const std::vector<uint8_t>& v) {
  Napi::Uint8Array out = Napi::Uint8Array::New(env, v.size());
  if (!v.empty()) std::memcpy(out.Data(), v.data(), v.size());
  return out;
}

class CvWorker : public Napi::AsyncWorker {
 public:
  explicit CvWorker(Napi::Env env) : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  void Execute() override {
    try {
      status_ = Work();
    } catch (const std::bad_alloc&) {
      status_ = Status::Error("out of memory");
    }
  }
  void OnOK() override {
    if (!status_.ok) {
      deferred_.Reject(Napi::Error::New(Env(), status_.message).Value());
      return;
    }
    deferred_.Resolve(Result(Env()));
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }
  virtual Status Work() = 0;
  virtual Napi::Value Result(Napi::Env env) = 0;

 private:
  Napi::Promise::Deferred deferred_;
  Status status_;
};

class CvDecodeWorker : public CvWorker {
 public:
  CvDecodeWorker(Napi::Env env, std::vector<uint8_t> src, bool ignore)
      : CvWorker(env), src_(std::move(src)), ignore_(ignore) {}

 protected:
  Status Work() override { return image::cv_decode(src_.data(), src_.size(), ignore_, &img_); }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    o.Set("data", cv_to_js(env, img_.data));
    o.Set("width", img_.width);
    o.Set("height", img_.height);
    o.Set("channels", img_.channels);
    return o;
  }

 private:
  std::vector<uint8_t> src_;
  bool ignore_;
  image::Image8 img_;
};

class CvResizeWorker : public CvWorker {
 public:
  CvResizeWorker(Napi::Env env, std::vector<uint8_t> src, int w, int h, int c, int ow, int oh, int interp)
      : CvWorker(env), src_(std::move(src)), w_(w), h_(h), c_(c), ow_(ow), oh_(oh), interp_(interp) {}

 protected:
  Status Work() override {
    out_.resize(size_t(ow_) * size_t(oh_) * size_t(c_));
    return image::cv_resize(src_.data(), src_.size(), w_, h_, c_, ow_, oh_, image::CvInterp(interp_), out_.data(),
                            out_.size());
  }
  Napi::Value Result(Napi::Env env) override { return cv_to_js(env, out_); }

 private:
  std::vector<uint8_t> src_, out_;
  int w_, h_, c_, ow_, oh_, interp_;
};

constexpr int kCvMaxSide = 1 << 20;

Napi::Value CvDecode(const Napi::CallbackInfo& info) {
  auto src = arg_typed<uint8_t>(info, 0, napi_uint8_array, "Uint8Array", "cvDecode(src)");
  Napi::Value ig = info[1];
  if (!ig.IsBoolean()) throw_type(info.Env(), "cvDecode(ignoreOrientation)", "boolean", ig);
  auto* w = new CvDecodeWorker(info.Env(), std::vector<uint8_t>(src.Data(), src.Data() + src.ElementLength()),
                               ig.As<Napi::Boolean>().Value());
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

Napi::Value CvResize(const Napi::CallbackInfo& info) {
  auto src = arg_typed<uint8_t>(info, 0, napi_uint8_array, "Uint8Array", "cvResize(src)");
  int w = cv_arg_int(info, 1, "cvResize(width)", 1, kCvMaxSide);
  int h = cv_arg_int(info, 2, "cvResize(height)", 1, kCvMaxSide);
  int c = cv_arg_int(info, 3, "cvResize(channels)", 1, 4);
  int ow = cv_arg_int(info, 4, "cvResize(outWidth)", 1, kCvMaxSide);
  int oh = cv_arg_int(info, 5, "cvResize(outHeight)", 1, kCvMaxSide);
  int interp = cv_arg_int(info, 6, "cvResize(interpolation)", 0, 6);
  if (src.ElementLength() != size_t(w) * size_t(h) * size_t(c))
    throw Napi::RangeError::New(info.Env(), "cvResize(src): expected " + std::to_string(size_t(w) * h * c) +
                                                " bytes but received " + std::to_string(src.ElementLength()));
  if (uint64_t(ow) * uint64_t(oh) > image::kMaxPixels)
    throw Napi::RangeError::New(info.Env(), "cvResize(outWidth, outHeight): more than " +
                                                std::to_string(image::kMaxPixels) + " pixels");
  auto* wk = new CvResizeWorker(info.Env(), std::vector<uint8_t>(src.Data(), src.Data() + src.ElementLength()), w, h,
                                c, ow, oh, interp);
  Napi::Promise p = wk->Promise();
  wk->Queue();
  return p;
}

}  // namespace
#endif

void init_opencv(Napi::Env env, Napi::Object exports) {
#ifdef QRB_OPENCV_BINDING
  exports.Set("opencvAvailable", Napi::Boolean::New(env, true));
  exports.Set("opencvVersion", Napi::String::New(env, image::cv_version()));
  exports.Set("cvDecode", Napi::Function::New(env, CvDecode, "cvDecode"));
  exports.Set("cvResize", Napi::Function::New(env, CvResize, "cvResize"));
#else
  exports.Set("opencvAvailable", Napi::Boolean::New(env, false));
  exports.Set("opencvVersion", env.Null());
#endif
}

}  // namespace qrb::binding
