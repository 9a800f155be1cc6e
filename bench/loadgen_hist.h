/* Latency histogram for shopgpu-loadgen: log-linear buckets over nanoseconds, 58 KiB fixed for
 * any number of samples and any duration. Values below 128 ns are exact; above, each power of
 * two is split into 128 linear buckets, so a reported quantile (the bucket's midpoint) is within
 * 1/256 (0.4%) of a recorded value. Not thread-safe: one per thread, merged at the end. */
#ifndef SG_LOADGEN_HIST_H
#define SG_LOADGEN_HIST_H

#include <stdint.h>

#define SG_LG_HIST_SUB_BITS 7
#define SG_LG_HIST_SUB (1u << SG_LG_HIST_SUB_BITS)
/* exact region [0, 128) + 57 powers of two (2^7 .. 2^63), 128 buckets each */
#define SG_LG_HIST_BUCKETS (SG_LG_HIST_SUB + (64 - SG_LG_HIST_SUB_BITS) * SG_LG_HIST_SUB)

typedef struct sg_lg_hist {
  uint64_t count;
  uint64_t min_ns, max_ns; /* exact; min is UINT64_MAX while empty */
  double sum_ns;           /* for the mean (Little's law check) */
  uint64_t buckets[SG_LG_HIST_BUCKETS];
} sg_lg_hist;

/* Empties h. */
void sg_lg_hist_init(sg_lg_hist *h);
/* Adds one sample, in nanoseconds. */
void sg_lg_hist_record(sg_lg_hist *h, uint64_t ns);
/* Adds every sample of src to dst. */
void sg_lg_hist_merge(sg_lg_hist *dst, const sg_lg_hist *src);
/* The q-quantile (0 < q <= 1) in nanoseconds, clamped to [min, max]; 0 when empty. */
double sg_lg_hist_quantile(const sg_lg_hist *h, double q);
/* Mean in nanoseconds; 0 when empty. */
double sg_lg_hist_mean(const sg_lg_hist *h);

#endif
