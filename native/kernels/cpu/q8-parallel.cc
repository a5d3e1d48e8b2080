// q8 parallel_for: a small persistent thread pool for the fast integer kernels (issue 5).
// Workers are started on first use and kept; a call hands out task indices through one atomic counter,
// the calling thread works too, and the call returns when every task has finished. One call at a time
// (a mutex serialises concurrent callers, e.g. two AsyncWorkers). Test: ctest -R intq_fast (threads 1..3).
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "qrb/intq_fast_kernels.h"

namespace qrb::intq::fast {

namespace {

struct Pool {
  std::mutex call_mu;  // one parallel_for at a time
  std::mutex mu;
  std::condition_variable cv_start, cv_done;
  std::vector<std::thread> workers;
  // current job
  void (*fn)(void*, size_t) = nullptr;
  void* ctx = nullptr;
  size_t tasks = 0;
  std::atomic<size_t> next{0};
  int active = 0;        // workers wanted for this job
  std::atomic<int> running{0};  // workers still inside this job
  unsigned long generation = 0;
  std::atomic<unsigned long> gen_pub{0};  // generation, readable without the mutex (spinning workers)
  bool stop = false;
  static constexpr int kSpin = 256;  // rounds of a few pauses plus a yield (~tens of microseconds)

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

  void drain() {
    for (;;) {
      const size_t i = next.fetch_add(1);
      if (i >= tasks) return;
      fn(ctx, i);
    }
  }

  void worker(int id) {
    unsigned long seen = 0;
    for (;;) {
      // Spin briefly before sleeping (as ORT's pool does): on a loaded machine a condition-variable wake-up
      // can cost milliseconds, more than a whole small GEMM.
      bool got = false;
      for (int i = 0; i < kSpin && !got; ++i) {
        if (gen_pub.load(std::memory_order_acquire) != seen) {
          std::lock_guard<std::mutex> l(mu);
          if (stop) return;
          if (generation != seen && id < active) {
            seen = generation;
            got = true;
          } else if (generation != seen) {
            seen = generation;  // a job that does not want this worker
          }
        }
        if (!got) relax();
      }
      if (!got) {
        std::unique_lock<std::mutex> l(mu);
        cv_start.wait(l, [&] { return stop || (generation != seen && id < active); });
        if (stop) return;
        seen = generation;
      }
      drain();
      {
        std::lock_guard<std::mutex> l(mu);
        if (running.fetch_sub(1) == 1) cv_done.notify_one();
      }
    }
  }

  void run(int threads, size_t n, void (*f)(void*, size_t), void* c) {
    std::lock_guard<std::mutex> call(call_mu);
    const int helpers = threads - 1;
    {
      std::lock_guard<std::mutex> l(mu);
      while (int(workers.size()) < helpers) {
        const int id = int(workers.size());
        workers.emplace_back([this, id] { worker(id); });
      }
      fn = f;
      ctx = c;
      tasks = n;
      next.store(0);
      active = helpers;
      running.store(helpers);
      ++generation;
      gen_pub.store(generation, std::memory_order_release);
    }
    cv_start.notify_all();
    drain();
    // The caller spins too before sleeping: a futex wake-up per call is a visible cost for convs that
    // dispatch several short parallel phases.
    for (int i = 0; i < kSpin && running.load(std::memory_order_acquire) != 0; ++i) relax();
    std::unique_lock<std::mutex> l(mu);
    cv_done.wait(l, [&] { return running.load() == 0; });
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
  if (threads <= 1) {
    for (size_t i = 0; i < tasks; ++i) fn(ctx, i);
    return;
  }
  pool().run(threads, tasks, fn, ctx);
}

}  // namespace qrb::intq::fast
