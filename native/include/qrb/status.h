// Status: how plain C++ kernels report bad arguments without exceptions crossing into C callers.
// The binding turns a non-ok Status into a JS error carrying the message (which names the argument path).
#pragma once
#include <string>
#include <utility>

namespace qrb {

struct Status {
  bool ok = true;
  std::string message;
  static Status Ok() { return {}; }
  static Status Error(std::string m) { Status s; s.ok = false; s.message = std::move(m); return s; }
};

}  // namespace qrb
