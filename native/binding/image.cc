// Binding for the image functions (issue 6). See ts/native/image.ts for the typed contract.
//
//   imageAvailable: boolean           false when the addon was built without libjpeg (QRB_HAVE_IMAGE)
//   jpegDecode(src, dct, fancy)       -> Promise<{data, width, height, channels: 3, components, progressive, subsampling}>
//   jpegEncode(rgb, w, h, quality)    -> Promise<Uint8Array>
//   pilResize(src, w, h, c, outW, outH, filter, winX, winY, winW, winH) -> Promise<Uint8Array>
//   pilReduce(src, w, h, c, fx, fy)   -> Promise<Uint8Array>
//
// Each call copies its input (so JS may reuse the buffer at once; native keeps no JS memory) and runs
// in an AsyncWorker: a 500x375 decode takes milliseconds. Errors reject with the native message,
// which names the argument or the JPEG problem; the TS wrapper adds the file name.
#include "common.h"

#ifdef QRB_HAVE_IMAGE
#include <cstring>
#include <new>
#include <utility>
#include <vector>

#include "qrb/image.h"
#endif

namespace qrb::binding {

#ifdef QRB_HAVE_IMAGE
namespace {

std::vector<uint8_t> copy_bytes(const Napi::Uint8Array& a) {
  return std::vector<uint8_t>(a.Data(), a.Data() + a.ElementLength());
}

Napi::Uint8Array to_js(Napi::Env env, const std::vector<uint8_t>& v) {
  Napi::Uint8Array out = Napi::Uint8Array::New(env, v.size());
  if (!v.empty()) std::memcpy(out.Data(), v.data(), v.size());
  return out;
}

int arg_int(const Napi::CallbackInfo& info, size_t i, const std::string& where, int lo, int hi) {
  double d = arg_number(info, i, where);
  if (!(d >= lo && d <= hi) || d != double(int(d)))
    throw Napi::RangeError::New(info.Env(), where + ": expected integer " + std::to_string(lo) + ".." +
                                                std::to_string(hi) + " but received " + std::to_string(d));
  return int(d);
}

bool arg_bool(const Napi::CallbackInfo& info, size_t i, const std::string& where) {
  Napi::Value v = info[i];
  if (!v.IsBoolean()) throw_type(info.Env(), where, "boolean", v);
  return v.As<Napi::Boolean>().Value();
}

// A promise-returning worker: Run() fills `status` and the result; OnOK resolves or rejects.
class PromiseWorker : public Napi::AsyncWorker {
 public:
  explicit PromiseWorker(Napi::Env env) : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)) {}
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
    Napi::Env env = Env();
    if (!status_.ok) {
      deferred_.Reject(Napi::Error::New(env, status_.message).Value());
      return;
    }
    deferred_.Resolve(Result(env));
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }
  virtual Status Work() = 0;
  virtual Napi::Value Result(Napi::Env env) = 0;

 private:
  Napi::Promise::Deferred deferred_;
  Status status_;
};

class DecodeWorker : public PromiseWorker {
 public:
  DecodeWorker(Napi::Env env, std::vector<uint8_t> src, image::DecodeOptions opt)
      : PromiseWorker(env), src_(std::move(src)), opt_(opt) {}

 protected:
  Status Work() override { return image::jpeg_decode(src_.data(), src_.size(), opt_, &img_, &info_); }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    o.Set("data", to_js(env, img_.data));
    o.Set("width", img_.width);
    o.Set("height", img_.height);
    o.Set("channels", img_.channels);
    o.Set("components", info_.components);
    o.Set("progressive", info_.progressive);
    o.Set("subsampling", info_.subsampling);
    return o;
  }

 private:
  std::vector<uint8_t> src_;
  image::DecodeOptions opt_;
  image::Image8 img_;
  image::JpegInfo info_;
};

class EncodeWorker : public PromiseWorker {
 public:
  EncodeWorker(Napi::Env env, std::vector<uint8_t> rgb, int w, int h, int q)
      : PromiseWorker(env), rgb_(std::move(rgb)), w_(w), h_(h), q_(q) {}

 protected:
  Status Work() override { return image::jpeg_encode_rgb(rgb_.data(), rgb_.size(), w_, h_, q_, &out_); }
  Napi::Value Result(Napi::Env env) override { return to_js(env, out_); }

 private:
  std::vector<uint8_t> rgb_, out_;
  int w_, h_, q_;
};

class ResizeWorker : public PromiseWorker {
 public:
  ResizeWorker(Napi::Env env, std::vector<uint8_t> src, int w, int h, int c, int ow, int oh, int filter,
               image::Window win)
      : PromiseWorker(env), src_(std::move(src)), w_(w), h_(h), c_(c), ow_(ow), oh_(oh), filter_(filter), win_(win) {}

 protected:
  Status Work() override {
    out_.resize(size_t(win_.w) * size_t(win_.h) * size_t(c_));
    return image::pil_resize(src_.data(), src_.size(), w_, h_, c_, ow_, oh_, image::Filter(filter_), win_,
                             out_.data(), out_.size());
  }
  Napi::Value Result(Napi::Env env) override { return to_js(env, out_); }

 private:
  std::vector<uint8_t> src_, out_;
  int w_, h_, c_, ow_, oh_, filter_;
  image::Window win_;
};

class ReduceWorker : public PromiseWorker {
 public:
  ReduceWorker(Napi::Env env, std::vector<uint8_t> src, int w, int h, int c, int fx, int fy)
      : PromiseWorker(env), src_(std::move(src)), w_(w), h_(h), c_(c), fx_(fx), fy_(fy) {}

 protected:
  Status Work() override {
    out_.resize(size_t((w_ + fx_ - 1) / fx_) * size_t((h_ + fy_ - 1) / fy_) * size_t(c_));
    return image::pil_reduce_box(src_.data(), src_.size(), w_, h_, c_, fx_, fy_, out_.data(), out_.size());
  }
  Napi::Value Result(Napi::Env env) override { return to_js(env, out_); }

 private:
  std::vector<uint8_t> src_, out_;
  int w_, h_, c_, fx_, fy_;
};

constexpr int kMaxSide = 1 << 20;

Napi::Value JpegDecode(const Napi::CallbackInfo& info) {
  auto src = arg_typed<uint8_t>(info, 0, napi_uint8_array, "Uint8Array", "jpegDecode(src)");
  image::DecodeOptions opt;
  opt.dct = image::Dct(arg_int(info, 1, "jpegDecode(dct)", 0, 2));
  opt.fancy_upsampling = arg_bool(info, 2, "jpegDecode(fancyUpsampling)");
  auto* w = new DecodeWorker(info.Env(), copy_bytes(src), opt);
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

Napi::Value JpegEncode(const Napi::CallbackInfo& info) {
  auto rgb = arg_typed<uint8_t>(info, 0, napi_uint8_array, "Uint8Array", "jpegEncode(rgb)");
  int wd = arg_int(info, 1, "jpegEncode(width)", 1, 65500);
  int ht = arg_int(info, 2, "jpegEncode(height)", 1, 65500);
  int q = arg_int(info, 3, "jpegEncode(quality)", 1, 100);
  if (rgb.ElementLength() != size_t(wd) * size_t(ht) * 3)
    throw Napi::RangeError::New(info.Env(), "jpegEncode(rgb): expected " + std::to_string(size_t(wd) * ht * 3) +
                                                " bytes but received " + std::to_string(rgb.ElementLength()));
  auto* w = new EncodeWorker(info.Env(), copy_bytes(rgb), wd, ht, q);
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

Napi::Value PilResize(const Napi::CallbackInfo& info) {
  auto src = arg_typed<uint8_t>(info, 0, napi_uint8_array, "Uint8Array", "pilResize(src)");
  int w = arg_int(info, 1, "pilResize(width)", 1, kMaxSide);
  int h = arg_int(info, 2, "pilResize(height)", 1, kMaxSide);
  int c = arg_int(info, 3, "pilResize(channels)", 1, 4);
  int ow = arg_int(info, 4, "pilResize(outWidth)", 1, kMaxSide);
  int oh = arg_int(info, 5, "pilResize(outHeight)", 1, kMaxSide);
  int filter = arg_int(info, 6, "pilResize(filter)", 0, 5);
  image::Window win{arg_int(info, 7, "pilResize(window.x)", 0, kMaxSide), arg_int(info, 8, "pilResize(window.y)", 0, kMaxSide),
                    arg_int(info, 9, "pilResize(window.width)", 1, kMaxSide),
                    arg_int(info, 10, "pilResize(window.height)", 1, kMaxSide)};
  if (src.ElementLength() != size_t(w) * size_t(h) * size_t(c))
    throw Napi::RangeError::New(info.Env(), "pilResize(src): expected " + std::to_string(size_t(w) * h * c) +
                                                " bytes but received " + std::to_string(src.ElementLength()));
  if (win.x + win.w > ow || win.y + win.h > oh)
    throw Napi::RangeError::New(info.Env(), "pilResize(window): expected a window inside " + std::to_string(ow) + "x" +
                                                std::to_string(oh));
  if (uint64_t(ow) * uint64_t(oh) > image::kMaxPixels)
    throw Napi::RangeError::New(info.Env(), "pilResize(outWidth, outHeight): more than " +
                                                std::to_string(image::kMaxPixels) + " pixels");
  auto* wk = new ResizeWorker(info.Env(), copy_bytes(src), w, h, c, ow, oh, filter, win);
  Napi::Promise p = wk->Promise();
  wk->Queue();
  return p;
}

Napi::Value PilReduce(const Napi::CallbackInfo& info) {
  auto src = arg_typed<uint8_t>(info, 0, napi_uint8_array, "Uint8Array", "pilReduce(src)");
  int w = arg_int(info, 1, "pilReduce(width)", 1, kMaxSide);
  int h = arg_int(info, 2, "pilReduce(height)", 1, kMaxSide);
  int c = arg_int(info, 3, "pilReduce(channels)", 1, 4);
  int fx = arg_int(info, 4, "pilReduce(factorX)", 1, w);
  int fy = arg_int(info, 5, "pilReduce(factorY)", 1, h);
  if (src.ElementLength() != size_t(w) * size_t(h) * size_t(c))
    throw Napi::RangeError::New(info.Env(), "pilReduce(src): expected " + std::to_string(size_t(w) * h * c) +
                                                " bytes but received " + std::to_string(src.ElementLength()));
  auto* wk = new ReduceWorker(info.Env(), copy_bytes(src), w, h, c, fx, fy);
  Napi::Promise p = wk->Promise();
  wk->Queue();
  return p;
}

}  // namespace
#endif

void init_image(Napi::Env env, Napi::Object exports) {
#ifdef QRB_HAVE_IMAGE
  exports.Set("imageAvailable", Napi::Boolean::New(env, true));
  exports.Set("jpegDecode", Napi::Function::New(env, JpegDecode, "jpegDecode"));
  exports.Set("jpegEncode", Napi::Function::New(env, JpegEncode, "jpegEncode"));
  exports.Set("pilResize", Napi::Function::New(env, PilResize, "pilResize"));
  exports.Set("pilReduce", Napi::Function::New(env, PilReduce, "pilReduce"));
#else
  exports.Set("imageAvailable", Napi::Boolean::New(env, false));
#endif
}

}  // namespace qrb::binding
