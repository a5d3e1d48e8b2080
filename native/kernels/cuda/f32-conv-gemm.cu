// float32 training primitives on the GPU: GEMM and convolution forward / backward-data / backward-weights.
// Contract: qrb/cuda.h (semantics of qrb/float.h).
//
// GEMM: our own tiled SGEMM (no cuBLAS: the CI image's CUDA toolkit has only cudart): 128x128 block tile (64x128
// when M <= 64), K step 8, 256 threads with 8x8 (4x8) outputs each (4-wide groups 64 apart, so float4 shared reads
// are conflict free),
// shared memory double buffered. Operand and output "maps" let the convolution read NCHW tensors in place:
//   C(i, j) at (j / P) * s_img + (j % P) * s_j + i * s_i
//   A(i, k) (not transposed, mapped) at (k / P) * s_img + (k % P) + i * s_i
//   B(k, j) (not transposed, mapped) at (j / P) * s_img + (j % P) + k * s_k
// Split-K (partials in a scratch buffer, then a reduction) keeps the weight gradient's long reduction parallel.
// Convolution: im2col columns [cg*kh*kw][n*oh*ow] per group, GEMM into NCHW; backward-data by W^T x dy into columns
// and a gather col2im (each input element sums its taps: deterministic, no atomics); backward-weights by
// dy x columns^T with split-K; the bias gradient by a per-channel reduction.
// float32 FMA arithmetic: results differ from the double-accumulating CPU twins by rounding (tests bound it).
#include <algorithm>
#include <climits>

#include "cuda-common.cuh"

namespace qrb::cuda {
namespace {

constexpr int kTM = 128, kTN = 128, kTK = 8, kGThreads = 256;

struct GemmArgs {
  int64_t M, N, K;
  float alpha, beta;
  const float* A;
  int64_t lda;
  int64_t a_P, a_img, a_i;  // A map (not transposed, mapped): (k / P) * a_img + (k % P) + i * a_i
  const float* B;
  int64_t ldb;
  int64_t b_P, b_img, b_k;  // B map (not transposed, mapped): (j / P) * b_img + (j % P) + k * b_k
  float* C;
  int64_t c_P, c_img, c_j, c_i;
  int64_t kchunk;   // split-K chunk (multiple of kTK); K when not split
  float* partial;   // split-K: [splits][M][N] (alpha applied); null: write C directly
};

template <bool TA, bool TB, bool AMAP, bool BMAP>
__device__ __forceinline__ float load_a(const GemmArgs& g, int64_t i, int64_t k) {
  if (i >= g.M || k >= g.K) return 0.0f;
  if (TA) return g.A[k * g.lda + i];
  if (AMAP) {
    const int64_t img = k / g.a_P;
    return g.A[img * g.a_img + (k - img * g.a_P) + i * g.a_i];
  }
  return g.A[i * g.lda + k];
}
template <bool TA, bool TB, bool AMAP, bool BMAP>
__device__ __forceinline__ float load_b(const GemmArgs& g, int64_t k, int64_t j) {
  if (j >= g.N || k >= g.K) return 0.0f;
  if (TB) return g.B[j * g.ldb + k];
  if (BMAP) {
    const int64_t img = j / g.b_P;
    return g.B[img * g.b_img + (j - img * g.b_P) + k * g.b_k];
  }
  return g.B[k * g.ldb + j];
}

// TM: block rows, 128 or 64 (for M <= 64, e.g. 64 output channels: no half-empty tiles). Each thread owns
// RM = TM / 16 rows (RM / 4 float4 groups, 64 apart) x 8 columns.
template <bool TA, bool TB, bool AMAP, bool BMAP, int TM>
__global__ void __launch_bounds__(kGThreads) sgemm_kernel(GemmArgs g) {
  constexpr int RM = TM / 16, LA = TM * kTK / kGThreads;  // rows per thread, A elements loaded per thread
  __shared__ __align__(16) float As[2][kTK][TM];
  __shared__ __align__(16) float Bs[2][kTK][kTN];
  const int t = threadIdx.x, tx = t & 15, ty = t >> 4;
  const int64_t i0 = int64_t(blockIdx.y) * TM, j0 = int64_t(blockIdx.x) * kTN;
  const int64_t kbeg = int64_t(blockIdx.z) * g.kchunk;
  const int64_t kend = min(g.K, kbeg + g.kchunk);

  // Per-thread load coordinates: 4 elements of A and 4 of B per K step.
  // A: transposed operands are contiguous along i, others along k.
  // A: transposed operands are contiguous along i, others along k (LA consecutive elements per thread).
  const int a_i = TA ? (t % (TM / LA)) * LA : t / (kTK / LA);
  const int a_k = TA ? t / (TM / LA) : (t % (kTK / LA)) * LA;
  const int b_j = TB ? (t >> 1) : (t & 31) * 4;
  const int b_k = TB ? (t & 1) * 4 : (t >> 5);
  float ra[LA], rb[4];
  auto fetch = [&](int64_t k0) {
#pragma unroll
    for (int e = 0; e < LA; ++e) {
      ra[e] = TA ? load_a<TA, TB, AMAP, BMAP>(g, i0 + a_i + e, k0 + a_k)
                 : load_a<TA, TB, AMAP, BMAP>(g, i0 + a_i, k0 + a_k + e);
      if (k0 + (TA ? a_k : a_k + e) >= kend) ra[e] = 0.0f;
    }
#pragma unroll
    for (int e = 0; e < 4; ++e) {
      rb[e] = TB ? load_b<TA, TB, AMAP, BMAP>(g, k0 + b_k + e, j0 + b_j)
                 : load_b<TA, TB, AMAP, BMAP>(g, k0 + b_k, j0 + b_j + e);
      if (k0 + (TB ? b_k + e : b_k) >= kend) rb[e] = 0.0f;
    }
  };
  auto stash = [&](int buf) {
#pragma unroll
    for (int e = 0; e < LA; ++e) {
      if (TA) As[buf][a_k][a_i + e] = ra[e]; else As[buf][a_k + e][a_i] = ra[e];
    }
#pragma unroll
    for (int e = 0; e < 4; ++e) {
      if (TB) Bs[buf][b_k + e][b_j] = rb[e]; else Bs[buf][b_k][b_j + e] = rb[e];
    }
  };

  float acc[RM][8];
#pragma unroll
  for (int r = 0; r < RM; ++r)
#pragma unroll
    for (int c = 0; c < 8; ++c) acc[r][c] = 0.0f;

  int buf = 0;
  if (kbeg < kend) {
    fetch(kbeg);
    stash(0);
  }
  __syncthreads();
  for (int64_t k0 = kbeg; k0 < kend; k0 += kTK) {
    const bool more = k0 + kTK < kend;
    if (more) fetch(k0 + kTK);
#pragma unroll
    for (int kk = 0; kk < kTK; ++kk) {
      float av[RM];
#pragma unroll
      for (int q = 0; q < RM / 4; ++q) {
        const float4 a4 = *reinterpret_cast<const float4*>(&As[buf][kk][q * 64 + ty * 4]);
        av[q * 4] = a4.x, av[q * 4 + 1] = a4.y, av[q * 4 + 2] = a4.z, av[q * 4 + 3] = a4.w;
      }
      const float4 b0 = *reinterpret_cast<const float4*>(&Bs[buf][kk][tx * 4]);
      const float4 b1 = *reinterpret_cast<const float4*>(&Bs[buf][kk][64 + tx * 4]);
      const float bv[8] = {b0.x, b0.y, b0.z, b0.w, b1.x, b1.y, b1.z, b1.w};
#pragma unroll
      for (int r = 0; r < RM; ++r)
#pragma unroll
        for (int c = 0; c < 8; ++c) acc[r][c] = fmaf(av[r], bv[c], acc[r][c]);
    }
    if (more) {
      stash(buf ^ 1);
      __syncthreads();
      buf ^= 1;
    }
  }

#pragma unroll
  for (int r = 0; r < RM; ++r) {
    const int64_t i = i0 + (r / 4) * 64 + ty * 4 + (r & 3);
    if (i >= g.M) continue;
#pragma unroll
    for (int c = 0; c < 8; ++c) {
      const int64_t j = j0 + (c < 4 ? tx * 4 + c : 64 + tx * 4 + c - 4);
      if (j >= g.N) continue;
      const float v = g.alpha * acc[r][c];
      if (g.partial) {
        g.partial[(int64_t(blockIdx.z) * g.M + i) * g.N + j] = v;
      } else {
        const int64_t img = j / g.c_P;
        float* p = g.C + img * g.c_img + (j - img * g.c_P) * g.c_j + i * g.c_i;
        *p = g.beta == 0.0f ? v : v + g.beta * *p;
      }
    }
  }
}

__global__ void splitk_reduce(GemmArgs g, int splits) {
  const int64_t total = g.M * g.N;
  for (int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < total; e += int64_t(gridDim.x) * blockDim.x) {
    float s = 0.0f;
    for (int z = 0; z < splits; ++z) s += g.partial[int64_t(z) * total + e];
    const int64_t i = e / g.N, j = e - i * g.N;
    const int64_t img = j / g.c_P;
    float* p = g.C + img * g.c_img + (j - img * g.c_P) * g.c_j + i * g.c_i;
    *p = g.beta == 0.0f ? s : s + g.beta * *p;
  }
}

int grid1d(int64_t total) {
  const int64_t b = (total + 255) / 256;
  return int(std::max<int64_t>(1, std::min<int64_t>(b, 65535 * 8)));
}

int sm_count() {
  static int n = [] {
    const DeviceInfo d = device_info();
    return d.sm_count > 0 ? d.sm_count : 80;
  }();
  return n;
}

template <bool TA, bool TB, bool AMAP, bool BMAP>
Status run_gemm(GemmArgs g, bool allow_split) {
  const int tm = g.M <= 64 ? 64 : kTM;
  const int64_t bm = detail::ceil_div(g.M, tm), bn = detail::ceil_div(g.N, kTN);
  if (bm > 65535) return Status::Error("f32 gemm: m too large for one launch");
  int64_t splits = 1;
  const int64_t target = 2 * int64_t(sm_count());
  if (allow_split && bm * bn < target && g.K >= 1024) {
    splits = std::min<int64_t>(detail::ceil_div(target, bm * bn), g.K / 256);
    splits = std::max<int64_t>(1, std::min<int64_t>(splits, 64));
  }
  g.kchunk = detail::round_up(detail::ceil_div(g.K, splits), kTK);
  splits = detail::ceil_div(g.K, g.kchunk);
  g.partial = nullptr;
  if (splits > 1) {
    Status st;
    g.partial = static_cast<float*>(detail::scratch(size_t(splits * g.M * g.N) * 4, 1, &st));
    if (!st.ok) return st;
  }
  const dim3 grid{unsigned(bn), unsigned(bm), unsigned(splits)};
  if (tm == 64)
    sgemm_kernel<TA, TB, AMAP, BMAP, 64><<<grid, kGThreads>>>(g);
  else
    sgemm_kernel<TA, TB, AMAP, BMAP, 128><<<grid, kGThreads>>>(g);
  QRB_CU_TRY(detail::launch_status("f32 gemm(launch)"));
  if (splits > 1) {
    splitk_reduce<<<grid1d(g.M * g.N), 256>>>(g, int(splits));
    QRB_CU_TRY(detail::launch_status("f32 gemm(split-k reduce)"));
  }
  return Status::Ok();
}

GemmArgs plain_args(int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda, const float* b,
                    int64_t ldb, float beta, float* c, int64_t ldc) {
  GemmArgs g{};
  g.M = m, g.N = n, g.K = k, g.alpha = alpha, g.beta = beta;
  g.A = a, g.lda = lda, g.B = b, g.ldb = ldb, g.C = c;
  g.a_P = g.b_P = INT64_MAX;
  g.c_P = INT64_MAX, g.c_img = 0, g.c_j = 1, g.c_i = ldc;
  return g;
}

// ---- convolution helpers --------------------------------------------------------------------------------------
struct ConvGeo {
  int64_t n, c, h, w, cg, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, K, P, g;
};
ConvGeo geo(const Conv2dParams& p, int64_t g) {
  return ConvGeo{p.n, p.cin, p.h, p.w, p.cin / p.groups, p.kh, p.kw, p.stride_h, p.stride_w, p.pad_h, p.pad_w,
                 p.dil_h, p.dil_w, p.oh(), p.ow(), (p.cin / p.groups) * p.kh * p.kw, p.oh() * p.ow(), g};
}

// col[k][j], k = (ci, ky, kx), j = img * P + oy * ow + ox.
__global__ void im2col_f32(const float* __restrict__ x, ConvGeo a, float* __restrict__ col) {
  const int64_t NP = a.n * a.P, total = a.K * NP;
  for (int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < total; e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t k = e / NP, j = e - k * NP;
    const int64_t khw = a.kh * a.kw, ci = k / khw, rem = k - ci * khw, ky = rem / a.kw, kx = rem - ky * a.kw;
    const int64_t img = j / a.P, pix = j - img * a.P, oy = pix / a.ow, ox = pix - oy * a.ow;
    const int64_t iy = oy * a.sh - a.ph + ky * a.dh, ix = ox * a.sw - a.pw + kx * a.dw;
    float v = 0.0f;
    if (iy >= 0 && iy < a.h && ix >= 0 && ix < a.w) v = x[((img * a.c + a.g * a.cg + ci) * a.h + iy) * a.w + ix];
    col[e] = v;
  }
}

// dx (channels of group g) = sum of the column entries that read each input element.
__global__ void col2im_f32(const float* __restrict__ col, ConvGeo a, float* __restrict__ dx) {
  const int64_t total = a.n * a.cg * a.h * a.w, NP = a.n * a.P;
  for (int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < total; e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t ix = e % a.w, iy = (e / a.w) % a.h, ci = (e / (a.w * a.h)) % a.cg, img = e / (a.w * a.h * a.cg);
    float s = 0.0f;
    for (int64_t ky = 0; ky < a.kh; ++ky) {
      const int64_t ty = iy + a.ph - ky * a.dh;
      if (ty < 0 || ty % a.sh) continue;
      const int64_t oy = ty / a.sh;
      if (oy >= a.oh) continue;
      for (int64_t kx = 0; kx < a.kw; ++kx) {
        const int64_t tx = ix + a.pw - kx * a.dw;
        if (tx < 0 || tx % a.sw) continue;
        const int64_t ox = tx / a.sw;
        if (ox >= a.ow) continue;
        const int64_t k = (ci * a.kh + ky) * a.kw + kx;
        s += col[k * NP + img * a.P + oy * a.ow + ox];
      }
    }
    dx[((img * a.c + a.g * a.cg + ci) * a.h + iy) * a.w + ix] = s;
  }
}

__global__ void add_bias_nchw(float* y, const float* b, int64_t n, int64_t c, int64_t P) {
  const int64_t total = n * c * P;
  for (int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < total; e += int64_t(gridDim.x) * blockDim.x)
    y[e] += b[(e / P) % c];
}

// db[c] = sum over images and pixels of dy[img][c][p]; one block per channel.
__global__ void bias_grad(const float* dy, int64_t n, int64_t c, int64_t P, float* db) {
  __shared__ float red[256];
  const int64_t ch = blockIdx.x;
  float s = 0.0f;
  for (int64_t e = threadIdx.x; e < n * P; e += blockDim.x) {
    const int64_t img = e / P, p = e - img * P;
    s += dy[(img * c + ch) * P + p];
  }
  red[threadIdx.x] = s;
  __syncthreads();
  for (int w = 128; w > 0; w >>= 1) {
    if (int(threadIdx.x) < w) red[threadIdx.x] += red[threadIdx.x + w];
    __syncthreads();
  }
  if (threadIdx.x == 0) db[ch] = red[0];
}

__global__ void relu_fwd(const float* x, int64_t n, float* y) {
  for (int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < n; e += int64_t(gridDim.x) * blockDim.x)
    y[e] = x[e] > 0.0f ? x[e] : 0.0f;
}
__global__ void relu_bwd(const float* x, const float* dy, int64_t n, float* dx) {
  for (int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < n; e += int64_t(gridDim.x) * blockDim.x)
    dx[e] = x[e] > 0.0f ? dy[e] : 0.0f;
}
__global__ void sgd_step(float* w, const float* g, int64_t n, float lr) {
  for (int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < n; e += int64_t(gridDim.x) * blockDim.x)
    w[e] = w[e] - lr * g[e];
}

float* col_scratch(const Conv2dParams& p, Status* st) {
  const ConvGeo a = geo(p, 0);
  return static_cast<float*>(detail::scratch(size_t(a.K * a.n * a.P) * 4, 0, st));
}

Status device_ptr_check(const char* fn, std::initializer_list<const void*> ptrs) {
  for (const void* q : ptrs)
    if (!q) return Status::Error(std::string(fn) + ": null device pointer");
  return Status::Ok();
}

// Shared start of the three convolution entries: parameters, pointers, device, the column scratch buffer.
Status conv_prologue(const char* fn, const Conv2dParams& p, std::initializer_list<const void*> ptrs, float** col) {
  QRB_CU_TRY(conv2d_check(p));
  QRB_CU_TRY(device_ptr_check(fn, ptrs));
  QRB_CU_TRY(require_device());
  Status st;
  *col = col_scratch(p, &st);
  return st;
}

}  // namespace

Status f32_gemm_device(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                       int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  if (m < 1 || n < 1 || k < 1) return Status::Error("f32GemmCuda(shape): expected m, n, k >= 1");
  QRB_CU_TRY(device_ptr_check("f32GemmCuda", {a, b, c}));
  QRB_CU_TRY(require_device());
  GemmArgs g = plain_args(m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  if (!trans_a && !trans_b) return run_gemm<false, false, false, false>(g, true);
  if (trans_a && !trans_b) return run_gemm<true, false, false, false>(g, true);
  if (!trans_a && trans_b) return run_gemm<false, true, false, false>(g, true);
  return run_gemm<true, true, false, false>(g, true);
}

Status f32_conv2d_fwd_device(const Conv2dParams& p, const float* x, const float* w, const float* b, float* y) {
  float* col = nullptr;
  QRB_CU_TRY(conv_prologue("f32Conv2dFwdCuda", p, {x, w, y}, &col));
  const int64_t ocg = p.cout / p.groups;
  for (int64_t gi = 0; gi < p.groups; ++gi) {
    const ConvGeo a = geo(p, gi);
    im2col_f32<<<grid1d(a.K * a.n * a.P), 256>>>(x, a, col);
    QRB_CU_TRY(detail::launch_status("f32Conv2dFwdCuda(im2col)"));
    GemmArgs g = plain_args(ocg, a.n * a.P, a.K, 1.0f, w + gi * ocg * a.K, a.K, col, a.n * a.P, 0.0f, nullptr, 0);
    g.C = y + gi * ocg * a.P;
    g.c_P = a.P, g.c_img = p.cout * a.P, g.c_j = 1, g.c_i = a.P;
    QRB_CU_TRY((run_gemm<false, false, false, false>(g, false)));
  }
  if (b) {
    add_bias_nchw<<<grid1d(p.n * p.cout * p.oh() * p.ow()), 256>>>(y, b, p.n, p.cout, p.oh() * p.ow());
    QRB_CU_TRY(detail::launch_status("f32Conv2dFwdCuda(bias)"));
  }
  return Status::Ok();
}

Status f32_conv2d_bwd_data_device(const Conv2dParams& p, const float* dy, const float* w, float* dx) {
  float* col = nullptr;
  QRB_CU_TRY(conv_prologue("f32Conv2dBwdDataCuda", p, {dy, w, dx}, &col));
  const int64_t ocg = p.cout / p.groups;
  for (int64_t gi = 0; gi < p.groups; ++gi) {
    const ConvGeo a = geo(p, gi);
    // col[K][NP] = W_g^T [K][ocg] x dy_g [ocg][NP] (dy read in place through the B map).
    GemmArgs g = plain_args(a.K, a.n * a.P, ocg, 1.0f, w + gi * ocg * a.K, a.K, dy + gi * ocg * a.P, 0, 0.0f, col,
                            a.n * a.P);
    g.b_P = a.P, g.b_img = p.cout * a.P, g.b_k = a.P;
    QRB_CU_TRY((run_gemm<true, false, false, true>(g, false)));
    col2im_f32<<<grid1d(a.n * a.cg * a.h * a.w), 256>>>(col, a, dx);
    QRB_CU_TRY(detail::launch_status("f32Conv2dBwdDataCuda(col2im)"));
  }
  return Status::Ok();
}

Status f32_conv2d_bwd_weights_device(const Conv2dParams& p, const float* x, const float* dy, float* dw, float* db) {
  float* col = nullptr;
  QRB_CU_TRY(conv_prologue("f32Conv2dBwdWeightsCuda", p, {x, dy, dw}, &col));
  const int64_t ocg = p.cout / p.groups;
  for (int64_t gi = 0; gi < p.groups; ++gi) {
    const ConvGeo a = geo(p, gi);
    im2col_f32<<<grid1d(a.K * a.n * a.P), 256>>>(x, a, col);
    QRB_CU_TRY(detail::launch_status("f32Conv2dBwdWeightsCuda(im2col)"));
    // dW_g [ocg][K] = dy_g [ocg][NP] (A map) x col^T (B(k = j, n = kk) = col[kk][j]).
    GemmArgs g = plain_args(ocg, a.K, a.n * a.P, 1.0f, dy + gi * ocg * a.P, 0, col, a.n * a.P, 0.0f,
                            dw + gi * ocg * a.K, a.K);
    g.a_P = a.P, g.a_img = p.cout * a.P, g.a_i = a.P;
    QRB_CU_TRY((run_gemm<false, true, true, false>(g, true)));
  }
  if (db) {
    bias_grad<<<unsigned(p.cout), 256>>>(dy, p.n, p.cout, p.oh() * p.ow(), db);
    QRB_CU_TRY(detail::launch_status("f32Conv2dBwdWeightsCuda(bias)"));
  }
  return Status::Ok();
}

Status f32_relu_device(const float* x, int64_t len, float* y) {
  QRB_CU_TRY(device_ptr_check("f32ReluCuda", {x, y}));
  QRB_CU_TRY(require_device());
  relu_fwd<<<grid1d(len), 256>>>(x, len, y);
  return detail::launch_status("f32ReluCuda");
}
Status f32_relu_backward_device(const float* x, const float* dy, int64_t len, float* dx) {
  QRB_CU_TRY(device_ptr_check("f32ReluBackwardCuda", {x, dy, dx}));
  QRB_CU_TRY(require_device());
  relu_bwd<<<grid1d(len), 256>>>(x, dy, len, dx);
  return detail::launch_status("f32ReluBackwardCuda");
}
Status f32_sgd_device(float* w, const float* g, int64_t len, float lr) {
  QRB_CU_TRY(device_ptr_check("f32SgdCuda", {w, g}));
  QRB_CU_TRY(require_device());
  sgd_step<<<grid1d(len), 256>>>(w, g, len, lr);
  return detail::launch_status("f32SgdCuda");
}

// ---- host-buffer wrappers ---------------------------------------------------------------------------------------
namespace {
Status need_len(const char* fn, const char* what, const void* ptr, size_t len, size_t need) {
  if (!ptr || len != need)
    return Status::Error(std::string(fn) + "(" + what + "): expected " + std::to_string(need) + " floats but received " +
                         std::to_string(ptr ? len : 0));
  return Status::Ok();
}
Status up(DeviceBuffer* d, const float* src, size_t n) {
  QRB_CU_TRY(d->alloc(n * 4));
  return d->upload(src, n * 4);
}
}  // namespace

Status f32_gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a, size_t a_len,
                int64_t lda, const float* b, size_t b_len, int64_t ldb, float beta, float* c, size_t c_len,
                int64_t ldc) {
  const char* fn = "f32GemmCuda";
  if (m < 1 || n < 1 || k < 1) return Status::Error("f32GemmCuda(shape): expected m, n, k >= 1");
  const int64_t ar = trans_a ? k : m, ac = trans_a ? m : k, br = trans_b ? n : k, bc = trans_b ? k : n;
  if (lda < ac || ldb < bc || ldc < n)
    return Status::Error("f32GemmCuda(lda, ldb, ldc): a leading dimension is smaller than its row length");
  QRB_CU_TRY(need_len(fn, "a", a, a_len, size_t((ar - 1) * lda + ac)));
  QRB_CU_TRY(need_len(fn, "b", b, b_len, size_t((br - 1) * ldb + bc)));
  QRB_CU_TRY(need_len(fn, "c", c, c_len, size_t((m - 1) * ldc + n)));
  QRB_CU_TRY(require_device());
  DeviceBuffer da, db, dc;
  QRB_CU_TRY(up(&da, a, a_len));
  QRB_CU_TRY(up(&db, b, b_len));
  QRB_CU_TRY(up(&dc, c, c_len));
  QRB_CU_TRY(f32_gemm_device(trans_a, trans_b, m, n, k, alpha, da.as<float>(), lda, db.as<float>(), ldb, beta,
                             dc.as<float>(), ldc));
  QRB_CU_TRY(synchronize());
  return dc.download(c, c_len * 4);
}

Status f32_conv2d_fwd(const Conv2dParams& p, const float* x, size_t x_len, const float* w, size_t w_len,
                      const float* b, size_t b_len, float* y, size_t y_len) {
  const char* fn = "f32Conv2dFwdCuda";
  QRB_CU_TRY(conv2d_check(p));
  QRB_CU_TRY(need_len(fn, "x", x, x_len, p.x_size()));
  QRB_CU_TRY(need_len(fn, "w", w, w_len, p.w_size()));
  if (b) QRB_CU_TRY(need_len(fn, "b", b, b_len, size_t(p.cout)));
  QRB_CU_TRY(need_len(fn, "y", y, y_len, p.y_size()));
  QRB_CU_TRY(require_device());
  DeviceBuffer dx, dw, dbias, dy;
  QRB_CU_TRY(up(&dx, x, x_len));
  QRB_CU_TRY(up(&dw, w, w_len));
  if (b) QRB_CU_TRY(up(&dbias, b, b_len));
  QRB_CU_TRY(dy.alloc(y_len * 4));
  QRB_CU_TRY(f32_conv2d_fwd_device(p, dx.as<float>(), dw.as<float>(), b ? dbias.as<float>() : nullptr, dy.as<float>()));
  QRB_CU_TRY(synchronize());
  return dy.download(y, y_len * 4);
}

Status f32_conv2d_bwd_data(const Conv2dParams& p, const float* dy, size_t dy_len, const float* w, size_t w_len,
                           float* dx, size_t dx_len) {
  const char* fn = "f32Conv2dBwdDataCuda";
  QRB_CU_TRY(conv2d_check(p));
  QRB_CU_TRY(need_len(fn, "dy", dy, dy_len, p.y_size()));
  QRB_CU_TRY(need_len(fn, "w", w, w_len, p.w_size()));
  QRB_CU_TRY(need_len(fn, "dx", dx, dx_len, p.x_size()));
  QRB_CU_TRY(require_device());
  DeviceBuffer ddy, dw, ddx;
  QRB_CU_TRY(up(&ddy, dy, dy_len));
  QRB_CU_TRY(up(&dw, w, w_len));
  QRB_CU_TRY(ddx.alloc(dx_len * 4));
  QRB_CU_TRY(f32_conv2d_bwd_data_device(p, ddy.as<float>(), dw.as<float>(), ddx.as<float>()));
  QRB_CU_TRY(synchronize());
  return ddx.download(dx, dx_len * 4);
}

Status f32_conv2d_bwd_weights(const Conv2dParams& p, const float* x, size_t x_len, const float* dy, size_t dy_len,
                              float* dw, size_t dw_len, float* db, size_t db_len) {
  const char* fn = "f32Conv2dBwdWeightsCuda";
  QRB_CU_TRY(conv2d_check(p));
  QRB_CU_TRY(need_len(fn, "x", x, x_len, p.x_size()));
  QRB_CU_TRY(need_len(fn, "dy", dy, dy_len, p.y_size()));
  QRB_CU_TRY(need_len(fn, "dw", dw, dw_len, p.w_size()));
  if (db) QRB_CU_TRY(need_len(fn, "db", db, db_len, size_t(p.cout)));
  QRB_CU_TRY(require_device());
  DeviceBuffer dx, ddy, ddw, ddb;
  QRB_CU_TRY(up(&dx, x, x_len));
  QRB_CU_TRY(up(&ddy, dy, dy_len));
  QRB_CU_TRY(ddw.alloc(dw_len * 4));
  if (db) QRB_CU_TRY(ddb.alloc(db_len * 4));
  QRB_CU_TRY(f32_conv2d_bwd_weights_device(p, dx.as<float>(), ddy.as<float>(), ddw.as<float>(),
                                           db ? ddb.as<float>() : nullptr));
  QRB_CU_TRY(synchronize());
  QRB_CU_TRY(ddw.download(dw, dw_len * 4));
  if (db) QRB_CU_TRY(ddb.download(db, db_len * 4));
  return Status::Ok();
}

}  // namespace qrb::cuda
