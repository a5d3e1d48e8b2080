// oneDNN path of the float convolution: forward, backward-data, backward-weights.
// Variants: this file (QRB_HAVE_DNNL) and the scalar twin native/kernels/ref/f32-conv2d-ref.cc; without
// oneDNN (aarch64 cross build, QRB_SYSTEM_LIBS=OFF) these functions return an error Status and the
// dispatcher (f32-dispatch.cc) uses the twin.
// The caller's buffers are plain NCHW / OIHW (GOIHW for groups); primitives use oneDNN's preferred
// (blocked) layouts with reorders in and out per call (see ConvMds), into per-thread workspace
// buffers reused across calls (Workspace). Keeping activations blocked between layers would save
// those reorders; that needs native-side tensors.
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
#include <cstdlib>
#include <memory>
#include <new>
#include <unordered_map>
#include <vector>
#ifdef _OPENMP
#include <omp.h>
#endif

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

// User descriptors are the caller's plain layouts; primitive descriptors use format `any`, so oneDNN
// picks its blocked layouts and direct jit kernels (measured on a resnet20 layer at batch 128:
// backward-weights 29-37 ms instead of 175-247 ms on plain NCHW, forward and backward-data 1.3-1.6x
// faster, reorders included). Data is reordered in and out per call.
struct ConvMds {
  memory::desc src, wei, bias, dst;          // plain (user)
  memory::desc src_a, wei_a, dst_a;          // any (primitive)
  memory::dims strides, dilates, pad_l, pad_r;
};

ConvMds conv_mds(const Conv2dParams& p) {
  ConvMds m;
  const int64_t oh = p.oh(), ow = p.ow();
  const memory::dims xd{p.n, p.cin, p.h, p.w}, yd{p.n, p.cout, oh, ow};
  const memory::dims wd = p.groups == 1 ? memory::dims{p.cout, p.cin, p.kh, p.kw}
                                        : memory::dims{p.groups, p.cout / p.groups, p.cin / p.groups, p.kh, p.kw};
  m.src = memory::desc(xd, dt::f32, tag::nchw);
  m.wei = memory::desc(wd, dt::f32, p.groups == 1 ? tag::oihw : tag::goihw);
  m.bias = memory::desc({p.cout}, dt::f32, tag::x);
  m.dst = memory::desc(yd, dt::f32, tag::nchw);
  m.src_a = memory::desc(xd, dt::f32, tag::any);
  m.wei_a = memory::desc(wd, dt::f32, tag::any);
  m.dst_a = memory::desc(yd, dt::f32, tag::any);
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
  auto d = with_bias ? convolution_forward::desc(prop_kind::forward_training, algorithm::convolution_direct, m.src_a,
                                                 m.wei_a, m.bias, m.dst_a, m.strides, m.dilates, m.pad_l, m.pad_r)
                     : convolution_forward::desc(prop_kind::forward_training, algorithm::convolution_direct, m.src_a,
                                                 m.wei_a, m.dst_a, m.strides, m.dilates, m.pad_l, m.pad_r);
  return convolution_forward::primitive_desc(d, cpu_engine());
}

// Buffers for the primitives' (blocked) layouts, reused from call to call on the calling thread
// instead of allocated per call (fresh ones cost ~10k page faults per resnet20 training step). A call
// takes slots in order (Scope resets the count); buffers up to kKeepBytes stay for the next call,
// larger ones are freed when the call ends. Calls are synchronous, so a slot is never shared.
class Workspace {
 public:
  static constexpr size_t kKeepBytes = size_t(64) << 20;
  void* get(size_t bytes) {
    if (next_ == bufs_.size()) bufs_.push_back({nullptr, 0});
    Buf& b = bufs_[next_++];
    if (b.size < bytes) {
      std::free(b.ptr);
      b = {nullptr, 0};
      const size_t rounded = (bytes + 63) / 64 * 64;
      b.ptr = std::aligned_alloc(64, rounded);
      if (!b.ptr) throw std::bad_alloc();
      b.size = rounded;
    }
    return b.ptr;
  }
  void begin() { next_ = 0; }
  void end() {
    for (Buf& b : bufs_)
      if (b.size > kKeepBytes) {
        std::free(b.ptr);
        b = {nullptr, 0};
      }
  }
  ~Workspace() {
    for (Buf& b : bufs_) std::free(b.ptr);
  }

 private:
  struct Buf {
    void* ptr;
    size_t size;
  };
  std::vector<Buf> bufs_;
  size_t next_ = 0;
};

thread_local Workspace workspace;

struct WorkspaceScope {
  WorkspaceScope() { workspace.begin(); }
  ~WorkspaceScope() { workspace.end(); }
};

// Copies `from` into `to` (a layout change). Below kSerialReorderBytes the copy runs on the calling
// thread alone: waking the OpenMP team costs more than the copy (measured at batch 1, resnet20: a
// reorder of 16-64 KB took ~35 µs on two threads, as long as the convolution itself). omp_set_num_threads
// is per calling thread and restored at once; the reorder's result does not depend on its threads.
constexpr size_t kSerialReorderBytes = size_t(256) << 10;
void reorder_into(memory& from, memory& to, dnnl::stream& s) {
#ifdef _OPENMP
  const int team = omp_get_max_threads();
  const bool serial = team > 1 && from.get_desc().get_size() < kSerialReorderBytes;
  if (serial) omp_set_num_threads(1);
  struct Restore {
    int team;
    bool on;
    ~Restore() {
      if (on) omp_set_num_threads(team);
    }
  } restore{team, serial};
#endif
  dnnl::reorder(from, to).execute(s, from, to);
}

// A memory object of the primitive's layout over a workspace slot.
memory scratch(const memory::desc& md) { return memory(md, cpu_engine(), workspace.get(md.get_size())); }

// The user's buffer as an input in the primitive's layout (reordered when they differ).
memory input(const memory::desc& want, const memory::desc& user_md, const float* ptr, dnnl::stream& s) {
  memory user(user_md, cpu_engine(), const_cast<float*>(ptr));
  if (want == user_md) return user;
  memory m = scratch(want);
  reorder_into(user, m, s);
  return m;
}

// An output in the primitive's layout; finish() copies it into the user's buffer when they differ.
struct Output {
  memory user, mem;
  Output(const memory::desc& want, const memory::desc& user_md, float* ptr)
      : user(user_md, cpu_engine(), ptr), mem(want == user_md ? user : scratch(want)) {}
  void finish(dnnl::stream& s) {
    if (mem != user) reorder_into(mem, user, s);
  }
};

Status dnnl_error(const char* what, const dnnl::error& e) {
  return Status::Error(std::string(what) + ": oneDNN failed: " + e.what());
}

Status alloc_error(const char* what) {
  return Status::Error(std::string(what) + ": out of memory for the library's blocked layouts");
}

}  // namespace

Status f32_conv2d_fwd_dnnl(const Conv2dParams& p, const float* x, const float* w, const float* b, float* y) {
  AsyncSignalsBlocked guard;
  WorkspaceScope ws;
  try {
    ConvMds m = conv_mds(p);
    auto pd = fwd_pd(m, b != nullptr);
    dnnl::stream s(cpu_engine());
    Output out(pd.dst_desc(), m.dst, y);
    std::unordered_map<int, memory> args{{DNNL_ARG_SRC, input(pd.src_desc(), m.src, x, s)},
                                         {DNNL_ARG_WEIGHTS, input(pd.weights_desc(), m.wei, w, s)},
                                         {DNNL_ARG_DST, out.mem}};
    if (b) args.insert({DNNL_ARG_BIAS, input(pd.bias_desc(), m.bias, b, s)});
    dnnl::convolution_forward(pd).execute(s, args);
    out.finish(s);
    s.wait();
    return Status::Ok();
  } catch (const dnnl::error& e) {
    return dnnl_error("f32_conv2d_fwd_dnnl", e);
  }
  catch (const std::bad_alloc&) {
    return alloc_error("f32_conv2d_fwd_dnnl");
  }
}

Status f32_conv2d_bwd_data_dnnl(const Conv2dParams& p, const float* dy, const float* w, float* dx) {
  AsyncSignalsBlocked guard;
  WorkspaceScope ws;
  try {
    using namespace dnnl;
    ConvMds m = conv_mds(p);
    auto hint = fwd_pd(m, false);
    convolution_backward_data::desc d(algorithm::convolution_direct, m.src_a, m.wei_a, m.dst_a, m.strides, m.dilates,
                                      m.pad_l, m.pad_r);
    convolution_backward_data::primitive_desc pd(d, cpu_engine(), hint);
    dnnl::stream s(cpu_engine());
    Output out(pd.diff_src_desc(), m.src, dx);
    convolution_backward_data(pd).execute(s, {{DNNL_ARG_DIFF_DST, input(pd.diff_dst_desc(), m.dst, dy, s)},
                                              {DNNL_ARG_WEIGHTS, input(pd.weights_desc(), m.wei, w, s)},
                                              {DNNL_ARG_DIFF_SRC, out.mem}});
    out.finish(s);
    s.wait();
    return Status::Ok();
  } catch (const dnnl::error& e) {
    return dnnl_error("f32_conv2d_bwd_data_dnnl", e);
  }
  catch (const std::bad_alloc&) {
    return alloc_error("f32_conv2d_bwd_data_dnnl");
  }
}

namespace {

// The backward-weights primitive descriptor of a geometry (the forward one as its hint).
dnnl::convolution_backward_weights::primitive_desc bwd_weights_pd(const ConvMds& m, bool with_bias) {
  using namespace dnnl;
  auto hint = fwd_pd(m, with_bias);
  auto d = with_bias ? convolution_backward_weights::desc(algorithm::convolution_direct, m.src_a, m.wei_a, m.bias,
                                                          m.dst_a, m.strides, m.dilates, m.pad_l, m.pad_r)
                     : convolution_backward_weights::desc(algorithm::convolution_direct, m.src_a, m.wei_a, m.dst_a,
                                                          m.strides, m.dilates, m.pad_l, m.pad_r);
  return convolution_backward_weights::primitive_desc(d, cpu_engine(), hint);
}

// Runs backward-weights with dy already in `dy_mem` (any layout: reordered when the primitive wants another).
void run_bwd_weights(const ConvMds& m, const dnnl::convolution_backward_weights::primitive_desc& pd, const float* x,
                     memory dy_mem, float* dw, float* db, dnnl::stream& s) {
  Output dwo(pd.diff_weights_desc(), m.wei, dw);
  memory dy_in = dy_mem;
  if (pd.diff_dst_desc() != dy_mem.get_desc()) {
    dy_in = scratch(pd.diff_dst_desc());
    reorder_into(dy_mem, dy_in, s);
  }
  std::unordered_map<int, memory> args{{DNNL_ARG_SRC, input(pd.src_desc(), m.src, x, s)},
                                       {DNNL_ARG_DIFF_DST, dy_in},
                                       {DNNL_ARG_DIFF_WEIGHTS, dwo.mem}};
  std::unique_ptr<Output> dbo;
  if (db) {
    dbo = std::make_unique<Output>(pd.diff_bias_desc(), m.bias, db);
    args.insert({DNNL_ARG_DIFF_BIAS, dbo->mem});
  }
  dnnl::convolution_backward_weights(pd).execute(s, args);
  dwo.finish(s);
  if (dbo) dbo->finish(s);
}

}  // namespace

Status f32_conv2d_bwd_weights_dnnl(const Conv2dParams& p, const float* x, const float* dy, float* dw, float* db) {
  AsyncSignalsBlocked guard;
  WorkspaceScope ws;
  try {
    ConvMds m = conv_mds(p);
    auto pd = bwd_weights_pd(m, db != nullptr);
    dnnl::stream s(cpu_engine());
    run_bwd_weights(m, pd, x, input(pd.diff_dst_desc(), m.dst, dy, s), dw, db, s);
    s.wait();
    return Status::Ok();
  } catch (const dnnl::error& e) {
    return dnnl_error("f32_conv2d_bwd_weights_dnnl", e);
  }
  catch (const std::bad_alloc&) {
    return alloc_error("f32_conv2d_bwd_weights_dnnl");
  }
}

// Both gradients in one call: dy is reordered into the primitives' layout once and feeds
// backward-data and backward-weights (they want the same blocked layout in practice; a differing
// one is reordered from the first).
Status f32_conv2d_bwd_dnnl(const Conv2dParams& p, const float* x, const float* dy, const float* w, float* dx,
                           float* dw, float* db) {
  AsyncSignalsBlocked guard;
  WorkspaceScope ws;
  try {
    using namespace dnnl;
    ConvMds m = conv_mds(p);
    dnnl::stream s(cpu_engine());
    if (!dx) {
      auto pd = bwd_weights_pd(m, db != nullptr);
      run_bwd_weights(m, pd, x, input(pd.diff_dst_desc(), m.dst, dy, s), dw, db, s);
      s.wait();
      return Status::Ok();
    }
    auto hint = fwd_pd(m, false);
    convolution_backward_data::desc d(algorithm::convolution_direct, m.src_a, m.wei_a, m.dst_a, m.strides, m.dilates,
                                      m.pad_l, m.pad_r);
    convolution_backward_data::primitive_desc pd(d, cpu_engine(), hint);
    memory dy_mem = input(pd.diff_dst_desc(), m.dst, dy, s);
    Output out(pd.diff_src_desc(), m.src, dx);
    convolution_backward_data(pd).execute(s, {{DNNL_ARG_DIFF_DST, dy_mem},
                                              {DNNL_ARG_WEIGHTS, input(pd.weights_desc(), m.wei, w, s)},
                                              {DNNL_ARG_DIFF_SRC, out.mem}});
    out.finish(s);
    if (dw) run_bwd_weights(m, bwd_weights_pd(m, db != nullptr), x, dy_mem, dw, db, s);
    s.wait();
    return Status::Ok();
  } catch (const dnnl::error& e) {
    return dnnl_error("f32_conv2d_bwd_dnnl", e);
  }
  catch (const std::bad_alloc&) {
    return alloc_error("f32_conv2d_bwd_dnnl");
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
Status f32_conv2d_bwd_dnnl(const Conv2dParams&, const float*, const float*, const float*, float*, float*, float*) {
  return no_dnnl("f32_conv2d_bwd_dnnl");
}

#endif

}  // namespace qrb
