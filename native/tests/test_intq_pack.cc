// int4 / int2 packing: the INTEGER.md §b vectors, round trips over every value and odd lengths, row
// padding (K up to a multiple of 8), negative values at the field boundary, argument checks.
#include <vector>

#include "harness.h"
#include "qrb/intq.h"

using namespace qrb::intq;

QRB_TEST(intq_pack, spec_vectors) {
  const int8_t i4[5] = {1, -2, 7, -8, 3};
  uint8_t out[3];
  QRB_CHECK(pack(i4, 5, 4, true, out, 3).ok);
  QRB_CHECK_EQ(int(out[0]), 0xE1);
  QRB_CHECK_EQ(int(out[1]), 0x87);
  QRB_CHECK_EQ(int(out[2]), 0x03);
  const int8_t i2[5] = {1, -2, 0, -1, 1};
  uint8_t o2[2];
  QRB_CHECK(pack(i2, 5, 2, true, o2, 2).ok);
  QRB_CHECK_EQ(int(o2[0]), 0xC9);
  QRB_CHECK_EQ(int(o2[1]), 0x01);
  const int8_t u4[3] = {0, 15, 8};
  uint8_t o3[2];
  QRB_CHECK(pack(u4, 3, 4, false, o3, 2).ok);
  QRB_CHECK_EQ(int(o3[0]), 0xF0);
  QRB_CHECK_EQ(int(o3[1]), 0x08);
  // field boundary: -8 -> 0x8, -2 -> 0b10
  const int8_t m8[1] = {-8}, m2[1] = {-2};
  QRB_CHECK(pack(m8, 1, 4, true, out, 1).ok);
  QRB_CHECK_EQ(int(out[0]), 0x08);
  QRB_CHECK(pack(m2, 1, 2, true, out, 1).ok);
  QRB_CHECK_EQ(int(out[0]), 0x02);
  int8_t back[5];
  QRB_CHECK(unpack(o2, 2, 5, 2, true, back).ok);
  for (int i = 0; i < 5; ++i) QRB_CHECK_EQ(int(back[i]), int(i2[i]));
}

QRB_TEST(intq_pack, round_trips_and_rows) {
  qrb::test::Rng rng(5);
  for (int bits : {4, 2})
    for (bool sg : {true, false})
      for (size_t n : {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 33, 100}) {
        const int lo = sg ? -(1 << (bits - 1)) : 0, hi = sg ? (1 << (bits - 1)) - 1 : (1 << bits) - 1;
        std::vector<int8_t> v(n);
        for (size_t i = 0; i < n; ++i) v[i] = int8_t(i < size_t(hi - lo + 1) ? lo + int(i) : rng.range(lo, hi));  // every value
        std::vector<uint8_t> p(packed_bytes(n, bits));
        QRB_CHECK(pack(v.data(), n, bits, sg, p.data(), p.size()).ok);
        // unused high bits of the last byte are zero
        const size_t used = (n * size_t(bits)) % 8;
        if (used) QRB_CHECK_EQ(int(p.back() >> used), 0);
        std::vector<int8_t> u(n);
        QRB_CHECK(unpack(p.data(), p.size(), n, bits, sg, u.data()).ok);
        QRB_CHECK(u == v);
        // rows: K = n, 3 rows, each row padded to a multiple of 8 values
        const size_t rows = 3, rb = packed_row_bytes(n, bits);
        QRB_CHECK_EQ(rb, (n + 7) / 8 * size_t(bits));
        std::vector<int8_t> m(rows * n);
        for (auto& x : m) x = int8_t(rng.range(lo, hi));
        std::vector<uint8_t> pr(rows * rb);
        QRB_CHECK(pack_rows(m.data(), rows, n, bits, sg, pr.data(), pr.size()).ok);
        for (size_t r = 0; r < rows; ++r) {  // each row equals the flat packing of that row
          std::vector<uint8_t> flat(packed_bytes(n, bits));
          QRB_CHECK(pack(m.data() + r * n, n, bits, sg, flat.data(), flat.size()).ok);
          for (size_t i = 0; i < flat.size(); ++i) QRB_CHECK_EQ(int(pr[r * rb + i]), int(flat[i]));
          for (size_t i = flat.size(); i < rb; ++i) QRB_CHECK_EQ(int(pr[r * rb + i]), 0);
        }
        std::vector<int8_t> mu(rows * n);
        QRB_CHECK(unpack_rows(pr.data(), pr.size(), rows, n, bits, sg, mu.data()).ok);
        QRB_CHECK(mu == m);
      }
}

QRB_TEST(intq_pack, bad_arguments) {
  const int8_t v[3] = {8, 0, 0};
  uint8_t out[2];
  QRB_CHECK(!pack(v, 3, 4, true, out, 2).ok);   // 8 is outside int4
  QRB_CHECK(pack(v, 3, 4, false, out, 2).ok);   // fine as uint4
  QRB_CHECK(!pack(v, 3, 4, false, out, 1).ok);  // wrong length
  QRB_CHECK(!pack(v, 3, 3, false, out, 2).ok);  // bits
  const int8_t neg[1] = {-1};
  QRB_CHECK(!pack(neg, 1, 2, false, out, 1).ok);
  int8_t back[3];
  QRB_CHECK(!unpack(out, 1, 3, 4, true, back).ok);
  QRB_CHECK(!unpack_rows(out, 2, 1, 9, 2, true, back).ok);  // 9 values pad to 16 -> 4 bytes
}
