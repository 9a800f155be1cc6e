/* shopgpu-click-quality: trains the click model on implicit positives (a train split), recommends
 * top-k for every user excluding what they already have, and scores the lists against a test
 * split: precision / recall / NDCG@k (sg_click_rank_eval) and the mean per-user AUC of test items
 * against every item outside the user's train and test sets.
 *   shopgpu-click-quality --users N --items N --train FILE --test FILE [--k 10] [--dim 32]
 *       [--epochs 20] [--lr 0.01] [--lr-schedule constant|cosine] [--l2 1e-4] [--negatives 4]
 * [--negative-candidates 1]
 *       [--batch 1024] [--valid 0.05]
 *       [--patience 3] [--auc-stop] [--no-interaction] [--seed 1] [--backend cpu|cuda]
 *       [--out FILE]
 * FILE: one "user,item" per line (0-based dense ids; lines that do not parse are skipped).
 * --out writes "user item1 item2 ..." per user (the top-k lists) for an independent check. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "click/click.h"
#include "machine.h"

typedef struct pairs {
  size_t n, cap;
  uint32_t *u, *i;
} pairs;

typedef struct csr {
  uint64_t *off;
  uint32_t *items;
} csr;

static int read_pairs(const char *path, uint32_t nu, uint32_t ni, pairs *p) {
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  char line[256];
  *p = (pairs){0, 0, NULL, NULL};
  while (fgets(line, sizeof line, f)) {
    unsigned u, i;
    if (sscanf(line, "%u,%u", &u, &i) != 2 || u >= nu || i >= ni) continue;
    if (p->n == p->cap) {
      p->cap = p->cap ? 2 * p->cap : 4096;
      p->u = realloc(p->u, p->cap * 4);
      p->i = realloc(p->i, p->cap * 4);
    }
    p->u[p->n] = u;
    p->i[p->n++] = i;
  }
  fclose(f);
  return 0;
}

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return (x > y) - (x < y);
}

/* per-user sorted item lists */
static csr to_csr(const pairs *p, uint32_t nu) {
  csr c = {calloc(nu + 1, 8), malloc(p->n * 4 + 4)};
  uint64_t *fill = calloc(nu + 1, 8);
  for (size_t j = 0; j < p->n; j++)
    c.off[p->u[j] + 1]++;
  for (uint32_t u = 0; u < nu; u++)
    c.off[u + 1] += c.off[u];
  memcpy(fill, c.off, (nu + 1) * 8);
  for (size_t j = 0; j < p->n; j++)
    c.items[fill[p->u[j]]++] = p->i[j];
  for (uint32_t u = 0; u < nu; u++) {
    qsort(c.items + c.off[u], c.off[u + 1] - c.off[u], 4, cmp_u32);
  }
  free(fill);
  return c;
}

static int has(const csr *c, uint32_t u, uint32_t item) {
  uint64_t lo = c->off[u], hi = c->off[u + 1];
  while (lo < hi) {
    uint64_t mid = lo + (hi - lo) / 2;
    if (c->items[mid] < item)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < c->off[u + 1] && c->items[lo] == item;
}

/* mean over users with test items of the AUC of test items vs items in neither split */
static double mean_auc(sg_exec *x, sg_click_placed *p, uint32_t nu, uint32_t ni, const csr *tr,
                       const csr *te) {
  uint32_t *users = malloc(ni * 4), *items = malloc(ni * 4);
  float *s = malloc(ni * 4), *cs = malloc(ni * 4);
  uint8_t *y = malloc(ni);
  double sum = 0.0;
  uint32_t n = 0;
  sg_err e = {0};
  for (uint32_t u = 0; u < nu; u++) {
    if (te->off[u + 1] == te->off[u]) continue;
    for (uint32_t i = 0; i < ni; i++) {
      users[i] = u;
      items[i] = i;
    }
    if (sg_click_score(x, p, users, items, ni, s, &e) != SG_OK) break;
    size_t m = 0;
    for (uint32_t i = 0; i < ni; i++) {
      if (has(tr, u, i)) continue;
      cs[m] = s[i];
      y[m++] = (uint8_t)has(te, u, i);
    }
    double auc;
    sg_err ignore = {0};
    if (sg_click_auc(cs, y, m, &auc, &ignore) != SG_OK) continue;
    sum += auc;
    n++;
  }
  free(users);
  free(items);
  free(s);
  free(cs);
  free(y);
  return n ? sum / n : NAN;
}

typedef struct args {
  uint32_t users, items, k;
  const char *train, *test, *out;
  sg_backend_kind backend;
  sg_click_train_config cfg;
} args;

static int parse(int argc, char **argv, args *a) {
  memset(a, 0, sizeof *a);
  a->k = 10;
  a->backend = SG_BACKEND_CPU;
  sg_click_train_config_default(&a->cfg);
  a->cfg.epochs = 20;
  a->cfg.valid_fraction = 0.05f;
  a->cfg.patience = 3;
  a->cfg.seed = 1;
  for (int i = 1; i < argc; i++) {
    const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : "";
    sg_err e = {0};
    if (!strcmp(o, "--auc-stop")) {
      a->cfg.stop_on_auc = 1;
      continue;
    }
    if (!strcmp(o, "--no-interaction")) {
      a->cfg.interaction = 0;
      continue;
    }
    i++;
    if (!strcmp(o, "--users"))
      a->users = (uint32_t)atol(v);
    else if (!strcmp(o, "--items"))
      a->items = (uint32_t)atol(v);
    else if (!strcmp(o, "--train"))
      a->train = v;
    else if (!strcmp(o, "--test"))
      a->test = v;
    else if (!strcmp(o, "--out"))
      a->out = v;
    else if (!strcmp(o, "--k"))
      a->k = (uint32_t)atol(v);
    else if (!strcmp(o, "--dim"))
      a->cfg.dim = (uint32_t)atol(v);
    else if (!strcmp(o, "--epochs"))
      a->cfg.epochs = (uint32_t)atol(v);
    else if (!strcmp(o, "--lr"))
      a->cfg.lr = (float)atof(v);
    else if (!strcmp(o, "--lr-schedule") && (!strcmp(v, "constant") || !strcmp(v, "cosine")))
      a->cfg.lr_schedule = !strcmp(v, "cosine") ? SG_CLICK_LR_COSINE : SG_CLICK_LR_CONSTANT;
    else if (!strcmp(o, "--l2"))
      a->cfg.l2 = (float)atof(v);
    else if (!strcmp(o, "--negative-candidates"))
      a->cfg.negative_candidates = (uint32_t)atol(v);
    else if (!strcmp(o, "--negatives"))
      a->cfg.negatives = (uint32_t)atol(v);
    else if (!strcmp(o, "--batch"))
      a->cfg.batch_size = (uint32_t)atol(v);
    else if (!strcmp(o, "--valid"))
      a->cfg.valid_fraction = (float)atof(v);
    else if (!strcmp(o, "--patience"))
      a->cfg.patience = (uint32_t)atol(v);
    else if (!strcmp(o, "--seed"))
      a->cfg.seed = strtoull(v, NULL, 10);
    else if (!strcmp(o, "--init-std"))
      a->cfg.init_std = (float)atof(v);
    else if (!strcmp(o, "--backend")) {
      if (sg_backend_kind_parse(v, &a->backend, &e) != SG_OK) return -1;
    } else
      return -1;
  }
  return a->users && a->items && a->train && a->test ? 0 : -1;
}

static sg_click_model train(sg_exec *x, const args *a, const pairs *tr, double *secs,
                            sg_click_train_progress *prog) {
  sg_click_data d = {a->users, a->items, tr->n, tr->u, tr->i, NULL};
  sg_err e = {0};
  sg_click_model m = {0};
  double t0 = sg_bench_now();
  sg_click_trainer *t = sg_click_train_begin(x, &d, &a->cfg, &e);
  if (!t) {
    fprintf(stderr, "train: %s\n", e.msg);
    exit(1);
  }
  do {
    if (sg_click_train_step(t, 64, prog, &e) != SG_OK) break;
  } while (!prog->finished);
  if (sg_click_train_end(t, &m, &e) != SG_OK) {
    fprintf(stderr, "train: %s\n", e.msg);
    exit(1);
  }
  *secs = sg_bench_now() - t0;
  return m;
}

static void write_lists(const char *path, const uint32_t *items, const uint32_t *counts,
                        uint32_t nu, uint32_t k) {
  FILE *f = fopen(path, "w");
  if (!f) return;
  for (uint32_t u = 0; u < nu; u++) {
    fprintf(f, "%u", u);
    for (uint32_t r = 0; r < counts[u]; r++)
      fprintf(f, " %u", items[(size_t)u * k + r]);
    fputc('\n', f);
  }
  fclose(f);
}

int main(int argc, char **argv) {
  args a;
  if (parse(argc, argv, &a)) {
    fprintf(stderr, "usage: see the comment at the top of bench/click/click_quality.c\n");
    return 2;
  }
  pairs tr, te;
  if (read_pairs(a.train, a.users, a.items, &tr) || read_pairs(a.test, a.users, a.items, &te)) {
    fprintf(stderr, "shopgpu-click-quality: cannot read %s or %s\n", a.train, a.test);
    return 1;
  }
  sg_err e = {0};
  sg_backend_config bc = {.kind = a.backend};
  sg_backend *be = sg_backend_open(&bc, &e);
  sg_exec *x = be ? sg_exec_create(be, &e) : NULL;
  if (!x) {
    fprintf(stderr, "shopgpu-click-quality: %s\n", e.msg);
    return 1;
  }
  double secs;
  sg_click_train_progress prog;
  sg_click_model m = train(x, &a, &tr, &secs, &prog);
  csr ctr = to_csr(&tr, a.users), cte = to_csr(&te, a.users);
  sg_click_placed *p;
  uint32_t *items = malloc((size_t)a.users * a.k * 4), *counts = malloc(a.users * 4ul);
  float *scores = malloc((size_t)a.users * a.k * 4);
  sg_click_exclude ex = {ctr.off, ctr.items};
  sg_click_topk_out out = {items, scores, counts};
  sg_click_rank_metrics rm;
  if (sg_click_place(x, &m, &p, &e) != SG_OK ||
      sg_click_topk_range(x, p, 0, a.users, a.k, &ex, &out, &e) != SG_OK ||
      sg_click_rank_eval(items, counts, a.users, a.k, cte.off, cte.items, &rm, &e) != SG_OK) {
    fprintf(stderr, "shopgpu-click-quality: %s\n", e.msg);
    return 1;
  }
  double auc = mean_auc(x, p, a.users, a.items, &ctr, &cte);
  if (a.out) write_lists(a.out, items, counts, a.users, a.k);
  printf("RESULT,shopgpu,%s,%.5f,%.5f,%.5f,%.5f,%.2f,%u,%u\n", sg_backend_name(be), rm.precision,
         rm.recall, rm.ndcg, auc, secs, prog.epoch, prog.best_epoch);
  sg_click_unplace(p);
  sg_click_model_free(&m);
  free(items);
  free(counts);
  free(scores);
  void *owned[] = {tr.u, tr.i, te.u, te.i, ctr.off, ctr.items, cte.off, cte.items};
  for (size_t i = 0; i < sizeof owned / sizeof owned[0]; i++)
    free(owned[i]);
  sg_exec_destroy(x);
  sg_backend_close(be);
  return 0;
}
