/* CPU training slots of the click model: the minibatch gradient (per example dJ/dz, then each
 * touched row summed over its examples in plan order, so results do not depend on the thread
 * count), lazy Adam / SGD-momentum updates of the touched rows, validation logits, export. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "click_backends.h"
#include "click_core.h"

#define PARALLEL_WORK ((size_t)1 << 20) /* examples × dim below which a loop runs serially */

typedef struct cpu_train {
  sg__click_train_init cfg; /* scalars only; arrays below are owned */
  sg__click_params prm;
  float b;
  float *mU, *vU, *mV, *vV, *mw, *vw; /* Adam moments; SGD: m* are velocities, v* unused */
  float mb, vb;
  float *g, *gU, *gV, *gw; /* batch scratch (grown to the batch size) */
  uint32_t cap;
} cpu_train;

static inline float dot_f(const float *u, const float *v, uint32_t dim) {
  float acc = 0.0f;
#pragma omp simd reduction(+ : acc)
  for (uint32_t c = 0; c < dim; c++)
    acc += u[c] * v[c];
  return acc;
}

/* logit b + w·(u + v) + [interaction] u·v */
static inline float logit_f(const sg__click_params *m, uint32_t user, uint32_t item) {
  const float *u = m->U + (size_t)user * m->dim, *v = m->V + (size_t)item * m->dim;
  float z = *m->b + dot_f(m->w, u, m->dim) + dot_f(m->w, v, m->dim);
  return m->interaction ? z + dot_f(u, v, m->dim) : z;
}

/* grow[r][c] = scale · Σ_{e in group} g[e] · (w[c] + [inter] other[oid(e)][c]) + l2s · self[c] */
static void group_grad(const sg__click_params *m, const float *g, const uint32_t *ex, uint32_t n_ex,
                       const uint32_t *other_ids, const float *other, const float *self,
                       float scale, float l2, float *grow) {
  uint32_t dim = m->dim;
  for (uint32_t c = 0; c < dim; c++)
    grow[c] = 0.0f;
  for (uint32_t t = 0; t < n_ex; t++) {
    uint32_t e = ex[t];
    float ge = g[e];
    const float *o = other + (size_t)other_ids[e] * dim;
    if (m->interaction) {
      for (uint32_t c = 0; c < dim; c++)
        grow[c] += ge * (m->w[c] + o[c]);
    } else {
      for (uint32_t c = 0; c < dim; c++)
        grow[c] += ge * m->w[c];
    }
  }
  float l2s = l2 * (float)n_ex;
  for (uint32_t c = 0; c < dim; c++)
    grow[c] = scale * (grow[c] + l2s * self[c]);
}

void sg__click_cpu_grad(int threads, const sg__click_params *m, const sg__click_batch *bt, float l2,
                        float *g, float *gU, float *gV, float *gw, float *gb, double *loss) {
  uint32_t dim = m->dim, n = bt->n;
  float scale = 1.0f / (float)n;
  if (threads < 1) threads = 1;
    /* small batches run on one thread: four barriers per batch cost more than the work when the
     * cores are shared (and the result is the same either way) */
#pragma omp parallel num_threads(threads) if ((size_t)n * dim >= PARALLEL_WORK)
  {
#pragma omp for schedule(static)
    for (long long e = 0; e < (long long)n; e++) {
      g[e] = sg__click_sigmoid(logit_f(m, bt->users[e], bt->items[e])) - bt->labels[e];
    }
#pragma omp for schedule(static)
    for (long long r = 0; r < (long long)bt->n_uu; r++) {
      uint32_t o = bt->u_off[r], u = bt->uu[r];
      group_grad(m, g, bt->u_ex + o, bt->u_off[r + 1] - o, bt->items, m->V, m->U + (size_t)u * dim,
                 scale, l2, gU + (size_t)r * dim);
    }
#pragma omp for schedule(static)
    for (long long r = 0; r < (long long)bt->n_ui; r++) {
      uint32_t o = bt->i_off[r], i = bt->ui[r];
      group_grad(m, g, bt->i_ex + o, bt->i_off[r + 1] - o, bt->users, m->U, m->V + (size_t)i * dim,
                 scale, l2, gV + (size_t)r * dim);
    }
  }
  /* w and b: one pass in example order */
  float sb = 0.0f;
  for (uint32_t c = 0; c < dim; c++)
    gw[c] = 0.0f;
  for (uint32_t e = 0; e < n; e++) {
    const float *u = m->U + (size_t)bt->users[e] * dim, *v = m->V + (size_t)bt->items[e] * dim;
    for (uint32_t c = 0; c < dim; c++)
      gw[c] += g[e] * (u[c] + v[c]);
    sb += g[e];
  }
  for (uint32_t c = 0; c < dim; c++)
    gw[c] = scale * gw[c] + l2 * m->w[c];
  *gb = scale * sb;
  if (!loss) return;
  double J = 0.0, reg = 0.0;
  for (uint32_t e = 0; e < n; e++) {
    J += sg__click_logloss_logit(logit_f(m, bt->users[e], bt->items[e]), bt->labels[e]);
    const float *u = m->U + (size_t)bt->users[e] * dim, *v = m->V + (size_t)bt->items[e] * dim;
    for (uint32_t c = 0; c < dim; c++)
      reg += (double)u[c] * u[c] + (double)v[c] * v[c];
  }
  double ww = 0.0;
  for (uint32_t c = 0; c < dim; c++)
    ww += (double)m->w[c] * m->w[c];
  *loss = (J + 0.5 * l2 * reg) / n + 0.5 * l2 * ww;
}

/* ---- optimizer ----------------------------------------------------------------------------- */

typedef struct step_consts {
  float lr, b1, b2, eps, bc1, bc2, mu;
  int adam;
} step_consts;

static void update_row(const step_consts *k, float *theta, float *m, float *v, const float *g,
                       uint32_t dim) {
  if (k->adam) {
    for (uint32_t c = 0; c < dim; c++) {
      sg__click_adam(&theta[c], &m[c], &v[c], g[c], k->lr, k->b1, k->b2, k->eps, k->bc1, k->bc2);
    }
  } else {
    for (uint32_t c = 0; c < dim; c++)
      sg__click_sgdm(&theta[c], &m[c], g[c], k->lr, k->mu);
  }
}

static step_consts consts_for(const sg__click_train_init *cfg, const sg__click_batch *bt) {
  step_consts k = {cfg->lr, cfg->beta1, cfg->beta2,    cfg->eps,
                   1.0f,    1.0f,       cfg->momentum, cfg->optimizer == SG_CLICK_ADAM};
  k.lr *= bt->lr_scale;
  k.bc1 = (float)(1.0 - pow((double)cfg->beta1, (double)bt->step));
  k.bc2 = (float)(1.0 - pow((double)cfg->beta2, (double)bt->step));
  return k;
}

static int grow_scratch(cpu_train *t, uint32_t n) {
  if (n <= t->cap) return 1;
  size_t dim = t->prm.dim;
  free(t->g);
  free(t->gU);
  free(t->gV);
  t->g = malloc((size_t)n * sizeof(float));
  t->gU = malloc((size_t)n * dim * sizeof(float));
  t->gV = malloc((size_t)n * dim * sizeof(float));
  t->cap = (t->g && t->gU && t->gV) ? n : 0;
  return t->cap != 0;
}

sg_status sg__click_cpu_train_batch(sg_exec *x, void *state, const sg__click_batch *bt,
                                    sg_err *err) {
  cpu_train *t = state;
  if (!grow_scratch(t, bt->n)) {
    return sg_err_set(err, SG_OUT_OF_MEMORY, "click_train: out of memory (batch scratch)");
  }
  uint32_t dim = t->prm.dim;
  float gb;
  sg__click_cpu_grad(x->threads, &t->prm, bt, t->cfg.l2, t->g, t->gU, t->gV, t->gw, &gb, NULL);
  step_consts k = consts_for(&t->cfg, bt);
#pragma omp parallel num_threads(x->threads > 0 ? x->threads                                       \
                                                : 1) if ((size_t)bt->n * dim >= PARALLEL_WORK)
  {
#pragma omp for schedule(static)
    for (long long r = 0; r < (long long)bt->n_uu; r++) {
      size_t o = (size_t)bt->uu[r] * dim;
      update_row(&k, t->prm.U + o, t->mU + o, t->vU ? t->vU + o : NULL, t->gU + (size_t)r * dim,
                 dim);
    }
#pragma omp for schedule(static)
    for (long long r = 0; r < (long long)bt->n_ui; r++) {
      size_t o = (size_t)bt->ui[r] * dim;
      update_row(&k, t->prm.V + o, t->mV + o, t->vV ? t->vV + o : NULL, t->gV + (size_t)r * dim,
                 dim);
    }
  }
  update_row(&k, t->prm.w, t->mw, t->vw, t->gw, dim);
  update_row(&k, &t->b, &t->mb, &t->vb, &gb, 1);
  return SG_OK;
}

/* ---- state --------------------------------------------------------------------------------- */

static float *dup_floats(const float *src, size_t n) {
  float *d = malloc(n * sizeof(float));
  if (d) memcpy(d, src, n * sizeof(float));
  return d;
}

sg_status sg__click_cpu_train_init(sg_exec *x, const sg__click_train_init *init, void **state,
                                   sg_err *err) {
  (void)x;
  cpu_train *t = calloc(1, sizeof *t);
  if (!t) return sg_err_set(err, SG_OUT_OF_MEMORY, "click_train: out of memory");
  size_t nu = (size_t)init->n_users * init->dim, ni = (size_t)init->n_items * init->dim;
  int adam = init->optimizer == SG_CLICK_ADAM;
  t->cfg = *init;
  t->b = init->b;
  t->prm = (sg__click_params){init->n_users,
                              init->n_items,
                              init->dim,
                              init->interaction,
                              dup_floats(init->U, nu),
                              dup_floats(init->V, ni),
                              dup_floats(init->w, init->dim),
                              &t->b};
  t->mU = calloc(nu, sizeof(float));
  t->mV = calloc(ni, sizeof(float));
  t->mw = calloc(init->dim, sizeof(float));
  t->vU = adam ? calloc(nu, sizeof(float)) : NULL;
  t->vV = adam ? calloc(ni, sizeof(float)) : NULL;
  t->vw = adam ? calloc(init->dim, sizeof(float)) : NULL;
  t->gw = malloc(init->dim * sizeof(float));
  if (!t->prm.U || !t->prm.V || !t->prm.w || !t->mU || !t->mV || !t->mw || !t->gw ||
      (adam && (!t->vU || !t->vV || !t->vw))) {
    sg__click_cpu_train_free(x, t);
    return sg_err_set(err, SG_OUT_OF_MEMORY, "click_train: out of memory (parameters)");
  }
  *state = t;
  return SG_OK;
}

void sg__click_cpu_train_free(sg_exec *x, void *state) {
  (void)x;
  cpu_train *t = state;
  if (!t) return;
  free(t->prm.U);
  free(t->prm.V);
  free(t->prm.w);
  free(t->mU);
  free(t->vU);
  free(t->mV);
  free(t->vV);
  free(t->mw);
  free(t->vw);
  free(t->g);
  free(t->gU);
  free(t->gV);
  free(t->gw);
  free(t);
}

sg_status sg__click_cpu_train_logits(sg_exec *x, void *state, const uint32_t *users,
                                     const uint32_t *items, size_t n, float *out, sg_err *err) {
  (void)err;
  cpu_train *t = state;
#pragma omp parallel for num_threads(x->threads > 0 ? x->threads : 1)                              \
    schedule(static) if (n * t->prm.dim >= PARALLEL_WORK)
  for (long long j = 0; j < (long long)n; j++)
    out[j] = logit_f(&t->prm, users[j], items[j]);
  return SG_OK;
}

sg_status sg__click_cpu_train_export(sg_exec *x, void *state, float *U, float *V, float *w,
                                     float *b, sg_err *err) {
  (void)x;
  (void)err;
  cpu_train *t = state;
  memcpy(U, t->prm.U, (size_t)t->prm.n_users * t->prm.dim * sizeof(float));
  memcpy(V, t->prm.V, (size_t)t->prm.n_items * t->prm.dim * sizeof(float));
  memcpy(w, t->prm.w, t->prm.dim * sizeof(float));
  *b = t->b;
  return SG_OK;
}
