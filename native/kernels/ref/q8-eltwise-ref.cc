// Quantized element-wise add and pooling reference, per deployed stack (qrb/intq.h AddParams, PoolParams).
//
// add
//   ort-mlas       MLAS QLinearAdd, AVX2 kernel (the one ORT runs on x86 with AVX2/AVX-512):
//                  ra = fl32(sa/sy), rb = fl32(sb/sy), fixed = fl32(zy - fma(ra, za, fl32(rb*zb))),
//                  v = fma(a, ra, fma(b, rb, fixed)) (two fused multiply-adds), RNE, saturate.
//                  A one-element input takes MLAS's scalar-broadcast path: fixed += fl32(a*ra).
//   tflite-double  TFLite ADD (int8): inputs shifted left by 20, scaled by sa/(2 max) and sb/(2 max), summed,
//   tflite-single  scaled by 2 max/(2^20 sy); multipliers from double via QuantizeMultiplier, each product
//                  rounded with the variant's rounding (RDBPOT(SRDHM) or one int64 RHU shift).
//   xnnpack-*      XNNPACK qs8/qu8 vadd (xnn_init_qs8_add_minmax_scalar_params + the scalar kernel): ra, rb =
//                  fl32(sa/sy), fl32(sb/sy); shift = 20 - exponent(max); ma, mb = RNE(r 2^shift);
//                  asr(2^(shift-1) + ma(a-za) + mb(b-zb), shift) + zy, clamp (read from source, no runtime here).
//   onnx-ref       the float definition: rint((sa(a-za) + sb(b-zb))/sy + zy) in float64, saturate.
// global average pool / MEAN
//   ort-mlas       MLAS QLinearGlobalAveragePool (x86): scale = fl32(sx / fl32(sy * N)); acc = sum - zx*N;
//                  fl32(acc)*scale, float clamp to [qmin-zy, qmax-zy], RNE, +zy.
//   tflite-*       MEAN as a requantization of acc = sum - zx*N with M = double(sx)/(double(sy)*N) in the
//                  variant's fixed-point rounding (from the definition; TFLite's own 1/N factoring is not
//                  modelled).
// average pool     TFLite reference AveragePool (int8, same scale in and out): sum / count rounded half away
//                  from zero, count = in-bounds taps.
// Test: ctest -R intq_eltwise; ORT oracle: test/parity/ort-intq.test.ts (QLinearAdd, QLinearGlobalAveragePool).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "qrb/intq.h"

namespace qrb::intq {

static int32_t clamp_i(int64_t v, int32_t lo, int32_t hi) { return int32_t(std::min<int64_t>(std::max<int64_t>(v, lo), hi)); }

static Status check_range(int32_t qmin, int32_t qmax, const char* fn) {
  if (qmin > qmax) return Status::Error(std::string(fn) + "(qmin, qmax): expected qmin <= qmax");
  if (qmin < -32768 || qmax > 65535) return Status::Error(std::string(fn) + "(qmin, qmax): expected an 8- or 16-bit range");
  return Status::Ok();
}

static Status check_scale(float s, const char* fn, const char* name) {
  if (!std::isfinite(s) || !(s > 0))
    return Status::Error(std::string(fn) + "(" + name + "): expected a finite scale > 0 but received " + std::to_string(s));
  return Status::Ok();
}

// TFLite MultiplyByQuantizedMultiplier in the variant's rounding.
static int32_t tflite_mul(Variant v, int32_t x, const QuantizedMultiplier& qm) {
  Multiplier m;
  m.qm = qm;
  RequantOptions o;
  o.zy = 0;
  o.qmin = std::numeric_limits<int32_t>::min();
  o.qmax = std::numeric_limits<int32_t>::max();
  return requant_one(v, m, x, o);
}

Status add(Variant v, const int32_t* a, const int32_t* b, size_t count, const AddParams& p, int32_t* out) {
  if (Status s = check_scale(p.sa, "add", "aScale"); !s.ok) return s;
  if (Status s = check_scale(p.sb, "add", "bScale"); !s.ok) return s;
  if (Status s = check_scale(p.sy, "add", "yScale"); !s.ok) return s;
  if (Status s = check_range(p.qmin, p.qmax, "add"); !s.ok) return s;
  if (count > 0 && (!a || !b || !out)) return Status::Error("add: null buffer");
  switch (v) {
    case Variant::kOrtMlas: {
      const float ra = p.sa / p.sy, rb = p.sb / p.sy;
      const float zb_part = rb * float(p.zb);
      const float zsum = std::fma(ra, float(p.za), zb_part);
      float fixed = float(p.zy) - zsum;
      const bool scalar_a = count == 1;
      if (scalar_a) {
        const float pa = float(a[0]) * ra;
        fixed = fixed + pa;
      }
      for (size_t i = 0; i < count; ++i) {
        float acc = std::fma(float(b[i]), rb, fixed);
        if (!scalar_a) acc = std::fma(float(a[i]), ra, acc);
        const double r = std::nearbyint(double(acc));
        out[i] = int32_t(std::min(std::max(r, double(p.qmin)), double(p.qmax)));
      }
      return Status::Ok();
    }
    case Variant::kTfliteDouble:
    case Variant::kTfliteSingle: {
      const bool single = v == Variant::kTfliteSingle;
      const int left_shift = 20;
      const double twice_max = 2.0 * double(std::max(p.sa, p.sb));
      const double ra = double(p.sa) / twice_max, rb = double(p.sb) / twice_max;
      const double ry = twice_max / (double(1 << left_shift) * double(p.sy));
      if (!(ry < 256.0)) return Status::Error("add(scales): output multiplier 2max(sa,sb)/(2^20 sy) is out of range");
      const QuantizedMultiplier qa = quantize_multiplier(ra, single), qb = quantize_multiplier(rb, single),
                                qy = quantize_multiplier(ry, single);
      for (size_t i = 0; i < count; ++i) {
        const int32_t va = int32_t(int64_t(a[i]) - p.za), vb = int32_t(int64_t(b[i]) - p.zb);
        const int32_t sa = tflite_mul(v, int32_shl_wrap(va, left_shift), qa);
        const int32_t sb = tflite_mul(v, int32_shl_wrap(vb, left_shift), qb);
        const int32_t raw = int32_t(uint32_t(sa) + uint32_t(sb));
        out[i] = clamp_i(int64_t(tflite_mul(v, raw, qy)) + p.zy, p.qmin, p.qmax);
      }
      return Status::Ok();
    }
    case Variant::kXnnpackFp32:
    case Variant::kXnnpackRndnu: {
      // XNNPACK qs8/qu8 vadd (one integer kernel whatever the GEMM requantization flavour):
      // ra = fl32(sa/sy), rb = fl32(sb/sy); shift = 20 - exponent(max(ra, rb)); multipliers RNE(r * 2^shift);
      // out = asr(2^(shift-1) + ma (a - za) + mb (b - zb), shift) + zy, clamp.
      const float ra = p.sa / p.sy, rb = p.sb / p.sy;
      if (!(ra >= 0x1.0p-10f && ra < 0x1.0p+8f && rb >= 0x1.0p-10f && rb < 0x1.0p+8f))
        return Status::Error("add(scales): XNNPACK requires sa/sy and sb/sy in [2^-10, 2^8)");
      const float rmax = std::max(ra, rb);
      uint32_t bits;
      std::memcpy(&bits, &rmax, 4);
      const int shift = 20 - (int(bits >> 23) - 127);  // in [12, 30]
      const int32_t ma = int32_t(std::nearbyint(std::ldexp(double(ra), shift)));  // exact scaling, then RNE
      const int32_t mb = int32_t(std::nearbyint(std::ldexp(double(rb), shift)));
      const uint32_t bias = (uint32_t(1) << (shift - 1)) - uint32_t(ma) * uint32_t(p.za) - uint32_t(mb) * uint32_t(p.zb);
      for (size_t i = 0; i < count; ++i) {
        const int32_t acc = int32_t(bias + uint32_t(a[i]) * uint32_t(ma) + uint32_t(b[i]) * uint32_t(mb));
        out[i] = clamp_i(int64_t(acc >> shift) + p.zy, p.qmin, p.qmax);
      }
      return Status::Ok();
    }
    case Variant::kOnnxRef: {
      for (size_t i = 0; i < count; ++i) {
        const double y = (double(p.sa) * double(int64_t(a[i]) - p.za) + double(p.sb) * double(int64_t(b[i]) - p.zb)) / double(p.sy);
        out[i] = int32_t(std::min(std::max(std::nearbyint(y + double(p.zy)), double(p.qmin)), double(p.qmax)));
      }
      return Status::Ok();
    }
    default:
      return Status::Error(std::string("add(variant): expected ort-mlas, tflite-double, tflite-single, xnnpack-fp32, xnnpack-rndnu or onnx-ref but received ") +
                           variant_name(v));
  }
}

Status global_avg_pool(Variant v, const int32_t* x, size_t channels, size_t image, const PoolParams& p, int32_t* out) {
  if (Status s = check_scale(p.sx, "globalAvgPool", "xScale"); !s.ok) return s;
  if (Status s = check_scale(p.sy, "globalAvgPool", "yScale"); !s.ok) return s;
  if (Status s = check_range(p.qmin, p.qmax, "globalAvgPool"); !s.ok) return s;
  if (image == 0 || image >= 0x1000000) return Status::Error("globalAvgPool(image): expected 1..2^24-1 elements per channel but received " + std::to_string(image));
  if (channels > (size_t(1) << 32)) return Status::Error("globalAvgPool(channels): too large");
  if (channels > 0 && (!x || !out)) return Status::Error("globalAvgPool: null buffer");
  const int32_t bias = int32_t(-int64_t(p.zx) * int64_t(image));
  switch (v) {
    case Variant::kOrtMlas: {
      const float denom = p.sy * float(image);
      const float scale = p.sx / denom;
      if (!(scale >= 0x1.0p-32f) || !(scale < 256.0f))
        return Status::Error("globalAvgPool(scales): sx/(sy*N) is outside MLAS's range [2^-32, 256)");
      RequantOptions o;
      o.zy = p.zy, o.qmin = p.qmin, o.qmax = p.qmax;
      Multiplier m;
      m.m32 = scale;
      for (size_t c = 0; c < channels; ++c) {
        uint32_t acc = uint32_t(bias);
        for (size_t i = 0; i < image; ++i) acc += uint32_t(x[c * image + i]);
        out[c] = requant_one(Variant::kOrtMlas, m, int32_t(acc), o);
      }
      return Status::Ok();
    }
    case Variant::kTfliteDouble:
    case Variant::kTfliteSingle: {
      Multiplier m;
      const double mr = double(p.sx) / (double(p.sy) * double(image));
      if (!(mr < 256.0)) return Status::Error("globalAvgPool(scales): sx/(sy*N) must be < 256");
      m.m64 = mr;
      m.qm = quantize_multiplier(mr, v == Variant::kTfliteSingle);
      RequantOptions o;
      o.zy = p.zy, o.qmin = p.qmin, o.qmax = p.qmax;
      for (size_t c = 0; c < channels; ++c) {
        uint32_t acc = uint32_t(bias);
        for (size_t i = 0; i < image; ++i) acc += uint32_t(x[c * image + i]);
        out[c] = requant_one(v, m, int32_t(acc), o);
      }
      return Status::Ok();
    }
    default:
      return Status::Error(std::string("globalAvgPool(variant): expected ort-mlas, tflite-double or tflite-single but received ") +
                           variant_name(v));
  }
}

Status avg_pool_tflite(const int32_t* x, size_t n, size_t c, size_t h, size_t w, size_t kh, size_t kw, size_t stride_h,
                       size_t stride_w, size_t pad_t, size_t pad_l, size_t pad_b, size_t pad_r, int32_t qmin, int32_t qmax,
                       int32_t* out, size_t out_len) {
  if (Status s = check_range(qmin, qmax, "avgPool"); !s.ok) return s;
  for (size_t d : {n, c, h, w, kh, kw, stride_h, stride_w})
    if (d == 0 || d > (size_t(1) << 20)) return Status::Error("avgPool(shape): expected every dimension in 1..2^20");
  if (pad_t >= kh || pad_b >= kh || pad_l >= kw || pad_r >= kw)
    return Status::Error("avgPool(pads): expected each pad smaller than the kernel");
  if (h + pad_t + pad_b < kh || w + pad_l + pad_r < kw) return Status::Error("avgPool(shape): kernel larger than padded input");
  const size_t oh = (h + pad_t + pad_b - kh) / stride_h + 1, ow = (w + pad_l + pad_r - kw) / stride_w + 1;
  if (n * c * oh * ow != out_len)
    return Status::Error("avgPool(out): expected " + std::to_string(n * c * oh * ow) + " values but received " + std::to_string(out_len));
  if (!x || !out) return Status::Error("avgPool: null buffer");
  for (size_t p = 0; p < n * c; ++p)
    for (size_t oy = 0; oy < oh; ++oy)
      for (size_t ox = 0; ox < ow; ++ox) {
        int64_t acc = 0, cnt = 0;
        for (size_t ky = 0; ky < kh; ++ky)
          for (size_t kx = 0; kx < kw; ++kx) {
            const size_t iy_p = oy * stride_h + ky, ix_p = ox * stride_w + kx;
            if (iy_p < pad_t || ix_p < pad_l || iy_p - pad_t >= h || ix_p - pad_l >= w) continue;
            acc += x[(p * h + iy_p - pad_t) * w + ix_p - pad_l];
            ++cnt;
          }
        // Every window holds at least one in-bounds tap (pads are smaller than the kernel).
        acc = acc > 0 ? (acc + cnt / 2) / cnt : (acc - cnt / 2) / cnt;
        out[(p * oh + oy) * ow + ox] = clamp_i(acc, qmin, qmax);
      }
  return Status::Ok();
}

}  // namespace qrb::intq
