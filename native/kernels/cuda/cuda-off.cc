// The CUDA API when the build has no CUDA (-DQRB_CUDA=OFF, the default, and the node-gyp build): compiled() is
// false and every kernel returns the named error below. With -DQRB_CUDA=ON the .cu files in this folder define
// the same functions and this file compiles to nothing (QRB_HAVE_CUDA).
#ifndef QRB_HAVE_CUDA
#include "qrb/cuda.h"

namespace qrb::cuda {
namespace {
Status off() {
  return Status::Error("no CUDA device: CUDA not compiled (this addon was built without -DQRB_CUDA=ON; "
                       "build it with `npm run build:cuda` on a machine with nvcc)");
}
}  // namespace

bool compiled() { return false; }
std::vector<std::string> archs() { return {}; }
DeviceInfo device_info() {
  DeviceInfo d;
  d.reason = off().message;
  return d;
}
Status require_device() { return off(); }

Status gemm_s8(const intq::GemmShape&, const intq::Operand&, int32_t, const intq::Weights&, const int32_t*, size_t,
               const Epilogue&, int32_t*, size_t) { return off(); }
Status conv_s8(const intq::ConvShape&, const intq::Operand&, int32_t, const intq::Weights&, const int32_t*, size_t,
               const Epilogue&, int32_t*, size_t) { return off(); }
Status gemm_s8_device(const DevGemmS8&) { return off(); }

DeviceBuffer::~DeviceBuffer() {}
Status DeviceBuffer::alloc(size_t) { return off(); }
Status DeviceBuffer::upload(const void*, size_t) { return off(); }
Status DeviceBuffer::download(void*, size_t) const { return off(); }
Status DeviceBuffer::fill_byte(int) { return off(); }
Status synchronize() { return off(); }

Status f32_gemm_device(bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t, const float*, int64_t,
                       float, float*, int64_t) { return off(); }
Status f32_conv2d_fwd_device(const Conv2dParams&, const float*, const float*, const float*, float*) { return off(); }
Status f32_conv2d_bwd_data_device(const Conv2dParams&, const float*, const float*, float*) { return off(); }
Status f32_conv2d_bwd_weights_device(const Conv2dParams&, const float*, const float*, float*, float*) { return off(); }
Status f32_relu_device(const float*, int64_t, float*) { return off(); }
Status f32_relu_backward_device(const float*, const float*, int64_t, float*) { return off(); }
Status f32_sgd_device(float*, const float*, int64_t, float) { return off(); }

Status f32_gemm(bool, bool, int64_t, int64_t, int64_t, float, const float*, size_t, int64_t, const float*, size_t,
                int64_t, float, float*, size_t, int64_t) { return off(); }
Status f32_conv2d_fwd(const Conv2dParams&, const float*, size_t, const float*, size_t, const float*, size_t, float*,
                      size_t) { return off(); }
Status f32_conv2d_bwd_data(const Conv2dParams&, const float*, size_t, const float*, size_t, float*, size_t) {
  return off();
}
Status f32_conv2d_bwd_weights(const Conv2dParams&, const float*, size_t, const float*, size_t, float*, size_t, float*,
                              size_t) { return off(); }

}  // namespace qrb::cuda
#endif
