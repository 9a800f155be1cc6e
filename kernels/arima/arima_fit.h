/* Fitting one ARIMA candidate on a differenced series (host+device): the objective (CSS or
 * exact Kalman likelihood, concentrated over sigma^2, on transformed parameters), a BFGS
 * minimiser ported from R's optim (vmmin: same line search, tolerances and numerical gradient),
 * and the information criteria as forecast::Arima computes them. The minimiser calls the ARIMA
 * objective directly instead of through a function pointer so it inlines inside a device
 * thread; all fixed-size arrays are bounded by SG__ARIMA_MAXPAR. */
#ifndef SG_ARIMA_FIT_H
#define SG_ARIMA_FIT_H

#include "arima_core.h"

SG_BEGIN_DECLS

/* largest p, q (5) + P, Q (2) + mean/drift (1) + xreg (8), and a little slack */
#define SG__ARIMA_MAXPAR 24

enum { SG__OBJ_CSS = 0, SG__OBJ_ML = 1 };

typedef struct sg__arima_obj {
  sg__arma_order o;
  int ml;          /* SG__OBJ_CSS or SG__OBJ_ML */
  int transform;   /* how u maps to the parameters: SG__ARIMA_NATURAL, _ALL or _AR */
  int lm;          /* minimise by Levenberg-Marquardt, else by R's BFGS (sg_arima_optimizer) */
  const double *w; /* differenced series, n values */
  int n;
  const double *X; /* differenced regressors, column-major (column j at X + j*n), o.nreg used */
  const double *beta0, *bscale; /* regression start and scale (R's parscale) */
  double *work;                 /* sg__arima_obj_scratch(o, n) doubles */
} sg__arima_obj;

/* Scratch of one candidate fit: [phi pf | theta qf | z n | resid n | 16 | LM n (k + 2) | Kalman].
 * A CSS-only fit never touches the Kalman part (sg__arima_obj_scratch_css). */
static SG_INLINE SG_HD int sg__arima_obj_scratch_css(sg__arma_order o, int n) {
  return sg__arma_pf(o) + sg__arma_qf(o) + 2 * n + 16 + n * (sg__arma_npar(o) + 2);
}
static SG_INLINE SG_HD int sg__arima_obj_scratch(sg__arma_order o, int n) {
  return sg__arima_obj_scratch_css(o, n) + sg__arima_kalman_scratch(sg__arma_pf(o), sg__arma_r(o));
}

/* Residual vector at u whose sum of squares S the fit minimises: CSS residuals (zeros before
 * t = pf), or for the exact likelihood the standardised innovations v_t / sqrt(F_t) of the nu
 * steps the filter counts (sg__arima_kalman), scaled by sqrt(n / nu) exp(sumlog / 2nu), so
 * that log(S / n) = log(ssq / nu) + sumlog / nu (R's armafn, doubled).
 * out: n doubles or NULL. Returns S, or HUGE_VAL where undefined. */
SG__ARIMA_FN double sg__arima_resid(const sg__arima_obj *c, const double *u, double *out) {
  double par[SG__ARIMA_MAXPAR], tw[8];
  sg__arma_order o = c->o;
  int pf = sg__arma_pf(o), qf = sg__arma_qf(o), n = c->n;
  double *phi = c->work, *theta = phi + pf, *z = theta + qf, *res = z + n;
  double *kw = c->work + sg__arima_obj_scratch_css(o, n);
  sg__arima_untransform(o, c->transform, u, c->beta0, c->bscale, par, tw);
  sg__arima_expand(o, par, phi, theta);
  sg__arima_deregress(c->w, n, c->X, n, o.nreg, par + (o.p + o.q + o.P + o.Q), z);
  double S;
  if (!c->ml) {
    int nu = 0;
    S = sg__arima_css(z, n, phi, pf, theta, qf, out ? out : res, &nu);
    if (nu <= 0) return HUGE_VAL;
  } else {
    double ssq, sumlog;
    int nu = 0;
    if (!sg__arima_kalman(z, n, phi, pf, theta, qf, &ssq, &sumlog, &nu, out, NULL, NULL, kw) ||
        nu <= 0)
      return HUGE_VAL;
    double f2 = exp(sumlog / nu) * n / nu;
    S = ssq * f2;
    if (out) {
      double f = sqrt(f2);
      for (int t = 0; t < n; t++)
        out[t] *= f;
    }
  }
  return isfinite(S) && S > 0.0 ? S : HUGE_VAL;
}

/* Objective at u: 0.5 log(ssq/nu) (CSS) or 0.5 (log(ssq/nu) + sumlog/nu) (exact), as R's
 * armaCSS and armafn; HUGE_VAL where undefined. */
SG__ARIMA_FN double sg__arima_objective(const sg__arima_obj *c, const double *u) {
  double S = sg__arima_resid(c, u, NULL);
  if (!(S < HUGE_VAL)) return HUGE_VAL;
  int nu = c->ml ? c->n : c->n - sg__arma_pf(c->o);
  return 0.5 * log(S / nu);
}

/* Levenberg-Marquardt on the residual vector (forward-difference Jacobian): the CSS and the
 * exact likelihood are both sums of squares, and LM reaches their minimum in a few Jacobians
 * where BFGS on the objective needs hundreds of evaluations. Converged when a step lowers S by
 * less than 1e-8 of itself (R's BFGS stops at a relative change of 1e-8 in 0.5 log S, looser)
 * or moves no parameter by 1e-8.
 * u (k values) is updated in place; lm: n * (k + 2) doubles. Returns 1 when converged, 0 at
 * maxit, -1 when the start is undefined. */
SG__ARIMA_FN int sg__arima_lm(const sg__arima_obj *c, int k, double *u, int maxit, double *lm) {
  double H[SG__ARIMA_MAXPAR * SG__ARIMA_MAXPAR], A[SG__ARIMA_MAXPAR * SG__ARIMA_MAXPAR];
  double g[SG__ARIMA_MAXPAR], delta[SG__ARIMA_MAXPAR], ut[SG__ARIMA_MAXPAR];
  int n = c->n;
  double *r0 = lm, *r1 = lm + n, *J = lm + 2 * n;
  double S = sg__arima_resid(c, u, r0);
  if (!(S < HUGE_VAL)) return -1;
  if (k == 0) return 1;
  double lambda = 1e-3;
  for (int it = 0; it < maxit; it++) {
    for (int j = 0; j < k; j++) {
      double keep = u[j], hj = 1e-6 * (1.0 + fabs(keep));
      u[j] = keep + hj;
      double Sj = sg__arima_resid(c, u, J + (size_t)j * n);
      u[j] = keep;
      double *col = J + (size_t)j * n;
      if (!(Sj < HUGE_VAL)) {
        for (int t = 0; t < n; t++)
          col[t] = 0.0;
      } else {
        for (int t = 0; t < n; t++)
          col[t] = (col[t] - r0[t]) / hj;
      }
    }
    for (int a = 0; a < k; a++) {
      const double *ca = J + (size_t)a * n;
      double s = 0.0;
      for (int t = 0; t < n; t++)
        s += ca[t] * r0[t];
      g[a] = s;
      for (int b = 0; b <= a; b++) {
        const double *cb = J + (size_t)b * n;
        double v = 0.0;
        for (int t = 0; t < n; t++)
          v += ca[t] * cb[t];
        H[a * k + b] = H[b * k + a] = v;
      }
    }
    int accepted = 0;
    double Snew = S;
    for (int tries = 0; tries < 12 && !accepted; tries++) {
      for (int a = 0; a < k * k; a++)
        A[a] = H[a];
      for (int a = 0; a < k; a++) {
        A[a * k + a] += lambda * H[a * k + a] + 1e-12 * (1.0 + H[a * k + a]);
        delta[a] = -g[a];
      }
      if (sg__arima_solve(k, A, delta)) {
        for (int a = 0; a < k; a++)
          ut[a] = u[a] + delta[a];
        Snew = sg__arima_resid(c, ut, r1);
        if (Snew < S) {
          accepted = 1;
          break;
        }
      }
      lambda *= 10.0;
    }
    if (!accepted) return 1; /* no descent direction left: at the minimum */
    double step = 0.0;
    for (int a = 0; a < k; a++) {
      step = fmax(step, fabs(ut[a] - u[a]));
      u[a] = ut[a];
    }
    for (int t = 0; t < n; t++)
      r0[t] = r1[t];
    double rel = (S - Snew) / S;
    S = Snew;
    lambda = fmax(lambda * 0.1, 1e-10);
    if (rel < 1e-8 || step < 1e-8) return 1;
  }
  return 0;
}

/* Central-difference gradient with R's ndeps = 1e-3. */
SG__ARIMA_FN void sg__arima_grad(const sg__arima_obj *c, int k, double *u, double *g) {
  const double eps = 1e-3;
  for (int i = 0; i < k; i++) {
    double keep = u[i];
    u[i] = keep + eps;
    double f1 = sg__arima_objective(c, u);
    u[i] = keep - eps;
    double f2 = sg__arima_objective(c, u);
    u[i] = keep;
    g[i] = (f1 - f2) / (2.0 * eps);
    if (!isfinite(g[i])) g[i] = 0.0;
  }
}

/* R's vmmin (BFGS, reltol 1e-8, acctol 1e-4, step reduction 0.2). Minimises from u (k values,
 * updated in place); *fmin receives the minimum. Returns 1 when converged before maxit, 0 when
 * it stopped at maxit, -1 when the start value is not finite. */
SG__ARIMA_FN int sg__arima_bfgs(const sg__arima_obj *c, int k, double *u, double *fmin, int maxit) {
  const double stepredn = 0.2, acctol = 0.0001, reltest = 10.0, reltol = 1e-8;
  double B[SG__ARIMA_MAXPAR * SG__ARIMA_MAXPAR], g[SG__ARIMA_MAXPAR], t[SG__ARIMA_MAXPAR],
      X[SG__ARIMA_MAXPAR], cc[SG__ARIMA_MAXPAR];
  double f = sg__arima_objective(c, u);
  if (!(f < HUGE_VAL)) return -1;
  *fmin = f;
  if (k == 0) return 1;
  int gradcount = 1, iter = 1, ilast = gradcount, count = 0;
  sg__arima_grad(c, k, u, g);
  do {
    if (ilast == gradcount)
      for (int i = 0; i < k; i++)
        for (int j = 0; j < k; j++)
          B[i * k + j] = i == j ? 1.0 : 0.0;
    for (int i = 0; i < k; i++) {
      X[i] = u[i];
      cc[i] = g[i];
    }
    double gradproj = 0.0;
    for (int i = 0; i < k; i++) {
      double s = 0.0;
      for (int j = 0; j < k; j++)
        s -= B[i * k + j] * g[j];
      t[i] = s;
      gradproj += s * g[i];
    }
    if (gradproj < 0.0) {
      double steplength = 1.0;
      int accpoint = 0;
      do {
        count = 0;
        for (int i = 0; i < k; i++) {
          u[i] = X[i] + steplength * t[i];
          if (reltest + X[i] == reltest + u[i]) count++;
        }
        if (count < k) {
          f = sg__arima_objective(c, u);
          accpoint = f < HUGE_VAL && f <= *fmin + gradproj * steplength * acctol;
          if (!accpoint) steplength *= stepredn;
        }
      } while (!(count == k || accpoint));
      int enough = fabs(f - *fmin) > reltol * (fabs(*fmin) + reltol);
      if (!enough) {
        count = k;
        *fmin = f;
      }
      if (count < k) {
        *fmin = f;
        sg__arima_grad(c, k, u, g);
        gradcount++;
        iter++;
        double D1 = 0.0;
        for (int i = 0; i < k; i++) {
          t[i] *= steplength;
          cc[i] = g[i] - cc[i];
          D1 += t[i] * cc[i];
        }
        if (D1 > 0) {
          double D2 = 0.0;
          for (int i = 0; i < k; i++) {
            double s = 0.0;
            for (int j = 0; j < k; j++)
              s += B[i * k + j] * cc[j];
            X[i] = s;
            D2 += s * cc[i];
          }
          D2 = 1.0 + D2 / D1;
          for (int i = 0; i < k; i++)
            for (int j = 0; j < k; j++)
              B[i * k + j] += (D2 * t[i] * t[j] - X[i] * t[j] - t[i] * X[j]) / D1;
        } else {
          ilast = gradcount;
        }
      } else if (ilast < gradcount) {
        count = 0;
        ilast = gradcount;
      }
    } else {
      count = 0;
      if (ilast == gradcount)
        count = k;
      else
        ilast = gradcount;
    }
    if (iter >= maxit) break;
    if (gradcount - ilast > 2 * k) ilast = gradcount;
  } while (count != k || ilast != gradcount);
  /* the last accepted point is in u unless the loop ended on a rejected trial */
  if (count == k && !(sg__arima_objective(c, u) <= *fmin)) {
    for (int i = 0; i < k; i++)
      u[i] = X[i];
  }
  return iter < maxit ? 1 : 0;
}

/* One fitted candidate. */
typedef struct sg__arima_cand {
  sg__arma_order o;
  int has_const;                /* the first regression column (mean/drift) is in use */
  double par[SG__ARIMA_MAXPAR]; /* [ar p | ma q | sar P | sma Q | beta nreg] */
  double sigma2, loglik, aic, aicc, bic, ic;
  int ml; /* fitted by exact likelihood */
  int converged;
} sg__arima_cand;

/* Information criteria as forecast::myarima: npar = coefficients + 1 (sigma^2), nstar = n
 * used; AICc infinite when nstar - npar - 1 <= 0. */
static SG_INLINE SG_HD void sg__arima_ics(sg__arima_cand *c, int nstar) {
  int npar = sg__arma_npar(c->o) + 1;
  c->aic = -2.0 * c->loglik + 2.0 * npar;
  c->bic = c->aic + npar * (log((double)nstar) - 2.0);
  int den = nstar - npar - 1;
  c->aicc = den > 0 ? c->aic + 2.0 * npar * (npar + 1) / den : HUGE_VAL;
}

/* R's auto.arima rejects models with a root of the expanded AR or MA polynomial inside
 * |z| < 1.01; the seasonal factor's roots are those of Phi(z^m), so its radius is 1.01^m.
 * work: 2 * 8 doubles. */
static SG_INLINE SG_HD int sg__arima_roots_ok(const sg__arima_cand *c) {
  double w[16];
  sg__arma_order o = c->o;
  const double *ar = c->par, *ma = ar + o.p, *sar = ma + o.q, *sma = sar + o.P;
  double rs = pow(1.01, (double)o.m);
  return sg__arima_roots_outside(o.p, ar, 1.0, 1.01, w) &&
         sg__arima_roots_outside(o.q, ma, -1.0, 1.01, w) &&
         sg__arima_roots_outside(o.P, sar, 1.0, rs, w) &&
         sg__arima_roots_outside(o.Q, sma, -1.0, rs, w);
}

/* Final sigma^2 and log-likelihood at the natural parameters (R's values: CSS sigma^2 =
 * ssq/nu and loglik from n used; exact sigma^2 = ssq/n). Returns 0 when not finite. */
SG__ARIMA_FN int sg__arima_evaluate(const sg__arima_obj *ob, sg__arima_cand *c) {
  sg__arma_order o = c->o;
  int pf = sg__arma_pf(o), qf = sg__arma_qf(o), n = ob->n;
  double *phi = ob->work, *theta = phi + pf, *z = theta + qf, *res = z + n;
  double *kw = ob->work + sg__arima_obj_scratch_css(o, n);
  sg__arima_expand(o, c->par, phi, theta);
  sg__arima_deregress(ob->w, n, ob->X, n, o.nreg, c->par + (o.p + o.q + o.P + o.Q), z);
  if (!ob->ml) {
    int nu = 0;
    double ssq = sg__arima_css(z, n, phi, pf, theta, qf, res, &nu);
    if (nu <= 0) return 0;
    c->sigma2 = ssq / nu;
    c->loglik = -0.5 * (n * log(c->sigma2) + n + n * SG__ARIMA_LOG2PI);
  } else {
    double ssq, sumlog;
    int nu = 0;
    if (!sg__arima_kalman(z, n, phi, pf, theta, qf, &ssq, &sumlog, &nu, NULL, NULL, NULL, kw) ||
        nu <= 0)
      return 0;
    c->sigma2 = ssq / n; /* R: sigma2 over n used, the criterion over the steps counted */
    double val = 0.5 * (log(ssq / nu) + sumlog / nu);
    c->loglik = -0.5 * (2.0 * n * val + n + n * SG__ARIMA_LOG2PI);
  }
  c->ml = ob->ml;
  return isfinite(c->loglik) && c->sigma2 > 0.0;
}

/* Minimises stage `ml` (CSS or exact) from u under transform `mode`: by ob's optimiser (R's
 * BFGS also where LM cannot start), and for the exact stage LM from white noise as a last
 * start. Returns LM/BFGS's convergence code (< 0: no fit). */
SG__ARIMA_FN int sg__arima_fit_stage(sg__arima_obj *ob, int k, double *u, int ml, int mode,
                                     int maxit, double *lm) {
  double keep[SG__ARIMA_MAXPAR], f = 0.0;
  for (int i = 0; i < k; i++)
    keep[i] = u[i];
  ob->ml = ml;
  ob->transform = mode;
  int conv = ob->lm ? sg__arima_lm(ob, k, u, maxit, lm) : -1;
  if (conv < 0) { /* BFGS, or LM could not start here: R's BFGS from the same point */
    for (int i = 0; i < k; i++)
      u[i] = keep[i];
    conv = sg__arima_bfgs(ob, k, u, &f, maxit);
  }
  if (conv < 0 && ml) {
    /* the start sits where the exact likelihood is undefined: start from white noise instead
     * (R gives up on such a model) */
    int narma = k - ob->o.nreg;
    for (int i = 0; i < k; i++)
      u[i] = i < narma ? 0.0 : keep[i];
    conv = sg__arima_lm(ob, k, u, maxit, lm);
  }
  return conv;
}

/* R's maInvert on the MA and seasonal MA parts of par. work: 16 doubles. */
static SG_INLINE SG_HD void sg__arima_invert_ma(sg__arma_order o, double *par, double *work) {
  sg__arima_ma_invert(o.q, par + o.p, work);
  sg__arima_ma_invert(o.Q, par + o.p + o.q + o.P, work);
}

/* The exact stage's parametrisation: R's (MA free, inverted afterwards), except that LM keeps
 * the MA parts of seasonal candidates on the invertible side through -partrans: with free
 * seasonal MA parts the LM search of M3 monthly took 1.3x as long (17.3 vs 13.5 s), its MASE
 * was no better (0.869 vs 0.868), and it gave auto.arima's model to only 2 more of the 756
 * quarterly and 10 more of the 1,428 monthly series. */
static SG_INLINE SG_HD int sg__arima_ml_mode(sg__arma_order o, int lm) {
  return lm && o.P + o.Q > 0 ? SG__ARIMA_ALL : SG__ARIMA_AR;
}

/* Fits candidate c->o (c->par's regression part ignored) on ob's data as R's arima does with
 * method "CSS-ML" (ml) or "CSS": first the conditional sum of squares on the natural
 * parameters from zero ARMA coefficients and the OLS regression start; with ml, the exact
 * likelihood from that CSS optimum (MA roots inside the unit circle reflected first), as
 * sg__arima_ml_mode parametrises it, MA roots reflected again after. strict: as auto.arima, a
 * candidate whose CSS estimate has a non-stationary AR or seasonal AR part fails (R's arima stops
 * with "non-stationary AR part from CSS"); otherwise (a fixed order the caller asked for) the CSS
 * is redone on stationary, invertible parameters and the fit goes on from there. On return c holds
 * the estimates, sigma2, loglik and ICs (ic = HUGE_VAL when the fit failed or has a root near the
 * unit circle). ictype: 0 aicc, 1 aic, 2 bic. */
SG__ARIMA_FN void sg__arima_fit_cand(sg__arima_obj *ob, sg__arima_cand *c, int ml, int ictype,
                                     int maxit, int strict) {
  double u[SG__ARIMA_MAXPAR], par[SG__ARIMA_MAXPAR], tw[16];
  sg__arma_order o = c->o;
  ob->o = o;
  int k = sg__arma_npar(o);
  for (int i = 0; i < k; i++)
    u[i] = 0.0;
  int n = ob->n, pf = sg__arma_pf(o);
  double *lm = ob->work + (pf + sg__arma_qf(o) + 2 * n + 16);
  c->ic = c->aic = c->aicc = c->bic = HUGE_VAL;
  c->loglik = -HUGE_VAL;
  c->converged = 0;
  /* CSS on the natural parameters */
  ob->ml = SG__OBJ_CSS;
  ob->transform = SG__ARIMA_NATURAL;
  double fcss = 0.0;
  int conv = ob->lm ? sg__arima_lm(ob, k, u, maxit, lm) : sg__arima_bfgs(ob, k, u, &fcss, maxit);
  int natural = conv >= 0;
  if (natural) {
    sg__arima_untransform(o, SG__ARIMA_NATURAL, u, ob->beta0, ob->bscale, par, tw);
    const double *ar = par, *sar = par + o.p + o.q;
    int stationary = sg__arima_roots_outside(o.p, ar, 1.0, 1.0, tw) &&
                     sg__arima_roots_outside(o.P, sar, 1.0, 1.0, tw);
    if (!stationary && strict) return;
    natural = stationary;
  }
  if (!natural) { /* CSS on stationary, invertible parameters from zero instead */
    for (int i = 0; i < k; i++)
      u[i] = 0.0;
    conv = sg__arima_fit_stage(ob, k, u, SG__OBJ_CSS, SG__ARIMA_ALL, maxit, lm);
    if (conv < 0) return;
    sg__arima_untransform(o, SG__ARIMA_ALL, u, ob->beta0, ob->bscale, par, tw);
  }
  c->converged = conv;
  if (ml) {
    int mode = sg__arima_ml_mode(o, ob->lm);
    sg__arima_invert_ma(o, par, tw);
    if (!sg__arima_transform(o, mode, par, ob->beta0, ob->bscale, u, tw)) {
      for (int i = 0; i < k - o.nreg; i++) /* a partial autocorrelation at +-1: white noise */
        u[i] = 0.0;
    }
    conv = sg__arima_fit_stage(ob, k, u, SG__OBJ_ML, mode, maxit, lm);
    if (conv < 0) return;
    c->converged = conv;
    sg__arima_untransform(o, mode, u, ob->beta0, ob->bscale, c->par, tw);
    sg__arima_invert_ma(o, c->par, tw);
  } else {
    for (int i = 0; i < k; i++)
      c->par[i] = par[i];
  }
  if (!sg__arima_evaluate(ob, c)) {
    c->loglik = -HUGE_VAL;
    return;
  }
  sg__arima_ics(c, ob->n);
  double ic = ictype == 1 ? c->aic : (ictype == 2 ? c->bic : c->aicc);
  c->ic = sg__arima_roots_ok(c) ? ic : HUGE_VAL;
}

SG_END_DECLS

#endif
