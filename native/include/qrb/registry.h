// Kernel registry: for each op, the variants built into this binary, ordered from the scalar reference
// up; dispatch picks the last one whose ISA is available (cpu.h), honouring QRB_ISA / set_isa_cap.
#pragma once
#include <string>
#include <vector>

#include "qrb/convert.h"
#include "qrb/cpu.h"
#include "qrb/intq_fast_kernels.h"

namespace qrb {

template <class Fn>
struct Variant {
  Isa isa;
  const char* name;
  Fn fn;
};

std::vector<Variant<U8ChwFn>> u8chw_variants();
Variant<U8ChwFn> u8chw_pick();

// Fast int8 GEMM micro-kernels (issue 5; native/kernels/cpu/s8-gemm-*.cc).
std::vector<Variant<const intq::fast::KernelDesc*>> s8gemm_variants();
Variant<const intq::fast::KernelDesc*> s8gemm_pick();

// {op, chosen variant name} for every op, for `qrobust info`.
std::vector<std::pair<std::string, std::string>> kernel_choices();

}  // namespace qrb
