// CPU detection and the dispatch cap.
#include <cstring>

#include "harness.h"
#include "qrb/cpu.h"
#include "qrb/registry.h"

QRB_TEST(cpu, features_consistent) {
  const auto& f = qrb::cpu_features();
#if defined(__x86_64__)
  QRB_CHECK(f.x86);
  QRB_CHECK(!f.neon);
  if (f.avx2) QRB_CHECK(f.avx);                 // AVX2 implies OS-enabled AVX
  if (f.avx512vnni) QRB_CHECK(f.avx512f);
  QRB_CHECK(std::strcmp(qrb::arch_name(), "x86_64") == 0);
#elif defined(__aarch64__)
  QRB_CHECK(f.aarch64);
  QRB_CHECK(f.neon);
  QRB_CHECK(std::strcmp(qrb::arch_name(), "aarch64") == 0);
#endif
}

QRB_TEST(cpu, isa_names_round_trip) {
  for (qrb::Isa i : {qrb::Isa::scalar, qrb::Isa::avx2, qrb::Isa::avx512, qrb::Isa::avx512vnni, qrb::Isa::neon,
                     qrb::Isa::neondot}) {
    qrb::Isa back;
    QRB_CHECK(qrb::isa_from_name(qrb::isa_name(i), &back));
    QRB_CHECK(back == i);
  }
  qrb::Isa dummy;
  QRB_CHECK(!qrb::isa_from_name("sse9", &dummy));
}

QRB_TEST(cpu, cap_forces_scalar) {
  QRB_CHECK(qrb::set_isa_cap("scalar"));
  QRB_CHECK_EQ(std::string(qrb::u8chw_pick().name), std::string("u8chw_ref"));
  QRB_CHECK(!qrb::isa_available(qrb::Isa::avx2));
  QRB_CHECK(!qrb::isa_available(qrb::Isa::neon));
  QRB_CHECK(!qrb::set_isa_cap("bogus"));
  QRB_CHECK(qrb::set_isa_cap("native"));
  QRB_CHECK(qrb::isa_available(qrb::Isa::scalar));
#if defined(__aarch64__)
  QRB_CHECK_EQ(std::string(qrb::u8chw_pick().name), std::string("u8chw_neon"));
#endif
#if defined(__x86_64__)
  if (qrb::cpu_features().avx2 && qrb::cpu_features().fma)
    QRB_CHECK_EQ(std::string(qrb::u8chw_pick().name), std::string("u8chw_avx2"));
#endif
}
