/* Automatic ARIMA on the CPU backend: KPSS / ndiffs / nsdiffs against R, order recovery on
 * simulated processes (Philox, seed printed), ragged batches with per-series status, the
 * stepwise search against auto.arima's own choices and against the full grid, and the
 * step-able job API. */
#include <criterion/criterion.h>

#include "common/backend.h"
#include "fixtures.h"

static sg_backend *be;
static sg_exec *x;
static void setup(void) {
  sg_err e = {0};
  sg_backend_config cfg = {.kind = SG_BACKEND_CPU};
  be = sg_backend_open(&cfg, &e);
  x = sg_exec_create(be, &e);
}
static void teardown(void) {
  sg_exec_destroy(x);
  sg_backend_close(be);
}
TestSuite(arima_search, .init = setup, .fini = teardown);

Test(arima_search, kpss_ndiffs_nsdiffs_match_r) {
  FILE *f = fopen(SG_ARIMA_DATA_DIR "/kpss.csv", "r");
  cr_assert_not_null(f);
  char line[512], *fl[8];
  int rows = 0;
  int nf;
  while ((nf = fx_next_row(f, line, sizeof line, fl, 8)) >= 0) {
    cr_assert_eq(nf, 6);
    fx_series s;
    cr_assert(fx_load_series(fl[0], &s), "%s", fl[0]);
    double stat = sg_arima_kpss(s.v, (size_t)s.n, atoi(fl[2]));
    double want = strtod(fl[3], NULL);
    cr_expect_float_eq(stat, want, 1e-9 * want, "%s kpss %.12g vs R %.12g", fl[0], stat, want);
    cr_expect_float_eq(sg_arima_kpss(s.v, (size_t)s.n, -1), want, 1e-9 * want, "%s default lag",
                       fl[0]);
    cr_expect_eq(sg_arima_ndiffs(s.v, (size_t)s.n, 2), atoi(fl[4]), "%s ndiffs", fl[0]);
    if (strcmp(fl[5], "NA") != 0) {
      cr_expect_eq(sg_arima_nsdiffs(s.v, (size_t)s.n, s.m), atoi(fl[5]),
                   "%s nsdiffs (strength %.3f)", fl[0],
                   sg_arima_seasonal_strength(s.v, (size_t)s.n, s.m));
    }
    rows++;
  }
  fclose(f);
  cr_assert_geq(rows, 7);
}

Test(arima_search, seasonal_strength_separates_seasonal_from_plain_noise) {
  double y[120], z[120];
  for (int t = 0; t < 120; t++) {
    y[t] = 10.0 * sin(6.283185307179586 * t / 12.0) + fx_normal(7, 1, (uint64_t)t);
    z[t] = fx_normal(7, 2, (uint64_t)t);
  }
  cr_assert_gt(sg_arima_seasonal_strength(y, 120, 12), 0.9);
  cr_assert_lt(sg_arima_seasonal_strength(z, 120, 12), 0.64);
  cr_assert_eq(sg_arima_nsdiffs(y, 120, 12), 1);
  cr_assert_eq(sg_arima_nsdiffs(z, 120, 12), 0);
  cr_assert_eq(sg_arima_nsdiffs(y, 24, 12), 0, "n <= 2m never differences");
}

/* forecast::nsdiffs's seasonal strength (seas.csv, made by make_fixtures.R: STL with s.window
 * 11 as forecast::mstl) on three R datasets and six M3 series within 0.01 of the 0.64 threshold,
 * monthly and quarterly, 36 to 126 values: equal to R's to 1e-9, so D is R's too. */
Test(arima_search, seasonal_strength_matches_r_stl) {
  FILE *f = fopen(SG_ARIMA_DATA_DIR "/seas.csv", "r");
  cr_assert_not_null(f);
  static char line[16384];
  char *fl[160];
  int rows = 0;
  int nf;
  while ((nf = fx_next_row(f, line, sizeof line, fl, 160)) >= 0) {
    double v[150];
    int n = fx_row_series(fl, nf, 3, v, 150), m = atoi(fl[1]);
    cr_assert_gt(n, 2 * m, "%s", fl[0]);
    double want = strtod(fl[2], NULL), got = sg_arima_seasonal_strength(v, (size_t)n, m);
    cr_expect_float_eq(got, want, 1e-9, "%s: strength %.12f vs R %.12f", fl[0], got, want);
    cr_expect_eq(sg_arima_nsdiffs(v, (size_t)n, m), want > 0.64, "%s: nsdiffs", fl[0]);
    rows++;
  }
  fclose(f);
  cr_assert_eq(rows, 9);
}

/* simulated process: expanded polynomials, d, D, and the orders auto.arima should find */
typedef struct proc {
  const char *name;
  double phi[16], theta[16];
  int pf, qf, p, d, q, P, D, Q, m, n;
} proc;

Test(arima_search, recovers_orders_of_simulated_processes) {
  /* a fixed default seed keeps CI deterministic; SG_TEST_SEED=<n> explores others */
  uint64_t seed = getenv("SG_TEST_SEED") ? strtoull(getenv("SG_TEST_SEED"), NULL, 10) : 20240601u;
  printf("seed %llu\n", (unsigned long long)seed);
  proc ps[] = {
      {"ar1", {0.8}, {0}, 1, 0, 1, 0, 0, 0, 0, 0, 1, 200},
      {"ma1", {0}, {0.8}, 0, 1, 0, 0, 1, 0, 0, 0, 1, 200},
      {"arima011", {0}, {-0.6}, 0, 1, 0, 1, 1, 0, 0, 0, 1, 200},
      {"ar2", {1.0, -0.5}, {0}, 2, 0, 2, 0, 0, 0, 0, 0, 1, 200},
      /* (0,1,1)(0,1,1)12: theta(B)Theta(B^12) expanded */
      {"airline",
       {0},
       {-0.4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, -0.6, 0.24},
       0,
       13,
       0,
       1,
       1,
       0,
       1,
       1,
       12,
       144},
  };
  enum { REPS = 6 };
  int total = 0, right = 0, right_d = 0;
  for (size_t pi = 0; pi < SG_ARRAY_LEN(ps); pi++) {
    const proc *pr = &ps[pi];
    double *v = malloc(sizeof(double) * (size_t)pr->n * REPS);
    size_t off[REPS + 1];
    for (int r = 0; r < REPS; r++) {
      off[r] = (size_t)r * (size_t)pr->n;
      fx_simulate(seed, pi * 100 + (uint64_t)r, pr->phi, pr->pf, pr->theta, pr->qf, pr->d, pr->D,
                  pr->m, 10.0, pr->n, v + off[r]);
    }
    off[REPS] = (size_t)REPS * (size_t)pr->n;
    sg_arima_spec spec;
    sg_arima_spec_default(&spec);
    spec.season = pr->m;
    spec.h = 4;
    sg_arima_input in = {.n_series = REPS, .values = v, .offsets = off};
    sg_arima_results *res;
    sg_err e = {0};
    cr_assert_eq(sg_arima_batch_run(x, &in, &spec, &res, &e), SG_OK, "%s", e.msg);
    for (int r = 0; r < REPS; r++) {
      const sg_arima_fit *f = &res->fits[r];
      cr_assert_eq(f->status, SG_ARIMA_OK, "%s: %s", pr->name, f->message);
      int ok = f->p == pr->p && f->q == pr->q && f->P == pr->P && f->Q == pr->Q && f->d == pr->d &&
               f->D == pr->D;
      printf("%-9s rep %d: (%d,%d,%d)(%d,%d,%d)%s\n", pr->name, r, f->p, f->d, f->q, f->P, f->D,
             f->Q, ok ? "" : "  <- differs");
      right += ok;
      right_d += f->d == pr->d && f->D == pr->D;
      total++;
    }
    sg_arima_results_free(res);
    free(v);
  }
  printf("orders recovered: %d / %d, differencing: %d / %d\n", right, total, right_d, total);
  /* measured over seeds 1-20: exact orders 12-20 of 30 (16 with the default seed), d and D
   * 23-27 of 30 (AICc often adds an AR or MA term that the sample supports). The bound, 40 %,
   * holds for every one of those seeds: it catches a broken search, not AICc's variance (a
   * majority bound would sit at the default seed's count exactly, and fail on 6 seeds of 20). */
  cr_expect_geq(right * 5, total * 2, "orders recovered in %d of %d (seed %llu)", right, total,
                (unsigned long long)seed);
  cr_expect_geq(right_d * 4, total * 3, "d and D right in %d of %d", right_d, total);
}

Test(arima_search, ragged_batch_reports_per_series_status_and_matches_single_fits) {
  fx_series lh, usacc, www;
  cr_assert(fx_load_series("lh", &lh) && fx_load_series("usacc", &usacc) &&
            fx_load_series("www", &www));
  double v[1024];
  size_t off[8], at = 0;
  const fx_series *ser[3] = {&lh, &www, &usacc};
  off[0] = 0;
  for (int i = 0; i < 3; i++) { /* three real series of lengths 48, 100, 72 */
    memcpy(v + at, ser[i]->v, sizeof(double) * (size_t)ser[i]->n);
    at += (size_t)ser[i]->n;
    off[i + 1] = at;
  }
  double bad[] = {1, 2, NAN, 4, 5, 6, 7, 8}, cst[] = {3, 3, 3, 3, 3, 3, 3, 3, 3, 3},
         tiny[] = {1, 2};
  memcpy(v + at, bad, sizeof bad), at += 8, off[4] = at;
  memcpy(v + at, cst, sizeof cst), at += 10, off[5] = at;
  memcpy(v + at, tiny, sizeof tiny), at += 2, off[6] = at;
  off[7] = at; /* an empty series */
  sg_arima_spec spec;
  sg_arima_spec_default(&spec);
  spec.season = 12;
  spec.h = 6;
  sg_arima_input in = {.n_series = 7, .values = v, .offsets = off};
  sg_arima_results *res;
  sg_err e = {0};
  cr_assert_eq(sg_arima_batch_run(x, &in, &spec, &res, &e), SG_OK, "%s", e.msg);
  int want[] = {SG_ARIMA_OK,       SG_ARIMA_OK,        SG_ARIMA_OK,       SG_ARIMA_MISSING,
                SG_ARIMA_CONSTANT, SG_ARIMA_TOO_SHORT, SG_ARIMA_TOO_SHORT};
  for (int i = 0; i < 7; i++) {
    cr_expect_eq(res->fits[i].status, want[i], "series %d: %s (%s)", i,
                 sg_arima_status_name(res->fits[i].status), res->fits[i].message);
  }
  cr_expect(strstr(res->fits[3].message, "value 2"), "%s", res->fits[3].message);
  cr_expect(isnan(res->mean[3 * 6]));
  for (int k = 0; k < 6; k++) {
    cr_expect_eq(res->mean[4 * 6 + k], 3.0, "constant forecast");
    cr_expect_eq(res->lower[(4 * 2 + 1) * 6 + k], 3.0);
    cr_expect_eq(res->upper[(4 * 2 + 1) * 6 + k], 3.0);
  }
  /* each real series alone gives the same answer as inside the ragged batch */
  for (int i = 0; i < 3; i++) {
    size_t o1[2] = {0, off[i + 1] - off[i]};
    sg_arima_input one = {.n_series = 1, .values = v + off[i], .offsets = o1};
    sg_arima_results *r1;
    cr_assert_eq(sg_arima_batch_run(x, &one, &spec, &r1, &e), SG_OK);
    cr_expect_eq(r1->fits[0].p, res->fits[i].p);
    cr_expect_eq(r1->fits[0].Q, res->fits[i].Q);
    for (int k = 0; k < 6; k++)
      cr_expect_eq(r1->mean[k], res->mean[i * 6 + k], "series %d h %d", i, k);
    sg_arima_results_free(r1);
  }
  sg_arima_results_free(res);
}

/* auto.arima's own choices on five M3 yearly series (auto.csv, made by make_fixtures.R): two
 * where the null model without drift wins the start and the moves go on with drift, two where
 * candidates with a non-stationary CSS AR estimate must fail as in R, and N478, where R's BFGS
 * stops at an AR(2) with roots of modulus 1.020 (the optimum, at 1.003, would be rejected). Same
 * order, constant and AICc. Then a fixed order on N94 whose CSS AR estimate is non-stationary is
 * still fitted. */
Test(arima_search, stepwise_makes_auto_arimas_choices) {
  FILE *f = fopen(SG_ARIMA_DATA_DIR "/auto.csv", "r");
  cr_assert_not_null(f);
  static char line[8192];
  char *fl[128];
  int rows = 0;
  double n94[64];
  int n94_n = 0;
  sg_err e = {0};
  int nf;
  while ((nf = fx_next_row(f, line, sizeof line, fl, 128)) >= 0) {
    double v[64];
    int n = fx_row_series(fl, nf, 6, v, 64);
    cr_assert_gt(n, 0, "%s", fl[0]);
    if (!strcmp(fl[0], "N94")) memcpy(n94, v, sizeof(double) * (size_t)(n94_n = n));
    sg_arima_spec spec;
    sg_arima_spec_default(&spec);
    spec.season = 1;
    spec.h = 6;
    size_t off[2] = {0, (size_t)n};
    sg_arima_input in = {.n_series = 1, .values = v, .offsets = off};
    sg_arima_results *r;
    cr_assert_eq(sg_arima_batch_run(x, &in, &spec, &r, &e), SG_OK, "%s", e.msg);
    const sg_arima_fit *ft = &r->fits[0];
    double aicc = strtod(fl[5], NULL);
    cr_expect_eq(ft->status, SG_ARIMA_OK, "%s: %s", fl[0], ft->message);
    cr_expect(ft->p == atoi(fl[1]) && ft->d == atoi(fl[2]) && ft->q == atoi(fl[3]) &&
                  (ft->has_mean || ft->has_drift) == atoi(fl[4]),
              "%s: chose (%d,%d,%d) constant %d, auto.arima (%s,%s,%s) constant %s", fl[0], ft->p,
              ft->d, ft->q, ft->has_mean || ft->has_drift, fl[1], fl[2], fl[3], fl[4]);
    cr_expect_float_eq(ft->aicc, aicc, 1e-6 * fabs(aicc), "%s: AICc %.9g vs R %.9g", fl[0],
                       ft->aicc, aicc);
    sg_arima_results_free(r);
    rows++;
  }
  fclose(f);
  cr_assert_eq(rows, 5);
  cr_assert_gt(n94_n, 0);
  sg_arima_spec spec;
  sg_arima_spec_default(&spec);
  spec.season = 1;
  spec.h = 6;
  spec.search = SG_ARIMA_FIXED;
  spec.p = 2, spec.q = 0, spec.d = 2;
  size_t off[2] = {0, (size_t)n94_n};
  sg_arima_input in = {.n_series = 1, .values = n94, .offsets = off};
  sg_arima_results *r;
  cr_assert_eq(sg_arima_batch_run(x, &in, &spec, &r, &e), SG_OK, "%s", e.msg);
  cr_expect_eq(r->fits[0].status, SG_ARIMA_OK, "%s", r->fits[0].message);
  cr_expect(isfinite(r->fits[0].loglik) && isfinite(r->mean[5]));
  double w[2];
  /* the fitted AR part is stationary: 1 - a1 z - a2 z^2 has its roots outside the unit circle */
  w[0] = r->fits[0].coef[0], w[1] = r->fits[0].coef[1];
  cr_expect(fabs(w[1]) < 1.0 && w[1] + w[0] < 1.0 && w[1] - w[0] < 1.0, "ar %.4f %.4f", w[0], w[1]);
  sg_arima_results_free(r);
}

Test(arima_search, grid_is_never_worse_than_stepwise) {
  fx_series s;
  cr_assert(fx_load_series("usacc", &s));
  size_t off[2] = {0, (size_t)s.n};
  sg_arima_input in = {.n_series = 1, .values = s.v, .offsets = off};
  sg_arima_spec spec;
  sg_arima_spec_default(&spec);
  spec.season = 12;
  spec.max_p = spec.max_q = 2;
  spec.max_P = spec.max_Q = 1;
  spec.max_order = 0;
  sg_arima_results *sw, *gr;
  sg_err e = {0};
  cr_assert_eq(sg_arima_batch_run(x, &in, &spec, &sw, &e), SG_OK, "%s", e.msg);
  spec.search = SG_ARIMA_GRID;
  cr_assert_eq(sg_arima_batch_run(x, &in, &spec, &gr, &e), SG_OK, "%s", e.msg);
  printf("stepwise (%d,%d,%d)(%d,%d,%d) aicc %.3f after %d fits; grid (%d,%d,%d)(%d,%d,%d) aicc "
         "%.3f after %d fits\n",
         sw->fits[0].p, sw->fits[0].d, sw->fits[0].q, sw->fits[0].P, sw->fits[0].D, sw->fits[0].Q,
         sw->fits[0].aicc, sw->fits[0].models_fitted, gr->fits[0].p, gr->fits[0].d, gr->fits[0].q,
         gr->fits[0].P, gr->fits[0].D, gr->fits[0].Q, gr->fits[0].aicc, gr->fits[0].models_fitted);
  cr_expect_eq(gr->fits[0].models_fitted, 3 * 3 * 2 * 2,
               "every order once (d + D = 2: no constant)");
  cr_expect_leq(gr->fits[0].aicc, sw->fits[0].aicc + 1e-6);
  sg_arima_results_free(sw);
  sg_arima_results_free(gr);
}

Test(arima_search, steps_report_progress_and_equal_one_run) {
  fx_series s;
  cr_assert(fx_load_series("www", &s));
  enum { NS = 7 };
  double v[NS * 100];
  size_t off[NS + 1];
  for (int i = 0; i <= NS; i++)
    off[i] = (size_t)i * 60;
  for (int i = 0; i < NS; i++)
    memcpy(v + off[i], s.v + 5 * i, sizeof(double) * 60);
  sg_arima_input in = {.n_series = NS, .values = v, .offsets = off};
  sg_arima_spec spec;
  sg_arima_spec_default(&spec);
  spec.h = 3;
  sg_arima_job *job;
  sg_err e = {0};
  cr_assert_eq(sg_arima_batch_begin(x, &in, &spec, &job, &e), SG_OK, "%s", e.msg);
  sg_arima_progress pr;
  size_t seen[4], nsteps = 0;
  do {
    cr_assert_eq(sg_arima_batch_step(job, 2, &pr, &e), SG_OK);
    seen[nsteps++] = pr.done;
  } while (pr.done < pr.total && nsteps < 4);
  cr_expect_eq(nsteps, 4);
  cr_expect_eq(seen[0], 2);
  cr_expect_eq(seen[3], 7);
  cr_expect_eq(pr.total, 7);
  cr_expect_eq(pr.ok, 7);
  sg_arima_results *a, *b;
  sg_arima_batch_end(job, &a);
  cr_assert_eq(sg_arima_batch_run(x, &in, &spec, &b, &e), SG_OK);
  for (size_t i = 0; i < NS * 3; i++)
    cr_expect_eq(a->mean[i], b->mean[i]);
  sg_arima_results_free(a);
  sg_arima_results_free(b);
  /* a job ended early reports the rest as pending */
  cr_assert_eq(sg_arima_batch_begin(x, &in, &spec, &job, &e), SG_OK);
  cr_assert_eq(sg_arima_batch_step(job, 3, &pr, &e), SG_OK);
  sg_arima_batch_end(job, &a);
  cr_expect_eq(a->fits[2].status, SG_ARIMA_OK);
  cr_expect_eq(a->fits[3].status, SG_ARIMA_PENDING);
  sg_arima_results_free(a);
}
