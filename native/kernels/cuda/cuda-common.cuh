// Internal helpers of the CUDA kernels (native/kernels/cuda): error mapping and launch checks.
#pragma once
#include <cuda_runtime.h>

#include <string>

#include "qrb/cuda.h"

namespace qrb::cuda::detail {

inline Status cuda_status(cudaError_t e, const char* what) {
  if (e == cudaSuccess) return Status::Ok();
  return Status::Error(std::string(what) + ": CUDA error " + std::to_string(int(e)) + " (" + cudaGetErrorName(e) +
                       ": " + cudaGetErrorString(e) + ")");
}
inline Status cuda_status(cudaError_t e, const std::string& what) { return cuda_status(e, what.c_str()); }
// After a launch: the launch error (bad configuration), not the asynchronous execution error.
inline Status launch_status(const char* what) { return cuda_status(cudaGetLastError(), what); }

// Per-process scratch on the device, grown on demand (not thread safe; documented in qrb/cuda.h).
void* scratch(size_t bytes, int slot, Status* st);

inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
inline int64_t round_up(int64_t a, int64_t b) { return ceil_div(a, b) * b; }

}  // namespace qrb::cuda::detail

#define QRB_CU_TRY(expr)                   \
  do {                                     \
    ::qrb::Status _s = (expr);             \
    if (!_s.ok) return _s;                 \
  } while (0)
