// s8_gemm_6x64_avx512vnni: int8 GEMM micro-kernel on AVX-512 VNNI (issue 5; INTEGER.md §a "VPDPBUSD").
//   VPDPBUSD multiplies u8 x s8 and adds groups of 4 products into int32 lanes WITHOUT saturation (never the
//   S form, VPDPBUSDS). Activations therefore enter as u8: s8 x becomes a' = x ^ 0x80 = x + 128 (the driver
//   applies the offset while preparing rows) and the +128 * sum_k v[c] it adds is folded into col_add, like
//   XNNPACK's qs8_to_qu8 packing. u8 x enters unchanged.
//   A rows:   a'[m][kp] u8, kp = K rounded up to 4 (zero padded)
//   B panels: 64 columns each; per K quad q: 64 x 4 bytes, column j's 4 consecutive K bytes at 4j, so zmm
//             register t holds columns 16t..16t+15 (s8 v = w - offW, padded columns / K lanes 0)
//   tile:     6 rows x 64 columns = 24 zmm accumulators + 4 B registers + 1 broadcast (29 of 32)
//   epilogue: + col_add, - zv*rowsum, then int32 out / vectorised fp32 requant (xnnpack-fp32, ort-mlas:
//             cvtdq2ps, mulps, max/min, cvtps2dq = RNE, +zy, saturating narrow) / vectorised fixed point
//             (tflite-double: SRDHM via VPMULDQ + RDBPOT; tflite-single, xnnpack-rndnu: 64-bit RHU shift) /
//             generic per element (onnx-ref, trt-gpu, depthwise-upward rounding).
// Built without -m flags: the target attribute scopes the ISA; dispatch only calls it when cpuid has VNNI.
// Test: ctest -R intq_fast (QRB_ISA caps reach every variant). Bench: npm run bench:kernels.
#include "qrb/intq_fast_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#define QRB_VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")))

namespace qrb::intq::fast {

namespace {

constexpr int kMR = 6, kNR = 64;

size_t panel_bytes(size_t kp) { return kp * kNR; }

void pack_b(const int8_t* v, size_t n, size_t k, size_t kp, void* dst) {
  int8_t* d = static_cast<int8_t*>(dst);
  const size_t np = (n + kNR - 1) / kNR;
  for (size_t p = 0; p < np; ++p)
    for (size_t q = 0; q < kp / 4; ++q)
      for (size_t j = 0; j < size_t(kNR); ++j)
        for (size_t u = 0; u < 4; ++u) {
          const size_t c = p * kNR + j, kk = q * 4 + u;
          d[((p * (kp / 4) + q) * kNR + j) * 4 + u] = (c < n && kk < k) ? v[c * k + kk] : 0;
        }
}

// Accumulators are named variables (not an array): GCC does not scalarise arrays indexed inside loops
// before its register allocation, and 24 zmm accumulators must never touch the stack in the K loop.
#define QRB_ROW(i)                                                   \
  if constexpr (MR > i) {                                            \
    int32_t av;                                                      \
    std::memcpy(&av, a + i * lda + 4 * q, 4);                        \
    const __m512i va = _mm512_set1_epi32(av);                        \
    c##i##0 = _mm512_dpbusd_epi32(c##i##0, va, b0);                  \
    c##i##1 = _mm512_dpbusd_epi32(c##i##1, va, b1);                  \
    c##i##2 = _mm512_dpbusd_epi32(c##i##2, va, b2);                  \
    c##i##3 = _mm512_dpbusd_epi32(c##i##3, va, b3);                  \
  }
#define QRB_DECL(i) __m512i c##i##0 = z, c##i##1 = z, c##i##2 = z, c##i##3 = z;
#define QRB_SPILL(i)                                                 \
  if constexpr (MR > i) {                                            \
    _mm512_store_si512(buf + i * kNR + 0, c##i##0);                  \
    _mm512_store_si512(buf + i * kNR + 16, c##i##1);                 \
    _mm512_store_si512(buf + i * kNR + 32, c##i##2);                 \
    _mm512_store_si512(buf + i * kNR + 48, c##i##3);                 \
  }

template <int MR>
QRB_VNNI inline void accumulate(const uint8_t* a, size_t lda, const int8_t* b, size_t nq, int32_t* buf) {
  const __m512i z = _mm512_setzero_si512();
  QRB_DECL(0) QRB_DECL(1) QRB_DECL(2) QRB_DECL(3) QRB_DECL(4) QRB_DECL(5)
  for (size_t q = 0; q < nq; ++q) {
    const __m512i b0 = _mm512_load_si512(b);
    const __m512i b1 = _mm512_load_si512(b + 64);
    const __m512i b2 = _mm512_load_si512(b + 128);
    const __m512i b3 = _mm512_load_si512(b + 192);
    b += 256;
    QRB_ROW(0) QRB_ROW(1) QRB_ROW(2) QRB_ROW(3) QRB_ROW(4) QRB_ROW(5)
  }
  QRB_SPILL(0) QRB_SPILL(1) QRB_SPILL(2) QRB_SPILL(3) QRB_SPILL(4) QRB_SPILL(5)
}
#undef QRB_ROW
#undef QRB_DECL
#undef QRB_SPILL

// (a * m + 2^(sh-1)) >> sh per lane in int64 (VPMULDQ on even and odd lanes), low 32 bits kept: the
// reference's rhu_shift64 followed by its int32 wrap. sh in [1, 62].
QRB_VNNI inline __m512i mul_shift(__m512i a, __m512i m, __m512i sh) {
  const __m512i lo32 = _mm512_set1_epi64(0xFFFFFFFFll), one = _mm512_set1_epi64(1);
  const __m512i she = _mm512_and_si512(sh, lo32), sho = _mm512_srli_epi64(sh, 32);
  __m512i pe = _mm512_mul_epi32(a, m);
  __m512i po = _mm512_mul_epi32(_mm512_srli_epi64(a, 32), _mm512_srli_epi64(m, 32));
  pe = _mm512_srav_epi64(_mm512_add_epi64(pe, _mm512_sllv_epi64(one, _mm512_sub_epi64(she, one))), she);
  po = _mm512_srav_epi64(_mm512_add_epi64(po, _mm512_sllv_epi64(one, _mm512_sub_epi64(sho, one))), sho);
  return _mm512_or_si512(_mm512_and_si512(pe, lo32), _mm512_slli_epi64(po, 32));
}

// tflite-double: RDBPOT(SRDHM(acc << left, q), right) (gemmlowp; q in [0, 2^31) so SRDHM's MIN*MIN case never
// occurs). The left shift wraps in int32 exactly like the reference's int32_shl_wrap.
QRB_VNNI inline __m512i tfl_double(__m512i a, __m512i q, __m512i shift) {
  const __m512i zero = _mm512_setzero_si512(), one = _mm512_set1_epi32(1);
  const __m512i left = _mm512_max_epi32(shift, zero), right = _mm512_max_epi32(_mm512_sub_epi32(zero, shift), zero);
  const __m512i x = _mm512_sllv_epi32(a, left);
  const __m512i hi = mul_shift(x, q, _mm512_set1_epi64(31ll | (31ll << 32)));  // RHU(x*q / 2^31)
  const __m512i mask = _mm512_sub_epi32(_mm512_sllv_epi32(one, right), one);
  const __m512i rem = _mm512_and_si512(hi, mask);
  const __m512i thr = _mm512_add_epi32(_mm512_srli_epi32(mask, 1), _mm512_srli_epi32(hi, 31));
  const __m512i r = _mm512_srav_epi32(hi, right);
  return _mm512_mask_add_epi32(r, _mm512_cmpgt_epi32_mask(rem, thr), r, one);
}

template <int MR>
QRB_VNNI void tile(const TileArgs& t, size_t r0, size_t p) {
  alignas(64) int32_t buf[kMR * kNR];
  accumulate<MR>(static_cast<const uint8_t*>(t.a) + r0 * t.lda, t.lda,
                 static_cast<const int8_t*>(t.b) + p * t.kp * kNR, t.kp / 4, buf);
  const size_t c0 = p * kNR;
  const size_t cols = std::min<size_t>(kNR, t.n - c0);
  __mmask16 mask[4];
  for (int j = 0; j < 4; ++j) {
    const size_t lo = size_t(16 * j);
    const size_t cnt = cols > lo ? std::min<size_t>(16, cols - lo) : 0;
    mask[j] = __mmask16((1u << cnt) - 1u);
  }
  const __m512 vlo = _mm512_set1_ps(t.lo), vhi = _mm512_set1_ps(t.hi);
  const __m512i vzy = _mm512_set1_epi32(t.opt.zy);
  const bool fixed = t.mode == EpMode::kTflDouble || t.mode == EpMode::kMulShift;
  const bool direct = !t.transposed && t.mode != EpMode::kGeneric;
  const __m512i qlo = _mm512_set1_epi32(t.opt.qmin - t.opt.zy), qhi = _mm512_set1_epi32(t.opt.qmax - t.opt.zy);
  for (int j = 0; j < 4; ++j) {
    const __m512i ca = _mm512_loadu_si512(t.col_add + c0 + 16 * j);
    const __m512i zv = t.zv ? _mm512_loadu_si512(t.zv + c0 + 16 * j) : _mm512_setzero_si512();
    const __m512 m = t.mode == EpMode::kFp32 ? _mm512_loadu_ps(t.m32 + c0 + 16 * j) : _mm512_setzero_ps();
    const __m512i fq = fixed ? _mm512_loadu_si512(t.fq + c0 + 16 * j) : _mm512_setzero_si512();
    const __m512i fs = fixed ? _mm512_loadu_si512(t.fs + c0 + 16 * j) : _mm512_setzero_si512();
    for (int i = 0; i < MR; ++i) {
      int32_t* bp = buf + i * kNR + 16 * j;
      __m512i v = _mm512_add_epi32(_mm512_load_si512(bp), ca);
      if (t.zv) v = _mm512_sub_epi32(v, _mm512_mullo_epi32(zv, _mm512_set1_epi32(t.rowsum[r0 + i])));
      if (t.mode == EpMode::kFp32) {
        __m512 f = _mm512_mul_ps(_mm512_cvtepi32_ps(v), m);
        f = _mm512_min_ps(_mm512_max_ps(f, vlo), vhi);
        v = _mm512_add_epi32(_mm512_cvtps_epi32(f), vzy);  // MXCSR default: round to nearest even
      } else if (fixed) {
        // clamp(r + zy, qmin, qmax) == clamp(r, qmin - zy, qmax - zy) + zy, without int32 overflow
        v = t.mode == EpMode::kTflDouble ? tfl_double(v, fq, fs) : mul_shift(v, fq, fs);
        v = _mm512_add_epi32(_mm512_min_epi32(_mm512_max_epi32(v, qlo), qhi), vzy);
      }
      if (!direct) {
        _mm512_store_si512(bp, v);
      } else if (mask[j]) {
        if (t.mode == EpMode::kAcc32) {
          _mm512_mask_storeu_epi32(static_cast<int32_t*>(t.out) + (r0 + i) * t.ldo + c0 + 16 * j, mask[j], v);
        } else {
          uint8_t* o = static_cast<uint8_t*>(t.out) + (r0 + i) * t.ldo + c0 + 16 * j;
          if (t.out_u8)
            _mm512_mask_cvtusepi32_storeu_epi8(o, mask[j], v);
          else
            _mm512_mask_cvtsepi32_storeu_epi8(o, mask[j], v);
        }
      }
    }
  }
  if (direct) return;
  if (t.mode == EpMode::kGeneric)
    store_tile_generic(t, buf, kNR, r0, MR, c0, cols);
  else
    store_tile_codes(t, buf, kNR, r0, MR, c0, cols);  // codes (or int32) already computed above
}

QRB_VNNI void run(const TileArgs& t, size_t m0, size_t m1, size_t p0, size_t p1) {
  for (size_t p = p0; p < p1; ++p) {
    size_t r = m0;
    for (; r + kMR <= m1; r += kMR) tile<kMR>(t, r, p);
    switch (m1 - r) {
      case 5: tile<5>(t, r, p); break;
      case 4: tile<4>(t, r, p); break;
      case 3: tile<3>(t, r, p); break;
      case 2: tile<2>(t, r, p); break;
      case 1: tile<1>(t, r, p); break;
      default: break;
    }
  }
}

}  // namespace

const KernelDesc kS8Gemm6x64Avx512Vnni{"s8_gemm_6x64_avx512vnni", Isa::avx512vnni, kMR, kNR, 4, AKind::kU8, 128, 0,
                                       panel_bytes, pack_b, run};

}  // namespace qrb::intq::fast
#endif
