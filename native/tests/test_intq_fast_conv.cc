// Fast int8 convolution (issue 5) == reference (intq::conv_acc + intq::requantize with inner = oh*ow), bit
// for bit, on every kernel this CPU can run: 1x1 direct path, im2col path (kernel 1..3, stride 1..2,
// dilation 1..2, asymmetric padding), groups, the direct depthwise path, batch 1..2, s8 / u8, int4 / int2 weights,
// extreme / per-channel zero points, every requantization variant, int32 accumulators, 1..3 threads.
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

int32_t lo_of(int bits, bool s) { return bits == 8 ? (s ? -128 : 0) : (s ? -(1 << (bits - 1)) : 0); }
int32_t hi_of(int bits, bool s) { return bits == 8 ? (s ? 127 : 255) : (s ? (1 << (bits - 1)) - 1 : (1 << bits) - 1); }

std::vector<std::string> reachable() {
  std::vector<std::string> r;
  for (const auto& v : qrb::s8gemm_variants()) {
    qrb::set_isa_cap(qrb::isa_name(v.isa));
    if (std::string(fast::gemm_kernel_name()) == v.name) r.push_back(qrb::isa_name(v.isa));
  }
  qrb::set_isa_cap("native");
  return r;
}

int one_case(qrb::test::Rng& rng, bool force_direct, bool big = false, bool force_dw = false) {
  ConvShape s;
  s.n = size_t(rng.range(1, 2));
  s.groups = size_t(std::vector<int>{1, 1, 1, 2, 3}[rng.range(0, 4)]);
  const size_t cg = size_t(rng.range(1, 9)), ocg = size_t(rng.range(1, 20));
  const bool depthwise = force_dw || rng.range(0, 5) == 0;
  if (depthwise) {
    s.groups = size_t(rng.range(2, 12));
    s.c = s.oc = s.groups;
  } else {
    s.c = cg * s.groups;
    s.oc = ocg * s.groups;
  }
  s.h = size_t(rng.range(1, 9)), s.w = size_t(rng.range(1, 9));
  if (force_direct) {
    // 1x1 without padding: stride 1 / groups 1 uses the NHWC image as the rows (direct), the rest gathers
    // rows from NCHW (pointwise)
    s.groups = size_t(rng.range(1, 2));
    s.c = size_t(std::vector<int>{4, 8, 16, 64}[rng.range(0, 3)]);
    s.oc = s.groups * size_t(rng.range(1, 35));
    s.kh = s.kw = 1;
    s.stride_h = size_t(rng.range(1, 2)), s.stride_w = size_t(rng.range(1, 2));
  } else {
    s.kh = size_t(rng.range(1, 3)), s.kw = size_t(rng.range(1, 3));
    s.stride_h = size_t(rng.range(1, 2)), s.stride_w = size_t(rng.range(1, 2));
    s.dil_h = size_t(rng.range(1, 2)), s.dil_w = size_t(rng.range(1, 2));
    s.pad_t = size_t(rng.range(0, 2)), s.pad_l = size_t(rng.range(0, 2)), s.pad_b = size_t(rng.range(0, 2)),
    s.pad_r = size_t(rng.range(0, 2));
  }
  if (big) {  // >= 16 pixels x >= 16 channels: the 16x16 block transpose of the output and kernel-row copies
    s.groups = 1, s.c = size_t(rng.range(1, 20)), s.oc = size_t(rng.range(16, 70));
    s.h = size_t(rng.range(16, 24)), s.w = size_t(rng.range(16, 24));
    s.kh = s.kw = 3, s.dil_h = s.dil_w = 1;
  }
  size_t oh = 0, ow = 0;
  if (!conv_out_size(s, &oh, &ow).ok) return 0;  // kernel does not fit: skip
  const bool xs = rng.range(0, 1) == 1, ws = rng.range(0, 1) == 1;
  const int bits = std::vector<int>{8, 8, 4, 2}[rng.range(0, 3)];
  const size_t k = (s.c / s.groups) * s.kh * s.kw;
  std::vector<uint8_t> x(s.n * s.c * s.h * s.w);
  for (auto& v : x) v = uint8_t(rng.range(lo_of(8, xs), hi_of(8, xs)));
  std::vector<int8_t> vals(s.oc * k);
  for (auto& v : vals) v = int8_t(rng.range(lo_of(bits, ws), hi_of(bits, ws)));
  std::vector<uint8_t> wb;
  if (bits == 8) {
    wb.resize(vals.size());
    std::memcpy(wb.data(), vals.data(), vals.size());
  } else {
    wb.resize(s.oc * packed_row_bytes(k, bits));
    pack_rows(vals.data(), s.oc, k, bits, ws, wb.data(), wb.size());
  }
  std::vector<int32_t> wz;
  if (rng.range(0, 1)) {
    wz.resize(rng.range(0, 1) ? s.oc : 1);
    for (auto& z : wz) z = int32_t(rng.range(lo_of(bits, ws), hi_of(bits, ws)));
  }
  const int32_t xz = rng.range(0, 2) == 0 ? (xs ? -128 : 255) : int32_t(rng.range(lo_of(8, xs), hi_of(8, xs)));
  std::vector<int32_t> bias;
  if (rng.range(0, 1)) {
    bias.resize(s.oc);
    for (auto& b : bias) b = int32_t(rng.range(-50000, 50000));
  }
  Weights w;
  w.data = wb.data(), w.len = wb.size(), w.dtype = ws ? DType::kS8 : DType::kU8, w.bits = bits;
  w.zp = wz.empty() ? nullptr : wz.data(), w.zp_len = wz.size();
  const Operand xo{x.data(), x.size(), xs ? DType::kS8 : DType::kU8};
  std::vector<int32_t> acc(s.n * s.oc * oh * ow);
  Status st = conv_acc(s, xo, xz, w, bias.empty() ? nullptr : bias.data(), bias.size(), Hazard::kNone, acc.data(), acc.size());
  if (!st.ok) {
    std::fprintf(stderr, "  reference conv: %s\n", st.message.c_str());
    return 1;
  }
  const bool requant = rng.range(0, 4) != 0;
  const Variant v = Variant(rng.range(0, int(Variant::kTrtGpu)));
  std::vector<Multiplier> mult(rng.range(0, 1) ? s.oc : 1);
  for (auto& m : mult) form_multiplier(v, double(rng.range(0, 20000)) * 1e-6, &m);
  RequantOptions o;
  const DType od = rng.range(0, 1) ? DType::kS8 : DType::kU8;
  o.qmin = od == DType::kS8 ? -128 : 0, o.qmax = od == DType::kS8 ? 127 : 255;
  if (rng.range(0, 2) == 0) o.qmin += int32_t(rng.range(0, 50));
  o.zy = v == Variant::kTrtGpu ? std::max(o.qmin, 0) : int32_t(rng.range(o.qmin, o.qmax));
  if (v == Variant::kTrtGpu && o.zy != 0) o.qmin = 0, o.zy = 0;
  std::vector<float> beta;
  if (v == Variant::kTrtGpu)
    for (size_t i = 0; i < mult.size(); ++i) beta.push_back(float(rng.range(-100, 100)) / 8.0f);
  std::vector<int32_t> want = acc;
  if (requant) {
    st = requantize(v, acc.data(), acc.size(), mult.data(), mult.size(), oh * ow, beta.empty() ? nullptr : beta.data(), o,
                    want.data());
    if (!st.ok) {
      std::fprintf(stderr, "  reference requantize: %s\n", st.message.c_str());
      return 1;
    }
  }
  std::shared_ptr<fast::PackedConv> pc;
  st = fast::pack_conv_weights(s, w, &pc);
  if (!st.ok) {
    std::fprintf(stderr, "  pack conv: %s\n", st.message.c_str());
    return 1;
  }
  fast::Epilogue ep;
  ep.requant = requant, ep.variant = v, ep.mult = mult.data(), ep.mult_len = mult.size();
  ep.beta = beta.empty() ? nullptr : beta.data(), ep.opt = o, ep.out_dtype = od;
  std::vector<uint8_t> out(acc.size() * (requant ? 1 : 4), 0xCD);
  const int threads = int(rng.range(1, 3));
  st = fast::conv(*pc, s, xo, xz, bias.empty() ? nullptr : bias.data(), bias.size(), ep, out.data(), acc.size(), threads);
  if (!st.ok) {
    std::fprintf(stderr, "  fast conv: %s\n", st.message.c_str());
    return 1;
  }
  for (size_t i = 0; i < want.size(); ++i) {
    int32_t got;
    if (!requant) std::memcpy(&got, out.data() + 4 * i, 4);
    else got = od == DType::kS8 ? int32_t(int8_t(out[i])) : int32_t(out[i]);
    if (got != want[i]) {
      std::fprintf(stderr,
                   "  MISMATCH kernel=%s n=%zu c=%zu hw=%zux%zu oc=%zu k=%zux%zu s=%zux%zu d=%zux%zu g=%zu bits=%d "
                   "variant=%s requant=%d at %zu: got %d want %d\n",
                   fast::gemm_kernel_name(), s.n, s.c, s.h, s.w, s.oc, s.kh, s.kw, s.stride_h, s.stride_w, s.dil_h,
                   s.dil_w, s.groups, bits, variant_name(v), int(requant), i, got, want[i]);
      return 1;
    }
  }
  return 0;
}

}  // namespace

QRB_TEST(intq_fast_conv, random_shapes_every_kernel) {
  qrb::test::Rng rng(11);
  int failures = 0;
  for (const auto& cap : reachable()) {
    qrb::set_isa_cap(cap);
    for (int r = 0; r < 150 && failures < 3; ++r) failures += one_case(rng, false);
    for (int r = 0; r < 60 && failures < 3; ++r) failures += one_case(rng, true);
    for (int r = 0; r < 8 && failures < 3; ++r) failures += one_case(rng, false, true);
    for (int r = 0; r < 60 && failures < 3; ++r) failures += one_case(rng, false, false, true);  // direct depthwise
  }
  qrb::set_isa_cap("native");
  QRB_CHECK_EQ(failures, 0);
}

QRB_TEST(intq_fast_conv, shape_mismatch_is_an_error) {
  ConvShape s;
  s.c = 4, s.oc = 2, s.kh = s.kw = 3, s.h = s.w = 5;
  std::vector<int8_t> w(2 * 4 * 9, 1);
  Weights wt;
  wt.data = w.data(), wt.len = w.size();
  std::shared_ptr<fast::PackedConv> pc;
  QRB_CHECK(fast::pack_conv_weights(s, wt, &pc).ok);
  std::vector<int8_t> x(4 * 25);
  std::vector<int32_t> out(2 * 9);
  fast::Epilogue ep;
  QRB_CHECK(fast::conv(*pc, s, Operand{x.data(), x.size(), DType::kS8}, 0, nullptr, 0, ep, out.data(), out.size(), 1).ok);
  ConvShape s2 = s;
  s2.oc = 3;
  Status st = fast::conv(*pc, s2, Operand{x.data(), x.size(), DType::kS8}, 0, nullptr, 0, ep, out.data(), out.size(), 1);
  QRB_CHECK(!st.ok);
  QRB_CHECK(st.message.find("packed") != std::string::npos);
  wt.len = 5;
  QRB_CHECK(!fast::pack_conv_weights(s, wt, &pc).ok);
}
