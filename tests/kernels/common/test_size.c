/* Overflow-checked size arithmetic against 128-bit integer arithmetic. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "common/philox.h"
#include "common/size.h"

__extension__ typedef unsigned __int128 u128;

static size_t edge(uint32_t r) {
  static const size_t edges[] = {0,
                                 1,
                                 2,
                                 3,
                                 4,
                                 7,
                                 255,
                                 65536,
                                 SIZE_MAX / 2,
                                 SIZE_MAX / 2 + 1,
                                 SIZE_MAX - 1,
                                 SIZE_MAX,
                                 (size_t)1 << 32,
                                 ((size_t)1 << 32) + 1};
  return edges[r % (sizeof edges / sizeof edges[0])];
}

static void check(size_t a, size_t b, size_t c) {
  size_t out = 12345;
  u128 add = (u128)a + b, mul = (u128)a * b, mul3 = (u128)a * b * c, muladd = (u128)a * b + c;
  int ok = sg_size_add(a, b, &out);
  cr_assert_eq(ok, add <= SIZE_MAX, "add %zu %zu", a, b);
  if (ok) cr_assert_eq(out, (size_t)add);
  ok = sg_size_mul(a, b, &out);
  cr_assert_eq(ok, mul <= SIZE_MAX, "mul %zu %zu", a, b);
  if (ok) cr_assert_eq(out, (size_t)mul);
  /* a*b*c can exceed 128 bits only if a*b already overflowed 64 */
  ok = sg_size_mul3(a, b, c, &out);
  cr_assert_eq(ok, mul <= SIZE_MAX && mul3 <= SIZE_MAX, "mul3 %zu %zu %zu", a, b, c);
  if (ok) cr_assert_eq(out, (size_t)mul3);
  ok = sg_size_muladd(a, b, c, &out);
  cr_assert_eq(ok, mul <= SIZE_MAX && muladd <= SIZE_MAX, "muladd %zu %zu %zu", a, b, c);
  if (ok) cr_assert_eq(out, (size_t)muladd);
}

Test(size, matches_128_bit_arithmetic_on_edges) {
  for (uint32_t i = 0; i < 14; i++)
    for (uint32_t j = 0; j < 14; j++)
      for (uint32_t k = 0; k < 14; k++)
        check(edge(i), edge(j), edge(k));
}

Test(size, matches_128_bit_arithmetic_on_random_values) {
  uint64_t seed = (uint64_t)time(NULL);
  printf("seed %llu\n", (unsigned long long)seed);
  for (uint64_t i = 0; i < 200000; i++) {
    sg_philox4 r = sg_philox_block(seed, 7, i);
    /* random magnitudes: shift each operand so products straddle 2^64 */
    size_t a = ((size_t)r.v[0] << 32 | r.v[1]) >> (r.v[2] % 64);
    size_t b = ((size_t)r.v[1] << 32 | r.v[3]) >> (r.v[3] % 64);
    size_t c = (size_t)r.v[2] >> (r.v[0] % 32);
    check(a, b, c);
  }
}

Test(size, leaves_output_alone_on_overflow) {
  size_t out = 42;
  cr_assert_not(sg_size_mul(SIZE_MAX, 2, &out));
  cr_assert_not(sg_size_add(SIZE_MAX, 1, &out));
  cr_assert_eq(out, 42);
}
