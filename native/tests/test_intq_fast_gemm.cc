// Fast int8 GEMM (issue 5) == reference (intq::gemm_acc + intq::requantize), bit for bit, for EVERY kernel
// this CPU can run (the ISA cap walks the ladder: scalar, avx2, avx512vnni / neon, neondot), over awkward
// shapes (1, primes, K below / at / above the 4- and 16-blocks, N above the 16- and 64-wide tiles, ragged M),
// s8 / u8 activations and weights, int4 / int2 / uint4 / uint2 packed weights (odd K, K % 4 != 0), extreme
// and per-channel zero points, bias, every requantization variant with clamps, int32 accumulator output,
// wrap-around accumulators, and 1..3 threads.
#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "harness.h"
#include "qrb/cpu.h"
#include "qrb/intq.h"
#include "qrb/intq_fast.h"
#include "qrb/registry.h"

using namespace qrb::intq;
using qrb::Status;
namespace fast = qrb::intq::fast;

namespace {

struct GemmCase {
  size_t m, n, k;
  DType at, wt;
  int bits;
  int32_t az;
  std::vector<uint8_t> a;
  std::vector<uint8_t> w;  // int8 container or packed rows
  std::vector<int32_t> wz, bias;
};

int32_t lo_of(int bits, bool s) { return bits == 8 ? (s ? -128 : 0) : (s ? -(1 << (bits - 1)) : 0); }
int32_t hi_of(int bits, bool s) { return bits == 8 ? (s ? 127 : 255) : (s ? (1 << (bits - 1)) - 1 : (1 << bits) - 1); }

GemmCase make_case(qrb::test::Rng& rng, size_t m, size_t n, size_t k, int bits, int zp_mode) {
  GemmCase c{m, n, k, rng.range(0, 1) ? DType::kS8 : DType::kU8, rng.range(0, 1) ? DType::kS8 : DType::kU8, bits, 0,
             {}, {}, {}, {}};
  const bool as = c.at == DType::kS8, ws = c.wt == DType::kS8;
  c.a.resize(m * k);
  for (auto& v : c.a) v = uint8_t(rng.range(lo_of(8, as), hi_of(8, as)));
  // zp_mode 0: zero, 1: random, 2: extreme (min / max of the type)
  if (zp_mode == 0) c.az = as ? 0 : 0;
  else if (zp_mode == 1) c.az = int32_t(rng.range(lo_of(8, as), hi_of(8, as)));
  else c.az = rng.range(0, 1) ? lo_of(8, as) : hi_of(8, as);
  std::vector<int8_t> vals(n * k);
  for (auto& v : vals) v = int8_t(rng.range(lo_of(bits, ws), hi_of(bits, ws)));
  if (bits == 8) {
    c.w.resize(n * k);
    std::memcpy(c.w.data(), vals.data(), n * k);
  } else {
    c.w.resize(n * packed_row_bytes(k, bits));
    pack_rows(vals.data(), n, k, bits, ws, c.w.data(), c.w.size());
  }
  if (zp_mode != 0) {
    const bool per_channel = rng.range(0, 1) == 1;
    c.wz.resize(per_channel ? n : 1);
    for (auto& z : c.wz)
      z = zp_mode == 1 ? int32_t(rng.range(lo_of(bits, ws), hi_of(bits, ws)))
                       : (rng.range(0, 1) ? lo_of(bits, ws) : hi_of(bits, ws));
  }
  if (rng.range(0, 2) != 0) {
    c.bias.resize(n);
    for (auto& b : c.bias) b = int32_t(rng.range(-100000, 100000));
    if (rng.range(0, 7) == 0) c.bias[0] = INT32_MAX - 5;  // forces int32 wrap in some accumulators
  }
  return c;
}

Weights weights_of(const GemmCase& c) {
  Weights w;
  w.data = c.w.data();
  w.len = c.w.size();
  w.dtype = c.wt;
  w.bits = c.bits;
  w.zp = c.wz.empty() ? nullptr : c.wz.data();
  w.zp_len = c.wz.size();
  return w;
}

struct EpCase {
  bool requant;
  Variant v;
  std::vector<Multiplier> mult;
  std::vector<float> beta;
  RequantOptions o;
  DType out;
};

EpCase make_ep(qrb::test::Rng& rng, Variant v, size_t n, bool requant) {
  EpCase e{requant, v, {}, {}, {}, rng.range(0, 1) ? DType::kS8 : DType::kU8};
  if (!requant) return e;
  const bool per_channel = rng.range(0, 1) == 1;
  e.mult.resize(per_channel ? n : 1);
  for (auto& m : e.mult) {
    double real = 0;
    switch (rng.range(0, 5)) {
      case 0: real = 0; break;
      case 1: real = 3.0; break;
      case 2: real = double(rng.range(1, 1000)) * 1e-6; break;
      default: real = double(rng.range(1, 100000)) * 1e-7; break;
    }
    form_multiplier(v, real, &m);
  }
  const int32_t lo = e.out == DType::kS8 ? -128 : 0, hi = e.out == DType::kS8 ? 127 : 255;
  e.o.qmin = rng.range(0, 2) == 0 ? int32_t(rng.range(lo, lo + 60)) : lo;
  e.o.qmax = rng.range(0, 2) == 0 ? int32_t(rng.range(hi - 60, hi)) : hi;
  e.o.zy = v == Variant::kTrtGpu ? 0 : int32_t(rng.range(e.o.qmin, e.o.qmax));
  if (v == Variant::kTrtGpu) {
    e.o.qmin = std::min(e.o.qmin, 0);
    e.o.qmax = std::max(e.o.qmax, 0);
    e.beta.resize(n);
    for (auto& b : e.beta) b = float(rng.range(-2000, 2000)) / 16.0f;
  }
  if (v == Variant::kTfliteDouble) e.o.depthwise_upward = rng.range(0, 3) == 0;
  return e;
}

fast::Epilogue epilogue_of(const EpCase& e) {
  fast::Epilogue ep;
  ep.requant = e.requant;
  ep.variant = e.v;
  ep.mult = e.mult.data();
  ep.mult_len = e.mult.size();
  ep.beta = e.beta.empty() ? nullptr : e.beta.data();
  ep.opt = e.o;
  ep.out_dtype = e.out;
  return ep;
}

// Reference result as int32 codes (or accumulators).
bool reference(const GemmCase& c, const EpCase& e, std::vector<int32_t>* out) {
  std::vector<int32_t> acc(c.m * c.n);
  Operand a{c.a.data(), c.a.size(), c.at};
  Status st = gemm_acc({c.m, c.n, c.k}, a, c.az, weights_of(c), c.bias.empty() ? nullptr : c.bias.data(), c.bias.size(),
                       Hazard::kNone, acc.data(), acc.size());
  if (!st.ok) {
    std::fprintf(stderr, "  reference gemm failed: %s\n", st.message.c_str());
    return false;
  }
  if (!e.requant) {
    *out = acc;
    return true;
  }
  out->resize(acc.size());
  st = requantize(e.v, acc.data(), acc.size(), e.mult.data(), e.mult.size(), 1, e.beta.empty() ? nullptr : e.beta.data(),
                  e.o, out->data());
  if (!st.ok) std::fprintf(stderr, "  reference requantize failed: %s\n", st.message.c_str());
  return st.ok;
}

std::vector<int32_t> widen(const std::vector<uint8_t>& bytes, bool requant, DType out) {
  std::vector<int32_t> r;
  if (!requant) {
    r.resize(bytes.size() / 4);
    std::memcpy(r.data(), bytes.data(), bytes.size());
  } else {
    r.resize(bytes.size());
    for (size_t i = 0; i < bytes.size(); ++i) r[i] = out == DType::kS8 ? int32_t(int8_t(bytes[i])) : int32_t(bytes[i]);
  }
  return r;
}

// Every kernel this CPU can run: cap the ISA at its rung and check dispatch picks it.
std::vector<std::string> reachable_kernels() {
  std::vector<std::string> r;
  for (const auto& v : qrb::s8gemm_variants()) {
    qrb::set_isa_cap(qrb::isa_name(v.isa));
    if (std::string(fast::gemm_kernel_name()) == v.name) r.push_back(qrb::isa_name(v.isa));
  }
  qrb::set_isa_cap("native");
  return r;
}

int run_cases(uint64_t seed, const std::vector<size_t>& ms, const std::vector<size_t>& ns, const std::vector<size_t>& ks,
              int reps) {
  int failures = 0;
  qrb::test::Rng rng(seed);
  const auto caps = reachable_kernels();
  for (const auto& cap : caps) {
    qrb::set_isa_cap(cap);
    for (int r = 0; r < reps; ++r) {
      const size_t m = ms[rng.range(0, int64_t(ms.size()) - 1)], n = ns[rng.range(0, int64_t(ns.size()) - 1)],
                   k = ks[rng.range(0, int64_t(ks.size()) - 1)];
      const int bits = std::vector<int>{8, 8, 8, 4, 2}[rng.range(0, 4)];
      const GemmCase c = make_case(rng, m, n, k, bits, int(rng.range(0, 2)));
      const bool requant = rng.range(0, 5) != 0;
      const Variant v = Variant(rng.range(0, int(Variant::kTrtGpu)));
      const EpCase e = make_ep(rng, v, n, requant);
      std::vector<int32_t> want;
      if (!reference(c, e, &want)) return failures + 1;
      std::shared_ptr<fast::PackedWeights> pw;
      Status st = fast::pack_weights(weights_of(c), n, k, &pw);
      if (!st.ok) {
        std::fprintf(stderr, "  pack failed: %s\n", st.message.c_str());
        return failures + 1;
      }
      std::vector<uint8_t> out(m * n * (requant ? 1 : 4), 0xCD);
      const int threads = int(rng.range(1, 3));
      st = fast::gemm(*pw, m, Operand{c.a.data(), c.a.size(), c.at}, c.az, c.bias.empty() ? nullptr : c.bias.data(),
                      c.bias.size(), epilogue_of(e), out.data(), m * n, threads);
      if (!st.ok) {
        std::fprintf(stderr, "  fast gemm failed: %s\n", st.message.c_str());
        return failures + 1;
      }
      const auto got = widen(out, requant, e.out);
      for (size_t i = 0; i < want.size(); ++i)
        if (got[i] != want[i]) {
          std::fprintf(stderr,
                       "  MISMATCH kernel=%s m=%zu n=%zu k=%zu bits=%d at=%d wt=%d az=%d requant=%d variant=%s "
                       "threads=%d at (%zu,%zu): got %d want %d\n",
                       fast::gemm_kernel_name(), m, n, k, bits, int(c.at), int(c.wt), c.az, int(requant),
                       variant_name(v), threads, i / n, i % n, got[i], want[i]);
          ++failures;
          break;
        }
      if (failures > 3) break;
    }
  }
  qrb::set_isa_cap("native");
  return failures;
}

}  // namespace

QRB_TEST(intq_fast_gemm, every_kernel_reachable) {
  const auto caps = reachable_kernels();
  QRB_CHECK(!caps.empty());
  QRB_CHECK_EQ(caps.front(), std::string("scalar"));
  std::fprintf(stderr, "  kernels reachable here:");
  for (const auto& c : caps) std::fprintf(stderr, " %s", c.c_str());
  std::fprintf(stderr, " (native pick: %s)\n", fast::gemm_kernel_name());
}

QRB_TEST(intq_fast_gemm, small_awkward_shapes) {
  QRB_CHECK_EQ(run_cases(1, {1, 2, 3, 5, 6, 7, 13}, {1, 3, 15, 16, 17, 63, 64, 65}, {1, 2, 3, 4, 5, 7, 8, 15, 16, 17, 33},
                         400),
               0);
}

QRB_TEST(intq_fast_gemm, medium_shapes) {
  QRB_CHECK_EQ(run_cases(2, {11, 24, 37, 64}, {31, 96, 129, 130}, {63, 64, 65, 129, 300}, 40), 0);
}

QRB_TEST(intq_fast_gemm, fp32_epilogue_all_rows) {
  // The vectorised fp32 epilogue (ort-mlas) with full 6-row tiles and a ragged last one, both out dtypes.
  qrb::test::Rng rng(3);
  for (const auto& cap : reachable_kernels()) {
    qrb::set_isa_cap(cap);
    for (DType od : {DType::kS8, DType::kU8}) {
      const size_t m = 25, n = 70, k = 40;
      GemmCase c = make_case(rng, m, n, k, 8, 1);
      EpCase e = make_ep(rng, Variant::kOrtMlas, n, true);
      e.out = od;
      e.o.qmin = od == DType::kS8 ? -128 : 0;
      e.o.qmax = od == DType::kS8 ? 127 : 255;
      e.o.zy = od == DType::kS8 ? -3 : 131;
      std::vector<int32_t> want;
      QRB_CHECK(reference(c, e, &want));
      std::shared_ptr<fast::PackedWeights> pw;
      QRB_CHECK(fast::pack_weights(weights_of(c), n, k, &pw).ok);
      std::vector<uint8_t> out(m * n);
      QRB_CHECK(fast::gemm(*pw, m, Operand{c.a.data(), c.a.size(), c.at}, c.az, c.bias.empty() ? nullptr : c.bias.data(),
                           c.bias.size(), epilogue_of(e), out.data(), out.size(), 2)
                    .ok);
      QRB_CHECK(widen(out, true, od) == want);
    }
  }
  qrb::set_isa_cap("native");
}

QRB_TEST(intq_fast_gemm, argument_errors) {
  std::vector<int8_t> w(12, 1);
  Weights wt;
  wt.data = w.data();
  wt.len = 11;
  std::shared_ptr<fast::PackedWeights> pw;
  Status st = fast::pack_weights(wt, 3, 4, &pw);
  QRB_CHECK(!st.ok);
  QRB_CHECK(st.message.find("weights") != std::string::npos);
  wt.len = 12;
  QRB_CHECK(fast::pack_weights(wt, 3, 4, &pw).ok);
  std::vector<int8_t> a(8, 0);
  std::vector<int32_t> out(6);
  fast::Epilogue ep;
  QRB_CHECK(!fast::gemm(*pw, 2, Operand{a.data(), 7, DType::kS8}, 0, nullptr, 0, ep, out.data(), 6, 1).ok);
  QRB_CHECK(!fast::gemm(*pw, 2, Operand{a.data(), 8, DType::kS8}, 200, nullptr, 0, ep, out.data(), 6, 1).ok);
  QRB_CHECK(!fast::gemm(*pw, 2, Operand{a.data(), 8, DType::kS8}, 0, nullptr, 0, ep, out.data(), 5, 1).ok);
  QRB_CHECK(fast::gemm(*pw, 2, Operand{a.data(), 8, DType::kS8}, 0, nullptr, 0, ep, out.data(), 6, 1).ok);
  ep.requant = true;
  ep.variant = Variant::kFp16Fallback;
  Multiplier m;
  form_multiplier(Variant::kOrtMlas, 0.5, &m);
  ep.mult = &m;
  ep.mult_len = 1;
  QRB_CHECK(!fast::gemm(*pw, 2, Operand{a.data(), 8, DType::kS8}, 0, nullptr, 0, ep, out.data(), 6, 1).ok);
  ep.variant = Variant::kOrtMlas;
  ep.opt.qmin = -200;
  QRB_CHECK(!fast::gemm(*pw, 2, Operand{a.data(), 8, DType::kS8}, 0, nullptr, 0, ep, out.data(), 6, 1).ok);
}

QRB_TEST(intq_fast_gemm, epilogue_edge_accumulators_and_multipliers) {
  // acc = bias exactly (k = 1 and the activation equals its zero point), so every column feeds a chosen int32
  // (extremes, ties, wrap candidates) through a chosen multiplier (INTEGER.md §e5 edges, 3.0, tiny, zero),
  // per channel, for every variant and reachable kernel: the vectorised epilogues meet their edge cases.
  const std::vector<double> ms = {0.0, 0.5, 0.25, 1.0, 3.0, 255.9, 1.0 - 1.0 / 8589934592.0, 1.0 / 2147483648.0,
                                  1.0 / 4294967296.0, 0.5 + 1.0 / 4294967296.0, 0.021454659224142497, 1.0 / 524288.0,
                                  1e-7, 0.0078125};
  const std::vector<int32_t> accs = {0, 1, -1, 2, -2, 3, -3, 5, -5, 10, -10, -7527, 34340863, 536870913, -536870913,
                                     INT32_MAX, INT32_MIN, INT32_MAX - 1, INT32_MIN + 1, 1 << 30, -(1 << 30), 65535, -65536};
  const size_t n = ms.size() * accs.size();
  std::vector<int32_t> bias(n);
  std::vector<double> real(n);
  for (size_t i = 0; i < ms.size(); ++i)
    for (size_t j = 0; j < accs.size(); ++j) bias[i * accs.size() + j] = accs[j], real[i * accs.size() + j] = ms[i];
  std::vector<int8_t> w(n, 7);
  Weights wt;
  wt.data = w.data(), wt.len = n;
  std::shared_ptr<fast::PackedWeights> pw;
  QRB_CHECK(fast::pack_weights(wt, n, 1, &pw).ok);
  const int8_t a[1] = {-9};
  for (const auto& cap : reachable_kernels()) {
    qrb::set_isa_cap(cap);
    for (int vi = 0; vi < int(Variant::kTrtGpu); ++vi) {
      const Variant v = Variant(vi);
      std::vector<Multiplier> mult(n);
      for (size_t c = 0; c < n; ++c) QRB_CHECK(form_multiplier(v, real[c], &mult[c]).ok);
      for (int zy : {0, -17, 100}) {
        RequantOptions o;
        o.zy = zy;
        o.qmin = -128, o.qmax = 127;
        fast::Epilogue ep;
        ep.requant = true, ep.variant = v, ep.mult = mult.data(), ep.mult_len = n, ep.opt = o;
        std::vector<int8_t> out(n);
        QRB_CHECK(fast::gemm(*pw, 1, Operand{a, 1, DType::kS8}, -9, bias.data(), n, ep, out.data(), n, 1).ok);
        for (size_t c = 0; c < n; ++c) {
          const int32_t want = requant_one(v, mult[c], bias[c], o);
          if (int32_t(out[c]) != want) {
            std::fprintf(stderr, "  MISMATCH %s %s zy=%d M=%.17g acc=%d: got %d want %d\n", fast::gemm_kernel_name(),
                         variant_name(v), zy, real[c], bias[c], int(out[c]), want);
            QRB_CHECK(false);
          }
        }
      }
    }
  }
  qrb::set_isa_cap("native");
}
