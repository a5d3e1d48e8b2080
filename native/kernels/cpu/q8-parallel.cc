// q8 parallel_for for the fast integer kernels (issue 5): the caller and threads-1 per-call helpers claim
// tasks from one atomic index. Test: ctest -R intq_fast (threads 1..3 in every suite).
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "qrb/intq_fast_kernels.h"

namespace qrb::intq::fast {

// Tasks are claimed from one atomic index by the caller and threads-1 helper threads started for this
// call and joined before it returns. Obviously correct; costs a thread start (tens of microseconds) per
// call. The previous persistent pool (generation counter + condition variables) deadlocked in CI under
// ASan (caller waiting on cv_done, every worker waiting on cv_start); bring a pool back only with a
// stress test that runs it under load and ASan / TSan.
namespace {

struct Job {
  void (*fn)(void*, size_t);
  void* ctx;
  size_t tasks;
  std::atomic<size_t> next{0};
  void drain() {
    for (;;) {
      const size_t i = next.fetch_add(1, std::memory_order_relaxed);
      if (i >= tasks) return;
      fn(ctx, i);
    }
  }
};

}  // namespace

void parallel_for(int threads, size_t tasks, void (*fn)(void* ctx, size_t i), void* ctx) {
  if (tasks == 0) return;
  if (threads > int(tasks)) threads = int(tasks);
  if (threads <= 1) {
    for (size_t i = 0; i < tasks; ++i) fn(ctx, i);
    return;
  }
  Job job;
  job.fn = fn;
  job.ctx = ctx;
  job.tasks = tasks;
  std::vector<std::thread> helpers;
  helpers.reserve(size_t(threads - 1));
  for (int t = 1; t < threads; ++t) {
    try {
      helpers.emplace_back([&job] { job.drain(); });
    } catch (...) {
      break;  // could not start a thread: the caller does the rest
    }
  }
  job.drain();
  for (auto& h : helpers) h.join();
}

}  // namespace qrb::intq::fast
