/* The click ops on CUDA against the CPU backend and the double reference (label gpu): pair
 * scoring (host and device-resident arrays), top-K over several tiles and user blocks with
 * exclusions and ties, and training (SGD-momentum parameters after an epoch, Adam metrics, and
 * determinism on the device; implicit positives with uniform and scored negatives). Tolerances:
 * scores 2e-6 between backends, 1e-5 against double. */
#include "click_test.h"

#ifdef SG_HAVE_CUDA
#include <cuda_runtime_api.h>
#endif

static ct_cpu cpu;
static sg_backend *gbe;
static sg_exec *gx;

static void setup(void) {
  cpu = ct_open_cpu(2);
  sg_err e = {0};
  sg_backend_config cfg = {.kind = SG_BACKEND_CUDA};
  gbe = sg_backend_open(&cfg, &e);
  cr_assert_not_null(gbe, "%s", e.msg);
  gx = sg_exec_create(gbe, &e);
  cr_assert_not_null(gx, "%s", e.msg);
}

static void teardown(void) {
  sg_exec_destroy(gx);
  sg_backend_close(gbe);
  ct_close(&cpu);
}

TestSuite(click_parity, .init = setup, .fini = teardown, .timeout = 240);

typedef struct both {
  sg_click_placed *c, *g;
} both;

static both place_both(const sg_click_model *m) {
  both b = {NULL, NULL};
  sg_err e = {0};
  cr_assert_eq(sg_click_place(cpu.x, m, &b.c, &e), SG_OK, "%s", e.msg);
  cr_assert_eq(sg_click_place(gx, m, &b.g, &e), SG_OK, "%s", e.msg);
  return b;
}

static void unplace_both(both *b) {
  sg_click_unplace(b->c);
  sg_click_unplace(b->g);
}

Test(click_parity, scores_match_cpu_and_double) {
  uint64_t seed = ct_seed("scores_match_cpu_and_double");
  const uint32_t dims[] = {1, 7, 16, 64, 130};
  size_t n = 300001;
  uint32_t *users = malloc(n * 4), *items = malloc(n * 4);
  float *pc = malloc(n * 4), *pg = malloc(n * 4);
  for (size_t t = 0; t < sizeof dims / sizeof dims[0]; t++) {
    for (int inter = 0; inter <= 1; inter++) {
      sg_click_model m;
      ct_random_model(&m, 5000, 3000, dims[t], inter, 1.2 / sqrt((double)dims[t]), 0, seed + t);
      ct_rng g = {seed ^ t};
      for (size_t j = 0; j < n; j++) {
        users[j] = ct_below(&g, 5000);
        items[j] = ct_below(&g, 3000);
      }
      both b = place_both(&m);
      sg_err e = {0};
      cr_assert_eq(sg_click_score(cpu.x, b.c, users, items, n, pc, &e), SG_OK, "%s", e.msg);
      cr_assert_eq(sg_click_score(gx, b.g, users, items, n, pg, &e), SG_OK, "%s", e.msg);
      for (size_t j = 0; j < n; j += 1 + j % 7) {
        cr_assert_float_eq(pc[j], pg[j], 2e-6, "dim %u inter %d pair %zu", dims[t], inter, j);
        double want = ct_sigmoid(ct_logit(&m, users[j], items[j]));
        cr_assert_float_eq(pg[j], want, 1e-5, "dim %u inter %d pair %zu", dims[t], inter, j);
      }
      unplace_both(&b);
      sg_click_model_free(&m);
    }
  }
  free(users);
  free(items);
  free(pc);
  free(pg);
}

#ifdef SG_HAVE_CUDA
Test(click_parity, resident_scoring_names_a_bad_id) {
  sg_click_model m;
  ct_random_model(&m, 100, 50, 64, 1, 0.1, 0, 3);
  both b = place_both(&m);
  enum { N = 1000 };
  uint32_t users[N], items[N];
  float want[N], got[N];
  for (int j = 0; j < N; j++) {
    users[j] = (uint32_t)j % 100;
    items[j] = (uint32_t)(j * 7) % 50;
  }
  uint32_t *du, *di;
  float *dout;
  cr_assert_eq(cudaMalloc((void **)&du, sizeof users), cudaSuccess);
  cr_assert_eq(cudaMalloc((void **)&di, sizeof items), cudaSuccess);
  cr_assert_eq(cudaMalloc((void **)&dout, sizeof got), cudaSuccess);
  cudaMemcpy(du, users, sizeof users, cudaMemcpyHostToDevice);
  cudaMemcpy(di, items, sizeof items, cudaMemcpyHostToDevice);
  sg_err e = {0};
  cr_assert_eq(sg_click_score_resident(gx, b.g, du, di, N, dout, &e), SG_OK, "%s", e.msg);
  cudaMemcpy(got, dout, sizeof got, cudaMemcpyDeviceToHost);
  cr_assert_eq(sg_click_score(cpu.x, b.c, users, items, N, want, &e), SG_OK, "%s", e.msg);
  for (int j = 0; j < N; j++)
    cr_assert_float_eq(got[j], want[j], 2e-6, "pair %d", j);
  items[700] = 50;
  items[900] = 99;
  cudaMemcpy(di, items, sizeof items, cudaMemcpyHostToDevice);
  cr_assert_eq(sg_click_score_resident(gx, b.g, du, di, N, dout, &e), SG_INVALID_ARGUMENT);
  cr_assert_str_eq(e.msg, "items[700]: id 50 >= n_items 50");
  cudaFree(du);
  cudaFree(di);
  cudaFree(dout);
  unplace_both(&b);
  sg_click_model_free(&m);
}
#endif

/* top-k of every user on both backends; quantised: identical items, else near-ties may swap */
static void topk_case(uint32_t nu, uint32_t ni, uint32_t dim, uint32_t k, int quantised,
                      uint64_t seed) {
  sg_click_model m;
  ct_random_model(&m, nu, ni, dim, 1, 1.0 / sqrt(dim), quantised, seed);
  ct_rng g = {seed};
  uint64_t *off;
  uint32_t *exi;
  random_exclusions(&g, nu, ni, &off, &exi);
  sg_click_exclude ex = {off, exi};
  both b = place_both(&m);
  result rc = result_new(nu, k), rg = result_new(nu, k);
  sg_err e = {0};
  cr_assert_eq(sg_click_topk_range(cpu.x, b.c, 0, nu, k, &ex, &rc.out, &e), SG_OK, "%s", e.msg);
  cr_assert_eq(sg_click_topk_range(gx, b.g, 0, nu, k, &ex, &rg.out, &e), SG_OK, "%s", e.msg);
  char what[128];
  snprintf(what, sizeof what, "users %u items %u dim %u k %u quantised %d", nu, ni, dim, k,
           quantised);
  cr_assert_arr_eq(rc.counts, rg.counts, nu * sizeof(uint32_t), "%s", what);
  for (uint32_t u = 0; u < nu; u += (quantised ? 1 : 1 + u % 13)) {
    check_row(&m, u, k, exi + off[u], off[u + 1] - off[u], rg.items + (size_t)u * k,
              rg.scores + (size_t)u * k, rg.counts[u], quantised, what);
    for (uint32_t r = 0; r < rg.counts[u]; r++) {
      size_t s = (size_t)u * k + r;
      if (quantised) cr_assert_eq(rg.items[s], rc.items[s], "%s: user %u rank %u", what, u, r);
      cr_assert_float_eq(rg.scores[s], rc.scores[s], 2e-6, "%s: user %u rank %u", what, u, r);
    }
  }
  result_free(&rc);
  result_free(&rg);
  unplace_both(&b);
  free(off);
  free(exi);
  sg_click_model_free(&m);
}

Test(click_parity, topk_matches_cpu_over_tiles_blocks_and_large_k) {
  uint64_t seed = ct_seed("topk_matches_cpu_over_tiles_blocks_and_large_k");
  topk_case(300, 2500, 12, 50, 1, seed);       /* ties, three item tiles */
  topk_case(9000, 1500, 8, 10, 0, seed + 1);   /* two user blocks */
  topk_case(200, 3000, 64, 1000, 0, seed + 2); /* k near the maximum: kp 1024 */
  topk_case(50, 40, 5, 64, 1, seed + 3);       /* k > n_items */
  topk_case(77, 1, 3, 1, 0, seed + 4);         /* one item */
}

Test(click_parity, topk_lists_with_repeated_users_match_ranges) {
  sg_click_model m;
  ct_random_model(&m, 40, 900, 16, 1, 0.25, 0, 8);
  both b = place_both(&m);
  uint32_t users[6] = {3, 39, 3, 0, 17, 3};
  result rc = result_new(6, 20), rg = result_new(6, 20);
  sg_err e = {0};
  cr_assert_eq(sg_click_topk(cpu.x, b.c, users, 6, 20, NULL, &rc.out, &e), SG_OK, "%s", e.msg);
  cr_assert_eq(sg_click_topk(gx, b.g, users, 6, 20, NULL, &rg.out, &e), SG_OK, "%s", e.msg);
  for (int j = 0; j < 6; j++) {
    check_row(&m, users[j], 20, NULL, 0, rg.items + j * 20, rg.scores + j * 20, rg.counts[j], 0,
              "list");
  }
  cr_assert_arr_eq(rg.items, rg.items + 40, 20 * sizeof(uint32_t), "same user, same list");
  result_free(&rc);
  result_free(&rg);
  unplace_both(&b);
  sg_click_model_free(&m);
}

/* ---- training ------------------------------------------------------------------------------ */

static sg_click_model train_on(sg_exec *x, const sg_click_data *d, const sg_click_train_config *cfg,
                               sg_click_train_progress *p) {
  sg_err e = {0};
  sg_click_trainer *t = sg_click_train_begin(x, d, cfg, &e);
  cr_assert_not_null(t, "%s", e.msg);
  do {
    cr_assert_eq(sg_click_train_step(t, 50, p, &e), SG_OK, "%s", e.msg);
  } while (!p->finished);
  sg_click_model m;
  cr_assert_eq(sg_click_train_end(t, &m, &e), SG_OK, "%s", e.msg);
  return m;
}

static double max_diff(const float *a, const float *b, size_t n) {
  double d = 0.0;
  for (size_t i = 0; i < n; i++)
    d = fmax(d, fabs((double)a[i] - b[i]));
  return d;
}

typedef struct logdata {
  uint32_t *users, *items;
  uint8_t *labels;
  sg_click_data d;
} logdata;

static logdata make_log(uint64_t seed, size_t n) {
  sg_click_model truth;
  ct_random_model(&truth, 300, 200, 8, 1, 0.6, 0, seed);
  logdata l = {malloc(n * 4), malloc(n * 4), malloc(n), {300, 200, n, NULL, NULL, NULL}};
  ct_rng g = {seed};
  for (size_t j = 0; j < n; j++) {
    l.users[j] = ct_below(&g, 300);
    l.items[j] = ct_below(&g, 200);
    l.labels[j] = ct_unit(&g) < ct_sigmoid(ct_logit(&truth, l.users[j], l.items[j]));
  }
  l.d.users = l.users;
  l.d.items = l.items;
  l.d.labels = l.labels;
  sg_click_model_free(&truth);
  return l;
}

Test(click_parity, sgd_training_matches_cpu_and_adam_metrics_agree) {
  uint64_t seed = ct_seed("sgd_training_matches_cpu_and_adam_metrics_agree");
  logdata l = make_log(seed, 40000);
  sg_click_train_config cfg;
  sg_click_train_config_default(&cfg);
  cfg.dim = 8;
  cfg.negatives = 0;
  cfg.seed = seed;
  cfg.epochs = 1;
  cfg.optimizer = SG_CLICK_SGD_MOMENTUM;
  cfg.lr = 0.1f;
  sg_click_train_progress pc, pg;
  sg_click_model mc = train_on(cpu.x, &l.d, &cfg, &pc), mg = train_on(gx, &l.d, &cfg, &pg);
  double du = max_diff(mc.U, mg.U, 300 * 8), dv = max_diff(mc.V, mg.V, 200 * 8);
  double dw = max_diff(mc.w, mg.w, 8), db = fabs(mc.b - mg.b);
  printf("sgd: max |cpu - cuda|: U %.3g V %.3g w %.3g b %.3g\n", du, dv, dw, db);
  cr_assert(du < 1e-4 && dv < 1e-4 && dw < 1e-4 && db < 1e-4);
  sg_click_model_free(&mc);
  sg_click_model_free(&mg);
  /* the cosine schedule's factor reaches the device's update too */
  cfg.epochs = 2;
  cfg.lr_schedule = SG_CLICK_LR_COSINE;
  mc = train_on(cpu.x, &l.d, &cfg, &pc);
  mg = train_on(gx, &l.d, &cfg, &pg);
  du = max_diff(mc.U, mg.U, 300 * 8);
  dv = max_diff(mc.V, mg.V, 200 * 8);
  printf("sgd, cosine schedule: max |cpu - cuda|: U %.3g V %.3g\n", du, dv);
  cr_assert(du < 1e-4 && dv < 1e-4);
  sg_click_model_free(&mc);
  sg_click_model_free(&mg);
  cfg.lr_schedule = SG_CLICK_LR_CONSTANT;
  cfg.optimizer = SG_CLICK_ADAM;
  cfg.lr = 0.01f;
  cfg.epochs = 4;
  mc = train_on(cpu.x, &l.d, &cfg, &pc);
  mg = train_on(gx, &l.d, &cfg, &pg);
  printf("adam: valid logloss cpu %.5f cuda %.5f, auc %.5f / %.5f\n", pc.valid_logloss,
         pg.valid_logloss, pc.valid_auc, pg.valid_auc);
  cr_assert_float_eq(pc.valid_logloss, pg.valid_logloss, 2e-3);
  cr_assert_float_eq(pc.valid_auc, pg.valid_auc, 2e-3);
  sg_click_model m2 = train_on(gx, &l.d, &cfg, &pg);
  cr_assert_arr_eq(mg.U, m2.U, 300 * 8 * sizeof(float), "cuda training is deterministic");
  cr_assert_arr_eq(mg.V, m2.V, 200 * 8 * sizeof(float));
  sg_click_model_free(&mc);
  sg_click_model_free(&mg);
  sg_click_model_free(&m2);
  free(l.users);
  free(l.items);
  free(l.labels);
}

Test(click_parity, implicit_training_runs_on_the_device) {
  uint64_t seed = ct_seed("implicit_training_runs_on_the_device");
  logdata l = make_log(seed, 20000);
  size_t n = 0;
  for (size_t j = 0; j < l.d.n; j++) { /* keep the clicks as implicit positives */
    if (!l.labels[j]) continue;
    l.users[n] = l.users[j];
    l.items[n++] = l.items[j];
  }
  l.d.n = n;
  l.d.labels = NULL;
  sg_click_train_config cfg;
  sg_click_train_config_default(&cfg);
  cfg.dim = 8;
  cfg.negatives = 3;
  cfg.epochs = 3;
  cfg.seed = seed;
  sg_click_train_progress pc, pg;
  sg_click_model mc = train_on(cpu.x, &l.d, &cfg, &pc), mg = train_on(gx, &l.d, &cfg, &pg);
  printf("implicit: valid auc cpu %.5f cuda %.5f\n", pc.valid_auc, pg.valid_auc);
  cr_assert_float_eq(pc.valid_auc, pg.valid_auc, 5e-3);
  sg_click_model_free(&mc);
  sg_click_model_free(&mg);
  /* scored negatives: the snapshot comes back from the device each epoch; rounding may flip a
   * few near-tied picks, so the runs drift apart a little more */
  cfg.negative_candidates = 3;
  mc = train_on(cpu.x, &l.d, &cfg, &pc);
  mg = train_on(gx, &l.d, &cfg, &pg);
  printf("implicit, scored negatives: valid auc cpu %.5f cuda %.5f\n", pc.valid_auc, pg.valid_auc);
  cr_assert(pg.best_epoch == 3 && pc.best_epoch == 3, "the last epoch is kept");
  cr_assert_float_eq(pc.valid_auc, pg.valid_auc, 1e-2);
  sg_click_model_free(&mc);
  sg_click_model_free(&mg);
  free(l.users);
  free(l.items);
  free(l.labels);
}
