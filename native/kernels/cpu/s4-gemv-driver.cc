// Batch-1 GEMV driver for int8 / int4 / int2 weights (issue 5): y[n] = bias + sum_k (x - zx)(w - zw), then
// the requantization epilogue, equal to intq::gemm_acc (M = 1) + intq::requantize bit for bit.
//   bits 8      -> the int8 GEMM path with M = 1 (its 1-row tile; weight bytes dominate either way)
//   bits 4 / 2  -> s4_gemv_16x8_avx512vnni / s2_gemv_16x16_avx512vnni, else s4_gemv_16x8_avx2 /
//                  s2_gemv_16x16_avx2 (x86), s4_gemv_16x8_neondot / s2_gemv_16x16_neondot (aarch64 + dotprod),
//                  when the CPU (and the ISA cap) allow, else a portable loop over the
//                  unsigned codes (s4_gemv_scalar / s2_gemv_scalar)
// Algebra (mod 2^32): with u = w + c (c = 8 int4, 2 int2, 0 unsigned), zu = zw + c, x' = x + off:
//   sum (x - zx)(w - zw) = sum x'u - zu sum x' - zx' sum u + K zx' zu
// sum u per row is computed at pack time, sum x' once per call.
// Test: ctest -R intq_fast_gemv. Bench: npm run bench:kernels (gemv rows).
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "qrb/intq_fast.h"
#include "qrb/intq_fast_kernels.h"

namespace qrb::intq::fast {

namespace {

const GemvKernel* pick_gemv(int bits) {
#if defined(__x86_64__)
  if (isa_available(Isa::avx512vnni)) return bits == 4 ? &kS4Gemv16x8Avx512Vnni : &kS2Gemv16x16Avx512Vnni;
  if (isa_available(Isa::avx2)) return bits == 4 ? &kS4Gemv16x8Avx2 : &kS2Gemv16x16Avx2;
#endif
#if defined(__aarch64__)
  if (isa_available(Isa::neondot)) return bits == 4 ? &kS4Gemv16x8NeonDot : &kS2Gemv16x16NeonDot;
#endif
  (void)bits;
  return nullptr;
}

}  // namespace

class PackedGemv {
 public:
  size_t n = 0, k = 0;
  int bits = 8;
  std::shared_ptr<PackedWeights> w8;  // bits 8
  std::vector<uint8_t> u;             // [n][k] codes (bits 4 / 2)
  std::vector<int32_t> zu, usum;      // per row
  int c = 0;
  struct Panels {
    const GemvKernel* kd;
    size_t kp;
    void* buf;
  };
  mutable std::vector<Panels> panels;
  mutable std::mutex mu;
  ~PackedGemv() {
    for (auto& p : panels) std::free(p.buf);
  }
  const Panels& panels_for(const GemvKernel* kd) const {
    std::lock_guard<std::mutex> l(mu);
    for (const auto& p : panels)
      if (p.kd == kd) return p;
    const size_t kq = kd->bits == 4 ? 8 : 16;
    const size_t kp = (k + kq - 1) / kq * kq;
    const size_t bytes = (n + 15) / 16 * kd->panel_bytes(kp);
    void* buf = std::aligned_alloc(64, (bytes + 63) / 64 * 64);
    if (buf) kd->pack(u.data(), n, k, kp, buf);  // null: gemv reports out of memory
    panels.push_back({kd, kp, buf});
    return panels.back();
  }
};

Status pack_gemv_weights(const Weights& w, size_t n, size_t k, std::shared_ptr<PackedGemv>* out) {
  if (n == 0 || k == 0) return Status::Error("packGemv(shape): expected n, k >= 1");
  auto p = std::make_shared<PackedGemv>();
  p->n = n, p->k = k, p->bits = w.bits;
  if (w.bits == 8) {
    if (Status st = pack_weights(w, n, k, &p->w8); !st.ok) return st;
    *out = p;
    return Status::Ok();
  }
  std::vector<int32_t> vals, zps;
  int off_w = 0;
  if (Status st = read_weights(w, n, k, "packGemv", &vals, &zps, &off_w); !st.ok) return st;
  p->c = w.dtype == DType::kS8 ? (1 << (w.bits - 1)) : 0;
  p->u.resize(n * k);
  p->zu.resize(n);
  p->usum.resize(n);
  for (size_t r = 0; r < n; ++r) {
    int32_t s = 0;
    for (size_t i = 0; i < k; ++i) {
      const int32_t v = vals[r * k + i] + p->c;
      p->u[r * k + i] = uint8_t(v);
      s += v;
    }
    p->usum[r] = s;
    p->zu[r] = zps[r] + p->c;
  }
  *out = p;
  return Status::Ok();
}

const char* gemv_kernel_name(int bits) {
  if (bits == 8) return gemm_kernel_name();
  const GemvKernel* kd = pick_gemv(bits);
  if (kd) return kd->name;
  return bits == 4 ? "s4_gemv_scalar" : "s2_gemv_scalar";
}

namespace {

struct GemvCtx {
  const PackedGemv* w;
  const GemvKernel* kd;
  const void* panels;
  size_t kp;
  const int8_t* x;       // x' padded to kp (kernel path)
  const int32_t* xi;     // x - zx as int32 (scalar path)
  int32_t sx, zx;        // sum x', zx'
  const int32_t* bias;
  const TileArgs* t;
  size_t np, chunks;
};

void gemv_chunk(void* p, size_t i) {
  const GemvCtx& c = *static_cast<const GemvCtx*>(p);
  const PackedGemv& w = *c.w;
  const size_t p0 = c.np * i / c.chunks, p1 = c.np * (i + 1) / c.chunks;
  int32_t acc[16 * 16];
  int32_t res[16];
  for (size_t q0 = p0; q0 < p1; q0 += 16) {
    const size_t q1 = std::min(p1, q0 + 16);
    if (c.kd) c.kd->run(c.panels, c.kp, c.x, q0, q1, acc);
    for (size_t q = q0; q < q1; ++q) {
      const size_t r0 = q * 16, rows = std::min<size_t>(16, w.n - r0);
      for (size_t j = 0; j < rows; ++j) {
        const size_t r = r0 + j;
        uint32_t v = c.bias ? uint32_t(c.bias[r]) : 0u;
        if (c.kd) {
          v += uint32_t(acc[(q - q0) * 16 + j]);
          v -= uint32_t(w.zu[r]) * uint32_t(c.sx);
          v -= uint32_t(c.zx) * uint32_t(w.usum[r]);
          v += uint32_t(w.k) * uint32_t(c.zx) * uint32_t(w.zu[r]);
        } else {
          const uint8_t* ur = w.u.data() + r * w.k;
          const int32_t zu = w.zu[r];
          uint32_t s = 0;
          for (size_t kk = 0; kk < w.k; ++kk) s += uint32_t(c.xi[kk] * (int32_t(ur[kk]) - zu));
          v += s;
        }
        res[j] = int32_t(v);
      }
      store_tile_generic(*c.t, res, 16, 0, 1, r0, rows);
    }
  }
}

}  // namespace

Status gemv(const PackedGemv& w, const Operand& x, int32_t x_zp, const int32_t* bias, size_t bias_len,
            const Epilogue& ep, void* out, size_t out_len, int threads) {
  if (w.bits == 8) return gemm(*w.w8, 1, x, x_zp, bias, bias_len, ep, out, out_len, threads);
  const std::string fn = "gemv";
  if (!x.data || x.len != w.k)
    return Status::Error(fn + "(x): expected " + std::to_string(w.k) + " elements but received " + std::to_string(x.len));
  if (x.dtype != DType::kS8 && x.dtype != DType::kU8) return Status::Error(fn + "(x.dtype): unknown dtype");
  if (Status st = check_act_zp(x_zp, x.dtype, fn + "(xZeroPoint)"); !st.ok) return st;
  if (bias && bias_len != w.n)
    return Status::Error(fn + "(bias): expected " + std::to_string(w.n) + " int32 values but received " + std::to_string(bias_len));
  if (!out || out_len != w.n)
    return Status::Error(fn + "(out): expected " + std::to_string(w.n) + " values but received " + std::to_string(out_len));
  TileArgs t;
  std::vector<float> m32;
  std::vector<int32_t> fix;
  const size_t n_pad = (w.n + 15) / 16 * 16;
  if (Status st = setup_epilogue(ep, w.n, fn, &t, &m32, n_pad, &fix); !st.ok) return st;
  t.m = 1, t.n = w.n, t.out = out, t.ldo = w.n, t.transposed = false;
  if (threads <= 0) threads = default_threads();
  threads = std::min(std::max(threads, 1), 64);
  GemvCtx c{&w, pick_gemv(w.bits), nullptr, 0, nullptr, nullptr, 0, 0, bias, &t, (w.n + 15) / 16, 1};
  std::vector<int8_t> xs;
  std::vector<int32_t> xi;
  if (c.kd) {
    const auto& pan = w.panels_for(c.kd);
    if (!pan.buf) return Status::Error(fn + ": out of memory for the packed weights");
    c.panels = pan.buf, c.kp = pan.kp;
    const int off = x.dtype == DType::kU8 ? -128 : 0;
    xs.assign(pan.kp, 0);
    uint32_t s = 0;
    for (size_t i = 0; i < w.k; ++i) {
      const int32_t v = (x.dtype == DType::kS8 ? int32_t(static_cast<const int8_t*>(x.data)[i])
                                               : int32_t(static_cast<const uint8_t*>(x.data)[i])) + off;
      xs[i] = int8_t(v);
      s += uint32_t(v);
    }
    c.x = xs.data();
    c.sx = int32_t(s);
    c.zx = x_zp + off;
  } else {
    xi.resize(w.k);
    for (size_t i = 0; i < w.k; ++i)
      xi[i] = (x.dtype == DType::kS8 ? int32_t(static_cast<const int8_t*>(x.data)[i])
                                     : int32_t(static_cast<const uint8_t*>(x.data)[i])) - x_zp;
    c.xi = xi.data();
  }
  c.chunks = threads > 1 ? std::min<size_t>(c.np, size_t(threads) * 8) : 1;
  parallel_for(threads, c.chunks, gemv_chunk, &c);
  return Status::Ok();
}

}  // namespace qrb::intq::fast
