// Integer arithmetic reference kernels: every deployed requantization variant, bit-exact.
// Spec: ../shared/INTEGER.md (§0 primitives, §a variants, §b packing, §e vectors); user docs: docs/integer.md.
//
// Layers (all scalar, obviously-correct reference twins; fast kernels are held against these):
//   primitives   srdhm / rdbpot / rhu_shift / quantize_multiplier (gemmlowp & TFLite definitions)
//   multipliers  form_multiplier: how each stack turns a real M (or sx, sw[c], sy) into its own multiplier
//   requant      requant_one / requantize: int32 accumulator -> output code, per variant
//   gemm / conv  int32 accumulators from int8 containers (s8 or u8, zero points, per-channel weights,
//                int32 bias), optional accumulator hazards (A72 int16 pair wrap, VPMADDUBSW saturation);
//                the same loops read packed int4 / int2 weights (lowbit) with identical results
//   pack         ONNX INT4/UINT4/INT2/UINT2 layout, low bits first, rows padded to a multiple of 8 along K
//   eltwise      quantize / dequantize, add, global average pooling / MEAN, average pooling
//
// Layouts: GEMM a[m][k], weights b[n][k] (output channel major, contiguous along K: the packing axis),
// out[m][n]. Conv is NCHW: x[n][c][h][w], w[oc][c/groups][kh][kw] (so each output channel's K is contiguous),
// out[n][oc][oh][ow]; padded taps read the activation zero point.
// Every entry point validates its arguments and returns a Status naming the argument; nothing here aborts.
// Test: ctest -R intq (native/tests/test_intq_*.cc); oracle: test/parity/ort-intq.test.ts (onnxruntime-node).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "qrb/status.h"

namespace qrb::intq {

// ---- variants (INTEGER.md §a) ----------------------------------------------------------------------
enum class Variant : int {
  kTfliteDouble = 0,  // gemmlowp SRDHM then RDBPOT (RHU then RHAZ), M in double, QuantizeMultiplier
  kTfliteSingle,      // (acc*q + 2^(30-e)) >> (31-e) in int64, one RHU rounding, e clamped to <= 30
  kXnnpackFp32,       // fl32(fl32(acc)*M32), clamp in float, RNE, +zy; M32 = fl32(fl32(sx*sw)/sy)
  kXnnpackRndnu,      // mult = 24-bit mantissa of M32, sh = 150 - biased exponent; RHU shift; clamp; +zy
  kOrtMlas,           // same arithmetic as xnnpack-fp32 (MLAS requantize)
  kOnnxRef,           // float64: rint(double(acc)*double(M32) + zy), saturate
  kTrtGpu,            // symmetric only: v = fl32(fl32(fl32(acc)*alpha) + beta), RNE, saturate
  kFp16Fallback,      // no integer requantization: the fp16 value of acc*M (in units of sy) plus zy
  kCount
};
// Depthwise output rounding (TFLite DepthwiseConvOutputRounding::kUpward) is an option of tflite-double:
// the final RDBPOT becomes a round-half-up shift. See RequantOptions.

const char* variant_name(Variant v);
bool variant_from_name(const std::string& name, Variant* out);

// ---- primitives (INTEGER.md §0) --------------------------------------------------------------------
int32_t srdhm(int32_t a, int32_t b);           // RHU(a*b / 2^31); MIN*MIN -> MAX
int32_t rdbpot(int32_t x, int e);              // RHAZ(x / 2^e), e in [0, 31]
int32_t rdbpot_upward(int32_t x, int e);       // RHU(x / 2^e), e in [0, 31] (depthwise kUpward)
int64_t rhu_shift64(int64_t v, int sh);        // RHU(v / 2^sh), sh in [1, 62]
int32_t int32_shl_wrap(int32_t x, int sh);     // x * 2^sh in two's complement (no C UB), sh in [0, 31]

struct QuantizedMultiplier {
  int32_t q = 0;      // in [2^30, 2^31) or 0
  int32_t shift = 0;  // positive means left shift
};
// TFLite QuantizeMultiplier: frexp, q = RHAZ(f*2^31), renormalise q == 2^31, flush e < -31 to (0,0);
// single_rounding additionally clamps e > 30 to (2^31-1, 30). m must be finite and >= 0.
QuantizedMultiplier quantize_multiplier(double m, bool single_rounding);

// ---- multipliers -----------------------------------------------------------------------------------
// The multiplier of one output channel, as the variant's stack holds it.
struct Multiplier {
  double m64 = 0;     // the real multiplier in double (tflite-*)
  float m32 = 0;      // the real multiplier in float32 (xnnpack-*, ort-mlas, onnx-ref, trt-gpu, fp16)
  QuantizedMultiplier qm;   // tflite-* fixed point
  int32_t rndnu_mult = 0;   // xnnpack-rndnu: 24-bit mantissa with the implicit 1 (0 when M32 == 0)
  int32_t rndnu_shift = 0;  // xnnpack-rndnu: 150 - biased exponent (right shift)
};
// Largest accepted real multiplier (exclusive): XNNPACK refuses M >= 256.
constexpr double kMaxMultiplier = 256.0;
// From a real M given in double (the CLI): double stacks keep it, float32 stacks round it once to float.
Status form_multiplier(Variant v, double m, Multiplier* out);
// From scales, in the stack's own precision and order: tflite-* double(sx)*double(sw)/double(sy);
// the float32 stacks fl32(fl32(sx*sw)/sy).
Status form_multiplier_scales(Variant v, float sx, float sw, float sy, Multiplier* out);

// ---- requantization --------------------------------------------------------------------------------
struct RequantOptions {
  int32_t zy = 0;             // output zero point
  int32_t qmin = -128;        // clamp (activation fusion: ReLU is qmin = zy)
  int32_t qmax = 127;
  bool depthwise_upward = false;  // tflite-double only: final shift rounds half up (TFLite dw kUpward)
};
// One accumulator. For trt-gpu `beta` is the float32 bias term in output units (the int32 acc then
// excludes the bias); other variants ignore it. Integer variants only (fp16-fallback: fp16_output).
int32_t requant_one(Variant v, const Multiplier& m, int32_t acc, const RequantOptions& o, float beta = 0.0f);
// fp16-fallback: half(fl32(acc) * M32) + zy as a float (no rounding to an integer, no clamp).
float fp16_output(const Multiplier& m, int32_t acc, int32_t zy);
// IEEE binary16 round-to-nearest-even of a float, returned as float (software, platform independent).
float round_to_half(float x);

// acc[count] with per-channel multipliers: channel of element i = (i / inner) % channels
// (GEMM out[m][n]: inner 1; NCHW conv: inner oh*ow). beta: null or `channels` floats (trt-gpu).
Status requantize(Variant v, const int32_t* acc, size_t count, const Multiplier* mult, size_t channels,
                  size_t inner, const float* beta, const RequantOptions& o, int32_t* out);
// fp16-fallback over an array.
Status requantize_fp16(const int32_t* acc, size_t count, const Multiplier* mult, size_t channels, size_t inner,
                       int32_t zy, float* out);

// ---- GEMM / conv -----------------------------------------------------------------------------------
enum class DType : int { kS8 = 0, kU8 = 1 };
enum class Hazard : int {
  kNone = 0,          // exact int32 (two's complement wrap on overflow, as the hardware does)
  kA72Int16Pair = 1,  // XNNPACK aarch64 neon-mlal c8: x[k]w[k] + x[k+8]w[k+8] summed in int16 (wraps) per
                      // 16-wide K chunk; a trailing 8-chunk is unpaired. s8 x s8 only
  kMaddubsSat = 2,    // x86 VPMADDUBSW: u8 x s8, adjacent K pairs summed with int16 saturation. u8 x s8 only
};

struct Operand {
  const void* data = nullptr;  // bytes (int8_t or uint8_t per dtype)
  size_t len = 0;              // elements
  DType dtype = DType::kS8;
};

// Weights: either an int8 container (bits = 8) or packed rows (bits 4 or 2, ONNX layout, row stride
// packed_row_bytes(k, bits)); `is_signed` picks INT4/INT2 vs UINT4/UINT2 for packed data.
struct Weights {
  const void* data = nullptr;
  size_t len = 0;          // elements (bits 8) or bytes (packed)
  DType dtype = DType::kS8;
  int bits = 8;            // 8, 4 or 2
  const int32_t* zp = nullptr;  // 1 (per tensor) or n (per channel) zero points; null = 0
  size_t zp_len = 0;
};

struct GemmShape {
  size_t m = 0, n = 0, k = 0;
};
Status gemm_acc(const GemmShape& s, const Operand& a, int32_t a_zp, const Weights& b, const int32_t* bias,
                size_t bias_len, Hazard hz, int32_t* out, size_t out_len);

struct ConvShape {
  size_t n = 1, c = 0, h = 0, w = 0;   // input NCHW
  size_t oc = 0, kh = 1, kw = 1, groups = 1;
  size_t stride_h = 1, stride_w = 1, dil_h = 1, dil_w = 1;
  size_t pad_t = 0, pad_l = 0, pad_b = 0, pad_r = 0;
};
// Output spatial size; a Status error when the kernel does not fit.
Status conv_out_size(const ConvShape& s, size_t* oh, size_t* ow);
Status conv_acc(const ConvShape& s, const Operand& x, int32_t x_zp, const Weights& w, const int32_t* bias,
                size_t bias_len, Hazard hz, int32_t* out, size_t out_len);

// ---- int4 / int2 packing (INTEGER.md §b) ------------------------------------------------------------
// Flat ONNX tensor packing: ceil(count*bits/8) bytes, element i at bit (i*bits) % 8 of byte i*bits/8.
size_t packed_bytes(size_t count, int bits);
// Row packing: K padded up to a multiple of 8 so every row starts on a byte.
size_t packed_row_bytes(size_t k, int bits);
// values: int8 holding in-range values ([-8,7] / [0,15] / [-2,1] / [0,3]); out-of-range is an error.
Status pack(const int8_t* values, size_t count, int bits, bool is_signed, uint8_t* out, size_t out_len);
Status unpack(const uint8_t* packed, size_t packed_len, size_t count, int bits, bool is_signed, int8_t* out);
Status pack_rows(const int8_t* values, size_t rows, size_t k, int bits, bool is_signed, uint8_t* out,
                 size_t out_len);
Status unpack_rows(const uint8_t* packed, size_t packed_len, size_t rows, size_t k, int bits, bool is_signed,
                   int8_t* out);

// ---- element-wise and pooling -------------------------------------------------------------------------
enum class QuantizeMode : int {
  kRneDivide = 0,      // ONNX / ORT / TensorRT: sat(RNE(x / s) + z), float32 divide
  kRhazDivide = 1,     // TFLite reference Quantize: TfLiteRound(x / s) (half away from zero)
  kRneReciprocal = 2,  // XNNPACK convert: RNE(x * fl32(1/s))
};
QuantizeMode quantize_mode_of(Variant v);
// NaN maps to qmin (MLAS max/min order). s must be finite and > 0.
Status quantize(QuantizeMode mode, const float* x, size_t count, float s, int32_t z, int32_t qmin, int32_t qmax,
                int32_t* out);
// fl32(fl32(q - z) * s) (ONNX DequantizeLinear).
Status dequantize(const int32_t* q, size_t count, float s, int32_t z, float* out);

struct AddParams {
  float sa = 1, sb = 1, sy = 1;
  int32_t za = 0, zb = 0, zy = 0;
  int32_t qmin = -128, qmax = 127;
};
// Element-wise quantized add, a and b of equal length (values already widened to int32).
//   ort-mlas:    MLAS QLinearAdd (AVX2): ra = sa/sy, rb = sb/sy (float32), fixed part in float32, two FMAs
//   tflite-*:    TFLite ADD: left shift 20, input multipliers sa/(2max) and sb/(2max), output multiplier
//                2max/(2^20 sy) (double), each via QuantizeMultiplier and the variant's rounding
//   xnnpack-*:   XNNPACK vadd: multipliers RNE(fl32(s/sy) * 2^shift), shift = 20 - exponent of the larger,
//                one round-half-up arithmetic shift
//   onnx-ref:    float definition y = RNE((sa(a-za) + sb(b-zb))/sy) + zy in float64
// trt-gpu, fp16-fallback: error.
Status add(Variant v, const int32_t* a, const int32_t* b, size_t count, const AddParams& p, int32_t* out);

struct PoolParams {
  float sx = 1, sy = 1;
  int32_t zx = 0, zy = 0;
  int32_t qmin = -128, qmax = 127;
};
// Global average pooling over `image` elements per channel (x[channels][image], NCHW per image).
//   ort-mlas / xnnpack-fp32: acc = sum - zx*N; fl32(acc) * fl32(sx / fl32(sy * N)), float clamp, RNE
//   tflite-*: MEAN: acc = sum - zx*N requantized with M = double(sx) / (double(sy) * N) (variant rounding)
//   onnx-ref: rint(float64 mean * sx / sy) + zy
Status global_avg_pool(Variant v, const int32_t* x, size_t channels, size_t image, const PoolParams& p,
                       int32_t* out);
// TFLite reference AveragePool (int8, same scale in and out): per window sum / count with rounding half
// away from zero, count = in-bounds taps; x[n][c][h][w].
Status avg_pool_tflite(const int32_t* x, size_t n, size_t c, size_t h, size_t w, size_t kh, size_t kw,
                       size_t stride_h, size_t stride_w, size_t pad_t, size_t pad_l, size_t pad_b, size_t pad_r,
                       int32_t qmin, int32_t qmax, int32_t* out, size_t out_len);

}  // namespace qrb::intq
