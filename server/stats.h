/* Per-method call counters and latency histograms, updated lock-free by the RPC layer and read
 * by ServerInfo and the Prometheus endpoint. Outcome classes: ok, rejected (before the handler:
 * bad request, auth, busy, shutting down, deadline), failed (the handler answered an error). */
#ifndef SG_SERVER_STATS_H
#define SG_SERVER_STATS_H

#include <stdatomic.h>
#include <stdint.h>

#define SG_STATS_CODES 17 /* gRPC status codes 0..16 */
#define SG_STATS_BUCKETS 20

/* Upper bounds (seconds) of the latency buckets; the last is +Inf. */
extern const double sg_stats_bucket_le[SG_STATS_BUCKETS];

typedef enum { SG_OUTCOME_OK, SG_OUTCOME_REJECTED, SG_OUTCOME_FAILED } sg_outcome;

typedef struct sg_method_stats {
  atomic_uint_fast64_t by_code[3][SG_STATS_CODES]; /* [outcome][grpc code] */
  atomic_uint_fast64_t bucket[SG_STATS_BUCKETS];   /* latency histogram (non-cumulative) */
  atomic_uint_fast64_t latency_us_sum;
  atomic_int_fast64_t in_flight;
} sg_method_stats;

void sg_stats_record(sg_method_stats *s, sg_outcome outcome, int grpc_code, int64_t latency_us);
/* Totals over codes for one outcome. */
uint64_t sg_stats_count(const sg_method_stats *s, sg_outcome outcome);
/* Latency quantile q in (0,1] in seconds, as the upper bound of the bucket that holds it
 * (0 when there were no calls; the largest finite bound for the +Inf bucket). */
double sg_stats_quantile(const sg_method_stats *s, double q);

#endif
