// Batch-1 GEMV over int8 / int4 / uint4 / int2 / uint2 weights (issue 5) == intq::gemm_acc (M = 1) +
// intq::requantize, bit for bit, with the register-unpacking VNNI kernels and the portable loop (ISA cap
// scalar): odd K for int4, K % 4 != 0 for int2, N not a multiple of 16, extreme / per-channel zero points,
// bias, every variant, int32 output, 1..3 threads.
#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "harness.h"
#include "qrb/cpu.h"
#include "qrb/intq.h"
#include "qrb/intq_fast.h"

using namespace qrb::intq;
using qrb::Status;
namespace fast = qrb::intq::fast;

namespace {

int32_t lo_of(int bits, bool s) { return bits == 8 ? (s ? -128 : 0) : (s ? -(1 << (bits - 1)) : 0); }
int32_t hi_of(int bits, bool s) { return bits == 8 ? (s ? 127 : 255) : (s ? (1 << (bits - 1)) - 1 : (1 << bits) - 1); }

int one_case(qrb::test::Rng& rng, int bits) {
  const size_t n = size_t(std::vector<int>{1, 5, 16, 17, 33, 100}[rng.range(0, 5)]);
  const size_t k = size_t(std::vector<int>{1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 31, 33, 64, 127, 300}[rng.range(0, 14)]);
  const bool xs = rng.range(0, 1) == 1, ws = rng.range(0, 1) == 1;
  std::vector<uint8_t> x(k);
  for (auto& v : x) v = uint8_t(rng.range(lo_of(8, xs), hi_of(8, xs)));
  const int32_t xz = rng.range(0, 2) == 0 ? (xs ? 127 : 0) : int32_t(rng.range(lo_of(8, xs), hi_of(8, xs)));
  std::vector<int8_t> vals(n * k);
  for (auto& v : vals) v = int8_t(rng.range(lo_of(bits, ws), hi_of(bits, ws)));
  std::vector<uint8_t> wb;
  if (bits == 8) {
    wb.resize(n * k);
    std::memcpy(wb.data(), vals.data(), n * k);
  } else {
    wb.resize(n * packed_row_bytes(k, bits));
    pack_rows(vals.data(), n, k, bits, ws, wb.data(), wb.size());
  }
  std::vector<int32_t> wz;
  if (rng.range(0, 1)) {
    wz.resize(rng.range(0, 1) ? n : 1);
    for (auto& z : wz) z = rng.range(0, 1) ? lo_of(bits, ws) : int32_t(rng.range(lo_of(bits, ws), hi_of(bits, ws)));
  }
  std::vector<int32_t> bias;
  if (rng.range(0, 1)) {
    bias.resize(n);
    for (auto& b : bias) b = int32_t(rng.range(-30000, 30000));
  }
  Weights w;
  w.data = wb.data(), w.len = wb.size(), w.dtype = ws ? DType::kS8 : DType::kU8, w.bits = bits;
  w.zp = wz.empty() ? nullptr : wz.data(), w.zp_len = wz.size();
  const Operand xo{x.data(), x.size(), xs ? DType::kS8 : DType::kU8};
  std::vector<int32_t> acc(n);
  Status st = gemm_acc({1, n, k}, xo, xz, w, bias.empty() ? nullptr : bias.data(), bias.size(), Hazard::kNone, acc.data(), n);
  if (!st.ok) return std::fprintf(stderr, "  ref: %s\n", st.message.c_str()), 1;
  const bool requant = rng.range(0, 2) != 0;
  const Variant v = Variant(rng.range(0, int(Variant::kTrtGpu)));
  std::vector<Multiplier> mult(rng.range(0, 1) ? n : 1);
  for (auto& m : mult) form_multiplier(v, double(rng.range(0, 30000)) * 1e-6, &m);
  RequantOptions o;
  const DType od = rng.range(0, 1) ? DType::kS8 : DType::kU8;
  o.qmin = od == DType::kS8 ? -128 : 0, o.qmax = od == DType::kS8 ? 127 : 255;
  o.zy = v == Variant::kTrtGpu ? 0 : int32_t(rng.range(o.qmin, o.qmax));
  if (v == Variant::kTrtGpu) o.qmin = std::min(o.qmin, 0);
  std::vector<float> beta;
  if (v == Variant::kTrtGpu)
    for (size_t i = 0; i < mult.size(); ++i) beta.push_back(float(rng.range(-64, 64)) / 4.0f);
  std::vector<int32_t> want = acc;
  if (requant) {
    st = requantize(v, acc.data(), n, mult.data(), mult.size(), 1, beta.empty() ? nullptr : beta.data(), o, want.data());
    if (!st.ok) return std::fprintf(stderr, "  ref requant: %s\n", st.message.c_str()), 1;
  }
  std::shared_ptr<fast::PackedGemv> pg;
  st = fast::pack_gemv_weights(w, n, k, &pg);
  if (!st.ok) return std::fprintf(stderr, "  pack: %s\n", st.message.c_str()), 1;
  fast::Epilogue ep;
  ep.requant = requant, ep.variant = v, ep.mult = mult.data(), ep.mult_len = mult.size();
  ep.beta = beta.empty() ? nullptr : beta.data(), ep.opt = o, ep.out_dtype = od;
  std::vector<uint8_t> out(n * (requant ? 1 : 4), 0xCD);
  st = fast::gemv(*pg, xo, xz, bias.empty() ? nullptr : bias.data(), bias.size(), ep, out.data(), n, int(rng.range(1, 3)));
  if (!st.ok) return std::fprintf(stderr, "  gemv: %s\n", st.message.c_str()), 1;
  for (size_t i = 0; i < n; ++i) {
    int32_t got;
    if (!requant) std::memcpy(&got, out.data() + 4 * i, 4);
    else got = od == DType::kS8 ? int32_t(int8_t(out[i])) : int32_t(out[i]);
    if (got != want[i]) {
      std::fprintf(stderr, "  MISMATCH %s n=%zu k=%zu bits=%d ws=%d xs=%d variant=%s requant=%d at %zu: got %d want %d\n",
                   fast::gemv_kernel_name(bits), n, k, bits, int(ws), int(xs), variant_name(v), int(requant), i, got,
                   want[i]);
      return 1;
    }
  }
  return 0;
}

}  // namespace

QRB_TEST(intq_fast_gemv, every_width_every_path) {
  qrb::test::Rng rng(21);
  int failures = 0;
  for (const char* cap : {"scalar", "avx2", "neon", "native"}) {  // a rung of the other arch leaves only scalar
    qrb::set_isa_cap(cap);
    for (int bits : {4, 2, 8})
      for (int r = 0; r < 120 && failures < 3; ++r) failures += one_case(rng, bits);
  }
  std::fprintf(stderr, "  native picks: int4 %s, int2 %s, int8 %s\n", fast::gemv_kernel_name(4), fast::gemv_kernel_name(2),
               fast::gemv_kernel_name(8));
  qrb::set_isa_cap("native");
  QRB_CHECK_EQ(failures, 0);
}

QRB_TEST(intq_fast_gemv, argument_errors) {
  std::vector<uint8_t> wb(4 * packed_row_bytes(10, 4), 0);
  Weights w;
  w.data = wb.data(), w.len = wb.size() - 1, w.bits = 4;
  std::shared_ptr<fast::PackedGemv> pg;
  QRB_CHECK(!fast::pack_gemv_weights(w, 4, 10, &pg).ok);
  w.len = wb.size();
  QRB_CHECK(fast::pack_gemv_weights(w, 4, 10, &pg).ok);
  std::vector<int8_t> x(10);
  std::vector<int32_t> out(4);
  fast::Epilogue ep;
  QRB_CHECK(!fast::gemv(*pg, Operand{x.data(), 9, DType::kS8}, 0, nullptr, 0, ep, out.data(), 4, 1).ok);
  QRB_CHECK(!fast::gemv(*pg, Operand{x.data(), 10, DType::kS8}, 0, nullptr, 0, ep, out.data(), 3, 1).ok);
  QRB_CHECK(fast::gemv(*pg, Operand{x.data(), 10, DType::kS8}, 0, nullptr, 0, ep, out.data(), 4, 1).ok);
}
