/* Click model ops: every argument is checked here once (messages name the field and the value),
 * then the exec's backend runs the slot through SG_DISPATCH. Models, placements and top-K
 * requests are built here; the backends may assume what this file checked. */
#include "click.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/size.h"
#include "click_backends.h"

/* ---- model --------------------------------------------------------------------------------- */

static sg_status check_shape(uint32_t n_users, uint32_t n_items, uint32_t dim, sg_err *err) {
  if (n_users == 0) return sg_err_set(err, SG_INVALID_ARGUMENT, "model: n_users is 0");
  if (n_items == 0) return sg_err_set(err, SG_INVALID_ARGUMENT, "model: n_items is 0");
  if (dim == 0) return sg_err_set(err, SG_INVALID_ARGUMENT, "model: dim is 0");
  if (dim > SG_CLICK_MAX_DIM) {
    return sg_err_set(err, SG_INVALID_ARGUMENT, "model: dim %u > %u", dim, SG_CLICK_MAX_DIM);
  }
  size_t bytes;
  if (!sg_size_mul3(n_users, dim, sizeof(float), &bytes) ||
      !sg_size_mul3(n_items, dim, sizeof(float), &bytes)) {
    return sg_err_set(err, SG_OVERFLOW, "model: %u users / %u items × dim %u overflow", n_users,
                      n_items, dim);
  }
  return SG_OK;
}

sg_status sg_click_model_alloc(uint32_t n_users, uint32_t n_items, uint32_t dim, int interaction,
                               sg_click_model *m, sg_err *err) {
  if (!m) return sg_err_set(err, SG_INVALID_ARGUMENT, "model: out is NULL");
  memset(m, 0, sizeof *m);
  SG_TRY(check_shape(n_users, n_items, dim, err));
  m->U = calloc((size_t)n_users * dim, sizeof(float));
  m->V = calloc((size_t)n_items * dim, sizeof(float));
  m->w = calloc(dim, sizeof(float));
  if (!m->U || !m->V || !m->w) {
    sg_click_model_free(m);
    return sg_err_set(err, SG_OUT_OF_MEMORY, "model: out of memory for %u × %u + %u × %u floats",
                      n_users, dim, n_items, dim);
  }
  m->n_users = n_users;
  m->n_items = n_items;
  m->dim = dim;
  m->interaction = interaction ? 1 : 0;
  return SG_OK;
}

void sg_click_model_free(sg_click_model *m) {
  if (!m) return;
  free(m->U);
  free(m->V);
  free(m->w);
  memset(m, 0, sizeof *m);
}

/* First non-finite value of a rows × dim matrix, named as "what[i] (row_name r, component c)". */
static sg_status check_finite(const char *what, const char *row_name, const float *a, size_t rows,
                              uint32_t dim, sg_err *err) {
  size_t n = rows * dim;
  for (size_t i = 0; i < n; i++) {
    if (isfinite(a[i])) continue;
    return sg_err_set(err, SG_INVALID_ARGUMENT, "model: %s[%zu] (%s %zu, component %zu) is %s",
                      what, i, row_name, i / dim, i % dim, isnan(a[i]) ? "nan" : "inf");
  }
  return SG_OK;
}

sg_status sg_click_model_check(const sg_click_model *m, sg_err *err) {
  if (!m) return sg_err_set(err, SG_INVALID_ARGUMENT, "model: NULL");
  SG_TRY(check_shape(m->n_users, m->n_items, m->dim, err));
  if (!m->U) return sg_err_set(err, SG_INVALID_ARGUMENT, "model: U is NULL");
  if (!m->V) return sg_err_set(err, SG_INVALID_ARGUMENT, "model: V is NULL");
  if (!m->w) return sg_err_set(err, SG_INVALID_ARGUMENT, "model: w is NULL");
  if (!isfinite(m->b)) {
    return sg_err_set(err, SG_INVALID_ARGUMENT, "model: b is %s", isnan(m->b) ? "nan" : "inf");
  }
  SG_TRY(check_finite("w", "row", m->w, 1, m->dim, err));
  SG_TRY(check_finite("U", "user", m->U, m->n_users, m->dim, err));
  return check_finite("V", "item", m->V, m->n_items, m->dim, err);
}

/* ---- placement ----------------------------------------------------------------------------- */

static sg_status check_exec(sg_exec *x, const char *op, sg_err *err) {
  if (!x) return sg_err_set(err, SG_INVALID_ARGUMENT, "%s: exec is NULL", op);
  if (!x->ops->click || !x->ops->click->place) {
    return sg_err_set(err, SG_UNSUPPORTED, "%s: not supported by the %s backend", op, x->ops->name);
  }
  return SG_OK;
}

static void placed_free_host(sg_click_placed *p) {
  free(p->ub);
  free(p->ib);
  free(p->order);
  free(p);
}

static sg_status place_slot(sg_exec *x, const sg_click_model *m, sg_click_placed *p, sg_err *err) {
  SG_DISPATCH(x, click, place, err, m, p, err);
}

sg_status sg_click_place(sg_exec *x, const sg_click_model *m, sg_click_placed **out, sg_err *err) {
  SG_TRY(check_exec(x, "click_place", err));
  if (!out) return sg_err_set(err, SG_INVALID_ARGUMENT, "click_place: out is NULL");
  *out = NULL;
  SG_TRY(sg_click_model_check(m, err));
  sg_click_placed *p = calloc(1, sizeof *p);
  if (!p) return sg_err_set(err, SG_OUT_OF_MEMORY, "click_place: out of memory");
  p->be = x->be;
  p->ops = x->ops->click;
  p->n_users = m->n_users;
  p->n_items = m->n_items;
  p->dim = m->dim;
  p->interaction = m->interaction ? 1 : 0;
  sg_status st;
  SG_TRY_GOTO(st, sg__click_host_terms(m, p, x->threads, err), fail);
  SG_TRY_GOTO(st, place_slot(x, m, p, err), fail);
  *out = p;
  return SG_OK;
fail:
  placed_free_host(p);
  return st;
}

void sg_click_unplace(sg_click_placed *p) {
  if (!p) return;
  if (p->ops && p->ops->unplace) p->ops->unplace(p);
  placed_free_host(p);
}

void sg_click_placed_shape(const sg_click_placed *p, uint32_t *n_users, uint32_t *n_items,
                           uint32_t *dim, int *interaction) {
  if (n_users) *n_users = p->n_users;
  if (n_items) *n_items = p->n_items;
  if (dim) *dim = p->dim;
  if (interaction) *interaction = p->interaction;
}

static sg_status check_placed(sg_exec *x, const sg_click_placed *p, const char *op, sg_err *err) {
  SG_TRY(check_exec(x, op, err));
  if (!p) return sg_err_set(err, SG_INVALID_ARGUMENT, "%s: placed model is NULL", op);
  if (p->be != x->be) {
    return sg_err_set(err, SG_INVALID_ARGUMENT,
                      "%s: model was placed on another backend than the exec's (%s)", op,
                      x->ops->name);
  }
  return SG_OK;
}

/* ---- scoring ------------------------------------------------------------------------------- */

static sg_status check_pairs(const char *op, const uint32_t *users, const uint32_t *items, size_t n,
                             const float *out, sg_err *err) {
  size_t bytes;
  if (!sg_size_mul(n, sizeof(float), &bytes)) {
    return sg_err_set(err, SG_OVERFLOW, "%s: n %zu overflows", op, n);
  }
  if (!users) return sg_err_set(err, SG_INVALID_ARGUMENT, "%s: users is NULL", op);
  if (!items) return sg_err_set(err, SG_INVALID_ARGUMENT, "%s: items is NULL", op);
  if (!out) return sg_err_set(err, SG_INVALID_ARGUMENT, "%s: out is NULL", op);
  return SG_OK;
}

sg_status sg_click_score(sg_exec *x, const sg_click_placed *p, const uint32_t *users,
                         const uint32_t *items, size_t n, float *out, sg_err *err) {
  SG_TRY(check_placed(x, p, "click_score", err));
  if (n == 0) return sg_err_set(err, SG_INVALID_ARGUMENT, "click_score: users is empty (n = 0)");
  SG_TRY(check_pairs("click_score", users, items, n, out, err));
  SG_TRY(sg__click_check_ids("users", users, n, p->n_users, "n_users", err));
  SG_TRY(sg__click_check_ids("items", items, n, p->n_items, "n_items", err));
  SG_DISPATCH(x, click, score, err, p, users, items, n, out, 0, err);
}

sg_status sg_click_score_resident(sg_exec *x, const sg_click_placed *p, const uint32_t *users,
                                  const uint32_t *items, size_t n, float *out, sg_err *err) {
  SG_TRY(check_placed(x, p, "click_score_resident", err));
  if (n == 0) {
    return sg_err_set(err, SG_INVALID_ARGUMENT, "click_score_resident: users is empty (n = 0)");
  }
  SG_TRY(check_pairs("click_score_resident", users, items, n, out, err));
  SG_DISPATCH(x, click, score, err, p, users, items, n, out, 1, err);
}

/* ---- top-K --------------------------------------------------------------------------------- */

/* Exclusion rows [row0, row0 + n): offsets non-decreasing, items ascending and < n_items. */
static sg_status check_exclude(const sg_click_exclude *ex, size_t row0, size_t n, uint32_t n_items,
                               sg_err *err) {
  if (!ex->offsets) return sg_err_set(err, SG_INVALID_ARGUMENT, "exclude: offsets is NULL");
  for (size_t r = row0; r < row0 + n; r++) {
    uint64_t lo = ex->offsets[r], hi = ex->offsets[r + 1];
    if (hi < lo) {
      return sg_err_set(err, SG_INVALID_ARGUMENT,
                        "exclude: offsets[%zu] = %llu < offsets[%zu] = %llu", r + 1,
                        (unsigned long long)hi, r, (unsigned long long)lo);
    }
    if (hi > lo && !ex->items) {
      return sg_err_set(err, SG_INVALID_ARGUMENT, "exclude: items is NULL");
    }
    for (uint64_t i = lo; i < hi; i++) {
      uint32_t it = ex->items[i];
      if (it >= n_items) {
        return sg_err_set(err, SG_INVALID_ARGUMENT,
                          "exclude row %zu: items[%llu] = %u >= n_items %u", r,
                          (unsigned long long)i, it, n_items);
      }
      if (i > lo && it < ex->items[i - 1]) {
        return sg_err_set(err, SG_INVALID_ARGUMENT,
                          "exclude row %zu: items[%llu] = %u after %u (not ascending)", r,
                          (unsigned long long)i, it, ex->items[i - 1]);
      }
    }
  }
  return SG_OK;
}

static sg_status check_topk_out(const char *op, size_t n, uint32_t k, const sg_click_topk_out *out,
                                sg_err *err) {
  if (k == 0) return sg_err_set(err, SG_INVALID_ARGUMENT, "%s: k is 0", op);
  if (k > SG_CLICK_MAX_K) {
    return sg_err_set(err, SG_INVALID_ARGUMENT, "%s: k %u > %u", op, k, SG_CLICK_MAX_K);
  }
  size_t bytes;
  if (!sg_size_mul3(n, k, sizeof(float), &bytes)) {
    return sg_err_set(err, SG_OVERFLOW, "%s: %zu users × k %u overflows", op, n, k);
  }
  if (!out) return sg_err_set(err, SG_INVALID_ARGUMENT, "%s: out is NULL", op);
  if (!out->items) return sg_err_set(err, SG_INVALID_ARGUMENT, "%s: out.items is NULL", op);
  if (!out->scores) return sg_err_set(err, SG_INVALID_ARGUMENT, "%s: out.scores is NULL", op);
  if (!out->counts) return sg_err_set(err, SG_INVALID_ARGUMENT, "%s: out.counts is NULL", op);
  return SG_OK;
}

static sg_status topk_slot(sg_exec *x, const sg_click_placed *p, const sg__click_topk_req *req,
                           sg_err *err) {
  SG_DISPATCH(x, click, topk, err, p, req, err);
}

sg_status sg_click_topk(sg_exec *x, const sg_click_placed *p, const uint32_t *users, size_t n,
                        uint32_t k, const sg_click_exclude *ex, const sg_click_topk_out *out,
                        sg_err *err) {
  SG_TRY(check_placed(x, p, "click_topk", err));
  if (n == 0) return sg_err_set(err, SG_INVALID_ARGUMENT, "click_topk: users is empty (n = 0)");
  if (!users) return sg_err_set(err, SG_INVALID_ARGUMENT, "click_topk: users is NULL");
  SG_TRY(check_topk_out("click_topk", n, k, out, err));
  SG_TRY(sg__click_check_ids("users", users, n, p->n_users, "n_users", err));
  if (ex) SG_TRY(check_exclude(ex, 0, n, p->n_items, err));
  sg__click_topk_req req = {.users = users, .n = n, .k = k, .out = *out};
  if (ex) {
    req.ex_off = ex->offsets;
    req.ex_items = ex->items;
  }
  return topk_slot(x, p, &req, err);
}

sg_status sg_click_topk_range(sg_exec *x, const sg_click_placed *p, uint32_t user_begin,
                              uint32_t user_end, uint32_t k, const sg_click_exclude *ex,
                              const sg_click_topk_out *out, sg_err *err) {
  SG_TRY(check_placed(x, p, "click_topk_range", err));
  if (user_begin >= user_end) {
    return sg_err_set(err, SG_INVALID_ARGUMENT, "click_topk_range: user range [%u, %u) is empty",
                      user_begin, user_end);
  }
  if (user_end > p->n_users) {
    return sg_err_set(err, SG_INVALID_ARGUMENT, "click_topk_range: user_end %u > n_users %u",
                      user_end, p->n_users);
  }
  size_t n = user_end - user_begin;
  SG_TRY(check_topk_out("click_topk_range", n, k, out, err));
  if (ex) SG_TRY(check_exclude(ex, user_begin, n, p->n_items, err));
  sg__click_topk_req req = {.first = user_begin, .n = n, .k = k, .out = *out};
  if (ex) {
    req.ex_off = ex->offsets + user_begin;
    req.ex_items = ex->items;
  }
  return topk_slot(x, p, &req, err);
}
