// CUDA path (issue 14): int8 / int4 / int2 GEMM and convolution on tensor cores with the trt-gpu epilogue, and
// the float32 training primitives (GEMM, convolution forward / backward) on the GPU.
//
// Plain C++ header (no CUDA headers): the binding, the tests and the CPU-only build include it. With
// -DQRB_CUDA=ON the functions live in native/kernels/cuda/*.cu (static library qrb_cuda, cudart static);
// without it native/kernels/cuda/cuda-off.cc defines them: compiled() is false and every kernel returns a Status
// error "CUDA not compiled". A build with CUDA on a machine without a GPU (or without a driver: cudaGetDeviceCount
// error 35) reports device_info().available == false with the reason; the kernels then return
// "no CUDA device: <reason>". Nothing here aborts.
//
// Integer arithmetic (bit-identical to qrb::intq::gemm_acc / conv_acc followed by intq::requantize(kTrtGpu)):
//   acc  = bias[c] + sum_k x[m][k] * w[c][k]        int32, two's complement wrap (mma.sync s8 accumulates mod 2^32)
//   code = clamp(RNE(fl32(fl32(fl32(acc) * alpha[c]) + beta[c])), qmin, qmax)   (no FMA contraction)
// Symmetric only (trt-gpu): activations are s8 with zero point 0, weights s8 (bits 8) or packed ONNX INT4 / UINT4 /
// INT2 / UINT2 rows (unpacked to int8 on the device) with zero point 0. Anything else is a named Status error.
// Layouts as intq.h: GEMM a[m][k], w[n][k], out[m][n]; conv NCHW, w[oc][c/groups][kh][kw], out[n][oc][oh][ow].
//
// Float primitives follow qrb/float.h (same Conv2dParams, same layouts and semantics); float32 FMA arithmetic
// (not bit-identical to the CPU twins: the tests bound the difference).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "qrb/float.h"
#include "qrb/intq.h"
#include "qrb/status.h"

namespace qrb::cuda {

// ---- build and device ----------------------------------------------------------------------------------
bool compiled();                      // built with -DQRB_CUDA=ON
std::vector<std::string> archs();     // compiled SASS targets, e.g. {"sm_75", ..., "sm_90"}; empty when not compiled
struct DeviceInfo {
  bool available = false;  // a device is usable
  int count = 0;
  int device = -1;         // the device in use (0)
  std::string name;        // "NVIDIA H100 80GB HBM3"
  int cc_major = 0, cc_minor = 0, sm_count = 0;
  size_t total_mem = 0;
  int runtime_version = 0, driver_version = 0;
  std::string reason;      // why not available: "CUDA not compiled" / "no CUDA device: ..." (empty when available)
};
DeviceInfo device_info();
// Ok when a device is usable, else the error "no CUDA device: <reason>" (or "CUDA not compiled ...").
Status require_device();

// ---- int8 tensor-core GEMM / conv (host buffers in and out) ---------------------------------------------
enum class OutMode : int {
  kAcc32 = 0,    // int32 accumulators (bias added, wrap)
  kTrtGpu = 1,   // trt-gpu codes as int32 (any qmin <= qmax)
};
struct Epilogue {
  OutMode mode = OutMode::kAcc32;
  const float* alpha = nullptr;  // per output channel (alpha_len == 1 broadcasts): M32 = fl32(fl32(sx*sw)/sy)
  size_t alpha_len = 0;
  const float* beta = nullptr;   // null or per channel (beta_len == 1 broadcasts): float bias in output units
  size_t beta_len = 0;
  int32_t qmin = -128, qmax = 127;
};
Status gemm_s8(const intq::GemmShape& s, const intq::Operand& a, int32_t a_zp, const intq::Weights& w,
               const int32_t* bias, size_t bias_len, const Epilogue& ep, int32_t* out, size_t out_len);
Status conv_s8(const intq::ConvShape& s, const intq::Operand& x, int32_t x_zp, const intq::Weights& w,
               const int32_t* bias, size_t bias_len, const Epilogue& ep, int32_t* out, size_t out_len);

// ---- device-resident int8 GEMM (benchmarks, callers that keep data on the device) --------------------------
// d_a: [m][lda] s8, d_w: [n][ldw] s8 (K-contiguous), lda / ldw multiples of 16 (bytes) with zero padding beyond k,
// 16-byte aligned pointers; k is rounded up to 16 internally (the padding contributes 0). d_bias / d_alpha /
// d_beta: device arrays of n (or null). out: int32 [m][n] (kAcc32 or kTrtGpu) or, with out_s8, int8 [m][n]
// codes (kTrtGpu with qmin >= -128, qmax <= 127). stream: a cudaStream_t or null (default stream). Asynchronous.
struct DevGemmS8 {
  const int8_t* a = nullptr;
  int64_t lda = 0;
  const int8_t* w = nullptr;
  int64_t ldw = 0;
  int64_t m = 0, n = 0, k = 0;
  const int32_t* bias = nullptr;
  const float* alpha = nullptr;
  const float* beta = nullptr;
  OutMode mode = OutMode::kAcc32;
  int32_t qmin = -128, qmax = 127;
  int32_t* out32 = nullptr;
  int8_t* out8 = nullptr;
  void* stream = nullptr;
  int tile = 0;  // block tile width: 0 automatic (128), 128 or 256 (sm_80+; slower on the H100)
};
Status gemm_s8_device(const DevGemmS8& g);

// ---- device memory (RAII; for tests and benchmarks) --------------------------------------------------------
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  ~DeviceBuffer();
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  Status alloc(size_t bytes);                       // frees what it held; contents undefined
  Status upload(const void* src, size_t bytes);     // bytes <= size()
  Status download(void* dst, size_t bytes) const;   // synchronous
  Status fill_byte(int value);                      // memset
  void* get() const { return ptr_; }
  template <class T> T* as() const { return static_cast<T*>(ptr_); }
  size_t size() const { return bytes_; }
 private:
  void* ptr_ = nullptr;
  size_t bytes_ = 0;
};
Status synchronize();

// ---- float32 primitives on device pointers (all asynchronous on the default stream; call synchronize()) -----
// Row-major GEMM as qrb::f32_gemm: C = alpha * op(A) op(B) + beta * C.
Status f32_gemm_device(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                       int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc);
// Convolution on device buffers (same semantics as qrb/float.h; b / db may be null). Uses an internal scratch
// buffer (im2col columns), grown on demand and kept per process: not thread safe.
Status f32_conv2d_fwd_device(const Conv2dParams& p, const float* x, const float* w, const float* b, float* y);
Status f32_conv2d_bwd_data_device(const Conv2dParams& p, const float* dy, const float* w, float* dx);
Status f32_conv2d_bwd_weights_device(const Conv2dParams& p, const float* x, const float* dy, float* dw, float* db);
// Element-wise helpers for a training step on the device.
Status f32_relu_device(const float* x, int64_t len, float* y);
Status f32_relu_backward_device(const float* x, const float* dy, int64_t len, float* dx);
// w -= lr * g (plain SGD).
Status f32_sgd_device(float* w, const float* g, int64_t len, float lr);

// ---- float32 primitives on host buffers (upload, compute, download; argument checks as qrb/float.h) ----------
Status f32_gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                size_t a_len, int64_t lda, const float* b, size_t b_len, int64_t ldb, float beta, float* c,
                size_t c_len, int64_t ldc);
Status f32_conv2d_fwd(const Conv2dParams& p, const float* x, size_t x_len, const float* w, size_t w_len,
                      const float* b, size_t b_len, float* y, size_t y_len);
Status f32_conv2d_bwd_data(const Conv2dParams& p, const float* dy, size_t dy_len, const float* w, size_t w_len,
                           float* dx, size_t dx_len);
Status f32_conv2d_bwd_weights(const Conv2dParams& p, const float* x, size_t x_len, const float* dy, size_t dy_len,
                              float* dw, size_t dw_len, float* db, size_t db_len);

}  // namespace qrb::cuda
