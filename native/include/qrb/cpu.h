// CPU feature detection and the ISA ladder that run-time dispatch walks.
// Detected once (cpuid + xgetbv on x86-64, getauxval(AT_HWCAP) on aarch64); no -march=native anywhere:
// every ISA-specific function carries its own target attribute and is only called when detected.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace qrb {

struct CpuFeatures {
  bool x86 = false, aarch64 = false;
  bool sse41 = false, avx = false, avx2 = false, fma = false, f16c = false;
  bool avx512f = false, avx512bw = false, avx512vl = false, avx512dq = false, avx512vnni = false, avxvnni = false;
  bool neon = false, dotprod = false, i8mm = false, fp16 = false;
};

// Ordered: a kernel for ISA k may run when every feature that k needs is present.
enum class Isa : int { scalar = 0, avx2 = 1, avx512 = 2, avx512vnni = 3, neon = 10, neondot = 11 };

const CpuFeatures& cpu_features();
std::vector<std::string> cpu_feature_names();
const char* isa_name(Isa isa);
bool isa_from_name(const std::string& name, Isa* out);
// True when this CPU can run code built for `isa` and the cap (QRB_ISA env or set_isa_cap) allows it.
bool isa_available(Isa isa);
// Caps dispatch (tests use it to force each path). "native"/"" removes the cap. Returns false on an unknown name.
bool set_isa_cap(const std::string& name);
std::string isa_cap();
const char* arch_name();

}  // namespace qrb
