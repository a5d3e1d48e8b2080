// CUDA API facts that hold with or without a GPU (runs in CI, which has nvcc but no GPU): what was compiled,
// the named "no CUDA device" condition, and argument errors that come before any device use.
#include <cstring>
#include <string>
#include <vector>

#include "cuda_test_util.h"

using namespace qrb;

QRB_TEST(cuda_api, compiled_archs) {
  QRB_CHECK(cuda::compiled());
  const auto a = cuda::archs();
  std::string all;
  for (auto& x : a) all += x + " ";
  std::printf("  compiled archs: %s\n", all.c_str());
  QRB_CHECK(!a.empty());
  for (auto& x : a) QRB_CHECK(x.rfind("sm_", 0) == 0);
}

QRB_TEST(cuda_api, device_or_named_reason) {
  const auto d = cuda::device_info();
  if (d.available) {
    std::printf("  device: %s sm_%d%d, %d SMs, %zu MiB\n", d.name.c_str(), d.cc_major, d.cc_minor, d.sm_count,
                d.total_mem >> 20);
    QRB_CHECK(!d.name.empty());
    QRB_CHECK(d.cc_major * 10 + d.cc_minor >= 75);
    QRB_CHECK(d.reason.empty());
    QRB_CHECK(cuda::require_device().ok);
  } else {
    std::printf("  no device: %s\n", d.reason.c_str());
    QRB_CHECK(d.reason.rfind("no CUDA device: ", 0) == 0);
    const Status s = cuda::require_device();
    QRB_CHECK(!s.ok);
    QRB_CHECK_EQ(s.message, d.reason);
    // Kernels called with valid arguments report the same condition instead of crashing.
    int8_t a[4] = {1, 2, 3, 4}, w[4] = {1, 1, 1, 1};
    int32_t out[1] = {0};
    intq::Operand op{a, 4, intq::DType::kS8};
    intq::Weights wt;
    wt.data = w;
    wt.len = 4;
    const Status g = cuda::gemm_s8({1, 1, 4}, op, 0, wt, nullptr, 0, cuda::Epilogue{}, out, 1);
    QRB_CHECK(!g.ok);
    QRB_CHECK(g.message.rfind("no CUDA device: ", 0) == 0);
    cuda::DeviceBuffer b;
    QRB_CHECK(!b.alloc(16).ok);
  }
}

QRB_TEST(cuda_api, argument_errors_name_the_argument) {
  int8_t a[6] = {0}, w[6] = {0};
  int32_t out[4] = {0};
  intq::Weights wt;
  wt.data = w;
  wt.len = 6;
  intq::Operand op{a, 5, intq::DType::kS8};  // wrong length: 2x3 needs 6
  Status s = cuda::gemm_s8({2, 2, 3}, op, 0, wt, nullptr, 0, cuda::Epilogue{}, out, 4);
  QRB_CHECK(!s.ok);
  QRB_CHECK(s.message.find("gemmS8Cuda(a)") != std::string::npos);
  op.len = 6;
  s = cuda::gemm_s8({2, 2, 3}, op, 3, wt, nullptr, 0, cuda::Epilogue{}, out, 4);  // asymmetric
  QRB_CHECK(!s.ok);
  QRB_CHECK(s.message.find("aZeroPoint") != std::string::npos);
  op.dtype = intq::DType::kU8;
  s = cuda::gemm_s8({2, 2, 3}, op, 0, wt, nullptr, 0, cuda::Epilogue{}, out, 4);
  QRB_CHECK(!s.ok);
  QRB_CHECK(s.message.find("a.dtype") != std::string::npos);
  op.dtype = intq::DType::kS8;
  cuda::Epilogue ep;
  ep.mode = cuda::OutMode::kTrtGpu;  // alpha missing
  s = cuda::gemm_s8({2, 2, 3}, op, 0, wt, nullptr, 0, ep, out, 4);
  QRB_CHECK(!s.ok);
  QRB_CHECK(s.message.find("(alpha)") != std::string::npos);
  float alpha[2] = {1, 1};
  ep.alpha = alpha;
  ep.alpha_len = 2;
  ep.qmin = 5;
  ep.qmax = 4;
  s = cuda::gemm_s8({2, 2, 3}, op, 0, wt, nullptr, 0, ep, out, 4);
  QRB_CHECK(!s.ok);
  QRB_CHECK(s.message.find("qmin") != std::string::npos);
  wt.bits = 3;
  s = cuda::gemm_s8({2, 2, 3}, op, 0, wt, nullptr, 0, cuda::Epilogue{}, out, 4);
  QRB_CHECK(!s.ok);
  QRB_CHECK(s.message.find("weights.bits") != std::string::npos);
  wt.bits = 8;
  int32_t zp[1] = {1};
  wt.zp = zp;
  wt.zp_len = 1;
  s = cuda::gemm_s8({2, 2, 3}, op, 0, wt, nullptr, 0, cuda::Epilogue{}, out, 4);
  QRB_CHECK(!s.ok);
  QRB_CHECK(s.message.find("weights.zeroPoint") != std::string::npos);
  wt.zp = nullptr;
  s = cuda::gemm_s8({2, 2, 3}, op, 0, wt, nullptr, 0, cuda::Epilogue{}, out, 3);  // out too short
  QRB_CHECK(!s.ok);
  QRB_CHECK(s.message.find("(out)") != std::string::npos);
  // Float: conv parameters are checked (groups must divide the channels) before any device use.
  Conv2dParams p;
  p.cin = 3;
  p.cout = 4;
  p.groups = 2;
  float x[3] = {0}, wf[6] = {0}, y[4] = {0};
  s = cuda::f32_conv2d_fwd(p, x, 3, wf, 6, nullptr, 0, y, 4);
  QRB_CHECK(!s.ok);
  QRB_CHECK(s.message.find("group") != std::string::npos);
}
