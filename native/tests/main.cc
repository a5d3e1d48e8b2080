// Runner for the ctest binary: `qrb_tests [--suite NAME]`. Prints "N passed, N failed".
#include <cstring>

#include "harness.h"

namespace qrb::test {
std::vector<Case>& registry() {
  static std::vector<Case> r;
  return r;
}
int g_failures = 0;
}  // namespace qrb::test

int main(int argc, char** argv) {
  const char* only = nullptr;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--suite") == 0 && i + 1 < argc) only = argv[++i];
  }
  int passed = 0, failed = 0, ran = 0;
  for (auto& c : qrb::test::registry()) {
    if (only && c.suite != only) continue;
    ++ran;
    int before = qrb::test::g_failures;
    c.fn();
    if (qrb::test::g_failures == before) {
      ++passed;
      std::printf("ok   %s.%s\n", c.suite.c_str(), c.name.c_str());
    } else {
      ++failed;
      std::printf("FAIL %s.%s\n", c.suite.c_str(), c.name.c_str());
    }
  }
  if (only && ran == 0) {
    std::fprintf(stderr, "qrb_tests: no suite named '%s'\n", only);
    return 2;
  }
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
