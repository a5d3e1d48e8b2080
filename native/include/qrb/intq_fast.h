// Fast integer GEMM / convolution (issue 5): packed weights, run-time ISA dispatch, threads, and the
// requantization epilogue of every variant, bit-identical to the scalar reference of qrb/intq.h.
//
// Contract: fast::gemm(...) == intq::gemm_acc(...) followed by intq::requantize(...) for the same
// arguments, bit for bit (Hazard::kNone only: the hazards are reference-only emulations and are refused
// here with a message naming the reference entry point). Conv likewise equals intq::conv_acc + requantize.
//
// Why the math works for every ISA (docs/kernels.md has the long form):
//   sum_k (x - zx)(w - zw) = sum_k (a - za)(v - zv)   with a = x + offA, za = zx + offA, v = w - offW, zv = zw - offW
//                          = sum a v - zv sum a - za sum v + K za zv        (mod 2^32, int32 wraps like the ref)
// offA is chosen per ISA so `a` fits the instruction's operand type (VPDPBUSD wants u8: s8 x gets +128, the
// XOR-0x80 trick; NEON sdot wants s8: u8 x gets -128); offW maps u8 weights to s8 (-128). `sum v` per column
// is computed once at pack time; `sum a` per row only when some zv != 0. Padded K lanes hold v = 0.
//
// Layout: a[m][k], weights [n][k] (output-channel major, K contiguous; int8 container or ONNX-packed int4 /
// int2 rows, which are unpacked into the int8 panels: "large M via unpack into the int8 kernel"),
// out[m][n]; conv NCHW as in intq.h.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "qrb/intq.h"
#include "qrb/status.h"

namespace qrb::intq::fast {

// What the epilogue does with the int32 accumulator.
struct Epilogue {
  bool requant = false;            // false: write int32 accumulators (out is int32_t[m*n])
  Variant variant = Variant::kOrtMlas;
  const Multiplier* mult = nullptr;  // 1 (per tensor) or n (per output channel)
  size_t mult_len = 0;
  const float* beta = nullptr;     // trt-gpu: mult_len floats (or null), in output units
  RequantOptions opt;
  DType out_dtype = DType::kS8;    // requant: out is int8_t or uint8_t [m*n]; qmin/qmax must fit it
};

class PackedWeights;  // opaque: original (s8-mapped) weights plus per-ISA panels built on first use

// Packs weights [n][k] once (int8 container or ONNX int4/int2 rows). Zero points are per tensor or per
// channel as in intq::Weights.
Status pack_weights(const Weights& w, size_t n, size_t k, std::shared_ptr<PackedWeights>* out);
size_t packed_n(const PackedWeights& p);
size_t packed_k(const PackedWeights& p);

// threads: 0 = the pool default (set_default_threads), otherwise that many (capped at 64).
Status gemm(const PackedWeights& w, size_t m, const Operand& a, int32_t a_zp, const int32_t* bias, size_t bias_len,
            const Epilogue& ep, void* out, size_t out_len, int threads);

// Convolution weights w[oc][c/groups][kh][kw], packed per group with K reordered to (ky, kx, c) so the
// im2col rows are contiguous copies of an NHWC image.
class PackedConv;
Status pack_conv_weights(const ConvShape& s, const Weights& w, std::shared_ptr<PackedConv>* out);
Status conv(const PackedConv& w, const ConvShape& s, const Operand& x, int32_t x_zp, const int32_t* bias,
            size_t bias_len, const Epilogue& ep, void* out, size_t out_len, int threads);

// Name of the kernel the next call would use (honours the ISA cap), e.g. "s8_gemm_6x64_avx512vnni".
const char* gemm_kernel_name();
// All kernels built into this binary with whether this CPU (and the cap) can run them.
std::vector<std::pair<std::string, bool>> gemm_kernels();

void set_default_threads(int n);
int default_threads();

// ---- int4 / int2 batch-1 GEMV (weights dominate): y[n] = sum_k (x - zx)(w - zw) + bias, then the
// epilogue. Weights stay in the ONNX packed rows (bits 4 or 2) or an int8 container; the kernel unpacks
// in registers, so the memory traffic is bits/8 of the int8 GEMV.
class PackedGemv;
Status pack_gemv_weights(const Weights& w, size_t n, size_t k, std::shared_ptr<PackedGemv>* out);
Status gemv(const PackedGemv& w, const Operand& x, int32_t x_zp, const int32_t* bias, size_t bias_len,
            const Epilogue& ep, void* out, size_t out_len, int threads);
const char* gemv_kernel_name(int bits);

}  // namespace qrb::intq::fast
