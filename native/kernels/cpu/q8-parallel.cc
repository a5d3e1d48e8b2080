// q8 parallel_for: a small persistent thread pool for the fast integer kernels (issue 5).
// Workers are started on first use and kept. A call publishes a job (fn, ctx, task count) under a new
// generation; tasks are claimed from one 64-bit counter holding (generation << 32 | next index), so a worker
// that wakes late can never claim a task of a job that has moved on. The caller works too and returns as
// soon as every task is DONE: it never waits for a helper that has not woken up yet (on an oversubscribed
// box a wake-up can take a whole scheduler time slice, which used to stall every 2-thread call).
// Waiting is a short pause+yield spin, then a condition variable. One call at a time (call_mu serialises
// concurrent callers). Test: ctest -R intq_fast (threads 1..3 in every suite).
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "qrb/intq_fast_kernels.h"

namespace qrb::intq::fast {

namespace {

using TaskFn = void (*)(void*, size_t);

struct Pool {
  std::mutex call_mu;  // one parallel_for at a time
  std::mutex mu;       // guards the condition-variable waits and `stop`
  std::condition_variable cv_start, cv_done;
  std::vector<std::thread> workers;
  // The current job. Atomics (relaxed) so that a late worker's speculative reads are not data races; the
  // claim on `counter` validates them.
  std::atomic<TaskFn> fn{nullptr};
  std::atomic<void*> ctx{nullptr};
  std::atomic<size_t> tasks{0};
  std::atomic<uint64_t> counter{0};  // generation << 32 | next task index
  std::atomic<size_t> done{0};
  std::atomic<uint32_t> gen{0};
  std::atomic<int> want{0};  // workers with id < want help with the current job
  bool stop = false;
  static constexpr int kSpin = 256;  // rounds of a few pauses plus a yield (tens of microseconds)

  // A short pause burst, then sched_yield: on an oversubscribed box a pure spin would steal the CPU from
  // the very thread it waits for.
  static void relax() {
    for (int i = 0; i < 8; ++i) {
#if defined(__x86_64__)
      __builtin_ia32_pause();
#elif defined(__aarch64__)
      asm volatile("yield");
#endif
    }
    std::this_thread::yield();
  }

  ~Pool() {
    {
      std::lock_guard<std::mutex> l(mu);
      stop = true;
    }
    cv_start.notify_all();
    for (auto& t : workers) t.join();
  }

  // Claims and runs tasks of generation g until none is left.
  void drain(uint32_t g) {
    for (;;) {
      uint64_t v = counter.load(std::memory_order_acquire);
      if (uint32_t(v >> 32) != g) return;
      const TaskFn f = fn.load(std::memory_order_relaxed);
      void* const c = ctx.load(std::memory_order_relaxed);
      const size_t n = tasks.load(std::memory_order_relaxed);
      const size_t idx = size_t(v & 0xFFFFFFFFu);
      if (idx >= n) return;
      // Success means generation g was still current and unfinished, so f, c, n are g's.
      if (!counter.compare_exchange_weak(v, v + 1, std::memory_order_acq_rel)) continue;
      f(c, idx);
      if (done.fetch_add(1, std::memory_order_acq_rel) + 1 == n) {
        std::lock_guard<std::mutex> l(mu);
        cv_done.notify_all();
      }
    }
  }

  void worker(int id) {
    uint32_t seen = 0;
    for (;;) {
      uint32_t g = seen;
      for (int i = 0; i < kSpin && g == seen; ++i) {
        g = gen.load(std::memory_order_acquire);
        if (g == seen) relax();
      }
      if (g == seen) {
        std::unique_lock<std::mutex> l(mu);
        cv_start.wait(l, [&] { return stop || gen.load(std::memory_order_acquire) != seen; });
        if (stop) return;
        g = gen.load(std::memory_order_acquire);
      }
      seen = g;
      if (id < want.load(std::memory_order_acquire)) drain(g);
    }
  }

  void run(int threads, size_t n, TaskFn f, void* c) {
    std::lock_guard<std::mutex> call(call_mu);
    const int helpers = threads - 1;
    while (int(workers.size()) < helpers) {
      const int id = int(workers.size());
      workers.emplace_back([this, id] { worker(id); });
    }
    const uint32_t g = gen.load(std::memory_order_relaxed) + 1;
    fn.store(f, std::memory_order_relaxed);
    ctx.store(c, std::memory_order_relaxed);
    tasks.store(n, std::memory_order_relaxed);
    done.store(0, std::memory_order_relaxed);
    want.store(helpers, std::memory_order_relaxed);
    counter.store(uint64_t(g) << 32, std::memory_order_release);
    {
      std::lock_guard<std::mutex> l(mu);
      gen.store(g, std::memory_order_release);
    }
    cv_start.notify_all();
    drain(g);
    for (int i = 0; i < kSpin && done.load(std::memory_order_acquire) != n; ++i) relax();
    if (done.load(std::memory_order_acquire) != n) {
      std::unique_lock<std::mutex> l(mu);
      cv_done.wait(l, [&] { return done.load(std::memory_order_acquire) == n; });
    }
  }
};

Pool& pool() {
  static Pool p;
  return p;
}

}  // namespace

void parallel_for(int threads, size_t tasks, void (*fn)(void* ctx, size_t i), void* ctx) {
  if (tasks == 0) return;
  if (threads > int(tasks)) threads = int(tasks);
  if (threads <= 1 || tasks >= (size_t(1) << 32)) {
    for (size_t i = 0; i < tasks; ++i) fn(ctx, i);
    return;
  }
  pool().run(threads, tasks, fn, ctx);
}

}  // namespace qrb::intq::fast
