// AsyncSignalsBlocked: blocks asynchronous signals in the calling thread for its lifetime and
// restores the previous mask after (pending signals are then delivered). Used around oneDNN calls,
// which corrupt the heap when a signal handler runs inside them (see f32-conv2d-dnnl.cc).
// Synchronous signals (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGABRT) stay unblocked.
#pragma once

#if defined(__unix__) || defined(__APPLE__)
#include <pthread.h>
#include <signal.h>

namespace qrb {

class AsyncSignalsBlocked {
 public:
  AsyncSignalsBlocked() {
    sigset_t all;
    sigfillset(&all);
    for (int s : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGABRT}) sigdelset(&all, s);
    ok_ = pthread_sigmask(SIG_BLOCK, &all, &old_) == 0;
  }
  ~AsyncSignalsBlocked() {
    if (ok_) pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  AsyncSignalsBlocked(const AsyncSignalsBlocked&) = delete;
  AsyncSignalsBlocked& operator=(const AsyncSignalsBlocked&) = delete;

 private:
  sigset_t old_;
  bool ok_ = false;
};

}  // namespace qrb
#else
namespace qrb {
struct AsyncSignalsBlocked {};
}  // namespace qrb
#endif
