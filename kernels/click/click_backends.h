/* The click op family's backend slots and the internal objects they share; arguments are
 * validated by kernels/click/click.c and click_train.c, so slots may assume valid input.
 * Host helpers both backends call (placement terms, the linear top-K, top-K finishing, training
 * plans) are declared here and live in click_host.c and click_plan.c. */
#ifndef SG_CLICK_BACKENDS_H
#define SG_CLICK_BACKENDS_H

#include "../common/backend_impl.h"
#include "click.h"

SG_BEGIN_DECLS

struct sg_click_ops;

/* A placed model. Host fields are filled by click.c for every backend; `dev` belongs to the
 * backend that placed it. */
struct sg_click_placed {
  sg_backend *be;
  const struct sg_click_ops *ops; /* whose unplace frees `dev` */
  uint32_t n_users, n_items, dim;
  int interaction;
  const float *U, *V; /* CPU: the placement's host copies (owned through dev); CUDA: NULL */
  float *ub;          /* host, n_users: b + w·U_u (computed in double) */
  float *ib;          /* host, n_items: w·V_i (computed in double) */
  uint32_t *order;    /* host, n_items: item ids by ib descending, id ascending */
  void *dev;          /* backend-owned (CUDA: device copies of U, V, ub, ib) */
};

/* One top-K request: n users (users[j], or first + j when users is NULL), exclusion rows 0..n
 * (ex_off NULL = none; offsets index ex_items directly), results into out rows 0..n. */
typedef struct sg__click_topk_req {
  const uint32_t *users;
  uint32_t first;
  size_t n;
  uint32_t k;
  const uint64_t *ex_off;
  const uint32_t *ex_items;
  sg_click_topk_out out;
} sg__click_topk_req;

static inline uint32_t sg__click_req_user(const sg__click_topk_req *r, size_t j) {
  return r->users ? r->users[j] : r->first + (uint32_t)j;
}

/* What a backend's trainer starts from (host arrays, copied by train_init). */
typedef struct sg__click_train_init {
  uint32_t n_users, n_items, dim;
  int interaction;
  const float *U, *V, *w;
  float b;
  sg_click_optimizer optimizer;
  float lr, l2, momentum, beta1, beta2, eps;
  uint32_t batch_cap; /* the largest minibatch train_batch will get */
} sg__click_train_init;

/* One minibatch, planned on the host (click_plan.c) so every backend sums in the same order:
 * examples 0..n, and the same examples grouped by user and by item (unique ids ascending; within
 * a group, example indices ascending). */
typedef struct sg__click_batch {
  uint32_t n;
  const uint32_t *users, *items; /* n */
  const float *labels;           /* n, 0 or 1 */
  uint32_t n_uu;                 /* unique users */
  const uint32_t *uu;            /* n_uu user ids, ascending */
  const uint32_t *u_off;         /* n_uu + 1: group g is u_ex[u_off[g] .. u_off[g+1]) */
  const uint32_t *u_ex;          /* n example indices grouped by user */
  uint32_t n_ui;                 /* unique items, likewise */
  const uint32_t *ui;
  const uint32_t *i_off;
  const uint32_t *i_ex;
  uint64_t step;  /* 1-based optimizer step (Adam bias correction) */
  float lr_scale; /* this minibatch's learning rate is init.lr × lr_scale (the schedule) */
} sg__click_batch;

typedef struct sg_click_ops {
  /* fills p->dev (CUDA: device copies); p's host fields are already set */
  sg_status (*place)(sg_exec *x, const sg_click_model *m, sg_click_placed *p, sg_err *err);
  void (*unplace)(sg_click_placed *p);
  /* out[j] = P(users[j], items[j]); resident: arrays in the backend's memory, ids unchecked */
  sg_status (*score)(sg_exec *x, const sg_click_placed *p, const uint32_t *users,
                     const uint32_t *items, size_t n, float *out, int resident, sg_err *err);
  sg_status (*topk)(sg_exec *x, const sg_click_placed *p, const sg__click_topk_req *req,
                    sg_err *err);
  /* training: a backend-private state holding parameters and optimizer moments */
  sg_status (*train_init)(sg_exec *x, const sg__click_train_init *init, void **state, sg_err *err);
  sg_status (*train_batch)(sg_exec *x, void *state, const sg__click_batch *batch, sg_err *err);
  /* out[j] = logit of (users[j], items[j]) under the current parameters (host arrays) */
  sg_status (*train_logits)(sg_exec *x, void *state, const uint32_t *users, const uint32_t *items,
                            size_t n, float *out, sg_err *err);
  /* copies the current parameters to host arrays shaped like the model */
  sg_status (*train_export)(sg_exec *x, void *state, float *U, float *V, float *w, float *b,
                            sg_err *err);
  void (*train_free)(sg_exec *x, void *state);
} sg_click_ops;

extern const sg_click_ops sg__click_cpu_ops;
extern const sg_click_ops sg__click_cuda_ops; /* only in builds with CUDA */

/* --- click_host.c: host code shared by the backends ------------------------------------------ */

/* Computes p->ub, p->ib and p->order from m (allocates them). */
sg_status sg__click_host_terms(const sg_click_model *m, sg_click_placed *p, int threads,
                               sg_err *err);
/* OpenMP threads for an exec's share of the cores: exec_threads, or (0) all the process may
 * use (a cuda exec leaves it unset). */
int sg__click_omp_threads(int exec_threads);
/* Top-K when the interaction term is off: every user ranks items by ib, so walk p->order. */
sg_status sg__click_topk_linear(const sg_click_placed *p, const sg__click_topk_req *req,
                                sg_err *err);
/* First id >= limit, named: "users[17]: id 900 >= n_users 800". */
sg_status sg__click_check_ids(const char *field, const uint32_t *ids, size_t n, uint32_t limit,
                              const char *limit_name, sg_err *err);
/* 1 when item is in the ascending list ex[0..n) */
int sg__click_excluded(const uint32_t *ex, uint64_t n, uint32_t item);
/* Writes result row j of req from cnt (partial logit s = logit - ub, item) pairs sorted best
 * first: scores become sigmoid(ub[user] + s); slots past cnt are padded. */
void sg__click_topk_finish(const sg_click_placed *p, const sg__click_topk_req *req, size_t j,
                           const float *s, const uint32_t *ids, uint32_t cnt);

/* --- cpu_train.c: the minibatch gradient (CPU), shared by training and sg_click_gradient ----- */

typedef struct sg__click_params {
  uint32_t n_users, n_items, dim;
  int interaction;
  float *U, *V, *w, *b;
} sg__click_params;

/* Gradient of J over the batch: gU (n_uu × dim, row g for user uu[g]), gV (n_ui × dim), gw (dim),
 * *gb; g (n) scratch receives dJ/dz per example times n. Returns J in *loss when loss != NULL. */
void sg__click_cpu_grad(int threads, const sg__click_params *m, const sg__click_batch *bt, float l2,
                        float *g, float *gU, float *gV, float *gw, float *gb, double *loss);

/* --- cpu_topk.c, cpu_train.c: the CPU backend's slots ------------------------------------ */

sg_status sg__click_cpu_topk(sg_exec *x, const sg_click_placed *p, const sg__click_topk_req *req,
                             sg_err *err);
sg_status sg__click_cpu_train_init(sg_exec *x, const sg__click_train_init *init, void **state,
                                   sg_err *err);
sg_status sg__click_cpu_train_batch(sg_exec *x, void *state, const sg__click_batch *batch,
                                    sg_err *err);
sg_status sg__click_cpu_train_logits(sg_exec *x, void *state, const uint32_t *users,
                                     const uint32_t *items, size_t n, float *out, sg_err *err);
sg_status sg__click_cpu_train_export(sg_exec *x, void *state, float *U, float *V, float *w,
                                     float *b, sg_err *err);
void sg__click_cpu_train_free(sg_exec *x, void *state);

/* --- click_plan.c: minibatch plans ---------------------------------------------------------------
 */

typedef struct sg__click_plan {
  uint32_t cap; /* examples the buffers hold */
  uint32_t *users, *items, *uu, *u_off, *u_ex, *ui, *i_off, *i_ex;
  float *labels;
  uint64_t *keys; /* sort scratch */
  sg__click_batch batch;
} sg__click_plan;

sg_status sg__click_plan_init(sg__click_plan *pl, uint32_t cap, sg_err *err);
void sg__click_plan_free(sg__click_plan *pl);
/* Groups pl->users / pl->items / pl->labels [0, n) into pl->batch. */
void sg__click_plan_group(sg__click_plan *pl, uint32_t n, uint64_t step);

SG_END_DECLS

#endif
