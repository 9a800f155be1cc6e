/* Fits and forecasts against R (stats::arima + predict, fixtures from make_fixtures.R): exact
 * ML and CSS log-likelihoods, sigma^2, coefficients, forecast means and standard errors for
 * non-seasonal, seasonal, regression (xreg) and drift models; the exact likelihood at fixed
 * parameters near a unit root (where R counts only steps with prediction variance < 1e4); and
 * R's maInvert (MA roots inside the unit circle reflected) against polynomials built from known
 * roots. */
#include <criterion/criterion.h>

#include "arima/arima_fit.h"
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
TestSuite(arima_fit, .init = setup, .fini = teardown);

typedef struct rcase {
  char name[40], series[32], method[8], xreg[32];
  int p, d, q, P, D, Q, m, mean, ncoef;
  double loglik, sigma2, aic, coef[16];
  double fmean[12], fse[12];
} rcase;

static int load_cases(rcase *cs, int cap) {
  FILE *f = fopen(SG_ARIMA_DATA_DIR "/fits.csv", "r");
  cr_assert_not_null(f, "fits.csv");
  char line[4096], *fl[40];
  int n = 0;
  while (fgets(line, sizeof line, f) && n < cap) {
    if (line[0] == '#') continue;
    int nf = fx_split(line, fl, 40);
    cr_assert_geq(nf, 16);
    rcase *c = &cs[n++];
    snprintf(c->name, sizeof c->name, "%s", fl[0]);
    snprintf(c->series, sizeof c->series, "%s", fl[1]);
    c->p = atoi(fl[2]), c->d = atoi(fl[3]), c->q = atoi(fl[4]);
    c->P = atoi(fl[5]), c->D = atoi(fl[6]), c->Q = atoi(fl[7]), c->m = atoi(fl[8]);
    snprintf(c->method, sizeof c->method, "%s", fl[9]);
    c->mean = atoi(fl[10]);
    snprintf(c->xreg, sizeof c->xreg, "%s", fl[11]);
    c->loglik = strtod(fl[12], NULL), c->sigma2 = strtod(fl[13], NULL);
    c->aic = strcmp(fl[14], "NA") ? strtod(fl[14], NULL) : NAN;
    c->ncoef = atoi(fl[15]);
    for (int i = 0; i < c->ncoef; i++)
      c->coef[i] = strtod(fl[16 + i], NULL);
  }
  fclose(f);
  f = fopen(SG_ARIMA_DATA_DIR "/forecasts.csv", "r");
  cr_assert_not_null(f, "forecasts.csv");
  while (fgets(line, sizeof line, f)) {
    if (line[0] == '#') continue;
    int nf = fx_split(line, fl, 40);
    cr_assert_eq(nf, 4);
    for (int i = 0; i < n; i++) {
      if (strcmp(cs[i].name, fl[0]) != 0) continue;
      int k = atoi(fl[1]) - 1;
      cs[i].fmean[k] = strtod(fl[2], NULL);
      cs[i].fse[k] = strtod(fl[3], NULL);
    }
  }
  fclose(f);
  return n;
}

/* Fits case c on the CPU backend; returns results (caller frees). */
static sg_arima_results *fit_case(const rcase *c, int h, sg_arima_optimizer opt) {
  fx_series s;
  cr_assert(fx_load_series(c->series, &s), "series %s", c->series);
  sg_arima_spec spec;
  sg_arima_spec_default(&spec);
  spec.season = c->m;
  spec.search = SG_ARIMA_FIXED;
  spec.p = c->p, spec.d = c->d, spec.q = c->q, spec.P = c->P, spec.D = c->D, spec.Q = c->Q;
  spec.method = strcmp(c->method, "CSS") == 0 ? SG_ARIMA_METHOD_CSS : SG_ARIMA_METHOD_ML;
  int drift = strcmp(c->xreg, "drift") == 0;
  spec.constant = c->mean || drift ? SG_ARIMA_CONST_ALWAYS : SG_ARIMA_CONST_NONE;
  spec.h = h;
  spec.optimizer = opt;
  size_t off[2] = {0, (size_t)s.n};
  double xr[512], xf[64];
  sg_arima_input in = {.n_series = 1, .values = s.v, .offsets = off};
  if (strncmp(c->xreg, "time:", 5) == 0) {
    double s0 = strtod(c->xreg + 5, NULL);
    for (int t = 0; t < s.n; t++)
      xr[t] = s0 + t;
    for (int k = 0; k < h; k++)
      xf[k] = s0 + s.n + k;
    in.n_xreg = 1, in.xreg = xr, in.xreg_future = xf;
  }
  sg_arima_results *r = NULL;
  sg_err e = {0};
  cr_assert_eq(sg_arima_batch_run(x, &in, &spec, &r, &e), SG_OK, "%s: %s", c->name, e.msg);
  return r;
}

static void expect_r_fits(sg_arima_optimizer opt) {
  rcase cs[32];
  int n = load_cases(cs, 32);
  cr_assert_geq(n, 10);
  for (int i = 0; i < n; i++) {
    const rcase *c = &cs[i];
    sg_arima_results *r = fit_case(c, 12, opt);
    const sg_arima_fit *f = &r->fits[0];
    cr_assert_eq(f->status, SG_ARIMA_OK, "%s: %s", c->name, f->message);
    cr_assert_eq(f->n_coef, c->ncoef, "%s", c->name);
    printf("%-20s loglik %.6f (R %.6f) sigma2 %.6g (R %.6g)\n", c->name, f->loglik, c->loglik,
           f->sigma2, c->sigma2);
    /* both optimisers stop at reltol 1e-8 of the objective (coefficients agree to ~1e-4); R's
     * diffuse prior (kappa 1e6) for the differencing states moves its loglik by up to ~3e-3 */
    cr_expect_float_eq(f->loglik, c->loglik, 5e-3 + 1e-5 * fabs(c->loglik),
                       "%s loglik %.8f vs %.8f", c->name, f->loglik, c->loglik);
    cr_expect_float_eq(f->sigma2, c->sigma2, 2e-3 * c->sigma2, "%s sigma2 %.8g vs %.8g", c->name,
                       f->sigma2, c->sigma2);
    if (!isnan(c->aic)) {
      cr_expect_float_eq(f->aic, c->aic, 1e-2, "%s aic", c->name);
      /* BIC from R's AIC as forecast::Arima defines it: npar = coefficients + sigma^2, over the
       * n - d - D·m observations the likelihood counts */
      fx_series s;
      cr_assert(fx_load_series(c->series, &s), "series %s", c->series);
      int npar = c->ncoef + 1, nstar = s.n - c->d - c->D * c->m;
      double bic = c->aic + npar * (log((double)nstar) - 2.0);
      cr_expect_float_eq(f->bic, bic, 1e-2, "%s bic %.6f vs %.6f (npar %d, n* %d)", c->name, f->bic,
                         bic, npar, nstar);
    }
    for (int j = 0; j < c->ncoef; j++) {
      double tol = 5e-3 * (1.0 + fabs(c->coef[j]));
      printf("   coef %d: %.6f (R %.6f)\n", j, f->coef[j], c->coef[j]);
      cr_expect_float_eq(f->coef[j], c->coef[j], tol, "%s coef %d: %.6f vs %.6f", c->name, j,
                         f->coef[j], c->coef[j]);
    }
    sg_arima_results_free(r);
  }
}

/* R's own optimiser (the default) and LM both reach R's fits */
Test(arima_fit, matches_r_loglik_sigma2_and_coefficients) { expect_r_fits(SG_ARIMA_OPT_BFGS); }

Test(arima_fit, lm_matches_r_loglik_sigma2_and_coefficients) { expect_r_fits(SG_ARIMA_OPT_LM); }

Test(arima_fit, forecasts_and_intervals_match_r_predict) {
  rcase cs[32];
  int n = load_cases(cs, 32);
  for (int i = 0; i < n; i++) {
    const rcase *c = &cs[i];
    sg_arima_results *r = fit_case(c, 12, SG_ARIMA_OPT_BFGS);
    cr_assert_eq(r->n_levels, 2);
    double z95 = 1.959963984540054;
    for (int k = 0; k < 12; k++) {
      double mu = r->mean[k], up = r->upper[1 * 12 + k], lo = r->lower[1 * 12 + k];
      double se = (up - mu) / z95;
      cr_expect_float_eq(mu - lo, up - mu, 1e-9 * (1 + fabs(mu)), "%s symmetric", c->name);
      double scale = c->fse[0];
      cr_expect_float_eq(mu, c->fmean[k], 5e-3 * scale + 1e-6 * fabs(c->fmean[k]),
                         "%s mean h=%d: %.8g vs %.8g", c->name, k + 1, mu, c->fmean[k]);
      cr_expect_float_eq(se, c->fse[k], 3e-3 * c->fse[k], "%s se h=%d: %.8g vs %.8g", c->name,
                         k + 1, se, c->fse[k]);
      double z80 = 1.2815515655446004;
      cr_expect_float_eq(r->upper[k] - mu, z80 * se, 1e-9 * (1 + se), "%s 80%% width", c->name);
    }
    sg_arima_results_free(r);
  }
}

/* 1 + c1 z + ... from its roots: (1 - z/r1)(1 - z/r2) and (1 - z/3)(1 - z/r)(1 - z/conj r) with
 * r = 0.5 e^{i pi/3}; reflecting the roots inside the circle gives (1 - z/2)^2 and
 * (1 - z/3)(1 - z/s)(1 - z/conj s), s = 2 e^{i pi/3}, coefficients worked out by hand. */
Test(arima_fit, ma_invert_reflects_the_roots_inside_the_unit_circle) {
  double w[16];
  double c2[2] = {-2.5, 1.0}; /* roots 0.5 and 2 */
  cr_assert_eq(sg__arima_ma_invert(2, c2, w), 1);
  cr_expect_float_eq(c2[0], -1.0, 1e-12, "%.15g", c2[0]);
  cr_expect_float_eq(c2[1], 0.25, 1e-12, "%.15g", c2[1]);
  double c3[3] = {-2.0 - 1.0 / 3.0, 4.0 + 2.0 / 3.0, -4.0 / 3.0};
  cr_assert_eq(sg__arima_ma_invert(3, c3, w), 1);
  double want[3] = {-0.5 - 1.0 / 3.0, 0.25 + 0.5 / 3.0, -0.25 / 3.0};
  for (int i = 0; i < 3; i++)
    cr_expect_float_eq(c3[i], want[i], 1e-12, "c%d %.15g vs %.15g", i + 1, c3[i], want[i]);
  cr_expect(sg__arima_roots_outside(3, c3, -1.0, 1.0, w));
  double c1[1] = {2.0}; /* 1 + 2z: root -0.5 -> 1 + 0.5z */
  cr_assert_eq(sg__arima_ma_invert(1, c1, w), 1);
  cr_expect_float_eq(c1[0], 0.5, 1e-15);
  double ok[2] = {-0.5, 0.06}; /* roots 1/0.2 = 5 and 1/0.3 = 3.33: left alone */
  cr_expect_eq(sg__arima_ma_invert(2, ok, w), 0);
  cr_expect(ok[0] == -0.5 && ok[1] == 0.06);
  double zero[3] = {0.0, 0.0, 0.0};
  cr_expect_eq(sg__arima_ma_invert(3, zero, w), 0);
}

/* The exact-likelihood objective on w[0..n) at natural parameters, no regression. */
static sg__arima_obj exact_obj(sg__arma_order o, const double *w, int n, double *work) {
  static const double zero = 0.0, one = 1.0;
  return (sg__arima_obj){.o = o,
                         .ml = SG__OBJ_ML,
                         .transform = SG__ARIMA_NATURAL,
                         .w = w,
                         .n = n,
                         .X = NULL,
                         .beta0 = &zero,
                         .bscale = &one,
                         .work = work};
}

/* stats::arima's loglik at fixed AR(2) parameters (fixed_loglik.csv): near the unit root the
 * first steps' prediction variance exceeds 1e4 and R leaves them out; far from it every step
 * counts. (With every step counted the first case would be -90.806, the full-covariance value.) */
Test(arima_fit, exact_likelihood_at_fixed_parameters_matches_r_near_a_unit_root) {
  FILE *f = fopen(SG_ARIMA_DATA_DIR "/fixed_loglik.csv", "r");
  cr_assert_not_null(f);
  static char line[8192];
  char *fl[64];
  int rows = 0;
  int nf;
  while ((nf = fx_next_row(f, line, sizeof line, fl, 64)) >= 0) {
    int p = atoi(fl[1]), q = atoi(fl[2]), nc = atoi(fl[4]);
    cr_assert_eq(nc, p + q);
    double want = strtod(fl[5 + nc], NULL);
    double y[64], work[4096];
    int n = fx_row_series(fl, nf, 6 + nc, y, 64);
    cr_assert_gt(n, 0);
    sg__arima_obj ob = exact_obj((sg__arma_order){p, q, 0, 0, 1, 0}, y, n, work);
    cr_assert_leq(sg__arima_obj_scratch(ob.o, n), 4096);
    sg__arima_cand c = {.o = ob.o};
    for (int i = 0; i < nc; i++)
      c.par[i] = strtod(fl[5 + i], NULL);
    cr_assert(sg__arima_evaluate(&ob, &c));
    cr_expect_float_eq(c.loglik, want, 1e-7 * fabs(want), "ar (%s, %s): loglik %.10g vs R %.10g",
                       fl[5], fl[6], c.loglik, want);
    rows++;
  }
  fclose(f);
  cr_assert_eq(rows, 2);
}

/* Exact Gaussian log-likelihood (sigma^2 concentrated out) of z[0..n) under the ARMA with
 * expanded polynomials phi (pf) and theta (qf), from its autocovariances (psi weights summed to
 * 4000 lags) and a Cholesky factor of the full n x n covariance: independent of the Kalman
 * filter. */
static double brute_loglik(const double *z, int n, const double *phi, int pf, const double *theta,
                           int qf) {
  enum { L = 4000 };
  static double psi[L], gam[L], G[64 * 64], y[64];
  cr_assert_leq(n, 64);
  for (int j = 0; j < L; j++) {
    double v = j == 0 ? 1.0 : (j <= qf ? theta[j - 1] : 0.0);
    for (int i = 1; i <= pf && i <= j; i++)
      v += phi[i - 1] * psi[j - i];
    psi[j] = v;
  }
  for (int h = 0; h < n; h++) {
    double g = 0.0;
    for (int j = 0; j + h < L; j++)
      g += psi[j] * psi[j + h];
    gam[h] = g;
  }
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++)
      G[i * n + j] = gam[i > j ? i - j : j - i];
  double logdet = 0.0;
  for (int j = 0; j < n; j++) { /* G = C C' in place (lower), then C y = z */
    double d = G[j * n + j];
    for (int k = 0; k < j; k++)
      d -= G[j * n + k] * G[j * n + k];
    cr_assert_gt(d, 0.0);
    G[j * n + j] = sqrt(d);
    logdet += log(d);
    for (int i = j + 1; i < n; i++) {
      double s = G[i * n + j];
      for (int k = 0; k < j; k++)
        s -= G[i * n + k] * G[j * n + k];
      G[i * n + j] = s / G[j * n + j];
    }
  }
  double ssq = 0.0;
  for (int i = 0; i < n; i++) {
    double s = z[i];
    for (int k = 0; k < i; k++)
      s -= G[i * n + k] * y[k];
    y[i] = s / G[i * n + i];
    ssq += y[i] * y[i];
  }
  return -0.5 * (n * log(2.0 * M_PI * ssq / n) + logdet + n);
}

/* The exact likelihood of seasonal and mixed models against the full-covariance value. Pure
 * seasonal models are the trap: their prediction variance stays the same for a whole season
 * while the state covariance still changes, and a filter that stopped its covariance recursion
 * there (as ours did once) got N1030's (0,1,0)(0,0,1)4 likelihood wrong by 0.24. */
Test(arima_fit, exact_likelihood_of_seasonal_models_equals_the_full_covariance_value) {
  struct {
    int p, q, P, Q, m;
    double par[6];
  } ms[] = {
      {0, 0, 0, 1, 4, {-0.5}},
      {0, 0, 0, 1, 4, {-0.95}},
      {0, 0, 1, 0, 4, {0.6}},
      {0, 0, 2, 1, 12, {0.3, -0.4, -0.5}},
      {0, 0, 1, 1, 12, {0.7, -0.3}},
      {0, 0, 0, 2, 4, {0.4, 0.3}},
      {1, 1, 0, 1, 4, {0.5, 0.3, -0.6}},
      {2, 0, 1, 0, 12, {0.4, -0.2, 0.5}},
      {0, 1, 1, 0, 4, {-0.4, -0.7}},
  };
  double z[60], work[8192];
  int n = 60;
  for (size_t k = 0; k < sizeof ms / sizeof ms[0]; k++) {
    sg__arma_order o = {ms[k].p, ms[k].q, ms[k].P, ms[k].Q, ms[k].m, 0};
    sg__arima_cand c = {.o = o};
    for (int i = 0; i < sg__arma_npar(o); i++)
      c.par[i] = ms[k].par[i];
    double phi[64], theta[64];
    int pf = sg__arma_pf(o), qf = sg__arma_qf(o);
    sg__arima_expand(o, c.par, phi, theta);
    fx_simulate(11, k, phi, pf, theta, qf, 0, 0, o.m, 0.0, n, z);
    sg__arima_obj ob = exact_obj(o, z, n, work);
    cr_assert_leq(sg__arima_obj_scratch(o, n), 8192);
    cr_assert(sg__arima_evaluate(&ob, &c));
    double want = brute_loglik(z, n, phi, pf, theta, qf);
    cr_expect_float_eq(c.loglik, want, 1e-8 * fabs(want),
                       "(%d,0,%d)(%d,0,%d)%d: loglik %.10f, full covariance %.10f", o.p, o.q, o.P,
                       o.Q, o.m, c.loglik, want);
  }
}

/* The likelihood-only filter (Chandrasekhar recursions, O(r) per step) against the covariance
 * recursion the forecasts use, on the same data: the same ssq, sumlog and steps counted, near
 * a unit root (where the first steps' variance passes 1e4 and drop out) as well. */
/* A seasonal ARMA model: orders, season and its coefficients (ar, ma, sar, sma). */
typedef struct sarma_case {
  int p, q, P, Q, m;
  double par[16];
} sarma_case;

Test(arima_fit, fast_filter_equals_the_covariance_recursion) {
  static const sarma_case ms[] = {
      {2, 0, 0, 0, 1, {1.992, -0.9931}},
      {1, 1, 0, 0, 1, {0.9, -0.5}},
      {0, 0, 0, 1, 4, {-0.9}},
      {0, 0, 2, 1, 12, {0.3, -0.4, -0.5}},
      {2, 1, 1, 1, 12, {0.5, 0.2, -0.3, 0.6, -0.7}},
  };
  double z[100], work[16384];
  for (size_t k = 0; k < sizeof ms / sizeof ms[0]; k++) {
    sg__arma_order o = {ms[k].p, ms[k].q, ms[k].P, ms[k].Q, ms[k].m, 0};
    double phi[64], theta[64], a[64], P[64 * 64];
    int pf = sg__arma_pf(o), qf = sg__arma_qf(o);
    sg__arima_expand(o, ms[k].par, phi, theta);
    fx_simulate(12, k, phi, pf, theta, qf, 0, 0, o.m, 0.0, 100, z);
    int r = pf > qf + 1 ? pf : qf + 1;
    cr_assert_leq(sg__arima_kalman_scratch(pf, r), 16384);
    double ssq1, sl1, ssq2, sl2;
    int nu1 = 0, nu2 = 0;
    cr_assert(sg__arima_kalman(z, 100, phi, pf, theta, qf, &ssq1, &sl1, &nu1, NULL, a, P, work));
    cr_assert(
        sg__arima_kalman(z, 100, phi, pf, theta, qf, &ssq2, &sl2, &nu2, NULL, NULL, NULL, work));
    cr_expect_eq(nu2, nu1, "model %zu: steps counted %d vs %d", k, nu2, nu1);
    cr_expect_float_eq(ssq2, ssq1, 1e-8 * ssq1, "model %zu: ssq %.12g vs %.12g", k, ssq2, ssq1);
    cr_expect_float_eq(sl2, sl1, 1e-8 * (1.0 + fabs(sl1)), "model %zu: sumlog %.12g vs %.12g", k,
                       sl2, sl1);
  }
}

/* The stationary state covariance solves P = T P T' + R R' (checked through T's structure: first
 * column phi, ones above the diagonal) and its corner is the variance sum psi_j^2 of the MA(inf)
 * form; a non-stationary AR part is refused. */
Test(arima_fit, stationary_covariance_solves_the_lyapunov_equation) {
  static const sarma_case ms[] = {
      {2, 0, 0, 0, 1, {1.992, -0.9931}},
      {1, 1, 0, 0, 1, {0.9, -0.5}},
      {0, 0, 2, 1, 12, {0.3, -0.4, -0.5}},
      {2, 1, 1, 1, 12, {0.5, 0.2, -0.3, 0.6, -0.7}},
      {5, 5, 2, 2, 12, {0.3, 0.1, -0.1, 0.05, 0.02, 0.2, 0.1, 0.1, 0.1, 0.1, 0.5, 0.3, -0.3, 0.2}},
      {1, 1, 1, 0, 12, {0.98, -0.2, 0.95}},
  };
  static double P[64 * 64], TP[64 * 64], work[4096], psi[200000];
  for (size_t k = 0; k < sizeof ms / sizeof ms[0]; k++) {
    sg__arma_order o = {ms[k].p, ms[k].q, ms[k].P, ms[k].Q, ms[k].m, 0};
    double phi[64], theta[64];
    int pf = sg__arma_pf(o), qf = sg__arma_qf(o), r = sg__arma_r(o);
    sg__arima_expand(o, ms[k].par, phi, theta);
    cr_assert_leq(sg__arima_q0_scratch(pf, r), 4096);
    cr_assert(sg__arima_q0(phi, pf, theta, qf, r, 1, P, work), "model %zu", k);
    double big = 0.0, worst = 0.0;
    for (int i = 0; i < r; i++)
      for (int b = 0; b < r; b++)
        TP[i * r + b] = (i < pf ? phi[i] : 0.0) * P[b] + (i + 1 < r ? P[(i + 1) * r + b] : 0.0);
    for (int i = 0; i < r; i++)
      for (int l = 0; l < r; l++) {
        double tpt = (l < pf ? phi[l] : 0.0) * TP[i * r] + (l + 1 < r ? TP[i * r + l + 1] : 0.0);
        double Ri = i == 0 ? 1.0 : (i <= qf ? theta[i - 1] : 0.0);
        double Rl = l == 0 ? 1.0 : (l <= qf ? theta[l - 1] : 0.0);
        worst = fmax(worst, fabs(P[i * r + l] - tpt - Ri * Rl));
        big = fmax(big, fabs(P[i * r + l]));
      }
    cr_expect_leq(worst, 1e-13 * big, "model %zu: residual %.3g of %.3g", k, worst, big);
    /* var x = sum psi_j^2: psi_j decays like the largest root^-j (1/1.003 for model 0) */
    int J = 200000;
    double v = 0.0;
    for (int j = 0; j < J; j++) {
      double s = j == 0 ? 1.0 : (j <= qf ? theta[j - 1] : 0.0);
      for (int i = 1; i <= pf && i <= j; i++)
        s += phi[i - 1] * psi[j - i];
      psi[j] = s;
      v += s * s;
    }
    cr_expect_float_eq(P[0], v, 1e-9 * v, "model %zu: var %.12g vs sum psi^2 %.12g", k, P[0], v);
  }
  double nonstat[2] = {1.2, -0.1}; /* 1 - 1.2 z + 0.1 z^2 has a root inside the unit circle */
  cr_expect_not(sg__arima_q0(nonstat, 2, NULL, 0, 2, 1, P, work));
}
