// Integer GEMM and convolution reference: int32 accumulators from int8 containers (s8 / u8 with zero
// points, per-tensor or per-channel weight zero points, int32 bias) and from packed int4 / int2 weights
// ("lowbit": the same loops read the ONNX-packed rows directly, so lowbit == int8-container exactly).
//
// Variants (qrb/intq.h Hazard):
//   kNone          exact sum of (x - zx)(w - zw) plus bias, two's-complement wrap on int32 overflow
//   kA72Int16Pair  XNNPACK qs8 c8 aarch64 neon-mlal (Pi 4): SMULL + SMLAL add x[k]w[k] + x[k+8]w[k+8] in
//                  int16 (wraps) per 16-wide K chunk, SADALP widens exactly; a trailing 8-chunk is a lone
//                  SMULL. Raw products use raw int8 codes; zero points enter through the packed bias.
//   kMaddubsSat    x86 VPMADDUBSW (AVX2/AVX-512BW without VNNI): u8 x s8 adjacent K pairs summed with int16
//                  saturation, then VPMADDWD widens exactly. K padded with zeros.
// Layouts: GEMM a[m][k], b[n][k], out[m][n]; conv NCHW x, w[oc][c/g][kh][kw], out[n][oc][oh][ow]; padded
// taps read x_zp (so they add nothing in the exact variant). Weight row c is one output channel, K
// contiguous: exactly the INTEGER.md §b packing axis.
// Test: ctest -R intq_gemm (vs an independent int64 triple loop, lowbit vs int8 container, hazards vs
// §e vector 9); ORT oracle: test/parity/ort-intq.test.ts (QLinearMatMul/Conv, MatMulInteger, ConvInteger).
#include <algorithm>
#include <limits>
#include <string>
#include <vector>

#include "qrb/intq.h"

namespace qrb::intq {

namespace {

bool mul_ok(size_t a, size_t b, size_t* r) {
  if (a != 0 && b > std::numeric_limits<size_t>::max() / a) return false;
  *r = a * b;
  return true;
}

// Reads one raw code of a row-major operand.
struct ActReader {
  const void* data;
  DType dtype;
  int32_t at(size_t i) const {
    return dtype == DType::kS8 ? int32_t(static_cast<const int8_t*>(data)[i]) : int32_t(static_cast<const uint8_t*>(data)[i]);
  }
};

// Reads weight (row, kk) from an int8 container or packed rows.
struct WeightReader {
  const void* data;
  DType dtype;
  int bits;
  size_t k;
  size_t row_bytes;  // packed only
  bool is_signed;
  int32_t at(size_t row, size_t kk) const {
    if (bits == 8) {
      const size_t i = row * k + kk;
      return dtype == DType::kS8 ? int32_t(static_cast<const int8_t*>(data)[i]) : int32_t(static_cast<const uint8_t*>(data)[i]);
    }
    const uint8_t* p = static_cast<const uint8_t*>(data) + row * row_bytes;
    const size_t bit = kk * size_t(bits);
    const uint32_t raw = (uint32_t(p[bit / 8]) >> (bit % 8)) & ((1u << bits) - 1u);
    if (!is_signed) return int32_t(raw);
    const uint32_t sign = 1u << (bits - 1);
    return int32_t(raw ^ sign) - int32_t(sign);
  }
};

int16_t wrap16(int32_t v) { return int16_t(uint16_t(uint32_t(v))); }
int32_t sat16(int32_t v) { return std::min(std::max(v, -32768), 32767); }

// One output: acc = bias + sum_k (x_k - zx)(w_k - zw), with the hazard's raw-product arithmetic.
template <class GetX, class GetW>
int32_t dot(size_t k, GetX x, GetW w, int32_t zx, int32_t zw, int32_t bias, Hazard hz) {
  uint32_t acc = uint32_t(bias);
  if (hz == Hazard::kNone) {
    for (size_t i = 0; i < k; ++i) acc += uint32_t((x(i) - zx) * (w(i) - zw));
    return int32_t(acc);
  }
  // Deployed kernels sum raw codes and fold the zero points into the bias:
  //   sum (x - zx)(w - zw) = sum xw - zw sum x - zx sum w + k zx zw   (all mod 2^32)
  uint32_t raw = 0, sx = 0, sw = 0;
  for (size_t i = 0; i < k; ++i) {
    sx += uint32_t(x(i));
    sw += uint32_t(w(i));
  }
  auto xv = [&](size_t i) { return i < k ? x(i) : 0; };  // K padded with zero codes
  auto wv = [&](size_t i) { return i < k ? w(i) : 0; };
  if (hz == Hazard::kA72Int16Pair) {
    const size_t kp = (k + 7) / 8 * 8;
    size_t i = 0;
    for (; i + 16 <= kp; i += 16)
      for (size_t j = 0; j < 8; ++j)
        raw += uint32_t(int32_t(wrap16(xv(i + j) * wv(i + j) + xv(i + j + 8) * wv(i + j + 8))));
    for (; i < kp; ++i) raw += uint32_t(xv(i) * wv(i));
  } else {
    const size_t kp = (k + 1) / 2 * 2;
    for (size_t i = 0; i < kp; i += 2) raw += uint32_t(sat16(xv(i) * wv(i) + xv(i + 1) * wv(i + 1)));
  }
  acc += raw - uint32_t(zw) * sx - uint32_t(zx) * sw + uint32_t(k) * uint32_t(zx) * uint32_t(zw);
  return int32_t(acc);
}

Status check_zp(int32_t zp, DType t, const std::string& where) {
  const int32_t lo = t == DType::kS8 ? -128 : 0, hi = t == DType::kS8 ? 127 : 255;
  if (zp < lo || zp > hi)
    return Status::Error(where + ": expected a zero point in [" + std::to_string(lo) + ", " + std::to_string(hi) +
                         "] but received " + std::to_string(zp));
  return Status::Ok();
}

// Checks the weights against `rows` x `k` and returns a reader; per-channel zero points are range-checked.
Status make_weights(const Weights& w, size_t rows, size_t k, const std::string& fn, WeightReader* r) {
  if (!w.data) return Status::Error(fn + "(weights): null");
  if (w.dtype != DType::kS8 && w.dtype != DType::kU8) return Status::Error(fn + "(weights.dtype): unknown dtype");
  size_t need = 0;
  if (w.bits == 8) {
    if (!mul_ok(rows, k, &need)) return Status::Error(fn + "(weights): size overflows");
    if (w.len != need)
      return Status::Error(fn + "(weights): expected " + std::to_string(need) + " elements but received " + std::to_string(w.len));
  } else if (w.bits == 4 || w.bits == 2) {
    if (!mul_ok(rows, packed_row_bytes(k, w.bits), &need)) return Status::Error(fn + "(weights): size overflows");
    if (w.len != need)
      return Status::Error(fn + "(weights): expected " + std::to_string(need) + " packed bytes (" + std::to_string(rows) +
                           " rows of " + std::to_string(packed_row_bytes(k, w.bits)) + ") but received " + std::to_string(w.len));
  } else {
    return Status::Error(fn + "(weights.bits): expected 8, 4 or 2 but received " + std::to_string(w.bits));
  }
  if (w.zp && w.zp_len != 1 && w.zp_len != rows)
    return Status::Error(fn + "(weights.zeroPoint): expected 1 or " + std::to_string(rows) + " zero points but received " +
                         std::to_string(w.zp_len));
  const bool is_signed = w.dtype == DType::kS8;
  for (size_t i = 0; w.zp && i < w.zp_len; ++i) {
    int32_t lo = -128, hi = 127;
    if (w.bits == 8 && !is_signed) lo = 0, hi = 255;
    if (w.bits < 8) {
      lo = is_signed ? -(1 << (w.bits - 1)) : 0;
      hi = is_signed ? (1 << (w.bits - 1)) - 1 : (1 << w.bits) - 1;
    }
    if (w.zp[i] < lo || w.zp[i] > hi)
      return Status::Error(fn + "(weights.zeroPoint[" + std::to_string(i) + "]): expected [" + std::to_string(lo) + ", " +
                           std::to_string(hi) + "] but received " + std::to_string(w.zp[i]));
  }
  *r = WeightReader{w.data, w.dtype, w.bits, k, w.bits == 8 ? 0 : packed_row_bytes(k, w.bits), is_signed};
  return Status::Ok();
}

Status check_hazard(Hazard hz, DType xt, const Weights& w, const std::string& fn) {
  if (hz == Hazard::kNone) return Status::Ok();
  const bool w_fits_s8 = w.bits < 8 || w.dtype == DType::kS8;
  if (hz == Hazard::kA72Int16Pair) {
    if (xt != DType::kS8 || !w_fits_s8)
      return Status::Error(fn + "(hazard): a72-int16-pair models s8 x s8 (XNNPACK qs8); expected int8 activations and weights");
    return Status::Ok();
  }
  if (hz == Hazard::kMaddubsSat) {
    if (xt != DType::kU8 || !w_fits_s8)
      return Status::Error(fn + "(hazard): maddubs-sat models u8 x s8 (VPMADDUBSW); expected uint8 activations and int8 weights");
    return Status::Ok();
  }
  return Status::Error(fn + "(hazard): expected 0 (none), 1 (a72-int16-pair) or 2 (maddubs-sat) but received " +
                       std::to_string(int(hz)));
}

}  // namespace

Status gemm_acc(const GemmShape& s, const Operand& a, int32_t a_zp, const Weights& b, const int32_t* bias,
                size_t bias_len, Hazard hz, int32_t* out, size_t out_len) {
  const std::string fn = "gemm";
  if (s.m == 0 || s.n == 0 || s.k == 0)
    return Status::Error(fn + "(shape): expected m, n, k >= 1 but received " + std::to_string(s.m) + "x" +
                         std::to_string(s.n) + "x" + std::to_string(s.k));
  size_t mk = 0, mn = 0;
  if (!mul_ok(s.m, s.k, &mk) || !mul_ok(s.m, s.n, &mn)) return Status::Error(fn + "(shape): size overflows");
  if (!a.data || a.len != mk)
    return Status::Error(fn + "(a): expected " + std::to_string(mk) + " elements but received " + std::to_string(a.len));
  if (a.dtype != DType::kS8 && a.dtype != DType::kU8) return Status::Error(fn + "(a.dtype): unknown dtype");
  if (Status st = check_zp(a_zp, a.dtype, fn + "(aZeroPoint)"); !st.ok) return st;
  WeightReader wr{};
  if (Status st = make_weights(b, s.n, s.k, fn, &wr); !st.ok) return st;
  if (bias && bias_len != s.n)
    return Status::Error(fn + "(bias): expected " + std::to_string(s.n) + " int32 values but received " + std::to_string(bias_len));
  if (Status st = check_hazard(hz, a.dtype, b, fn); !st.ok) return st;
  if (!out || out_len != mn)
    return Status::Error(fn + "(out): expected " + std::to_string(mn) + " int32 values but received " + std::to_string(out_len));
  const ActReader ar{a.data, a.dtype};
  for (size_t i = 0; i < s.m; ++i)
    for (size_t j = 0; j < s.n; ++j) {
      const int32_t zw = b.zp ? b.zp[b.zp_len == 1 ? 0 : j] : 0;
      out[i * s.n + j] = dot(
          s.k, [&](size_t kk) { return ar.at(i * s.k + kk); }, [&](size_t kk) { return wr.at(j, kk); }, a_zp, zw,
          bias ? bias[j] : 0, hz);
    }
  return Status::Ok();
}

Status conv_out_size(const ConvShape& s, size_t* oh, size_t* ow) {
  if (s.kh == 0 || s.kw == 0 || s.stride_h == 0 || s.stride_w == 0 || s.dil_h == 0 || s.dil_w == 0)
    return Status::Error("conv(shape): kernel, stride and dilation must be >= 1");
  const size_t eh = s.dil_h * (s.kh - 1) + 1, ew = s.dil_w * (s.kw - 1) + 1;
  const size_t ph = s.h + s.pad_t + s.pad_b, pw = s.w + s.pad_l + s.pad_r;
  if (s.h == 0 || s.w == 0 || ph < eh || pw < ew)
    return Status::Error("conv(shape): the dilated kernel " + std::to_string(eh) + "x" + std::to_string(ew) +
                         " does not fit the padded input " + std::to_string(ph) + "x" + std::to_string(pw));
  *oh = (ph - eh) / s.stride_h + 1;
  *ow = (pw - ew) / s.stride_w + 1;
  return Status::Ok();
}

Status conv_acc(const ConvShape& s, const Operand& x, int32_t x_zp, const Weights& w, const int32_t* bias,
                size_t bias_len, Hazard hz, int32_t* out, size_t out_len) {
  const std::string fn = "conv";
  if (s.n == 0 || s.c == 0 || s.oc == 0 || s.groups == 0)
    return Status::Error(fn + "(shape): expected n, c, oc, groups >= 1");
  if (s.c % s.groups != 0 || s.oc % s.groups != 0)
    return Status::Error(fn + "(groups): expected c and oc divisible by groups but received c=" + std::to_string(s.c) +
                         ", oc=" + std::to_string(s.oc) + ", groups=" + std::to_string(s.groups));
  const size_t limit = size_t(1) << 40;  // keeps every index product below 2^64
  for (size_t v : {s.n, s.c, s.h, s.w, s.oc, s.kh, s.kw, s.stride_h, s.stride_w, s.dil_h, s.dil_w, s.pad_t, s.pad_l, s.pad_b, s.pad_r})
    if (v > (size_t(1) << 20)) return Status::Error(fn + "(shape): a dimension exceeds 2^20");
  size_t oh = 0, ow = 0;
  if (Status st = conv_out_size(s, &oh, &ow); !st.ok) return st;
  const size_t cg = s.c / s.groups, ocg = s.oc / s.groups;
  size_t xs = 0, k = 0, os = 0;
  if (!mul_ok(s.n * s.c, s.h * s.w, &xs) || !mul_ok(cg, s.kh * s.kw, &k) || !mul_ok(s.n * s.oc, oh * ow, &os) ||
      xs > limit || os > limit || k > limit)
    return Status::Error(fn + "(shape): size overflows");
  if (!x.data || x.len != xs)
    return Status::Error(fn + "(x): expected " + std::to_string(xs) + " elements but received " + std::to_string(x.len));
  if (x.dtype != DType::kS8 && x.dtype != DType::kU8) return Status::Error(fn + "(x.dtype): unknown dtype");
  if (Status st = check_zp(x_zp, x.dtype, fn + "(xZeroPoint)"); !st.ok) return st;
  WeightReader wr{};
  if (Status st = make_weights(w, s.oc, k, fn, &wr); !st.ok) return st;
  if (bias && bias_len != s.oc)
    return Status::Error(fn + "(bias): expected " + std::to_string(s.oc) + " int32 values but received " + std::to_string(bias_len));
  if (Status st = check_hazard(hz, x.dtype, w, fn); !st.ok) return st;
  if (!out || out_len != os)
    return Status::Error(fn + "(out): expected " + std::to_string(os) + " int32 values but received " + std::to_string(out_len));
  const ActReader ar{x.data, x.dtype};
  const size_t khw = s.kh * s.kw;
  for (size_t b = 0; b < s.n; ++b)
    for (size_t oc = 0; oc < s.oc; ++oc) {
      const size_t g = oc / ocg;
      const int32_t zw = w.zp ? w.zp[w.zp_len == 1 ? 0 : oc] : 0;
      for (size_t oy = 0; oy < oh; ++oy)
        for (size_t ox = 0; ox < ow; ++ox) {
          auto xat = [&](size_t kk) -> int32_t {
            const size_t ic = g * cg + kk / khw, ky = (kk % khw) / s.kw, kx = kk % s.kw;
            // iy = oy*stride + ky*dil - pad_t, computed without going negative in size_t
            const size_t iy_p = oy * s.stride_h + ky * s.dil_h, ix_p = ox * s.stride_w + kx * s.dil_w;
            if (iy_p < s.pad_t || ix_p < s.pad_l) return x_zp;
            const size_t iy = iy_p - s.pad_t, ix = ix_p - s.pad_l;
            if (iy >= s.h || ix >= s.w) return x_zp;
            return ar.at(((b * s.c + ic) * s.h + iy) * s.w + ix);
          };
          out[((b * s.oc + oc) * oh + oy) * ow + ox] =
              dot(k, xat, [&](size_t kk) { return wr.at(oc, kk); }, x_zp, zw, bias ? bias[oc] : 0, hz);
        }
    }
  return Status::Ok();
}

}  // namespace qrb::intq
