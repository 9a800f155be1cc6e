/* Philox4x32-10 against Random123's published known-answer vectors, and the draw helpers. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <time.h>

#include "common/philox.h"

Test(philox, matches_random123_known_answer_vectors) {
  /* Random123 tests/kat_vectors, the three "philox4x32 10" lines */
  struct {
    uint32_t ctr[4], key[2], out[4];
  } kat[] = {
      {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
      {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
       {0xffffffff, 0xffffffff},
       {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
      {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
       {0xa4093822, 0x299f31d0},
       {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
  };
  for (int i = 0; i < 3; i++) {
    sg_philox4 c = {{kat[i].ctr[0], kat[i].ctr[1], kat[i].ctr[2], kat[i].ctr[3]}};
    sg_philox4 r = sg_philox4x32_10(c, kat[i].key[0], kat[i].key[1]);
    for (int w = 0; w < 4; w++)
      cr_assert_eq(r.v[w], kat[i].out[w], "vector %d word %d: %08x != %08x", i, w, r.v[w],
                   kat[i].out[w]);
  }
}

Test(philox, stream_convention_maps_seed_stream_and_index_to_key_and_counter) {
  uint64_t seed = 0x299f31d0a4093822ull, stream = 0x0370734413198a2eull;
  uint64_t block = 0x85a308d3243f6a88ull;
  /* this (seed, stream, block) is the third known-answer vector */
  sg_philox4 b = sg_philox_block(seed, stream, block);
  cr_assert_eq(b.v[0], 0xd16cfe09);
  cr_assert_eq(b.v[3], 0x24126ea1);
  /* draw i is word i % 4 of block i / 4 (a block small enough that 4 * block fits in 64 bits) */
  b = sg_philox_block(seed, stream, 0x0123456789abcdeull);
  for (uint32_t w = 0; w < 4; w++)
    cr_assert_eq(sg_philox_u32(seed, stream, 0x0123456789abcdeull * 4 + w), b.v[w]);
}

Test(philox, unit_maps_into_half_open_interval) {
  cr_assert_eq(sg_philox_to_unit(0), 0.0f);
  cr_assert_eq(sg_philox_to_unit(0xffffffffu), 1.0f - 1.0f / 16777216.0f);
  cr_assert_eq(sg_philox_to_unit_open0(0), 1.0f / 16777216.0f);
  cr_assert_eq(sg_philox_to_unit_open0(0xffffffffu), 1.0f);
  cr_assert_eq(sg_philox_to_below(0xffffffffu, 10), 9);
  cr_assert_eq(sg_philox_to_below(0, 10), 0);
}

Test(philox, uniform_draws_pass_moment_and_chi_square_checks) {
  uint64_t seed = (uint64_t)time(NULL);
  printf("seed %llu\n", (unsigned long long)seed);
  enum { N = 1 << 20, BINS = 64 };
  static unsigned hist[BINS];
  double sum = 0, sumsq = 0;
  for (uint64_t i = 0; i < N; i++) {
    float u = sg_philox_to_unit(sg_philox_u32(seed, 3, i));
    cr_assert(u >= 0.0f && u < 1.0f);
    sum += u;
    sumsq += (double)u * u;
    hist[(int)(u * BINS)]++;
  }
  double mean = sum / N, var = sumsq / N - mean * mean;
  /* mean's sd is sqrt(1/12/N) = 2.8e-4: 6 sd */
  cr_assert(fabs(mean - 0.5) < 1.7e-3, "mean %f", mean);
  cr_assert(fabs(var - 1.0 / 12) < 2e-3, "variance %f", var);
  double chi2 = 0, expect = (double)N / BINS;
  for (int b = 0; b < BINS; b++)
    chi2 += (hist[b] - expect) * (hist[b] - expect) / expect;
  /* 63 degrees of freedom: P(chi2 > 110) < 2e-4 */
  cr_assert(chi2 < 110, "chi-square %f", chi2);
}

Test(philox, different_streams_and_seeds_give_different_words) {
  int same_stream = 0, same_seed = 0;
  for (uint64_t i = 0; i < 1000; i++) {
    same_stream += sg_philox_u32(1, 0, i) == sg_philox_u32(1, 1, i);
    same_seed += sg_philox_u32(1, 0, i) == sg_philox_u32(2, 0, i);
  }
  cr_assert_leq(same_stream, 1);
  cr_assert_leq(same_seed, 1);
}
