/* Click model training as begin / step / end: per epoch a Philox shuffle of the example ids,
 * minibatches planned on the host (click_plan.c) and applied by the backend's slots, then the
 * validation log loss and AUC, early stopping and a host copy of the best epoch. A step runs a
 * bounded number of minibatches so a scheduler can interleave other work and cancel between
 * steps. Also sg_click_gradient, the gradient training uses, for checks. */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "click_core.h"
#include "click_train_impl.h"

/* ---- backend calls through the op gate ----------------------------------------------------- */

static sg_status slot_init(sg_click_trainer *t, const sg__click_train_init *init, sg_err *err) {
  SG_DISPATCH(t->x, click, train_init, err, init, &t->state, err);
}

static sg_status slot_batch(sg_click_trainer *t, sg_err *err) {
  SG_DISPATCH(t->x, click, train_batch, err, t->state, &t->plan.batch, err);
}

static sg_status slot_logits(sg_click_trainer *t, sg_err *err) {
  SG_DISPATCH(t->x, click, train_logits, err, t->state, t->vu, t->vi, t->n_val, t->vz, err);
}

static sg_status slot_export(sg_click_trainer *t, sg_click_model *m, sg_err *err) {
  SG_DISPATCH(t->x, click, train_export, err, t->state, m->U, m->V, m->w, &m->b, err);
}

/* ---- begin --------------------------------------------------------------------------------- */

static void trainer_free(sg_click_trainer *t) {
  if (!t) return;
  if (t->state && t->x->ops->click && t->x->ops->click->train_free) {
    t->x->ops->click->train_free(t->x, t->state);
  }
  free(t->tr);
  free(t->pos_off);
  free(t->pos_items);
  free(t->vu);
  free(t->vi);
  free(t->vy);
  free(t->vz);
  free(t->perm);
  sg__click_plan_free(&t->plan);
  sg_click_model_free(&t->best);
  sg_click_model_free(&t->snap);
  free(t);
}

static sg_status start_backend(sg_click_trainer *t, sg_err *err) {
  sg_click_model m0;
  SG_TRY(sg__click_initial_model(t, &m0, err));
  const sg_click_train_config *c = &t->cfg;
  sg__click_train_init init = {
      m0.n_users,   m0.n_items, m0.dim, m0.interaction, m0.U,     m0.V,     m0.w,   m0.b,
      c->optimizer, c->lr,      c->l2,  c->momentum,    c->beta1, c->beta2, c->eps, t->plan.cap};
  sg_status st = slot_init(t, &init, err);
  sg_click_model_free(&m0);
  return st;
}

static void progress_init(sg_click_trainer *t) {
  sg_click_train_progress *p = &t->prog;
  memset(p, 0, sizeof *p);
  p->epochs = t->cfg.epochs;
  p->total = (uint64_t)t->batches_per_epoch * t->cfg.epochs;
  p->valid_logloss = p->valid_auc = NAN;
  p->best_logloss = p->best_auc = NAN;
}

sg_click_trainer *sg_click_train_begin(sg_exec *x, const sg_click_data *data,
                                       const sg_click_train_config *cfg, sg_err *err) {
  if (!x) {
    sg_err_set(err, SG_INVALID_ARGUMENT, "click_train: exec is NULL");
    return NULL;
  }
  if (sg__click_check_data(data, err) != SG_OK || sg__click_check_config(cfg, data, err) != SG_OK) {
    return NULL;
  }
  sg_click_trainer *t = calloc(1, sizeof *t);
  if (!t) {
    sg_err_set(err, SG_OUT_OF_MEMORY, "click_train: out of memory");
    return NULL;
  }
  t->x = x;
  t->data = *data;
  t->cfg = *cfg;
  if (sg__click_prepare(t, err) != SG_OK) goto fail;
  uint32_t bs = cfg->batch_size < t->n_ex ? cfg->batch_size : t->n_ex;
  t->batches_per_epoch = (t->n_ex + bs - 1) / bs;
  if (sg__click_plan_init(&t->plan, bs, err) != SG_OK) goto fail;
  t->peak_auc = NAN;
  if (t->n_val && cfg->negative_candidates <= 1 &&
      sg_click_model_alloc(data->n_users, data->n_items, cfg->dim, cfg->interaction, &t->best,
                           err) != SG_OK) {
    goto fail;
  }
  if (cfg->negative_candidates > 1 &&
      sg_click_model_alloc(data->n_users, data->n_items, cfg->dim, cfg->interaction, &t->snap,
                           err) != SG_OK) {
    goto fail;
  }
  if (start_backend(t, err) != SG_OK) goto fail;
  progress_init(t);
  return t;
fail:
  trainer_free(t);
  return NULL;
}

/* ---- step ---------------------------------------------------------------------------------- */

/* Fisher-Yates over the example ids with the epoch's Philox stream. */
static void shuffle(sg_click_trainer *t, uint32_t epoch) {
  uint64_t stream = SG_CLICK_STREAM_SHUFFLE | ((uint64_t)epoch << 16);
  for (uint32_t i = 0; i < t->n_ex; i++)
    t->perm[i] = i;
  for (uint32_t i = t->n_ex - 1; i > 0; i--) {
    uint32_t j = sg_philox_to_below(sg_philox_u32(t->cfg.seed, stream, i), i + 1);
    uint32_t tmp = t->perm[i];
    t->perm[i] = t->perm[j];
    t->perm[j] = tmp;
  }
}

/* Example id ex of an epoch: slot 0 of a training row is the row itself, slots 1.. are its
 * sampled negatives (implicit data). */
static void example(const sg_click_trainer *t, uint32_t epoch, uint32_t ex, uint32_t *u,
                    uint32_t *i, float *y) {
  uint32_t p = ex / t->slots, s = ex % t->slots;
  size_t row = t->tr[p];
  *u = t->data.users[row];
  if (s == 0) {
    *i = t->data.items[row];
    *y = t->data.labels ? (float)t->data.labels[row] : 1.0f;
    return;
  }
  uint64_t stream = SG_CLICK_STREAM_NEG | ((uint64_t)epoch << 16);
  uint64_t index = (uint64_t)p * (t->slots - 1) + (s - 1);
  *i = t->cfg.negative_candidates > 1 ? sg__click_scored_negative(t, &t->snap, *u, stream, index)
                                      : sg__click_negative(t, *u, stream, index);
  *y = 0.0f;
}

/* The schedule's factor for minibatch t->step (1-based) of the planned run. */
static float lr_scale(const sg_click_trainer *t) {
  if (t->cfg.lr_schedule != SG_CLICK_LR_COSINE) return 1.0f;
  double total = (double)t->batches_per_epoch * t->cfg.epochs;
  double x = (double)(t->step - 1) / total;
  return (float)(0.5 * (1.0 + cos(3.14159265358979323846 * (x < 1.0 ? x : 1.0))));
}

static sg_status run_batch(sg_click_trainer *t, sg_err *err) {
  uint32_t bs = t->plan.cap;
  uint32_t lo = t->batch * bs, hi = t->n_ex - lo < bs ? t->n_ex : lo + bs;
  uint32_t epoch = t->prog.epoch;
  /* a scored negative costs M dot products: spread the batch over the exec's threads (each
   * example fills its own slot from its own Philox draws, so the thread count changes nothing) */
  int threads = sg__click_omp_threads(t->x->threads);
#pragma omp parallel for num_threads(threads)                                                      \
    schedule(static) if (t->cfg.negative_candidates > 1 && threads > 1 && hi - lo >= 32)
  for (long long e = lo; e < (long long)hi; e++) {
    example(t, epoch, t->perm[e], &t->plan.users[e - lo], &t->plan.items[e - lo],
            &t->plan.labels[e - lo]);
  }
  sg__click_plan_group(&t->plan, hi - lo, ++t->step);
  t->plan.batch.lr_scale = lr_scale(t);
  return slot_batch(t, err);
}

static void validation_metrics(sg_click_trainer *t) {
  double loss = 0.0;
  for (size_t j = 0; j < t->n_val; j++) {
    loss += sg__click_logloss_logit(t->vz[j], t->vy[j]);
  }
  t->prog.valid_logloss = loss / (double)t->n_val;
  sg_err e = {0};
  double auc;
  t->prog.valid_auc = sg_click_auc(t->vz, t->vy, t->n_val, &auc, &e) == SG_OK ? auc : NAN;
}

static int improved(const sg_click_trainer *t) {
  const sg_click_train_progress *p = &t->prog;
  if (p->best_epoch == 0) return 1;
  if (t->cfg.stop_on_auc && !isnan(p->valid_auc)) return p->valid_auc > p->best_auc;
  return p->valid_logloss < p->best_logloss;
}

/* With scored negatives the validation examples (uniform negatives) no longer measure the
 * objective: their log loss rises while the ranking improves. The last epoch is kept and
 * patience counts epochs without a new peak of the validation AUC. */
static void end_epoch_scored(sg_click_trainer *t) {
  sg_click_train_progress *p = &t->prog;
  p->best_epoch = p->epoch;
  p->best_logloss = p->valid_logloss;
  p->best_auc = p->valid_auc;
  if (isnan(t->peak_auc) || p->valid_auc > t->peak_auc) {
    t->peak_auc = p->valid_auc;
    t->bad_epochs = 0;
  } else if (t->cfg.patience && ++t->bad_epochs >= t->cfg.patience) {
    p->finished = 1;
    p->stopped_early = p->epoch < t->cfg.epochs;
  }
}

static sg_status end_epoch(sg_click_trainer *t, sg_err *err) {
  sg_click_train_progress *p = &t->prog;
  p->epoch++;
  if (t->n_val) {
    SG_TRY(slot_logits(t, err));
    validation_metrics(t);
    if (t->cfg.negative_candidates > 1) {
      end_epoch_scored(t);
    } else if (improved(t)) {
      p->best_epoch = p->epoch;
      p->best_logloss = p->valid_logloss;
      p->best_auc = p->valid_auc;
      t->bad_epochs = 0;
      SG_TRY(slot_export(t, &t->best, err));
    } else if (t->cfg.patience && ++t->bad_epochs >= t->cfg.patience) {
      p->finished = 1;
      p->stopped_early = p->epoch < t->cfg.epochs; /* patience ran out before the last epoch */
    }
  }
  if (p->epoch >= t->cfg.epochs) p->finished = 1;
  if (p->finished) p->done = p->total;
  return SG_OK;
}

sg_status sg_click_train_step(sg_click_trainer *t, uint32_t max_minibatches,
                              sg_click_train_progress *progress, sg_err *err) {
  if (!t) return sg_err_set(err, SG_INVALID_ARGUMENT, "click_train_step: trainer is NULL");
  if (max_minibatches == 0) {
    return sg_err_set(err, SG_INVALID_ARGUMENT, "click_train_step: max_minibatches is 0");
  }
  sg_status st = SG_OK;
  for (uint32_t k = 0; k < max_minibatches && !t->prog.finished; k++) {
    if (t->batch == 0) {
      shuffle(t, t->prog.epoch);
      /* scored negatives use the parameters as they are at the epoch's start */
      if (t->cfg.negative_candidates > 1 && (st = slot_export(t, &t->snap, err)) != SG_OK) break;
    }
    if ((st = run_batch(t, err)) != SG_OK) break;
    t->prog.done++;
    if (++t->batch == t->batches_per_epoch) {
      t->batch = 0;
      if ((st = end_epoch(t, err)) != SG_OK) break;
    }
  }
  if (progress) *progress = t->prog;
  return st;
}

void sg_click_train_progress_get(const sg_click_trainer *t, sg_click_train_progress *progress) {
  *progress = t->prog;
}

/* ---- end ----------------------------------------------------------------------------------- */

static void copy_model(sg_click_model *dst, const sg_click_model *src) {
  memcpy(dst->U, src->U, (size_t)src->n_users * src->dim * sizeof(float));
  memcpy(dst->V, src->V, (size_t)src->n_items * src->dim * sizeof(float));
  memcpy(dst->w, src->w, src->dim * sizeof(float));
  dst->b = src->b;
}

sg_status sg_click_train_end(sg_click_trainer *t, sg_click_model *model_out, sg_err *err) {
  if (!t) return SG_OK;
  sg_status st = SG_OK;
  if (model_out) {
    const sg_click_train_config *c = &t->cfg;
    st = sg_click_model_alloc(t->data.n_users, t->data.n_items, c->dim, c->interaction, model_out,
                              err);
    if (st == SG_OK && t->prog.best_epoch > 0 && t->cfg.negative_candidates <= 1) {
      copy_model(model_out, &t->best);
    } else if (st == SG_OK) {
      st = slot_export(t, model_out, err);
    }
    if (st != SG_OK) sg_click_model_free(model_out);
  }
  trainer_free(t);
  return st;
}

/* ---- gradient ------------------------------------------------------------------------------ */

static sg_status check_examples(const sg_click_model *m, const uint32_t *users,
                                const uint32_t *items, const float *labels, size_t n, sg_err *err) {
  if (n == 0) return sg_err_set(err, SG_INVALID_ARGUMENT, "click_gradient: n is 0");
  if (n > UINT32_MAX) return sg_err_set(err, SG_OVERFLOW, "click_gradient: n %zu", n);
  if (!users || !items || !labels) {
    return sg_err_set(err, SG_INVALID_ARGUMENT, "click_gradient: users, items or labels is NULL");
  }
  for (size_t j = 0; j < n; j++) {
    if (users[j] >= m->n_users) {
      return sg_err_set(err, SG_INVALID_ARGUMENT, "users[%zu]: id %u >= n_users %u", j, users[j],
                        m->n_users);
    }
    if (items[j] >= m->n_items) {
      return sg_err_set(err, SG_INVALID_ARGUMENT, "items[%zu]: id %u >= n_items %u", j, items[j],
                        m->n_items);
    }
    if (!(labels[j] >= 0.0f && labels[j] <= 1.0f)) {
      return sg_err_set(err, SG_INVALID_ARGUMENT, "labels[%zu]: %g is outside [0, 1]", j,
                        (double)labels[j]);
    }
  }
  return SG_OK;
}

/* Scatters grouped row gradients (n_rows × dim, row g for ids[g]) into a dense matrix. */
static void scatter_rows(float *dense, size_t rows, uint32_t dim, const uint32_t *ids,
                         uint32_t n_ids, const float *grouped) {
  memset(dense, 0, rows * dim * sizeof(float));
  for (uint32_t g = 0; g < n_ids; g++) {
    memcpy(dense + (size_t)ids[g] * dim, grouped + (size_t)g * dim, dim * sizeof(float));
  }
}

sg_status sg_click_gradient(const sg_click_model *m, const uint32_t *users, const uint32_t *items,
                            const float *labels, size_t n, float l2, float *gU, float *gV,
                            float *gw, float *gb, double *loss, sg_err *err) {
  SG_TRY(sg_click_model_check(m, err));
  SG_TRY(check_examples(m, users, items, labels, n, err));
  if (!gU || !gV || !gw || !gb) {
    return sg_err_set(err, SG_INVALID_ARGUMENT, "click_gradient: an output array is NULL");
  }
  sg__click_plan pl;
  SG_TRY(sg__click_plan_init(&pl, (uint32_t)n, err));
  memcpy(pl.users, users, n * sizeof(uint32_t));
  memcpy(pl.items, items, n * sizeof(uint32_t));
  memcpy(pl.labels, labels, n * sizeof(float));
  sg__click_plan_group(&pl, (uint32_t)n, 1);
  float *g = malloc(n * sizeof(float));
  float *rows_u = malloc((size_t)pl.batch.n_uu * m->dim * sizeof(float));
  float *rows_v = malloc((size_t)pl.batch.n_ui * m->dim * sizeof(float));
  sg_status st = SG_OK;
  if (!g || !rows_u || !rows_v) {
    st = sg_err_set(err, SG_OUT_OF_MEMORY, "click_gradient: out of memory");
  } else {
    float b = m->b;
    sg__click_params prm = {m->n_users, m->n_items, m->dim, m->interaction, m->U, m->V, m->w, &b};
    sg__click_cpu_grad(1, &prm, &pl.batch, l2, g, rows_u, rows_v, gw, gb, loss);
    scatter_rows(gU, m->n_users, m->dim, pl.batch.uu, pl.batch.n_uu, rows_u);
    scatter_rows(gV, m->n_items, m->dim, pl.batch.ui, pl.batch.n_ui, rows_v);
  }
  free(g);
  free(rows_u);
  free(rows_v);
  sg__click_plan_free(&pl);
  return st;
}
