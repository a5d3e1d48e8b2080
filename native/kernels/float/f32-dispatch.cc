// Validating entry points and backend choice for the float primitives (see qrb/float.h).
// `automatic` picks oneDNN for convolution (falling back to the scalar twin when oneDNN rejects a
// shape, e.g. a negative effective right padding), and oneDNN > OpenBLAS > twin for GEMM.
// An explicitly named backend is used as is, and its failure is the caller's error.
#include <cstdlib>
#include <thread>

#include "qrb/float.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#ifdef QRB_HAVE_DNNL
#include <oneapi/dnnl/dnnl.h>
#endif

namespace qrb {

bool float_backend_from_name(const std::string& name, FloatBackend* out) {
  if (name == "auto") *out = FloatBackend::automatic;
  else if (name == "ref") *out = FloatBackend::ref;
  else if (name == "dnnl") *out = FloatBackend::dnnl;
  else if (name == "openblas") *out = FloatBackend::openblas;
  else return false;
  return true;
}

const char* float_backend_name(FloatBackend b) {
  switch (b) {
    case FloatBackend::automatic: return "auto";
    case FloatBackend::ref: return "ref";
    case FloatBackend::dnnl: return "dnnl";
    case FloatBackend::openblas: return "openblas";
  }
  return "?";
}

bool float_backend_available(FloatBackend b) {
  switch (b) {
    case FloatBackend::automatic:
    case FloatBackend::ref: return true;
#ifdef QRB_HAVE_DNNL
    case FloatBackend::dnnl: return true;
#endif
#ifdef QRB_HAVE_OPENBLAS
    case FloatBackend::openblas: return true;
#endif
    default: return false;
  }
}

FloatBackend float_conv_backend() {
#ifdef QRB_HAVE_DNNL
  return FloatBackend::dnnl;
#else
  return FloatBackend::ref;
#endif
}

FloatBackend float_gemm_backend() {
#if defined(QRB_HAVE_DNNL)
  return FloatBackend::dnnl;
#elif defined(QRB_HAVE_OPENBLAS)
  return FloatBackend::openblas;
#else
  return FloatBackend::ref;
#endif
}

int float_threads() {
  const char* env = std::getenv("OMP_NUM_THREADS");
  if (env && std::atoi(env) > 0) return std::atoi(env);
  // hardware_concurrency() reads /sys on every call; the small kernels ask ~100 times per step.
  static const unsigned hc = std::thread::hardware_concurrency();
  return hc > 0 ? int(hc) : 1;
}

namespace {
#if defined(__GLIBC__)
// A training step frees and allocates the same activation sizes every step (8 MiB each at resnet20,
// batch 128). glibc's defaults hand such blocks back to the kernel (munmap, or a heap trim) and fault
// them in again page by page: 7-19k page faults per resnet20 step, about 5% of its CPU time. A fixed
// mmap threshold of 32 MiB (glibc's maximum) and a 512 MiB trim threshold keep them in the heap
// (measured: ~1.5k faults per step). Runs once when the library loads; a user's MALLOC_*_ variables
// or GLIBC_TUNABLES win.
struct KeepFreedBuffers {
  KeepFreedBuffers() {
    if (std::getenv("MALLOC_MMAP_THRESHOLD_") || std::getenv("MALLOC_TRIM_THRESHOLD_") || std::getenv("GLIBC_TUNABLES"))
      return;
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 512 << 20);
  }
} keep_freed_buffers;
#endif
}  // namespace

std::string dnnl_version_string() {
#ifdef QRB_HAVE_DNNL
  const dnnl_version_t* v = dnnl_version();
  return std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch);
#else
  return "";
#endif
}

// Dimensions above 2^31 or products above 2^50 are rejected: no real model comes near, and it keeps
// every index computation far from int64 overflow.
static constexpr int64_t kMaxDim = int64_t(1) << 31;
static constexpr double kMaxElems = double(int64_t(1) << 50);

Status conv2d_check(const Conv2dParams& p) {
  struct F { const char* name; int64_t v; int64_t min; };
  const F fields[] = {{"n", p.n, 1},           {"cin", p.cin, 1},         {"h", p.h, 1},
                      {"w", p.w, 1},           {"cout", p.cout, 1},       {"kh", p.kh, 1},
                      {"kw", p.kw, 1},         {"strideH", p.stride_h, 1}, {"strideW", p.stride_w, 1},
                      {"padH", p.pad_h, 0},    {"padW", p.pad_w, 0},      {"dilationH", p.dil_h, 1},
                      {"dilationW", p.dil_w, 1}, {"groups", p.groups, 1}};
  for (const auto& f : fields)
    if (f.v < f.min || f.v > kMaxDim)
      return Status::Error(std::string("conv2d(") + f.name + "): expected integer " + std::to_string(f.min) +
                           "..2^31 but received " + std::to_string(f.v));
  if (p.cin % p.groups != 0 || p.cout % p.groups != 0)
    return Status::Error("conv2d(groups): cin " + std::to_string(p.cin) + " and cout " + std::to_string(p.cout) +
                         " must both be divisible by groups " + std::to_string(p.groups));
  if (p.h + 2 * p.pad_h < p.dil_h * (p.kh - 1) + 1 || p.w + 2 * p.pad_w < p.dil_w * (p.kw - 1) + 1)
    return Status::Error("conv2d: the dilated kernel " + std::to_string(p.dil_h * (p.kh - 1) + 1) + "x" +
                         std::to_string(p.dil_w * (p.kw - 1) + 1) + " is larger than the padded input " +
                         std::to_string(p.h + 2 * p.pad_h) + "x" + std::to_string(p.w + 2 * p.pad_w));
  const double xs = double(p.n) * double(p.cin) * double(p.h) * double(p.w);
  const double ws = double(p.cout) * double(p.cin) * double(p.kh) * double(p.kw);
  const double ys = double(p.n) * double(p.cout) * double(p.oh()) * double(p.ow());
  if (xs > kMaxElems || ws > kMaxElems || ys > kMaxElems) return Status::Error("conv2d: tensor sizes overflow");
  return Status::Ok();
}

static Status check_len(const char* fn, const char* arg, const void* ptr, size_t len, size_t want) {
  if (len != want)
    return Status::Error(std::string(fn) + "(" + arg + "): expected " + std::to_string(want) + " floats but received " +
                         std::to_string(len));
  if (!ptr && want > 0) return Status::Error(std::string(fn) + "(" + arg + "): null buffer");
  return Status::Ok();
}

static Status check_backend(const char* fn, FloatBackend be, bool conv) {
  if (conv && be == FloatBackend::openblas)
    return Status::Error(std::string(fn) + "(backend): openblas has no convolution; use auto, ref or dnnl");
  if (!float_backend_available(be))
    return Status::Error(std::string(fn) + "(backend): " + float_backend_name(be) + " is not compiled into this build");
  return Status::Ok();
}

#define QRB_TRY(expr)              \
  do {                             \
    Status _s = (expr);            \
    if (!_s.ok) return _s;         \
  } while (0)

Status f32_conv2d_fwd(const Conv2dParams& p, const float* x, size_t x_len, const float* w, size_t w_len,
                      const float* b, size_t b_len, float* y, size_t y_len, FloatBackend be) {
  const char* fn = "f32_conv2d_fwd";
  QRB_TRY(conv2d_check(p));
  QRB_TRY(check_backend(fn, be, true));
  QRB_TRY(check_len(fn, "x", x, x_len, p.x_size()));
  QRB_TRY(check_len(fn, "w", w, w_len, p.w_size()));
  if (b) QRB_TRY(check_len(fn, "b", b, b_len, size_t(p.cout)));
  QRB_TRY(check_len(fn, "y", y, y_len, p.y_size()));
  if (be == FloatBackend::dnnl) return f32_conv2d_fwd_dnnl(p, x, w, b, y);
  if (be == FloatBackend::automatic && float_conv_backend() == FloatBackend::dnnl &&
      f32_conv2d_fwd_dnnl(p, x, w, b, y).ok)
    return Status::Ok();
  f32_conv2d_fwd_ref(p, x, w, b, y);
  return Status::Ok();
}

Status f32_conv2d_bwd_data(const Conv2dParams& p, const float* dy, size_t dy_len, const float* w, size_t w_len,
                           float* dx, size_t dx_len, FloatBackend be) {
  const char* fn = "f32_conv2d_bwd_data";
  QRB_TRY(conv2d_check(p));
  QRB_TRY(check_backend(fn, be, true));
  QRB_TRY(check_len(fn, "dy", dy, dy_len, p.y_size()));
  QRB_TRY(check_len(fn, "w", w, w_len, p.w_size()));
  QRB_TRY(check_len(fn, "dx", dx, dx_len, p.x_size()));
  if (be == FloatBackend::dnnl) return f32_conv2d_bwd_data_dnnl(p, dy, w, dx);
  if (be == FloatBackend::automatic && float_conv_backend() == FloatBackend::dnnl &&
      f32_conv2d_bwd_data_dnnl(p, dy, w, dx).ok)
    return Status::Ok();
  f32_conv2d_bwd_data_ref(p, dy, w, dx);
  return Status::Ok();
}

Status f32_conv2d_bwd_weights(const Conv2dParams& p, const float* x, size_t x_len, const float* dy, size_t dy_len,
                              float* dw, size_t dw_len, float* db, size_t db_len, FloatBackend be) {
  const char* fn = "f32_conv2d_bwd_weights";
  QRB_TRY(conv2d_check(p));
  QRB_TRY(check_backend(fn, be, true));
  QRB_TRY(check_len(fn, "x", x, x_len, p.x_size()));
  QRB_TRY(check_len(fn, "dy", dy, dy_len, p.y_size()));
  QRB_TRY(check_len(fn, "dw", dw, dw_len, p.w_size()));
  if (db) QRB_TRY(check_len(fn, "db", db, db_len, size_t(p.cout)));
  if (be == FloatBackend::dnnl) return f32_conv2d_bwd_weights_dnnl(p, x, dy, dw, db);
  if (be == FloatBackend::automatic && float_conv_backend() == FloatBackend::dnnl &&
      f32_conv2d_bwd_weights_dnnl(p, x, dy, dw, db).ok)
    return Status::Ok();
  f32_conv2d_bwd_weights_ref(p, x, dy, dw, db);
  return Status::Ok();
}

Status f32_conv2d_bwd(const Conv2dParams& p, const float* x, size_t x_len, const float* dy, size_t dy_len,
                      const float* w, size_t w_len, float* dx, size_t dx_len, float* dw, size_t dw_len, float* db,
                      size_t db_len, FloatBackend be) {
  const char* fn = "f32_conv2d_bwd";
  QRB_TRY(conv2d_check(p));
  QRB_TRY(check_backend(fn, be, true));
  QRB_TRY(check_len(fn, "x", x, x_len, p.x_size()));
  QRB_TRY(check_len(fn, "dy", dy, dy_len, p.y_size()));
  QRB_TRY(check_len(fn, "w", w, w_len, p.w_size()));
  if (dx) QRB_TRY(check_len(fn, "dx", dx, dx_len, p.x_size()));
  if (dw) QRB_TRY(check_len(fn, "dw", dw, dw_len, p.w_size()));
  if (db && !dw) return Status::Error(std::string(fn) + "(db): the bias gradient needs dw too");
  if (db) QRB_TRY(check_len(fn, "db", db, db_len, size_t(p.cout)));
  if (!dx && !dw) return Status::Ok();
  if (be == FloatBackend::dnnl) return f32_conv2d_bwd_dnnl(p, x, dy, w, dx, dw, db);
  if (be == FloatBackend::automatic && float_conv_backend() == FloatBackend::dnnl &&
      f32_conv2d_bwd_dnnl(p, x, dy, w, dx, dw, db).ok)
    return Status::Ok();
  if (dx) f32_conv2d_bwd_data_ref(p, dy, w, dx);
  if (dw) f32_conv2d_bwd_weights_ref(p, x, dy, dw, db);
  return Status::Ok();
}

Status f32_gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                size_t a_len, int64_t lda, const float* b, size_t b_len, int64_t ldb, float beta, float* c,
                size_t c_len, int64_t ldc, FloatBackend be) {
  const char* fn = "f32_gemm";
  struct F { const char* name; int64_t v; };
  const F dims[] = {{"m", m}, {"n", n}, {"k", k}};
  for (const auto& f : dims)
    if (f.v < 1 || f.v > kMaxDim)
      return Status::Error(std::string(fn) + "(" + f.name + "): expected integer 1..2^31 but received " +
                           std::to_string(f.v));
  const int64_t a_cols = trans_a ? m : k, a_rows = trans_a ? k : m;
  const int64_t b_cols = trans_b ? k : n, b_rows = trans_b ? n : k;
  if (lda < a_cols || lda > kMaxDim) return Status::Error(std::string(fn) + "(lda): expected >= " + std::to_string(a_cols) + " but received " + std::to_string(lda));
  if (ldb < b_cols || ldb > kMaxDim) return Status::Error(std::string(fn) + "(ldb): expected >= " + std::to_string(b_cols) + " but received " + std::to_string(ldb));
  if (ldc < n || ldc > kMaxDim) return Status::Error(std::string(fn) + "(ldc): expected >= " + std::to_string(n) + " but received " + std::to_string(ldc));
  if (double(a_rows) * double(lda) > kMaxElems || double(b_rows) * double(ldb) > kMaxElems ||
      double(m) * double(ldc) > kMaxElems)
    return Status::Error(std::string(fn) + ": sizes overflow");
  const size_t need_a = size_t((a_rows - 1) * lda + a_cols), need_b = size_t((b_rows - 1) * ldb + b_cols);
  const size_t need_c = size_t((m - 1) * ldc + n);
  if (a_len < need_a || !a) return Status::Error(std::string(fn) + "(a): expected at least " + std::to_string(need_a) + " floats but received " + std::to_string(a_len));
  if (b_len < need_b || !b) return Status::Error(std::string(fn) + "(b): expected at least " + std::to_string(need_b) + " floats but received " + std::to_string(b_len));
  if (c_len < need_c || !c) return Status::Error(std::string(fn) + "(c): expected at least " + std::to_string(need_c) + " floats but received " + std::to_string(c_len));
  QRB_TRY(check_backend(fn, be, false));
  if (be == FloatBackend::automatic) be = float_gemm_backend();
  switch (be) {
    case FloatBackend::dnnl: return f32_gemm_dnnl(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    case FloatBackend::openblas:
      return f32_gemm_openblas(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    default: f32_gemm_ref(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc); return Status::Ok();
  }
}

}  // namespace qrb
