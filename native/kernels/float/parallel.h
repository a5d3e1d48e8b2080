// The one way the small float kernels (batchnorm, ReLU, add, SGD; f32-bn-relu.cc) run on several
// threads: qrb::float_parallel_for(n, min_per_thread, fn) calls fn(begin, end) over [0, n) cut into
// at most float_threads() contiguous ranges of equal size (the last one shorter);
// qrb::float_parallel_ranges(parts, n, fn) does the same with a thread count of the caller's. The cut depends only
// on n, min_per_thread and the thread count, never on scheduling, so a kernel whose ranges are
// independent gives the same bits as its scalar twin whatever thread runs which range.
//
// Why OpenMP: oneDNN (Debian libdnnl) already runs on libgomp, so these kernels share its warm,
// persistent thread team instead of starting fresh std::threads on every call (~100 calls per resnet20
// training step; each start costs tens of µs and, on a crowded machine, a wait for a CPU slot). The
// team's idle threads follow OMP_WAIT_POLICY / GOMP_SPINCOUNT (ts/tensor/float-kernels.ts sets the
// policy). libgomp never joins its threads at exit, so there is no shutdown order to get wrong (the
// integer kernels' own persistent pool deadlocked under ASan on exactly that).
// Without OpenMP (a compiler without -fopenmp) the fallback starts std::threads as before.
//
// fn must not throw. Called from inside another parallel region (nested), the range runs on the
// calling thread (libgomp gives a team of one; every range is still visited, in order).
// Test: ctest -R float_bn (thread-split sizes, 1..3 threads, same bits as one thread).
#pragma once

#include <algorithm>
#include <cstdint>

#ifdef _OPENMP
#include <omp.h>
#else
#include <thread>
#include <vector>
#endif

#include "qrb/float.h"

namespace qrb {

// Threads float_parallel_for uses for n items at min_per_thread items per thread at least (1..64).
inline int64_t float_parallel_threads(int64_t n, int64_t min_per_thread) {
  const int64_t by_size = std::max<int64_t>(1, n / std::max<int64_t>(1, min_per_thread));
  return std::max<int64_t>(1, std::min<int64_t>({int64_t(float_threads()), by_size, int64_t(64)}));
}

// fn(begin, end) over [0, n) cut into `parts` contiguous ranges of ceil(n / parts) (the last shorter),
// one per team member; for kernels that choose their own thread count (e.g. a test override).
template <class Fn>
void float_parallel_ranges(int64_t parts, int64_t n, Fn fn) {
  if (n <= 0) return;
  parts = std::max<int64_t>(1, std::min<int64_t>({parts, n, int64_t(64)}));
  if (parts == 1) {
    fn(int64_t(0), n);
    return;
  }
  const int64_t step = (n + parts - 1) / parts;
#ifdef _OPENMP
  // The team may be smaller than asked (nesting, thread limits): each member then takes every
  // team-size-th range, so all `parts` ranges run exactly once and the cut stays the same.
#pragma omp parallel num_threads(int(parts))
  {
    const int64_t team = omp_get_num_threads();
    for (int64_t t = omp_get_thread_num(); t < parts; t += team) {
      const int64_t b = t * step, e = std::min(n, b + step);
      if (b < e) fn(b, e);
    }
  }
#else
  std::vector<std::thread> pool;
  for (int64_t t = 1; t < parts; ++t) {
    const int64_t b = t * step, e = std::min(n, b + step);
    if (b < e) pool.emplace_back([=] { fn(b, e); });
  }
  fn(int64_t(0), std::min(n, step));
  for (auto& th : pool) th.join();
#endif
}

// fn(begin, end) over [0, n) on float_parallel_threads(n, min_per_thread) ranges.
template <class Fn>
void float_parallel_for(int64_t n, int64_t min_per_thread, Fn fn) {
  if (n <= 0) return;
  float_parallel_ranges(float_parallel_threads(n, min_per_thread), n, fn);
}

}  // namespace qrb
