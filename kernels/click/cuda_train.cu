// CUDA training of the click model. Parameters and optimizer moments stay on the device; each
// minibatch's plan (examples, and the same examples grouped by user and by item, built on the
// host) is copied up through a pinned double buffer, then: dJ/dz per example (a warp each), each
// touched row's gradient summed over its group in plan order (a warp per row), w and b through
// fixed-size chunks summed in order, and the lazy Adam / SGD-momentum update of the touched rows.
// No atomics anywhere, so a seed gives the same model on every run.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "click_core.h"
#include "cuda_click.h"

#define WB_CHUNK 1024u // examples per partial sum of the w / b gradient

typedef struct dev_batch { // pointers into a device copy of the packed plan
  const uint32_t *users, *items, *uu, *u_off, *u_ex, *ui, *i_off, *i_ex;
  const float *labels;
} dev_batch;

typedef struct cuda_train {
  sg__click_train_init cfg;
  float *U, *V, *w, *sc; // sc: (4) b, and b's two moments
  float *mU, *vU, *mV, *vV, *mw, *vw;
  float *g, *gU, *gV, *gw; // (cap), (cap × dim) twice, (dim + 1): gw[dim] is the b gradient
  float *part;             // (chunks × (dim + 1)) partial sums of the w / b gradient
  uint32_t *plan_dev;      // packed plan (plan_words)
  uint32_t *stage[2];      // pinned host copies of the packed plan
  cudaEvent_t staged[2];   // the copy out of stage[i] is done
  int next;
  uint32_t cap, plan_words;
} cuda_train;

// ---- kernels ----------------------------------------------------------------------------------

static __device__ __forceinline__ float warp_sum(float v) { return sg__click_group_sum(v, 32); }

// b + w·(u + v) + [inter] u·v for one (user, item), by one warp (every lane gets the sum)
static __device__ float logit_warp(const float *U, const float *V, const float *w, float b,
                                   uint32_t dim, int inter, uint32_t user, uint32_t item,
                                   int lane) {
  const float *u = U + (size_t)user * dim, *v = V + (size_t)item * dim;
  float acc = 0.0f;
  for (uint32_t c = lane; c < dim; c += 32) {
    acc += w[c] * (u[c] + v[c]);
    if (inter) acc += u[c] * v[c];
  }
  return b + warp_sum(acc);
}

// out (n): logits of (users[j], items[j]); U (n_users × dim), V (n_items × dim), w (dim), sc[0]=b
static __global__ void logits_kernel(const float *U, const float *V, const float *w,
                                     const float *sc, uint32_t dim, int inter,
                                     const uint32_t *users, const uint32_t *items, size_t n,
                                     float *out) {
  const size_t warp = (blockIdx.x * (size_t)blockDim.x + threadIdx.x) / 32;
  const size_t warps = gridDim.x * (size_t)blockDim.x / 32;
  const int lane = threadIdx.x % 32;
  for (size_t j = warp; j < n; j += warps) {
    float z = logit_warp(U, V, w, sc[0], dim, inter, users[j], items[j], lane);
    if (lane == 0) out[j] = z;
  }
}

// g (n): sigmoid(z_e) - y_e for the batch's examples
static __global__ void dlogit_kernel(const float *U, const float *V, const float *w,
                                     const float *sc, uint32_t dim, int inter, dev_batch b,
                                     uint32_t n, float *g) {
  const uint32_t e = (blockIdx.x * blockDim.x + threadIdx.x) / 32;
  const int lane = threadIdx.x % 32;
  if (e >= n) return; // warp-uniform
  float z = logit_warp(U, V, w, sc[0], dim, inter, b.users[e], b.items[e], lane);
  if (lane == 0) g[e] = sg__click_sigmoid(z) - b.labels[e];
}

// One warp per group r (n_groups): grow (n_groups × dim) row r =
//   scale · (Σ_{e in group, ascending} g[e] · (w + [inter] other[oid[e]]) + l2 · |group| · self)
// ids: (n_groups) the group's row; off: (n_groups + 1); ex: example indices; oid: (n) other ids
static __global__ void row_grad_kernel(const float *self, const float *other, const float *w,
                                       uint32_t dim, int inter, const uint32_t *ids,
                                       const uint32_t *off, const uint32_t *ex, const uint32_t *oid,
                                       uint32_t n_groups, const float *g, float scale, float l2,
                                       float *grow) {
  const uint32_t r = (blockIdx.x * blockDim.x + threadIdx.x) / 32;
  const int lane = threadIdx.x % 32;
  if (r >= n_groups) return;
  const float *me = self + (size_t)ids[r] * dim;
  uint32_t lo = off[r], hi = off[r + 1];
  for (uint32_t c = lane; c < dim; c += 32) {
    float acc = 0.0f;
    for (uint32_t t = lo; t < hi; t++) {
      uint32_t e = ex[t];
      acc += g[e] * (inter ? w[c] + other[(size_t)oid[e] * dim + c] : w[c]);
    }
    grow[(size_t)r * dim + c] = scale * (acc + l2 * (float)(hi - lo) * me[c]);
  }
}

// Block q sums examples [q·WB_CHUNK, ...) in order: part[q·(dim+1) + c] = Σ g_e (u_e + v_e)[c],
// part[q·(dim+1) + dim] = Σ g_e.
static __global__ void wb_partial_kernel(const float *U, const float *V, uint32_t dim, dev_batch b,
                                         uint32_t n, const float *g, float *part) {
  uint32_t lo = blockIdx.x * WB_CHUNK, hi = min(n, lo + WB_CHUNK);
  float *out = part + (size_t)blockIdx.x * (dim + 1);
  for (uint32_t c = threadIdx.x; c <= dim; c += blockDim.x) {
    float acc = 0.0f;
    for (uint32_t e = lo; e < hi; e++) {
      acc += c == dim ? g[e]
                      : g[e] * (U[(size_t)b.users[e] * dim + c] + V[(size_t)b.items[e] * dim + c]);
    }
    out[c] = acc;
  }
}

// gw (dim) = scale · Σ_q part + l2 · w; gw[dim] = scale · Σ_q part[..dim] (the b gradient)
static __global__ void wb_final_kernel(const float *part, uint32_t chunks, uint32_t dim,
                                       const float *w, float scale, float l2, float *gw) {
  for (uint32_t c = threadIdx.x; c <= dim; c += blockDim.x) {
    float acc = 0.0f;
    for (uint32_t q = 0; q < chunks; q++)
      acc += part[(size_t)q * (dim + 1) + c];
    gw[c] = c == dim ? scale * acc : scale * acc + l2 * w[c];
  }
}

typedef struct step_consts {
  float lr, b1, b2, eps, bc1, bc2, mu;
  int adam;
} step_consts;

static __device__ __forceinline__ void update(const step_consts k, float *th, float *m, float *v,
                                              float g) {
  if (k.adam) {
    sg__click_adam(th, m, v, g, k.lr, k.b1, k.b2, k.eps, k.bc1, k.bc2);
  } else {
    sg__click_sgdm(th, m, g, k.lr, k.mu);
  }
}

// One warp per touched row r: theta[ids[r]] -= step(grow[r]); v may be NULL (SGD)
static __global__ void apply_rows_kernel(float *theta, float *m, float *v, const uint32_t *ids,
                                         uint32_t n_rows, uint32_t dim, const float *grow,
                                         step_consts k) {
  const uint32_t r = (blockIdx.x * blockDim.x + threadIdx.x) / 32;
  const int lane = threadIdx.x % 32;
  if (r >= n_rows) return;
  size_t o = (size_t)ids[r] * dim;
  for (uint32_t c = lane; c < dim; c += 32) {
    float vv = 0.0f;
    update(k, &theta[o + c], &m[o + c], v ? &v[o + c] : &vv, grow[(size_t)r * dim + c]);
  }
}

// w (dim) and b (sc[0], moments sc[1], sc[2]) from gw (dim + 1)
static __global__ void apply_dense_kernel(float *w, float *mw, float *vw, float *sc, uint32_t dim,
                                          const float *gw, step_consts k) {
  for (uint32_t c = threadIdx.x; c <= dim; c += blockDim.x) {
    float vv = 0.0f;
    if (c < dim) {
      update(k, &w[c], &mw[c], vw ? &vw[c] : &vv, gw[c]);
    } else {
      update(k, &sc[0], &sc[1], &sc[2], gw[dim]);
    }
  }
}

// ---- state ------------------------------------------------------------------------------------

// users, items, labels, u_ex, i_ex (5 cap) + uu, ui (<= cap each) + u_off, i_off (<= cap + 1 each)
static uint32_t plan_words(uint32_t cap) { return 9 * cap + 2; }

void sg__click_cuda_train_free(sg_exec *x, void *state) {
  cuda_train *t = (cuda_train *)state;
  if (!t) return;
  cudaSetDevice(sg__cuda_exec(x)->device);
  cudaStreamSynchronize(sg__cuda_exec(x)->stream);
  float *dev[] = {t->U,  t->V,  t->w, t->sc, t->mU, t->vU, t->mV,  t->vV,
                  t->mw, t->vw, t->g, t->gU, t->gV, t->gw, t->part};
  for (size_t i = 0; i < sizeof dev / sizeof dev[0]; i++)
    sg__cuda_free(x, dev[i]);
  sg__cuda_free(x, t->plan_dev);
  for (int i = 0; i < 2; i++) {
    if (t->stage[i]) cudaFreeHost(t->stage[i]);
    if (t->staged[i]) cudaEventDestroy(t->staged[i]);
  }
  free(t);
}

// From the worker's stream-ordered pool (a job's steps stay on one worker, so on one stream),
// zeroed on that stream.
static sg_status dev_alloc(sg_exec *x, float **p, size_t n, sg_err *err) {
  void *d = NULL;
  SG_TRY(sg__cuda_alloc(x, (n ? n : 1) * sizeof(float), &d, err));
  *p = (float *)d;
  return SG_CUDA_CHECK(cudaMemsetAsync(d, 0, (n ? n : 1) * sizeof(float), sg__cuda_exec(x)->stream),
                       err);
}

static sg_status alloc_state(sg_exec *x, cuda_train *t, sg_err *err) {
  size_t nu = (size_t)t->cfg.n_users * t->cfg.dim, ni = (size_t)t->cfg.n_items * t->cfg.dim;
  size_t dim = t->cfg.dim, cap = t->cap, chunks = (cap + WB_CHUNK - 1) / WB_CHUNK;
  int adam = t->cfg.optimizer == SG_CLICK_ADAM;
  SG_TRY(dev_alloc(x, &t->U, nu, err));
  SG_TRY(dev_alloc(x, &t->V, ni, err));
  SG_TRY(dev_alloc(x, &t->w, dim, err));
  SG_TRY(dev_alloc(x, &t->sc, 4, err));
  SG_TRY(dev_alloc(x, &t->mU, nu, err));
  SG_TRY(dev_alloc(x, &t->mV, ni, err));
  SG_TRY(dev_alloc(x, &t->mw, dim, err));
  if (adam) {
    SG_TRY(dev_alloc(x, &t->vU, nu, err));
    SG_TRY(dev_alloc(x, &t->vV, ni, err));
    SG_TRY(dev_alloc(x, &t->vw, dim, err));
  }
  SG_TRY(dev_alloc(x, &t->g, cap, err));
  SG_TRY(dev_alloc(x, &t->gU, cap * dim, err));
  SG_TRY(dev_alloc(x, &t->gV, cap * dim, err));
  SG_TRY(dev_alloc(x, &t->gw, dim + 1, err));
  SG_TRY(dev_alloc(x, &t->part, chunks * (dim + 1), err));
  void *plan = NULL;
  SG_TRY(sg__cuda_alloc(x, t->plan_words * 4ul, &plan, err));
  t->plan_dev = (uint32_t *)plan;
  for (int i = 0; i < 2; i++) {
    SG_TRY(SG_CUDA_CHECK(cudaMallocHost((void **)&t->stage[i], t->plan_words * 4ul), err));
    SG_TRY(SG_CUDA_CHECK(cudaEventCreateWithFlags(&t->staged[i], cudaEventDisableTiming), err));
  }
  return SG_OK;
}

static sg_status upload_params(cuda_train *t, cudaStream_t s, sg_err *err) {
  const sg__click_train_init *c = &t->cfg;
  float sc[4] = {c->b, 0.0f, 0.0f, 0.0f};
  SG_TRY(SG_CUDA_CHECK(
      cudaMemcpyAsync(t->U, c->U, (size_t)c->n_users * c->dim * 4, cudaMemcpyHostToDevice, s),
      err));
  SG_TRY(SG_CUDA_CHECK(
      cudaMemcpyAsync(t->V, c->V, (size_t)c->n_items * c->dim * 4, cudaMemcpyHostToDevice, s),
      err));
  SG_TRY(SG_CUDA_CHECK(cudaMemcpyAsync(t->w, c->w, c->dim * 4ul, cudaMemcpyHostToDevice, s), err));
  SG_TRY(SG_CUDA_CHECK(cudaMemcpyAsync(t->sc, sc, sizeof sc, cudaMemcpyHostToDevice, s), err));
  return SG_CUDA_CHECK(cudaStreamSynchronize(s), err);
}

sg_status sg__click_cuda_train_init(sg_exec *x, const sg__click_train_init *init, void **state,
                                    sg_err *err) {
  SG_TRY(SG_CUDA_CHECK(cudaSetDevice(sg__cuda_exec(x)->device), err));
  cuda_train *t = (cuda_train *)calloc(1, sizeof *t);
  if (!t) return sg_err_set(err, SG_OUT_OF_MEMORY, "click_train: out of memory");
  t->cfg = *init; // its host arrays are read here only
  t->cap = init->batch_cap;
  t->plan_words = plan_words(t->cap);
  sg_status st = alloc_state(x, t, err);
  if (st == SG_OK) st = upload_params(t, sg__cuda_exec(x)->stream, err);
  t->cfg.U = t->cfg.V = t->cfg.w = NULL;
  if (st != SG_OK) {
    sg__click_cuda_train_free(x, t);
    return st;
  }
  *state = t;
  return SG_OK;
}

// ---- minibatch --------------------------------------------------------------------------------

static uint32_t *put(uint32_t *dst, const void *src, uint32_t words) {
  memcpy(dst, src, words * 4ul);
  return dst + words;
}

// Packs the plan into the next pinned stage buffer, copies it up and points b into the copy.
static sg_status upload_plan(cuda_train *t, cudaStream_t s, const sg__click_batch *bt, dev_batch *b,
                             sg_err *err) {
  uint32_t n = bt->n, *stage = t->stage[t->next];
  SG_TRY(SG_CUDA_CHECK(cudaEventSynchronize(t->staged[t->next]), err));
  uint32_t *q = stage;
  q = put(q, bt->users, n);
  q = put(q, bt->items, n);
  q = put(q, bt->labels, n);
  q = put(q, bt->uu, bt->n_uu);
  q = put(q, bt->u_off, bt->n_uu + 1);
  q = put(q, bt->u_ex, n);
  q = put(q, bt->ui, bt->n_ui);
  q = put(q, bt->i_off, bt->n_ui + 1);
  q = put(q, bt->i_ex, n);
  size_t words = (size_t)(q - stage);
  SG_TRY(SG_CUDA_CHECK(cudaMemcpyAsync(t->plan_dev, stage, words * 4, cudaMemcpyHostToDevice, s),
                       err));
  SG_TRY(SG_CUDA_CHECK(cudaEventRecord(t->staged[t->next], s), err));
  t->next ^= 1;
  const uint32_t *d = t->plan_dev;
  b->users = d;
  b->items = d + n;
  b->labels = reinterpret_cast<const float *>(d + 2 * n);
  b->uu = d + 3 * n;
  b->u_off = b->uu + bt->n_uu;
  b->u_ex = b->u_off + bt->n_uu + 1;
  b->ui = b->u_ex + n;
  b->i_off = b->ui + bt->n_ui;
  b->i_ex = b->i_off + bt->n_ui + 1;
  return SG_OK;
}

static step_consts consts_for(const sg__click_train_init *c, const sg__click_batch *bt) {
  step_consts k = {c->lr, c->beta1, c->beta2,    c->eps,
                   1.0f,  1.0f,     c->momentum, c->optimizer == SG_CLICK_ADAM};
  k.lr *= bt->lr_scale;
  k.bc1 = (float)(1.0 - pow((double)c->beta1, (double)bt->step));
  k.bc2 = (float)(1.0 - pow((double)c->beta2, (double)bt->step));
  return k;
}

static unsigned warp_grid(uint32_t warps) { return (warps + 7) / 8; } // 8 warps per block

static sg_status gradients(cuda_train *t, cudaStream_t s, const sg__click_batch *bt,
                           const dev_batch *b, sg_err *err) {
  const sg__click_train_init *c = &t->cfg;
  uint32_t n = bt->n, dim = c->dim, chunks = (n + WB_CHUNK - 1) / WB_CHUNK;
  float scale = 1.0f / (float)n;
  dlogit_kernel<<<warp_grid(n), 256, 0, s>>>(t->U, t->V, t->w, t->sc, dim, c->interaction, *b, n,
                                             t->g);
  SG_TRY(SG_CUDA_CHECK_LAUNCH(err));
  row_grad_kernel<<<warp_grid(bt->n_uu), 256, 0, s>>>(t->U, t->V, t->w, dim, c->interaction, b->uu,
                                                      b->u_off, b->u_ex, b->items, bt->n_uu, t->g,
                                                      scale, c->l2, t->gU);
  SG_TRY(SG_CUDA_CHECK_LAUNCH(err));
  row_grad_kernel<<<warp_grid(bt->n_ui), 256, 0, s>>>(t->V, t->U, t->w, dim, c->interaction, b->ui,
                                                      b->i_off, b->i_ex, b->users, bt->n_ui, t->g,
                                                      scale, c->l2, t->gV);
  SG_TRY(SG_CUDA_CHECK_LAUNCH(err));
  wb_partial_kernel<<<chunks, 128, 0, s>>>(t->U, t->V, dim, *b, n, t->g, t->part);
  SG_TRY(SG_CUDA_CHECK_LAUNCH(err));
  wb_final_kernel<<<1, 256, 0, s>>>(t->part, chunks, dim, t->w, scale, c->l2, t->gw);
  return SG_CUDA_CHECK_LAUNCH(err);
}

sg_status sg__click_cuda_train_batch(sg_exec *x, void *state, const sg__click_batch *bt,
                                     sg_err *err) {
  cuda_train *t = (cuda_train *)state;
  cudaStream_t s = sg__cuda_exec(x)->stream;
  if (bt->n > t->cap) {
    return sg_err_set(err, SG_INTERNAL, "click_train: batch of %u > capacity %u", bt->n, t->cap);
  }
  SG_TRY(SG_CUDA_CHECK(cudaSetDevice(sg__cuda_exec(x)->device), err));
  dev_batch b;
  SG_TRY(upload_plan(t, s, bt, &b, err));
  SG_TRY(gradients(t, s, bt, &b, err));
  step_consts k = consts_for(&t->cfg, bt);
  uint32_t dim = t->cfg.dim;
  apply_rows_kernel<<<warp_grid(bt->n_uu), 256, 0, s>>>(t->U, t->mU, t->vU, b.uu, bt->n_uu, dim,
                                                        t->gU, k);
  SG_TRY(SG_CUDA_CHECK_LAUNCH(err));
  apply_rows_kernel<<<warp_grid(bt->n_ui), 256, 0, s>>>(t->V, t->mV, t->vV, b.ui, bt->n_ui, dim,
                                                        t->gV, k);
  SG_TRY(SG_CUDA_CHECK_LAUNCH(err));
  apply_dense_kernel<<<1, 256, 0, s>>>(t->w, t->mw, t->vw, t->sc, dim, t->gw, k);
  return SG_CUDA_CHECK_LAUNCH(err);
}

// ---- validation and export --------------------------------------------------------------------

sg_status sg__click_cuda_train_logits(sg_exec *x, void *state, const uint32_t *users,
                                      const uint32_t *items, size_t n, float *out, sg_err *err) {
  cuda_train *t = (cuda_train *)state;
  cudaStream_t s = sg__cuda_exec(x)->stream;
  SG_TRY(SG_CUDA_CHECK(cudaSetDevice(sg__cuda_exec(x)->device), err));
  const size_t chunk = (size_t)1 << 22;
  size_t m = n < chunk ? n : chunk;
  void *buf;
  SG_TRY(sg__cuda_scratch(x, m * 12 + 16, &buf, err));
  uint32_t *du = (uint32_t *)buf, *di = du + m;
  float *dz = (float *)(di + m);
  for (size_t off = 0; off < n; off += m) {
    size_t len = n - off < m ? n - off : m;
    SG_TRY(
        SG_CUDA_CHECK(cudaMemcpyAsync(du, users + off, len * 4, cudaMemcpyHostToDevice, s), err));
    SG_TRY(
        SG_CUDA_CHECK(cudaMemcpyAsync(di, items + off, len * 4, cudaMemcpyHostToDevice, s), err));
    logits_kernel<<<sg__click_blocks(len * 32, 256, 8192), 256, 0, s>>>(
        t->U, t->V, t->w, t->sc, t->cfg.dim, t->cfg.interaction, du, di, len, dz);
    SG_TRY(SG_CUDA_CHECK_LAUNCH(err));
    SG_TRY(SG_CUDA_CHECK(cudaMemcpyAsync(out + off, dz, len * 4, cudaMemcpyDeviceToHost, s), err));
  }
  return sg__cuda_sync(x, err);
}

sg_status sg__click_cuda_train_export(sg_exec *x, void *state, float *U, float *V, float *w,
                                      float *b, sg_err *err) {
  cuda_train *t = (cuda_train *)state;
  cudaStream_t s = sg__cuda_exec(x)->stream;
  const sg__click_train_init *c = &t->cfg;
  SG_TRY(SG_CUDA_CHECK(cudaSetDevice(sg__cuda_exec(x)->device), err));
  SG_TRY(SG_CUDA_CHECK(
      cudaMemcpyAsync(U, t->U, (size_t)c->n_users * c->dim * 4, cudaMemcpyDeviceToHost, s), err));
  SG_TRY(SG_CUDA_CHECK(
      cudaMemcpyAsync(V, t->V, (size_t)c->n_items * c->dim * 4, cudaMemcpyDeviceToHost, s), err));
  SG_TRY(SG_CUDA_CHECK(cudaMemcpyAsync(w, t->w, c->dim * 4ul, cudaMemcpyDeviceToHost, s), err));
  SG_TRY(SG_CUDA_CHECK(cudaMemcpyAsync(b, t->sc, 4, cudaMemcpyDeviceToHost, s), err));
  return sg__cuda_sync(x, err);
}
