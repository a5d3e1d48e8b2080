// Internal interface between the fast-integer driver (native/kernels/cpu/s8-gemm-driver.cc) and the
// per-ISA GEMM micro-kernels (native/kernels/cpu/s8-gemm-<MRxNR>-<isa>.cc). Not part of the public API.
//
// A kernel descriptor says how its operands look:
//   A rows  a'[m][kp], element type `akind` (u8 / s8 / s16), a' = x + a_off[x dtype]; kp = K rounded up to kq,
//           padded lanes 0.
//   B panels built by pack_b from v[n][k] (s8, v = w - offW) in the kernel's private panel layout, NR
//           columns per panel, the last panel padded with v = 0.
// The driver folds every zero-point / offset term into col_add (per column) and, when some zv != 0, into
// zv x rowsum (per row x column); the kernel computes acc = sum a'v + col_add[c] - zv[c]*rowsum[r] with
// int32 wrap, then the epilogue (TileArgs).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "qrb/cpu.h"
#include "qrb/intq.h"

namespace qrb::intq::fast {

enum class AKind : int { kU8 = 0, kS8 = 1, kS16 = 2 };

enum class EpMode : int {
  kAcc32 = 0,    // write int32 accumulators
  kFp32 = 1,     // xnnpack-fp32 / ort-mlas: fl32(acc)*m32, float clamp, RNE, +zy (vectorised)
  kGeneric = 2,  // any other variant: intq::requant_one per element (exact by construction)
  // Fixed-point variants, vectorised on AVX-512 (other ISAs treat them as kGeneric):
  kTflDouble = 3,  // tflite-double: RDBPOT(SRDHM(acc << left, q), right); fq = q, fs = shift
  kMulShift = 4,   // tflite-single / xnnpack-rndnu: (acc * fq + 2^(fs-1)) >> fs in int64, low 32 bits; fs in [1, 62]
};

struct TileArgs {
  size_t m = 0, n = 0, k = 0, kp = 0;
  const void* a = nullptr;  // a' rows, stride lda elements
  size_t lda = 0;
  const void* b = nullptr;  // packed panels
  const int32_t* col_add = nullptr;  // [np*nr]
  const int32_t* zv = nullptr;       // [np*nr] or null when every zv == 0
  const int32_t* rowsum = nullptr;   // [m] (sum of a' over the real K) or null
  // epilogue
  EpMode mode = EpMode::kAcc32;
  Variant variant = Variant::kOrtMlas;
  const Multiplier* mult = nullptr;  // per column (mult_step 1) or one (mult_step 0)
  size_t mult_step = 0;
  const float* beta = nullptr;       // trt-gpu, per column, may be null
  RequantOptions opt;
  const float* m32 = nullptr;        // [np*nr] fp32 mode
  float lo = 0, hi = 0;              // fp32 mode: float clamp bounds qmin - zy, qmax - zy
  const int32_t* fq = nullptr;       // [np*nr] fixed-point modes: multiplier per column
  const int32_t* fs = nullptr;       // [np*nr] fixed-point modes: shift per column
  // output: int32 (kAcc32) or bytes (s8 / u8); element (r, c) at r*ldo + c, or c*ldo + r when transposed
  void* out = nullptr;
  size_t ldo = 0;
  bool out_u8 = false;
  bool transposed = false;
};

struct KernelDesc {
  const char* name;
  Isa isa;
  int mr, nr, kq;
  AKind akind;
  int a_off_s8, a_off_u8;  // a' = x + a_off[dtype of x]
  size_t (*panel_bytes)(size_t kp);  // bytes of one NR-column panel
  void (*pack_b)(const int8_t* v, size_t n, size_t k, size_t kp, void* dst);  // all panels
  // Rows [m0, m1) x panels [p0, p1), epilogue included.
  void (*run)(const TileArgs& t, size_t m0, size_t m1, size_t p0, size_t p1);
};

// Shared helpers (s8-gemm-driver.cc).
// Requantizes / stores one tile held in a scratch buffer acc[rows][ld] (columns c0..c0+cols).
void store_tile_generic(const TileArgs& t, const int32_t* acc, size_t ld, size_t r0, size_t rows, size_t c0,
                        size_t cols);
// Stores already-requantized codes (or raw accumulators in kAcc32) from a scratch tile.
void store_tile_codes(const TileArgs& t, const int32_t* codes, size_t ld, size_t r0, size_t rows, size_t c0,
                      size_t cols);

// Driver helpers shared with the GEMV driver (s4-gemv-driver.cc).
struct Epilogue;
// m32 / fix: storage the TileArgs points into (per column, n_pad long).
Status setup_epilogue(const Epilogue& ep, size_t n, const std::string& fn, TileArgs* t, std::vector<float>* m32,
                      size_t n_pad, std::vector<int32_t>* fix);
Status check_act_zp(int32_t zp, DType t, const std::string& where);
// Weights (int8 container or ONNX-packed rows) as int32 values [rows][k] plus per-row zero points; *off_w is
// 128 for u8 containers (they map to s8 by -128), else 0.
Status read_weights(const Weights& w, size_t rows, size_t k, const std::string& fn, std::vector<int32_t>* vals,
                    std::vector<int32_t>* zps, int* off_w);

// Kernels built into this binary (each null when its ISA is not compiled for this architecture).
extern const KernelDesc kS8Gemm4x16Scalar;
#if defined(__x86_64__)
extern const KernelDesc kS8Gemm6x64Avx512Vnni;
extern const KernelDesc kS8Gemm6x16Avx2;
#endif
#if defined(__aarch64__)
extern const KernelDesc kS8Gemm4x16Neon;
extern const KernelDesc kS8Gemm4x16NeonDot;
#endif

// Simple persistent pool: runs fn(i) for i in [0, tasks) on up to `threads` threads (the caller included).
void parallel_for(int threads, size_t tasks, void (*fn)(void* ctx, size_t i), void* ctx);

}  // namespace qrb::intq::fast

// ---- low-bit GEMV (s4-gemv-driver.cc, s4-gemv-16x8-avx512vnni.cc, s2-gemv-16x16-avx512vnni.cc) ---------
namespace qrb::intq::fast {

// Batch-1 GEMV over 4- / 2-bit weights kept in a register-unpackable layout. Weights enter as unsigned
// codes u = w + c (c = 8 for int4, 2 for int2, 0 for uint4 / uint2) so that VPDPBUSD can take them as its
// u8 operand; activations enter as s8 x' = x + off (off = -128 for u8 x), broadcast 4 at a time.
//   int4 panel: 16 rows; per 8 K (one "oct") 64 bytes: row j's dword at 4j, byte b = u[j][8o+b] | u[j][8o+4+b] << 4
//   int2 panel: 16 rows; per 16 K 64 bytes: byte b = u[j][16h+b] | u[j][16h+4+b] << 2 | u[j][16h+8+b] << 4 | u[j][16h+12+b] << 6
// The kernel returns raw sums acc[j] = sum_k x'_k u_jk (int32 wrap) for rows [16p, 16p+16).
struct GemvKernel {
  const char* name;
  Isa isa;
  int bits;
  size_t (*panel_bytes)(size_t kp);
  void (*pack)(const uint8_t* u, size_t n, size_t k, size_t kp, void* dst);  // u: [n][k] codes
  void (*run)(const void* panels, size_t kp, const int8_t* x, size_t p0, size_t p1, int32_t* acc /*[16*(p1-p0)]*/);
};
#if defined(__x86_64__)
extern const GemvKernel kS4Gemv16x8Avx512Vnni;
extern const GemvKernel kS2Gemv16x16Avx512Vnni;
extern const GemvKernel kS4Gemv16x8Avx2;
extern const GemvKernel kS2Gemv16x16Avx2;
#endif
#if defined(__aarch64__)
extern const GemvKernel kS4Gemv16x8NeonDot;
extern const GemvKernel kS2Gemv16x16NeonDot;
#endif

}  // namespace qrb::intq::fast
