// Requantization reference: gemmlowp/TFLite primitives, per-stack multiplier formation and the eight
// variants of INTEGER.md §a (tflite-double, tflite-single, xnnpack-fp32, xnnpack-rndnu, ort-mlas, onnx-ref,
// trt-gpu, fp16-fallback). See qrb/intq.h for the contract.
//
// Why the code looks the way it does:
// - Every shift amount is bounded (<= 31 for int32, <= 62 for int64) so no C shift UB exists; int32
//   wrap-around (TFLite's `x * (1 << left_shift)`, casts of int64 results) is emulated through uint32.
// - Float steps are written one IEEE operation per statement and the file is compiled with
//   -ffp-contract=off, so fl32(fl32(acc) * M) really is two roundings, as in the deployed kernels.
// - RNE comes from std::nearbyint in the default rounding mode; RHAZ from std::round.
// Test: ctest -R intq_requant (vectors of INTEGER.md §e, random cases against int64/float64 twins).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "qrb/intq.h"

namespace qrb::intq {

static const char* const kVariantNames[] = {"tflite-double", "tflite-single", "xnnpack-fp32", "xnnpack-rndnu",
                                            "ort-mlas",      "onnx-ref",      "trt-gpu",      "fp16-fallback"};
static_assert(sizeof(kVariantNames) / sizeof(kVariantNames[0]) == size_t(Variant::kCount),
              "one name per variant, in enum order (ts/native/intq.ts VARIANTS mirrors this table)");

const char* variant_name(Variant v) {
  int i = int(v);
  return (i >= 0 && i < int(Variant::kCount)) ? kVariantNames[i] : "unknown";
}

bool variant_from_name(const std::string& name, Variant* out) {
  for (int i = 0; i < int(Variant::kCount); ++i)
    if (name == kVariantNames[i]) {
      *out = Variant(i);
      return true;
    }
  return false;
}

static inline int32_t wrap32(int64_t v) { return int32_t(uint32_t(uint64_t(v))); }
static inline int32_t clamp32(int64_t v, int32_t lo, int32_t hi) {
  return int32_t(std::min<int64_t>(std::max<int64_t>(v, lo), hi));
}
static inline uint32_t f32_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
static inline float f32_from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// ---- primitives ------------------------------------------------------------------------------------
int32_t srdhm(int32_t a, int32_t b) {
  if (a == std::numeric_limits<int32_t>::min() && b == a) return std::numeric_limits<int32_t>::max();
  const int64_t ab = int64_t(a) * int64_t(b);
  // RHU(ab / 2^31): floor((ab + 2^30) / 2^31); |ab| <= 2^62 so the sum cannot overflow.
  return int32_t((ab + (int64_t(1) << 30)) >> 31);
}

int32_t rdbpot(int32_t x, int e) {
  if (e <= 0) return x;
  const int64_t mask = (int64_t(1) << e) - 1;
  const int64_t rem = int64_t(x) & mask;
  const int64_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return int32_t((int64_t(x) >> e) + (rem > threshold ? 1 : 0));
}

int32_t rdbpot_upward(int32_t x, int e) {
  if (e <= 0) return x;
  return int32_t((int64_t(x) + (int64_t(1) << (e - 1))) >> e);
}

int64_t rhu_shift64(int64_t v, int sh) {
  // v + 2^(sh-1) may not overflow: callers keep |v| < 2^62.
  return (v + (int64_t(1) << (sh - 1))) >> sh;
}

int32_t int32_shl_wrap(int32_t x, int sh) { return int32_t(uint32_t(x) << sh); }

QuantizedMultiplier quantize_multiplier(double m, bool single_rounding) {
  QuantizedMultiplier r;
  if (!(m > 0) || !std::isfinite(m)) return r;
  int e = 0;
  const double f = std::frexp(m, &e);  // m = f * 2^e, f in [0.5, 1)
  int64_t q = int64_t(std::round(f * double(int64_t(1) << 31)));  // exact product; std::round is RHAZ
  if (q == (int64_t(1) << 31)) {
    q /= 2;
    ++e;
  }
  if (e < -31) return r;  // flush to (0, 0)
  if (single_rounding && e > 30) {
    r.q = std::numeric_limits<int32_t>::max();
    r.shift = 30;
    return r;
  }
  r.q = int32_t(q);
  r.shift = e;
  return r;
}

// ---- multipliers -----------------------------------------------------------------------------------
static bool is_double_stack(Variant v) { return v == Variant::kTfliteDouble || v == Variant::kTfliteSingle; }

static void fill_fixed_point(Variant v, Multiplier* m) {
  m->qm = quantize_multiplier(m->m64, v == Variant::kTfliteSingle);
  if (m->m32 == 0.0f) {
    m->rndnu_mult = 0;
    m->rndnu_shift = 24;
    return;
  }
  const uint32_t bits = f32_bits(m->m32);
  m->rndnu_mult = int32_t((bits & 0x007FFFFFu) | 0x00800000u);
  // 150 - biased exponent; subnormal M32 (exponent field 0) is read the same way XNNPACK reads it.
  m->rndnu_shift = 150 - int32_t(bits >> 23);
}

static Status check_variant(Variant v, const char* where) {
  if (int(v) < 0 || int(v) >= int(Variant::kCount))
    return Status::Error(std::string(where) + ": unknown variant " + std::to_string(int(v)));
  return Status::Ok();
}

Status form_multiplier(Variant v, double m, Multiplier* out) {
  if (Status s = check_variant(v, "form_multiplier"); !s.ok) return s;
  if (!std::isfinite(m) || m < 0 || m >= kMaxMultiplier)
    return Status::Error("multiplier: expected a finite real multiplier in [0, 256) but received " +
                         std::to_string(m));
  Multiplier r;
  if (is_double_stack(v)) {
    r.m64 = m;
    r.m32 = float(m);
  } else {
    r.m32 = float(m);  // the float32 stacks hold M rounded once (RNE) to float
    if (double(r.m32) >= kMaxMultiplier)
      return Status::Error("multiplier: " + std::to_string(m) + " rounds to 256 in float32; expected < 256");
    r.m64 = double(r.m32);
  }
  fill_fixed_point(v, &r);
  *out = r;
  return Status::Ok();
}

Status form_multiplier_scales(Variant v, float sx, float sw, float sy, Multiplier* out) {
  if (Status s = check_variant(v, "form_multiplier_scales"); !s.ok) return s;
  if (!std::isfinite(sx) || !(sx > 0)) return Status::Error("scales: expected finite sx > 0 but received " + std::to_string(sx));
  if (!std::isfinite(sy) || !(sy > 0)) return Status::Error("scales: expected finite sy > 0 but received " + std::to_string(sy));
  if (!std::isfinite(sw) || sw < 0) return Status::Error("scales: expected finite sw >= 0 but received " + std::to_string(sw));
  Multiplier r;
  if (is_double_stack(v)) {
    r.m64 = double(sx) * double(sw) / double(sy);
    r.m32 = float(r.m64);
  } else {
    const float p = sx * sw;
    r.m32 = p / sy;
    r.m64 = double(r.m32);
  }
  if (!std::isfinite(r.m64) || r.m64 >= kMaxMultiplier)
    return Status::Error("scales: effective multiplier sx*sw/sy = " + std::to_string(r.m64) +
                         " is out of range; expected < 256");
  fill_fixed_point(v, &r);
  *out = r;
  return Status::Ok();
}

// ---- requantization --------------------------------------------------------------------------------
static int32_t fp32_requant(float m32, int32_t acc, const RequantOptions& o) {
  const float prod = float(acc) * m32;
  const float lo = float(int64_t(o.qmin) - o.zy);
  const float hi = float(int64_t(o.qmax) - o.zy);
  const float v = std::min(std::max(prod, lo), hi);
  return clamp32(int64_t(std::nearbyint(v)) + o.zy, o.qmin, o.qmax);
}

int32_t requant_one(Variant v, const Multiplier& m, int32_t acc, const RequantOptions& o, float beta) {
  switch (v) {
    case Variant::kTfliteDouble: {
      const int left = m.qm.shift > 0 ? m.qm.shift : 0;
      const int right = m.qm.shift > 0 ? 0 : -m.qm.shift;
      const int32_t hi = srdhm(int32_shl_wrap(acc, left), m.qm.q);
      const int32_t r = o.depthwise_upward ? rdbpot_upward(hi, right) : rdbpot(hi, right);
      return clamp32(int64_t(r) + o.zy, o.qmin, o.qmax);
    }
    case Variant::kTfliteSingle: {
      const int total = 31 - m.qm.shift;  // in [1, 62]
      const int64_t r = rhu_shift64(int64_t(acc) * int64_t(m.qm.q), total);
      return clamp32(int64_t(wrap32(r)) + o.zy, o.qmin, o.qmax);  // TFLite casts the int64 result to int32
    }
    case Variant::kXnnpackFp32:
    case Variant::kOrtMlas:
      return fp32_requant(m.m32, acc, o);
    case Variant::kXnnpackRndnu: {
      const int sh = std::min(m.rndnu_shift, 62);  // |acc * mult| < 2^55: any shift >= 57 gives 0 anyway
      const int64_t r = sh >= 1 ? rhu_shift64(int64_t(acc) * int64_t(m.rndnu_mult), sh)
                                : int64_t(acc) * int64_t(m.rndnu_mult);
      const int64_t c = std::min<int64_t>(std::max<int64_t>(wrap32(r), int64_t(o.qmin) - o.zy), int64_t(o.qmax) - o.zy);
      return int32_t(c + o.zy);
    }
    case Variant::kOnnxRef: {
      const double d = double(acc) * double(m.m32) + double(o.zy);
      const double r = std::nearbyint(d);
      return int32_t(std::min(std::max(r, double(o.qmin)), double(o.qmax)));
    }
    case Variant::kTrtGpu: {
      const float p = float(acc) * m.m32;
      const float s = p + beta;
      const double r = std::nearbyint(double(s));
      return int32_t(std::min(std::max(r, double(o.qmin)), double(o.qmax)));
    }
    default:
      return o.zy;
  }
}

float round_to_half(float x) {
  const uint32_t bits = f32_bits(x);
  const uint32_t sign = bits & 0x80000000u;
  uint32_t a = bits & 0x7FFFFFFFu;
  if (a >= 0x7F800000u) return x;                                // inf / NaN
  if (a >= 0x477FF000u) return f32_from_bits(sign | 0x7F800000u);  // >= 65520 rounds to inf
  if (a < 0x38800000u) {                                         // below 2^-14: half subnormal, step 2^-24
    const float scaled = f32_from_bits(a) * 16777216.0f;         // exact (power of two)
    const float n = std::nearbyint(scaled);
    return f32_from_bits(sign | f32_bits(n * (1.0f / 16777216.0f)));
  }
  a += 0x0FFFu + ((a >> 13) & 1u);  // RNE on the 13 dropped mantissa bits (a carry bumps the exponent)
  a &= ~0x1FFFu;
  return f32_from_bits(sign | a);
}

float fp16_output(const Multiplier& m, int32_t acc, int32_t zy) {
  const float p = float(acc) * m.m32;
  return round_to_half(p) + float(zy);
}

static Status check_requant_args(size_t count, const Multiplier* mult, size_t channels, size_t inner,
                                 const void* acc, const void* out) {
  if (channels == 0) return Status::Error("requantize(channels): expected >= 1 but received 0");
  if (inner == 0) return Status::Error("requantize(inner): expected >= 1 but received 0");
  if (!mult) return Status::Error("requantize(multipliers): null");
  if (count > 0 && (!acc || !out)) return Status::Error("requantize: null buffer");
  return Status::Ok();
}

Status requantize(Variant v, const int32_t* acc, size_t count, const Multiplier* mult, size_t channels,
                  size_t inner, const float* beta, const RequantOptions& o, int32_t* out) {
  if (Status s = check_variant(v, "requantize"); !s.ok) return s;
  if (v == Variant::kFp16Fallback)
    return Status::Error("requantize(variant): fp16-fallback has no integer requantization; use requantizeFp16");
  if (Status s = check_requant_args(count, mult, channels, inner, acc, out); !s.ok) return s;
  if (o.qmin > o.qmax)
    return Status::Error("requantize(qmin, qmax): expected qmin <= qmax but received " + std::to_string(o.qmin) +
                         " > " + std::to_string(o.qmax));
  if (o.zy < o.qmin || o.zy > o.qmax)
    return Status::Error("requantize(zeroPoint): expected a value in [qmin, qmax] but received " + std::to_string(o.zy));
  if (v == Variant::kTrtGpu && o.zy != 0)
    return Status::Error("requantize(zeroPoint): trt-gpu is symmetric only; expected 0 but received " +
                         std::to_string(o.zy));
  if (o.depthwise_upward && v != Variant::kTfliteDouble)
    return Status::Error("requantize(depthwiseUpward): only tflite-double has a depthwise output rounding option");
  for (size_t i = 0; i < count; ++i) {
    const size_t c = (i / inner) % channels;
    out[i] = requant_one(v, mult[c], acc[i], o, (v == Variant::kTrtGpu && beta) ? beta[c] : 0.0f);
  }
  return Status::Ok();
}

Status requantize_fp16(const int32_t* acc, size_t count, const Multiplier* mult, size_t channels, size_t inner,
                       int32_t zy, float* out) {
  if (Status s = check_requant_args(count, mult, channels, inner, acc, out); !s.ok) return s;
  for (size_t i = 0; i < count; ++i) out[i] = fp16_output(mult[(i / inner) % channels], acc[i], zy);
  return Status::Ok();
}

// ---- quantize / dequantize ---------------------------------------------------------------------------
QuantizeMode quantize_mode_of(Variant v) {
  switch (v) {
    case Variant::kTfliteDouble:
    case Variant::kTfliteSingle: return QuantizeMode::kRhazDivide;
    case Variant::kXnnpackFp32:
    case Variant::kXnnpackRndnu: return QuantizeMode::kRneReciprocal;
    default: return QuantizeMode::kRneDivide;
  }
}

Status quantize(QuantizeMode mode, const float* x, size_t count, float s, int32_t z, int32_t qmin, int32_t qmax,
                int32_t* out) {
  if (int(mode) < 0 || int(mode) > 2) return Status::Error("quantize(mode): expected 0, 1 or 2 but received " + std::to_string(int(mode)));
  if (!std::isfinite(s) || !(s > 0)) return Status::Error("quantize(scale): expected a finite scale > 0 but received " + std::to_string(s));
  if (qmin > qmax) return Status::Error("quantize(qmin, qmax): expected qmin <= qmax");
  if (z < qmin || z > qmax) return Status::Error("quantize(zeroPoint): expected a value in [qmin, qmax] but received " + std::to_string(z));
  if (count > 0 && (!x || !out)) return Status::Error("quantize: null buffer");
  const float recip = 1.0f / s;
  for (size_t i = 0; i < count; ++i) {
    float v = mode == QuantizeMode::kRneReciprocal ? x[i] * recip : x[i] / s;
    if (std::isnan(v)) {
      out[i] = qmin;
      continue;
    }
    // Clamp in double before rounding: bounds are integers, so clamping first equals saturating after.
    double d = std::min(std::max(double(v), double(int64_t(qmin) - z)), double(int64_t(qmax) - z));
    d = mode == QuantizeMode::kRhazDivide ? std::round(d) : std::nearbyint(d);
    out[i] = clamp32(int64_t(d) + z, qmin, qmax);
  }
  return Status::Ok();
}

Status dequantize(const int32_t* q, size_t count, float s, int32_t z, float* out) {
  if (!std::isfinite(s)) return Status::Error("dequantize(scale): expected a finite scale but received " + std::to_string(s));
  if (count > 0 && (!q || !out)) return Status::Error("dequantize: null buffer");
  for (size_t i = 0; i < count; ++i) {
    const float d = float(int64_t(q[i]) - z);
    out[i] = d * s;
  }
  return Status::Ok();
}

}  // namespace qrb::intq
