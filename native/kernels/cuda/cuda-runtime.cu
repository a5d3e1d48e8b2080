// CUDA path: build facts, device discovery, device buffers, scratch memory. See qrb/cuda.h.
#include <mutex>
#include <sstream>

#include "cuda-common.cuh"

#ifndef QRB_CUDA_ARCHS
#define QRB_CUDA_ARCHS ""
#endif

namespace qrb::cuda {

bool compiled() { return true; }

std::vector<std::string> archs() {
  // QRB_CUDA_ARCHS is CMAKE_CUDA_ARCHITECTURES joined by commas ("75,80,86,87,89,90", maybe with -real / -virtual).
  std::vector<std::string> out;
  std::stringstream ss(QRB_CUDA_ARCHS);
  std::string item;
  while (std::getline(ss, item, ',')) {
    const size_t dash = item.find('-');
    if (dash != std::string::npos) item = item.substr(0, dash);
    if (!item.empty()) out.push_back("sm_" + item);
  }
  return out;
}

DeviceInfo device_info() {
  static std::once_flag once;
  static DeviceInfo info;
  std::call_once(once, [] {
    DeviceInfo d;
    cudaRuntimeGetVersion(&d.runtime_version);
    cudaDriverGetVersion(&d.driver_version);  // 0 when no driver is installed
    int count = 0;
    const cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess) {
      // Error 35 (cudaErrorInsufficientDriver) is what a machine without the NVIDIA driver reports.
      d.reason = std::string("no CUDA device: cudaGetDeviceCount failed with error ") + std::to_string(int(e)) + " (" +
                 cudaGetErrorName(e) + ": " + cudaGetErrorString(e) + ")";
      cudaGetLastError();
      info = d;
      return;
    }
    d.count = count;
    if (count == 0) {
      d.reason = "no CUDA device: the driver reports 0 devices";
      info = d;
      return;
    }
    cudaDeviceProp prop{};
    const cudaError_t pe = cudaGetDeviceProperties(&prop, 0);
    if (pe != cudaSuccess) {
      d.reason = std::string("no CUDA device: cudaGetDeviceProperties failed (") + cudaGetErrorString(pe) + ")";
      info = d;
      return;
    }
    d.device = 0;
    d.name = prop.name;
    d.cc_major = prop.major;
    d.cc_minor = prop.minor;
    d.sm_count = prop.multiProcessorCount;
    d.total_mem = prop.totalGlobalMem;
    const int cc = prop.major * 10 + prop.minor;
    if (cc < 75) {
      d.reason = "no CUDA device: " + d.name + " is sm_" + std::to_string(cc) +
                 "; this build needs sm_75 or newer (CUDA 13 dropped older targets; use the CPU emulation)";
      info = d;
      return;
    }
    d.available = true;
    info = d;
  });
  return info;
}

Status require_device() {
  const DeviceInfo d = device_info();
  if (!d.available) return Status::Error(d.reason);
  return Status::Ok();
}

DeviceBuffer::~DeviceBuffer() {
  if (ptr_) cudaFree(ptr_);
}

Status DeviceBuffer::alloc(size_t bytes) {
  if (ptr_) cudaFree(ptr_);
  ptr_ = nullptr;
  bytes_ = 0;
  QRB_CU_TRY(require_device());
  if (bytes == 0) return Status::Ok();
  QRB_CU_TRY(detail::cuda_status(cudaMalloc(&ptr_, bytes), "DeviceBuffer.alloc(cudaMalloc)"));
  bytes_ = bytes;
  return Status::Ok();
}

Status DeviceBuffer::upload(const void* src, size_t bytes) {
  if (bytes > bytes_)
    return Status::Error("DeviceBuffer.upload(bytes): expected <= " + std::to_string(bytes_) + " but received " +
                         std::to_string(bytes));
  if (bytes == 0) return Status::Ok();
  return detail::cuda_status(cudaMemcpy(ptr_, src, bytes, cudaMemcpyHostToDevice), "DeviceBuffer.upload");
}

Status DeviceBuffer::download(void* dst, size_t bytes) const {
  if (bytes > bytes_)
    return Status::Error("DeviceBuffer.download(bytes): expected <= " + std::to_string(bytes_) + " but received " +
                         std::to_string(bytes));
  if (bytes == 0) return Status::Ok();
  return detail::cuda_status(cudaMemcpy(dst, ptr_, bytes, cudaMemcpyDeviceToHost), "DeviceBuffer.download");
}

Status DeviceBuffer::fill_byte(int value) {
  if (bytes_ == 0) return Status::Ok();
  return detail::cuda_status(cudaMemset(ptr_, value, bytes_), "DeviceBuffer.fill_byte");
}

Status synchronize() {
  QRB_CU_TRY(require_device());
  return detail::cuda_status(cudaDeviceSynchronize(), "synchronize");
}

namespace detail {
void* scratch(size_t bytes, int slot, Status* st) {
  static std::mutex mu;
  static void* ptr[4] = {nullptr, nullptr, nullptr, nullptr};
  static size_t size[4] = {0, 0, 0, 0};
  std::lock_guard<std::mutex> lock(mu);
  *st = Status::Ok();
  if (slot < 0 || slot >= 4) {
    *st = Status::Error("scratch: bad slot");
    return nullptr;
  }
  if (bytes <= size[slot]) return ptr[slot];
  if (ptr[slot]) {
    cudaDeviceSynchronize();  // the old buffer may still be read by queued kernels
    cudaFree(ptr[slot]);
  }
  ptr[slot] = nullptr;
  size[slot] = 0;
  const size_t want = bytes + bytes / 4;
  cudaError_t e = cudaMalloc(&ptr[slot], want);
  if (e != cudaSuccess) {
    *st = cuda_status(e, "scratch(cudaMalloc)");
    ptr[slot] = nullptr;
    return nullptr;
  }
  size[slot] = want;
  return ptr[slot];
}
}  // namespace detail

}  // namespace qrb::cuda
