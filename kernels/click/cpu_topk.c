/* CPU top-K of the click model: users in blocks (one block per OpenMP thread at a time), items in
 * tiles; each (block × tile) of logits comes from one OpenBLAS sgemm into a per-thread scratch
 * that stays in cache, and a threshold scan feeds a 2k candidate buffer per user. The full score
 * matrix is never materialised: scratch is threads × BU × (TI + dim + 4k) floats whatever the
 * number of users. The linear model (no interaction) uses the shared sorted order instead. */
#include <cblas.h>
#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#endif
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "click_backends.h"
#include "click_core.h"

#define BU_MAX 256u /* users per block */
#define TI 1024u    /* items per tile: a 256 × 1024 float tile (1 MiB) stays in L2 */
#define CHUNK 128u  /* scan width of the threshold prefilter */

/* A user's running top-k: a buffer of up to 2k (logit, item) candidates. Once it is full, a
 * quickselect keeps the k best and their worst becomes the admission threshold; so a candidate
 * costs an append, and a selection of O(k) runs every k candidates (the expected number of
 * candidates over n items is about k ln(n / k)). */
typedef struct topbuf {
  float *s;
  uint32_t *id;
  uint32_t n;
  float thr; /* the k-th best logit after a selection, -inf before */
} topbuf;

static inline int ahead(const topbuf *b, uint32_t x, uint32_t y) {
  return sg__click_before(b->s[x], b->id[x], b->s[y], b->id[y]);
}

static inline void swap_at(topbuf *b, uint32_t x, uint32_t y) {
  float s = b->s[x];
  uint32_t id = b->id[x];
  b->s[x] = b->s[y];
  b->id[x] = b->id[y];
  b->s[y] = s;
  b->id[y] = id;
}

/* Lomuto partition of [lo, hi) around its middle entry; returns the pivot's final index, with
 * every entry ahead of it before it. (logit, item) keys are distinct: items are unique. Branch
 * free: every entry is swapped with the boundary and the boundary moves when it was ahead (the
 * comparisons are unpredictable, so this beats a branch on them). */
static uint32_t partition(topbuf *b, uint32_t lo, uint32_t hi) {
  swap_at(b, lo + (hi - lo) / 2, hi - 1);
  float ps = b->s[hi - 1];
  uint32_t pid = b->id[hi - 1], store = lo;
  for (uint32_t i = lo; i < hi - 1; i++) {
    float si = b->s[i];
    uint32_t di = b->id[i];
    uint32_t t = (uint32_t)(si > ps) | ((uint32_t)(si == ps) & (uint32_t)(di < pid));
    b->s[i] = b->s[store];
    b->id[i] = b->id[store];
    b->s[store] = si;
    b->id[store] = di;
    store += t;
  }
  swap_at(b, store, hi - 1);
  return store;
}

/* Moves the k best of the n > k entries to [0, k) (in no order). */
static void select_k(topbuf *b, uint32_t k) {
  uint32_t lo = 0, hi = b->n;
  while (hi - lo > 1) {
    uint32_t p = partition(b, lo, hi);
    if (p + 1 == k) break;
    if (p + 1 > k) {
      hi = p;
    } else {
      lo = p + 1;
    }
  }
  b->n = k;
}

/* Keeps the k best and sets the threshold to the worst of them. */
static void shrink(topbuf *b, uint32_t k) {
  select_k(b, k);
  uint32_t worst = 0;
  for (uint32_t i = 1; i < k; i++) {
    if (ahead(b, worst, i)) worst = i;
  }
  b->thr = b->s[worst];
}

static void sort_range(topbuf *b, uint32_t lo, uint32_t hi) {
  while (hi - lo > 1) {
    uint32_t p = partition(b, lo, hi);
    sort_range(b, lo, p); /* recursion on one side, loop on the other */
    lo = p + 1;
  }
}

/* The final list: the best min(n, k), best first. */
static void finish_buf(topbuf *b, uint32_t k) {
  if (b->n > k) select_k(b, k);
  sort_range(b, 0, b->n);
}

/* Per-user exclusion list of one block row */
typedef struct excl {
  const uint32_t *items;
  uint64_t n;
} excl;

/* Items arrive in ascending id order, so a newcomer equal to the threshold (the worst kept, with
 * a lower id) never beats it: strictly greater is the exact test. */
static inline void offer(topbuf *b, uint32_t k, const excl *ex, float s, uint32_t item) {
  if (!(s > b->thr)) return;
  if (ex->n && sg__click_excluded(ex->items, ex->n, item)) return;
  b->s[b->n] = s;
  b->id[b->n++] = item;
  if (b->n == 2 * k) shrink(b, k);
}

/* Scans one row of a logit tile: s = srow[j] + ib[j] for items t0 + j. Chunks with no value
 * above the threshold are skipped whole (the common case once k candidates were seen); in the
 * others only the lanes above it are offered. */
static void scan_row_generic(const float *srow, const float *ib, uint32_t tn, uint32_t t0,
                             topbuf *b, uint32_t k, const excl *ex) {
  size_t j = 0;
  for (; j + CHUNK <= tn; j += CHUNK) {
    const float *a = srow + j, *c = ib + j;
    float thr = b->thr;
    int hit = 0;
    for (size_t q = 0; q < CHUNK; q++)
      hit |= a[q] + c[q] > thr;
    if (!hit) continue;
    for (size_t q = 0; q < CHUNK; q++)
      offer(b, k, ex, a[q] + c[q], t0 + (uint32_t)(j + q));
  }
  for (; j < tn; j++)
    offer(b, k, ex, srow[j] + ib[j], t0 + (uint32_t)j);
}

/* The same with AVX2 compares and lane masks (picked at run time; the build targets baseline
 * x86-64, and GCC does not vectorise the generic test without -ffast-math). */
#if defined(__GNUC__) && defined(__x86_64__)
#define SG_TOPK_AVX2 1
__attribute__((target("avx2"))) static void scan_row_avx2(const float *srow, const float *ib,
                                                          uint32_t tn, uint32_t t0, topbuf *b,
                                                          uint32_t k, const excl *ex) {
  size_t j = 0;
  for (; j + CHUNK <= tn; j += CHUNK) {
    const float *a = srow + j, *c = ib + j;
    __m256 thr = _mm256_set1_ps(b->thr), hit = _mm256_setzero_ps();
    for (size_t q = 0; q < CHUNK; q += 8) {
      __m256 v = _mm256_add_ps(_mm256_loadu_ps(a + q), _mm256_loadu_ps(c + q));
      hit = _mm256_or_ps(hit, _mm256_cmp_ps(v, thr, _CMP_GT_OQ));
    }
    if (!_mm256_movemask_ps(hit)) continue;
    for (size_t q = 0; q < CHUNK; q += 8) {
      __m256 v = _mm256_add_ps(_mm256_loadu_ps(a + q), _mm256_loadu_ps(c + q));
      unsigned m = (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(v, _mm256_set1_ps(b->thr), _CMP_GT_OQ));
      for (; m; m &= m - 1) {
        unsigned l = (unsigned)__builtin_ctz(m);
        offer(b, k, ex, a[q + l] + c[q + l], t0 + (uint32_t)(j + q + l));
      }
    }
  }
  for (; j < tn; j++)
    offer(b, k, ex, srow[j] + ib[j], t0 + (uint32_t)j);
}
#endif

static void scan_row(const float *srow, const float *ib, uint32_t tn, uint32_t t0, topbuf *b,
                     uint32_t k, const excl *ex) {
#ifdef SG_TOPK_AVX2
  static atomic_int avx2 = -1; /* every thread computes the same value */
  int have = atomic_load_explicit(&avx2, memory_order_relaxed);
  if (have < 0) {
    have = __builtin_cpu_supports("avx2") ? 1 : 0;
    atomic_store_explicit(&avx2, have, memory_order_relaxed);
  }
  if (have) {
    scan_row_avx2(srow, ib, tn, t0, b, k, ex);
    return;
  }
#endif
  scan_row_generic(srow, ib, tn, t0, b, k, ex);
}

/* Per-thread scratch */
typedef struct work {
  float *A;  /* bu × dim gathered user rows */
  float *S;  /* bu × TI logits */
  float *hs; /* bu × 2k candidate logits */
  uint32_t *hid;
  topbuf *bufs; /* bu */
  excl *ex;     /* bu */
} work;

static void work_free(work *w) {
  free(w->A);
  free(w->S);
  free(w->hs);
  free(w->hid);
  free(w->bufs);
  free(w->ex);
}

static int work_alloc(work *w, uint32_t bu, uint32_t dim, uint32_t k, uint32_t n_items) {
  uint32_t ti = n_items < TI ? n_items : TI;
  w->A = malloc((size_t)bu * dim * sizeof(float));
  w->S = malloc((size_t)bu * ti * sizeof(float));
  w->hs = malloc((size_t)bu * 2 * k * sizeof(float));
  w->hid = malloc((size_t)bu * 2 * k * sizeof(uint32_t));
  w->bufs = malloc((size_t)bu * sizeof(topbuf));
  w->ex = malloc((size_t)bu * sizeof(excl));
  return w->A && w->S && w->hs && w->hid && w->bufs && w->ex;
}

/* Top-k of rows [j0, j0 + rows) of the request. */
static void block_topk(const sg_click_placed *p, const sg__click_topk_req *req, size_t j0,
                       uint32_t rows, work *w) {
  uint32_t dim = p->dim, k = req->k;
  const float *A = p->U + (size_t)req->first * dim + j0 * dim;
  if (req->users) {
    for (uint32_t r = 0; r < rows; r++) {
      const float *src = p->U + (size_t)req->users[j0 + r] * dim;
      for (uint32_t c = 0; c < dim; c++)
        w->A[(size_t)r * dim + c] = src[c];
    }
    A = w->A;
  }
  for (uint32_t r = 0; r < rows; r++) {
    w->bufs[r] = (topbuf){w->hs + (size_t)r * 2 * k, w->hid + (size_t)r * 2 * k, 0, -INFINITY};
    w->ex[r] = (excl){NULL, 0};
    if (req->ex_off) {
      w->ex[r].items = req->ex_items + req->ex_off[j0 + r];
      w->ex[r].n = req->ex_off[j0 + r + 1] - req->ex_off[j0 + r];
    }
  }
  for (uint32_t t0 = 0; t0 < p->n_items; t0 += TI) {
    uint32_t tn = p->n_items - t0 < TI ? p->n_items - t0 : TI;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows, (int)tn, (int)dim, 1.0f, A,
                (int)dim, p->V + (size_t)t0 * dim, (int)dim, 0.0f, w->S, (int)tn);
    for (uint32_t r = 0; r < rows; r++) {
      scan_row(w->S + (size_t)r * tn, p->ib + t0, tn, t0, &w->bufs[r], k, &w->ex[r]);
    }
  }
  for (uint32_t r = 0; r < rows; r++) {
    finish_buf(&w->bufs[r], k);
    sg__click_topk_finish(p, req, j0 + r, w->bufs[r].s, w->bufs[r].id, w->bufs[r].n);
  }
}

/* OpenBLAS built with pthreads runs its own thread pool. Called from inside our OpenMP region,
 * every call would wake that pool too and the two pools would fight over the cores (measured 3×
 * slower on 2 cores), so BLAS runs single-threaded and OpenMP parallelises over user blocks.
 * This is process-wide; the CPU backend runs all of its BLAS calls that way. */
static void blas_single_threaded(void) {
#if defined(OPENBLAS_THREAD)
  if (openblas_get_parallel() == OPENBLAS_THREAD && openblas_get_num_threads() != 1) {
    openblas_set_num_threads(1);
  }
#endif
}

sg_status sg__click_cpu_topk(sg_exec *x, const sg_click_placed *p, const sg__click_topk_req *req,
                             sg_err *err) {
  if (!p->interaction) return sg__click_topk_linear(p, req, err);
  int threads = x->threads > 0 ? x->threads : 1;
  size_t per = (req->n + (size_t)threads - 1) / (size_t)threads;
  uint32_t bu = per < 16 ? 16 : per > BU_MAX ? BU_MAX : (uint32_t)per;
  if (bu > req->n) bu = (uint32_t)req->n;
  long long nblocks = (long long)((req->n + bu - 1) / bu);
  int failed = 0;
  blas_single_threaded();
#pragma omp parallel num_threads(threads) if (nblocks > 1)
  {
    work w = {0};
    int ok = work_alloc(&w, bu, p->dim, req->k, p->n_items);
    if (!ok) {
#pragma omp atomic write
      failed = 1;
    }
#pragma omp for schedule(dynamic, 1)
    for (long long b = 0; b < nblocks; b++) {
      if (!ok) continue;
      size_t j0 = (size_t)b * bu;
      uint32_t rows = req->n - j0 < bu ? (uint32_t)(req->n - j0) : bu;
      block_topk(p, req, j0, rows, &w);
    }
    work_free(&w);
  }
  if (failed) return sg_err_set(err, SG_OUT_OF_MEMORY, "click_topk: out of memory (scratch)");
  return SG_OK;
}
