/* What training needs before its first step, on the host: the checks of data and config, the
 * validation split, each user's known positives, the sampled negatives and the initial vectors.
 * Every random draw is a Philox word indexed by what it is for (row, epoch, example), so a seed
 * gives the same data on every backend whatever order the work runs in. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../common/size.h"
#include "click_core.h"
#include "click_train_impl.h"

void sg_click_train_config_default(sg_click_train_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->dim = 32;
  cfg->interaction = 1;
  cfg->epochs = 10;
  cfg->batch_size = 1024;
  cfg->lr = 0.01f;
  cfg->l2 = 1e-4f;
  cfg->optimizer = SG_CLICK_ADAM;
  cfg->momentum = 0.9f;
  cfg->beta1 = 0.9f;
  cfg->beta2 = 0.999f;
  cfg->eps = 1e-8f;
  cfg->negatives = 4;
  cfg->negative_candidates = 1;
  cfg->valid_fraction = 0.1f;
  cfg->init_std = 0.1f;
}

sg_status sg__click_check_data(const sg_click_data *d, sg_err *err) {
  if (!d) return sg_err_set(err, SG_INVALID_ARGUMENT, "click_train: data is NULL");
  if (d->n_users == 0) return sg_err_set(err, SG_INVALID_ARGUMENT, "data: n_users is 0");
  if (d->n_items == 0) return sg_err_set(err, SG_INVALID_ARGUMENT, "data: n_items is 0");
  if (d->n == 0) return sg_err_set(err, SG_INVALID_ARGUMENT, "data: n is 0 (no rows)");
  if (!d->users) return sg_err_set(err, SG_INVALID_ARGUMENT, "data: users is NULL");
  if (!d->items) return sg_err_set(err, SG_INVALID_ARGUMENT, "data: items is NULL");
  SG_TRY(sg__click_check_ids("data.users", d->users, d->n, d->n_users, "n_users", err));
  SG_TRY(sg__click_check_ids("data.items", d->items, d->n, d->n_items, "n_items", err));
  for (size_t j = 0; d->labels && j < d->n; j++) {
    if (d->labels[j] > 1) {
      return sg_err_set(err, SG_INVALID_ARGUMENT, "data.labels[%zu]: %u is not 0 or 1", j,
                        d->labels[j]);
    }
  }
  return SG_OK;
}

static sg_status check_unit(const char *field, float v, float lo, float hi, int open_hi,
                            sg_err *err) {
  if (!isfinite(v) || v < lo || v > hi || (open_hi && v >= hi)) {
    return sg_err_set(err, SG_INVALID_ARGUMENT, "cfg.%s: %g is outside [%g, %g%s", field, (double)v,
                      (double)lo, (double)hi, open_hi ? ")" : "]");
  }
  return SG_OK;
}

static sg_status check_matrix(const char *field, const float *a, size_t rows, uint32_t dim,
                              sg_err *err) {
  for (size_t i = 0; a && i < rows * dim; i++) {
    if (!isfinite(a[i])) {
      return sg_err_set(err, SG_INVALID_ARGUMENT, "cfg.%s[%zu] (row %zu, component %zu) is %s",
                        field, i, i / dim, i % dim, isnan(a[i]) ? "nan" : "inf");
    }
  }
  return SG_OK;
}

sg_status sg__click_check_config(const sg_click_train_config *c, const sg_click_data *d,
                                 sg_err *err) {
  if (!c) return sg_err_set(err, SG_INVALID_ARGUMENT, "click_train: cfg is NULL");
  if (c->dim == 0 || c->dim > SG_CLICK_MAX_DIM) {
    return sg_err_set(err, SG_INVALID_ARGUMENT, "cfg.dim: %u is outside [1, %u]", c->dim,
                      SG_CLICK_MAX_DIM);
  }
  if (c->epochs == 0) return sg_err_set(err, SG_INVALID_ARGUMENT, "cfg.epochs: 0");
  if (c->batch_size == 0 || c->batch_size > (1u << 24)) {
    return sg_err_set(err, SG_INVALID_ARGUMENT, "cfg.batch_size: %u is outside [1, %u]",
                      c->batch_size, 1u << 24);
  }
  if (!(c->lr > 0.0f) || !isfinite(c->lr)) {
    return sg_err_set(err, SG_INVALID_ARGUMENT, "cfg.lr: %g is not a positive number",
                      (double)c->lr);
  }
  if (c->lr_schedule != SG_CLICK_LR_CONSTANT && c->lr_schedule != SG_CLICK_LR_COSINE) {
    return sg_err_set(err, SG_INVALID_ARGUMENT,
                      "cfg.lr_schedule: %d is not constant (0) or cosine (1)", (int)c->lr_schedule);
  }
  SG_TRY(check_unit("l2", c->l2, 0.0f, 1e6f, 0, err));
  if (c->optimizer != SG_CLICK_ADAM && c->optimizer != SG_CLICK_SGD_MOMENTUM) {
    return sg_err_set(err, SG_INVALID_ARGUMENT,
                      "cfg.optimizer: %d is not adam (0) or sgd_momentum (1)", (int)c->optimizer);
  }
  SG_TRY(check_unit("momentum", c->momentum, 0.0f, 1.0f, 1, err));
  SG_TRY(check_unit("beta1", c->beta1, 0.0f, 1.0f, 1, err));
  SG_TRY(check_unit("beta2", c->beta2, 0.0f, 1.0f, 1, err));
  if (!(c->eps > 0.0f) || !isfinite(c->eps)) {
    return sg_err_set(err, SG_INVALID_ARGUMENT, "cfg.eps: %g is not a positive number",
                      (double)c->eps);
  }
  if (d->labels && c->negatives != 0) {
    return sg_err_set(err, SG_INVALID_ARGUMENT,
                      "cfg.negatives: %u with labelled data (must be 0: the log has its negatives)",
                      c->negatives);
  }
  if (!d->labels && (c->negatives == 0 || c->negatives > 1000)) {
    return sg_err_set(err, SG_INVALID_ARGUMENT,
                      "cfg.negatives: %u is outside [1, 1000] for implicit positives",
                      c->negatives);
  }
  if (c->negative_candidates == 0 || c->negative_candidates > SG_CLICK_MAX_NEGATIVE_CANDIDATES) {
    return sg_err_set(err, SG_INVALID_ARGUMENT, "cfg.negative_candidates: %u is outside [1, %u]",
                      c->negative_candidates, SG_CLICK_MAX_NEGATIVE_CANDIDATES);
  }
  if (d->labels && c->negative_candidates != 1) {
    return sg_err_set(err, SG_INVALID_ARGUMENT,
                      "cfg.negative_candidates: %u with labelled data (must be 1: nothing is "
                      "sampled)",
                      c->negative_candidates);
  }
  SG_TRY(check_unit("valid_fraction", c->valid_fraction, 0.0f, 0.9f, 0, err));
  SG_TRY(check_unit("init_std", c->init_std, 0.0f, 1e3f, 0, err));
  size_t bytes;
  if (!sg_size_mul3(d->n_users, c->dim, sizeof(float), &bytes) ||
      !sg_size_mul3(d->n_items, c->dim, sizeof(float), &bytes)) {
    return sg_err_set(err, SG_OVERFLOW, "click_train: model of %u/%u rows × dim %u overflows",
                      d->n_users, d->n_items, c->dim);
  }
  if (c->init_cols != 0 && c->init_cols != c->dim) {
    return sg_err_set(err, SG_INVALID_ARGUMENT,
                      "cfg.init_cols: %u != cfg.dim %u (project the features to dim columns)",
                      c->init_cols, c->dim);
  }
  SG_TRY(check_matrix("init_users", c->init_users, d->n_users, c->dim, err));
  return check_matrix("init_items", c->init_items, d->n_items, c->dim, err);
}

/* ---- split, positives, negatives ----------------------------------------------------------- */

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return (x > y) - (x < y);
}

/* Each user's positives (all rows, validation too): ascending, duplicates removed. */
static sg_status build_positives(sg_click_trainer *t, sg_err *err) {
  const sg_click_data *d = &t->data;
  t->pos_off = calloc((size_t)d->n_users + 1, sizeof(uint64_t));
  t->pos_items = malloc(d->n * sizeof(uint32_t));
  uint64_t *fill = calloc((size_t)d->n_users + 1, sizeof(uint64_t));
  if (!t->pos_off || !t->pos_items || !fill) {
    free(fill);
    return sg_err_set(err, SG_OUT_OF_MEMORY, "click_train: out of memory (positives)");
  }
  for (size_t r = 0; r < d->n; r++)
    t->pos_off[d->users[r] + 1]++;
  for (uint32_t u = 0; u < d->n_users; u++)
    t->pos_off[u + 1] += t->pos_off[u];
  memcpy(fill, t->pos_off, ((size_t)d->n_users + 1) * sizeof(uint64_t));
  for (size_t r = 0; r < d->n; r++)
    t->pos_items[fill[d->users[r]]++] = d->items[r];
  uint64_t out = 0;
  for (uint32_t u = 0; u < d->n_users; u++) {
    uint64_t lo = t->pos_off[u], hi = t->pos_off[u + 1];
    qsort(t->pos_items + lo, hi - lo, sizeof(uint32_t), cmp_u32);
    t->pos_off[u] = out;
    for (uint64_t i = lo; i < hi; i++) {
      if (i == lo || t->pos_items[i] != t->pos_items[i - 1]) t->pos_items[out++] = t->pos_items[i];
    }
  }
  t->pos_off[d->n_users] = out;
  free(fill);
  return SG_OK;
}

uint32_t sg__click_negative(const sg_click_trainer *t, uint32_t user, uint64_t stream,
                            uint64_t index) {
  uint64_t lo = t->pos_off[user], n = t->pos_off[user + 1] - lo;
  uint32_t item = 0;
  for (uint32_t k = 0; k < SG_CLICK_NEG_TRIES; k++) {
    uint32_t word = sg_philox_u32(t->cfg.seed, stream, index * SG_CLICK_NEG_TRIES + k);
    item = sg_philox_to_below(word, t->data.n_items);
    if (!sg__click_excluded(t->pos_items + lo, n, item)) break;
  }
  return item;
}

uint32_t sg__click_scored_negative(const sg_click_trainer *t, const sg_click_model *snap,
                                   uint32_t user, uint64_t stream, uint64_t index) {
  uint32_t m = t->cfg.negative_candidates, dim = snap->dim, best = 0;
  const float *u = snap->U + (size_t)user * dim;
  double uw[SG_CLICK_MAX_DIM]; /* the user's side of the score, once for all candidates */
  for (uint32_t k = 0; k < dim; k++)
    uw[k] = (snap->interaction ? (double)u[k] : 0.0) + (double)snap->w[k];
  double best_z = 0.0;
  for (uint32_t c = 0; c < m; c++) {
    uint32_t item = sg__click_negative(t, user, stream, index * m + c);
    const float *v = snap->V + (size_t)item * dim;
    double z = 0.0;
    for (uint32_t k = 0; k < dim; k++)
      z += uw[k] * (double)v[k];
    if (c == 0 || z > best_z) {
      best_z = z;
      best = item;
    }
  }
  return best;
}

static int is_valid_row(const sg_click_trainer *t, size_t r) {
  uint32_t word = sg_philox_u32(t->cfg.seed, SG_CLICK_STREAM_SPLIT, r);
  return sg_philox_to_unit(word) < t->cfg.valid_fraction;
}

/* Validation examples: held-out rows, and for implicit data max(1, negatives) negatives each. */
static sg_status build_validation(sg_click_trainer *t, size_t n_valid_rows, sg_err *err) {
  const sg_click_data *d = &t->data;
  uint32_t per = d->labels ? 1 : 1 + (t->cfg.negatives > 0 ? t->cfg.negatives : 1);
  size_t cap = n_valid_rows * per;
  t->vu = malloc(cap * sizeof(uint32_t) + 1);
  t->vi = malloc(cap * sizeof(uint32_t) + 1);
  t->vy = malloc(cap + 1);
  t->vz = malloc(cap * sizeof(float) + 1);
  if (!t->vu || !t->vi || !t->vy || !t->vz) {
    return sg_err_set(err, SG_OUT_OF_MEMORY, "click_train: out of memory (validation)");
  }
  size_t v = 0, p = 0;
  for (size_t r = 0; r < d->n && n_valid_rows; r++) {
    if (!is_valid_row(t, r)) continue;
    t->vu[v] = d->users[r];
    t->vi[v] = d->items[r];
    t->vy[v++] = d->labels ? d->labels[r] : 1;
    for (uint32_t j = 1; j < per; j++, v++) {
      t->vu[v] = d->users[r];
      t->vi[v] = sg__click_negative(t, d->users[r], SG_CLICK_STREAM_VNEG, p * (per - 1) + j - 1);
      t->vy[v] = 0;
    }
    p++;
  }
  t->n_val = v;
  return SG_OK;
}

sg_status sg__click_prepare(sg_click_trainer *t, sg_err *err) {
  const sg_click_data *d = &t->data;
  if (!d->labels) SG_TRY(build_positives(t, err));
  size_t n_valid = 0;
  for (size_t r = 0; r < d->n; r++)
    n_valid += (size_t)is_valid_row(t, r);
  t->n_tr = d->n - n_valid;
  if (t->n_tr == 0) {
    return sg_err_set(err, SG_INVALID_ARGUMENT,
                      "data: no training rows left after the validation split (n %zu, "
                      "valid_fraction %g)",
                      d->n, (double)t->cfg.valid_fraction);
  }
  t->slots = d->labels ? 1 : 1 + t->cfg.negatives;
  size_t n_ex;
  if (!sg_size_mul(t->n_tr, t->slots, &n_ex) || n_ex > UINT32_MAX) {
    return sg_err_set(err, SG_OVERFLOW, "data: %zu rows × %u examples per row > %u per epoch",
                      t->n_tr, t->slots, UINT32_MAX);
  }
  t->n_ex = (uint32_t)n_ex;
  t->tr = malloc(t->n_tr * sizeof(size_t));
  t->perm = malloc(n_ex * sizeof(uint32_t));
  if (!t->tr || !t->perm) return sg_err_set(err, SG_OUT_OF_MEMORY, "click_train: out of memory");
  size_t k = 0;
  for (size_t r = 0; r < d->n; r++) {
    if (!is_valid_row(t, r)) t->tr[k++] = r;
  }
  return build_validation(t, n_valid, err);
}

/* ---- initial parameters -------------------------------------------------------------------- */

static void fill_normal(float *a, size_t n, float std, uint64_t seed, uint64_t stream,
                        int threads) {
  int nt = sg__click_omp_threads(threads);
#pragma omp parallel for num_threads(nt) schedule(static) if (n > 65536)
  for (long long i = 0; i < (long long)n; i++) {
    a[i] = std * sg__click_normal(seed, stream, (uint64_t)i);
  }
}

/* b at the logit of the base rate: the mean training label, or 1 / (1 + negatives). */
static float base_logit(const sg_click_trainer *t) {
  double p = 1.0 / t->slots;
  if (t->data.labels) {
    double pos = 0.0;
    for (size_t k = 0; k < t->n_tr; k++)
      pos += t->data.labels[t->tr[k]];
    p = pos / (double)t->n_tr;
  }
  p = p < 1e-3 ? 1e-3 : p > 1.0 - 1e-3 ? 1.0 - 1e-3 : p;
  return (float)log(p / (1.0 - p));
}

sg_status sg__click_initial_model(const sg_click_trainer *t, sg_click_model *m, sg_err *err) {
  const sg_click_train_config *c = &t->cfg;
  SG_TRY(sg_click_model_alloc(t->data.n_users, t->data.n_items, c->dim, c->interaction, m, err));
  size_t nu = (size_t)m->n_users * m->dim, ni = (size_t)m->n_items * m->dim;
  if (c->init_users) {
    memcpy(m->U, c->init_users, nu * sizeof(float));
  } else {
    fill_normal(m->U, nu, c->init_std, c->seed, SG_CLICK_STREAM_INIT_U, t->x->threads);
  }
  if (c->init_items) {
    memcpy(m->V, c->init_items, ni * sizeof(float));
  } else {
    fill_normal(m->V, ni, c->init_std, c->seed, SG_CLICK_STREAM_INIT_V, t->x->threads);
  }
  m->b = base_logit(t);
  return SG_OK;
}
