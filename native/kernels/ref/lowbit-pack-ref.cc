// int4 / int2 packing reference, the canonical ONNX layout of INTEGER.md §b:
//   INT4 / UINT4  2 per byte: element 2i in bits 0-3, 2i+1 in bits 4-7 (ORT Int4x2, XNNPACK qc4w)
//   INT2 / UINT2  4 per byte: element 4i+j in bits 2j..2j+1, LSB first (XNNPACK qc2w)
// Signed values are two's complement in their field (-8 -> 0x8, -2 -> 0b10); unused high bits of the last
// byte are zero. Flat tensors take ceil(count*bits/8) bytes; weight rows ([n][k], K contiguous) pad K up to
// a multiple of 8 so each row starts on a byte (packed_row_bytes). Kernel-private prepacking never leaves
// the kernel. Test: ctest -R intq_pack (§b vectors, round trips, odd K, K % 4 != 0).
#include <string>

#include "qrb/intq.h"

namespace qrb::intq {

size_t packed_bytes(size_t count, int bits) { return (count * size_t(bits) + 7) / 8; }
size_t packed_row_bytes(size_t k, int bits) { return (k + 7) / 8 * 8 * size_t(bits) / 8; }

static Status check_bits(int bits, const char* fn) {
  if (bits != 4 && bits != 2) return Status::Error(std::string(fn) + "(bits): expected 4 or 2 but received " + std::to_string(bits));
  return Status::Ok();
}

// Packs `count` values into `out` starting at bit 0 of out[0]; out must be zeroed by the caller.
static Status pack_span(const int8_t* v, size_t count, int bits, bool is_signed, uint8_t* out, size_t base_index,
                        const char* fn) {
  const int lo = is_signed ? -(1 << (bits - 1)) : 0;
  const int hi = is_signed ? (1 << (bits - 1)) - 1 : (1 << bits) - 1;
  const unsigned mask = (1u << bits) - 1u;
  for (size_t i = 0; i < count; ++i) {
    if (v[i] < lo || v[i] > hi)
      return Status::Error(std::string(fn) + "(values[" + std::to_string(base_index + i) + "]): expected an integer in [" +
                           std::to_string(lo) + ", " + std::to_string(hi) + "] but received " + std::to_string(int(v[i])));
    const size_t bit = i * size_t(bits);
    out[bit / 8] = uint8_t(out[bit / 8] | ((unsigned(uint8_t(v[i])) & mask) << (bit % 8)));
  }
  return Status::Ok();
}

static void unpack_span(const uint8_t* p, size_t count, int bits, bool is_signed, int8_t* out) {
  const unsigned mask = (1u << bits) - 1u, sign = 1u << (bits - 1);
  for (size_t i = 0; i < count; ++i) {
    const size_t bit = i * size_t(bits);
    const unsigned raw = (unsigned(p[bit / 8]) >> (bit % 8)) & mask;
    out[i] = is_signed ? int8_t(int(raw ^ sign) - int(sign)) : int8_t(raw);
  }
}

Status pack(const int8_t* values, size_t count, int bits, bool is_signed, uint8_t* out, size_t out_len) {
  if (Status s = check_bits(bits, "pack"); !s.ok) return s;
  if (count > (size_t(1) << 48)) return Status::Error("pack(count): too large");
  const size_t need = packed_bytes(count, bits);
  if (out_len != need)
    return Status::Error("pack(out): expected " + std::to_string(need) + " bytes but received " + std::to_string(out_len));
  if (count > 0 && (!values || !out)) return Status::Error("pack: null buffer");
  for (size_t i = 0; i < need; ++i) out[i] = 0;
  return pack_span(values, count, bits, is_signed, out, 0, "pack");
}

Status unpack(const uint8_t* packed, size_t packed_len, size_t count, int bits, bool is_signed, int8_t* out) {
  if (Status s = check_bits(bits, "unpack"); !s.ok) return s;
  if (count > (size_t(1) << 48)) return Status::Error("unpack(count): too large");
  const size_t need = packed_bytes(count, bits);
  if (packed_len != need)
    return Status::Error("unpack(packed): expected " + std::to_string(need) + " bytes for " + std::to_string(count) +
                         " values but received " + std::to_string(packed_len));
  if (count > 0 && (!packed || !out)) return Status::Error("unpack: null buffer");
  unpack_span(packed, count, bits, is_signed, out);
  return Status::Ok();
}

Status pack_rows(const int8_t* values, size_t rows, size_t k, int bits, bool is_signed, uint8_t* out, size_t out_len) {
  if (Status s = check_bits(bits, "packRows"); !s.ok) return s;
  if (rows > (size_t(1) << 24) || k > (size_t(1) << 24)) return Status::Error("packRows(shape): too large");
  const size_t rb = packed_row_bytes(k, bits), need = rows * rb;
  if (out_len != need)
    return Status::Error("packRows(out): expected " + std::to_string(need) + " bytes (" + std::to_string(rows) + " rows of " +
                         std::to_string(rb) + ") but received " + std::to_string(out_len));
  if (rows * k > 0 && (!values || !out)) return Status::Error("packRows: null buffer");
  for (size_t i = 0; i < need; ++i) out[i] = 0;
  for (size_t r = 0; r < rows; ++r)
    if (Status s = pack_span(values + r * k, k, bits, is_signed, out + r * rb, r * k, "packRows"); !s.ok) return s;
  return Status::Ok();
}

Status unpack_rows(const uint8_t* packed, size_t packed_len, size_t rows, size_t k, int bits, bool is_signed, int8_t* out) {
  if (Status s = check_bits(bits, "unpackRows"); !s.ok) return s;
  if (rows > (size_t(1) << 24) || k > (size_t(1) << 24)) return Status::Error("unpackRows(shape): too large");
  const size_t rb = packed_row_bytes(k, bits), need = rows * rb;
  if (packed_len != need)
    return Status::Error("unpackRows(packed): expected " + std::to_string(need) + " bytes but received " + std::to_string(packed_len));
  if (rows * k > 0 && (!packed || !out)) return Status::Error("unpackRows: null buffer");
  for (size_t r = 0; r < rows; ++r) unpack_span(packed + r * rb, k, bits, is_signed, out + r * k);
  return Status::Ok();
}

}  // namespace qrb::intq
