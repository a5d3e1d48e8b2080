// Helpers of the CUDA ctest suites (native/tests/cuda): device check with a clear skip line.
#pragma once
#include <cstdio>

#include "harness.h"
#include "qrb/cuda.h"

// Without a usable GPU a GPU test prints the reason and returns (ctest marks the suite Skipped through its
// SKIP_REGULAR_EXPRESSION); with one, it runs.
#define QRB_CUDA_REQUIRE_DEVICE()                                                               \
  do {                                                                                          \
    const auto _d = ::qrb::cuda::device_info();                                                 \
    if (!_d.available) {                                                                        \
      std::printf("SKIP: no CUDA device (%s)\n", _d.reason.c_str());                            \
      return;                                                                                   \
    }                                                                                           \
  } while (0)

#define QRB_CHECK_OK(expr)                                                                       \
  do {                                                                                           \
    ::qrb::Status _st = (expr);                                                                  \
    if (!_st.ok) {                                                                               \
      ++::qrb::test::g_failures;                                                                 \
      std::fprintf(stderr, "  FAIL %s:%d: %s: %s\n", __FILE__, __LINE__, #expr, _st.message.c_str()); \
      return;                                                                                    \
    }                                                                                            \
  } while (0)

// Inside a lambda returning Status.
#define QRB_CU_TRY_T(expr)         \
  do {                             \
    ::qrb::Status _s2 = (expr);    \
    if (!_s2.ok) return _s2;       \
  } while (0)
