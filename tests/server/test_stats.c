/* Latency histogram and counters: quantiles against a sorted copy of the recorded latencies. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "common/philox.h"
#include "stats.h"

static int cmp(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

/* the bucket bound that holds latency v (seconds) */
static double bound_of(double v) {
  for (int b = 0; b < SG_STATS_BUCKETS - 1; b++)
    if (v <= sg_stats_bucket_le[b]) return sg_stats_bucket_le[b];
  return sg_stats_bucket_le[SG_STATS_BUCKETS - 2];
}

Test(stats, quantiles_are_the_bucket_bound_of_the_exact_quantile) {
  static sg_method_stats s;
  enum { N = 10000 };
  static int64_t lat[N];
  uint64_t seed = (uint64_t)time(NULL);
  printf("seed %llu\n", (unsigned long long)seed);
  for (int i = 0; i < N; i++) {
    /* log-uniform between 10 us and 10 s */
    float u = sg_philox_to_unit(sg_philox_u32(seed, 0, (uint64_t)i));
    lat[i] = (int64_t)(10.0 * pow(10.0, 6.0 * u));
    sg_stats_record(&s, SG_OUTCOME_OK, 0, lat[i]);
  }
  qsort(lat, N, sizeof lat[0], cmp);
  double qs[] = {0.5, 0.9, 0.99, 1.0};
  for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
    double exact = (double)lat[(size_t)(qs[i] * N) - 1] * 1e-6;
    cr_expect_eq(sg_stats_quantile(&s, qs[i]), bound_of(exact), "q %.2f: exact %g", qs[i], exact);
  }
}

Test(stats, counts_by_outcome_and_code) {
  static sg_method_stats s;
  sg_stats_record(&s, SG_OUTCOME_OK, 0, 5);
  sg_stats_record(&s, SG_OUTCOME_REJECTED, 3, 5);
  sg_stats_record(&s, SG_OUTCOME_REJECTED, 16, 5);
  sg_stats_record(&s, SG_OUTCOME_FAILED, 4, 5);
  sg_stats_record(&s, SG_OUTCOME_FAILED, 99, 5); /* out of range: counted as UNKNOWN */
  cr_assert_eq(sg_stats_count(&s, SG_OUTCOME_OK), 1);
  cr_assert_eq(sg_stats_count(&s, SG_OUTCOME_REJECTED), 2);
  cr_assert_eq(sg_stats_count(&s, SG_OUTCOME_FAILED), 2);
  cr_assert_eq(atomic_load(&s.by_code[SG_OUTCOME_FAILED][2]), 1);
  cr_assert_eq(atomic_load(&s.latency_us_sum), 25);
}

Test(stats, empty_histogram_has_zero_quantiles) {
  static sg_method_stats s;
  cr_assert_eq(sg_stats_quantile(&s, 0.99), 0);
}
