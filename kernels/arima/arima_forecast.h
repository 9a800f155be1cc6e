/* Forecasts of a fitted model and the whole per-series pipeline (host+device).
 * Forecasts follow R's predict.Arima / KalmanForecast: the ARMA state filtered through the
 * differenced, de-regressed series is joined to the last nd = d + D m undifferenced values
 * (known exactly, zero variance) in R's makeARIMA layout, then the state and its covariance are
 * propagated h steps through the integrated model; var_k = Z P_k Z' sigma^2. */
#ifndef SG_ARIMA_FORECAST_H
#define SG_ARIMA_FORECAST_H

#include "arima_series.h"

SG_BEGIN_DECLS

/* Value of regression column j (0 = the constant) at 0-based time t of the original series. */
static SG_INLINE SG_HD double sg__arima_xval(const sg__arima_prep *pp, int c, const double *xr,
                                             const double *xf, int j, int t) {
  if (c && j == 0) return pp->const_kind == 2 ? (double)(t + 1) : 1.0;
  int col = j - c;
  return t < pp->n ? xr[(size_t)t * pp->nx + col] : xf[(size_t)(t - pp->n) * pp->nx + col];
}

/* Writes mean[h], lower/upper[l * h + k] for n_levels levels. work: forecast scratch. */
SG__ARIMA_FN int sg__arima_forecast(const double *y, const double *xr, const double *xf,
                                    const sg__arima_prep *pp, const sg__arima_cand *c,
                                    const sg_arima_spec *s, double *work, double *mean,
                                    double *lower, double *upper) {
  sg__arma_order o = c->o;
  int n = pp->n, h = s->h, pf = sg__arma_pf(o), qf = sg__arma_qf(o), r = sg__arma_r(o);
  int narma = o.p + o.q + o.P + o.Q, nreg = o.nreg, cc = c->has_const;
  const double *beta = c->par + narma;
  int nd = pp->d + pp->D * pp->m, rd = r + nd;
  double *u = work, *wv = u + n, *phi = wv + n, *theta = phi + pf + 1, *delta = theta + qf + 1;
  double *a = delta + nd + 1, *Pf = a + rd, *TP = Pf + (size_t)rd * rd, *kw = TP + (size_t)rd * rd;
  double *Pn = kw, *kk = Pn + (size_t)r * r;
  for (int t = 0; t < n; t++) {
    double v = y[t];
    for (int j = 0; j < nreg; j++)
      v -= beta[j] * sg__arima_xval(pp, cc, xr, xf, j, t);
    u[t] = wv[t] = v;
  }
  int nw = sg__arima_diff(wv, n, pp->d, pp->D, pp->m);
  sg__arima_expand(o, c->par, phi, theta);
  sg__arima_delta(pp->d, pp->D, pp->m, delta);
  double ssq, sumlog;
  if (!sg__arima_kalman(wv, nw, phi, pf, theta, qf, &ssq, &sumlog, NULL, NULL, a, Pn, kk)) return 0;
  for (int i = 0; i < rd * rd; i++)
    Pf[i] = 0.0;
  for (int i = 0; i < r; i++)
    for (int j = 0; j < r; j++)
      Pf[i * rd + j] = Pn[i * r + j];
  for (int k = 0; k < nd; k++)
    a[r + k] = u[n - 2 - k];
  double *an = TP; /* reused before TP is needed in each step */
  for (int k = 0; k < h; k++) {
    /* state: a <- T a */
    double znew = a[0];
    for (int i = 0; i < nd; i++)
      znew += delta[i] * a[r + i];
    for (int i = 0; i < r; i++)
      an[i] = (i < r - 1 ? a[i + 1] : 0.0) + (i < pf ? phi[i] * a[0] : 0.0);
    for (int i = nd - 1; i >= 1; i--)
      a[r + i] = a[r + i - 1];
    if (nd > 0) a[r] = znew;
    for (int i = 0; i < r; i++)
      a[i] = an[i];
    double fc = a[0];
    for (int i = 0; i < nd; i++)
      fc += delta[i] * a[r + i];
    /* covariance: P <- T P T' + V, by rows then by columns */
    for (int j = 0; j < rd; j++) {
      for (int i = 0; i < r; i++)
        TP[i * rd + j] = (i < pf ? phi[i] * Pf[j] : 0.0) + (i + 1 < r ? Pf[(i + 1) * rd + j] : 0.0);
      if (nd > 0) {
        double v = Pf[j];
        for (int l = 0; l < nd; l++)
          v += delta[l] * Pf[(r + l) * rd + j];
        TP[r * rd + j] = v;
      }
      for (int i = r + 1; i < rd; i++)
        TP[i * rd + j] = Pf[(i - 1) * rd + j];
    }
    for (int i = 0; i < rd; i++) {
      const double *row = TP + (size_t)i * rd;
      double *out = Pf + (size_t)i * rd;
      for (int j = 0; j < r; j++)
        out[j] = (j < pf ? phi[j] * row[0] : 0.0) + (j + 1 < r ? row[j + 1] : 0.0);
      if (nd > 0) {
        double v = row[0];
        for (int l = 0; l < nd; l++)
          v += delta[l] * row[r + l];
        out[r] = v;
      }
      for (int j = r + 1; j < rd; j++)
        out[j] = row[j - 1];
    }
    for (int i = 0; i < r; i++) {
      double Ri = i == 0 ? 1.0 : (i <= qf ? theta[i - 1] : 0.0);
      for (int j = 0; j < r; j++) {
        double Rj = j == 0 ? 1.0 : (j <= qf ? theta[j - 1] : 0.0);
        Pf[i * rd + j] += Ri * Rj;
      }
    }
    /* var = Z P Z', Z = (1, 0.., delta) */
    double var = 0.0;
    for (int i = 0; i <= nd; i++) {
      int ii = i == 0 ? 0 : r + i - 1;
      double zi = i == 0 ? 1.0 : delta[i - 1];
      for (int j = 0; j <= nd; j++) {
        int jj = j == 0 ? 0 : r + j - 1;
        double zj = j == 0 ? 1.0 : delta[j - 1];
        var += zi * zj * Pf[ii * rd + jj];
      }
    }
    for (int j = 0; j < nreg; j++)
      fc += beta[j] * sg__arima_xval(pp, cc, xr, xf, j, n + k);
    mean[k] = fc;
    double se = sqrt((var > 0.0 ? var : 0.0) * c->sigma2);
    for (int l = 0; l < s->n_levels; l++) {
      double zq = sg__arima_qnorm(0.5 + s->levels[l] / 200.0);
      lower[(size_t)l * h + k] = fc - zq * se;
      upper[(size_t)l * h + k] = fc + zq * se;
    }
  }
  return 1;
}

/* Copies a candidate into the public fit record. */
static SG_INLINE SG_HD void sg__arima_write_fit(const sg__arima_prep *pp, const sg__arima_cand *c,
                                                sg_arima_fit *f) {
  sg__arma_order o = c->o;
  f->p = o.p, f->q = o.q, f->P = o.P, f->Q = o.Q, f->m = pp->m, f->d = pp->d, f->D = pp->D;
  f->has_mean = c->has_const && pp->const_kind == 1;
  f->has_drift = c->has_const && pp->const_kind == 2;
  f->n_coef = sg__arma_npar(o);
  for (int i = 0; i < f->n_coef; i++)
    f->coef[i] = c->par[i];
  f->sigma2 = c->sigma2;
  f->loglik = c->loglik;
  f->aic = c->aic;
  f->aicc = c->aicc;
  f->bic = c->bic;
  f->n_used = pp->nw;
  f->exact = c->ml;
}

static SG_INLINE SG_HD void sg__arima_fill_nan(const sg_arima_spec *s, double *mean, double *lo,
                                               double *hi) {
  double nan = NAN;
  for (int k = 0; k < s->h; k++)
    mean[k] = nan;
  for (int k = 0; k < s->h * s->n_levels; k++)
    lo[k] = hi[k] = nan;
}

/* A degenerate series: constant, or constant after differencing. The model is (0,d,0)(0,D,0)
 * with the constant fixed at the mean difference (as auto.arima) and sigma^2 = 0. */
SG__ARIMA_FN void sg__arima_degenerate(const double *y, const double *w, const double *X,
                                       sg__arima_prep *pp, const sg_arima_spec *s, double *work,
                                       sg_arima_fit *f, double *mean, double *lo, double *hi) {
  sg__arima_cand c;
  sg__arma_order o = {0, 0, 0, 0, pp->m, pp->const_kind ? 1 : 0};
  c.o = o;
  c.has_const = pp->const_kind != 0;
  c.par[0] = c.has_const && X[0] != 0.0 ? w[0] / X[0] : 0.0;
  if (pp->status == SG_ARIMA_CONSTANT) {
    pp->const_kind = 1, pp->d = pp->D = 0, pp->nw = pp->n;
    c.has_const = 1, c.o.nreg = 1, c.par[0] = y[0];
  }
  c.sigma2 = 0.0;
  c.loglik = c.aic = c.aicc = c.bic = c.ic = NAN;
  c.ml = 0;
  sg__arima_write_fit(pp, &c, f);
  if (!sg__arima_forecast(y, NULL, NULL, pp, &c, s, work, mean, lo, hi))
    sg__arima_fill_nan(s, mean, lo, hi);
}

/* First half of the pipeline: prepares the series (status, d, D, differenced data in scratch)
 * and finishes the series that need no search (bad input, constant, constant after
 * differencing). Returns 1 when a search is needed. */
SG__ARIMA_FN int sg__arima_series_begin(const double *y, int n, const double *xr, int nx,
                                        const sg_arima_spec *s, double *scratch, sg__arima_prep *pp,
                                        sg_arima_fit *f, double *mean, double *lo, double *hi) {
  int status = sg__arima_prepare(y, n, xr, nx, s, scratch, pp);
  double *w = scratch, *X = scratch + n, *work = X + (size_t)(nx + 1) * n;
  /* every field defined, whatever the memory held: the CUDA backend's fits are device memory,
   * which is not zeroed, and a series without a model sets only a few of them */
  memset(f, 0, sizeof *f);
  f->status = status;
  f->models_fitted = 0;
  f->d = pp->d, f->D = pp->D, f->m = pp->m;
  sg__arima_cat(f->message, 0, 96, pp->message);
  if (status == SG_ARIMA_CONSTANT || (status == SG_ARIMA_OK && pp->wconst)) {
    sg__arima_degenerate(y, w, X, pp, s, work, f, mean, lo, hi);
    return 0;
  }
  if (status != SG_ARIMA_OK) {
    sg__arima_fill_nan(s, mean, lo, hi);
    return 0;
  }
  return 1;
}

static SG_INLINE SG_HD void sg__arima_state_init(sg__arima_search_state *st,
                                                 const sg__arima_prep *pp, const double *scratch,
                                                 const sg_arima_spec *s, double *work) {
  st->pp = pp;
  st->w = scratch;
  st->X = scratch + pp->n;
  st->s = s;
  st->work = work;
  st->nk = 0;
  st->fitted = 0;
  st->best.ic = HUGE_VAL;
  st->best.loglik = -HUGE_VAL;
}

/* The fixed-order fit; returns 0 (status too_short, message set) when the series is too short. */
SG__ARIMA_FN int sg__arima_fixed(sg__arima_search_state *st, sg_arima_fit *f) {
  const sg__arima_prep *pp = st->pp;
  int c = pp->const_kind != 0 && st->s->constant != SG_ARIMA_CONST_NONE;
  sg__arma_order o = {pp->max_p, pp->max_q, pp->max_P, pp->max_Q, pp->m, pp->nx + c};
  if (pp->nw - sg__arma_pf(o) <= sg__arma_npar(o) + 1) {
    int at = sg__arima_cat(f->message, 0, 96, "length ");
    at = sg__arima_cati(f->message, at, 96, pp->n);
    at = sg__arima_cat(f->message, at, 96, " too short for ");
    at = sg__arima_cati(f->message, at, 96, sg__arma_npar(o));
    sg__arima_cat(f->message, at, 96, " coefficients after differencing and AR lags");
    f->status = SG_ARIMA_TOO_SHORT;
    return 0;
  }
  sg__arima_key k;
  k.p = (signed char)pp->max_p, k.q = (signed char)pp->max_q;
  k.P = (signed char)pp->max_P, k.Q = (signed char)pp->max_Q, k.c = (signed char)c;
  /* a fixed order is reported even where auto.arima's root check would reject it */
  sg__arima_fit_key(pp, st->w, st->X, k, pp->ml_final, st->s, st->work, &st->best);
  st->fitted = 1;
  return 1;
}

/* After a grid whose candidates were fitted elsewhere (st->keys sorted, st->fitted set): the
 * final fit, exactly as the in-thread grid would have ended. */
SG__ARIMA_FN void sg__arima_grid_finish(sg__arima_search_state *st) {
  const sg__arima_prep *pp = st->pp;
  if (!pp->ml_search && pp->ml_final) {
    sg__arima_refit_ml(st);
  } else if (st->nk > 0 && st->keys[0].ic < HUGE_VAL) {
    sg__arima_fit_key(pp, st->w, st->X, st->keys[0], pp->ml_search, st->s, st->work, &st->best);
  }
}

/* Second half: the chosen model's record and forecasts (or not_converged). */
SG__ARIMA_FN void sg__arima_series_end(const double *y, const double *xr, const double *xf,
                                       sg__arima_search_state *st, sg_arima_fit *f, double *mean,
                                       double *lo, double *hi) {
  const sg__arima_prep *pp = st->pp;
  f->models_fitted = st->fitted;
  if (f->status != SG_ARIMA_OK) {
    sg__arima_fill_nan(st->s, mean, lo, hi);
    return;
  }
  if (!(st->best.loglik > -HUGE_VAL)) {
    f->status = SG_ARIMA_NOT_CONVERGED;
    sg__arima_cat(f->message, 0, 96, "no candidate model could be fitted");
    sg__arima_fill_nan(st->s, mean, lo, hi);
    return;
  }
  sg__arima_write_fit(pp, &st->best, f);
  if (!sg__arima_forecast(y, xr, xf, pp, &st->best, st->s, st->work, mean, lo, hi)) {
    f->status = SG_ARIMA_NOT_CONVERGED;
    sg__arima_cat(f->message, 0, 96, "forecast covariance failed");
    sg__arima_fill_nan(st->s, mean, lo, hi);
  }
}

/* The whole pipeline for one series: y (n), xr (n x nx row-major or NULL), xf (h x nx or NULL);
 * writes f, mean[h], lo/hi[n_levels * h]. scratch: sg__arima_series_scratch doubles. */
SG__ARIMA_FN void sg__arima_series(const double *y, int n, const double *xr, const double *xf,
                                   int nx, const sg_arima_spec *s, double *scratch,
                                   sg__arima_search_state *st, sg_arima_fit *f, double *mean,
                                   double *lo, double *hi) {
  sg__arima_prep pp;
  if (!sg__arima_series_begin(y, n, xr, nx, s, scratch, &pp, f, mean, lo, hi)) return;
  sg__arima_state_init(st, &pp, scratch, s, scratch + n + (size_t)(nx + 1) * n);
  if (s->search == SG_ARIMA_FIXED) {
    sg__arima_fixed(st, f);
  } else {
    if (s->search == SG_ARIMA_GRID)
      sg__arima_grid(st);
    else
      sg__arima_stepwise(st);
    if (!pp.ml_search && pp.ml_final) sg__arima_refit_ml(st);
  }
  sg__arima_series_end(y, xr, xf, st, f, mean, lo, hi);
}

SG_END_DECLS

#endif
