// oneDNN path of the float convolution: forward, backward-data, backward-weights.
// Variants: this file (QRB_HAVE_DNNL) and the scalar twin native/kernels/ref/f32-conv2d-ref.cc; without
// oneDNN (aarch64 cross build, QRB_SYSTEM_LIBS=OFF) these functions return an error Status and the
// dispatcher (f32-dispatch.cc) uses the twin.
// Memory stays in the caller's plain NCHW / OIHW (GOIHW for groups) buffers: oneDNN picks an
// implementation that reads plain layouts (gemm- or jit-based), so no reorders and no copies. Blocked
// layouts with reorders are the next step once activations stay in native memory between layers.
// oneDNN's own primitive cache makes re-creating a primitive of a seen shape cheap.
// Threads: oneDNN's OpenMP pool (OMP_NUM_THREADS, default = cores).
// Signals: oneDNN 2.6's convolutions corrupt the heap when an asynchronous signal lands inside them
// (reproduced with a SIGPROF timer and an empty handler in plain C++, and with `node --cpu-prof`;
// the scalar twin is unaffected), so every call runs with asynchronous signals blocked in the
// calling thread (qrb/float-signals.h); they are delivered when the call returns. OpenMP workers
// created during a call inherit the blocked mask.
// Test: native/tests/test_float_conv.cc; test/parity/float-native.test.ts; bench: bench/engine/.
#include "qrb/float.h"

#ifdef QRB_HAVE_DNNL
#include <oneapi/dnnl/dnnl.hpp>
#include <unordered_map>

#include "qrb/float-signals.h"
#endif

namespace qrb {

#ifdef QRB_HAVE_DNNL
namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

dnnl::engine& cpu_engine() {
  static dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}

struct ConvMds {
  memory::desc src, wei, bias, dst;
  memory::dims strides, dilates, pad_l, pad_r;
};

ConvMds conv_mds(const Conv2dParams& p) {
  ConvMds m;
  const int64_t oh = p.oh(), ow = p.ow();
  m.src = memory::desc({p.n, p.cin, p.h, p.w}, dt::f32, tag::nchw);
  if (p.groups == 1)
    m.wei = memory::desc({p.cout, p.cin, p.kh, p.kw}, dt::f32, tag::oihw);
  else
    m.wei = memory::desc({p.groups, p.cout / p.groups, p.cin / p.groups, p.kh, p.kw}, dt::f32, tag::goihw);
  m.bias = memory::desc({p.cout}, dt::f32, tag::x);
  m.dst = memory::desc({p.n, p.cout, oh, ow}, dt::f32, tag::nchw);
  m.strides = {p.stride_h, p.stride_w};
  m.dilates = {p.dil_h - 1, p.dil_w - 1};  // oneDNN counts the gaps, torch the step
  m.pad_l = {p.pad_h, p.pad_w};
  // torch floors the output size, so the right/bottom padding actually used may be below pad (or < 0).
  m.pad_r = {(oh - 1) * p.stride_h + (p.kh - 1) * p.dil_h + 1 - p.h - p.pad_h,
             (ow - 1) * p.stride_w + (p.kw - 1) * p.dil_w + 1 - p.w - p.pad_w};
  return m;
}

dnnl::convolution_forward::primitive_desc fwd_pd(const ConvMds& m, bool with_bias) {
  using namespace dnnl;
  auto d = with_bias ? convolution_forward::desc(prop_kind::forward_training, algorithm::convolution_direct, m.src,
                                                 m.wei, m.bias, m.dst, m.strides, m.dilates, m.pad_l, m.pad_r)
                     : convolution_forward::desc(prop_kind::forward_training, algorithm::convolution_direct, m.src,
                                                 m.wei, m.dst, m.strides, m.dilates, m.pad_l, m.pad_r);
  return convolution_forward::primitive_desc(d, cpu_engine());
}

Status dnnl_error(const char* what, const dnnl::error& e) {
  return Status::Error(std::string(what) + ": oneDNN failed: " + e.what());
}

}  // namespace

Status f32_conv2d_fwd_dnnl(const Conv2dParams& p, const float* x, const float* w, const float* b, float* y) {
  AsyncSignalsBlocked guard;
  try {
    ConvMds m = conv_mds(p);
    auto pd = fwd_pd(m, b != nullptr);
    dnnl::convolution_forward prim(pd);
    auto& eng = cpu_engine();
    dnnl::stream s(eng);
    std::unordered_map<int, memory> args{{DNNL_ARG_SRC, memory(m.src, eng, const_cast<float*>(x))},
                                         {DNNL_ARG_WEIGHTS, memory(m.wei, eng, const_cast<float*>(w))},
                                         {DNNL_ARG_DST, memory(m.dst, eng, y)}};
    if (b) args.insert({DNNL_ARG_BIAS, memory(m.bias, eng, const_cast<float*>(b))});
    prim.execute(s, args);
    s.wait();
    return Status::Ok();
  } catch (const dnnl::error& e) {
    return dnnl_error("f32_conv2d_fwd_dnnl", e);
  }
}

Status f32_conv2d_bwd_data_dnnl(const Conv2dParams& p, const float* dy, const float* w, float* dx) {
  AsyncSignalsBlocked guard;
  try {
    using namespace dnnl;
    ConvMds m = conv_mds(p);
    auto hint = fwd_pd(m, false);
    convolution_backward_data::desc d(algorithm::convolution_direct, m.src, m.wei, m.dst, m.strides, m.dilates,
                                      m.pad_l, m.pad_r);
    convolution_backward_data::primitive_desc pd(d, cpu_engine(), hint);
    convolution_backward_data prim(pd);
    auto& eng = cpu_engine();
    dnnl::stream s(eng);
    prim.execute(s, {{DNNL_ARG_DIFF_DST, memory(m.dst, eng, const_cast<float*>(dy))},
                     {DNNL_ARG_WEIGHTS, memory(m.wei, eng, const_cast<float*>(w))},
                     {DNNL_ARG_DIFF_SRC, memory(m.src, eng, dx)}});
    s.wait();
    return Status::Ok();
  } catch (const dnnl::error& e) {
    return dnnl_error("f32_conv2d_bwd_data_dnnl", e);
  }
}

Status f32_conv2d_bwd_weights_dnnl(const Conv2dParams& p, const float* x, const float* dy, float* dw, float* db) {
  AsyncSignalsBlocked guard;
  try {
    using namespace dnnl;
    ConvMds m = conv_mds(p);
    auto hint = fwd_pd(m, db != nullptr);
    auto d = db ? convolution_backward_weights::desc(algorithm::convolution_direct, m.src, m.wei, m.bias, m.dst,
                                                     m.strides, m.dilates, m.pad_l, m.pad_r)
                : convolution_backward_weights::desc(algorithm::convolution_direct, m.src, m.wei, m.dst, m.strides,
                                                     m.dilates, m.pad_l, m.pad_r);
    convolution_backward_weights::primitive_desc pd(d, cpu_engine(), hint);
    convolution_backward_weights prim(pd);
    auto& eng = cpu_engine();
    dnnl::stream s(eng);
    std::unordered_map<int, memory> args{{DNNL_ARG_SRC, memory(m.src, eng, const_cast<float*>(x))},
                                         {DNNL_ARG_DIFF_DST, memory(m.dst, eng, const_cast<float*>(dy))},
                                         {DNNL_ARG_DIFF_WEIGHTS, memory(m.wei, eng, dw)}};
    if (db) args.insert({DNNL_ARG_DIFF_BIAS, memory(m.bias, eng, db)});
    prim.execute(s, args);
    s.wait();
    return Status::Ok();
  } catch (const dnnl::error& e) {
    return dnnl_error("f32_conv2d_bwd_weights_dnnl", e);
  }
}

#else  // no oneDNN in this build

static Status no_dnnl(const char* what) {
  return Status::Error(std::string(what) + ": oneDNN is not compiled into this build (apt: libdnnl-dev)");
}
Status f32_conv2d_fwd_dnnl(const Conv2dParams&, const float*, const float*, const float*, float*) {
  return no_dnnl("f32_conv2d_fwd_dnnl");
}
Status f32_conv2d_bwd_data_dnnl(const Conv2dParams&, const float*, const float*, float*) {
  return no_dnnl("f32_conv2d_bwd_data_dnnl");
}
Status f32_conv2d_bwd_weights_dnnl(const Conv2dParams&, const float*, const float*, float*, float*) {
  return no_dnnl("f32_conv2d_bwd_weights_dnnl");
}

#endif

}  // namespace qrb
