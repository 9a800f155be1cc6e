/* Recording into and reading from sg_method_stats (relaxed atomics: counters, not a ledger). */
#include "stats.h"

const double sg_stats_bucket_le[SG_STATS_BUCKETS] = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
    0.25,   0.5,     1,      2.5,   5,      10,    30,   60,    300,  1e300};

void sg_stats_record(sg_method_stats *s, sg_outcome outcome, int grpc_code, int64_t latency_us) {
  if (grpc_code < 0 || grpc_code >= SG_STATS_CODES) grpc_code = 2; /* UNKNOWN */
  atomic_fetch_add_explicit(&s->by_code[outcome][grpc_code], 1, memory_order_relaxed);
  double sec = (double)(latency_us < 0 ? 0 : latency_us) * 1e-6;
  int b = 0;
  while (b < SG_STATS_BUCKETS - 1 && sec > sg_stats_bucket_le[b])
    b++;
  atomic_fetch_add_explicit(&s->bucket[b], 1, memory_order_relaxed);
  atomic_fetch_add_explicit(&s->latency_us_sum, (uint64_t)(latency_us < 0 ? 0 : latency_us),
                            memory_order_relaxed);
}

uint64_t sg_stats_count(const sg_method_stats *s, sg_outcome outcome) {
  uint64_t n = 0;
  for (int c = 0; c < SG_STATS_CODES; c++)
    n += atomic_load_explicit(&s->by_code[outcome][c], memory_order_relaxed);
  return n;
}

double sg_stats_quantile(const sg_method_stats *s, double q) {
  uint64_t counts[SG_STATS_BUCKETS], total = 0;
  for (int b = 0; b < SG_STATS_BUCKETS; b++) {
    counts[b] = atomic_load_explicit(&s->bucket[b], memory_order_relaxed);
    total += counts[b];
  }
  if (total == 0) return 0;
  double want = q * (double)total, seen = 0;
  for (int b = 0; b < SG_STATS_BUCKETS; b++) {
    seen += (double)counts[b];
    if (seen >= want)
      return b == SG_STATS_BUCKETS - 1 ? sg_stats_bucket_le[b - 1] : sg_stats_bucket_le[b];
  }
  return sg_stats_bucket_le[SG_STATS_BUCKETS - 2];
}
