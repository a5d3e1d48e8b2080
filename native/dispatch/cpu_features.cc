// CPU feature detection. See qrb/cpu.h.
#include "qrb/cpu.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#if defined(__x86_64__) || defined(_M_X64)
#include <cpuid.h>
#endif
#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#endif

namespace qrb {
namespace {

#if defined(__x86_64__)
uint64_t xgetbv0() {
  uint32_t eax, edx;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (uint64_t(edx) << 32) | eax;
}
#endif

CpuFeatures detect() {
  CpuFeatures f;
#if defined(__x86_64__)
  f.x86 = true;
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  f.sse41 = c & (1u << 19);
  const bool osxsave = c & (1u << 27);
  const bool avx_hw = c & (1u << 28);
  f.fma = c & (1u << 12);
  f.f16c = c & (1u << 29);
  uint64_t xcr0 = osxsave ? xgetbv0() : 0;
  const bool ymm_os = (xcr0 & 0x6) == 0x6;            // SSE + AVX state saved by the OS
  const bool zmm_os = (xcr0 & 0xe6) == 0xe6;          // + opmask, ZMM_Hi256, Hi16_ZMM
  f.avx = avx_hw && ymm_os;
  if (!f.avx) { f.fma = false; f.f16c = false; }
  if (__get_cpuid_max(0, nullptr) >= 7) {
    __cpuid_count(7, 0, a, b, c, d);
    f.avx2 = f.avx && (b & (1u << 5));
    if (zmm_os) {
      f.avx512f = b & (1u << 16);
      f.avx512dq = b & (1u << 17);
      f.avx512bw = b & (1u << 30);
      f.avx512vl = b & (1u << 31);
      f.avx512vnni = f.avx512f && (c & (1u << 11));
    }
    __cpuid_count(7, 1, a, b, c, d);
    f.avxvnni = f.avx2 && (a & (1u << 4));
  }
#elif defined(__aarch64__)
  f.aarch64 = true;
  f.neon = true;  // Advanced SIMD is mandatory on AArch64
#if defined(__linux__)
  unsigned long hw = getauxval(AT_HWCAP);
  unsigned long hw2 = getauxval(AT_HWCAP2);
  f.dotprod = hw & (1ul << 20);   // HWCAP_ASIMDDP
  f.fp16 = hw & (1ul << 10);      // HWCAP_ASIMDHP
  f.i8mm = hw2 & (1ul << 13);     // HWCAP2_I8MM
#endif
#endif
  return f;
}

std::atomic<int> g_cap{-1};  // -1: not read yet; 1000: no cap

int read_env_cap() {
  const char* e = std::getenv("QRB_ISA");
  Isa isa;
  if (e && *e && std::strcmp(e, "native") != 0 && isa_from_name(e, &isa)) return int(isa);
  return 1000;
}

int cap() {
  int c = g_cap.load();
  if (c == -1) { c = read_env_cap(); g_cap.store(c); }
  return c;
}

}  // namespace

const CpuFeatures& cpu_features() {
  static const CpuFeatures f = detect();
  return f;
}

std::vector<std::string> cpu_feature_names() {
  const CpuFeatures& f = cpu_features();
  std::vector<std::string> out;
  struct { bool on; const char* name; } table[] = {
      {f.sse41, "sse4.1"}, {f.avx, "avx"}, {f.avx2, "avx2"}, {f.fma, "fma"}, {f.f16c, "f16c"},
      {f.avx512f, "avx512f"}, {f.avx512bw, "avx512bw"}, {f.avx512vl, "avx512vl"}, {f.avx512dq, "avx512dq"},
      {f.avx512vnni, "avx512vnni"}, {f.avxvnni, "avxvnni"}, {f.neon, "neon"}, {f.dotprod, "dotprod"},
      {f.i8mm, "i8mm"}, {f.fp16, "fp16"}};
  for (auto& t : table) if (t.on) out.push_back(t.name);
  return out;
}

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::scalar: return "scalar";
    case Isa::avx2: return "avx2";
    case Isa::avx512: return "avx512";
    case Isa::avx512vnni: return "avx512vnni";
    case Isa::neon: return "neon";
    case Isa::neondot: return "neondot";
  }
  return "unknown";
}

bool isa_from_name(const std::string& name, Isa* out) {
  for (Isa i : {Isa::scalar, Isa::avx2, Isa::avx512, Isa::avx512vnni, Isa::neon, Isa::neondot}) {
    if (name == isa_name(i)) { *out = i; return true; }
  }
  return false;
}

static bool hw_has(Isa isa) {
  const CpuFeatures& f = cpu_features();
  switch (isa) {
    case Isa::scalar: return true;
    case Isa::avx2: return f.avx2 && f.fma;
    case Isa::avx512: return f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq;
    case Isa::avx512vnni: return hw_has(Isa::avx512) && f.avx512vnni;
    case Isa::neon: return f.neon;
    case Isa::neondot: return f.neon && f.dotprod;
  }
  return false;
}

bool isa_available(Isa isa) {
  if (!hw_has(isa)) return false;
  int c = cap();
  if (c == 1000 || isa == Isa::scalar) return true;
  // The cap is a rung on the same ladder (x86 rungs < 10, arm rungs >= 10).
  const bool same_family = (int(isa) >= 10) == (c >= 10);
  return same_family ? int(isa) <= c : false;
}

bool set_isa_cap(const std::string& name) {
  if (name.empty() || name == "native") { g_cap.store(1000); return true; }
  Isa isa;
  if (!isa_from_name(name, &isa)) return false;
  g_cap.store(int(isa));
  return true;
}

std::string isa_cap() {
  int c = cap();
  return c == 1000 ? "native" : isa_name(Isa(c));
}

const char* arch_name() {
#if defined(__x86_64__)
  return "x86_64";
#elif defined(__aarch64__)
  return "aarch64";
#else
  return "other";
#endif
}

}  // namespace qrb
