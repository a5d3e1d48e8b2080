// Float engine primitives: convolution (forward, backward-data, backward-weights) and GEMM over
// float32 NCHW / OIHW buffers, each with a scalar reference twin (native/kernels/ref/f32-*-ref.cc)
// and a library path (oneDNN when QRB_HAVE_DNNL, OpenBLAS sgemm when QRB_HAVE_OPENBLAS).
//
// The validating entry points (f32_conv2d_*, f32_gemm) check every size against the buffer lengths
// and return a Status naming the argument; they never crash on bad input. The *_ref and *_dnnl
// functions assume checked arguments.
//
// Layouts: x [N, Cin, H, W], w [Cout, Cin/groups, KH, KW], b [Cout], y [N, Cout, OH, OW], all
// contiguous row-major. Dilation follows torch (1 = dense), OH = (H + 2*padH - dilH*(KH-1) - 1)/strideH + 1.
// GEMM is row-major: C[M,N] = alpha * op(A) op(B) + beta * C, op = transpose when trans* is true.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "qrb/status.h"

namespace qrb {

enum class FloatBackend { automatic = 0, ref = 1, dnnl = 2, openblas = 3 };

// "auto", "ref", "dnnl", "openblas" <-> FloatBackend; false when the name is unknown.
bool float_backend_from_name(const std::string& name, FloatBackend* out);
const char* float_backend_name(FloatBackend b);
// Whether the backend was compiled in (ref and auto always are).
bool float_backend_available(FloatBackend b);
// The backend `automatic` resolves to for convolution and for GEMM in this binary.
FloatBackend float_conv_backend();
FloatBackend float_gemm_backend();

struct Conv2dParams {
  int64_t n = 1, cin = 1, h = 1, w = 1;  // input
  int64_t cout = 1, kh = 1, kw = 1;      // weights [cout, cin/groups, kh, kw]
  int64_t stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0, dil_h = 1, dil_w = 1, groups = 1;
  int64_t oh() const { return (h + 2 * pad_h - dil_h * (kh - 1) - 1) / stride_h + 1; }
  int64_t ow() const { return (w + 2 * pad_w - dil_w * (kw - 1) - 1) / stride_w + 1; }
  size_t x_size() const { return size_t(n * cin * h * w); }
  size_t w_size() const { return size_t(cout * (cin / groups) * kh * kw); }
  size_t y_size() const { return size_t(n * cout * oh() * ow()); }
};

// Checks positivity, divisibility by groups, a non-empty output and overflow; names the field.
Status conv2d_check(const Conv2dParams& p);

// ---- validating entry points ----------------------------------------------------------------------
// y = conv(x, w) + b (b may be null).
Status f32_conv2d_fwd(const Conv2dParams& p, const float* x, size_t x_len, const float* w, size_t w_len,
                      const float* b, size_t b_len, float* y, size_t y_len, FloatBackend be);
// dx = d/dx of <dy, conv(x, w)> (overwrites dx).
Status f32_conv2d_bwd_data(const Conv2dParams& p, const float* dy, size_t dy_len, const float* w, size_t w_len,
                           float* dx, size_t dx_len, FloatBackend be);
// dw (and db when not null) = gradients of <dy, conv(x, w) + b> (overwrite).
Status f32_conv2d_bwd_weights(const Conv2dParams& p, const float* x, size_t x_len, const float* dy, size_t dy_len,
                              float* dw, size_t dw_len, float* db, size_t db_len, FloatBackend be);
// Row-major GEMM with leading dimensions; lengths are those of the buffers as passed.
// Both gradients of a convolution in one call (dy is reordered once for the two library primitives);
// dx, dw and db may each be null (db needs dw). Same results as the two calls above.
Status f32_conv2d_bwd(const Conv2dParams& p, const float* x, size_t x_len, const float* dy, size_t dy_len,
                      const float* w, size_t w_len, float* dx, size_t dx_len, float* dw, size_t dw_len, float* db,
                      size_t db_len, FloatBackend be);
Status f32_gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                size_t a_len, int64_t lda, const float* b, size_t b_len, int64_t ldb, float beta, float* c,
                size_t c_len, int64_t ldc, FloatBackend be);

// ---- scalar reference twins (native/kernels/ref) -------------------------------------------------
// Accumulate in double so that they are a tighter reference than any float32 library path.
void f32_conv2d_fwd_ref(const Conv2dParams& p, const float* x, const float* w, const float* b, float* y);
void f32_conv2d_bwd_data_ref(const Conv2dParams& p, const float* dy, const float* w, float* dx);
void f32_conv2d_bwd_weights_ref(const Conv2dParams& p, const float* x, const float* dy, float* dw, float* db);
void f32_gemm_ref(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                  int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc);

// ---- library paths (native/kernels/float); return an error Status when the library is absent ------
Status f32_conv2d_fwd_dnnl(const Conv2dParams& p, const float* x, const float* w, const float* b, float* y);
Status f32_conv2d_bwd_data_dnnl(const Conv2dParams& p, const float* dy, const float* w, float* dx);
Status f32_conv2d_bwd_weights_dnnl(const Conv2dParams& p, const float* x, const float* dy, float* dw, float* db);
Status f32_conv2d_bwd_dnnl(const Conv2dParams& p, const float* x, const float* dy, const float* w, float* dx,
                           float* dw, float* db);
Status f32_gemm_dnnl(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                     int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc);
Status f32_gemm_openblas(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                         int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc);

// Threads the library paths use (oneDNN's OpenMP pool; 1 for the reference twins), and the oneDNN
// version string ("" when absent).
int float_threads();
std::string dnnl_version_string();

}  // namespace qrb

namespace qrb {

// ---- batch normalisation and ReLU (native/kernels/float/f32-bn-relu.cc) ---------------------------
// Plain C++ threaded over channels / chunks (float_threads() ranges on the OpenMP team oneDNN also
// uses, native/kernels/float/parallel.h; a fixed cut, so the bits never depend on scheduling);
// statistics in float lanes within
// blocks of 1024 values, blocks summed in double. Their reference
// is the TS implementation in ts/autograd (test/parity/float-bn-relu.test.ts compares the two).
// x, y, dy, dx: [n, c, hw] contiguous; per-channel vectors have c entries; gamma/beta may be null (1/0).
// Per-channel mean and biased variance of x.
Status f32_bn_stats(int64_t n, int64_t c, int64_t hw, const float* x, size_t x_len, float* mean, float* var,
                    size_t c_len);
// y = (x - mean) / sqrt(var + eps) * gamma + beta.
Status f32_bn_apply(int64_t n, int64_t c, int64_t hw, const float* x, size_t x_len, const float* mean,
                    const float* var, const float* gamma, const float* beta, size_t c_len, float eps, float* y,
                    size_t y_len);
// Gradients of y = bn(x); batch_stats: mean/var were computed from x (training), so dx has the mean and
// variance terms. dx, dgamma, dbeta may each be null.
Status f32_bn_backward(int64_t n, int64_t c, int64_t hw, const float* x, const float* dy, size_t x_len,
                       const float* mean, const float* var, const float* gamma, size_t c_len, float eps,
                       bool batch_stats, float* dx, float* dgamma, float* dbeta);
// y = max(x, 0); dx = dy where x > 0.
Status f32_relu(const float* x, size_t len, float* y, size_t y_len);
Status f32_relu_backward(const float* x, const float* dy, size_t len, float* dx, size_t dx_len);
// y = a + b elementwise (y may be a or b: in-place accumulation).
Status f32_add(const float* a, const float* b, size_t len, float* y, size_t y_len);

// One torch.optim.SGD update of a parameter p with gradient g and momentum buffer buf (len each; buf
// may be null without momentum; `first` initialises buf with the gradient, as torch's first step).
// Arithmetic in double, rounded to float32 where ts/nn/optim.ts stores: the same bits as that loop.
struct SgdParams {
  double lr = 0, momentum = 0, dampening = 0, weight_decay = 0;
  bool nesterov = false, first = false;
};
Status f32_sgd_step(float* p, const float* g, float* buf, size_t len, const SgdParams& o);

}  // namespace qrb
