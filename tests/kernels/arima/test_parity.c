/* The CUDA backend against the CPU backend (label gpu): fixed-order fits of the R fixture series
 * (coefficients, loglik, forecasts within 1e-6 relative: same double-precision code, different
 * FMA contraction), and a ragged simulated batch through the stepwise search and the full grid
 * (the same order for >= 95 % of series; those agree within 1e-5 relative). */
#include <criterion/criterion.h>

#include "common/backend.h"
#include "fixtures.h"

static sg_backend *cpu, *gpu;
static sg_exec *xc, *xg;
static void setup(void) {
  sg_err e = {0};
  sg_backend_config cc = {.kind = SG_BACKEND_CPU}, gc = {.kind = SG_BACKEND_CUDA};
  cpu = sg_backend_open(&cc, &e);
  gpu = sg_backend_open(&gc, &e);
  cr_assert_not_null(gpu, "%s", e.msg);
  xc = sg_exec_create(cpu, &e);
  xg = sg_exec_create(gpu, &e);
  cr_assert_not_null(xg, "%s", e.msg);
}
static void teardown(void) {
  sg_exec_destroy(xc);
  sg_exec_destroy(xg);
  sg_backend_close(cpu);
  sg_backend_close(gpu);
}
TestSuite(arima_parity, .init = setup, .fini = teardown);

static int close_rel(double a, double b, double tol) {
  if (isnan(a) || isnan(b)) return isnan(a) && isnan(b);
  return fabs(a - b) <= tol * (1.0 + fabs(a) + fabs(b));
}

/* The batch on the cpu (a) and on cuda (b). */
static void run_both(const sg_arima_input *in, const sg_arima_spec *spec, sg_arima_results **a,
                     sg_arima_results **b) {
  sg_err e = {0};
  cr_assert_eq(sg_arima_batch_run(xc, in, spec, a, &e), SG_OK, "cpu: %s", e.msg);
  cr_assert_eq(sg_arima_batch_run(xg, in, spec, b, &e), SG_OK, "cuda: %s", e.msg);
}

Test(arima_parity, fixed_orders_match_the_cpu) {
  const char *names[] = {"lh", "usacc", "logair", "www", "logukgas", "nile"};
  int orders[][7] = {{1, 0, 1, 0, 0, 0, 1}, {0, 1, 1, 0, 1, 1, 0}, {0, 1, 1, 0, 1, 1, 0},
                     {1, 1, 1, 0, 0, 0, 0}, {1, 1, 0, 0, 1, 1, 0}, {0, 1, 2, 0, 0, 0, 0}};
  for (size_t i = 0; i < SG_ARRAY_LEN(names); i++) {
    fx_series s;
    cr_assert(fx_load_series(names[i], &s));
    size_t off[2] = {0, (size_t)s.n};
    sg_arima_input in = {.n_series = 1, .values = s.v, .offsets = off};
    sg_arima_spec spec;
    sg_arima_spec_default(&spec);
    spec.season = s.m;
    spec.search = SG_ARIMA_FIXED;
    spec.p = orders[i][0], spec.d = orders[i][1], spec.q = orders[i][2];
    spec.P = orders[i][3], spec.D = orders[i][4], spec.Q = orders[i][5];
    spec.constant = orders[i][6] ? SG_ARIMA_CONST_ALWAYS : SG_ARIMA_CONST_NONE;
    spec.method = SG_ARIMA_METHOD_ML;
    spec.h = 12;
    sg_arima_results *a, *b;
    run_both(&in, &spec, &a, &b);
    cr_expect_eq(a->fits[0].status, b->fits[0].status, "%s", names[i]);
    cr_expect(close_rel(a->fits[0].loglik, b->fits[0].loglik, 1e-6), "%s loglik %.10g vs %.10g",
              names[i], a->fits[0].loglik, b->fits[0].loglik);
    for (int j = 0; j < a->fits[0].n_coef; j++)
      cr_expect(close_rel(a->fits[0].coef[j], b->fits[0].coef[j], 1e-6), "%s coef %d", names[i], j);
    for (int k = 0; k < 12; k++) {
      cr_expect(close_rel(a->mean[k], b->mean[k], 1e-6), "%s mean %d", names[i], k);
      cr_expect(close_rel(a->upper[12 + k], b->upper[12 + k], 1e-6), "%s upper %d", names[i], k);
    }
    sg_arima_results_free(a);
    sg_arima_results_free(b);
  }
}

static void compare_search(sg_arima_search search) {
  enum { NS = 70 }; /* not a multiple of 32: the grid kernel's last tile of series is partial */
  double *v = malloc(sizeof(double) * NS * 150);
  size_t off[NS + 1];
  double theta[13] = {-0.4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -0.6, 0.24};
  off[0] = 0;
  for (int i = 0; i < NS; i++) {
    int n = 60 + (i * 37) % 90; /* ragged: 60..149 */
    fx_simulate(99, (uint64_t)i, NULL, 0, theta, 13, 1, 1, 12, 100.0, n, v + off[i]);
    off[i + 1] = off[i] + (size_t)n;
  }
  v[off[5] + 3] = NAN; /* one missing value */
  sg_arima_input in = {.n_series = NS, .values = v, .offsets = off};
  sg_arima_spec spec;
  sg_arima_spec_default(&spec);
  spec.season = 12;
  spec.search = search;
  spec.h = 18;
  if (search == SG_ARIMA_GRID) spec.max_p = spec.max_q = 2, spec.max_P = spec.max_Q = 1;
  sg_arima_results *a, *b;
  run_both(&in, &spec, &a, &b);
  int same = 0;
  for (int i = 0; i < NS; i++) {
    const sg_arima_fit *f = &a->fits[i], *g = &b->fits[i];
    cr_expect_eq(f->status, g->status, "series %d", i);
    int eq = f->p == g->p && f->q == g->q && f->P == g->P && f->Q == g->Q && f->d == g->d &&
             f->D == g->D && f->has_drift == g->has_drift;
    same += eq;
    if (search == SG_ARIMA_GRID) {
      /* the grid tries the same candidates on both; floating point may only flip a near tie */
      cr_expect_eq(f->models_fitted, g->models_fitted, "series %d: candidates tried", i);
      if (!eq && f->status == SG_ARIMA_OK)
        cr_expect(close_rel(f->aicc, g->aicc, 1e-6),
                  "series %d: another order (%d,%d,%d)(%d,%d,%d) vs (%d,%d,%d)(%d,%d,%d) with "
                  "aicc %.10g vs %.10g is no tie",
                  i, f->p, f->d, f->q, f->P, f->D, f->Q, g->p, g->d, g->q, g->P, g->D, g->Q,
                  f->aicc, g->aicc);
    }
    if (!eq || f->status != SG_ARIMA_OK) continue;
    for (int k = 0; k < 18; k++)
      cr_expect(close_rel(a->mean[i * 18 + k], b->mean[i * 18 + k], 1e-5), "series %d h %d", i, k);
  }
  printf("%s: same order for %d of %d series\n", search == SG_ARIMA_GRID ? "grid" : "stepwise",
         same, NS);
  cr_expect_geq(same * 100, NS * 95);
  sg_arima_results_free(a);
  sg_arima_results_free(b);
  free(v);
}

/* Series that get no model (too short, constant, a missing value) come back field for field as
 * on the CPU, whatever the device memory held before (the device does not zero it). */
Test(arima_parity, series_without_a_model_match_the_cpu_field_for_field) {
  double v[2 + 30 + 30 + 40];
  size_t off[5] = {0, 2, 32, 62, 102};
  v[0] = 1, v[1] = 2;
  for (int i = 0; i < 30; i++)
    v[2 + i] = 7.0, v[32 + i] = i % 3 == 2 ? NAN : i;
  for (int i = 0; i < 40; i++)
    v[62 + i] = 10 + (i * 7919) % 13;
  sg_arima_input in = {.n_series = 4, .values = v, .offsets = off};
  for (int search = 0; search < 3; search++) {
    sg_arima_spec spec;
    sg_arima_spec_default(&spec);
    spec.h = 4;
    spec.search = search == 0 ? SG_ARIMA_STEPWISE : search == 1 ? SG_ARIMA_GRID : SG_ARIMA_FIXED;
    sg_arima_results *a, *b;
    run_both(&in, &spec, &a, &b);
    for (int i = 0; i < 3; i++) {
      const sg_arima_fit *f = &a->fits[i], *g = &b->fits[i];
      cr_assert_neq(f->status, SG_ARIMA_OK, "search %d series %d", search, i);
      cr_expect_eq(f->status, g->status, "search %d series %d", search, i);
      cr_expect_str_eq(f->message, g->message, "search %d series %d", search, i);
      int same = f->p == g->p && f->d == g->d && f->q == g->q && f->P == g->P && f->D == g->D &&
                 f->Q == g->Q && f->m == g->m && f->has_mean == g->has_mean &&
                 f->has_drift == g->has_drift && f->n_coef == g->n_coef && f->n_used == g->n_used &&
                 f->exact == g->exact && f->models_fitted == g->models_fitted;
      cr_expect(same,
                "search %d series %d: order (%d,%d,%d)(%d,%d,%d)[%d] n_coef %d vs "
                "(%d,%d,%d)(%d,%d,%d)[%d] n_coef %d",
                search, i, f->p, f->d, f->q, f->P, f->D, f->Q, f->m, f->n_coef, g->p, g->d, g->q,
                g->P, g->D, g->Q, g->m, g->n_coef);
      cr_expect(g->n_coef >= 0 && g->n_coef <= SG_ARIMA_MAX_COEF, "n_coef %d", g->n_coef);
      for (int j = 0; j < f->n_coef && j < SG_ARIMA_MAX_COEF; j++)
        cr_expect(f->coef[j] == g->coef[j], "search %d series %d coef %d", search, i, j);
      int stats = (f->sigma2 == g->sigma2 || (isnan(f->sigma2) && isnan(g->sigma2))) &&
                  (f->loglik == g->loglik || (isnan(f->loglik) && isnan(g->loglik))) &&
                  (f->aicc == g->aicc || (isnan(f->aicc) && isnan(g->aicc)));
      cr_expect(stats, "search %d series %d: sigma2 %g loglik %g aicc %g vs %g %g %g", search, i,
                f->sigma2, f->loglik, f->aicc, g->sigma2, g->loglik, g->aicc);
    }
    sg_arima_results_free(a);
    sg_arima_results_free(b);
  }
}

/* Regression with ARIMA errors (a promotion flag and a price) on the device: the regressors and
 * their future values travel with the series. */
Test(arima_parity, exogenous_regressors_match_the_cpu) {
  enum { NS = 12, NX = 2, H = 6 };
  size_t off[NS + 1];
  off[0] = 0;
  for (int i = 0; i < NS; i++)
    off[i + 1] = off[i] + 48 + (size_t)(i * 7) % 40; /* ragged: 48..87 */
  size_t total = off[NS];
  double *v = malloc(total * sizeof *v), *x = malloc(total * NX * sizeof *x);
  double *xf = malloc((size_t)NS * H * NX * sizeof *xf);
  uint64_t r = 12345;
  for (int i = 0; i < NS; i++) {
    double e = 0;
    for (size_t t = off[i]; t < off[i + 1]; t++) {
      r = r * 6364136223846793005ull + 1442695040888963407ull;
      double u = (double)(r >> 11) / 9007199254740992.0 - 0.5;
      double promo = (t - off[i]) % 9 < 2, price = 10 + (double)((t - off[i]) % 5);
      e = 0.6 * e + 4 * u;
      v[t] = 50 + i + 8 * promo - 3 * price + e;
      x[t * NX] = promo, x[t * NX + 1] = price;
    }
    for (int k = 0; k < H; k++)
      xf[((size_t)i * H + k) * NX] = k % 3 == 0, xf[((size_t)i * H + k) * NX + 1] = 11 + k % 2;
  }
  sg_arima_input in = {
      .n_series = NS, .values = v, .offsets = off, .n_xreg = NX, .xreg = x, .xreg_future = xf};
  sg_arima_spec spec;
  sg_arima_spec_default(&spec);
  spec.h = H;
  sg_arima_results *a, *b;
  run_both(&in, &spec, &a, &b);
  int same = 0;
  for (int i = 0; i < NS; i++) {
    const sg_arima_fit *f = &a->fits[i], *g = &b->fits[i];
    cr_assert_eq(f->status, SG_ARIMA_OK, "series %d: %s", i, f->message);
    cr_expect_eq(f->status, g->status, "series %d", i);
    int eq = f->p == g->p && f->q == g->q && f->d == g->d && f->n_coef == g->n_coef;
    same += eq;
    if (!eq) continue;
    /* the regression coefficients come last: promotion about +8, price about -3 */
    cr_expect(fabs(f->coef[f->n_coef - 2] - 8) < 2 && fabs(f->coef[f->n_coef - 1] + 3) < 1,
              "series %d: promo %g price %g", i, f->coef[f->n_coef - 2], f->coef[f->n_coef - 1]);
    for (int j = 0; j < f->n_coef; j++)
      cr_expect(close_rel(f->coef[j], g->coef[j], 1e-6), "series %d coef %d", i, j);
    for (int k = 0; k < H; k++)
      cr_expect(close_rel(a->mean[i * H + k], b->mean[i * H + k], 1e-6), "series %d h %d", i, k);
  }
  cr_expect_geq(same * 100, NS * 90, "same order for %d of %d series", same, NS);
  sg_arima_results_free(a);
  sg_arima_results_free(b);
  free(v);
  free(x);
  free(xf);
}

Test(arima_parity, stepwise_search_matches_the_cpu) { compare_search(SG_ARIMA_STEPWISE); }
Test(arima_parity, grid_search_matches_the_cpu) { compare_search(SG_ARIMA_GRID); }
