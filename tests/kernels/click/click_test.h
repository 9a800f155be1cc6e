/* Helpers shared by the click suites: a CPU backend, seeded random models (continuous, or
 * quantised to multiples of 1/8 so that float arithmetic is exact and ties are real) and the
 * double-precision reference logit every suite checks against. */
#ifndef SG_TEST_CLICK_H
#define SG_TEST_CLICK_H

#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "click/click.h"
#include "common/backend.h"

typedef struct ct_rng {
  uint64_t s;
} ct_rng;

static inline uint64_t ct_next(ct_rng *r) {
  uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
static inline double ct_unit(ct_rng *r) { return (double)(ct_next(r) >> 11) / 9007199254740992.0; }
static inline uint32_t ct_below(ct_rng *r, uint32_t n) { return (uint32_t)(ct_next(r) % n); }
static inline double ct_normal(ct_rng *r) {
  double u1 = ct_unit(r) + 1e-300, u2 = ct_unit(r);
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* A seed from the clock (printed, so a failure can be replayed with CLICK_TEST_SEED). */
static inline uint64_t ct_seed(const char *what) {
  const char *env = getenv("CLICK_TEST_SEED");
  uint64_t seed = env ? strtoull(env, NULL, 10) : (uint64_t)time(NULL) ^ (uint64_t)clock();
  printf("%s: seed %llu\n", what, (unsigned long long)seed);
  return seed;
}

typedef struct ct_cpu {
  sg_backend *be;
  sg_exec *x;
} ct_cpu;

static inline ct_cpu ct_open_cpu(int threads) {
  sg_err e = {0};
  sg_backend_config cfg = {.kind = SG_BACKEND_CPU, .cpu_threads = threads};
  ct_cpu c;
  c.be = sg_backend_open(&cfg, &e);
  cr_assert_not_null(c.be, "%s", e.msg);
  c.x = sg_exec_create(c.be, &e);
  cr_assert_not_null(c.x, "%s", e.msg);
  return c;
}

static inline void ct_close(ct_cpu *c) {
  sg_exec_destroy(c->x);
  sg_backend_close(c->be);
}

/* Fills a model with N(0, scale²) values, or multiples of 1/8 in [-1, 1] when quantised. */
static inline void ct_random_model(sg_click_model *m, uint32_t nu, uint32_t ni, uint32_t dim,
                                   int interaction, double scale, int quantised, uint64_t seed) {
  sg_err e = {0};
  cr_assert_eq(sg_click_model_alloc(nu, ni, dim, interaction, m, &e), SG_OK, "%s", e.msg);
  ct_rng r = {seed};
  size_t n = (size_t)nu * dim + (size_t)ni * dim + dim;
  for (size_t i = 0; i < n; i++) {
    float v =
        quantised ? (float)((int)ct_below(&r, 17) - 8) / 8.0f : (float)(scale * ct_normal(&r));
    if (i < (size_t)nu * dim) {
      m->U[i] = v;
    } else if (i < (size_t)(nu + ni) * dim) {
      m->V[i - (size_t)nu * dim] = v;
    } else {
      m->w[i - (size_t)(nu + ni) * dim] = v;
    }
  }
  m->b = quantised ? 0.25f : (float)(0.3 * ct_normal(&r));
}

/* b + w·(u + v) + [interaction] u·v in double */
static inline double ct_logit(const sg_click_model *m, uint32_t u, uint32_t i) {
  const float *a = m->U + (size_t)u * m->dim, *v = m->V + (size_t)i * m->dim;
  double z = m->b;
  for (uint32_t c = 0; c < m->dim; c++) {
    z += (double)m->w[c] * ((double)a[c] + (double)v[c]);
    if (m->interaction) z += (double)a[c] * (double)v[c];
  }
  return z;
}

static inline double ct_sigmoid(double z) { return 1.0 / (1.0 + exp(-z)); }

/* ---- top-K references ---- */

typedef struct cand {
  double z;
  uint32_t id;
} cand;

static inline int cand_cmp(const void *a, const void *b) {
  const cand *x = a, *y = b;
  if (x->z != y->z) return x->z > y->z ? -1 : 1;
  return (x->id > y->id) - (x->id < y->id);
}

static inline int in_list(const uint32_t *a, uint64_t n, uint32_t v) {
  for (uint64_t i = 0; i < n; i++) {
    if (a[i] == v) return 1;
  }
  return 0;
}

/* Full sort of one user's items; returns how many are not excluded. */
static inline uint32_t full_sort(const sg_click_model *m, uint32_t u, const uint32_t *ex,
                                 uint64_t nex, cand *all) {
  uint32_t n = 0;
  for (uint32_t i = 0; i < m->n_items; i++) {
    if (!in_list(ex, nex, i)) all[n++] = (cand){ct_logit(m, u, i), i};
  }
  qsort(all, n, sizeof *all, cand_cmp);
  return n;
}

/* Checks row j of a result against the full sort; exact: same items in the same order. */
static inline void check_row(const sg_click_model *m, uint32_t u, uint32_t k, const uint32_t *ex,
                             uint64_t nex, const uint32_t *items, const float *scores,
                             uint32_t count, int exact, const char *what) {
  cand *all = malloc(m->n_items * sizeof *all);
  uint32_t avail = full_sort(m, u, ex, nex, all);
  uint32_t want = avail < k ? avail : k;
  cr_assert_eq(count, want, "%s: user %u count %u, want %u", what, u, count, want);
  for (uint32_t r = 0; r < k; r++) {
    if (r >= want) {
      cr_assert_eq(items[r], SG_CLICK_NO_ITEM, "%s: user %u slot %u", what, u, r);
      cr_assert_eq(scores[r], 0.0f);
      continue;
    }
    cr_assert_lt(items[r], m->n_items, "%s: user %u rank %u item %u", what, u, r, items[r]);
    cr_assert(!in_list(ex, nex, items[r]), "%s: user %u got excluded item %u", what, u, items[r]);
    cr_assert(!in_list(items, r, items[r]), "%s: user %u got item %u twice", what, u, items[r]);
    double z = ct_logit(m, u, items[r]);
    if (exact) {
      cr_assert_eq(items[r], all[r].id, "%s: user %u rank %u: item %u (z %.9g), want %u (z %.9g)",
                   what, u, r, items[r], z, all[r].id, all[r].z);
    } else {
      cr_assert_leq(fabs(z - all[r].z), 1e-5, "%s: user %u rank %u: item %u z %.9g, want %.9g",
                    what, u, r, items[r], z, all[r].z);
    }
    cr_assert_leq(fabs(scores[r] - ct_sigmoid(z)), 1e-5, "%s: user %u rank %u score", what, u, r);
  }
  free(all);
}

typedef struct result {
  uint32_t *items, *counts;
  float *scores;
  sg_click_topk_out out;
} result;

static inline result result_new(size_t n, uint32_t k) {
  result r;
  r.items = malloc(n * k * sizeof *r.items);
  r.scores = malloc(n * k * sizeof *r.scores);
  r.counts = malloc(n * sizeof *r.counts);
  r.out = (sg_click_topk_out){r.items, r.scores, r.counts};
  return r;
}

static inline void result_free(result *r) {
  free(r->items);
  free(r->scores);
  free(r->counts);
}

/* Random sorted exclusion lists (with the odd duplicate) for n rows */
static inline void random_exclusions(ct_rng *g, size_t n, uint32_t n_items, uint64_t **off,
                                     uint32_t **items) {
  *off = malloc((n + 1) * sizeof **off);
  *items = malloc((n * 40 + 1) * sizeof **items);
  (*off)[0] = 0;
  for (size_t j = 0; j < n; j++) {
    uint32_t m = ct_below(g, 5) == 0 ? 0 : ct_below(g, 40);
    uint64_t o = (*off)[j];
    for (uint32_t t = 0; t < m; t++)
      (*items)[o + t] = ct_below(g, n_items);
    for (uint32_t a = 1; a < m; a++) { /* insertion sort */
      for (uint32_t b = a; b > 0 && (*items)[o + b - 1] > (*items)[o + b]; b--) {
        uint32_t tmp = (*items)[o + b];
        (*items)[o + b] = (*items)[o + b - 1];
        (*items)[o + b - 1] = tmp;
      }
    }
    (*off)[j + 1] = o + m;
  }
}

#endif
