// GEMM / conv references: against an independent int64 triple loop over random shapes (1, primes, K
// below/at/above 8 and 16, ragged m and n, extreme zero points, per-channel weights), packed int4/int2
// ("lowbit") equal to the int8-container results exactly incl. odd K, the accumulator hazards of §e9, and
// argument checks.
#include <algorithm>
#include <vector>

#include "harness.h"
#include "qrb/intq.h"

using namespace qrb::intq;

namespace {

struct Case {
  size_t m, n, k;
  DType at, wt;
  int32_t az;
  std::vector<uint8_t> a, w;
  std::vector<int32_t> wz, bias;
};

int32_t code(const std::vector<uint8_t>& v, size_t i, DType t) { return t == DType::kS8 ? int32_t(int8_t(v[i])) : int32_t(v[i]); }

std::vector<int32_t> naive_gemm(const Case& c) {
  std::vector<int32_t> out(c.m * c.n);
  for (size_t i = 0; i < c.m; ++i)
    for (size_t j = 0; j < c.n; ++j) {
      int64_t s = c.bias.empty() ? 0 : c.bias[j];
      const int32_t wz = c.wz.empty() ? 0 : c.wz[c.wz.size() == 1 ? 0 : j];
      for (size_t kk = 0; kk < c.k; ++kk) s += int64_t(code(c.a, i * c.k + kk, c.at) - c.az) * (code(c.w, j * c.k + kk, c.wt) - wz);
      out[i * c.n + j] = int32_t(s);
    }
  return out;
}

Case random_case(qrb::test::Rng& rng, size_t m, size_t n, size_t k) {
  Case c{m, n, k, rng.range(0, 1) ? DType::kS8 : DType::kU8, rng.range(0, 1) ? DType::kS8 : DType::kU8, 0, {}, {}, {}, {}};
  c.a.resize(m * k);
  c.w.resize(n * k);
  for (auto& b : c.a) b = uint8_t(rng.next());
  for (auto& b : c.w) b = uint8_t(rng.next());
  auto zp = [&](DType t) {
    const int r = int(rng.range(0, 3));  // extremes and random
    if (t == DType::kS8) return r == 0 ? -128 : r == 1 ? 127 : int32_t(rng.range(-128, 127));
    return r == 0 ? 0 : r == 1 ? 255 : int32_t(rng.range(0, 255));
  };
  c.az = zp(c.at);
  const int wzmode = int(rng.range(0, 2));
  if (wzmode == 1) c.wz = {zp(c.wt)};
  if (wzmode == 2)
    for (size_t j = 0; j < n; ++j) c.wz.push_back(zp(c.wt));
  if (rng.range(0, 1))
    for (size_t j = 0; j < n; ++j) c.bias.push_back(int32_t(rng.range(-(1 << 20), 1 << 20)));
  return c;
}

qrb::Status run_gemm(const Case& c, Hazard hz, std::vector<int32_t>* out) {
  out->assign(c.m * c.n, 0x5a5a5a5a);
  Weights w;
  w.data = c.w.data(), w.len = c.w.size(), w.dtype = c.wt, w.bits = 8;
  w.zp = c.wz.empty() ? nullptr : c.wz.data(), w.zp_len = c.wz.size();
  return gemm_acc({c.m, c.n, c.k}, {c.a.data(), c.a.size(), c.at}, c.az, w, c.bias.empty() ? nullptr : c.bias.data(), c.bias.size(),
                  hz, out->data(), out->size());
}

}  // namespace

QRB_TEST(intq_gemm, matches_int64_triple_loop) {
  qrb::test::Rng rng(77);
  const size_t ms[] = {1, 2, 3, 7};
  const size_t ns[] = {1, 5, 8, 13};
  const size_t ks[] = {1, 2, 7, 8, 9, 15, 16, 17, 31, 33, 64};
  int cases = 0;
  for (size_t m : ms)
    for (size_t n : ns)
      for (size_t k : ks) {
        Case c = random_case(rng, m, n, k);
        std::vector<int32_t> got;
        QRB_CHECK(run_gemm(c, Hazard::kNone, &got).ok);
        QRB_CHECK(got == naive_gemm(c));
        ++cases;
      }
  QRB_CHECK_EQ(cases, 176);
}

QRB_TEST(intq_gemm, hazards_equal_exact_when_no_overflow_and_e9_vectors) {
  // Random s8 x s8 with weights in the TFLite range [-127, 127] and activations away from -128: the A72
  // pair sum stays within int16, so the hazard path equals the exact path.
  qrb::test::Rng rng(9);
  for (int t = 0; t < 40; ++t) {
    Case c = random_case(rng, size_t(rng.range(1, 4)), size_t(rng.range(1, 9)), size_t(rng.range(1, 40)));
    c.at = DType::kS8, c.wt = DType::kS8;
    for (auto& b : c.a) b = uint8_t(int8_t(rng.range(-90, 90)));
    for (auto& b : c.w) b = uint8_t(int8_t(rng.range(-127, 127)));
    c.az = int32_t(rng.range(-128, 127));
    c.wz.clear();
    std::vector<int32_t> exact, a72;
    QRB_CHECK(run_gemm(c, Hazard::kNone, &exact).ok);
    QRB_CHECK(run_gemm(c, Hazard::kA72Int16Pair, &a72).ok);
    QRB_CHECK(exact == a72);
    // maddubs: u8 activations up to 127 (reduce_range) never saturate
    c.at = DType::kU8;
    for (auto& b : c.a) b = uint8_t(rng.range(0, 127));
    c.az = int32_t(rng.range(0, 255));
    std::vector<int32_t> ex2, sat;
    QRB_CHECK(run_gemm(c, Hazard::kNone, &ex2).ok);
    QRB_CHECK(run_gemm(c, Hazard::kMaddubsSat, &sat).ok);
    QRB_CHECK(ex2 == sat);
  }
  // §e9: w = -128 at lanes k and k+8 with x = -128 -> 32768 wraps to -32768: off by 65536.
  Case c{1, 1, 16, DType::kS8, DType::kS8, 0, std::vector<uint8_t>(16, 0), std::vector<uint8_t>(16, 0), {}, {}};
  c.a[3] = c.a[11] = uint8_t(int8_t(-128));
  c.w[3] = c.w[11] = uint8_t(int8_t(-128));
  std::vector<int32_t> exact, a72;
  QRB_CHECK(run_gemm(c, Hazard::kNone, &exact).ok);
  QRB_CHECK(run_gemm(c, Hazard::kA72Int16Pair, &a72).ok);
  QRB_CHECK_EQ(exact[0], 32768);
  QRB_CHECK_EQ(a72[0], -32768);
  // Lanes 3 and 4 are not an A72 pair: exact.
  c.a[11] = c.w[11] = 0;
  c.a[4] = c.w[4] = uint8_t(int8_t(-128));
  QRB_CHECK(run_gemm(c, Hazard::kA72Int16Pair, &a72).ok);
  QRB_CHECK_EQ(a72[0], 32768);
  // A trailing 8-chunk (K = 24: lanes 16..23) is unpaired.
  Case t{1, 1, 24, DType::kS8, DType::kS8, 0, std::vector<uint8_t>(24, 0x80), std::vector<uint8_t>(24, 0x80), {}, {}};
  QRB_CHECK(run_gemm(t, Hazard::kA72Int16Pair, &a72).ok);
  QRB_CHECK_EQ(a72[0], 8 * -32768 + 8 * 16384);
  // VPMADDUBSW: (255, 255) . (127, 127) = 64770 saturates to 32767.
  Case s{1, 1, 2, DType::kU8, DType::kS8, 0, {255, 255}, {127, 127}, {}, {}};
  std::vector<int32_t> sat;
  QRB_CHECK(run_gemm(s, Hazard::kMaddubsSat, &sat).ok);
  QRB_CHECK_EQ(sat[0], 32767);
  QRB_CHECK(run_gemm(s, Hazard::kNone, &sat).ok);
  QRB_CHECK_EQ(sat[0], 64770);
  // Odd K: the last lane pairs with a zero pad.
  Case o{1, 1, 3, DType::kU8, DType::kS8, 0, {255, 255, 255}, {127, 127, 127}, {}, {}};
  QRB_CHECK(run_gemm(o, Hazard::kMaddubsSat, &sat).ok);
  QRB_CHECK_EQ(sat[0], 32767 + 255 * 127);
  // Hazards reject the dtypes they do not model.
  QRB_CHECK(!run_gemm(s, Hazard::kA72Int16Pair, &sat).ok);
  QRB_CHECK(!run_gemm(c, Hazard::kMaddubsSat, &sat).ok);
}

QRB_TEST(intq_gemm, int32_wraps_like_hardware) {
  // 70000 * 255 * 127 overflows int32: the reference wraps (mod 2^32) rather than invoking UB.
  const size_t k = 70000;
  Case c{1, 1, k, DType::kU8, DType::kS8, 0, std::vector<uint8_t>(k, 255), std::vector<uint8_t>(k, 127), {}, {}};
  std::vector<int32_t> got;
  QRB_CHECK(run_gemm(c, Hazard::kNone, &got).ok);
  QRB_CHECK_EQ(got[0], int32_t(uint32_t(uint64_t(k) * 255u * 127u)));
}

// Conv: direct definition with int64 and explicit padding (independent loop order: output-major over
// input taps), then im2col-free comparison with the kernel.
namespace {
std::vector<int32_t> naive_conv(const ConvShape& s, const std::vector<uint8_t>& x, DType xt, int32_t xz, const std::vector<int8_t>& w,
                                const std::vector<int32_t>& wz, const std::vector<int32_t>& bias, size_t oh, size_t ow) {
  std::vector<int32_t> out(s.n * s.oc * oh * ow);
  const size_t cg = s.c / s.groups, ocg = s.oc / s.groups;
  for (size_t b = 0; b < s.n; ++b)
    for (size_t o = 0; o < s.oc; ++o)
      for (size_t y = 0; y < oh; ++y)
        for (size_t xo = 0; xo < ow; ++xo) {
          int64_t acc = bias.empty() ? 0 : bias[o];
          const int32_t z = wz.empty() ? 0 : wz[wz.size() == 1 ? 0 : o];
          for (size_t ci = 0; ci < cg; ++ci)
            for (size_t ky = 0; ky < s.kh; ++ky)
              for (size_t kx = 0; kx < s.kw; ++kx) {
                const long iy = long(y * s.stride_h + ky * s.dil_h) - long(s.pad_t);
                const long ix = long(xo * s.stride_w + kx * s.dil_w) - long(s.pad_l);
                const size_t ic = (o / ocg) * cg + ci;
                int32_t xv = xz;
                if (iy >= 0 && ix >= 0 && iy < long(s.h) && ix < long(s.w)) xv = code(x, ((b * s.c + ic) * s.h + size_t(iy)) * s.w + size_t(ix), xt);
                acc += int64_t(xv - xz) * (w[((o * cg + ci) * s.kh + ky) * s.kw + kx] - z);
              }
          out[((b * s.oc + o) * oh + y) * ow + xo] = int32_t(acc);
        }
  return out;
}
}  // namespace

QRB_TEST(intq_gemm, conv_matches_definition_and_lowbit_equals_int8) {
  qrb::test::Rng rng(31);
  int cases = 0;
  for (int t = 0; t < 60; ++t) {
    ConvShape s;
    s.n = size_t(rng.range(1, 2));
    const int kind = t % 3;  // 0 dense, 1 depthwise, 2 grouped
    s.groups = kind == 0 ? 1 : size_t(rng.range(2, 4));
    const size_t cg = kind == 1 ? 1 : size_t(rng.range(1, 3));
    s.c = s.groups * cg;
    s.oc = s.groups * size_t(rng.range(1, 3));
    s.kh = size_t(rng.range(1, 3)), s.kw = size_t(rng.range(1, 3));
    s.stride_h = size_t(rng.range(1, 2)), s.stride_w = size_t(rng.range(1, 3));
    s.dil_h = size_t(rng.range(1, 2)), s.dil_w = size_t(rng.range(1, 2));
    s.pad_t = size_t(rng.range(0, 2)), s.pad_l = size_t(rng.range(0, 2)), s.pad_b = size_t(rng.range(0, 2)), s.pad_r = size_t(rng.range(0, 1));
    s.h = size_t(rng.range(5, 8)), s.w = size_t(rng.range(5, 8));
    size_t oh = 0, ow = 0;
    QRB_CHECK(conv_out_size(s, &oh, &ow).ok);
    const DType xt = rng.range(0, 1) ? DType::kS8 : DType::kU8;
    std::vector<uint8_t> x(s.n * s.c * s.h * s.w);
    for (auto& b : x) b = uint8_t(rng.next());
    const int32_t xz = xt == DType::kS8 ? int32_t(rng.range(-128, 127)) : int32_t(rng.range(0, 255));
    const size_t k = cg * s.kh * s.kw;
    const int bits = t % 2 ? 4 : 2;
    const bool wsigned = rng.range(0, 2) != 0;
    const int lo = wsigned ? -(1 << (bits - 1)) : 0, hi = wsigned ? (1 << (bits - 1)) - 1 : (1 << bits) - 1;
    std::vector<int8_t> w(s.oc * k);
    for (auto& v : w) v = int8_t(rng.range(lo, hi));
    std::vector<int32_t> wz;
    if (rng.range(0, 1))
      for (size_t o = 0; o < s.oc; ++o) wz.push_back(int32_t(rng.range(lo, hi)));
    std::vector<int32_t> bias;
    for (size_t o = 0; o < s.oc; ++o) bias.push_back(int32_t(rng.range(-5000, 5000)));
    const auto want = naive_conv(s, x, xt, xz, w, wz, bias, oh, ow);
    std::vector<int32_t> got8(want.size()), gotp(want.size());
    Weights w8;
    w8.data = w.data(), w8.len = w.size(), w8.dtype = DType::kS8, w8.bits = 8, w8.zp = wz.empty() ? nullptr : wz.data(), w8.zp_len = wz.size();
    // int8 container: unsigned low-bit values also fit int8 and are read as signed codes of the same value
    QRB_CHECK(conv_acc(s, {x.data(), x.size(), xt}, xz, w8, bias.data(), bias.size(), Hazard::kNone, got8.data(), got8.size()).ok);
    QRB_CHECK(got8 == want);
    std::vector<uint8_t> packed(s.oc * packed_row_bytes(k, bits));
    QRB_CHECK(pack_rows(w.data(), s.oc, k, bits, wsigned, packed.data(), packed.size()).ok);
    Weights wp = w8;
    wp.data = packed.data(), wp.len = packed.size(), wp.bits = bits, wp.dtype = wsigned ? DType::kS8 : DType::kU8;
    QRB_CHECK(conv_acc(s, {x.data(), x.size(), xt}, xz, wp, bias.data(), bias.size(), Hazard::kNone, gotp.data(), gotp.size()).ok);
    QRB_CHECK(gotp == got8);
    ++cases;
  }
  QRB_CHECK_EQ(cases, 60);
}

QRB_TEST(intq_gemm, lowbit_gemm_equals_int8_container_odd_k) {
  qrb::test::Rng rng(42);
  for (int bits : {4, 2})
    for (bool sg : {true, false})
      for (size_t k : {1, 3, 5, 7, 8, 9, 13, 16, 17, 31, 33}) {
        const size_t m = size_t(rng.range(1, 5)), n = size_t(rng.range(1, 7));
        const int lo = sg ? -(1 << (bits - 1)) : 0, hi = sg ? (1 << (bits - 1)) - 1 : (1 << bits) - 1;
        std::vector<int8_t> w(n * k);
        for (auto& v : w) v = int8_t(rng.range(lo, hi));
        std::vector<uint8_t> a(m * k);
        for (auto& v : a) v = uint8_t(rng.next());
        const DType at = rng.range(0, 1) ? DType::kS8 : DType::kU8;
        const int32_t az = at == DType::kS8 ? int32_t(rng.range(-128, 127)) : int32_t(rng.range(0, 255));
        std::vector<int32_t> wz = {int32_t(rng.range(lo, hi))};
        std::vector<uint8_t> packed(n * packed_row_bytes(k, bits));
        QRB_CHECK(pack_rows(w.data(), n, k, bits, sg, packed.data(), packed.size()).ok);
        Weights w8, wp;
        w8.data = w.data(), w8.len = w.size(), w8.dtype = DType::kS8, w8.zp = wz.data(), w8.zp_len = 1;
        wp = w8;
        wp.data = packed.data(), wp.len = packed.size(), wp.bits = bits, wp.dtype = sg ? DType::kS8 : DType::kU8;
        std::vector<int32_t> o8(m * n), op(m * n);
        QRB_CHECK(gemm_acc({m, n, k}, {a.data(), a.size(), at}, az, w8, nullptr, 0, Hazard::kNone, o8.data(), o8.size()).ok);
        QRB_CHECK(gemm_acc({m, n, k}, {a.data(), a.size(), at}, az, wp, nullptr, 0, Hazard::kNone, op.data(), op.size()).ok);
        QRB_CHECK(o8 == op);
      }
}

QRB_TEST(intq_gemm, bad_arguments_are_errors) {
  std::vector<uint8_t> a(6), w(6);
  std::vector<int32_t> out(4);
  Weights wt;
  wt.data = w.data(), wt.len = 6;
  const Operand op{a.data(), 6, DType::kS8};
  QRB_CHECK(gemm_acc({2, 2, 3}, op, 0, wt, nullptr, 0, Hazard::kNone, out.data(), 4).ok);
  QRB_CHECK(!gemm_acc({2, 2, 3}, {a.data(), 5, DType::kS8}, 0, wt, nullptr, 0, Hazard::kNone, out.data(), 4).ok);
  QRB_CHECK(!gemm_acc({2, 2, 3}, op, 0, wt, nullptr, 0, Hazard::kNone, out.data(), 3).ok);
  QRB_CHECK(!gemm_acc({2, 2, 3}, op, 200, wt, nullptr, 0, Hazard::kNone, out.data(), 4).ok);
  QRB_CHECK(!gemm_acc({0, 2, 3}, op, 0, wt, nullptr, 0, Hazard::kNone, out.data(), 0).ok);
  QRB_CHECK(!gemm_acc({2, 2, 3}, op, 0, wt, out.data(), 3, Hazard::kNone, out.data(), 4).ok);
  QRB_CHECK(!gemm_acc({2, 2, 3}, op, 0, wt, nullptr, 0, Hazard(7), out.data(), 4).ok);
  QRB_CHECK(!gemm_acc({size_t(1) << 62, 4, 4}, op, 0, wt, nullptr, 0, Hazard::kNone, out.data(), 4).ok);
  Weights bad = wt;
  bad.bits = 3;
  QRB_CHECK(!gemm_acc({2, 2, 3}, op, 0, bad, nullptr, 0, Hazard::kNone, out.data(), 4).ok);
  bad.bits = 4;  // 2 rows of 4 bytes (K padded to 8) expected, 6 given
  QRB_CHECK(!gemm_acc({2, 2, 3}, op, 0, bad, nullptr, 0, Hazard::kNone, out.data(), 4).ok);
  int32_t zp[1] = {9};
  bad = wt;
  bad.bits = 8;
  bad.zp = zp, bad.zp_len = 1;
  QRB_CHECK(gemm_acc({2, 2, 3}, op, 0, bad, nullptr, 0, Hazard::kNone, out.data(), 4).ok);
  bad.zp_len = 3;
  QRB_CHECK(!gemm_acc({2, 2, 3}, op, 0, bad, nullptr, 0, Hazard::kNone, out.data(), 4).ok);
  ConvShape s;
  s.c = 3, s.h = 2, s.w = 2, s.oc = 2, s.kh = 3, s.kw = 3, s.groups = 1;
  size_t oh, ow;
  QRB_CHECK(!conv_out_size(s, &oh, &ow).ok);
  s.groups = 2;
  QRB_CHECK(!conv_acc(s, op, 0, wt, nullptr, 0, Hazard::kNone, out.data(), 4).ok);
  s.groups = 1, s.kh = 1, s.kw = 1, s.stride_h = 0;
  QRB_CHECK(!conv_acc(s, op, 0, wt, nullptr, 0, Hazard::kNone, out.data(), 4).ok);
}

QRB_TEST(intq_gemm, conv_hazards_follow_the_weight_k_order) {
  // A 1x1-output conv over a 4x4 single-channel input with a 4x4 kernel is one dot product of K = 16 in
  // (ky, kx) order, so taps 3 and 11 form an A72 pair exactly as in the GEMM.
  std::vector<uint8_t> x(16, 0);
  std::vector<int8_t> w(16, 0);
  x[3] = x[11] = uint8_t(int8_t(-128));
  w[3] = w[11] = -128;
  ConvShape s;
  s.c = 1, s.h = 4, s.w = 4, s.oc = 1, s.kh = 4, s.kw = 4;
  Weights wt;
  wt.data = w.data(), wt.len = 16;
  int32_t out = 0;
  QRB_CHECK(conv_acc(s, {x.data(), 16, DType::kS8}, 0, wt, nullptr, 0, Hazard::kA72Int16Pair, &out, 1).ok);
  QRB_CHECK_EQ(out, -32768);
  QRB_CHECK(conv_acc(s, {x.data(), 16, DType::kS8}, 0, wt, nullptr, 0, Hazard::kNone, &out, 1).ok);
  QRB_CHECK_EQ(out, 32768);
  QRB_CHECK(!conv_acc(s, {x.data(), 16, DType::kU8}, 0, wt, nullptr, 0, Hazard::kA72Int16Pair, &out, 1).ok);
}
