/* Log-linear latency histogram (see loadgen_hist.h). Bucket i < 128 holds the value i; above, the
 * bucket of v is fixed by its top bit k (>= 7) and the next 7 bits below it, so every bucket spans
 * 2^(k-7) and starts at >= 128 * 2^(k-7): its width is at most 1/128 of its values. */
#include "loadgen_hist.h"

#include <math.h>
#include <string.h>

void sg_lg_hist_init(sg_lg_hist *h) {
  memset(h, 0, sizeof *h);
  h->min_ns = UINT64_MAX;
}

static unsigned bucket_of(uint64_t v) {
  if (v < SG_LG_HIST_SUB) return (unsigned)v;
  unsigned k = 63u - (unsigned)__builtin_clzll(v); /* top bit, >= SUB_BITS */
  unsigned shift = k - SG_LG_HIST_SUB_BITS;
  unsigned sub = (unsigned)(v >> shift) - SG_LG_HIST_SUB; /* 0..127 */
  return SG_LG_HIST_SUB + (k - SG_LG_HIST_SUB_BITS) * SG_LG_HIST_SUB + sub;
}

/* Midpoint of bucket i, in ns. */
static double bucket_mid(unsigned i) {
  if (i < SG_LG_HIST_SUB) return (double)i;
  unsigned rel = i - SG_LG_HIST_SUB;
  unsigned shift = rel / SG_LG_HIST_SUB;
  double lo = ldexp((double)(SG_LG_HIST_SUB + rel % SG_LG_HIST_SUB), (int)shift);
  return shift ? lo + ldexp(0.5, (int)shift) : lo; /* width-1 buckets are exact */
}

void sg_lg_hist_record(sg_lg_hist *h, uint64_t ns) {
  h->buckets[bucket_of(ns)]++;
  h->count++;
  h->sum_ns += (double)ns;
  if (ns < h->min_ns) h->min_ns = ns;
  if (ns > h->max_ns) h->max_ns = ns;
}

void sg_lg_hist_merge(sg_lg_hist *dst, const sg_lg_hist *src) {
  for (unsigned i = 0; i < SG_LG_HIST_BUCKETS; i++)
    dst->buckets[i] += src->buckets[i];
  dst->count += src->count;
  dst->sum_ns += src->sum_ns;
  if (src->min_ns < dst->min_ns) dst->min_ns = src->min_ns;
  if (src->max_ns > dst->max_ns) dst->max_ns = src->max_ns;
}

double sg_lg_hist_quantile(const sg_lg_hist *h, double q) {
  if (!h->count) return 0;
  /* the smallest value with at least ceil(q * count) samples at or below it */
  uint64_t rank = (uint64_t)ceil(q * (double)h->count);
  if (rank < 1) rank = 1;
  if (rank > h->count) rank = h->count;
  uint64_t seen = 0;
  unsigned i = 0;
  for (; i < SG_LG_HIST_BUCKETS; i++) {
    seen += h->buckets[i];
    if (seen >= rank) break;
  }
  double v = bucket_mid(i);
  if (v < (double)h->min_ns) v = (double)h->min_ns;
  if (v > (double)h->max_ns) v = (double)h->max_ns;
  return v;
}

double sg_lg_hist_mean(const sg_lg_hist *h) { return h->count ? h->sum_ns / (double)h->count : 0; }
