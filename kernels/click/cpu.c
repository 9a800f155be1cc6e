/* CPU backend of the click op family (the reference the CUDA backend must agree with):
 * placement (the host arrays are referenced, not copied), pair scoring (OpenMP over pairs, a
 * split-accumulator dot product) and the slot table. Top-K is in cpu_topk.c, training in
 * cpu_train.c. */
#include "click_backends.h"
#include "click_core.h"

static sg_status place_cpu(sg_exec *x, const sg_click_model *m, sg_click_placed *p, sg_err *err) {
  (void)x;
  (void)err;
  p->U = m->U;
  p->V = m->V;
  return SG_OK;
}

static void unplace_cpu(sg_click_placed *p) { (void)p; }

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define HOT_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define HOT_CLONES
#endif

#define BLOCK 1024 /* pairs per OpenMP work item */
#define AHEAD 16   /* pairs prefetched ahead: rows are random, memory-level parallelism matters */

static inline void prefetch_row(const float *row, uint32_t dim) {
  for (uint32_t c = 0; c < dim; c += 16)
    __builtin_prefetch(row + c);
}

/* Pairs [lo, hi): gather the two rows, u·v in float with the vector lanes as independent
 * partial sums, fused sigmoid. */
HOT_CLONES static void score_block(const sg_click_placed *p, const uint32_t *users,
                                   const uint32_t *items, size_t lo, size_t hi, size_t n,
                                   float *out) {
  const size_t dim = p->dim;
  for (size_t j = lo; j < hi; j++) {
    if (j + AHEAD < n) {
      prefetch_row(p->U + users[j + AHEAD] * dim, p->dim);
      prefetch_row(p->V + items[j + AHEAD] * dim, p->dim);
    }
    const float *u = p->U + users[j] * dim, *v = p->V + items[j] * dim;
    float acc = 0.0f;
#pragma omp simd reduction(+ : acc)
    for (size_t c = 0; c < dim; c++)
      acc += u[c] * v[c];
    out[j] = sg__click_sigmoid(p->ub[users[j]] + p->ib[items[j]] + acc);
  }
}

static sg_status score_cpu(sg_exec *x, const sg_click_placed *p, const uint32_t *users,
                           const uint32_t *items, size_t n, float *out, int resident, sg_err *err) {
  if (resident) { /* the backend's memory is host memory: click.c could not know to check */
    SG_TRY(sg__click_check_ids("users", users, n, p->n_users, "n_users", err));
    SG_TRY(sg__click_check_ids("items", items, n, p->n_items, "n_items", err));
  }
  long long count = (long long)n;
  if (!p->interaction) {
#pragma omp parallel for num_threads(x->threads) schedule(static) if (n > 65536)
    for (long long j = 0; j < count; j++) {
      out[j] = sg__click_sigmoid(p->ub[users[j]] + p->ib[items[j]]);
    }
    return SG_OK;
  }
  long long blocks = (long long)((n + BLOCK - 1) / BLOCK);
#pragma omp parallel for num_threads(x->threads) schedule(static) if (blocks > 4)
  for (long long b = 0; b < blocks; b++) {
    size_t lo = (size_t)b * BLOCK, hi = lo + BLOCK < n ? lo + BLOCK : n;
    score_block(p, users, items, lo, hi, n, out);
  }
  return SG_OK;
}

const sg_click_ops sg__click_cpu_ops = {
    .place = place_cpu,
    .unplace = unplace_cpu,
    .score = score_cpu,
    .topk = sg__click_cpu_topk,
    .train_init = sg__click_cpu_train_init,
    .train_batch = sg__click_cpu_train_batch,
    .train_logits = sg__click_cpu_train_logits,
    .train_export = sg__click_cpu_train_export,
    .train_free = sg__click_cpu_train_free,
};
