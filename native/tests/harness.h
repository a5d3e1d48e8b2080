// Minimal C++ test harness for the ctest binary (no Node, no third-party framework).
//   QRB_TEST(suite, name) { QRB_CHECK(cond); QRB_CHECK_EQ(a, b); }
// The binary runs every test, or one suite with --suite <name>; ctest registers one entry per file.
#pragma once
#include <cstdint>
#include <cstdio>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

namespace qrb::test {

struct Case {
  std::string suite, name;
  std::function<void()> fn;
};

std::vector<Case>& registry();
extern int g_failures;

struct Registrar {
  Registrar(const char* suite, const char* name, std::function<void()> fn) {
    registry().push_back({suite, name, std::move(fn)});
  }
};

// Deterministic generator for test data (SplitMix64).
struct Rng {
  uint64_t s;
  explicit Rng(uint64_t seed) : s(seed) {}
  uint64_t next() {
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  int64_t range(int64_t lo, int64_t hi) { return lo + int64_t(next() % uint64_t(hi - lo + 1)); }
};

}  // namespace qrb::test

#define QRB_TEST(suite, name)                                                               \
  static void qrb_test_##suite##_##name();                                                  \
  static ::qrb::test::Registrar qrb_reg_##suite##_##name(#suite, #name, qrb_test_##suite##_##name); \
  static void qrb_test_##suite##_##name()

#define QRB_CHECK(cond)                                                                   \
  do {                                                                                    \
    if (!(cond)) {                                                                        \
      ++::qrb::test::g_failures;                                                          \
      std::fprintf(stderr, "  FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);              \
      return;                                                                             \
    }                                                                                     \
  } while (0)

#define QRB_CHECK_EQ(a, b)                                                                \
  do {                                                                                    \
    auto _qa = (a);                                                                       \
    auto _qb = (b);                                                                       \
    if (!(_qa == _qb)) {                                                                  \
      ++::qrb::test::g_failures;                                                          \
      std::ostringstream _os;                                                             \
      _os << _qa << " != " << _qb;                                                        \
      std::fprintf(stderr, "  FAIL %s:%d: %s == %s (%s)\n", __FILE__, __LINE__, #a, #b,   \
                   _os.str().c_str());                                                    \
      return;                                                                             \
    }                                                                                     \
  } while (0)
