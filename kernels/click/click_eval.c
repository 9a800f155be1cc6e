/* Evaluation of click models on the host: AUC (Mann-Whitney, ties counted half), mean log loss
 * and the ranking metrics precision / recall / NDCG@K of top-K lists against relevant items.
 * Used by training (validation each epoch) and by the benchmarks. */
#include <math.h>
#include <stdlib.h>

#include "click.h"

typedef struct scored {
  float s;
  uint8_t y;
} scored;

static int scored_cmp(const void *a, const void *b) {
  float x = ((const scored *)a)->s, y = ((const scored *)b)->s;
  return (x > y) - (x < y);
}

static sg_status check_labels(const char *op, const float *v, const uint8_t *labels, size_t n,
                              sg_err *err) {
  if (n == 0) return sg_err_set(err, SG_INVALID_ARGUMENT, "%s: n is 0", op);
  if (!v || !labels) return sg_err_set(err, SG_INVALID_ARGUMENT, "%s: an input is NULL", op);
  for (size_t j = 0; j < n; j++) {
    if (isnan(v[j])) return sg_err_set(err, SG_INVALID_ARGUMENT, "%s: value[%zu] is nan", op, j);
    if (labels[j] > 1) {
      return sg_err_set(err, SG_INVALID_ARGUMENT, "%s: labels[%zu] = %u is not 0 or 1", op, j,
                        labels[j]);
    }
  }
  return SG_OK;
}

sg_status sg_click_auc(const float *scores, const uint8_t *labels, size_t n, double *auc,
                       sg_err *err) {
  SG_TRY(check_labels("click_auc", scores, labels, n, err));
  scored *a = malloc(n * sizeof *a);
  if (!a) return sg_err_set(err, SG_OUT_OF_MEMORY, "click_auc: out of memory");
  for (size_t j = 0; j < n; j++)
    a[j] = (scored){scores[j], labels[j]};
  qsort(a, n, sizeof *a, scored_cmp);
  double rank_sum = 0.0, n_pos = 0.0;
  for (size_t i = 0; i < n;) {
    size_t e = i;
    double pos = 0.0;
    while (e < n && a[e].s == a[i].s)
      pos += a[e++].y;
    rank_sum += pos * (0.5 * (double)(i + 1 + e)); /* mean of ranks i+1 .. e */
    n_pos += pos;
    i = e;
  }
  free(a);
  double n_neg = (double)n - n_pos;
  if (n_pos == 0.0 || n_neg == 0.0) {
    return sg_err_set(err, SG_INVALID_ARGUMENT, "click_auc: labels are all %d (need both classes)",
                      n_pos == 0.0 ? 0 : 1);
  }
  *auc = (rank_sum - n_pos * (n_pos + 1.0) / 2.0) / (n_pos * n_neg);
  return SG_OK;
}

sg_status sg_click_logloss(const float *p, const uint8_t *labels, size_t n, double *loss,
                           sg_err *err) {
  SG_TRY(check_labels("click_logloss", p, labels, n, err));
  double sum = 0.0;
  for (size_t j = 0; j < n; j++) {
    double q = p[j] < 1e-7f ? 1e-7 : p[j] > 1.0f - 1e-7f ? 1.0 - 1e-7 : (double)p[j];
    sum -= labels[j] ? log(q) : log(1.0 - q);
  }
  *loss = sum / (double)n;
  return SG_OK;
}

static int in_sorted(const uint32_t *a, uint64_t n, uint32_t v) {
  uint64_t lo = 0, hi = n;
  while (lo < hi) {
    uint64_t mid = lo + (hi - lo) / 2;
    if (a[mid] < v) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo < n && a[lo] == v;
}

sg_status sg_click_rank_eval(const uint32_t *rec_items, const uint32_t *rec_counts, size_t n_users,
                             uint32_t k, const uint64_t *rel_offsets, const uint32_t *rel_items,
                             sg_click_rank_metrics *out, sg_err *err) {
  if (k == 0) return sg_err_set(err, SG_INVALID_ARGUMENT, "click_rank_eval: k is 0");
  if (n_users == 0) return sg_err_set(err, SG_INVALID_ARGUMENT, "click_rank_eval: n_users is 0");
  if (!rec_items || !rec_counts || !rel_offsets || !out) {
    return sg_err_set(err, SG_INVALID_ARGUMENT, "click_rank_eval: an array is NULL");
  }
  double prec = 0.0, rec = 0.0, ndcg = 0.0;
  uint32_t users = 0;
  for (size_t u = 0; u < n_users; u++) {
    uint64_t lo = rel_offsets[u], n_rel = rel_offsets[u + 1] - lo;
    if (n_rel == 0) continue;
    uint32_t cnt = rec_counts[u] < k ? rec_counts[u] : k;
    double hits = 0.0, dcg = 0.0, idcg = 0.0;
    for (uint32_t r = 0; r < cnt; r++) {
      if (!in_sorted(rel_items + lo, n_rel, rec_items[u * k + r])) continue;
      hits += 1.0;
      dcg += 1.0 / log2((double)r + 2.0);
    }
    for (uint64_t r = 0; r < n_rel && r < k; r++)
      idcg += 1.0 / log2((double)r + 2.0);
    prec += hits / k;
    rec += hits / (double)n_rel;
    ndcg += dcg / idcg;
    users++;
  }
  out->users = users;
  out->precision = users ? prec / users : 0.0;
  out->recall = users ? rec / users : 0.0;
  out->ndcg = users ? ndcg / users : 0.0;
  return SG_OK;
}
