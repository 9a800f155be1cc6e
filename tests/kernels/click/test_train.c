/* Click training on the CPU backend: the gradient against finite differences of a double
 * objective, recovery of a known model's AUC from a log drawn from it, implicit positives with
 * sampled negatives (uniform and scored), determinism, early stopping, progress, initial matrices
 * and bad input. */
#include "click/click_train_impl.h"
#include "click_test.h"

static ct_cpu cpu;
static void setup(void) { cpu = ct_open_cpu(2); }
static void teardown(void) { ct_close(&cpu); }
TestSuite(click_train, .init = setup, .fini = teardown);

/* ---- finite differences ------------------------------------------------------------------- */

typedef struct fd_case {
  uint32_t nu, ni, dim;
  int inter;
  size_t n;
  const uint32_t *users, *items;
  const float *labels;
  double l2;
} fd_case;

/* J over the batch in double; theta = [U, V, w, b] */
static double objective(const fd_case *c, const double *th) {
  const double *U = th, *V = th + c->nu * c->dim, *w = V + c->ni * c->dim, b = w[c->dim];
  double J = 0.0, ww = 0.0;
  for (size_t e = 0; e < c->n; e++) {
    const double *u = U + c->users[e] * c->dim, *v = V + c->items[e] * c->dim;
    double z = b, reg = 0.0;
    for (uint32_t k = 0; k < c->dim; k++) {
      z += w[k] * (u[k] + v[k]) + (c->inter ? u[k] * v[k] : 0.0);
      reg += u[k] * u[k] + v[k] * v[k];
    }
    double y = c->labels[e];
    J += log1p(exp(-fabs(z))) + (z > 0 ? z : 0) - y * z + 0.5 * c->l2 * reg;
  }
  for (uint32_t k = 0; k < c->dim; k++)
    ww += w[k] * w[k];
  return J / (double)c->n + 0.5 * c->l2 * ww;
}

static void check_gradient(int inter, uint64_t seed) {
  sg_click_model m;
  ct_random_model(&m, 6, 7, 5, inter, 0.6, 0, seed);
  ct_rng g = {seed ^ 0x55};
  enum { N = 40 };
  uint32_t users[N], items[N];
  float labels[N];
  for (int e = 0; e < N; e++) {
    users[e] = ct_below(&g, 6);
    items[e] = ct_below(&g, 7);
    labels[e] = e % 7 == 0 ? 0.3f : (float)ct_below(&g, 2);
  }
  fd_case c = {6, 7, 5, inter, N, users, items, labels, 0.05};
  size_t np = (6 + 7) * 5 + 5 + 1;
  float *gU = malloc(6 * 5 * sizeof(float)), *gV = malloc(7 * 5 * sizeof(float)), gw[5], gb;
  double loss, *th = malloc(np * sizeof *th);
  sg_err e = {0};
  cr_assert_eq(sg_click_gradient(&m, users, items, labels, N, 0.05f, gU, gV, gw, &gb, &loss, &e),
               SG_OK, "%s", e.msg);
  for (size_t i = 0; i < 30; i++)
    th[i] = m.U[i];
  for (size_t i = 0; i < 35; i++)
    th[30 + i] = m.V[i];
  for (size_t i = 0; i < 5; i++)
    th[65 + i] = m.w[i];
  th[70] = m.b;
  cr_assert_float_eq(loss, objective(&c, th), 1e-5, "loss %g vs %g", loss, objective(&c, th));
  double nonzero = 0.0;
  for (size_t i = 0; i < np; i++) {
    double keep = th[i], h = 1e-5;
    th[i] = keep + h;
    double jp = objective(&c, th);
    th[i] = keep - h;
    double jm = objective(&c, th);
    th[i] = keep;
    double num = (jp - jm) / (2 * h);
    double ana = i < 30 ? gU[i] : i < 65 ? gV[i - 30] : i < 70 ? gw[i - 65] : gb;
    cr_assert_leq(fabs(ana - num), 2e-5 + 1e-3 * fabs(num),
                  "interaction %d parameter %zu: analytic %.8g, finite difference %.8g", inter, i,
                  ana, num);
    nonzero += fabs(num);
  }
  cr_assert_gt(nonzero, 0.1, "the check must not pass on an all-zero gradient");
  free(gU);
  free(gV);
  free(th);
  sg_click_model_free(&m);
}

Test(click_train, gradient_matches_finite_differences) {
  uint64_t seed = ct_seed("gradient_matches_finite_differences");
  check_gradient(1, seed);
  check_gradient(0, seed + 1);
}

/* ---- known model -------------------------------------------------------------------------- */

typedef struct clicklog {
  size_t n;
  uint32_t *users, *items;
  uint8_t *labels;
} clicklog;

static clicklog draw_log(const sg_click_model *truth, size_t n, uint64_t seed) {
  clicklog l = {n, malloc(n * sizeof(uint32_t)), malloc(n * sizeof(uint32_t)), malloc(n)};
  ct_rng g = {seed};
  for (size_t j = 0; j < n; j++) {
    l.users[j] = ct_below(&g, truth->n_users);
    l.items[j] = ct_below(&g, truth->n_items);
    l.labels[j] = ct_unit(&g) < ct_sigmoid(ct_logit(truth, l.users[j], l.items[j]));
  }
  return l;
}

static void log_free(clicklog *l) {
  free(l->users);
  free(l->items);
  free(l->labels);
}

/* AUC of a model's scores on a log */
static double model_auc(const sg_click_model *m, const clicklog *l) {
  sg_click_placed *p = NULL;
  sg_err e = {0};
  cr_assert_eq(sg_click_place(cpu.x, m, &p, &e), SG_OK, "%s", e.msg);
  float *s = malloc(l->n * sizeof *s);
  cr_assert_eq(sg_click_score(cpu.x, p, l->users, l->items, l->n, s, &e), SG_OK, "%s", e.msg);
  double auc;
  cr_assert_eq(sg_click_auc(s, l->labels, l->n, &auc, &e), SG_OK, "%s", e.msg);
  free(s);
  sg_click_unplace(p);
  return auc;
}

/* mean over users of the AUC of their row of a grid log (nu × ni cells, row-major) */
static double per_user_auc(const sg_click_model *m, const clicklog *grid, uint32_t nu,
                           uint32_t ni) {
  sg_click_placed *p = NULL;
  sg_err e = {0};
  cr_assert_eq(sg_click_place(cpu.x, m, &p, &e), SG_OK, "%s", e.msg);
  float *s = malloc(grid->n * sizeof *s);
  cr_assert_eq(sg_click_score(cpu.x, p, grid->users, grid->items, grid->n, s, &e), SG_OK);
  double sum = 0.0;
  uint32_t users = 0;
  for (uint32_t u = 0; u < nu; u++) {
    double auc;
    sg_err ignore = {0};
    if (sg_click_auc(s + (size_t)u * ni, grid->labels + (size_t)u * ni, ni, &auc, &ignore))
      continue;
    sum += auc;
    users++;
  }
  free(s);
  sg_click_unplace(p);
  return sum / users;
}

static sg_click_model train(sg_exec *x, const sg_click_data *d, const sg_click_train_config *cfg,
                            sg_click_train_progress *prog) {
  sg_err e = {0};
  sg_click_trainer *t = sg_click_train_begin(x, d, cfg, &e);
  cr_assert_not_null(t, "%s", e.msg);
  sg_click_train_progress p;
  do {
    cr_assert_eq(sg_click_train_step(t, 16, &p, &e), SG_OK, "%s", e.msg);
  } while (!p.finished);
  if (prog) *prog = p;
  sg_click_model m;
  cr_assert_eq(sg_click_train_end(t, &m, &e), SG_OK, "%s", e.msg);
  return m;
}

static sg_click_model truth_sized(uint64_t seed, uint32_t nu, uint32_t ni) {
  sg_click_model m;
  ct_random_model(&m, nu, ni, 4, 1, 0.7, 0, seed);
  m.b = -0.4f;
  return m;
}

static sg_click_model truth_model(uint64_t seed) {
  sg_click_model m;
  ct_random_model(&m, 80, 60, 4, 1, 0.7, 0, seed);
  m.b = -0.4f;
  return m;
}

/* 120,000 impressions and a cosine schedule: with 60,000 at a constant rate, the sample alone put
 * SGD's test AUC more than 0.01 under the true model's for 2 seeds of 40 (a flaky test, since
 * the seed changes every run); now the worst gap over seeds 1-40 is 0.004 (SGD) and 0.003 (Adam).
 */
static void recovers_known_auc(sg_click_optimizer opt, float lr, uint64_t seed) {
  sg_click_model truth = truth_sized(seed, 50, 40);
  clicklog tr = draw_log(&truth, 120000, seed + 1), te = draw_log(&truth, 20000, seed + 2);
  sg_click_data d = {50, 40, tr.n, tr.users, tr.items, tr.labels};
  sg_click_train_config cfg;
  sg_click_train_config_default(&cfg);
  cfg.dim = 4;
  cfg.epochs = 20;
  cfg.batch_size = 256;
  cfg.lr = lr;
  cfg.lr_schedule = SG_CLICK_LR_COSINE;
  cfg.l2 = 1e-3f;
  cfg.optimizer = opt;
  cfg.negatives = 0;
  cfg.patience = 5;
  cfg.seed = seed;
  sg_click_train_progress prog;
  sg_click_model m = train(cpu.x, &d, &cfg, &prog);
  double want = model_auc(&truth, &te), got = model_auc(&m, &te);
  printf("optimizer %d: true model AUC %.4f, trained %.4f (epochs %u, best %u, valid AUC %.4f)\n",
         (int)opt, want, got, prog.epoch, prog.best_epoch, prog.best_auc);
  cr_assert_geq(got, want - 0.01, "trained AUC %.4f vs the true model's %.4f", got, want);
  log_free(&tr);
  log_free(&te);
  sg_click_model_free(&m);
  sg_click_model_free(&truth);
}

Test(click_train, adam_reaches_the_true_models_auc) {
  recovers_known_auc(SG_CLICK_ADAM, 0.01f, ct_seed("adam_reaches_the_true_models_auc"));
}

Test(click_train, sgd_momentum_reaches_the_true_models_auc) {
  recovers_known_auc(SG_CLICK_SGD_MOMENTUM, 0.3f,
                     ct_seed("sgd_momentum_reaches_the_true_models_auc"));
}

Test(click_train, implicit_positives_with_sampled_negatives_learn_the_ranking) {
  uint64_t seed = ct_seed("implicit_positives_with_sampled_negatives_learn_the_ranking");
  enum { NU = 200, NI = 150 };
  sg_click_model truth = truth_sized(seed, NU, NI);
  truth.b = -1.0f;
  /* positives: every (user, item) cell kept with the true model's probability */
  size_t cap = NU * NI, n = 0;
  uint32_t *users = malloc(cap * sizeof *users), *items = malloc(cap * sizeof *items);
  uint8_t *is_pos = calloc(cap, 1);
  ct_rng g = {seed};
  for (uint32_t u = 0; u < NU; u++) {
    for (uint32_t i = 0; i < NI; i++) {
      if (ct_unit(&g) >= ct_sigmoid(ct_logit(&truth, u, i))) continue;
      users[n] = u;
      items[n++] = i;
      is_pos[u * NI + i] = 1;
    }
  }
  sg_click_data d = {NU, NI, n, users, items, NULL};
  sg_click_train_config cfg;
  sg_click_train_config_default(&cfg);
  cfg.dim = 4;
  cfg.epochs = 12;
  cfg.batch_size = 256;
  cfg.lr = 0.02f;
  cfg.negatives = 3;
  cfg.seed = seed;
  sg_click_train_progress prog;
  sg_click_model m = train(cpu.x, &d, &cfg, &prog);
  /* out of sample: a fresh draw of every cell from the true model. Implicit data says nothing
   * about how often a user clicks (every user gets the same share of negatives), so compare the
   * per-user ranking: mean over users of the AUC of their row, true model vs trained. */
  clicklog grid = {cap, malloc(cap * 4), malloc(cap * 4), is_pos};
  for (size_t c = 0; c < cap; c++) {
    grid.users[c] = (uint32_t)(c / NI);
    grid.items[c] = (uint32_t)(c % NI);
    is_pos[c] = ct_unit(&g) < ct_sigmoid(ct_logit(&truth, grid.users[c], grid.items[c]));
  }
  double want = per_user_auc(&truth, &grid, NU, NI), got = per_user_auc(&m, &grid, NU, NI);
  printf("implicit: %zu positives; per-user AUC on a fresh draw: true %.4f trained %.4f; valid "
         "AUC %.4f\n",
         n, want, got, prog.best_auc);
  /* one Bernoulli draw per cell is little data (training on the same cells with every label
   * known gets no closer), so the bound is loose; a model that learnt nothing scores 0.5 */
  cr_assert_geq(got, want - 0.08, "trained %.4f vs true %.4f", got, want);
  free(grid.users);
  free(grid.items);
  free(users);
  free(items);
  free(is_pos);
  sg_click_model_free(&m);
  sg_click_model_free(&truth);
}

/* ---- scored (hard) negatives ---------------------------------------------------------------- *
 * No learning test here: on logs drawn from a low-rank model, where the unobserved cells a model
 * scores highest are mostly the true model's likely clicks, hard negatives lower the ranking
 * quality (per-user AUC 0.57 vs 0.73 for the truth in a trial); their use is sparse catalogues
 * like MovieLens (bench/click/compare.py). */

/* Each scored negative is the candidate with the highest logit under the snapshot, computed here
 * in double from the model's own formula; it is never one of the user's positives when the user
 * has few; and on average it scores above a uniform negative. */
Test(click_train, scored_negative_is_the_best_scoring_candidate) {
  uint64_t seed = ct_seed("scored_negative_is_the_best_scoring_candidate");
  enum { NU = 30, NI = 50, M = 5 };
  uint32_t users[NU * 3], items[NU * 3];
  for (uint32_t r = 0; r < NU * 3; r++) {
    users[r] = r / 3;
    items[r] = (r * 7 + 1) % NI;
  }
  sg_click_data d = {NU, NI, NU * 3, users, items, NULL};
  sg_click_train_config cfg;
  sg_click_train_config_default(&cfg);
  cfg.dim = 3;
  cfg.negative_candidates = M;
  cfg.valid_fraction = 0.0f;
  cfg.seed = seed;
  sg_err e = {0};
  sg_click_trainer *t = sg_click_train_begin(cpu.x, &d, &cfg, &e);
  cr_assert_not_null(t, "%s", e.msg);
  for (int inter = 0; inter < 2; inter++) {
    sg_click_model snap;
    ct_random_model(&snap, NU, NI, 3, inter, 0.8, 0, seed + (uint64_t)inter);
    double sum_scored = 0.0, sum_uniform = 0.0, within = 0.0; /* within: candidates' variance */
    for (uint32_t u = 0; u < NU; u++) {
      for (uint64_t index = 0; index < 40; index++) {
        uint64_t stream = 99; /* any Philox stream */
        uint32_t got = sg__click_scored_negative(t, &snap, u, stream, index);
        double best = -INFINITY, want_score = 0.0, zs[M], zsum = 0.0;
        uint32_t want = 0;
        for (uint32_t c = 0; c < M; c++) {
          uint32_t it = sg__click_negative(t, u, stream, index * M + c);
          double z = 0.0;
          for (uint32_t k = 0; k < 3; k++) {
            double uk = snap.U[u * 3 + k], vk = snap.V[it * 3 + k], wk = snap.w[k];
            z += wk * (uk + vk) + (inter ? uk * vk : 0.0);
          }
          if (z > best) {
            best = z;
            want = it;
          }
          if (c == 0) want_score = z;
          zs[c] = z, zsum += z;
        }
        cr_assert_eq(got, want, "user %u index %llu: item %u, the best candidate is %u", u,
                     (unsigned long long)index, got, want);
        for (uint32_t r = 0; r < 3; r++)
          cr_assert_neq(got, items[u * 3 + r], "user %u got its positive %u", u, got);
        sum_scored += best;
        sum_uniform += want_score;
        for (uint32_t c = 0; c < M; c++)
          within += (zs[c] - zsum / M) * (zs[c] - zsum / M) / (M - 1);
      }
    }
    /* the best of 5 normal draws averages 1.16 sd above one draw; the bound is half of that, in
     * units of the spread among a user's candidates (an absolute margin failed for snapshots
     * whose weights happened to be small, about 1 seed in 400) */
    double sd = sqrt(within / (NU * 40));
    double gap = (sum_scored - sum_uniform) / (NU * 40);
    cr_assert_gt(gap, 0.58 * sd,
                 "interaction %d: scored negatives' mean logit %.4f vs uniform %.4f (sd %.4f)",
                 inter, sum_scored / (NU * 40), sum_uniform / (NU * 40), sd);
    sg_click_model_free(&snap);
  }
  cr_assert_eq(sg_click_train_end(t, NULL, &e), SG_OK);
}

/* With scored negatives the last epoch is kept (the validation log loss on uniform negatives is
 * not the objective) and patience counts epochs without a new AUC peak. */
Test(click_train, scored_negatives_keep_the_last_epoch) {
  uint64_t seed = ct_seed("scored_negatives_keep_the_last_epoch");
  ct_rng g = {seed};
  enum { N = 2000 };
  uint32_t *users = malloc(N * 4), *items = malloc(N * 4);
  for (size_t j = 0; j < N; j++) { /* pure noise: the validation AUC stops improving */
    users[j] = ct_below(&g, 40);
    items[j] = ct_below(&g, 40);
  }
  sg_click_data d = {40, 40, N, users, items, NULL};
  sg_click_train_config cfg;
  sg_click_train_config_default(&cfg);
  cfg.dim = 16;
  cfg.epochs = 60;
  cfg.batch_size = 200;
  cfg.lr = 0.05f;
  cfg.l2 = 0.0f;
  cfg.negative_candidates = 3;
  cfg.valid_fraction = 0.3f;
  cfg.patience = 2;
  cfg.seed = seed;
  sg_click_train_progress p;
  sg_click_model m = train(cpu.x, &d, &cfg, &p);
  cr_assert(p.finished && p.stopped_early && p.epoch < 60, "epoch %u stopped_early %d", p.epoch,
            p.stopped_early);
  cr_assert_eq(p.best_epoch, p.epoch, "the kept model is the last epoch's");
  cr_assert(p.best_logloss == p.valid_logloss && p.best_auc == p.valid_auc);
  sg_click_model_free(&m);
  free(users);
  free(items);
}

/* ---- determinism, early stopping, progress, initial matrices -------------------------------- */

static sg_click_train_config small_cfg(uint64_t seed) {
  sg_click_train_config cfg;
  sg_click_train_config_default(&cfg);
  cfg.dim = 6;
  cfg.epochs = 3;
  cfg.batch_size = 300;
  cfg.negatives = 0;
  cfg.seed = seed;
  return cfg;
}

static int same_model(const sg_click_model *a, const sg_click_model *b) {
  return a->b == b->b && !memcmp(a->U, b->U, (size_t)a->n_users * a->dim * 4) &&
         !memcmp(a->V, b->V, (size_t)a->n_items * a->dim * 4) && !memcmp(a->w, b->w, a->dim * 4);
}

Test(click_train, is_deterministic_for_a_seed_and_any_thread_count) {
  uint64_t seed = ct_seed("is_deterministic_for_a_seed_and_any_thread_count");
  sg_click_model truth = truth_model(seed);
  clicklog l = draw_log(&truth, 5000, seed);
  sg_click_data d = {80, 60, l.n, l.users, l.items, l.labels};
  sg_click_train_config cfg = small_cfg(seed);
  ct_cpu one = ct_open_cpu(1);
  sg_click_model a = train(cpu.x, &d, &cfg, NULL), b = train(one.x, &d, &cfg, NULL);
  cr_assert(same_model(&a, &b), "1 and 2 threads must give bit-identical models");
  cfg.seed = seed + 1;
  sg_click_model c = train(cpu.x, &d, &cfg, NULL);
  cr_assert(!same_model(&a, &c), "another seed must give another model");
  sg_click_model_free(&a);
  sg_click_model_free(&b);
  sg_click_model_free(&c);
  /* implicit positives with scored negatives: the snapshot and the picks are the same too */
  sg_click_data di = {80, 60, l.n, l.users, l.items, NULL};
  cfg.seed = seed;
  cfg.negatives = 2;
  cfg.negative_candidates = 4;
  a = train(cpu.x, &di, &cfg, NULL);
  b = train(one.x, &di, &cfg, NULL);
  cr_assert(same_model(&a, &b), "scored negatives: 1 and 2 threads must give identical models");
  sg_click_model_free(&a);
  sg_click_model_free(&b);
  ct_close(&one);
  log_free(&l);
  sg_click_model_free(&truth);
}

/* The same past every loop's parallel threshold (batch x dim and validation rows x dim >= 2^20,
 * more than 4,096 users and items, more than 65,536 pairs to score): the small case above
 * runs those loops on one thread whatever the exec says, so a race or a partition that changed
 * the result would pass it. 1 and 3 threads: bit-identical models and scores. */
Test(click_train, is_deterministic_past_the_parallel_thresholds, .timeout = 120) {
  uint64_t seed = ct_seed("is_deterministic_past_the_parallel_thresholds");
  const uint32_t nu = 5000, ni = 4500;
  sg_click_model truth = truth_sized(seed, nu, ni);
  clicklog l = draw_log(&truth, 100000, seed);
  sg_click_data d = {nu, ni, l.n, l.users, l.items, l.labels};
  sg_click_train_config cfg;
  sg_click_train_config_default(&cfg);
  cfg.dim = 32;
  cfg.epochs = 1;
  cfg.batch_size = 40000;
  cfg.valid_fraction = 0.35f; /* 35,000 validation logits x 32 */
  cfg.negatives = 0;
  cfg.seed = seed;
  ct_cpu one = ct_open_cpu(1), three = ct_open_cpu(3);
  sg_click_model a = train(one.x, &d, &cfg, NULL), b = train(three.x, &d, &cfg, NULL);
  cr_assert(same_model(&a, &b), "labelled log: 1 and 3 threads must give bit-identical models");
  sg_click_data di = {nu, ni, l.n, l.users, l.items, NULL};
  cfg.negatives = 1;
  cfg.negative_candidates = 4;
  sg_click_model c = train(one.x, &di, &cfg, NULL), e3 = train(three.x, &di, &cfg, NULL);
  cr_assert(same_model(&c, &e3), "scored negatives: 1 and 3 threads must give identical models");
  /* scores of 70,000 pairs, with and without the interaction term */
  for (int inter = 1; inter >= 0; inter--) {
    a.interaction = inter;
    sg_click_placed *p1 = NULL, *p3 = NULL;
    sg_err e = {0};
    cr_assert_eq(sg_click_place(one.x, &a, &p1, &e), SG_OK, "%s", e.msg);
    cr_assert_eq(sg_click_place(three.x, &a, &p3, &e), SG_OK, "%s", e.msg);
    size_t n = 70000;
    float *s1 = malloc(n * sizeof *s1), *s3 = malloc(n * sizeof *s3);
    cr_assert_eq(sg_click_score(one.x, p1, l.users, l.items, n, s1, &e), SG_OK, "%s", e.msg);
    cr_assert_eq(sg_click_score(three.x, p3, l.users, l.items, n, s3, &e), SG_OK, "%s", e.msg);
    cr_expect(!memcmp(s1, s3, n * sizeof *s1), "interaction %d: 1 and 3 threads score alike",
              inter);
    free(s1);
    free(s3);
    sg_click_unplace(p1);
    sg_click_unplace(p3);
  }
  sg_click_model_free(&a);
  sg_click_model_free(&b);
  sg_click_model_free(&c);
  sg_click_model_free(&e3);
  ct_close(&one);
  ct_close(&three);
  log_free(&l);
  sg_click_model_free(&truth);
}

Test(click_train, early_stopping_keeps_the_best_epoch) {
  uint64_t seed = ct_seed("early_stopping_keeps_the_best_epoch");
  ct_rng g = {seed};
  clicklog l = {3000, malloc(3000 * 4), malloc(3000 * 4), malloc(3000)};
  for (size_t j = 0; j < l.n; j++) { /* pure noise: any fit beyond the base rate overfits */
    l.users[j] = ct_below(&g, 30);
    l.items[j] = ct_below(&g, 30);
    l.labels[j] = (uint8_t)ct_below(&g, 2);
  }
  sg_click_data d = {30, 30, l.n, l.users, l.items, l.labels};
  sg_click_train_config cfg = small_cfg(seed);
  cfg.dim = 32;
  cfg.epochs = 60;
  cfg.lr = 0.05f;
  cfg.l2 = 0.0f;
  cfg.valid_fraction = 0.3f;
  cfg.patience = 2;
  sg_click_train_progress p;
  sg_click_model m = train(cpu.x, &d, &cfg, &p);
  cr_assert(p.finished && p.stopped_early, "finished %d stopped_early %d", p.finished,
            p.stopped_early);
  cr_assert_lt(p.epoch, 60);
  cr_assert_eq(p.epoch, p.best_epoch + 2, "epoch %u best %u", p.epoch, p.best_epoch);
  cr_assert_eq(p.done, p.total);
  cr_assert_leq(p.best_logloss, p.valid_logloss);
  sg_click_model_free(&m);
  log_free(&l);
}

Test(click_train, steps_report_progress) {
  sg_click_model truth = truth_model(3);
  clicklog l = draw_log(&truth, 2000, 3);
  sg_click_data d = {80, 60, l.n, l.users, l.items, l.labels};
  sg_click_train_config cfg = small_cfg(3);
  cfg.valid_fraction = 0.0f;
  cfg.batch_size = 500; /* 2000 rows: 4 batches per epoch */
  sg_err e = {0};
  sg_click_trainer *t = sg_click_train_begin(cpu.x, &d, &cfg, &e);
  cr_assert_not_null(t, "%s", e.msg);
  sg_click_train_progress p;
  sg_click_train_progress_get(t, &p);
  cr_assert(p.done == 0 && p.total == 12 && p.epoch == 0 && p.epochs == 3 && !p.finished);
  cr_assert_eq(sg_click_train_step(t, 1, &p, &e), SG_OK, "%s", e.msg);
  cr_assert(p.done == 1 && p.epoch == 0);
  cr_assert_eq(sg_click_train_step(t, 3, &p, &e), SG_OK, "%s", e.msg);
  cr_assert(p.done == 4 && p.epoch == 1 && isnan(p.valid_auc) && p.best_epoch == 0);
  cr_assert_eq(sg_click_train_step(t, 100, &p, &e), SG_OK, "%s", e.msg);
  cr_assert(p.done == 12 && p.epoch == 3 && p.finished && !p.stopped_early);
  cr_assert_eq(sg_click_train_step(t, 5, &p, &e), SG_OK);
  cr_assert_eq(p.done, 12);
  cr_assert_eq(sg_click_train_step(t, 0, &p, &e), SG_INVALID_ARGUMENT);
  cr_assert_eq(sg_click_train_end(t, NULL, &e), SG_OK); /* cancel: frees everything */
  log_free(&l);
  sg_click_model_free(&truth);
}

Test(click_train, starts_from_the_given_matrices) {
  sg_click_model truth = truth_model(5);
  clicklog l = draw_log(&truth, 1000, 5);
  sg_click_data d = {80, 60, l.n, l.users, l.items, l.labels};
  sg_click_train_config cfg = small_cfg(5);
  cfg.dim = 4;
  cfg.epochs = 1;
  cfg.lr = 1e-30f; /* the parameters stay where they start */
  cfg.valid_fraction = 0.0f;
  cfg.init_users = truth.U;
  cfg.init_items = truth.V;
  sg_click_model m = train(cpu.x, &d, &cfg, NULL);
  cr_assert_arr_eq(m.U, truth.U, 80 * 4 * sizeof(float));
  cr_assert_arr_eq(m.V, truth.V, 60 * 4 * sizeof(float));
  for (int c = 0; c < 4; c++)
    cr_assert_leq(fabsf(m.w[c]), 1e-20f);
  sg_click_model_free(&m);
  log_free(&l);
  sg_click_model_free(&truth);
}

/* Parameter j of a model with dim 4, in the order U, V, w, b. */
static double param(const sg_click_model *m, size_t j) {
  size_t nu = (size_t)m->n_users * 4, nv = (size_t)m->n_items * 4;
  if (j < nu) return m->U[j];
  if (j < nu + nv) return m->V[j - nu];
  if (j < nu + nv + 4) return m->w[j - nu - nv];
  return m->b;
}

/* With one minibatch per epoch, 2 epochs: step 1 is the same under both schedules (cosine factor
 * cos(0) = 1), so the models after it agree, and so do the gradient and the optimizer state that
 * step 2 uses; cosine's step 2 has factor (1 + cos(pi / 2)) / 2 = 1/2, so its move from the
 * 1-epoch model must be half the constant schedule's, coordinate by coordinate. */
static void cosine_halves_the_second_step(sg_click_optimizer opt, float lr) {
  sg_click_model truth = truth_model(11);
  clicklog l = draw_log(&truth, 800, 11);
  sg_click_data d = {80, 60, l.n, l.users, l.items, l.labels};
  sg_click_train_config cfg = small_cfg(11);
  cfg.dim = 4;
  cfg.batch_size = 800;
  cfg.valid_fraction = 0.0f;
  cfg.optimizer = opt;
  cfg.lr = lr;
  cfg.epochs = 1;
  sg_click_model m1 = train(cpu.x, &d, &cfg, NULL);
  cfg.epochs = 2;
  sg_click_model mc = train(cpu.x, &d, &cfg, NULL);
  cfg.lr_schedule = SG_CLICK_LR_COSINE;
  sg_click_model mh = train(cpu.x, &d, &cfg, NULL);
  size_t nu = 80 * 4, nv = 60 * 4, moved = 0;
  double worst = 0.0;
  for (size_t j = 0; j < nu + nv + 4 + 1; j++) { /* U, V, w, b */
    double a = param(&m1, j), c = param(&mc, j), h = param(&mh, j);
    double full = c - a, half = h - a;
    if (fabs(full) > 1e-4) moved++;
    double err = fabs(half - 0.5 * full);
    if (err > worst) worst = err;
  }
  cr_assert_gt(moved, (nu + nv) / 2, "step 2 moved only %zu coordinates", moved);
  cr_assert_leq(worst, 2e-6, "cosine step 2 is not half the constant one (worst %g)", worst);
  sg_click_model_free(&m1);
  sg_click_model_free(&mc);
  sg_click_model_free(&mh);
  log_free(&l);
  sg_click_model_free(&truth);
}

Test(click_train, cosine_schedule_scales_the_step) {
  cosine_halves_the_second_step(SG_CLICK_ADAM, 0.05f);
  /* SGD's steps are the mean gradient's size (about 1e-4 per row here): a larger rate */
  cosine_halves_the_second_step(SG_CLICK_SGD_MOMENTUM, 50.0f);
}

Test(click_train, rejects_bad_data_and_config_naming_the_field) {
  uint32_t users[4] = {0, 1, 2, 9}, items[4] = {0, 1, 2, 3};
  uint8_t labels[4] = {0, 1, 2, 1};
  float bad_init[5 * 6];
  for (int i = 0; i < 30; i++)
    bad_init[i] = 0.0f;
  bad_init[13] = NAN;
  struct {
    const char *msg;
  } want[] = {{"data: n is 0 (no rows)"},
              {"data.users[3]: id 9 >= n_users 5"},
              {"data.labels[2]: 2 is not 0 or 1"},
              {"cfg.dim: 0 is outside [1, 1024]"},
              {"cfg.negatives: 4 with labelled data (must be 0: the log has its negatives)"},
              {"cfg.negatives: 0 is outside [1, 1000] for implicit positives"},
              {"cfg.lr: nan is not a positive number"},
              {"cfg.valid_fraction: 0.95 is outside [0, 0.9]"},
              {"cfg.init_users[13] (row 2, component 1) is nan"},
              {"cfg.optimizer: 7 is not adam (0) or sgd_momentum (1)"},
              {"cfg.epochs: 0"},
              {"cfg.batch_size: 0 is outside [1, 16777216]"},
              {"cfg.init_cols: 16 != cfg.dim 6 (project the features to dim columns)"},
              {"cfg.negative_candidates: 0 is outside [1, 64]"},
              {"cfg.negative_candidates: 4 with labelled data (must be 1: nothing is sampled)"},
              {"cfg.lr_schedule: 5 is not constant (0) or cosine (1)"}};
  for (int t = 0; t < 16; t++) {
    sg_click_data d = {5, 6, 3, users, items, labels};
    sg_click_train_config cfg;
    sg_click_train_config_default(&cfg);
    cfg.negatives = 0;
    cfg.dim = 6;
    switch (t) {
    case 0: d.n = 0; break;
    case 1: d.n = 4; break;
    case 2: labels[2] = 2; break;
    case 3: cfg.dim = 0; break;
    case 4: cfg.negatives = 4; break;
    case 5: d.labels = NULL; break;
    case 6: cfg.lr = NAN; break;
    case 7: cfg.valid_fraction = 0.95f; break;
    case 8: cfg.init_users = bad_init; break;
    case 9: cfg.optimizer = (sg_click_optimizer)7; break;
    case 10: cfg.epochs = 0; break;
    case 11: cfg.batch_size = 0; break;
    case 12:
      cfg.init_users = bad_init;
      cfg.init_cols = 16;
      break;
    case 13: cfg.negative_candidates = 0; break;
    case 14: cfg.negative_candidates = 4; break;
    case 15: cfg.lr_schedule = (sg_click_lr_schedule)5; break;
    }
    if (t != 2) labels[2] = 0;
    if (t == 1) labels[3] = 1;
    sg_err e = {0};
    cr_expect_null(sg_click_train_begin(cpu.x, &d, &cfg, &e), "case %d", t);
    cr_expect_eq(e.code, SG_INVALID_ARGUMENT, "case %d", t);
    cr_expect_str_eq(e.msg, want[t].msg, "case %d", t);
  }
}

Test(click_train, gradient_rejects_bad_input) {
  sg_click_model m;
  ct_random_model(&m, 3, 3, 2, 1, 0.5, 0, 1);
  uint32_t u[2] = {0, 1}, i[2] = {0, 3};
  float y[2] = {1.0f, 0.0f}, gU[6], gV[6], gw[2], gb;
  sg_err e = {0};
  cr_assert_eq(sg_click_gradient(&m, u, i, y, 2, 0.0f, gU, gV, gw, &gb, NULL, &e),
               SG_INVALID_ARGUMENT);
  cr_assert_str_eq(e.msg, "items[1]: id 3 >= n_items 3");
  sg_err_clear(&e);
  cr_assert_eq(sg_click_gradient(&m, u, i, y, 0, 0.0f, gU, gV, gw, &gb, NULL, &e),
               SG_INVALID_ARGUMENT);
  sg_click_model_free(&m);
}
