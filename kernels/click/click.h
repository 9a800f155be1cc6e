/* The click model: P(click | user u, item i) = sigmoid(b + w·(U_u + V_i) + U_u·V_i), with user
 * vectors U (n_users × dim), item vectors V (n_items × dim), weights w (dim) and a bias b. With
 * `interaction` off the U_u·V_i term is dropped and the model is exactly the logistic regression
 * sigmoid(w·(u+v) + b). Storage is float32; per-row terms are accumulated in double where they
 * are computed once (placement) and in float with split accumulators in the per-pair dot product.
 *
 * Ops (validated once here, then run on the exec's backend, CPU or CUDA):
 *   - placement: a model copied to where the backend computes (sg_click_place);
 *   - pair scoring: probabilities for (user, item) pairs (sg_click_score);
 *   - top-K per user with exclusions (sg_click_topk), and RecommendAll as a step-able job over
 *     user ranges (sg_click_topk_range): GEMM in tiles + top-K selection, never the full matrix;
 *   - training as begin / step / end (minibatch Adam or SGD with momentum, L2, validation split,
 *     early stopping);
 *   - evaluation helpers on the host: AUC, log loss, precision / recall / NDCG@K.
 *
 * Errors: SG_INVALID_ARGUMENT with a message naming the field and value ("users[17]: id 900 >=
 * n_users 800"), SG_OVERFLOW for sizes that do not fit, SG_OUT_OF_MEMORY / SG_DEVICE_OOM, device
 * errors from the CUDA backend. Thread-safety: an sg_exec is used by one thread at a time; a
 * placed model is read-only and may be used by every exec of its backend at once. */
#ifndef SG_CLICK_H
#define SG_CLICK_H

#include <stddef.h>
#include <stdint.h>

#include "../common/backend.h"

SG_BEGIN_DECLS

#define SG_CLICK_MAX_DIM 1024u               /* largest vector dimension */
#define SG_CLICK_MAX_NEGATIVE_CANDIDATES 64u /* largest cfg.negative_candidates */
#define SG_CLICK_MAX_K 1024u                 /* largest k of a top-K request */
#define SG_CLICK_NO_ITEM UINT32_MAX          /* item id in top-K slots past a user's count */

/* ---------------------------------------------------------------------------------------------
 * Model (host memory) */

typedef struct sg_click_model {
  uint32_t n_users, n_items, dim; /* each >= 1; dim <= SG_CLICK_MAX_DIM */
  float *U;                       /* n_users × dim, row-major, leading dimension dim */
  float *V;                       /* n_items × dim, row-major, leading dimension dim */
  float *w;                       /* dim */
  float b;
  int interaction; /* 1: the U_u·V_i term is on; 0: logistic regression on u + v */
} sg_click_model;

/* Allocates a zeroed model of that shape (U, V, w owned by the model: free with
 * sg_click_model_free). Errors: a zero or too large shape, SG_OVERFLOW, SG_OUT_OF_MEMORY. */
sg_status sg_click_model_alloc(uint32_t n_users, uint32_t n_items, uint32_t dim, int interaction,
                               sg_click_model *m, sg_err *err);
/* Frees U, V and w (as allocated by sg_click_model_alloc or sg_click_train_end) and zeroes *m.
 * NULL or a zeroed model is a no-op. */
void sg_click_model_free(sg_click_model *m);

/* Checks a model: shape (each count >= 1, dim <= SG_CLICK_MAX_DIM, byte sizes fit), non-NULL
 * arrays, every value finite. The first bad value is named: "model: U[130] (user 2, component 2)
 * is nan". */
sg_status sg_click_model_check(const sg_click_model *m, sg_err *err);

/* ---------------------------------------------------------------------------------------------
 * Placement: the model where the backend computes, copied once: CUDA: to device memory, shared
 * by every exec of that backend (all execs are streams on the same device); CPU: to host memory
 * on huge pages (fewer TLB misses in the random row gathers of scoring). The caller's model may
 * be changed or freed afterwards. Both precompute the per-row terms b + w·U_u and w·V_i (in
 * double, stored as float). */

typedef struct sg_click_placed sg_click_placed;

/* Checks m (sg_click_model_check) and places it with exec x's backend. *out is owned by the
 * caller: release it with sg_click_unplace once no op uses it. */
sg_status sg_click_place(sg_exec *x, const sg_click_model *m, sg_click_placed **out, sg_err *err);
/* Releases a placement (device memory on CUDA). NULL is a no-op. No op may still be using it. */
void sg_click_unplace(sg_click_placed *p);
/* The placed model's shape and flags. */
void sg_click_placed_shape(const sg_click_placed *p, uint32_t *n_users, uint32_t *n_items,
                           uint32_t *dim, int *interaction);

/* ---------------------------------------------------------------------------------------------
 * Pair scoring */

/* out[j] = P(click | users[j], items[j]) for j < n, a fused gather-dot-sigmoid. Host arrays,
 * caller-owned. Errors: p placed with another backend than x's; an empty list (n = 0); ids out of
 * range ("items[5]: id 20 >= n_items 20"); NULL arrays. */
sg_status sg_click_score(sg_exec *x, const sg_click_placed *p, const uint32_t *users,
                         const uint32_t *items, size_t n, float *out, sg_err *err);

/* As sg_click_score, with users, items and out in the backend's own memory: device pointers on
 * CUDA (same device, e.g. from cudaMalloc), host pointers on the CPU. For callers that keep
 * batches resident on the device. Ids are range-checked where they live; the first bad one is
 * reported as by sg_click_score, and out is then unspecified. */
sg_status sg_click_score_resident(sg_exec *x, const sg_click_placed *p, const uint32_t *users,
                                  const uint32_t *items, size_t n, float *out, sg_err *err);

/* ---------------------------------------------------------------------------------------------
 * Top-K per user. Ranking is by the logit (b + w·u) + w·v_i + u·v_i, descending; ties go to the
 * lower item id. Excluded items (e.g. already seen) are skipped. A user gets
 * min(k, n_items - |excluded|) items; the rest of its row holds SG_CLICK_NO_ITEM and score 0. */

/* Per-user exclusion lists in CSR form: row r's items are items[offsets[r] .. offsets[r+1]),
 * ascending (duplicates allowed), each < n_items. offsets is non-decreasing. */
typedef struct sg_click_exclude {
  const uint64_t *offsets;
  const uint32_t *items;
} sg_click_exclude;

/* Where top-K results go (host memory, caller-owned), for n users: */
typedef struct sg_click_topk_out {
  uint32_t *items;  /* n × k, row-major: best first */
  float *scores;    /* n × k probabilities (sigmoid of the logit), best first */
  uint32_t *counts; /* n: how many slots of the row are filled */
} sg_click_topk_out;

/* Top-k for the n users users[0..n) (repeats allowed). ex: NULL for none, else one row per listed
 * user (offsets has n + 1 entries). 1 <= k <= SG_CLICK_MAX_K (k > n_items is fine).
 * Errors: k = 0 or too large, n = 0, ids out of range, bad exclusion rows ("exclude row 3:
 * items[7] = 42 after 50 (not ascending)"). */
sg_status sg_click_topk(sg_exec *x, const sg_click_placed *p, const uint32_t *users, size_t n,
                        uint32_t k, const sg_click_exclude *ex, const sg_click_topk_out *out,
                        sg_err *err);

/* RecommendAll, one step: top-k for users user_begin .. user_end-1 (user_begin < user_end <=
 * n_users). ex: NULL or rows indexed by user id over the whole model (offsets has n_users + 1
 * entries); out has (user_end - user_begin) rows. A scheduler walks the users in blocks (one call
 * per block) to report progress between steps. Scratch memory is bounded independently of the
 * number of users. */
sg_status sg_click_topk_range(sg_exec *x, const sg_click_placed *p, uint32_t user_begin,
                              uint32_t user_end, uint32_t k, const sg_click_exclude *ex,
                              const sg_click_topk_out *out, sg_err *err);

/* ---------------------------------------------------------------------------------------------
 * Training. Objective per minibatch B of (user, item, label) examples:
 *   J = (1/|B|) Σ_e [ logloss(z_e, y_e) + (l2/2)(‖U_ue‖² + ‖V_ie‖²) ] + (l2/2)‖w‖²
 * (b is not regularised). Rows not in a minibatch are not touched (lazy Adam / momentum).
 * Randomness (split, negatives, shuffles, initial vectors) comes from the Philox stream of
 * kernels/common/philox.h, drawn on the host: the same for a seed on every backend; a run is
 * deterministic for a seed on one backend (no atomics; fixed reduction orders). */

typedef enum sg_click_optimizer { SG_CLICK_ADAM = 0, SG_CLICK_SGD_MOMENTUM = 1 } sg_click_optimizer;

/* Learning rate over the run: constant, or cosine decay from lr at the first minibatch to 0 after
 * the last planned one (lr_t = lr (1 + cos(pi t / T)) / 2, t = 0..T-1 minibatches of all planned
 * epochs; early stopping does not shorten T). */
typedef enum sg_click_lr_schedule {
  SG_CLICK_LR_CONSTANT = 0,
  SG_CLICK_LR_COSINE = 1
} sg_click_lr_schedule;

/* Training data (host, caller-owned; must stay alive until sg_click_train_end). */
typedef struct sg_click_data {
  uint32_t n_users, n_items; /* the model's shape; ids must be below these */
  size_t n;                  /* rows */
  const uint32_t *users;     /* n */
  const uint32_t *items;     /* n */
  const uint8_t *labels;     /* n labels 0/1 (a click log of impressions), or NULL: every row is an
                                implicit positive and cfg.negatives negatives are sampled for it */
} sg_click_data;

typedef struct sg_click_train_config {
  uint32_t dim;                     /* vector dimension (default 32) */
  int interaction;                  /* default 1 */
  uint32_t epochs;                  /* default 10 */
  uint32_t batch_size;              /* examples per minibatch (default 1024) */
  float lr;                         /* learning rate (default 0.01) */
  sg_click_lr_schedule lr_schedule; /* default SG_CLICK_LR_CONSTANT */
  float l2;                         /* L2 strength (default 1e-4) */
  sg_click_optimizer optimizer;     /* default SG_CLICK_ADAM */
  float momentum;                   /* SGD momentum (default 0.9) */
  float beta1, beta2, eps;          /* Adam (defaults 0.9, 0.999, 1e-8) */
  uint32_t negatives;           /* sampled negatives per positive when labels is NULL (default 4);
                                   must be 0 with labels */
  uint32_t negative_candidates; /* implicit data: each negative is the highest-scoring of this
                                   many uniform draws under the parameters at the epoch's start
                                   (1 = uniform, the default; at most
                                   SG_CLICK_MAX_NEGATIVE_CANDIDATES; must be 1 with labels).
                                   Above 1 the last epoch is kept (not the best by validation
                                   log loss, which uniform validation negatives make misleading)
                                   and patience counts epochs without a new peak of validation
                                   AUC. */
  float valid_fraction;         /* rows held out for validation, [0, 0.9] (default 0.1) */
  uint32_t patience;            /* stop after this many epochs without improvement; 0 = never */
  int stop_on_auc;              /* early-stop (and keep the best model) on AUC, not log loss */
  uint64_t seed;
  float init_std;          /* std of the initial vectors (default 0.1) */
  const float *init_users; /* optional n_users × init_cols initial U (e.g. features) */
  const float *init_items; /* optional n_items × init_cols initial V */
  uint32_t init_cols;      /* columns of init_users / init_items (0: dim); must equal dim
                              (project wider feature matrices to dim columns first) */
} sg_click_train_config;

/* Fills cfg with the defaults above (seed 0, no initial matrices). */
void sg_click_train_config_default(sg_click_train_config *cfg);

typedef struct sg_click_train_progress {
  uint32_t epoch;       /* epochs finished */
  uint32_t epochs;      /* epochs planned */
  uint64_t done, total; /* minibatches done / planned (done = total once finished) */
  double valid_logloss; /* validation log loss after the last finished epoch (NaN: none yet) */
  double valid_auc;     /* validation AUC after the last finished epoch (NaN: none yet) */
  uint32_t best_epoch;  /* 1-based epoch of the kept model (0: none yet or no validation) */
  double best_logloss, best_auc;
  int finished; /* 1 when all epochs ran or early stopping fired */
  int stopped_early;
} sg_click_train_progress;

typedef struct sg_click_trainer sg_click_trainer;

/* Prepares training on exec x (which every later step uses): checks data and cfg, splits off
 * the validation rows, initialises the model (cfg.init_* or Philox normal draws; b at the logit of
 * the base rate) and the optimizer state on the backend. Returns NULL and fills err on failure. */
sg_click_trainer *sg_click_train_begin(sg_exec *x, const sg_click_data *data,
                                       const sg_click_train_config *cfg, sg_err *err);
/* Runs up to max_minibatches minibatches (>= 1), evaluating the validation split at each epoch's
 * end. Fills *progress (may be NULL). Once finished it runs nothing and returns SG_OK. */
sg_status sg_click_train_step(sg_click_trainer *t, uint32_t max_minibatches,
                              sg_click_train_progress *progress, sg_err *err);
/* Current progress without running anything. */
void sg_click_train_progress_get(const sg_click_trainer *t, sg_click_train_progress *progress);
/* Ends training and frees t. When model_out is not NULL it receives the trained model (the best
 * epoch's when a validation split was used, else the last state), owned by the caller (free with
 * sg_click_model_free). model_out NULL cancels. t NULL is a no-op. */
sg_status sg_click_train_end(sg_click_trainer *t, sg_click_model *model_out, sg_err *err);

/* The exact minibatch gradient training uses, on the host (CPU code): J above over the n
 * examples, into dense arrays shaped like the model (gU: n_users × dim, gV, gw: dim, *gb) and *loss
 * = J. labels are floats in [0, 1]. For gradient checks and diagnostics. */
sg_status sg_click_gradient(const sg_click_model *m, const uint32_t *users, const uint32_t *items,
                            const float *labels, size_t n, float l2, float *gU, float *gV,
                            float *gw, float *gb, double *loss, sg_err *err);

/* ---------------------------------------------------------------------------------------------
 * Evaluation (host). */

/* Area under the ROC curve of scores (any monotone score) against labels 0/1, ties counted half
 * (Mann-Whitney). Errors: n = 0, or only one class present. */
sg_status sg_click_auc(const float *scores, const uint8_t *labels, size_t n, double *auc,
                       sg_err *err);
/* Mean log loss of probabilities p (clipped to [1e-7, 1 - 1e-7]) against labels 0/1. */
sg_status sg_click_logloss(const float *p, const uint8_t *labels, size_t n, double *loss,
                           sg_err *err);

typedef struct sg_click_rank_metrics {
  double precision, recall, ndcg; /* means over users with at least one relevant item */
  uint32_t users;                 /* how many users were averaged */
} sg_click_rank_metrics;

/* Precision@k, recall@k and NDCG@k (binary relevance) of n_users top-k lists (rec_items n × k,
 * rec_counts n, as sg_click_topk writes them) against relevant items in CSR form (rel_offsets
 * n + 1, rel_items ascending per row). precision = hits / k; recall = hits / |relevant|;
 * NDCG = DCG / ideal DCG with gains 1 / log2(rank + 1). Users without relevant items are skipped.
 */
sg_status sg_click_rank_eval(const uint32_t *rec_items, const uint32_t *rec_counts, size_t n_users,
                             uint32_t k, const uint64_t *rel_offsets, const uint32_t *rel_items,
                             sg_click_rank_metrics *out, sg_err *err);

SG_END_DECLS

#endif
