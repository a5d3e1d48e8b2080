// Fast int8 GEMM / conv driver (issue 5): argument checks, weight packing (once, per ISA on first use),
// activation preparation (offset + padding, row sums), zero-point folding, threading and the generic
// requantization epilogue. The per-ISA micro-kernels live in s8-gemm-<MRxNR>-<isa>.cc.
//
// Variants: dispatch picks the last available kernel of s8gemm_variants() (native/dispatch/registry.cc):
//   s8_gemm_4x16_scalar (portable), s8_gemm_6x16_avx2 (VPMADDWD on int16, exact), s8_gemm_6x64_avx512vnni
//   (VPDPBUSD, XOR-0x80), s8_gemm_4x16_neon (SMULL+SADALP, exact), s8_gemm_4x16_neondot (SDOT).
// Conv: NCHW input -> NHWC a' image (offset applied) -> im2col rows with K ordered (ky, kx, c) (1x1 stride-1
// convs use the NHWC image directly; other unpadded 1x1 convs gather rows from NCHW) -> the same GEMM into
// a [pixel][oc] tile buffer -> one blocked transpose into NCHW output. Groups run as one GEMM each;
// depthwise (groups == c == oc) has its own direct NCHW loop (dw_chunk).
// Test: ctest -R intq_fast (native/tests/test_intq_fast_*.cc: every kernel vs intq::gemm_acc/conv_acc +
// requantize, bit for bit). Bench: npm run bench:kernels.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <mutex>
#include <string>
#include <vector>

#include "qrb/intq_fast.h"
#include "qrb/intq_fast_kernels.h"
#include "qrb/registry.h"

#if defined(__x86_64__)
#include <emmintrin.h>
#endif

namespace qrb::intq::fast {

namespace {

// 64-byte aligned scratch / panel storage.
struct AlignedBuf {
  void* p = nullptr;
  size_t bytes = 0;
  AlignedBuf() = default;
  explicit AlignedBuf(size_t n) { reset(n); }
  AlignedBuf(const AlignedBuf&) = delete;
  AlignedBuf& operator=(const AlignedBuf&) = delete;
  ~AlignedBuf() { std::free(p); }
  void reset(size_t n) {
    std::free(p);
    bytes = n;
    p = std::aligned_alloc(64, std::max<size_t>(64, (n + 63) / 64 * 64));
    if (p) std::memset(p, 0, std::max<size_t>(64, (n + 63) / 64 * 64));
  }
  template <class T>
  T* as() const { return static_cast<T*>(p); }
};

// Per-calling-thread scratch, kept between calls: a fresh multi-MB buffer per call would be mmap'ed and
// page-faulted every time. Contents are NOT cleared; callers write every byte they read (pads included).
void* scratch(int slot, size_t bytes) {
  struct Slot {
    void* p = nullptr;
    size_t cap = 0;
    ~Slot() { std::free(p); }
  };
  thread_local Slot slots[4];
  Slot& s = slots[slot];
  if (s.cap < bytes) {
    std::free(s.p);
    s.cap = (bytes + 4095) / 4096 * 4096;
    s.p = std::aligned_alloc(64, s.cap);
    if (!s.p) s.cap = 0;  // the caller reports the failure
  }
  return s.p;
}

bool mul_ok(size_t a, size_t b, size_t* r) {
  if (a != 0 && b > std::numeric_limits<size_t>::max() / a) return false;
  *r = a * b;
  return true;
}

size_t round_up(size_t v, size_t q) { return (v + q - 1) / q * q; }

int g_default_threads = 1;

const KernelDesc* pick_kernel() { return qrb::s8gemm_pick().fn; }

}  // namespace

// ---- packed weights --------------------------------------------------------------------------------
class PackedWeights {
 public:
  size_t n = 0, k = 0;
  std::vector<int8_t> v;       // [n][k], v = w - offW (s8)
  std::vector<int32_t> zv;     // [n], zw - offW
  std::vector<int32_t> colsum; // [n], sum_k v (fits int32: |v| <= 128, k < 2^24 checked)
  bool any_zv = false;

  struct Panels {
    const KernelDesc* kd;
    size_t kp;
    std::shared_ptr<AlignedBuf> buf;
  };
  mutable std::mutex mu;
  mutable std::vector<Panels> panels;

  const Panels& panels_for(const KernelDesc* kd) const {
    std::lock_guard<std::mutex> l(mu);
    for (const auto& p : panels)
      if (p.kd == kd) return p;
    const size_t kp = round_up(k, size_t(kd->kq));
    const size_t np = (n + kd->nr - 1) / kd->nr;
    auto buf = std::make_shared<AlignedBuf>(np * kd->panel_bytes(kp));
    if (buf->p) kd->pack_b(v.data(), n, k, kp, buf->p);  // null: gemm/conv report out of memory
    panels.push_back({kd, kp, buf});
    return panels.back();
  }
};

size_t packed_n(const PackedWeights& p) { return p.n; }
size_t packed_k(const PackedWeights& p) { return p.k; }

// Reads weights (int8 container or ONNX-packed rows) into int32 values and per-row zero points, with the
// same checks as the reference.
Status read_weights(const Weights& w, size_t rows, size_t k, const std::string& fn, std::vector<int32_t>* vals,
                           std::vector<int32_t>* zps, int* off_w) {
  if (!w.data) return Status::Error(fn + "(weights): null");
  if (w.dtype != DType::kS8 && w.dtype != DType::kU8) return Status::Error(fn + "(weights.dtype): unknown dtype");
  if (k >= (size_t(1) << 24)) return Status::Error(fn + "(shape): K must be below 2^24");
  size_t need = 0;
  if (!mul_ok(rows, k, &need)) return Status::Error(fn + "(weights): size overflows");
  vals->assign(need, 0);
  const bool is_signed = w.dtype == DType::kS8;
  if (w.bits == 8) {
    if (w.len != need)
      return Status::Error(fn + "(weights): expected " + std::to_string(need) + " elements but received " + std::to_string(w.len));
    for (size_t i = 0; i < need; ++i)
      (*vals)[i] = is_signed ? int32_t(static_cast<const int8_t*>(w.data)[i]) : int32_t(static_cast<const uint8_t*>(w.data)[i]);
  } else if (w.bits == 4 || w.bits == 2) {
    size_t pb = 0;
    if (!mul_ok(rows, packed_row_bytes(k, w.bits), &pb)) return Status::Error(fn + "(weights): size overflows");
    if (w.len != pb)
      return Status::Error(fn + "(weights): expected " + std::to_string(pb) + " packed bytes (" + std::to_string(rows) +
                           " rows of " + std::to_string(packed_row_bytes(k, w.bits)) + ") but received " + std::to_string(w.len));
    std::vector<int8_t> tmp(need);
    if (Status st = unpack_rows(static_cast<const uint8_t*>(w.data), w.len, rows, k, w.bits, is_signed, tmp.data()); !st.ok)
      return Status::Error(fn + "(weights): " + st.message);
    for (size_t i = 0; i < need; ++i) (*vals)[i] = tmp[i];
  } else {
    return Status::Error(fn + "(weights.bits): expected 8, 4 or 2 but received " + std::to_string(w.bits));
  }
  if (w.zp && w.zp_len != 1 && w.zp_len != rows)
    return Status::Error(fn + "(weights.zeroPoint): expected 1 or " + std::to_string(rows) + " zero points but received " +
                         std::to_string(w.zp_len));
  int32_t lo = -128, hi = 127;
  if (w.bits == 8 && !is_signed) lo = 0, hi = 255;
  if (w.bits < 8) {
    lo = is_signed ? -(1 << (w.bits - 1)) : 0;
    hi = is_signed ? (1 << (w.bits - 1)) - 1 : (1 << w.bits) - 1;
  }
  zps->assign(rows, 0);
  for (size_t i = 0; w.zp && i < w.zp_len; ++i)
    if (w.zp[i] < lo || w.zp[i] > hi)
      return Status::Error(fn + "(weights.zeroPoint[" + std::to_string(i) + "]): expected [" + std::to_string(lo) + ", " +
                           std::to_string(hi) + "] but received " + std::to_string(w.zp[i]));
  for (size_t r = 0; w.zp && r < rows; ++r) (*zps)[r] = w.zp[w.zp_len == 1 ? 0 : r];
  // u8 containers map to s8 by -128 (exact: only differences (w - zw) matter); int4/int2 values fit s8 as is.
  *off_w = (w.bits == 8 && !is_signed) ? 128 : 0;
  return Status::Ok();
}

static std::shared_ptr<PackedWeights> make_packed(const std::vector<int32_t>& vals, const std::vector<int32_t>& zps,
                                                  int off_w, size_t n, size_t k) {
  auto p = std::make_shared<PackedWeights>();
  p->n = n;
  p->k = k;
  p->v.resize(n * k);
  p->zv.resize(n);
  p->colsum.resize(n);
  for (size_t r = 0; r < n; ++r) {
    int32_t s = 0;
    for (size_t i = 0; i < k; ++i) {
      const int32_t v = vals[r * k + i] - off_w;
      p->v[r * k + i] = int8_t(v);
      s += v;
    }
    p->colsum[r] = s;
    p->zv[r] = zps[r] - off_w;
    if (p->zv[r] != 0) p->any_zv = true;
  }
  return p;
}

Status pack_weights(const Weights& w, size_t n, size_t k, std::shared_ptr<PackedWeights>* out) {
  if (n == 0 || k == 0) return Status::Error("packGemm(shape): expected n, k >= 1");
  std::vector<int32_t> vals, zps;
  int off_w = 0;
  if (Status st = read_weights(w, n, k, "packGemm", &vals, &zps, &off_w); !st.ok) return st;
  *out = make_packed(vals, zps, off_w, n, k);
  return Status::Ok();
}

// ---- epilogue --------------------------------------------------------------------------------------
static inline void put(const TileArgs& t, size_t r, size_t c, int32_t v) {
  const size_t i = t.transposed ? c * t.ldo + r : r * t.ldo + c;
  if (t.mode == EpMode::kAcc32)
    static_cast<int32_t*>(t.out)[i] = v;
  else if (t.out_u8)
    static_cast<uint8_t*>(t.out)[i] = uint8_t(v);
  else
    static_cast<int8_t*>(t.out)[i] = int8_t(v);
}

void store_tile_codes(const TileArgs& t, const int32_t* codes, size_t ld, size_t r0, size_t rows, size_t c0,
                      size_t cols) {
  if (t.transposed) {
    for (size_t j = 0; j < cols; ++j)
      for (size_t i = 0; i < rows; ++i) put(t, r0 + i, c0 + j, codes[i * ld + j]);
  } else {
    for (size_t i = 0; i < rows; ++i)
      for (size_t j = 0; j < cols; ++j) put(t, r0 + i, c0 + j, codes[i * ld + j]);
  }
}

void store_tile_generic(const TileArgs& t, const int32_t* acc, size_t ld, size_t r0, size_t rows, size_t c0,
                        size_t cols) {
  if (t.mode == EpMode::kAcc32) return store_tile_codes(t, acc, ld, r0, rows, c0, cols);
  int32_t codes[16 * 64];
  for (size_t i0 = 0; i0 < rows; i0 += 16) {
    const size_t ri = std::min<size_t>(16, rows - i0);
    for (size_t j0 = 0; j0 < cols; j0 += 64) {
      const size_t cj = std::min<size_t>(64, cols - j0);
      for (size_t i = 0; i < ri; ++i)
        for (size_t j = 0; j < cj; ++j) {
          const size_t c = c0 + j0 + j;
          const int32_t a = acc[(i0 + i) * ld + j0 + j];
          int32_t q;
          if (t.mode == EpMode::kFp32) {
            // intq::requant_one's fp32 branch, spelled out (same IEEE steps).
            const float prod = float(a) * t.m32[c];
            const float v = std::min(std::max(prod, t.lo), t.hi);
            q = int32_t(__builtin_nearbyintf(v)) + t.opt.zy;
          } else {
            const Multiplier& m = t.mult[t.mult_step ? c : 0];
            q = requant_one(t.variant, m, a, t.opt, t.beta ? t.beta[t.mult_step ? c : 0] : 0.0f);
          }
          codes[i * 64 + j] = q;
        }
      store_tile_codes(t, codes, 64, r0 + i0, ri, c0 + j0, cj);
    }
  }
}

// ---- the core run over a prepared TileArgs -----------------------------------------------------------
namespace {

struct RunCtx {
  const KernelDesc* kd;
  const TileArgs* t;
  size_t np;
  bool split_panels;
  size_t chunks;
};

void run_chunk(void* p, size_t i) {
  const RunCtx& c = *static_cast<const RunCtx*>(p);
  if (c.split_panels) {
    const size_t p0 = c.np * i / c.chunks, p1 = c.np * (i + 1) / c.chunks;
    if (p0 < p1) c.kd->run(*c.t, 0, c.t->m, p0, p1);
  } else {
    const size_t mr = size_t(c.kd->mr);
    const size_t tiles = (c.t->m + mr - 1) / mr;
    const size_t t0 = tiles * i / c.chunks, t1 = tiles * (i + 1) / c.chunks;
    if (t0 < t1) c.kd->run(*c.t, t0 * mr, std::min(c.t->m, t1 * mr), 0, c.np);
  }
}

void run_core(const KernelDesc* kd, const TileArgs& t, int threads) {
  RunCtx c{kd, &t, (t.n + kd->nr - 1) / kd->nr, false, 1};
  const size_t tiles = (t.m + kd->mr - 1) / kd->mr;
  if (threads <= 1) {
    kd->run(t, 0, t.m, 0, c.np);
    return;
  }
  // Panels outermost keeps each thread's B panels in its own L2; fall back to rows when there are few.
  // Many small tasks from one atomic counter: a worker that wakes late (busy box) still takes its share
  // instead of finding its one big chunk already done by the caller.
  if (c.np >= size_t(threads) * 2 || (c.np >= size_t(threads) && tiles < size_t(threads) * 4)) {
    c.split_panels = true;
    c.chunks = c.np;
  } else {
    c.chunks = std::min(tiles, size_t(threads) * 16);
  }
  parallel_for(threads, c.chunks, run_chunk, &c);
}

int resolve_threads(int threads) {
  if (threads <= 0) threads = g_default_threads;
  return std::min(std::max(threads, 1), 64);
}

}  // namespace

// Epilogue checks (the reference's requantize rules) and TileArgs fields that do not depend on the shape.
Status setup_epilogue(const Epilogue& ep, size_t n, const std::string& fn, TileArgs* t, std::vector<float>* m32,
                      size_t n_pad, std::vector<int32_t>* fix) {
  if (!ep.requant) {
    t->mode = EpMode::kAcc32;
    return Status::Ok();
  }
  const Variant v = ep.variant;
  if (int(v) < 0 || int(v) >= int(Variant::kCount)) return Status::Error(fn + "(variant): unknown variant");
  if (v == Variant::kFp16Fallback)
    return Status::Error(fn + "(variant): fp16-fallback has no integer requantization; take int32 accumulators and use requantizeFp16");
  if (!ep.mult || (ep.mult_len != 1 && ep.mult_len != n))
    return Status::Error(fn + "(multipliers): expected 1 or " + std::to_string(n) + " multipliers but received " +
                         std::to_string(ep.mult ? ep.mult_len : 0));
  const RequantOptions& o = ep.opt;
  if (o.qmin > o.qmax)
    return Status::Error(fn + "(qmin, qmax): expected qmin <= qmax but received " + std::to_string(o.qmin) + " > " +
                         std::to_string(o.qmax));
  const int32_t lo = ep.out_dtype == DType::kU8 ? 0 : -128, hi = ep.out_dtype == DType::kU8 ? 255 : 127;
  if (ep.out_dtype != DType::kS8 && ep.out_dtype != DType::kU8) return Status::Error(fn + "(outDtype): unknown dtype");
  if (o.qmin < lo || o.qmax > hi)
    return Status::Error(fn + "(qmin, qmax): expected a range inside [" + std::to_string(lo) + ", " + std::to_string(hi) +
                         "] for the output dtype but received [" + std::to_string(o.qmin) + ", " + std::to_string(o.qmax) + "]");
  if (o.zy < o.qmin || o.zy > o.qmax)
    return Status::Error(fn + "(zeroPoint): expected a value in [qmin, qmax] but received " + std::to_string(o.zy));
  if (v == Variant::kTrtGpu && o.zy != 0)
    return Status::Error(fn + "(zeroPoint): trt-gpu is symmetric only; expected 0 but received " + std::to_string(o.zy));
  if (o.depthwise_upward && v != Variant::kTfliteDouble)
    return Status::Error(fn + "(depthwiseUpward): only tflite-double has a depthwise output rounding option");
  t->variant = v;
  t->mult = ep.mult;
  t->mult_step = ep.mult_len == 1 ? 0 : 1;
  t->beta = v == Variant::kTrtGpu ? ep.beta : nullptr;
  t->opt = o;
  t->out_u8 = ep.out_dtype == DType::kU8;
  if (v == Variant::kXnnpackFp32 || v == Variant::kOrtMlas) {
    t->mode = EpMode::kFp32;
    m32->assign(n_pad, 0.0f);
    for (size_t c = 0; c < n; ++c) (*m32)[c] = ep.mult[ep.mult_len == 1 ? 0 : c].m32;
    t->m32 = m32->data();
    t->lo = float(int64_t(o.qmin) - o.zy);
    t->hi = float(int64_t(o.qmax) - o.zy);
  } else if (v == Variant::kTfliteDouble && !o.depthwise_upward) {
    t->mode = EpMode::kTflDouble;
    fix->assign(2 * n_pad, 0);
    for (size_t c = 0; c < n; ++c) {
      const Multiplier& m = ep.mult[ep.mult_len == 1 ? 0 : c];
      (*fix)[c] = m.qm.q;
      (*fix)[n_pad + c] = m.qm.shift;
    }
    t->fq = fix->data(), t->fs = fix->data() + n_pad;
  } else if (v == Variant::kTfliteSingle || v == Variant::kXnnpackRndnu) {
    t->mode = EpMode::kMulShift;
    fix->assign(2 * n_pad, 0);
    for (size_t c = 0; c < n_pad; ++c) (*fix)[n_pad + c] = 1;  // padded columns: any valid shift
    for (size_t c = 0; c < n; ++c) {
      const Multiplier& m = ep.mult[ep.mult_len == 1 ? 0 : c];
      const int sh = v == Variant::kTfliteSingle ? 31 - m.qm.shift : std::min(m.rndnu_shift, 62);
      if (sh < 1 || sh > 62) {  // outside the vector kernel's range (not produced by form_multiplier): stay generic
        t->mode = EpMode::kGeneric;
        return Status::Ok();
      }
      (*fix)[c] = v == Variant::kTfliteSingle ? m.qm.q : m.rndnu_mult;
      (*fix)[n_pad + c] = sh;
    }
    t->fq = fix->data(), t->fs = fix->data() + n_pad;
  } else {
    t->mode = EpMode::kGeneric;
  }
  return Status::Ok();
}

Status check_act_zp(int32_t zp, DType t, const std::string& where) {
  const int32_t lo = t == DType::kS8 ? -128 : 0, hi = t == DType::kS8 ? 127 : 255;
  if (zp < lo || zp > hi)
    return Status::Error(where + ": expected a zero point in [" + std::to_string(lo) + ", " + std::to_string(hi) +
                         "] but received " + std::to_string(zp));
  return Status::Ok();
}

namespace {

int a_offset(const KernelDesc* kd, DType t) { return t == DType::kS8 ? kd->a_off_s8 : kd->a_off_u8; }

size_t a_elem_bytes(AKind k) { return k == AKind::kS16 ? 2 : 1; }

// Writes a' = x + off for `count` raw codes into dst (akind). Returns the uint32 sum of a'.
uint32_t convert_row(const void* src, DType st, size_t count, int off, AKind ak, void* dst) {
  uint32_t s = 0;
  auto go = [&](auto* d) {
    using T = std::remove_pointer_t<decltype(d)>;
    if (st == DType::kS8) {
      const int8_t* x = static_cast<const int8_t*>(src);
      for (size_t i = 0; i < count; ++i) {
        const int32_t v = int32_t(x[i]) + off;
        d[i] = T(v);
        s += uint32_t(v);
      }
    } else {
      const uint8_t* x = static_cast<const uint8_t*>(src);
      for (size_t i = 0; i < count; ++i) {
        const int32_t v = int32_t(x[i]) + off;
        d[i] = T(v);
        s += uint32_t(v);
      }
    }
  };
  if (ak == AKind::kU8) go(static_cast<uint8_t*>(dst));
  else if (ak == AKind::kS8) go(static_cast<int8_t*>(dst));
  else go(static_cast<int16_t*>(dst));
  return s;
}

// col_add[c] = bias[c] - za*sum v[c] + K*za*zv[c]  (mod 2^32)
void fill_col_add(const PackedWeights& w, int32_t za, const int32_t* bias, std::vector<int32_t>* col_add,
                  std::vector<int32_t>* zv, size_t n_pad) {
  col_add->assign(n_pad, 0);
  for (size_t c = 0; c < w.n; ++c) {
    uint32_t v = bias ? uint32_t(bias[c]) : 0u;
    v -= uint32_t(za) * uint32_t(w.colsum[c]);
    v += uint32_t(w.k) * uint32_t(za) * uint32_t(w.zv[c]);
    (*col_add)[c] = int32_t(v);
  }
  if (w.any_zv) {
    zv->assign(n_pad, 0);
    for (size_t c = 0; c < w.n; ++c) (*zv)[c] = w.zv[c];
  } else {
    zv->clear();
  }
}

struct PrepCtx {
  const void* src;
  DType st;
  size_t rows, k, kp;
  int off;
  AKind ak;
  void* dst;
  int32_t* rowsum;
  size_t chunks;
};

void prep_rows(void* p, size_t i) {
  const PrepCtx& c = *static_cast<const PrepCtx*>(p);
  const size_t r0 = c.rows * i / c.chunks, r1 = c.rows * (i + 1) / c.chunks;
  const size_t eb = a_elem_bytes(c.ak), sb = 1;
  for (size_t r = r0; r < r1; ++r) {
    uint8_t* row = static_cast<uint8_t*>(c.dst) + r * c.kp * eb;
    const uint32_t s = convert_row(static_cast<const uint8_t*>(c.src) + r * c.k * sb, c.st, c.k, c.off, c.ak, row);
    std::memset(row + c.k * eb, 0, (c.kp - c.k) * eb);
    if (c.rowsum) c.rowsum[r] = int32_t(s);
  }
}

}  // namespace

Status gemm(const PackedWeights& w, size_t m, const Operand& a, int32_t a_zp, const int32_t* bias, size_t bias_len,
            const Epilogue& ep, void* out, size_t out_len, int threads) {
  const std::string fn = "gemm";
  if (m == 0) return Status::Error(fn + "(m): expected m >= 1");
  size_t mk = 0, mn = 0;
  if (!mul_ok(m, w.k, &mk) || !mul_ok(m, w.n, &mn)) return Status::Error(fn + "(shape): size overflows");
  if (!a.data || a.len != mk)
    return Status::Error(fn + "(a): expected " + std::to_string(mk) + " elements but received " + std::to_string(a.len));
  if (a.dtype != DType::kS8 && a.dtype != DType::kU8) return Status::Error(fn + "(a.dtype): unknown dtype");
  if (Status st = check_act_zp(a_zp, a.dtype, fn + "(aZeroPoint)"); !st.ok) return st;
  if (bias && bias_len != w.n)
    return Status::Error(fn + "(bias): expected " + std::to_string(w.n) + " int32 values but received " + std::to_string(bias_len));
  if (!out || out_len != mn)
    return Status::Error(fn + "(out): expected " + std::to_string(mn) + " values but received " + std::to_string(out_len));
  const KernelDesc* kd = pick_kernel();
  const auto& pan = w.panels_for(kd);
  const size_t n_pad = round_up(w.n, size_t(kd->nr));
  TileArgs t;
  std::vector<float> m32;
  std::vector<int32_t> fix;
  if (Status st = setup_epilogue(ep, w.n, fn, &t, &m32, n_pad, &fix); !st.ok) return st;
  threads = resolve_threads(threads);
  const int off = a_offset(kd, a.dtype);
  const int32_t za = a_zp + off;
  std::vector<int32_t> col_add, zv, rowsum;
  fill_col_add(w, za, bias, &col_add, &zv, n_pad);
  void* abuf = scratch(0, m * pan.kp * a_elem_bytes(kd->akind));
  if (!abuf || !pan.buf->p) return Status::Error(fn + ": out of memory for the packed operands");
  if (w.any_zv) rowsum.assign(m, 0);
  PrepCtx pc{a.data, a.dtype, m, w.k, pan.kp, off, kd->akind, abuf, w.any_zv ? rowsum.data() : nullptr,
             std::min<size_t>(m, size_t(threads))};
  parallel_for(threads, pc.chunks, prep_rows, &pc);
  t.m = m;
  t.n = w.n;
  t.k = w.k;
  t.kp = pan.kp;
  t.a = abuf;
  t.lda = pan.kp;
  t.b = pan.buf->p;
  t.col_add = col_add.data();
  t.zv = w.any_zv ? zv.data() : nullptr;
  t.rowsum = w.any_zv ? rowsum.data() : nullptr;
  t.out = out;
  t.ldo = w.n;
  t.transposed = false;
  run_core(kd, t, threads);
  return Status::Ok();
}

// ---- convolution -----------------------------------------------------------------------------------
class PackedConv {
 public:
  ConvShape shape;  // c, oc, kh, kw, groups used
  std::vector<std::shared_ptr<PackedWeights>> groups;
};

Status pack_conv_weights(const ConvShape& s, const Weights& w, std::shared_ptr<PackedConv>* out) {
  const std::string fn = "packConv";
  if (s.c == 0 || s.oc == 0 || s.groups == 0 || s.kh == 0 || s.kw == 0)
    return Status::Error(fn + "(shape): expected c, oc, groups, kh, kw >= 1");
  if (s.c % s.groups != 0 || s.oc % s.groups != 0)
    return Status::Error(fn + "(groups): expected c and oc divisible by groups but received c=" + std::to_string(s.c) +
                         ", oc=" + std::to_string(s.oc) + ", groups=" + std::to_string(s.groups));
  for (size_t v : {s.c, s.oc, s.kh, s.kw})
    if (v > (size_t(1) << 20)) return Status::Error(fn + "(shape): a dimension exceeds 2^20");
  const size_t cg = s.c / s.groups, ocg = s.oc / s.groups, khw = s.kh * s.kw;
  size_t k = 0;
  if (!mul_ok(cg, khw, &k)) return Status::Error(fn + "(shape): size overflows");
  std::vector<int32_t> vals, zps;
  int off_w = 0;
  if (Status st = read_weights(w, s.oc, k, fn, &vals, &zps, &off_w); !st.ok) return st;
  auto pc = std::make_shared<PackedConv>();
  pc->shape = s;
  for (size_t g = 0; g < s.groups; ++g) {
    std::vector<int32_t> gv(ocg * k), gz(ocg);
    for (size_t o = 0; o < ocg; ++o) {
      const size_t oc = g * ocg + o;
      gz[o] = zps[oc];
      // reference order (ci, ky, kx) -> ours (ky, kx, ci)
      for (size_t ci = 0; ci < cg; ++ci)
        for (size_t t = 0; t < khw; ++t) gv[o * k + t * cg + ci] = vals[oc * k + ci * khw + t];
    }
    pc->groups.push_back(make_packed(gv, gz, off_w, ocg, k));
  }
  *out = pc;
  return Status::Ok();
}

namespace {

struct NhwcCtx {
  const void* x;  // image base (NCHW, one image)
  DType st;
  size_t c, hw;
  int off;
  AKind ak;
  void* dst;  // [hw][c]
  size_t chunks;
};

#if defined(__x86_64__)
void transpose16(const uint8_t* s, size_t ss, uint8_t* d, size_t ds);
#endif

void to_nhwc(void* p, size_t i) {
  const NhwcCtx& q = *static_cast<const NhwcCtx*>(p);
  const size_t p0 = q.hw * i / q.chunks, p1 = q.hw * (i + 1) / q.chunks;
#if defined(__x86_64__)
  // Byte images: 16x16 SSE2 block transposes; the +-128 offset is a bytewise XOR 0x80 afterwards.
  if (q.ak != AKind::kS16 && q.c >= 16 && (q.off == 0 || q.off == 128 || q.off == -128)) {
    const uint8_t* x = static_cast<const uint8_t*>(q.x);
    uint8_t* d = static_cast<uint8_t*>(q.dst);
    const size_t c16 = q.c / 16 * 16;
    size_t px = p0;
    for (; px + 16 <= p1; px += 16)
      for (size_t ch = 0; ch < c16; ch += 16) transpose16(x + ch * q.hw + px, q.hw, d + px * q.c + ch, q.c);
    for (size_t pp = p0; pp < px; ++pp)
      for (size_t ch = c16; ch < q.c; ++ch) d[pp * q.c + ch] = x[ch * q.hw + pp];
    for (; px < p1; ++px)
      for (size_t ch = 0; ch < q.c; ++ch) d[px * q.c + ch] = x[ch * q.hw + px];
    if (q.off != 0)
      for (size_t e = p0 * q.c; e < p1 * q.c; ++e) d[e] ^= 0x80;
    return;
  }
#endif
  auto go = [&](auto* d, auto* x) {
    using T = std::remove_pointer_t<decltype(d)>;
    // Blocks of 64 pixels keep the written NHWC block (64 x c) in L1 while every plane is read in runs.
    for (size_t b0 = p0; b0 < p1; b0 += 64) {
      const size_t b1 = std::min(p1, b0 + 64);
      for (size_t ch = 0; ch < q.c; ++ch) {
        const auto* plane = x + ch * q.hw;
        for (size_t px = b0; px < b1; ++px) d[px * q.c + ch] = T(int32_t(plane[px]) + q.off);
      }
    }
  };
  auto with_dst = [&](auto* x) {
    if (q.ak == AKind::kU8) go(static_cast<uint8_t*>(q.dst), x);
    else if (q.ak == AKind::kS8) go(static_cast<int8_t*>(q.dst), x);
    else go(static_cast<int16_t*>(q.dst), x);
  };
  if (q.st == DType::kS8) with_dst(static_cast<const int8_t*>(q.x));
  else with_dst(static_cast<const uint8_t*>(q.x));
}

struct Im2colCtx {
  const ConvShape* s;
  size_t oh, ow, cg, g, kp;
  int32_t za;
  AKind ak;
  const void* nhwc;
  void* rows;
  int32_t* rowsum;
  size_t chunks;
};

void im2col(void* p, size_t i) {
  const Im2colCtx& q = *static_cast<const Im2colCtx*>(p);
  const ConvShape& s = *q.s;
  const size_t npx = q.oh * q.ow;
  const size_t r0 = npx * i / q.chunks, r1 = npx * (i + 1) / q.chunks;
  auto go = [&](auto* rows, const auto* img) {
    using T = std::remove_pointer_t<decltype(rows)>;
    for (size_t r = r0; r < r1; ++r) {
      const size_t oy = r / q.ow, ox = r % q.ow;
      T* d = rows + r * q.kp;
      for (size_t ky = 0; ky < s.kh; ++ky) {
        // Fast path: with one group and no horizontal dilation, the kw taps of this kernel row are kw*c
        // contiguous NHWC values (conv1's 3-channel taps would otherwise be 49 tiny copies per pixel).
        const size_t iy_p = oy * s.stride_h + ky * s.dil_h, ix0_p = ox * s.stride_w;
        if (q.cg == s.c && s.dil_w == 1 && iy_p >= s.pad_t && iy_p - s.pad_t < s.h && ix0_p >= s.pad_l &&
            ix0_p - s.pad_l + s.kw <= s.w) {
          std::memcpy(d, img + ((iy_p - s.pad_t) * s.w + (ix0_p - s.pad_l)) * s.c, s.kw * s.c * sizeof(T));
          d += s.kw * q.cg;
          continue;
        }
        for (size_t kx = 0; kx < s.kw; ++kx, d += q.cg) {
          const size_t iy_p = oy * s.stride_h + ky * s.dil_h, ix_p = ox * s.stride_w + kx * s.dil_w;
          if (iy_p < s.pad_t || ix_p < s.pad_l || iy_p - s.pad_t >= s.h || ix_p - s.pad_l >= s.w) {
            for (size_t ci = 0; ci < q.cg; ++ci) d[ci] = T(q.za);
          } else {
            const T* src = img + ((iy_p - s.pad_t) * s.w + (ix_p - s.pad_l)) * s.c + q.g * q.cg;
            if (q.cg >= 16)
              std::memcpy(d, src, q.cg * sizeof(T));
            else
              for (size_t ci = 0; ci < q.cg; ++ci) d[ci] = src[ci];
          }
        }
      }
      for (size_t kk = s.kh * s.kw * q.cg; kk < q.kp; ++kk) rows[r * q.kp + kk] = 0;  // K pad lanes
      if (q.rowsum) {
        const T* row = rows + r * q.kp;
        uint32_t sum = 0;
        for (size_t kk = 0; kk < s.kh * s.kw * q.cg; ++kk) sum += uint32_t(int32_t(row[kk]));
        q.rowsum[r] = int32_t(sum);
      }
    }
  };
  if (q.ak == AKind::kU8) go(static_cast<uint8_t*>(q.rows), static_cast<const uint8_t*>(q.nhwc));
  else if (q.ak == AKind::kS8) go(static_cast<int8_t*>(q.rows), static_cast<const int8_t*>(q.nhwc));
  else go(static_cast<int16_t*>(q.rows), static_cast<const int16_t*>(q.nhwc));
}

struct Gather1x1Ctx {
  const ConvShape* s;
  size_t oh, ow, cg, g, kp;
  int off;
  DType st;
  AKind ak;
  const void* x;  // one image, NCHW
  void* rows;
  int32_t* rowsum;
  size_t chunks;
};

void gather_1x1(void* p, size_t i) {
  const Gather1x1Ctx& q = *static_cast<const Gather1x1Ctx*>(p);
  const ConvShape& s = *q.s;
  const size_t npx = q.oh * q.ow;
  const size_t r0 = npx * i / q.chunks, r1 = npx * (i + 1) / q.chunks;
  auto go = [&](auto* rows, const auto* x) {
    using T = std::remove_pointer_t<decltype(rows)>;
    size_t src[64];
    for (size_t b0 = r0; b0 < r1; b0 += 64) {
      const size_t b1 = std::min(r1, b0 + 64);
      for (size_t r = b0; r < b1; ++r) src[r - b0] = (r / q.ow) * s.stride_h * s.w + (r % q.ow) * s.stride_w;
      for (size_t ci = 0; ci < q.cg; ++ci) {
        const auto* plane = x + (q.g * q.cg + ci) * s.h * s.w;
        for (size_t r = b0; r < b1; ++r) rows[r * q.kp + ci] = T(int32_t(plane[src[r - b0]]) + q.off);
      }
      for (size_t r = b0; r < b1; ++r) {
        for (size_t kk = q.cg; kk < q.kp; ++kk) rows[r * q.kp + kk] = 0;
        if (q.rowsum) {
          uint32_t sum = 0;
          for (size_t kk = 0; kk < q.cg; ++kk) sum += uint32_t(int32_t(rows[r * q.kp + kk]));
          q.rowsum[r] = int32_t(sum);
        }
      }
    }
  };
  auto with_rows = [&](auto* x) {
    if (q.ak == AKind::kU8) go(static_cast<uint8_t*>(q.rows), x);
    else if (q.ak == AKind::kS8) go(static_cast<int8_t*>(q.rows), x);
    else go(static_cast<int16_t*>(q.rows), x);
  };
  if (q.st == DType::kS8) with_rows(static_cast<const int8_t*>(q.x));
  else with_rows(static_cast<const uint8_t*>(q.x));
}

// src [rows][cols] -> dst [cols][rows] (element size 1 or 4), blocked for cache lines; split over columns.
struct TransposeCtx {
  const void* src;
  void* dst;
  size_t rows, cols, eb, chunks;
};

template <class T>
void transpose_block(const T* s, T* d, size_t rows, size_t cols, size_t c0, size_t c1) {
  constexpr size_t B = 32;
  for (size_t r0 = 0; r0 < rows; r0 += B) {
    const size_t r1 = std::min(rows, r0 + B);
    for (size_t c = c0; c < c1; ++c)
      for (size_t r = r0; r < r1; ++r) d[c * rows + r] = s[r * cols + c];
  }
}

#if defined(__x86_64__)
// 16x16 byte transpose with SSE2 (baseline x86-64, no target attribute): four unpack rounds (8, 16, 32, 64 bit).
void transpose16(const uint8_t* s, size_t ss, uint8_t* d, size_t ds) {
  __m128i a[16], b[16], c[16], e[16];
  for (int i = 0; i < 16; ++i) a[i] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i * ss));
  for (int i = 0; i < 8; ++i) {
    b[2 * i] = _mm_unpacklo_epi8(a[2 * i], a[2 * i + 1]);
    b[2 * i + 1] = _mm_unpackhi_epi8(a[2 * i], a[2 * i + 1]);
  }
  for (int g = 0; g < 4; ++g) {
    c[4 * g + 0] = _mm_unpacklo_epi16(b[4 * g], b[4 * g + 2]);
    c[4 * g + 1] = _mm_unpackhi_epi16(b[4 * g], b[4 * g + 2]);
    c[4 * g + 2] = _mm_unpacklo_epi16(b[4 * g + 1], b[4 * g + 3]);
    c[4 * g + 3] = _mm_unpackhi_epi16(b[4 * g + 1], b[4 * g + 3]);
  }
  for (int h = 0; h < 2; ++h)  // rows 8h..8h+7: groups 2h, 2h+1
    for (int q = 0; q < 4; ++q) {
      e[8 * h + 2 * q] = _mm_unpacklo_epi32(c[4 * (2 * h) + q], c[4 * (2 * h + 1) + q]);
      e[8 * h + 2 * q + 1] = _mm_unpackhi_epi32(c[4 * (2 * h) + q], c[4 * (2 * h + 1) + q]);
    }
  for (int t = 0; t < 8; ++t) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(d + (2 * t) * ds), _mm_unpacklo_epi64(e[t], e[8 + t]));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(d + (2 * t + 1) * ds), _mm_unpackhi_epi64(e[t], e[8 + t]));
  }
}
#endif

void transpose_out(void* p, size_t i) {
  const TransposeCtx& q = *static_cast<const TransposeCtx*>(p);
  const size_t c0 = q.cols * i / q.chunks, c1 = q.cols * (i + 1) / q.chunks;
  if (q.eb == 1) {
    const uint8_t* s = static_cast<const uint8_t*>(q.src);
    uint8_t* d = static_cast<uint8_t*>(q.dst);
#if defined(__x86_64__)
    const size_t r16 = q.rows / 16 * 16, c16 = c0 + (c1 - c0) / 16 * 16;
    for (size_t r = 0; r < r16; r += 16)
      for (size_t c = c0; c < c16; c += 16) transpose16(s + r * q.cols + c, q.cols, d + c * q.rows + r, q.rows);
    for (size_t c = c16; c < c1; ++c)  // column tail, all rows
      for (size_t r = 0; r < q.rows; ++r) d[c * q.rows + r] = s[r * q.cols + c];
    for (size_t c = c0; c < c16; ++c)  // row tail
      for (size_t r = r16; r < q.rows; ++r) d[c * q.rows + r] = s[r * q.cols + c];
#else
    transpose_block(s, d, q.rows, q.cols, c0, c1);
#endif
  } else
    transpose_block(static_cast<const int32_t*>(q.src), static_cast<int32_t*>(q.dst), q.rows, q.cols, c0, c1);
}

}  // namespace

namespace {

// Depthwise (groups == c == oc) runs directly on NCHW, one channel plane at a time: a GEMM with N = 1 and
// K = kh*kw would waste the tile. Padded taps add (zx - zx)(w - zw) = 0 in the reference, so they are
// skipped; the valid output-column range of each tap is computed once so the inner loop is a plain
// (auto-vectorisable) multiply-add over contiguous columns for stride 1. Sums wrap in uint32 as the
// reference does. Portable C++: every ISA runs it.
struct DwCtx {
  const ConvShape* s;
  size_t oh, ow;
  const PackedConv* pw;
  const void* x;  // image b, NCHW
  DType st;
  int32_t zx;
  const int32_t* bias;
  const TileArgs* t;  // epilogue over global channels; out = image b, transposed [c][pixel]
  size_t chunks;
};

void dw_chunk(void* p, size_t i) {
  const DwCtx& q = *static_cast<const DwCtx*>(p);
  const ConvShape& s = *q.s;
  const size_t c0 = s.c * i / q.chunks, c1 = s.c * (i + 1) / q.chunks;
  const size_t khw = s.kh * s.kw;
  std::vector<uint32_t> acc(q.ow);
  std::vector<int32_t> wk(khw), xr(s.w);
  for (size_t ch = c0; ch < c1; ++ch) {
    const PackedWeights& w = *q.pw->groups[ch];
    for (size_t t = 0; t < khw; ++t) wk[t] = int32_t(w.v[t]) - w.zv[0];
    const size_t plane = ch * s.h * s.w;
    for (size_t oy = 0; oy < q.oh; ++oy) {
      std::fill(acc.begin(), acc.end(), q.bias ? uint32_t(q.bias[ch]) : 0u);
      for (size_t ky = 0; ky < s.kh; ++ky) {
        const size_t iy_p = oy * s.stride_h + ky * s.dil_h;
        if (iy_p < s.pad_t || iy_p - s.pad_t >= s.h) continue;
        const size_t row = plane + (iy_p - s.pad_t) * s.w;
        for (size_t ix = 0; ix < s.w; ++ix)
          xr[ix] = (q.st == DType::kS8 ? int32_t(static_cast<const int8_t*>(q.x)[row + ix])
                                       : int32_t(static_cast<const uint8_t*>(q.x)[row + ix])) - q.zx;
        for (size_t kx = 0; kx < s.kw; ++kx) {
          const int32_t wv = wk[ky * s.kw + kx];
          // valid ox: pad_l <= ox*stride + kx*dil < pad_l + w
          const size_t base = kx * s.dil_w;
          size_t lo = 0;
          if (base < s.pad_l) lo = (s.pad_l - base + s.stride_w - 1) / s.stride_w;
          const size_t lim = s.pad_l + s.w;  // ox*stride + base < lim
          if (base >= lim) continue;
          size_t hi = std::min(q.ow, (lim - base + s.stride_w - 1) / s.stride_w);
          if (lo >= hi) continue;
          const int32_t* xs = xr.data() + (lo * s.stride_w + base - s.pad_l);
          if (s.stride_w == 1)
            for (size_t ox = lo; ox < hi; ++ox) acc[ox] += uint32_t(xs[ox - lo] * wv);
          else
            for (size_t ox = lo; ox < hi; ++ox) acc[ox] += uint32_t(xs[(ox - lo) * s.stride_w] * wv);
        }
      }
      store_tile_generic(*q.t, reinterpret_cast<const int32_t*>(acc.data()), 1, oy * q.ow, q.ow, ch, 1);
    }
  }
}

}  // namespace

Status conv(const PackedConv& pw, const ConvShape& s, const Operand& x, int32_t x_zp, const int32_t* bias,
            size_t bias_len, const Epilogue& ep, void* out, size_t out_len, int threads) {
  const std::string fn = "conv";
  const ConvShape& ps = pw.shape;
  if (s.c != ps.c || s.oc != ps.oc || s.kh != ps.kh || s.kw != ps.kw || s.groups != ps.groups)
    return Status::Error(fn + "(shape): c, oc, kh, kw, groups differ from the packed weights (" + std::to_string(ps.c) +
                         ", " + std::to_string(ps.oc) + ", " + std::to_string(ps.kh) + ", " + std::to_string(ps.kw) +
                         ", " + std::to_string(ps.groups) + ")");
  if (s.n == 0) return Status::Error(fn + "(shape): expected n >= 1");
  for (size_t v : {s.n, s.h, s.w, s.stride_h, s.stride_w, s.dil_h, s.dil_w, s.pad_t, s.pad_l, s.pad_b, s.pad_r})
    if (v > (size_t(1) << 20)) return Status::Error(fn + "(shape): a dimension exceeds 2^20");
  size_t oh = 0, ow = 0;
  if (Status st = conv_out_size(s, &oh, &ow); !st.ok) return st;
  size_t xs = 0, os = 0, hw = 0, ohw = 0;
  if (!mul_ok(s.h, s.w, &hw) || !mul_ok(oh, ow, &ohw) || !mul_ok(s.n * s.c, hw, &xs) || !mul_ok(s.n * s.oc, ohw, &os) ||
      xs > (size_t(1) << 40) || os > (size_t(1) << 40))
    return Status::Error(fn + "(shape): size overflows");
  if (!x.data || x.len != xs)
    return Status::Error(fn + "(x): expected " + std::to_string(xs) + " elements but received " + std::to_string(x.len));
  if (x.dtype != DType::kS8 && x.dtype != DType::kU8) return Status::Error(fn + "(x.dtype): unknown dtype");
  if (Status st = check_act_zp(x_zp, x.dtype, fn + "(xZeroPoint)"); !st.ok) return st;
  if (bias && bias_len != s.oc)
    return Status::Error(fn + "(bias): expected " + std::to_string(s.oc) + " int32 values but received " + std::to_string(bias_len));
  if (!out || out_len != os)
    return Status::Error(fn + "(out): expected " + std::to_string(os) + " values but received " + std::to_string(out_len));
  const KernelDesc* kd = pick_kernel();
  const size_t cg = s.c / s.groups, ocg = s.oc / s.groups;
  const size_t k = cg * s.kh * s.kw;
  const size_t kp = round_up(k, size_t(kd->kq));
  const size_t n_pad = round_up(ocg, size_t(kd->nr));
  TileArgs base;
  std::vector<float> m32_all;
  std::vector<int32_t> fix;
  if (Status st = setup_epilogue(ep, s.oc, fn, &base, &m32_all, round_up(s.oc, 64), &fix); !st.ok) return st;
  // Per-channel fixed-point tables are laid out for the whole oc; grouped GEMMs use the generic epilogue.
  if (s.groups > 1 && (base.mode == EpMode::kTflDouble || base.mode == EpMode::kMulShift)) base.mode = EpMode::kGeneric;
  threads = resolve_threads(threads);
  if (s.groups == s.c && s.oc == s.c && s.groups > 1) {
    TileArgs t = base;
    t.m = ohw, t.n = s.oc, t.ldo = ohw, t.transposed = true;
    for (size_t b = 0; b < s.n; ++b) {
      t.out = static_cast<uint8_t*>(out) + b * s.oc * ohw * (ep.requant ? 1 : 4);
      DwCtx dc{&s, oh, ow, &pw, static_cast<const uint8_t*>(x.data) + b * s.c * hw, x.dtype, x_zp, bias, &t,
               std::min<size_t>(s.c, size_t(threads) * 4)};
      parallel_for(threads, dc.chunks, dw_chunk, &dc);
    }
    return Status::Ok();
  }
  const int off = a_offset(kd, x.dtype);
  const int32_t za = x_zp + off;
  const size_t eb = a_elem_bytes(kd->akind);
  const bool direct = s.kh == 1 && s.kw == 1 && s.stride_h == 1 && s.stride_w == 1 && s.pad_t == 0 && s.pad_l == 0 &&
                      s.pad_b == 0 && s.pad_r == 0 && s.groups == 1 && kp == s.c;
  struct View {
    void* p;
  };
  // Strided / grouped 1x1 convs without padding gather their rows straight from NCHW (no full NHWC copy:
  // a stride-2 downsample reads only a quarter of the image).
  const bool pointwise = !direct && s.kh == 1 && s.kw == 1 && s.pad_t == 0 && s.pad_l == 0 && s.pad_b == 0 && s.pad_r == 0;
  View nhwc{pointwise ? nullptr : scratch(1, hw * s.c * eb)};
  View rows{direct ? nullptr : scratch(2, ohw * kp * eb)};
  std::vector<int32_t> rowsum;
  const size_t xbytes = 1;
  const size_t obytes = ep.requant ? 1 : 4;
  View tmp{scratch(3, ohw * ocg * obytes)};
  if ((!pointwise && !nhwc.p) || (!direct && !rows.p) || !tmp.p)
    return Status::Error(fn + ": out of memory for the im2col / output buffers");
  for (size_t b = 0; b < s.n; ++b) {
    NhwcCtx nc{static_cast<const uint8_t*>(x.data) + b * s.c * hw * xbytes, x.dtype, s.c, hw, off, kd->akind, nhwc.p,
               std::min<size_t>(hw, size_t(threads))};
    if (!pointwise) parallel_for(threads, nc.chunks, to_nhwc, &nc);
    for (size_t g = 0; g < s.groups; ++g) {
      const PackedWeights& w = *pw.groups[g];
      const auto& pan = w.panels_for(kd);
      if (!pan.buf->p) return Status::Error(fn + ": out of memory for the packed weights");
      std::vector<int32_t> gbias;
      if (bias) gbias.assign(bias + g * ocg, bias + (g + 1) * ocg);
      std::vector<int32_t> col_add, zv;
      fill_col_add(w, za, bias ? gbias.data() : nullptr, &col_add, &zv, n_pad);
      if (w.any_zv) rowsum.assign(ohw, 0);
      TileArgs t = base;
      std::vector<float> m32;
      std::vector<Multiplier> gmult;
      if (ep.requant) {
        if (ep.mult_len != 1) {
          t.mult = ep.mult + g * ocg;
        }
        if (t.beta && ep.mult_len != 1) t.beta = ep.beta + g * ocg;
        if (t.mode == EpMode::kFp32) {
          m32.assign(n_pad, 0.0f);
          for (size_t c = 0; c < ocg; ++c) m32[c] = m32_all[g * ocg + c];
          t.m32 = m32.data();
        }
      }
      const void* arows = nhwc.p;
      if (pointwise) {
        Gather1x1Ctx gc{&s, oh, ow, cg, g, kp, off, x.dtype, kd->akind, static_cast<const uint8_t*>(x.data) + b * s.c * hw,
                        rows.p, w.any_zv ? rowsum.data() : nullptr, std::min<size_t>(ohw, size_t(threads) * 4)};
        parallel_for(threads, gc.chunks, gather_1x1, &gc);
        arows = rows.p;
      } else if (!direct) {
        Im2colCtx ic{&s, oh, ow, cg, g, kp, za, kd->akind, nhwc.p, rows.p, w.any_zv ? rowsum.data() : nullptr,
                     std::min<size_t>(ohw, size_t(threads) * 4)};
        parallel_for(threads, ic.chunks, im2col, &ic);
        arows = rows.p;
      } else if (w.any_zv) {
        for (size_t r = 0; r < ohw; ++r) {
          uint32_t sum = 0;
          for (size_t kk = 0; kk < k; ++kk) {
            const uint8_t* base_p = static_cast<const uint8_t*>(nhwc.p) + (r * kp + kk) * eb;
            int32_t v = kd->akind == AKind::kU8   ? int32_t(*base_p)
                        : kd->akind == AKind::kS8 ? int32_t(int8_t(*base_p))
                                                  : int32_t(*reinterpret_cast<const int16_t*>(base_p));
            sum += uint32_t(v);
          }
          rowsum[r] = int32_t(sum);
        }
      }
      t.m = ohw;
      t.n = ocg;
      t.k = k;
      t.kp = kp;
      t.a = arows;
      t.lda = kp;
      t.b = pan.buf->p;
      t.col_add = col_add.data();
      t.zv = w.any_zv ? zv.data() : nullptr;
      t.rowsum = w.any_zv ? rowsum.data() : nullptr;
      // Row-major [pixel][oc] tile stores stay vectorised; one blocked transpose then writes NCHW.
      t.out = tmp.p;
      t.ldo = ocg;
      t.transposed = false;
      run_core(kd, t, threads);
      TransposeCtx tc{tmp.p, static_cast<uint8_t*>(out) + (b * s.oc + g * ocg) * ohw * obytes, ohw, ocg, obytes,
                      std::min<size_t>(ocg, size_t(threads))};
      parallel_for(threads, tc.chunks, transpose_out, &tc);
    }
  }
  return Status::Ok();
}

// ---- names / threads -----------------------------------------------------------------------------
const char* gemm_kernel_name() { return pick_kernel()->name; }

std::vector<std::pair<std::string, bool>> gemm_kernels() {
  std::vector<std::pair<std::string, bool>> r;
  for (const auto& v : qrb::s8gemm_variants()) r.push_back({v.name, isa_available(v.isa)});
  return r;
}

void set_default_threads(int n) { g_default_threads = std::min(std::max(n, 1), 64); }
int default_threads() { return g_default_threads; }

}  // namespace qrb::intq::fast
