// qrb_cuda_bench: device-resident timings of the CUDA kernels (no host transfers in the timed region).
//   int8 GEMM (tensor cores): TOPS for int32-accumulator output (what torch._int_mm returns) and trt-gpu int8 codes
//   float32 convolution: resnet18 (224x224) conv layers, forward / backward-data / backward-weights, ms per layer
// Output: one line per measurement, "key=value" fields, parsed by bench/cuda/compare.py. Median of `reps` timed
// runs (CUDA events) after warm-up. Inputs are random (never zeros).
// Usage: qrb_cuda_bench [--reps N] [--batch B] [--only gemm|conv]
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "qrb/cuda.h"

using namespace qrb;

namespace {

#define CK(x)                                                                           \
  do {                                                                                  \
    cudaError_t e_ = (x);                                                               \
    if (e_ != cudaSuccess) {                                                            \
      std::fprintf(stderr, "%s:%d %s: %s\n", __FILE__, __LINE__, #x, cudaGetErrorString(e_)); \
      std::exit(1);                                                                     \
    }                                                                                   \
  } while (0)
#define SK(x)                                                                          \
  do {                                                                                 \
    Status s_ = (x);                                                                   \
    if (!s_.ok) {                                                                      \
      std::fprintf(stderr, "%s:%d %s\n", __FILE__, __LINE__, s_.message.c_str());      \
      std::exit(1);                                                                    \
    }                                                                                  \
  } while (0)

__global__ void fill_s8(int8_t* p, size_t n, uint32_t seed) {
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x) {
    uint32_t x = uint32_t(i) * 2654435761u ^ seed;
    x ^= x >> 13, x *= 0x5bd1e995u, x ^= x >> 15;
    p[i] = int8_t(x & 0xFF);
  }
}
__global__ void fill_f32(float* p, size_t n, uint32_t seed) {
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x) {
    uint32_t x = uint32_t(i) * 2654435761u ^ seed;
    x ^= x >> 13, x *= 0x5bd1e995u, x ^= x >> 15;
    p[i] = float(int(x & 0xFFFF) - 32768) / 32768.0f;
  }
}

template <class F>
double median_ms(int reps, F&& f) {
  cudaEvent_t a, b;
  CK(cudaEventCreate(&a));
  CK(cudaEventCreate(&b));
  for (int i = 0; i < 3; ++i) f();
  CK(cudaDeviceSynchronize());
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) {
    CK(cudaEventRecord(a));
    f();
    CK(cudaEventRecord(b));
    CK(cudaEventSynchronize(b));
    float ms = 0;
    CK(cudaEventElapsedTime(&ms, a, b));
    t.push_back(ms);
  }
  std::sort(t.begin(), t.end());
  CK(cudaEventDestroy(a));
  CK(cudaEventDestroy(b));
  return t[t.size() / 2];
}

void bench_gemm(int reps) {
  const bool d_wide = cuda::device_info().cc_major >= 8;
  const int64_t shapes[][3] = {{1024, 1024, 1024}, {2048, 2048, 2048}, {4096, 4096, 4096}, {8192, 8192, 8192},
                               {16384, 16384, 16384}, {100352, 64, 576}, {25088, 128, 1152}, {6272, 256, 2304}};
  for (auto& s : shapes) {
    const int64_t m = s[0], n = s[1], k = s[2];
    int8_t *a, *w, *o8;
    int32_t* o32;
    float *alpha, *beta;
    CK(cudaMalloc(&a, size_t(m * k)));
    CK(cudaMalloc(&w, size_t(n * k)));
    CK(cudaMalloc(&o32, size_t(m * n) * 4));
    CK(cudaMalloc(&o8, size_t(m * n)));
    CK(cudaMalloc(&alpha, size_t(n) * 4));
    CK(cudaMalloc(&beta, size_t(n) * 4));
    fill_s8<<<1024, 256>>>(a, size_t(m * k), 1);
    fill_s8<<<1024, 256>>>(w, size_t(n * k), 2);
    fill_f32<<<64, 256>>>(alpha, size_t(n), 3);
    fill_f32<<<64, 256>>>(beta, size_t(n), 4);
    CK(cudaDeviceSynchronize());
    cuda::DevGemmS8 g;
    g.a = a, g.lda = k, g.w = w, g.ldw = k, g.m = m, g.n = n, g.k = k;
    g.out32 = o32;
    const double ms_acc = median_ms(reps, [&] { SK(cuda::gemm_s8_device(g)); });  // automatic tile
    g.tile = 128;
    const double ms_128 = median_ms(reps, [&] { SK(cuda::gemm_s8_device(g)); });
    g.tile = d_wide ? 256 : 128;
    const double ms_256 = median_ms(reps, [&] { SK(cuda::gemm_s8_device(g)); });
    g.tile = 0;
    g.mode = cuda::OutMode::kTrtGpu;
    g.alpha = alpha, g.beta = beta, g.out32 = nullptr, g.out8 = o8;
    const double ms_trt = median_ms(reps, [&] { SK(cuda::gemm_s8_device(g)); });
    const double ops = 2.0 * double(m) * double(n) * double(k);
    std::printf("int8_gemm m=%lld n=%lld k=%lld acc32_ms=%.4f acc32_tops=%.1f trt8_ms=%.4f trt8_tops=%.1f "
                "tile128_tops=%.1f tile256_tops=%.1f\n",
                (long long)m, (long long)n, (long long)k, ms_acc, ops / ms_acc * 1e-9, ms_trt, ops / ms_trt * 1e-9,
                ops / ms_128 * 1e-9, ops / ms_256 * 1e-9);
    std::fflush(stdout);
    CK(cudaFree(a));
    CK(cudaFree(w));
    CK(cudaFree(o32));
    CK(cudaFree(o8));
    CK(cudaFree(alpha));
    CK(cudaFree(beta));
  }
}

struct Layer {
  const char* name;
  int cin, cout, k, stride, pad, h, count;
  bool first;  // the stem: no input gradient in training
};

void bench_conv(int reps, int batch) {
  const Layer layers[] = {{"conv1", 3, 64, 7, 2, 3, 224, 1, true},       {"l1.3x3", 64, 64, 3, 1, 1, 56, 4, false},
                          {"l2.3x3s2", 64, 128, 3, 2, 1, 56, 1, false},  {"l2.3x3", 128, 128, 3, 1, 1, 28, 3, false},
                          {"l2.ds", 64, 128, 1, 2, 0, 56, 1, false},     {"l3.3x3s2", 128, 256, 3, 2, 1, 28, 1, false},
                          {"l3.3x3", 256, 256, 3, 1, 1, 14, 3, false},   {"l3.ds", 128, 256, 1, 2, 0, 28, 1, false},
                          {"l4.3x3s2", 256, 512, 3, 2, 1, 14, 1, false}, {"l4.3x3", 512, 512, 3, 1, 1, 7, 3, false},
                          {"l4.ds", 256, 512, 1, 2, 0, 14, 1, false}};
  double total = 0;
  for (const Layer& L : layers) {
    Conv2dParams p;
    p.n = batch, p.cin = L.cin, p.h = L.h, p.w = L.h, p.cout = L.cout, p.kh = L.k, p.kw = L.k;
    p.stride_h = p.stride_w = L.stride, p.pad_h = p.pad_w = L.pad;
    float *x, *w, *y, *dy, *dx, *dw, *db;
    CK(cudaMalloc(&x, p.x_size() * 4));
    CK(cudaMalloc(&dx, p.x_size() * 4));
    CK(cudaMalloc(&w, p.w_size() * 4));
    CK(cudaMalloc(&dw, p.w_size() * 4));
    CK(cudaMalloc(&y, p.y_size() * 4));
    CK(cudaMalloc(&dy, p.y_size() * 4));
    CK(cudaMalloc(&db, size_t(p.cout) * 4));
    fill_f32<<<1024, 256>>>(x, p.x_size(), 5);
    fill_f32<<<1024, 256>>>(w, p.w_size(), 6);
    fill_f32<<<1024, 256>>>(dy, p.y_size(), 7);
    CK(cudaDeviceSynchronize());
    const double f = median_ms(reps, [&] { SK(cuda::f32_conv2d_fwd_device(p, x, w, nullptr, y)); });
    const double d = L.first ? 0.0 : median_ms(reps, [&] { SK(cuda::f32_conv2d_bwd_data_device(p, dy, w, dx)); });
    const double g = median_ms(reps, [&] { SK(cuda::f32_conv2d_bwd_weights_device(p, x, dy, dw, nullptr)); });
    const double step = (f + d + g) * L.count;
    total += step;
    std::printf("f32_conv layer=%s batch=%d count=%d fwd_ms=%.4f bwd_data_ms=%.4f bwd_weights_ms=%.4f step_ms=%.4f\n",
                L.name, batch, L.count, f, d, g, step);
    std::fflush(stdout);
    for (float* q : {x, dx, w, dw, y, dy, db}) CK(cudaFree(q));
  }
  std::printf("f32_conv_total batch=%d step_ms=%.4f\n", batch, total);
}

}  // namespace

int main(int argc, char** argv) {
  int reps = 20, batch = 32;
  std::string only;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--reps") && i + 1 < argc) reps = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--batch") && i + 1 < argc) batch = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--only") && i + 1 < argc) only = argv[++i];
  }
  const auto d = cuda::device_info();
  if (!d.available) {
    std::printf("SKIP: %s\n", d.reason.c_str());
    return 0;
  }
  std::printf("device name=\"%s\" cc=%d.%d sms=%d\n", d.name.c_str(), d.cc_major, d.cc_minor, d.sm_count);
  if (only.empty() || only == "gemm") bench_gemm(reps);
  if (only.empty() || only == "conv") bench_conv(reps, batch);
  return 0;
}
