/* One series from raw values to a chosen model (host+device): checks (NaN, too short,
 * constant), automatic d and D, the differenced series and regressors, candidate fits, and
 * the stepwise (Hyndman-Khandakar) or full-grid search. The CPU backend runs sg__arima_series
 * per series under OpenMP; the CUDA backend runs it per thread, or splits the grid so that each
 * thread fits one (series, candidate). Forecasting is in arima_forecast.h. */
#ifndef SG_ARIMA_SERIES_H
#define SG_ARIMA_SERIES_H

#include "arima.h"
#include "arima_fit.h"
#include "arima_stat.h"

SG_BEGIN_DECLS

#define SG__ARIMA_MAX_KEYS 128 /* candidates remembered per series (stepwise nmodels <= this) */

/* What preparing a series decided (plain data, copied between kernels on the GPU). */
typedef struct sg__arima_prep {
  int status;
  int n, nx, m, d, D, nw;
  int const_kind;                 /* 0 none, 1 mean, 2 drift */
  int const_auto;                 /* try both with and without the constant */
  int ml_search, ml_final;        /* exact likelihood during the search / for the final fit */
  int max_p, max_q, max_P, max_Q; /* search bounds after auto.arima's length caps */
  int wconst;                     /* the differenced series is constant (and no xreg) */
  double beta0[2][SG__ARIMA_MAXREG], bscale[2][SG__ARIMA_MAXREG]; /* [has_const] */
  char message[96];
} sg__arima_prep;

/* A remembered candidate: orders, constant, criterion. */
typedef struct sg__arima_key {
  signed char p, q, P, Q, c;
  double ic;
} sg__arima_key;

/* --- tiny device-safe message formatting ------------------------------------------------- */
static SG_INLINE SG_HD int sg__arima_cat(char *dst, int at, int cap, const char *s) {
  while (*s && at < cap - 1)
    dst[at++] = *s++;
  dst[at] = '\0';
  return at;
}
static SG_INLINE SG_HD int sg__arima_cati(char *dst, int at, int cap, long v) {
  char b[24];
  int k = 0, neg = v < 0;
  unsigned long u = neg ? (unsigned long)(-v) : (unsigned long)v;
  do {
    b[k++] = (char)('0' + u % 10);
    u /= 10;
  } while (u && k < 22);
  if (neg) b[k++] = '-';
  while (k > 0 && at < cap - 1)
    dst[at++] = b[--k];
  dst[at] = '\0';
  return at;
}

/* Scratch doubles sg__arima_series needs for a series of length n. */
static SG_INLINE SG_HD size_t sg__arima_series_scratch(const sg_arima_spec *s, int n, int nx) {
  int m = s->season;
  int fixed = s->search == SG_ARIMA_FIXED;
  int mp = fixed ? s->p : s->max_p, mq = fixed ? s->q : s->max_q;
  int mP = m > 1 ? (fixed ? s->P : s->max_P) : 0, mQ = m > 1 ? (fixed ? s->Q : s->max_Q) : 0;
  sg__arma_order o = {mp, mq, mP, mQ, m, nx + 1};
  int pf = sg__arma_pf(o), qf = sg__arma_qf(o), r = sg__arma_r(o);
  int dmax = s->d >= 0 ? s->d : s->max_d, Dmax = m > 1 ? (s->D >= 0 ? s->D : s->max_D) : 0;
  int rd = r + dmax + Dmax * m + 1;
  size_t fc = (size_t)2 * rd * rd + (size_t)8 * rd + (size_t)r * r + 2 * (size_t)n +
              (size_t)sg__arima_kalman_scratch(pf, r);
  size_t ob = (size_t)sg__arima_obj_scratch(o, n) + (size_t)pf + qf;
  size_t tail = ob > fc ? ob : fc; /* all of it after tmp */
  size_t stl = m > 1 && Dmax > 0 && s->D < 0 ? sg__arima_stl_scratch(n, m) : 0; /* D test */
  if (stl > tail) tail = stl;
  return (size_t)n * (size_t)(3 + nx) + (size_t)m + tail + 64;
}

/* Checks the series, picks d and D, and writes the differenced series w (nw values at scratch)
 * and regressors X (column-major, stride nw, [constant | xreg], at scratch + n) into scratch.
 * y: n values; xr: n rows of nx regressors (row-major) or NULL. Returns the status. */
SG__ARIMA_FN int sg__arima_prepare(const double *y, int n, const double *xr, int nx,
                                   const sg_arima_spec *s, double *scratch, sg__arima_prep *pp) {
  int m = s->season;
  double *w = scratch, *X = scratch + n, *tmp = X + (size_t)(nx + 1) * n;
  pp->message[0] = '\0';
  pp->n = n;
  pp->nx = nx;
  pp->m = m;
  pp->d = pp->D = 0;
  pp->nw = n;
  pp->const_kind = 0;
  pp->wconst = 0;
  for (int t = 0; t < n; t++) {
    int bad = !isfinite(y[t]);
    for (int j = 0; j < nx && !bad; j++)
      bad = !isfinite(xr[(size_t)t * nx + j]);
    if (bad) {
      int at = sg__arima_cat(pp->message, 0, 96, "value ");
      at = sg__arima_cati(pp->message, at, 96, t);
      sg__arima_cat(pp->message, at, 96, !isfinite(y[t]) ? " is not finite" : ": xreg not finite");
      return pp->status = SG_ARIMA_MISSING;
    }
  }
  if (n < 3) {
    int at = sg__arima_cat(pp->message, 0, 96, "length ");
    at = sg__arima_cati(pp->message, at, 96, n);
    sg__arima_cat(pp->message, at, 96, " < 3");
    return pp->status = SG_ARIMA_TOO_SHORT;
  }
  if (nx == 0 && sg__arima_is_constant(y, n)) {
    sg__arima_cat(pp->message, 0, 96, "all values equal");
    return pp->status = SG_ARIMA_CONSTANT;
  }
  /* the series the tests see: y, or its residual from OLS on [1, xreg] (auto.arima's xx) */
  double *xx = w;
  for (int t = 0; t < n; t++)
    xx[t] = y[t];
  if (nx > 0) {
    for (int t = 0; t < n; t++)
      X[t] = 1.0;
    for (int j = 0; j < nx; j++)
      for (int t = 0; t < n; t++)
        X[(size_t)(j + 1) * n + t] = xr[(size_t)t * nx + j];
    double b[SG__ARIMA_MAXREG], sc[SG__ARIMA_MAXREG];
    if (sg__arima_ols(y, n, X, nx + 1, b, sc))
      for (int t = 0; t < n; t++)
        for (int j = 0; j <= nx; j++)
          xx[t] -= X[(size_t)j * n + t] * b[j];
  }
  int D = m > 1 ? s->D : 0;
  if (D < 0) {
    D = 0;
    if (n > 2 * m && s->max_D > 0 &&
        sg__arima_seas_strength(xx, n, m, tmp) > SG__ARIMA_SEAS_STRENGTH)
      D = 1;
  }
  int nn = sg__arima_diff(xx, n, 0, D, m);
  int d = s->d;
  if (d < 0) d = nn >= 3 ? sg__arima_ndiffs(xx, nn, s->max_d) : 0;
  int nw = n - d - D * m;
  pp->d = d;
  pp->D = D;
  pp->nw = nw;
  if (nw < 3) {
    int at = sg__arima_cat(pp->message, 0, 96, "length ");
    at = sg__arima_cati(pp->message, at, 96, n);
    at = sg__arima_cat(pp->message, at, 96, " leaves ");
    at = sg__arima_cati(pp->message, at, 96, nw);
    sg__arima_cat(pp->message, at, 96, " < 3 values after differencing");
    return pp->status = SG_ARIMA_TOO_SHORT;
  }
  /* differenced series and regressors */
  for (int t = 0; t < n; t++)
    w[t] = y[t];
  sg__arima_diff(w, n, d, D, m);
  pp->const_kind = d + D == 0 ? 1 : (d + D == 1 ? 2 : 0);
  if (s->constant == SG_ARIMA_CONST_NONE) pp->const_kind = 0;
  pp->const_auto = s->constant == SG_ARIMA_CONST_AUTO && pp->const_kind != 0;
  for (int j = 0; j <= nx; j++) {
    for (int t = 0; t < n; t++)
      tmp[t] = j == 0 ? (pp->const_kind == 2 ? (double)(t + 1) : 1.0) : xr[(size_t)t * nx + j - 1];
    sg__arima_diff(tmp, n, d, D, m);
    for (int t = 0; t < nw; t++)
      X[(size_t)j * nw + t] = tmp[t];
  }
  for (int c = 0; c < 2; c++) {
    int k = nx + c;
    const double *Xc = c ? X : X + nw;
    for (int j = 0; j < SG__ARIMA_MAXREG; j++) {
      pp->beta0[c][j] = 0.0;
      pp->bscale[c][j] = 1.0;
    }
    if (k > 0 && (c == 0 || pp->const_kind) &&
        !sg__arima_ols(w, nw, Xc, k, pp->beta0[c], pp->bscale[c])) {
      if (c == 0) {
        sg__arima_cat(pp->message, 0, 96, "xreg is rank deficient");
        return pp->status = SG_ARIMA_NOT_CONVERGED;
      }
      pp->const_kind = 0; /* the constant is collinear with xreg */
      pp->const_auto = 0;
    }
  }
  pp->wconst = nx == 0 && sg__arima_is_constant(w, nw);
  /* search bounds (auto.arima's caps) and fitting method */
  int fixed = s->search == SG_ARIMA_FIXED;
  pp->max_p = fixed ? s->p : (s->max_p < n / 3 ? s->max_p : n / 3);
  pp->max_q = fixed ? s->q : (s->max_q < n / 3 ? s->max_q : n / 3);
  pp->max_P = m > 1 ? (fixed ? s->P : (s->max_P < n / 3 / m ? s->max_P : n / 3 / m)) : 0;
  pp->max_Q = m > 1 ? (fixed ? s->Q : (s->max_Q < n / 3 / m ? s->max_Q : n / 3 / m)) : 0;
  if (!fixed && m > 1) {
    if (m > SG_ARIMA_MAX_SARMA_SEASON) pp->max_P = pp->max_Q = 0;
    if (pp->max_P > 0 && pp->max_p > m - 1) pp->max_p = m - 1;
    if (pp->max_Q > 0 && pp->max_q > m - 1) pp->max_q = m - 1;
  }
  int method = s->method;
  if (method == SG_ARIMA_METHOD_AUTO)
    method = (n > 150 || m > 12) ? SG_ARIMA_METHOD_CSS_ML : SG_ARIMA_METHOD_ML;
  pp->ml_search = method == SG_ARIMA_METHOD_ML;
  pp->ml_final = method != SG_ARIMA_METHOD_CSS;
  return pp->status = SG_ARIMA_OK;
}

/* Fits candidate (p, q, P, Q, constant c) on a prepared series; work: objective scratch. */
SG__ARIMA_FN void sg__arima_fit_key(const sg__arima_prep *pp, const double *w, const double *X,
                                    sg__arima_key k, int ml, const sg_arima_spec *s, double *work,
                                    sg__arima_cand *out) {
  sg__arma_order o = {k.p, k.q, k.P, k.Q, pp->m, pp->nx + k.c};
  out->o = o;
  out->has_const = k.c;
  out->ic = HUGE_VAL;
  out->loglik = -HUGE_VAL;
  out->converged = 0;
  if (pp->nw - sg__arma_pf(o) <= sg__arma_npar(o) + 1) return; /* too few residuals */
  sg__arima_obj ob;
  ob.w = w;
  ob.n = pp->nw;
  ob.X = k.c ? X : X + pp->nw;
  ob.beta0 = pp->beta0[k.c];
  ob.bscale = pp->bscale[k.c];
  ob.work = work;
  ob.transform = SG__ARIMA_ALL;
  ob.lm = s->optimizer == SG_ARIMA_OPT_LM;
  sg__arima_fit_cand(&ob, out, ml, (int)s->ic, s->maxit, s->search != SG_ARIMA_FIXED);
}

/* Keeps keys sorted by ic (ascending), at most cap; returns the new count. */
static SG_INLINE SG_HD int sg__arima_keep(sg__arima_key *keys, int nk, int cap, sg__arima_key k) {
  int at = nk;
  while (at > 0 && !(keys[at - 1].ic <= k.ic))
    at--;
  if (at >= cap) return nk;
  int last = nk < cap ? nk : cap - 1;
  for (int i = last; i > at; i--)
    keys[i] = keys[i - 1];
  keys[at] = k;
  return nk < cap ? nk + 1 : cap;
}

static SG_INLINE SG_HD int sg__arima_seen(const sg__arima_key *keys, int nk, int p, int q, int P,
                                          int Q, int c) {
  for (int i = 0; i < nk; i++)
    if (keys[i].p == p && keys[i].q == q && keys[i].P == P && keys[i].Q == Q && keys[i].c == c)
      return 1;
  return 0;
}

/* Search state: the best fit so far and every key tried (sorted by ic). */
typedef struct sg__arima_search_state {
  const sg__arima_prep *pp;
  const double *w, *X;
  const sg_arima_spec *s;
  double *work;
  sg__arima_cand best, trial;
  sg__arima_key keys[SG__ARIMA_MAX_KEYS];
  int nk, fitted;
} sg__arima_search_state;

/* Fits one candidate; returns 1 when it beats the best so far. */
SG__ARIMA_FN int sg__arima_try(sg__arima_search_state *st, int p, int q, int P, int Q, int c) {
  sg__arima_key k;
  k.p = (signed char)p;
  k.q = (signed char)q;
  k.P = (signed char)P;
  k.Q = (signed char)Q;
  k.c = (signed char)c;
  sg__arima_fit_key(st->pp, st->w, st->X, k, st->pp->ml_search, st->s, st->work, &st->trial);
  k.ic = st->trial.ic;
  st->fitted++;
  st->nk = sg__arima_keep(st->keys, st->nk, SG__ARIMA_MAX_KEYS, k);
  if (st->trial.ic < st->best.ic) {
    st->best = st->trial;
    return 1;
  }
  return 0;
}

/* auto.arima's stepwise search (forecast 8.x): start models, then neighbour moves in the same
 * order, restarting from each improvement, at most nmodels fits. */
SG__ARIMA_FN void sg__arima_stepwise(sg__arima_search_state *st) {
  const sg__arima_prep *pp = st->pp;
  int mp = pp->max_p, mq = pp->max_q, mP = pp->max_P, mQ = pp->max_Q;
  int nmax = st->s->nmodels < SG__ARIMA_MAX_KEYS ? st->s->nmodels : SG__ARIMA_MAX_KEYS;
  int c = pp->const_kind != 0;
  int sp = 2, sq = 2, sP = 1, sQ = 1;
  if (pp->n < 10) sp = sq = 1, sP = sQ = 0;
  int p = sp < mp ? sp : mp, q = sq < mq ? sq : mq, P = sP < mP ? sP : mP, Q = sQ < mQ ? sQ : mQ;
  sg__arima_try(st, p, q, P, Q, c);
  if (sg__arima_try(st, 0, 0, 0, 0, c)) p = q = P = Q = 0;
  if (mp > 0 || mP > 0) {
    int a = mp > 0, b = pp->m > 1 && mP > 0;
    if (sg__arima_try(st, a, 0, b, 0, c)) p = a, P = b, q = Q = 0;
  }
  if (mq > 0 || mQ > 0) {
    int a = mq > 0, b = pp->m > 1 && mQ > 0;
    if (sg__arima_try(st, 0, a, 0, b, c)) q = a, Q = b, p = P = 0;
  }
  /* the null model without the constant; as in auto.arima, the moves below keep the constant
   * even when this one wins (forecast 8.x leaves `constant` TRUE here), so from a winning
   * random walk they look at neighbours with drift and the toggle back */
  if (pp->const_auto && c) {
    if (sg__arima_try(st, 0, 0, 0, 0, 0)) p = q = P = Q = 0;
  }
  /* neighbour moves (dp, dq, dP, dQ) in auto.arima's order; the last toggles the constant */
  const signed char mv[16][4] = {{0, 0, -1, 0},  {0, 0, 0, -1}, {0, 0, 1, 0},  {0, 0, 0, 1},
                                 {0, 0, -1, -1}, {0, 0, -1, 1}, {0, 0, 1, -1}, {0, 0, 1, 1},
                                 {-1, 0, 0, 0},  {0, -1, 0, 0}, {1, 0, 0, 0},  {0, 1, 0, 0},
                                 {-1, -1, 0, 0}, {-1, 1, 0, 0}, {1, -1, 0, 0}, {1, 1, 0, 0}};
  int improved = 1;
  while (improved && st->fitted < nmax) {
    improved = 0;
    for (int i = 0; i < 17 && !improved && st->fitted < nmax; i++) {
      int np = p, nq = q, nP = P, nQ = Q, nc = c;
      if (i < 16) {
        np += mv[i][0], nq += mv[i][1], nP += mv[i][2], nQ += mv[i][3];
        if (np < 0 || nq < 0 || nP < 0 || nQ < 0 || np > mp || nq > mq || nP > mP || nQ > mQ)
          continue;
      } else {
        if (!pp->const_auto) continue;
        nc = !c;
      }
      if (sg__arima_seen(st->keys, st->nk, np, nq, nP, nQ, nc)) continue;
      if (sg__arima_try(st, np, nq, nP, nQ, nc)) {
        p = np, q = nq, P = nP, Q = nQ, c = nc;
        improved = 1;
      }
    }
  }
}

/* Every (p, q, P, Q) within the bounds with p + q + P + Q <= max_order, with and without the
 * constant where allowed. */
SG__ARIMA_FN void sg__arima_grid(sg__arima_search_state *st) {
  const sg__arima_prep *pp = st->pp;
  int mo = st->s->max_order > 0 ? st->s->max_order : 1 << 20;
  for (int c = pp->const_kind != 0; c >= 0; c--) {
    for (int p = 0; p <= pp->max_p; p++)
      for (int q = 0; q <= pp->max_q; q++)
        for (int P = 0; P <= pp->max_P; P++)
          for (int Q = 0; Q <= pp->max_Q; Q++)
            if (p + q + P + Q <= mo) sg__arima_try(st, p, q, P, Q, c);
    if (!pp->const_auto) break;
  }
}

/* After a CSS search: refit the best remembered candidates by exact likelihood, in CSS ic
 * order, and keep the best exact ic among the first SG__ARIMA_REFIT acceptable ones. auto.arima
 * keeps the first acceptable one; comparing a few by their exact ic costs a few more Kalman fits
 * and corrects much of what the CSS ranking gets wrong on short series. */
#ifndef SG__ARIMA_REFIT
#define SG__ARIMA_REFIT 2
#endif
SG__ARIMA_FN void sg__arima_refit_ml(sg__arima_search_state *st) {
  int good = 0;
  st->best.ic = HUGE_VAL;
  st->best.loglik = -HUGE_VAL;
  for (int i = 0; i < st->nk && good < SG__ARIMA_REFIT; i++) {
    if (!(st->keys[i].ic < HUGE_VAL)) break;
    sg__arima_fit_key(st->pp, st->w, st->X, st->keys[i], 1, st->s, st->work, &st->trial);
    if (st->trial.ic < HUGE_VAL) {
      good++;
      if (st->trial.ic < st->best.ic) st->best = st->trial;
    }
  }
}

SG_END_DECLS

#endif
