/* Host code every click backend shares: the per-row terms of a placement (b + w·U_u, w·V_i, in
 * double), the linear-model top-K (without the interaction term every user ranks items the same
 * way, so one sorted order serves all), and the finishing of top-K rows into probabilities. */
#include <omp.h>
#include <stdlib.h>

#include "click_backends.h"
#include "click_core.h"

typedef struct keyed {
  float key;
  uint32_t id;
} keyed;

/* best first: key descending, id ascending */
static int keyed_cmp(const void *a, const void *b) {
  const keyed *x = a, *y = b;
  if (sg__click_before(x->key, x->id, y->key, y->id)) return -1;
  if (sg__click_before(y->key, y->id, x->key, x->id)) return 1;
  return 0;
}

static float row_dot_w(const float *row, const float *w, uint32_t dim, double base) {
  double s = base;
  for (uint32_t c = 0; c < dim; c++)
    s += (double)w[c] * (double)row[c];
  return (float)s;
}

static sg_status item_order(sg_click_placed *p, sg_err *err) {
  keyed *tmp = malloc((size_t)p->n_items * sizeof *tmp);
  if (!tmp) return sg_err_set(err, SG_OUT_OF_MEMORY, "click_place: out of memory (item order)");
  for (uint32_t i = 0; i < p->n_items; i++)
    tmp[i] = (keyed){p->ib[i], i};
  qsort(tmp, p->n_items, sizeof *tmp, keyed_cmp);
  for (uint32_t i = 0; i < p->n_items; i++)
    p->order[i] = tmp[i].id;
  free(tmp);
  return SG_OK;
}

int sg__click_omp_threads(int exec_threads) {
  return exec_threads > 0 ? exec_threads : omp_get_max_threads();
}

sg_status sg__click_host_terms(const sg_click_model *m, sg_click_placed *p, int threads,
                               sg_err *err) {
  int nt = sg__click_omp_threads(threads);
  p->ub = malloc((size_t)m->n_users * sizeof(float));
  p->ib = malloc((size_t)m->n_items * sizeof(float));
  p->order = malloc((size_t)m->n_items * sizeof(uint32_t));
  if (!p->ub || !p->ib || !p->order) {
    return sg_err_set(err, SG_OUT_OF_MEMORY, "click_place: out of memory (row terms)");
  }
  long long nu = m->n_users, ni = m->n_items;
#pragma omp parallel for num_threads(nt) schedule(static) if (nu > 4096)
  for (long long u = 0; u < nu; u++) {
    p->ub[u] = row_dot_w(m->U + (size_t)u * m->dim, m->w, m->dim, (double)m->b);
  }
#pragma omp parallel for num_threads(nt) schedule(static) if (ni > 4096)
  for (long long i = 0; i < ni; i++) {
    p->ib[i] = row_dot_w(m->V + (size_t)i * m->dim, m->w, m->dim, 0.0);
  }
  return item_order(p, err);
}

sg_status sg__click_check_ids(const char *field, const uint32_t *ids, size_t n, uint32_t limit,
                              const char *limit_name, sg_err *err) {
  for (size_t j = 0; j < n; j++) {
    if (ids[j] >= limit) {
      return sg_err_set(err, SG_INVALID_ARGUMENT, "%s[%zu]: id %u >= %s %u", field, j, ids[j],
                        limit_name, limit);
    }
  }
  return SG_OK;
}

int sg__click_excluded(const uint32_t *ex, uint64_t n, uint32_t item) {
  uint64_t lo = 0, hi = n;
  while (lo < hi) {
    uint64_t mid = lo + (hi - lo) / 2;
    if (ex[mid] < item) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo < n && ex[lo] == item;
}

void sg__click_topk_finish(const sg_click_placed *p, const sg__click_topk_req *req, size_t j,
                           const float *s, const uint32_t *ids, uint32_t cnt) {
  uint32_t k = req->k;
  float ub = p->ub[sg__click_req_user(req, j)];
  uint32_t *items = req->out.items + j * k;
  float *scores = req->out.scores + j * k;
  for (uint32_t r = 0; r < k; r++) {
    items[r] = r < cnt ? ids[r] : SG_CLICK_NO_ITEM;
    scores[r] = r < cnt ? sg__click_sigmoid(ub + s[r]) : 0.0f;
  }
  req->out.counts[j] = cnt;
}

sg_status sg__click_topk_linear(const sg_click_placed *p, const sg__click_topk_req *req,
                                sg_err *err) {
  (void)err;
  uint32_t k = req->k;
  float *s = malloc((size_t)k * sizeof *s);
  uint32_t *ids = malloc((size_t)k * sizeof *ids);
  if (!s || !ids) {
    free(s);
    free(ids);
    return sg_err_set(err, SG_OUT_OF_MEMORY, "click_topk: out of memory");
  }
  for (size_t j = 0; j < req->n; j++) {
    const uint32_t *ex = req->ex_off ? req->ex_items + req->ex_off[j] : NULL;
    uint64_t nex = req->ex_off ? req->ex_off[j + 1] - req->ex_off[j] : 0;
    uint32_t cnt = 0;
    for (uint32_t r = 0; r < p->n_items && cnt < k; r++) {
      uint32_t item = p->order[r];
      if (nex && sg__click_excluded(ex, nex, item)) continue;
      s[cnt] = p->ib[item];
      ids[cnt++] = item;
    }
    sg__click_topk_finish(p, req, j, s, ids, cnt);
  }
  free(s);
  free(ids);
  return SG_OK;
}
