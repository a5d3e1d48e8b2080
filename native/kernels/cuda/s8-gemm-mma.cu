// int8 GEMM and convolution on tensor cores (mma.sync), with the trt-gpu epilogue. Contract: qrb/cuda.h.
//
// Kernel: 128x128 block tile, K step 64 bytes, 4-stage shared-memory ring (cp.async on sm_80+, plain 16-byte
// copies on sm_75), 8 warps each owning 64x32 of the output, two blocks per SM (<= 128 registers per thread),
// grouped tile rasterisation for L2 reuse, fragments via ldmatrix from an XOR-swizzled layout (16-byte chunk c of
// // row r lives at chunk c ^ ((r >> 1) & 3): the 8 rows an ldmatrix reads hit 8 distinct bank groups).
// Math: mma.sync m16n8k32 s8 (sm_80+) or four m8n8k16 with the same fragment layouts (sm_75). The s32
// accumulators wrap mod 2^32 (no .satfinite), as the CPU reference does.
// Epilogue (per element, no FMA contraction): v = acc + bias[c] (wrap); trt-gpu:
//   code = clamp(rint(__fadd_rn(__fmul_rn(__int2float_rn(v), alpha[c]), beta[c])), qmin, qmax)
// which is intq::requant_one(kTrtGpu) step by step (float(acc) RNE, float mul, float add, nearbyint, clamp; the clamp
// compares in float when qmin / qmax are within 2^24, where that equals the reference's double compare).
// Convolution: an int8 im2col per group into [n*oh*ow][Kp] (padded taps read 0: symmetric) and the same kernel,
// whose output map writes NCHW directly. int4 / int2 weights: packed ONNX rows are unpacked to int8 on the device.
#include <cstdint>
#include <vector>

#include "cuda-common.cuh"

namespace qrb::cuda {
namespace {

// Block tile kBM x BN (BN = 128 or 256), K step kBK bytes, kStages-deep ring, 8 warps (2 x 4) of 64 x BN/4.
constexpr int kBM = 128, kBK = 64, kStages = 4, kThreads = 256;
constexpr int kGroupM = 8;
template <int BN>
constexpr int smem_bytes() { return kStages * (kBM + BN) * kBK; }  // 64 KiB (BN 128: sm_75's maximum), 96 KiB

// Output element (m, n) -> (m / P) * s_img + (m % P) * s_m + (n + n_off) * s_n; channel = n + n_off.
struct OutMap {
  int64_t P, s_img, s_m, s_n;
  int64_t n_off;
};

struct EpArgs {
  int32_t* out32;
  int8_t* out8;
  const int32_t* bias;
  const float* alpha;
  const float* beta;
  int alpha_bcast, beta_bcast;
  int32_t qmin, qmax;
  OutMap map;
};

enum : int { kModeAcc = 0, kModeTrt32 = 1, kModeTrt8 = 2 };

__device__ __forceinline__ uint32_t smem_u32(const void* p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

__device__ __forceinline__ void cp16(void* smem, const void* gmem, bool pred) {
#if __CUDA_ARCH__ >= 800
  const int n = pred ? 16 : 0;  // zero-fill when out of range
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(smem_u32(smem)), "l"(gmem), "r"(n));
#else
  uint4 v = make_uint4(0, 0, 0, 0);
  if (pred) v = *reinterpret_cast<const uint4*>(gmem);
  *reinterpret_cast<uint4*>(smem) = v;
#endif
}
__device__ __forceinline__ void cp_commit() {
#if __CUDA_ARCH__ >= 800
  asm volatile("cp.async.commit_group;\n" ::);
#endif
}
template <int N>
__device__ __forceinline__ void cp_wait() {
#if __CUDA_ARCH__ >= 800
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
#endif
}

__device__ __forceinline__ void ldsm_x4(uint32_t (&r)[4], const void* p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(smem_u32(p)));
}

__device__ __forceinline__ void mma_s8_16x8x32(int32_t (&c)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
#if __CUDA_ARCH__ >= 800
  asm volatile(
      "mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
      : "+r"(c[0]), "+r"(c[1]), "+r"(c[2]), "+r"(c[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
#elif __CUDA_ARCH__ >= 750
  // Turing: four m8n8k16. Rows 0-7 take a0 (k 0-15) and a2 (k 16-31), rows 8-15 take a1 and a3.
  asm volatile("mma.sync.aligned.m8n8k16.row.col.s32.s8.s8.s32 {%0,%1}, {%2}, {%3}, {%0,%1};\n"
               : "+r"(c[0]), "+r"(c[1]) : "r"(a[0]), "r"(b0));
  asm volatile("mma.sync.aligned.m8n8k16.row.col.s32.s8.s8.s32 {%0,%1}, {%2}, {%3}, {%0,%1};\n"
               : "+r"(c[0]), "+r"(c[1]) : "r"(a[2]), "r"(b1));
  asm volatile("mma.sync.aligned.m8n8k16.row.col.s32.s8.s8.s32 {%0,%1}, {%2}, {%3}, {%0,%1};\n"
               : "+r"(c[2]), "+r"(c[3]) : "r"(a[1]), "r"(b0));
  asm volatile("mma.sync.aligned.m8n8k16.row.col.s32.s8.s8.s32 {%0,%1}, {%2}, {%3}, {%0,%1};\n"
               : "+r"(c[2]), "+r"(c[3]) : "r"(a[3]), "r"(b1));
#endif
}

__device__ __forceinline__ int swz(int r, int c) { return r * kBK + ((c ^ ((r >> 1) & 3)) << 4); }

// Requantized code of one accumulator (bias already added). FLOATCLAMP: qmin / qmax within +-2^24, where the float
// compare of the integral rint result equals the reference's double compare.
template <bool FLOATCLAMP>
__device__ __forceinline__ int32_t trt_code(const EpArgs& ep, int64_t ch, int32_t v) {
  const float a = ep.alpha[ep.alpha_bcast ? 0 : ch];
  const float b = ep.beta ? ep.beta[ep.beta_bcast ? 0 : ch] : 0.0f;
  const float s = __fadd_rn(__fmul_rn(__int2float_rn(v), a), b);
  if (FLOATCLAMP) return int32_t(fminf(fmaxf(rintf(s), float(ep.qmin)), float(ep.qmax)));
  const double r = double(rintf(s));
  return r < double(ep.qmin) ? ep.qmin : (r > double(ep.qmax) ? ep.qmax : int32_t(r));
}

// Two horizontally adjacent accumulators (row, col) and (row, col + 1).
template <int MODE>
__device__ __forceinline__ void store_pair(const EpArgs& ep, int64_t row, int64_t col, int64_t N, int32_t v0, int32_t v1) {
  const int64_t ch = col + ep.map.n_off;
  const bool two = col + 1 < N;
  if (ep.bias) {
    v0 = int32_t(uint32_t(v0) + uint32_t(ep.bias[ch]));
    if (two) v1 = int32_t(uint32_t(v1) + uint32_t(ep.bias[ch + 1]));
  }
  if (MODE != kModeAcc) {
    if (MODE == kModeTrt8) {
      v0 = trt_code<true>(ep, ch, v0);
      if (two) v1 = trt_code<true>(ep, ch + 1, v1);
    } else {
      v0 = trt_code<false>(ep, ch, v0);
      if (two) v1 = trt_code<false>(ep, ch + 1, v1);
    }
  }
  const int64_t img = row / ep.map.P;
  const int64_t idx = img * ep.map.s_img + (row - img * ep.map.P) * ep.map.s_m + ch * ep.map.s_n;
  if (MODE == kModeTrt8) {
    if (two && ep.map.s_n == 1 && !(reinterpret_cast<uintptr_t>(ep.out8 + idx) & 1)) {
      *reinterpret_cast<char2*>(ep.out8 + idx) = make_char2(char(v0), char(v1));
    } else {
      ep.out8[idx] = int8_t(v0);
      if (two) ep.out8[idx + ep.map.s_n] = int8_t(v1);
    }
  } else {
    if (two && ep.map.s_n == 1 && !(reinterpret_cast<uintptr_t>(ep.out32 + idx) & 7)) {
      *reinterpret_cast<int2*>(ep.out32 + idx) = make_int2(v0, v1);
    } else {
      ep.out32[idx] = v0;
      if (two) ep.out32[idx + ep.map.s_n] = v1;
    }
  }
}

template <int MODE, int BN>
__global__ void __launch_bounds__(kThreads, BN == 128 ? 2 : 1) s8_gemm_mma(const int8_t* __restrict__ A, int64_t lda,
                                                         const int8_t* __restrict__ B, int64_t ldb, int64_t M,
                                                         int64_t N, int64_t Kp, EpArgs ep) {
#if __CUDA_ARCH__ >= 750
  constexpr int kTileA = kBM * kBK, kTileB = BN * kBK, NJ = BN / 32;  // NJ: n8 tiles per warp
  extern __shared__ __align__(128) uint8_t smem[];
  uint8_t* sA = smem;
  uint8_t* sB = smem + kStages * kTileA;
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const int wm = warp >> 2, wn = warp & 3;
  // Grouped rasterisation: runs of kGroupM row tiles sweep the column tiles together, so the A panels of a wave
  // stay in L2 instead of streaming the whole of A once per column tile.
  const int64_t tiles_m = (M + kBM - 1) / kBM, tiles_n = (N + BN - 1) / BN;
  const int64_t pid = blockIdx.x, per_group = int64_t(kGroupM) * tiles_n;
  const int64_t first_m = (pid / per_group) * kGroupM;
  const int64_t group_m = min(tiles_m - first_m, int64_t(kGroupM));
  const int64_t in_group = pid - (pid / per_group) * per_group;
  const int64_t m0 = (first_m + in_group % group_m) * kBM, n0 = (in_group / group_m) * BN;
  const int ktiles = int((Kp + kBK - 1) / kBK);

  auto load_tile = [&](int stage, int kt) {
    const int64_t k0 = int64_t(kt) * kBK;
#pragma unroll
    for (int i = 0; i < kBM * 4 / kThreads; ++i) {  // 16-byte chunks of the A tile
      const int chunk = tid + i * kThreads;
      const int r = chunk >> 2, c = chunk & 3;
      const int64_t kk = k0 + c * 16;
      const bool pa = (m0 + r < M) && (kk < Kp);
      cp16(sA + stage * kTileA + swz(r, c), pa ? A + (m0 + r) * lda + kk : A, pa);
    }
#pragma unroll
    for (int i = 0; i < BN * 4 / kThreads; ++i) {  // and of the B tile
      const int chunk = tid + i * kThreads;
      const int r = chunk >> 2, c = chunk & 3;
      const int64_t kk = k0 + c * 16;
      const bool pb = (n0 + r < N) && (kk < Kp);
      cp16(sB + stage * kTileB + swz(r, c), pb ? B + (n0 + r) * ldb + kk : B, pb);
    }
  };

  int32_t acc[4][NJ][4];
#pragma unroll
  for (int i = 0; i < 4; ++i)
#pragma unroll
    for (int j = 0; j < NJ; ++j)
#pragma unroll
      for (int e = 0; e < 4; ++e) acc[i][j][e] = 0;

#pragma unroll
  for (int s = 0; s < kStages - 1; ++s) {
    if (s < ktiles) load_tile(s, s);
    cp_commit();
  }

  for (int kt = 0; kt < ktiles; ++kt) {
    cp_wait<kStages - 2>();
    __syncthreads();
    const int pf = kt + kStages - 1;
    if (pf < ktiles) load_tile(pf % kStages, pf);
    cp_commit();
    const uint8_t* tA = sA + (kt % kStages) * kTileA;
    const uint8_t* tB = sB + (kt % kStages) * kTileB;
#pragma unroll
    for (int ks = 0; ks < kBK / 32; ++ks) {
      uint32_t af[4][4], bf[NJ / 2][4];
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        const int r = wm * 64 + i * 16 + (lane & 15);
        ldsm_x4(af[i], tA + swz(r, ks * 2 + (lane >> 4)));
      }
#pragma unroll
      for (int j = 0; j < NJ / 2; ++j) {
        const int r = wn * (BN / 4) + j * 16 + (lane & 7) + ((lane >> 4) << 3);
        ldsm_x4(bf[j], tB + swz(r, ks * 2 + ((lane >> 3) & 1)));
      }
#pragma unroll
      for (int i = 0; i < 4; ++i)
#pragma unroll
        for (int j = 0; j < NJ; ++j) mma_s8_16x8x32(acc[i][j], af[i], bf[j >> 1][(j & 1) * 2], bf[j >> 1][(j & 1) * 2 + 1]);
    }
  }
  cp_wait<0>();

  const int gid = lane >> 2, tig = lane & 3;
#pragma unroll
  for (int i = 0; i < 4; ++i)
#pragma unroll
    for (int j = 0; j < NJ; ++j)
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const int64_t row = m0 + wm * 64 + i * 16 + gid + h * 8;
        const int64_t col = n0 + wn * (BN / 4) + j * 8 + tig * 2;
        if (row < M && col < N) store_pair<MODE>(ep, row, col, N, acc[i][j][h * 2], acc[i][j][h * 2 + 1]);
      }
#endif
}

// Packed ONNX rows (bits 4 / 2, row stride rb bytes) or an int8 matrix [n][k] -> int8 [n][kp], zeros beyond k.
__global__ void unpack_rows_kernel(const uint8_t* __restrict__ src, int64_t rows, int64_t k, int64_t kp, int64_t rb,
                                   int bits, int is_signed, int8_t* __restrict__ dst) {
  const int64_t total = rows * kp;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t r = i / kp, c = i - r * kp;
    int v = 0;
    if (c < k) {
      if (bits == 8) {
        v = int8_t(src[r * k + c]);
      } else if (bits == 4) {
        const int byte = src[r * rb + (c >> 1)];
        v = (c & 1) ? (byte >> 4) : (byte & 15);
        if (is_signed) v = (v ^ 8) - 8;
      } else {
        const int byte = src[r * rb + (c >> 2)];
        v = (byte >> (2 * (c & 3))) & 3;
        if (is_signed) v = (v ^ 2) - 2;
      }
    }
    dst[i] = int8_t(v);
  }
}

// int8 im2col of one group: rows m = img * P + (oy * ow + ox), columns k = (ci, ky, kx) as the weights' K.
struct Im2colArgs {
  int64_t n, c, h, w, cg, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow, K, Kp, g;
};
__global__ void im2col_s8_kernel(const int8_t* __restrict__ x, Im2colArgs a, int8_t* __restrict__ col) {
  const int64_t P = a.oh * a.ow, total = a.n * P * a.Kp;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t m = i / a.Kp, k = i - m * a.Kp;
    int8_t v = 0;
    if (k < a.K) {
      const int64_t img = m / P, pix = m - img * P, oy = pix / a.ow, ox = pix - oy * a.ow;
      const int64_t khw = a.kh * a.kw, ci = k / khw, rem = k - ci * khw, ky = rem / a.kw, kx = rem - ky * a.kw;
      const int64_t iy = oy * a.sh - a.pt + ky * a.dh, ix = ox * a.sw - a.pl + kx * a.dw;
      if (iy >= 0 && iy < a.h && ix >= 0 && ix < a.w) v = x[((img * a.c + a.g * a.cg + ci) * a.h + iy) * a.w + ix];
    }
    col[i] = v;
  }
}

int grid_for(int64_t total) {
  const int64_t b = (total + 255) / 256;
  return int(b < 65535 * 8 ? (b < 1 ? 1 : b) : 65535 * 8);
}

template <int MODE, int BN>
Status launch_mode(const int8_t* a, int64_t lda, const int8_t* w, int64_t ldw, int64_t m, int64_t n, int64_t kp,
                   const EpArgs& ep, cudaStream_t st) {
  static bool attr_set = false;  // per instantiation
  if (!attr_set) {
    QRB_CU_TRY(detail::cuda_status(
        cudaFuncSetAttribute(s8_gemm_mma<MODE, BN>, cudaFuncAttributeMaxDynamicSharedMemorySize, smem_bytes<BN>()),
        "gemm_s8(cudaFuncSetAttribute)"));
    attr_set = true;
  }
  const int64_t blocks = detail::ceil_div(m, kBM) * detail::ceil_div(n, BN);
  if (blocks > 2147483647) return Status::Error("gemm_s8(shape): too many tiles for one launch");
  s8_gemm_mma<MODE, BN><<<unsigned(blocks), kThreads, smem_bytes<BN>(), st>>>(a, lda, w, ldw, m, n, kp, ep);
  return detail::launch_status("gemm_s8(launch)");
}

// Tile width: 128 unless `forced` is 256 (sm_80+ only: 96 KiB of shared memory). On the H100 the 256-wide tile
// (one block per SM, 64x64 warp tiles) measured 0.5-0.95x the 128-wide one, so it is not chosen automatically; it is
// kept, tested, for tuning on Ampere / Orin where it was not measured.
int pick_tile(int forced) {
  return (forced == 256 && device_info().cc_major >= 8) ? 256 : 128;
}

Status launch(const int8_t* a, int64_t lda, const int8_t* w, int64_t ldw, int64_t m, int64_t n, int64_t kp,
              int mode, const EpArgs& ep, cudaStream_t st, int tile = 0) {
  if (pick_tile(tile) == 256) {
    if (mode == kModeAcc) return launch_mode<kModeAcc, 256>(a, lda, w, ldw, m, n, kp, ep, st);
    if (mode == kModeTrt32) return launch_mode<kModeTrt32, 256>(a, lda, w, ldw, m, n, kp, ep, st);
    return launch_mode<kModeTrt8, 256>(a, lda, w, ldw, m, n, kp, ep, st);
  }
  if (mode == kModeAcc) return launch_mode<kModeAcc, 128>(a, lda, w, ldw, m, n, kp, ep, st);
  if (mode == kModeTrt32) return launch_mode<kModeTrt32, 128>(a, lda, w, ldw, m, n, kp, ep, st);
  return launch_mode<kModeTrt8, 128>(a, lda, w, ldw, m, n, kp, ep, st);
}

Status check_epilogue(const std::string& fn, const Epilogue& ep, size_t channels) {
  if (ep.mode != OutMode::kAcc32 && ep.mode != OutMode::kTrtGpu)
    return Status::Error(fn + "(epilogue.mode): expected 0 (int32 accumulators) or 1 (trt-gpu) but received " +
                         std::to_string(int(ep.mode)));
  if (ep.mode == OutMode::kTrtGpu) {
    if (!ep.alpha || (ep.alpha_len != 1 && ep.alpha_len != channels))
      return Status::Error(fn + "(alpha): expected 1 or " + std::to_string(channels) +
                           " float32 multipliers but received " + std::to_string(ep.alpha ? ep.alpha_len : 0));
    if (ep.beta && ep.beta_len != 1 && ep.beta_len != channels)
      return Status::Error(fn + "(beta): expected 0, 1 or " + std::to_string(channels) + " float32 values but received " +
                           std::to_string(ep.beta_len));
    if (ep.qmin > ep.qmax)
      return Status::Error(fn + "(qmin, qmax): expected qmin <= qmax but received " + std::to_string(ep.qmin) + " > " +
                           std::to_string(ep.qmax));
  }
  return Status::Ok();
}

// The symmetric-int8 restrictions shared by gemm_s8 and conv_s8; returns the weights' byte count.
Status check_operands(const std::string& fn, const char* act_name, const intq::Operand& a, size_t a_need, int32_t a_zp,
                      const intq::Weights& w, size_t rows, size_t k, size_t* w_bytes) {
  if (!a.data || a.len != a_need)
    return Status::Error(fn + "(" + act_name + "): expected " + std::to_string(a_need) + " elements but received " +
                         std::to_string(a.data ? a.len : 0));
  if (a.dtype != intq::DType::kS8)
    return Status::Error(fn + "(" + act_name + ".dtype): the CUDA kernels are symmetric int8 (trt-gpu); expected s8 "
                         "but received u8");
  if (a_zp != 0)
    return Status::Error(fn + "(" + act_name + "ZeroPoint): the CUDA kernels are symmetric (trt-gpu); expected 0 but "
                         "received " + std::to_string(a_zp));
  if (!w.data) return Status::Error(fn + "(weights): null");
  if (w.bits == 8) {
    if (w.dtype != intq::DType::kS8)
      return Status::Error(fn + "(weights.dtype): 8-bit weights must be s8 on the GPU (symmetric) but received u8");
    *w_bytes = rows * k;
    if (w.len != rows * k)
      return Status::Error(fn + "(weights): expected " + std::to_string(rows * k) + " elements but received " +
                           std::to_string(w.len));
  } else if (w.bits == 4 || w.bits == 2) {
    *w_bytes = rows * intq::packed_row_bytes(k, w.bits);
    if (w.len != *w_bytes)
      return Status::Error(fn + "(weights): expected " + std::to_string(*w_bytes) + " packed bytes (" +
                           std::to_string(rows) + " rows of " + std::to_string(intq::packed_row_bytes(k, w.bits)) +
                           ") but received " + std::to_string(w.len));
  } else {
    return Status::Error(fn + "(weights.bits): expected 8, 4 or 2 but received " + std::to_string(w.bits));
  }
  for (size_t i = 0; w.zp && i < w.zp_len; ++i)
    if (w.zp[i] != 0)
      return Status::Error(fn + "(weights.zeroPoint[" + std::to_string(i) +
                           "]): the CUDA kernels are symmetric (trt-gpu); expected 0 but received " +
                           std::to_string(w.zp[i]));
  return Status::Ok();
}

// Uploads the weights and unpacks them into int8 [rows][kp] (zero padded).
Status prepare_weights(const intq::Weights& w, size_t rows, size_t k, int64_t kp, size_t w_bytes, DeviceBuffer* raw,
                       DeviceBuffer* out) {
  QRB_CU_TRY(raw->alloc(w_bytes));
  QRB_CU_TRY(raw->upload(w.data, w_bytes));
  QRB_CU_TRY(out->alloc(size_t(rows) * size_t(kp)));
  const int64_t rb = w.bits == 8 ? int64_t(k) : int64_t(intq::packed_row_bytes(k, w.bits));
  const int64_t total = int64_t(rows) * kp;
  unpack_rows_kernel<<<grid_for(total), 256>>>(raw->as<uint8_t>(), int64_t(rows), int64_t(k), kp, rb, w.bits,
                                               w.dtype == intq::DType::kS8 ? 1 : 0, out->as<int8_t>());
  return detail::launch_status("unpack weights(launch)");
}

// Per-channel epilogue vectors on the device.
struct EpBuffers {
  DeviceBuffer bias, alpha, beta;
};
Status upload_epilogue(const int32_t* bias, size_t bias_len, const Epilogue& ep, EpBuffers* b, EpArgs* args) {
  args->bias = nullptr;
  args->alpha = nullptr;
  args->beta = nullptr;
  args->alpha_bcast = args->beta_bcast = 0;
  if (bias) {
    QRB_CU_TRY(b->bias.alloc(bias_len * 4));
    QRB_CU_TRY(b->bias.upload(bias, bias_len * 4));
    args->bias = b->bias.as<int32_t>();
  }
  if (ep.mode == OutMode::kTrtGpu) {
    QRB_CU_TRY(b->alpha.alloc(ep.alpha_len * 4));
    QRB_CU_TRY(b->alpha.upload(ep.alpha, ep.alpha_len * 4));
    args->alpha = b->alpha.as<float>();
    args->alpha_bcast = ep.alpha_len == 1;
    if (ep.beta) {
      QRB_CU_TRY(b->beta.alloc(ep.beta_len * 4));
      QRB_CU_TRY(b->beta.upload(ep.beta, ep.beta_len * 4));
      args->beta = b->beta.as<float>();
      args->beta_bcast = ep.beta_len == 1;
    }
  }
  args->qmin = ep.qmin;
  args->qmax = ep.qmax;
  return Status::Ok();
}

}  // namespace

Status gemm_s8_device(const DevGemmS8& g) {
  const std::string fn = "gemmS8Device";
  if (!g.a || !g.w) return Status::Error(fn + "(a, w): null device pointer");
  if (g.m < 1 || g.n < 1 || g.k < 1)
    return Status::Error(fn + "(shape): expected m, n, k >= 1 but received " + std::to_string(g.m) + "x" +
                         std::to_string(g.n) + "x" + std::to_string(g.k));
  const int64_t kp = detail::round_up(g.k, 16);
  if (g.lda < kp || g.lda % 16 || g.ldw < kp || g.ldw % 16)
    return Status::Error(fn + "(lda, ldw): expected multiples of 16 that are >= " + std::to_string(kp) +
                         " but received " + std::to_string(g.lda) + ", " + std::to_string(g.ldw));
  if ((reinterpret_cast<uintptr_t>(g.a) | reinterpret_cast<uintptr_t>(g.w)) & 15)
    return Status::Error(fn + "(a, w): expected 16-byte aligned device pointers");
  if (g.m > (int64_t(1) << 40) || g.n > (int64_t(1) << 30)) return Status::Error(fn + "(shape): too large");
  int mode = kModeAcc;
  if (g.mode == OutMode::kTrtGpu) {
    if (!g.alpha) return Status::Error(fn + "(alpha): null (trt-gpu needs per-channel multipliers)");
    if (g.qmin > g.qmax) return Status::Error(fn + "(qmin, qmax): expected qmin <= qmax");
    if (g.out8) {
      if (g.qmin < -128 || g.qmax > 127)
        return Status::Error(fn + "(qmin, qmax): int8 output needs [-128, 127] but received [" +
                             std::to_string(g.qmin) + ", " + std::to_string(g.qmax) + "]");
      mode = kModeTrt8;
    } else {
      mode = kModeTrt32;
    }
  } else if (g.mode != OutMode::kAcc32) {
    return Status::Error(fn + "(mode): expected 0 or 1");
  }
  if (mode == kModeTrt8 ? !g.out8 : !g.out32) return Status::Error(fn + "(out): null device pointer");
  QRB_CU_TRY(require_device());
  EpArgs ep{};
  ep.out32 = g.out32;
  ep.out8 = g.out8;
  ep.bias = g.bias;
  ep.alpha = g.alpha;
  ep.beta = g.beta;
  ep.qmin = g.qmin;
  ep.qmax = g.qmax;
  ep.map = OutMap{g.m, 0, g.n, 1, 0};
  if (g.tile != 0 && g.tile != 128 && g.tile != 256)
    return Status::Error(fn + "(tile): expected 0 (automatic), 128 or 256 but received " + std::to_string(g.tile));
  return launch(g.a, g.lda, g.w, g.ldw, g.m, g.n, kp, mode, ep, static_cast<cudaStream_t>(g.stream), g.tile);
}

Status gemm_s8(const intq::GemmShape& s, const intq::Operand& a, int32_t a_zp, const intq::Weights& w,
               const int32_t* bias, size_t bias_len, const Epilogue& ep, int32_t* out, size_t out_len) {
  const std::string fn = "gemmS8Cuda";
  if (s.m == 0 || s.n == 0 || s.k == 0)
    return Status::Error(fn + "(shape): expected m, n, k >= 1 but received " + std::to_string(s.m) + "x" +
                         std::to_string(s.n) + "x" + std::to_string(s.k));
  if (s.m > (size_t(1) << 31) || s.n > (size_t(1) << 24) || s.k > (size_t(1) << 30))
    return Status::Error(fn + "(shape): too large");
  size_t w_bytes = 0;
  QRB_CU_TRY(check_operands(fn, "a", a, s.m * s.k, a_zp, w, s.n, s.k, &w_bytes));
  if (bias && bias_len != s.n)
    return Status::Error(fn + "(bias): expected " + std::to_string(s.n) + " int32 values but received " +
                         std::to_string(bias_len));
  QRB_CU_TRY(check_epilogue(fn, ep, s.n));
  if (!out || out_len != s.m * s.n)
    return Status::Error(fn + "(out): expected " + std::to_string(s.m * s.n) + " int32 values but received " +
                         std::to_string(out ? out_len : 0));
  QRB_CU_TRY(require_device());

  const int64_t kp = detail::round_up(int64_t(s.k), 16);
  DeviceBuffer da, wraw, dw, dout;
  EpBuffers eb;
  QRB_CU_TRY(da.alloc(s.m * size_t(kp)));
  QRB_CU_TRY(da.fill_byte(0));
  QRB_CU_TRY(detail::cuda_status(
      cudaMemcpy2D(da.get(), size_t(kp), a.data, s.k, s.k, s.m, cudaMemcpyHostToDevice), fn + "(upload a)"));
  QRB_CU_TRY(prepare_weights(w, s.n, s.k, kp, w_bytes, &wraw, &dw));
  QRB_CU_TRY(dout.alloc(s.m * s.n * 4));
  EpArgs args{};
  QRB_CU_TRY(upload_epilogue(bias, bias_len, ep, &eb, &args));
  args.out32 = dout.as<int32_t>();
  args.map = OutMap{int64_t(s.m), 0, int64_t(s.n), 1, 0};
  QRB_CU_TRY(launch(da.as<int8_t>(), kp, dw.as<int8_t>(), kp, int64_t(s.m), int64_t(s.n), kp,
                    ep.mode == OutMode::kTrtGpu ? kModeTrt32 : kModeAcc, args, nullptr));
  QRB_CU_TRY(detail::cuda_status(cudaDeviceSynchronize(), fn + "(kernel)"));
  return dout.download(out, out_len * 4);
}

Status conv_s8(const intq::ConvShape& s, const intq::Operand& x, int32_t x_zp, const intq::Weights& w,
               const int32_t* bias, size_t bias_len, const Epilogue& ep, int32_t* out, size_t out_len) {
  const std::string fn = "convS8Cuda";
  size_t oh = 0, ow = 0;
  QRB_CU_TRY(intq::conv_out_size(s, &oh, &ow));
  if (s.groups == 0 || s.c % s.groups || s.oc % s.groups)
    return Status::Error(fn + "(groups): expected a divisor of c and oc but received " + std::to_string(s.groups));
  const size_t cg = s.c / s.groups, ocg = s.oc / s.groups, K = cg * s.kh * s.kw;
  const size_t P = oh * ow, Mtot = s.n * P;
  const size_t limit = size_t(1) << 40;
  if (s.n * s.c * s.h * s.w > limit || Mtot * s.oc > limit || K > (size_t(1) << 30))
    return Status::Error(fn + "(shape): size overflows");
  size_t w_bytes = 0;
  QRB_CU_TRY(check_operands(fn, "x", x, s.n * s.c * s.h * s.w, x_zp, w, s.oc, K, &w_bytes));
  if (bias && bias_len != s.oc)
    return Status::Error(fn + "(bias): expected " + std::to_string(s.oc) + " int32 values but received " +
                         std::to_string(bias_len));
  QRB_CU_TRY(check_epilogue(fn, ep, s.oc));
  if (!out || out_len != Mtot * s.oc)
    return Status::Error(fn + "(out): expected " + std::to_string(Mtot * s.oc) + " int32 values but received " +
                         std::to_string(out ? out_len : 0));
  QRB_CU_TRY(require_device());

  const int64_t kp = detail::round_up(int64_t(K), 16);
  DeviceBuffer dx, wraw, dw, dcol, dout;
  EpBuffers eb;
  QRB_CU_TRY(dx.alloc(x.len));
  QRB_CU_TRY(dx.upload(x.data, x.len));
  QRB_CU_TRY(prepare_weights(w, s.oc, K, kp, w_bytes, &wraw, &dw));
  QRB_CU_TRY(dcol.alloc(Mtot * size_t(kp)));
  QRB_CU_TRY(dout.alloc(Mtot * s.oc * 4));
  EpArgs args{};
  QRB_CU_TRY(upload_epilogue(bias, bias_len, ep, &eb, &args));
  args.out32 = dout.as<int32_t>();
  const int mode = ep.mode == OutMode::kTrtGpu ? kModeTrt32 : kModeAcc;
  for (size_t g = 0; g < s.groups; ++g) {
    Im2colArgs ia{int64_t(s.n), int64_t(s.c), int64_t(s.h), int64_t(s.w), int64_t(cg), int64_t(s.kh), int64_t(s.kw),
                  int64_t(s.stride_h), int64_t(s.stride_w), int64_t(s.dil_h), int64_t(s.dil_w), int64_t(s.pad_t),
                  int64_t(s.pad_l), int64_t(oh), int64_t(ow), int64_t(K), kp, int64_t(g)};
    const int64_t total = int64_t(Mtot) * kp;
    im2col_s8_kernel<<<grid_for(total), 256>>>(dx.as<int8_t>(), ia, dcol.as<int8_t>());
    QRB_CU_TRY(detail::launch_status("convS8Cuda(im2col)"));
    args.map = OutMap{int64_t(P), int64_t(s.oc * P), 1, int64_t(P), int64_t(g * ocg)};
    QRB_CU_TRY(launch(dcol.as<int8_t>(), kp, dw.as<int8_t>() + int64_t(g * ocg) * kp, kp, int64_t(Mtot),
                      int64_t(ocg), kp, mode, args, nullptr));
  }
  QRB_CU_TRY(detail::cuda_status(cudaDeviceSynchronize(), fn + "(kernel)"));
  return dout.download(out, out_len * 4);
}

}  // namespace qrb::cuda
