/* The click job kinds: what each step runs on an exec, and how training and recommend-all
 * requests become jobs. Batch jobs size their steps to tens of milliseconds so interactive
 * scoring runs between them. */
#include "click_jobs.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache.h"
#include "config.h"
#include "log.h"
#include "server.h"
#include "util.h"

#define TRAIN_MINIBATCHES_PER_STEP 8
#define RECS_STEP_MACS 2.0e8 /* multiply-adds per recommend-all step */
#define MAX_TRAIN_ROWS ((size_t)1 << 31)

/* ---- ScorePairs ---- */

static sg_status score_step(sg_job *j, sg_exec *x, int *done, sg_err *err) {
  sg_score_job *s = sg_job_data(j);
  *done = 1;
  const sg_click_placed *p;
  SG_TRY(sg_model_placed_for(s->model, x, &p, err));
  return sg_click_score(x, p, s->users, s->items, s->n, s->scores, err);
}

static size_t score_units(const sg_job *j) { return ((sg_score_job *)sg_job_data(j))->n; }

static int score_batchable(const sg_job *a, const sg_job *b) {
  return ((sg_score_job *)sg_job_data(a))->model == ((sg_score_job *)sg_job_data(b))->model;
}

/* One kernel call for every job's pairs, then each job's scores copied back to it. */
static sg_status score_batch(sg_job *const *jobs, size_t n, sg_exec *x, sg_err *err) {
  size_t total = 0;
  for (size_t i = 0; i < n; i++)
    total += ((sg_score_job *)sg_job_data(jobs[i]))->n;
  uint32_t *users = malloc(total * sizeof *users), *items = malloc(total * sizeof *items);
  float *scores = malloc(total * sizeof *scores);
  sg_status st =
      users && items && scores ? SG_OK : sg_err_set(err, SG_OUT_OF_MEMORY, "score: out of memory");
  for (size_t i = 0, at = 0; st == SG_OK && i < n; i++) {
    sg_score_job *s = sg_job_data(jobs[i]);
    memcpy(users + at, s->users, s->n * sizeof *users);
    memcpy(items + at, s->items, s->n * sizeof *items);
    at += s->n;
  }
  sg_score_job *first = sg_job_data(jobs[0]);
  const sg_click_placed *p = NULL;
  if (st == SG_OK) st = sg_model_placed_for(first->model, x, &p, err);
  if (st == SG_OK) st = sg_click_score(x, p, users, items, total, scores, err);
  for (size_t i = 0, at = 0; st == SG_OK && i < n; i++) {
    sg_score_job *s = sg_job_data(jobs[i]);
    memcpy(s->scores, scores + at, s->n * sizeof *scores);
    at += s->n;
  }
  free(users);
  free(items);
  free(scores);
  return st;
}

static void score_cleanup(void *data) {
  sg_score_job *s = data;
  sg_model_unref(s->model);
  free(s->users);
  free(s->items);
  free(s->scores);
  free(s);
}

/* work: multiply-adds (pairs x dim); rates: the CPU's, per core, roughly (see sg_job_ops) */
const sg_job_ops sg_score_job_ops = {.kind = "score_pairs",
                                     .work_rate = 2e9,
                                     .step = score_step,
                                     .cleanup = score_cleanup,
                                     .batch_units = score_units,
                                     .batchable = score_batchable,
                                     .run_batch = score_batch};

/* ---- Recommend ---- */

static sg_status recommend_step(sg_job *j, sg_exec *x, int *done, sg_err *err) {
  sg_recommend_job *r = sg_job_data(j);
  sg_click_exclude ex = {r->ex_offsets, r->ex_items};
  sg_click_topk_out out = {r->items, r->scores, r->counts};
  *done = 1;
  const sg_click_placed *p;
  SG_TRY(sg_model_placed_for(r->model, x, &p, err));
  return sg_click_topk(x, p, r->users, r->n, r->k, r->ex_offsets ? &ex : NULL, &out, err);
}

static void recommend_cleanup(void *data) {
  sg_recommend_job *r = data;
  sg_model_unref(r->model);
  free(r->users);
  free(r->ex_offsets);
  free(r->ex_items);
  free(r->items);
  free(r->counts);
  free(r->scores);
  free(r);
}

/* work: multiply-adds (users x items x dim) */
const sg_job_ops sg_recommend_job_ops = {
    .kind = "recommend", .work_rate = 1e10, .step = recommend_step, .cleanup = recommend_cleanup};

/* ---- training ---- */

typedef struct train_job {
  sg_server *srv;
  char name[SG_MODEL_NAME_MAX + 1];
  sg_click_data data;
  uint32_t *users, *items; /* rows */
  uint8_t *labels;         /* or NULL: implicit */
  uint64_t *user_ids, *item_ids;
  float *init_users, *init_items; /* starting vectors from the request's features, or NULL */
  sg_click_train_config cfg;
  sg_click_trainer *trainer;
  sg_click_train_progress progress;
  uint32_t logged_epoch; /* the last epoch whose validation metrics went to the log */
  sg_model *model;       /* the stored model, once done */
} train_job;

static void train_cleanup(void *data) {
  train_job *t = data;
  if (t->trainer) sg_click_train_end(t->trainer, NULL, NULL);
  free(t->users), free(t->items), free(t->labels), free(t->user_ids), free(t->item_ids);
  free(t->init_users), free(t->init_items);
  sg_model_unref(t->model);
  free(t);
}

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return (x > y) - (x < y);
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return (x > y) - (x < y);
}

/* The distinct ids of ids[0..n) ascending (→ rows) and each id's row in rows[]. */
static sg_status dense_rows(const uint64_t *ids, size_t n, const char *field, uint64_t **uniq,
                            uint32_t *n_uniq, uint32_t *rows, sg_err *err) {
  uint64_t *u = malloc(n * sizeof *u);
  if (!u) return sg_err_set(err, SG_OUT_OF_MEMORY, "%s: out of memory", field);
  memcpy(u, ids, n * sizeof *u);
  qsort(u, n, sizeof *u, cmp_u64);
  size_t m = 0;
  for (size_t i = 0; i < n; i++)
    if (i == 0 || u[i] != u[m - 1]) u[m++] = u[i];
  if (m >= UINT32_MAX) {
    free(u);
    return sg_err_set(err, SG_INVALID_ARGUMENT, "%s: more than 2^32 - 2 distinct ids", field);
  }
  sg_idmap *map = sg_idmap_build(u, (uint32_t)m, field, err);
  sg_status st = map ? sg_idmap_rows(map, ids, n, rows, field, err) : err->code;
  sg_idmap_free(map);
  if (st != SG_OK) {
    free(u);
    return st;
  }
  *uniq = u;
  *n_uniq = (uint32_t)m;
  return SG_OK;
}

static sg_status train_config(const Shopgpu__V1__TrainConfig *c, int labelled,
                              sg_click_train_config *cfg, sg_err *err) {
  sg_click_train_config_default(cfg);
  if (labelled) cfg->negatives = 0; /* a click log has its own negatives: nothing is sampled */
  if (!c) return SG_OK;
  if (c->dim > SG_CLICK_MAX_DIM)
    return sg_err_set(err, SG_INVALID_ARGUMENT, "config.dim: %u > %u", c->dim, SG_CLICK_MAX_DIM);
  if (c->epochs > 10000)
    return sg_err_set(err, SG_INVALID_ARGUMENT, "config.epochs: %u > 10000", c->epochs);
  if (!isfinite(c->learning_rate) || c->learning_rate < 0)
    return sg_err_set(err, SG_INVALID_ARGUMENT, "config.learning_rate: %g", c->learning_rate);
  if (!isfinite(c->l2) || c->l2 < 0 || c->l2 > 1e6)
    return sg_err_set(err, SG_INVALID_ARGUMENT, "config.l2: %g is outside [0, 1e6]", c->l2);
  if (!(c->valid_fraction >= 0 && c->valid_fraction <= 0.9f))
    return sg_err_set(err, SG_INVALID_ARGUMENT, "config.valid_fraction: %g is outside 0..0.9",
                      c->valid_fraction);
  if (c->negatives > 1000)
    return sg_err_set(err, SG_INVALID_ARGUMENT, "config.negatives: %u > 1000", c->negatives);
  if (labelled && c->negatives)
    return sg_err_set(err, SG_INVALID_ARGUMENT,
                      "config.negatives: %u with labels (negatives are for implicit data)",
                      c->negatives);
  if (c->negative_candidates > SG_CLICK_MAX_NEGATIVE_CANDIDATES)
    return sg_err_set(err, SG_INVALID_ARGUMENT, "config.negative_candidates: %u > %u",
                      c->negative_candidates, SG_CLICK_MAX_NEGATIVE_CANDIDATES);
  if (labelled && c->negative_candidates > 1)
    return sg_err_set(err, SG_INVALID_ARGUMENT,
                      "config.negative_candidates: %u with labels (nothing is sampled)",
                      c->negative_candidates);
  if (c->no_validation && c->valid_fraction > 0)
    return sg_err_set(err, SG_INVALID_ARGUMENT, "config.valid_fraction: %g with no_validation",
                      (double)c->valid_fraction);
  if (c->batch_size > (1u << 20))
    return sg_err_set(err, SG_INVALID_ARGUMENT, "config.batch_size: %u > 2^20", c->batch_size);
  if (c->lr_schedule != SHOPGPU__V1__TRAIN_CONFIG__LR_SCHEDULE__CONSTANT &&
      c->lr_schedule != SHOPGPU__V1__TRAIN_CONFIG__LR_SCHEDULE__COSINE)
    return sg_err_set(err, SG_INVALID_ARGUMENT, "config.lr_schedule: %d is not CONSTANT or COSINE",
                      (int)c->lr_schedule);
  if (c->optimizer != SHOPGPU__V1__TRAIN_CONFIG__OPTIMIZER__ADAM &&
      c->optimizer != SHOPGPU__V1__TRAIN_CONFIG__OPTIMIZER__SGD_MOMENTUM)
    return sg_err_set(err, SG_INVALID_ARGUMENT, "config.optimizer: %d is not ADAM or SGD_MOMENTUM",
                      (int)c->optimizer);
  if (c->dim) cfg->dim = c->dim;
  if (c->epochs) cfg->epochs = c->epochs;
  if (c->learning_rate > 0) cfg->lr = c->learning_rate;
  if (c->l2 > 0) cfg->l2 = c->l2;
  cfg->optimizer = c->optimizer == SHOPGPU__V1__TRAIN_CONFIG__OPTIMIZER__SGD_MOMENTUM
                       ? SG_CLICK_SGD_MOMENTUM
                       : SG_CLICK_ADAM;
  cfg->lr_schedule = c->lr_schedule == SHOPGPU__V1__TRAIN_CONFIG__LR_SCHEDULE__COSINE
                         ? SG_CLICK_LR_COSINE
                         : SG_CLICK_LR_CONSTANT;
  if (c->negatives) cfg->negatives = c->negatives;
  if (c->negative_candidates) cfg->negative_candidates = c->negative_candidates;
  if (c->batch_size) cfg->batch_size = c->batch_size;
  if (c->valid_fraction > 0) cfg->valid_fraction = c->valid_fraction;
  if (c->no_validation) cfg->valid_fraction = 0.0f;
  cfg->patience = c->patience;
  cfg->seed = c->seed;
  cfg->interaction = !c->no_interaction;
  return SG_OK;
}

static sg_status train_check(const Shopgpu__V1__TrainModelRequest *r, sg_err *err) {
  SG_TRY(sg_model_name_check(r->name, "name", err));
  if (r->n_user_ids == 0) return sg_err_set(err, SG_INVALID_ARGUMENT, "user_ids: empty");
  if (r->n_user_ids > MAX_TRAIN_ROWS)
    return sg_err_set(err, SG_INVALID_ARGUMENT, "user_ids: %zu rows > 2^31", r->n_user_ids);
  if (r->n_item_ids != r->n_user_ids)
    return sg_err_set(err, SG_INVALID_ARGUMENT, "item_ids: %zu ids for %zu user_ids", r->n_item_ids,
                      r->n_user_ids);
  if (r->n_labels && r->n_labels != r->n_user_ids)
    return sg_err_set(err, SG_INVALID_ARGUMENT, "labels: %zu labels for %zu user_ids (or none)",
                      r->n_labels, r->n_user_ids);
  for (size_t i = 0; i < r->n_labels; i++)
    if (r->labels[i] > 1)
      return sg_err_set(err, SG_INVALID_ARGUMENT, "labels[%zu]: %u is not 0 or 1", i, r->labels[i]);
  return SG_OK;
}

/* The shape of a feature matrix and its agreement with config.dim (0: taken from cols). */
static sg_status features_shape(const Shopgpu__V1__FeatureMatrix *f, const char *field,
                                uint32_t config_dim, uint32_t *dim, sg_err *err) {
  if (!f) return SG_OK;
  if (f->cols == 0 || f->cols > SG_CLICK_MAX_DIM)
    return sg_err_set(err, SG_INVALID_ARGUMENT, "%s.cols: %u is outside [1, %u]", field, f->cols,
                      SG_CLICK_MAX_DIM);
  if (f->n_values != (size_t)f->rows * f->cols)
    return sg_err_set(err, SG_INVALID_ARGUMENT, "%s.values: %zu values for %u rows × %u cols",
                      field, f->n_values, f->rows, f->cols);
  if (config_dim && f->cols != config_dim)
    return sg_err_set(err, SG_INVALID_ARGUMENT, "%s.cols: %u != config.dim %u", field, f->cols,
                      config_dim);
  if (*dim && f->cols != *dim)
    return sg_err_set(err, SG_INVALID_ARGUMENT,
                      "item_features.cols: %u != user_features.cols %u (one dim for both)", f->cols,
                      *dim);
  for (size_t i = 0; i < f->n_values; i++)
    if (!isfinite(f->values[i]))
      return sg_err_set(err, SG_INVALID_ARGUMENT, "%s.values[%zu] (row %zu, column %zu) is %g",
                        field, i, i / f->cols, i % f->cols, (double)f->values[i]);
  *dim = f->cols;
  return SG_OK;
}

/* The model's rows of a feature matrix: row r of the result is the matrix's row ids[r]. */
static sg_status features_rows(const Shopgpu__V1__FeatureMatrix *f, const char *field,
                               const char *what, const uint64_t *ids, uint32_t n, uint32_t dim,
                               float **out, sg_err *err) {
  if (!f) return SG_OK;
  for (uint32_t r = 0; r < n; r++) /* names the smallest id without a row */
    if (ids[r] >= f->rows)
      return sg_err_set(err, SG_INVALID_ARGUMENT, "%s: %s id %llu has no row (%u rows)", field,
                        what, (unsigned long long)ids[r], f->rows);
  *out = malloc((size_t)n * dim * sizeof **out);
  if (!*out) return sg_err_set(err, SG_OUT_OF_MEMORY, "%s: out of memory", field);
  for (uint32_t r = 0; r < n; r++)
    memcpy(*out + (size_t)r * dim, f->values + (size_t)ids[r] * dim, dim * sizeof **out);
  return SG_OK;
}

static sg_status train_fill(train_job *t, const Shopgpu__V1__TrainModelRequest *r, sg_err *err) {
  size_t n = r->n_user_ids;
  t->users = malloc(n * sizeof *t->users);
  t->items = malloc(n * sizeof *t->items);
  t->labels = r->n_labels ? malloc(n) : NULL;
  if (!t->users || !t->items || (r->n_labels && !t->labels))
    return sg_err_set(err, SG_OUT_OF_MEMORY, "train: out of memory for %zu rows", n);
  for (size_t i = 0; i < r->n_labels; i++)
    t->labels[i] = (uint8_t)r->labels[i];
  uint32_t nu, ni;
  SG_TRY(dense_rows(r->user_ids, n, "user_ids", &t->user_ids, &nu, t->users, err));
  SG_TRY(dense_rows(r->item_ids, n, "item_ids", &t->item_ids, &ni, t->items, err));
  t->data = (sg_click_data){nu, ni, n, t->users, t->items, t->labels};
  if (!t->labels && ni < 2)
    return sg_err_set(err, SG_INVALID_ARGUMENT, "item_ids: implicit data needs 2 or more items");
  SG_TRY(features_rows(r->user_features, "user_features", "user", t->user_ids, nu, t->cfg.dim,
                       &t->init_users, err));
  SG_TRY(features_rows(r->item_features, "item_features", "item", t->item_ids, ni, t->cfg.dim,
                       &t->init_items, err));
  t->cfg.init_users = t->init_users;
  t->cfg.init_items = t->init_items;
  return SG_OK;
}

/* Refuses a training whose vectors would not fit the memory there is now (a small request can
 * ask for a huge model: 8M ids at dim 1024 are 32 GiB per copy), before anything is allocated
 * for them. The trainer holds about six copies of the vectors (the model, Adam's two moments, the
 * best epoch's, the stored model) and some 24 bytes per example. */
static sg_status train_memory_check(const train_job *t, sg_err *err) {
  double vectors = ((double)t->data.n_users + t->data.n_items) * t->cfg.dim * sizeof(float);
  double batch = t->cfg.batch_size ? t->cfg.batch_size : 1024; /* a minibatch's gradients */
  double need = 6 * vectors + 24.0 * (double)t->data.n * (1.0 + t->cfg.negatives) +
                batch * (1.0 + t->cfg.negatives) * (2.0 * t->cfg.dim + 1) * sizeof(float);
  double avail;
  if (!sg_mem_short(need, &avail)) return SG_OK;
  return sg_err_set(err, SG_RESOURCE_EXHAUSTED,
                    "config.dim: %u for %u users and %u items needs about %.1f GiB to train; %.1f "
                    "GiB of memory is available",
                    t->cfg.dim, t->data.n_users, t->data.n_items, need / (1u << 30),
                    avail / (1u << 30));
}

/* Items each user row interacted with (any label), ascending and distinct, as CSR. */
static sg_status seen_csr(const train_job *t, uint64_t **off_out, uint32_t **items_out,
                          sg_err *err) {
  uint32_t nu = t->data.n_users;
  size_t n = t->data.n;
  uint64_t *off = calloc((size_t)nu + 1, sizeof *off);
  uint32_t *items = malloc((n ? n : 1) * sizeof *items);
  uint64_t *fill = calloc((size_t)nu, sizeof *fill);
  if (!off || !items || !fill) {
    free(off), free(items), free(fill);
    return sg_err_set(err, SG_OUT_OF_MEMORY, "train: out of memory");
  }
  for (size_t i = 0; i < n; i++)
    off[t->users[i] + 1]++;
  for (uint32_t u = 0; u < nu; u++)
    off[u + 1] += off[u];
  for (size_t i = 0; i < n; i++)
    items[off[t->users[i]] + fill[t->users[i]]++] = t->items[i];
  size_t w = 0; /* sort each row, drop repeats, compact */
  for (uint32_t u = 0; u < nu; u++) {
    uint32_t *row = items + off[u];
    size_t len = (size_t)(off[u + 1] - off[u]), start = w;
    qsort(row, len, sizeof *row, cmp_u32);
    for (size_t a = 0; a < len; a++)
      if (a == 0 || row[a] != row[a - 1]) items[w++] = row[a];
    off[u] = start;
  }
  off[nu] = w;
  free(fill);
  *off_out = off;
  *items_out = items;
  return SG_OK;
}

static sg_status train_finish(train_job *t, sg_err *err) {
  sg_model_draft d = {0};
  sg_click_trainer *tr = t->trainer;
  t->trainer = NULL;
  SG_TRY(sg_click_train_end(tr, &d.m, err));
  sg_err bad = {0};
  if (sg_click_model_check(&d.m, &bad) != SG_OK) { /* NaN or Inf: the steps ran away */
    sg_click_model_free(&d.m);
    return sg_err_set(err, SG_INVALID_ARGUMENT,
                      "training diverged (the trained %s): lower config.learning_rate or raise "
                      "config.l2",
                      bad.msg);
  }
  snprintf(d.name, sizeof d.name, "%s", t->name);
  d.user_ids = t->user_ids;
  d.item_ids = t->item_ids;
  t->user_ids = t->item_ids = NULL; /* the store owns them now */
  d.source = "trained";
  d.valid_auc = t->progress.best_epoch ? t->progress.best_auc : t->progress.valid_auc;
  d.valid_logloss = t->progress.best_epoch ? t->progress.best_logloss : t->progress.valid_logloss;
  sg_status st = seen_csr(t, &d.seen_offsets, &d.seen_items, err);
  if (st != SG_OK) {
    sg_click_model_free(&d.m);
    free(d.user_ids), free(d.item_ids);
    return st;
  }
  return sg_models_put(t->srv->models, &d, &t->model, err);
}

static sg_status train_step(sg_job *j, sg_exec *x, int *done, sg_err *err) {
  train_job *t = sg_job_data(j);
  if (!t->trainer) {
    t->trainer = sg_click_train_begin(x, &t->data, &t->cfg, err);
    if (!t->trainer) return err->code;
  }
  SG_TRY(sg_click_train_step(t->trainer, TRAIN_MINIBATCHES_PER_STEP, &t->progress, err));
  if (t->progress.epoch > t->logged_epoch && !isnan(t->progress.valid_logloss)) {
    t->logged_epoch = t->progress.epoch;
    SG_INFO("click", "train %s: epoch %u/%u: valid log loss %.4f, AUC %.4f%s", t->name,
            t->progress.epoch, t->progress.epochs, t->progress.valid_logloss, t->progress.valid_auc,
            t->progress.best_epoch == t->progress.epoch ? " (best)" : "");
  }
  sg_job_progress p = {.done = t->progress.done, .total = t->progress.total};
  if (!isnan(t->progress.valid_logloss)) {
    p.has_best = 1;
    p.best = t->progress.best_epoch ? t->progress.best_logloss : t->progress.valid_logloss;
  }
  sg_job_set_progress(j, &p);
  *done = t->progress.finished;
  return t->progress.finished ? train_finish(t, err) : SG_OK;
}

/* work: epochs x examples (impressions, or positives with their negatives) x dim */
static const sg_job_ops train_ops = {
    .kind = "train_model", .work_rate = 2e8, .step = train_step, .cleanup = train_cleanup};

sg_status sg_train_prepare(sg_server *srv, const Shopgpu__V1__SubmitJobRequest *req,
                           sg_job_spec *spec, sg_err *err) {
  const Shopgpu__V1__TrainModelRequest *r = req->train_model;
  SG_TRY(train_check(r, err));
  train_job *t = calloc(1, sizeof *t);
  if (!t) return sg_err_set(err, SG_OUT_OF_MEMORY, "train: out of memory");
  t->srv = srv;
  snprintf(t->name, sizeof t->name, "%s", r->name);
  sg_status st = train_config(r->config, r->n_labels > 0, &t->cfg, err);
  uint32_t dim = 0, config_dim = r->config ? r->config->dim : 0;
  if (st == SG_OK) st = features_shape(r->user_features, "user_features", config_dim, &dim, err);
  if (st == SG_OK) st = features_shape(r->item_features, "item_features", config_dim, &dim, err);
  if (st == SG_OK && dim) t->cfg.dim = dim;
  if (st == SG_OK) st = train_fill(t, r, err);
  if (st == SG_OK) st = train_memory_check(t, err);
  if (st != SG_OK) {
    train_cleanup(t);
    return st;
  }
  double examples = (double)t->data.n * (1.0 + t->cfg.negatives) /* 0 with labels */;
  *spec = (sg_job_spec){.ops = &train_ops,
                        .data = t,
                        .cls = SG_JOB_BATCH,
                        .work = examples * t->cfg.epochs * t->cfg.dim};
  return SG_OK;
}

void sg_train_result(sg_job *job, Shopgpu__V1__Job *out) {
  train_job *t = sg_job_data(job);
  Shopgpu__V1__TrainModelResult *r = calloc(1, sizeof *r);
  Shopgpu__V1__ModelInfo *info = calloc(1, sizeof *info);
  if (!r || !info || !t->model) {
    free(r), free(info);
    return;
  }
  shopgpu__v1__train_model_result__init(r);
  sg_model_info(t->model, info);
  r->model = info;
  r->epochs_run = t->progress.epoch;
  r->stopped_early = t->progress.stopped_early != 0;
  out->result_case = SHOPGPU__V1__JOB__RESULT_TRAIN_MODEL;
  out->train_model = r;
}

void sg_train_free_result(Shopgpu__V1__Job *out) {
  if (out->result_case != SHOPGPU__V1__JOB__RESULT_TRAIN_MODEL) return;
  free(out->train_model->model);
  free(out->train_model);
}

/* ---- recommend-all ---- */

typedef struct recs_job {
  sg_server *srv;
  sg_cache_publisher *pub; /* NULL when not publishing */
  uint64_t published;
  sg_model *model;
  uint32_t k, block, next; /* next: the first user not computed */
  uint32_t block_first;    /* the users in the buffers: block_first..next-1 */
  uint32_t pub_next;       /* the first of those not handed to the publisher */
  int include_seen;
  char path[SG_PATH_MAX + 64];
  FILE *f;
  uint32_t *items, *counts; /* block × k, block */
  float *scores;
  uint64_t *row_items; /* k external ids of one row */
} recs_job;

static void recs_cleanup(void *data) {
  recs_job *r = data;
  sg_cache_publish_end(r->pub, 0, NULL);
  if (r->f) fclose(r->f);
  sg_model_unref(r->model);
  free(r->items), free(r->counts), free(r->scores), free(r->row_items);
  free(r);
}

/* A failed write of the stored lists: the job fails saying why (a full disk is
 * RESOURCE_EXHAUSTED), and the part written is truncated away so it holds no disk meanwhile. */
static sg_status recs_write_failed(recs_job *r, const char *what, sg_err *err) {
  int e = errno ? errno : EIO;
  if (r->f && ftruncate(fileno(r->f), 0) != 0)
    SG_WARN("jobs", "%s: cannot truncate: %s", r->path, strerror(errno));
  return sg_err_set(err, sg_io_status(e), "%s: %s: %s (the lists written so far were dropped)",
                    r->path, what, strerror(e));
}
static int write_rows(recs_job *r, uint32_t first, uint32_t n) {
  const sg_model *m = r->model;
  int ok = 1;
  for (uint32_t u = 0; u < n && ok; u++) {
    const uint32_t *it = r->items + (size_t)u * r->k;
    for (uint32_t s = 0; s < r->k; s++)
      r->row_items[s] = s < r->counts[u] ? m->item_ids[it[s]] : 0;
    float *sc = r->scores + (size_t)u * r->k;
    for (uint32_t s = r->counts[u]; s < r->k; s++)
      sc[s] = 0;
    ok = fwrite(&m->user_ids[first + u], 8, 1, r->f) == 1 &&
         fwrite(&r->counts[u], 4, 1, r->f) == 1 && fwrite(r->row_items, 8, r->k, r->f) == r->k &&
         fwrite(sc, 4, r->k, r->f) == r->k;
  }
  return ok;
}

/* Hands the buffered rows from pub_next on to the publisher, until it stalls on a Redis failure
 * (the rest wait for a later step). */
static sg_status publish_rows(recs_job *r, sg_err *err) {
  for (; r->pub_next < r->next && !sg_cache_publish_stalled(r->pub); r->pub_next++) {
    size_t u = r->pub_next - r->block_first;
    const uint32_t *it = r->items + u * r->k;
    uint32_t *ids = (uint32_t *)r->row_items; /* reuse: k uint64 hold k uint32 */
    for (uint32_t s = 0; s < r->counts[u]; s++)
      ids[s] = (uint32_t)r->model->item_ids[it[s]];
    SG_TRY(sg_cache_publish_add(r->pub, r->model->user_ids[r->pub_next], ids, r->scores + u * r->k,
                                r->counts[u], err));
  }
  return SG_OK;
}

/* A step waits on a Redis that failed for this long at most, then lets the worker serve the
 * queues (the publisher retries for 5 s in all, over as many steps). */
#define PUBLISH_WAIT_MS 20

/* Redis's share of a step: resend what a failure left, then the buffered rows. 1 when the step
 * must end there (still stalled, or rows left), 0 when the buffers are free. */
static int publish_owed(recs_job *r, sg_status *st, sg_err *err) {
  *st = sg_cache_publish_resume(r->pub, PUBLISH_WAIT_MS, err);
  if (*st == SG_OK && !sg_cache_publish_stalled(r->pub)) *st = publish_rows(r, err);
  return *st != SG_OK || sg_cache_publish_stalled(r->pub) || r->pub_next < r->next;
}

static sg_status recs_step(sg_job *j, sg_exec *x, int *done, sg_err *err) {
  recs_job *r = sg_job_data(j);
  const sg_model *m = r->model;
  sg_status st = SG_OK;
  *done = 0;
  if (r->pub && publish_owed(r, &st, err)) return st;
  if (r->next < m->m.n_users) {
    uint32_t n = m->m.n_users - r->next < r->block ? m->m.n_users - r->next : r->block;
    sg_click_exclude ex = {m->seen_offsets, m->seen_items};
    sg_click_topk_out out = {r->items, r->scores, r->counts};
    const sg_click_placed *placed;
    SG_TRY(sg_model_placed_for(m, x, &placed, err));
    SG_TRY(sg_click_topk_range(x, placed, r->next, r->next + n, r->k,
                               !r->include_seen && m->seen_offsets ? &ex : NULL, &out, err));
    errno = 0;
    if (!write_rows(r, r->next, n)) return recs_write_failed(r, "write", err);
    r->block_first = r->pub_next = r->next;
    r->next += n;
    sg_job_progress p = {.done = r->next, .total = m->m.n_users};
    sg_job_set_progress(j, &p);
    if (r->next == m->m.n_users && (fflush(r->f) != 0 || fsync(fileno(r->f)) != 0))
      return recs_write_failed(r, "flush", err);
    if (r->pub) {
      SG_TRY(publish_rows(r, err));
      if (r->pub_next < r->next) return SG_OK; /* stalled: the rest in later steps */
    }
    if (r->next < m->m.n_users) return SG_OK;
  }
  if (r->pub) { /* every list handed over: the last batches, then the meta hash */
    sg_cache_publish_flush(r->pub);
    if (sg_cache_publish_stalled(r->pub)) return SG_OK;
    r->published = sg_cache_publish_count(r->pub);
    sg_cache_publisher *pub = r->pub;
    r->pub = NULL;
    SG_TRY(sg_cache_publish_end(pub, 1, err));
  }
  *done = 1;
  return SG_OK;
}

/* work: multiply-adds (users x items x dim) */
static const sg_job_ops recs_ops = {
    .kind = "recommend_all", .work_rate = 1e10, .step = recs_step, .cleanup = recs_cleanup};

sg_status sg_recommend_all_prepare(sg_server *srv, const Shopgpu__V1__SubmitJobRequest *req,
                                   sg_job_spec *spec, sg_err *err) {
  const Shopgpu__V1__RecommendAllRequest *q = req->recommend_all;
  uint32_t k = q->k;
  if (k == 0 || k > SG_CLICK_MAX_K)
    return sg_err_set(err, SG_INVALID_ARGUMENT, "k: %u is outside 1..%u", k, SG_CLICK_MAX_K);
  recs_job *r = calloc(1, sizeof *r);
  if (!r) return sg_err_set(err, SG_OUT_OF_MEMORY, "recommend_all: out of memory");
  sg_status st = sg_models_get(srv->models, q->model, q->version, &r->model, err);
  if (st != SG_OK) {
    free(r);
    return st;
  }
  const sg_click_model *m = &r->model->m;
  double per_user = (double)m->n_items * m->dim;
  r->block = (uint32_t)fmin(4096, fmax(16, RECS_STEP_MACS / per_user));
  r->k = k;
  r->include_seen = q->include_seen;
  r->srv = srv;
  /* the cache holds the lists Recommend answers by default, seen items left out: lists that keep
   * them would be served to callers that asked for them left out */
  int publish = !q->no_publish && !q->include_seen && sg_cache_enabled(srv->cache);
  uint64_t max_item = 0;
  for (uint32_t i = 0; i < m->n_items; i++)
    if (r->model->item_ids[i] > max_item) max_item = r->model->item_ids[i];
  if (publish && max_item > UINT32_MAX) {
    recs_cleanup(r);
    return sg_err_set(err, SG_INVALID_ARGUMENT,
                      "model: item id %llu does not fit the 32-bit Redis format (set no_publish)",
                      (unsigned long long)max_item);
  }
  if (publish) {
    r->pub = sg_cache_publish_begin(srv->cache, r->model->name, r->model->version, k, err);
    if (!r->pub) {
      recs_cleanup(r);
      return err->code;
    }
  }
  r->items = malloc((size_t)r->block * k * sizeof *r->items);
  r->scores = malloc((size_t)r->block * k * sizeof *r->scores);
  r->counts = malloc((size_t)r->block * sizeof *r->counts);
  r->row_items = malloc((size_t)k * sizeof *r->row_items);
  if (!r->items || !r->scores || !r->counts || !r->row_items) {
    recs_cleanup(r);
    return sg_err_set(err, SG_OUT_OF_MEMORY, "recommend_all: out of memory");
  }
  *spec = (sg_job_spec){
      .ops = &recs_ops, .data = r, .cls = SG_JOB_BATCH, .work = m->n_users * per_user};
  return SG_OK;
}

sg_status sg_recommend_all_bind(void *data, const char *job_dir, sg_err *err) {
  recs_job *r = data;
  snprintf(r->path, sizeof r->path, "%s/%s", job_dir, SG_RECS_FILE);
  r->f = fopen(r->path, "wb");
  if (!r->f)
    return sg_err_set(err, sg_io_status(errno), "%s: cannot create: %s", r->path, strerror(errno));
  uint64_t users = r->model->m.n_users;
  uint32_t version = r->model->version;
  errno = 0;
  int ok = fwrite("SGRECS01", 1, 8, r->f) == 8 && fwrite(&r->k, 4, 1, r->f) == 1 &&
           fwrite(&version, 4, 1, r->f) == 1 && fwrite(&users, 8, 1, r->f) == 1;
  return ok ? SG_OK : recs_write_failed(r, "write", err);
}

void sg_recommend_all_result(sg_job *job, Shopgpu__V1__Job *out) {
  recs_job *r = sg_job_data(job);
  Shopgpu__V1__RecommendAllResult *res = calloc(1, sizeof *res);
  if (!res) return;
  shopgpu__v1__recommend_all_result__init(res);
  res->model = r->model->name;
  res->model_version = r->model->version;
  res->k = r->k;
  res->users = r->next;
  res->published = r->published;
  out->result_case = SHOPGPU__V1__JOB__RESULT_RECOMMEND_ALL;
  out->recommend_all = res;
}

void sg_recommend_all_free_result(Shopgpu__V1__Job *out) {
  if (out->result_case == SHOPGPU__V1__JOB__RESULT_RECOMMEND_ALL) free(out->recommend_all);
}
