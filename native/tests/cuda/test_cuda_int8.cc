// int8 / int4 / int2 GEMM and convolution on the GPU (tensor cores) against the CPU reference:
// intq::gemm_acc / conv_acc followed by intq::requantize(kTrtGpu), compared element by element for equality, on
// random awkward shapes (1, primes, K around 16 / 32 / 64, tiles of 128 plus one, groups, depthwise, stride,
// dilation, asymmetric pads) and the INTEGER.md section (e) vectors that concern trt-gpu.
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "cuda_test_util.h"

using namespace qrb;
using qrb::test::Rng;

namespace {

struct Case {
  std::vector<int8_t> a, w8;       // activations, int8 weights (values)
  std::vector<uint8_t> wpacked;    // packed rows for bits 4 / 2
  std::vector<int32_t> bias;
  std::vector<float> alpha, beta;
  int bits = 8;
  bool is_signed = true;
};

// Random weights for `rows` x `k` at the given width; fills w8 (values) and wpacked (ONNX rows).
void random_weights(Rng& r, size_t rows, size_t k, int bits, bool is_signed, Case* c) {
  c->bits = bits;
  c->is_signed = is_signed;
  c->w8.resize(rows * k);
  const int lo = bits == 8 ? -128 : (is_signed ? -(1 << (bits - 1)) : 0);
  const int hi = bits == 8 ? 127 : (is_signed ? (1 << (bits - 1)) - 1 : (1 << bits) - 1);
  for (auto& v : c->w8) v = int8_t(r.range(lo, hi));
  if (bits < 8) {
    c->wpacked.assign(rows * intq::packed_row_bytes(k, bits), 0);
    intq::pack_rows(c->w8.data(), rows, k, bits, is_signed, c->wpacked.data(), c->wpacked.size());
  }
}

intq::Weights weights_of(const Case& c) {
  intq::Weights w;
  if (c.bits == 8) {
    w.data = c.w8.data();
    w.len = c.w8.size();
  } else {
    w.data = c.wpacked.data();
    w.len = c.wpacked.size();
  }
  w.bits = c.bits;
  w.dtype = c.is_signed ? intq::DType::kS8 : intq::DType::kU8;
  return w;
}

// Per-channel epilogue data: bias (some near the int32 limits: the sum wraps), alpha = fl32(fl32(sx*sw)/sy) as the
// trt-gpu stack forms it, beta (float bias in output units; zero for some channels).
void random_epilogue(Rng& r, size_t ch, size_t k, Case* c) {
  c->bias.resize(ch);
  c->alpha.resize(ch);
  c->beta.resize(ch);
  for (size_t i = 0; i < ch; ++i) {
    const int kind = int(r.range(0, 9));
    c->bias[i] = kind == 0 ? int32_t(2147483647 - r.range(0, 1000)) : kind == 1 ? int32_t(-2147483647 - 1 + r.range(0, 1000))
                                                                 : int32_t(r.range(-40000, 40000));
    const float sx = float(0.001 + 0.05 * double(r.range(1, 1000)) / 1000.0);
    const float sw = float(0.0005 + 0.02 * double(r.range(1, 1000)) / 1000.0);
    const float sy = float(0.01 + 0.5 * double(r.range(1, 1000)) / 1000.0 * std::sqrt(double(k)));
    intq::Multiplier m;
    intq::form_multiplier_scales(intq::Variant::kTrtGpu, sx, sw, sy, &m);
    c->alpha[i] = m.m32;
    c->beta[i] = r.range(0, 3) == 0 ? 0.0f : float(double(r.range(-20000, 20000)) / 997.0);
  }
}

// The reference codes: requantize(kTrtGpu) of the reference accumulators.
std::vector<int32_t> ref_codes(const std::vector<int32_t>& acc, const Case& c, size_t ch, size_t inner, int qmin,
                               int qmax) {
  std::vector<intq::Multiplier> m(ch);
  for (size_t i = 0; i < ch; ++i) m[i].m32 = c.alpha[i];
  intq::RequantOptions o;
  o.qmin = qmin;
  o.qmax = qmax;
  std::vector<int32_t> out(acc.size());
  const Status s = intq::requantize(intq::Variant::kTrtGpu, acc.data(), acc.size(), m.data(), ch, inner, c.beta.data(),
                                    o, out.data());
  if (!s.ok) std::fprintf(stderr, "ref requantize: %s\n", s.message.c_str());
  return out;
}

size_t first_mismatch(const std::vector<int32_t>& a, const std::vector<int32_t>& b) {
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i] != b[i]) return i;
  return a.size();
}

const int kClamps[3][2] = {{-128, 127}, {0, 127}, {-1000, 1000}};

}  // namespace

QRB_TEST(cuda_int8, gemm_random_shapes_equal_reference) {
  QRB_CUDA_REQUIRE_DEVICE();
  const size_t shapes[][3] = {{1, 1, 1},     {1, 7, 13},    {3, 5, 16},    {2, 9, 17},     {17, 31, 33},
                              {5, 8, 64},    {128, 128, 64}, {129, 130, 65}, {200, 77, 300}, {5, 300, 1000},
                              {257, 129, 96}, {64, 513, 31},  {300, 40, 4100}};
  Rng r(14001);
  int cases = 0;
  for (auto& sh : shapes) {
    const size_t m = sh[0], n = sh[1], k = sh[2];
    for (int bits : {8, 4, 2}) {
      for (bool sgn : {true, false}) {
        if (bits == 8 && !sgn) continue;
        Case c;
        c.a.resize(m * k);
        for (auto& v : c.a) v = int8_t(r.range(-128, 127));
        random_weights(r, n, k, bits, sgn, &c);
        random_epilogue(r, n, k, &c);
        const intq::Weights w = weights_of(c);
        const intq::Operand op{c.a.data(), c.a.size(), intq::DType::kS8};
        std::vector<int32_t> ref(m * n), got(m * n, 0x5A5A5A5A);
        QRB_CHECK_OK(intq::gemm_acc({m, n, k}, op, 0, w, c.bias.data(), n, intq::Hazard::kNone, ref.data(), ref.size()));
        // int32 accumulators (bias added, wrap).
        QRB_CHECK_OK(cuda::gemm_s8({m, n, k}, op, 0, w, c.bias.data(), n, cuda::Epilogue{}, got.data(), got.size()));
        if (first_mismatch(ref, got) != ref.size()) {
          const size_t i = first_mismatch(ref, got);
          std::fprintf(stderr, "  acc mismatch %zux%zux%zu bits %d at %zu: %d vs %d\n", m, n, k, bits, i, got[i], ref[i]);
        }
        QRB_CHECK(ref == got);
        // trt-gpu codes for three clamp ranges.
        for (auto& cl : kClamps) {
          cuda::Epilogue ep;
          ep.mode = cuda::OutMode::kTrtGpu;
          ep.alpha = c.alpha.data();
          ep.alpha_len = n;
          ep.beta = c.beta.data();
          ep.beta_len = n;
          ep.qmin = cl[0];
          ep.qmax = cl[1];
          std::vector<int32_t> codes(m * n, 0x5A5A5A5A);
          QRB_CHECK_OK(cuda::gemm_s8({m, n, k}, op, 0, w, c.bias.data(), n, ep, codes.data(), codes.size()));
          const std::vector<int32_t> want = ref_codes(ref, c, n, 1, cl[0], cl[1]);
          if (first_mismatch(want, codes) != want.size()) {
            const size_t i = first_mismatch(want, codes);
            std::fprintf(stderr, "  code mismatch %zux%zux%zu at %zu: %d vs %d (acc %d)\n", m, n, k, i, codes[i], want[i],
                         ref[i]);
          }
          QRB_CHECK(want == codes);
        }
        ++cases;
      }
    }
  }
  std::printf("  %d GEMM cases (x 4 epilogues) bit-identical\n", cases);
}

QRB_TEST(cuda_int8, integer_md_vectors_trt_gpu) {
  QRB_CUDA_REQUIRE_DEVICE();
  // Each accumulator is produced as bias (a = 0) and also as a product a*w (k = 1), channel by channel.
  struct Vec {
    float m;
    std::vector<int32_t> acc, want;
    int32_t qmin = -1000, qmax = 1000;  // wide unless the vector is about saturation
  };
  const std::vector<Vec> vecs = {
      {0.5f, {-3, -2, -1, 0, 1, 2, 3}, {-2, -1, 0, 0, 0, 1, 2}},   // (e)1 ties, RNE
      {0.25f, {-10, -6, -2, 2, 10}, {-2, -2, 0, 0, 2}},             // (e)2 RNE column
      {0.021454659224142497f, {-7527}, {-161}},                     // (e)3 fp32 result
      {1.0f / 524288.0f, {34340863}, {66}},                         // (e)7 fl32(acc) rounds first: 66
      {3.0f, {100, -100, 42}, {127, -128, 126}, -128, 127},         // saturation to int8
  };
  for (const auto& v : vecs) {
    const size_t n = v.acc.size();
    std::vector<float> alpha(n, v.m);
    cuda::Epilogue ep;
    ep.mode = cuda::OutMode::kTrtGpu;
    ep.alpha = alpha.data();
    ep.alpha_len = n;
    ep.qmin = v.qmin;
    ep.qmax = v.qmax;
    // (1) accumulator from the bias
    int8_t a0[1] = {0};
    std::vector<int8_t> w0(n, 0);
    intq::Weights w;
    w.data = w0.data();
    w.len = n;
    std::vector<int32_t> out(n);
    QRB_CHECK_OK(cuda::gemm_s8({1, n, 1}, {a0, 1, intq::DType::kS8}, 0, w, v.acc.data(), n, ep, out.data(), n));
    for (size_t i = 0; i < n; ++i) QRB_CHECK_EQ(out[i], v.want[i]);
    // (2) small accumulators from products: acc = a * w with a = 1
    bool small = true;
    for (int32_t x : v.acc) small = small && x >= -127 && x <= 127;
    if (small) {
      int8_t a1[1] = {1};
      std::vector<int8_t> w1(n);
      for (size_t i = 0; i < n; ++i) w1[i] = int8_t(v.acc[i]);
      w.data = w1.data();
      QRB_CHECK_OK(cuda::gemm_s8({1, n, 1}, {a1, 1, intq::DType::kS8}, 0, w, nullptr, 0, ep, out.data(), n));
      for (size_t i = 0; i < n; ++i) QRB_CHECK_EQ(out[i], v.want[i]);
    }
    // and the CPU reference agrees with the literal vectors
    std::vector<intq::Multiplier> mm(n);
    for (auto& x : mm) x.m32 = v.m;
    std::vector<int32_t> ref(n);
    intq::RequantOptions ro;
    ro.qmin = v.qmin;
    ro.qmax = v.qmax;
    QRB_CHECK_OK(intq::requantize(intq::Variant::kTrtGpu, v.acc.data(), n, mm.data(), n, 1, nullptr, ro, ref.data()));
    for (size_t i = 0; i < n; ++i) QRB_CHECK_EQ(ref[i], v.want[i]);
  }
}

QRB_TEST(cuda_int8, conv_random_shapes_equal_reference) {
  QRB_CUDA_REQUIRE_DEVICE();
  struct S {
    size_t n, c, h, w, oc, kh, kw, g, sh, sw, dh, dw, pt, pl, pb, pr;
  };
  const S shapes[] = {
      {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0},       {2, 3, 7, 9, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},
      {1, 16, 13, 11, 33, 3, 3, 1, 2, 2, 1, 1, 1, 0, 2, 1},   {2, 8, 10, 10, 8, 3, 3, 8, 1, 1, 1, 1, 1, 1, 1, 1},
      {1, 12, 9, 14, 18, 5, 3, 3, 1, 2, 2, 1, 2, 1, 0, 3},    {3, 64, 8, 8, 130, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0},
      {1, 3, 31, 29, 17, 7, 7, 1, 2, 2, 1, 1, 3, 3, 3, 3},    {2, 32, 12, 12, 64, 3, 3, 2, 1, 1, 2, 2, 2, 2, 2, 2},
  };
  Rng r(14002);
  int cases = 0;
  for (const S& s : shapes) {
    intq::ConvShape cs;
    cs.n = s.n, cs.c = s.c, cs.h = s.h, cs.w = s.w, cs.oc = s.oc, cs.kh = s.kh, cs.kw = s.kw, cs.groups = s.g;
    cs.stride_h = s.sh, cs.stride_w = s.sw, cs.dil_h = s.dh, cs.dil_w = s.dw;
    cs.pad_t = s.pt, cs.pad_l = s.pl, cs.pad_b = s.pb, cs.pad_r = s.pr;
    size_t oh = 0, ow = 0;
    QRB_CHECK_OK(intq::conv_out_size(cs, &oh, &ow));
    const size_t K = (s.c / s.g) * s.kh * s.kw;
    for (int bits : {8, 4}) {
      Case c;
      c.a.resize(s.n * s.c * s.h * s.w);
      for (auto& v : c.a) v = int8_t(r.range(-128, 127));
      random_weights(r, s.oc, K, bits, true, &c);
      random_epilogue(r, s.oc, K, &c);
      const intq::Weights w = weights_of(c);
      const intq::Operand op{c.a.data(), c.a.size(), intq::DType::kS8};
      const size_t count = s.n * s.oc * oh * ow;
      std::vector<int32_t> ref(count), got(count, 0x5A5A5A5A);
      QRB_CHECK_OK(intq::conv_acc(cs, op, 0, w, c.bias.data(), s.oc, intq::Hazard::kNone, ref.data(), count));
      QRB_CHECK_OK(cuda::conv_s8(cs, op, 0, w, c.bias.data(), s.oc, cuda::Epilogue{}, got.data(), count));
      QRB_CHECK(ref == got);
      cuda::Epilogue ep;
      ep.mode = cuda::OutMode::kTrtGpu;
      ep.alpha = c.alpha.data();
      ep.alpha_len = s.oc;
      ep.beta = c.beta.data();
      ep.beta_len = s.oc;
      std::vector<int32_t> codes(count, 0x5A5A5A5A);
      QRB_CHECK_OK(cuda::conv_s8(cs, op, 0, w, c.bias.data(), s.oc, ep, codes.data(), count));
      QRB_CHECK(ref_codes(ref, c, s.oc, oh * ow, -128, 127) == codes);
      ++cases;
    }
  }
  std::printf("  %d conv cases bit-identical (accumulators and trt-gpu codes)\n", cases);
}

QRB_TEST(cuda_int8, device_api_int8_output_both_tiles) {
  QRB_CUDA_REQUIRE_DEVICE();
  // The device-resident entry (what the benchmark times) with int8 codes out, K not a multiple of 16 (padded lda),
  // for both block tiles (128 always; 256 on sm_80+) and shapes with ragged tile edges.
  const int64_t shapes[][3] = {{300, 200, 100}, {517, 300, 200}, {129, 257, 33}};
  Rng r(14003);
  int runs = 0;
  for (auto& sh : shapes) {
    const int64_t m = sh[0], n = sh[1], k = sh[2], kp = (k + 15) / 16 * 16;
    Case c;
    c.a.resize(size_t(m * k));
    for (auto& v : c.a) v = int8_t(r.range(-128, 127));
    random_weights(r, size_t(n), size_t(k), 8, true, &c);
    random_epilogue(r, size_t(n), size_t(k), &c);
    std::vector<int8_t> ap(size_t(m * kp), 0), wp(size_t(n * kp), 0);
    for (int64_t i = 0; i < m; ++i) std::memcpy(&ap[size_t(i * kp)], &c.a[size_t(i * k)], size_t(k));
    for (int64_t i = 0; i < n; ++i) std::memcpy(&wp[size_t(i * kp)], &c.w8[size_t(i * k)], size_t(k));
    cuda::DeviceBuffer da, dw, db, dal, dbe, dout, dacc;
    QRB_CHECK_OK(da.alloc(ap.size()));
    QRB_CHECK_OK(da.upload(ap.data(), ap.size()));
    QRB_CHECK_OK(dw.alloc(wp.size()));
    QRB_CHECK_OK(dw.upload(wp.data(), wp.size()));
    QRB_CHECK_OK(db.alloc(size_t(n) * 4));
    QRB_CHECK_OK(db.upload(c.bias.data(), size_t(n) * 4));
    QRB_CHECK_OK(dal.alloc(size_t(n) * 4));
    QRB_CHECK_OK(dal.upload(c.alpha.data(), size_t(n) * 4));
    QRB_CHECK_OK(dbe.alloc(size_t(n) * 4));
    QRB_CHECK_OK(dbe.upload(c.beta.data(), size_t(n) * 4));
    QRB_CHECK_OK(dout.alloc(size_t(m * n)));
    QRB_CHECK_OK(dacc.alloc(size_t(m * n) * 4));
    std::vector<int32_t> ref(size_t(m * n));
    const intq::Weights w = weights_of(c);
    QRB_CHECK_OK(intq::gemm_acc({size_t(m), size_t(n), size_t(k)}, {c.a.data(), c.a.size(), intq::DType::kS8}, 0, w,
                                c.bias.data(), size_t(n), intq::Hazard::kNone, ref.data(), ref.size()));
    const auto want = ref_codes(ref, c, size_t(n), 1, -128, 127);
    const bool wide = cuda::device_info().cc_major >= 8;
    for (int tile : {128, 256}) {
      if (tile == 256 && !wide) continue;
      cuda::DevGemmS8 g;
      g.a = da.as<int8_t>(), g.lda = kp, g.w = dw.as<int8_t>(), g.ldw = kp, g.m = m, g.n = n, g.k = k;
      g.bias = db.as<int32_t>(), g.alpha = dal.as<float>(), g.beta = dbe.as<float>();
      g.tile = tile;
      g.mode = cuda::OutMode::kTrtGpu;
      g.out8 = dout.as<int8_t>();
      QRB_CHECK_OK(dout.fill_byte(0x5A));
      QRB_CHECK_OK(cuda::gemm_s8_device(g));
      QRB_CHECK_OK(cuda::synchronize());
      std::vector<int8_t> got(size_t(m * n));
      QRB_CHECK_OK(dout.download(got.data(), got.size()));
      for (size_t i = 0; i < want.size(); ++i) QRB_CHECK_EQ(int32_t(got[i]), want[i]);
      // int32 accumulators through the same tile
      g.mode = cuda::OutMode::kAcc32;
      g.out8 = nullptr;
      g.out32 = dacc.as<int32_t>();
      QRB_CHECK_OK(dacc.fill_byte(0x5A));
      QRB_CHECK_OK(cuda::gemm_s8_device(g));
      std::vector<int32_t> acc(size_t(m * n));
      QRB_CHECK_OK(dacc.download(acc.data(), acc.size() * 4));
      QRB_CHECK(acc == ref);
      ++runs;
    }
    // Misaligned leading dimension and a bad tile are named errors.
    cuda::DevGemmS8 bad;
    bad.a = da.as<int8_t>(), bad.lda = k + 1, bad.w = dw.as<int8_t>(), bad.ldw = kp, bad.m = m, bad.n = n, bad.k = k;
    bad.out32 = dacc.as<int32_t>();
    Status s = cuda::gemm_s8_device(bad);
    QRB_CHECK(!s.ok);
    QRB_CHECK(s.message.find("lda") != std::string::npos);
    bad.lda = kp;
    bad.tile = 64;
    s = cuda::gemm_s8_device(bad);
    QRB_CHECK(!s.ok);
    QRB_CHECK(s.message.find("tile") != std::string::npos);
  }
  std::printf("  device API: %d shape x tile runs bit-identical (int8 codes and int32 accumulators)\n", runs);
}
