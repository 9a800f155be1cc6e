/* Tests and small regressions behind automatic ARIMA (host+device): the KPSS level-stationarity
 * statistic as urca::ur.kpss (type "mu", lag trunc(3 sqrt(n)/13) as forecast::ndiffs), the
 * seasonal-strength heuristic that picks D (on STL as forecast::mstl), and the OLS start for
 * regression coefficients with R's parscale (10 standard errors). */
#ifndef SG_ARIMA_STAT_H
#define SG_ARIMA_STAT_H

#include "arima_core.h"

SG_BEGIN_DECLS

#define SG__ARIMA_KPSS_CRIT_5PCT 0.463 /* Kwiatkowski et al. (1992), level, 5% */
#define SG__ARIMA_SEAS_STRENGTH 0.64   /* forecast::nsdiffs "seas" threshold */

static SG_INLINE SG_HD int sg__arima_is_constant(const double *x, int n) {
  for (int t = 1; t < n; t++)
    if (x[t] != x[0]) return 0;
  return 1;
}

/* KPSS statistic of x[0..n) around its mean with Bartlett long-run variance over `lags` lags
 * (lags < 0: forecast's default trunc(3 sqrt(n) / 13)). */
SG__ARIMA_FN double sg__arima_kpss(const double *x, int n, int lags) {
  if (lags < 0) lags = (int)(3.0 * sqrt((double)n) / 13.0);
  double mean = 0.0;
  for (int t = 0; t < n; t++)
    mean += x[t];
  mean /= n;
  double S = 0.0, num = 0.0, s2 = 0.0;
  for (int t = 0; t < n; t++) {
    double e = x[t] - mean;
    S += e;
    num += S * S;
    s2 += e * e;
  }
  num /= (double)n * (double)n;
  s2 /= n;
  double lrv = s2;
  for (int l = 1; l <= lags && l < n; l++) {
    double c = 0.0;
    for (int t = l; t < n; t++)
      c += (x[t] - mean) * (x[t - l] - mean);
    lrv += 2.0 / n * (1.0 - (double)l / (lags + 1)) * c;
  }
  return lrv > 0.0 ? num / lrv : 0.0;
}

/* forecast::ndiffs (KPSS, alpha 0.05): difference while the statistic exceeds the 5% critical
 * value, up to max_d; x[0..n) is differenced in place (scratch copy expected). */
SG__ARIMA_FN int sg__arima_ndiffs(double *x, int n, int max_d) {
  int d = 0;
  if (n < 2 || sg__arima_is_constant(x, n)) return 0;
  int rej = sg__arima_kpss(x, n, -1) > SG__ARIMA_KPSS_CRIT_5PCT;
  while (rej && d < max_d) {
    d++;
    n = sg__arima_diff(x, n, 1, 0, 1);
    if (n < 2 || sg__arima_is_constant(x, n)) return d;
    rej = sg__arima_kpss(x, n, -1) > SG__ARIMA_KPSS_CRIT_5PCT;
  }
  return d;
}

/* ---- STL (Cleveland, Cleveland, McRae & Terpenning 1990), as R's stats::stl -----------------
 * The loess smoother, cycle-subseries smoothing, low-pass filter and inner loop of the original
 * algorithm, without the robustness iterations (stl's default robust = FALSE). Arrays in these
 * helpers are 1-based (callers pass base - 1) so the indices read as in the paper. */

/* Loess estimate at xs from y[nleft..nright] with tricube weights over a window of len points
 * (degree 0 or 1); w[nleft..nright] is scratch. Returns 0 when every weight is 0. */
SG__ARIMA_FN int sg__stl_est(const double *y, int n, int len, int deg, double xs, double *ys,
                             int nleft, int nright, double *w) {
  double range = (double)n - 1.0;
  double h = xs - nleft > nright - xs ? xs - nleft : nright - xs;
  if (len > n) h += (double)((len - n) / 2);
  double h9 = 0.999 * h, h1 = 0.001 * h, a = 0.0;
  for (int j = nleft; j <= nright; j++) {
    w[j] = 0.0;
    double r = fabs((double)j - xs);
    if (r <= h9) {
      if (r <= h1) {
        w[j] = 1.0;
      } else {
        double q = r / h;
        q = 1.0 - q * q * q;
        w[j] = q * q * q;
      }
      a += w[j];
    }
  }
  if (a <= 0.0) return 0;
  for (int j = nleft; j <= nright; j++)
    w[j] /= a;
  if (h > 0.0 && deg > 0) { /* local line: reweight by the centred abscissae */
    a = 0.0;
    for (int j = nleft; j <= nright; j++)
      a += w[j] * j;
    double b = xs - a, c = 0.0;
    for (int j = nleft; j <= nright; j++)
      c += w[j] * ((double)j - a) * ((double)j - a);
    if (sqrt(c) > 0.001 * range) {
      b /= c;
      for (int j = nleft; j <= nright; j++)
        w[j] *= b * ((double)j - a) + 1.0;
    }
  }
  double v = 0.0;
  for (int j = nleft; j <= nright; j++)
    v += w[j] * y[j];
  *ys = v;
  return 1;
}

/* Loess smooth ys[1..n] of y[1..n], evaluated every `jump` points and linearly interpolated
 * between them (the last point always evaluated). res: n scratch. */
SG__ARIMA_FN void sg__stl_ess(const double *y, int n, int len, int deg, int jump, double *ys,
                              double *res) {
  if (n < 2) {
    ys[1] = y[1];
    return;
  }
  int nj = jump < n - 1 ? jump : n - 1, nleft = 1, nright = n;
  if (len >= n) {
    for (int i = 1; i <= n; i += nj)
      if (!sg__stl_est(y, n, len, deg, (double)i, &ys[i], nleft, nright, res)) ys[i] = y[i];
  } else if (nj == 1) {
    int nsh = (len + 1) / 2;
    nright = len;
    for (int i = 1; i <= n; i++) {
      if (i > nsh && nright != n) nleft++, nright++;
      if (!sg__stl_est(y, n, len, deg, (double)i, &ys[i], nleft, nright, res)) ys[i] = y[i];
    }
  } else {
    int nsh = (len + 1) / 2;
    for (int i = 1; i <= n; i += nj) {
      if (i < nsh) {
        nleft = 1, nright = len;
      } else if (i >= n - nsh + 1) {
        nleft = n - len + 1, nright = n;
      } else {
        nleft = i - nsh + 1, nright = len + i - nsh;
      }
      if (!sg__stl_est(y, n, len, deg, (double)i, &ys[i], nleft, nright, res)) ys[i] = y[i];
    }
  }
  if (nj == 1) return;
  for (int i = 1; i <= n - nj; i += nj) {
    double delta = (ys[i + nj] - ys[i]) / nj;
    for (int j = i + 1; j <= i + nj - 1; j++)
      ys[j] = ys[i] + delta * (j - i);
  }
  int k = ((n - 1) / nj) * nj + 1;
  if (k != n) { /* the window of the last evaluated point, as the original */
    if (!sg__stl_est(y, n, len, deg, (double)n, &ys[n], nleft, nright, res)) ys[n] = y[n];
    if (k != n - 1) {
      double delta = (ys[n] - ys[k]) / (n - k);
      for (int j = k + 1; j <= n - 1; j++)
        ys[j] = ys[k] + delta * (j - k);
    }
  }
}

/* Moving average of length len: ave[1..n-len+1] from x[1..n]. */
SG__ARIMA_FN void sg__stl_ma(const double *x, int n, int len, double *ave) {
  int nn = n - len + 1;
  double v = 0.0;
  for (int i = 1; i <= len; i++)
    v += x[i];
  ave[1] = v / len;
  for (int j = 2, k = len, m = 0; j <= nn; j++) {
    k++, m++;
    v = v - x[m] + x[k];
    ave[j] = v / len;
  }
}

/* Cycle-subseries smoothing: each of the np subseries of y[1..n] smoothed and extended by one
 * point at each end into c[1..n+2np]. w1..w4: n/np + 3 scratch each. */
SG__ARIMA_FN void sg__stl_ss(const double *y, int n, int np, int ns, int deg, int jump, double *c,
                             double *w1, double *w2, double *w3) {
  for (int j = 1; j <= np; j++) {
    int k = (n - j) / np + 1;
    for (int i = 1; i <= k; i++)
      w1[i] = y[(i - 1) * np + j];
    sg__stl_ess(w1, k, ns, deg, jump, w2 + 1, w3);
    int nright = ns < k ? ns : k;
    if (!sg__stl_est(w1, k, ns, deg, 0.0, &w2[1], 1, nright, w3)) w2[1] = w2[2];
    int nleft = k - ns + 1 > 1 ? k - ns + 1 : 1;
    if (!sg__stl_est(w1, k, ns, deg, (double)(k + 1), &w2[k + 2], nleft, k, w3))
      w2[k + 2] = w2[k + 1];
    for (int i = 1; i <= k + 2; i++)
      c[(i - 1) * np + j] = w2[i];
  }
}

static SG_INLINE SG_HD int sg__stl_nextodd(int x) { return x % 2 == 0 ? x + 1 : x; }

/* Doubles of scratch sg__arima_seas_strength needs. */
static SG_INLINE SG_HD size_t sg__arima_stl_scratch(int n, int m) {
  return (size_t)7 * (size_t)n + (size_t)10 * (size_t)m + 16;
}

/* STL of x[0..n) with period np and R's defaults for a seasonal window ns (s.degree 0, t.window
 * nextodd(ceiling(1.5 np / (1 - 1.5 / ns))), l.window nextodd(np), degrees 1, jumps
 * ceiling(window / 10), 2 inner passes, no robustness): seasonal and trend into s[0..n) and
 * t[0..n). work: 5 (n + 2 np) doubles. Needs n > 2 np. */
SG__ARIMA_FN void sg__arima_stl(const double *x, int n, int np, int ns, double *s, double *t,
                                double *work) {
  int nt = sg__stl_nextodd((int)ceil(1.5 * np / (1.0 - 1.5 / ns)));
  int nl = sg__stl_nextodd(np);
  int sj = (ns + 9) / 10, tj = (nt + 9) / 10, lj = (nl + 9) / 10;
  int len = n + 2 * np;
  double *C = work - 1, *w1 = work + len - 1, *w2 = work + 2 * len - 1, *w3 = work + 3 * len - 1,
         *w4 = work + 4 * len - 1;
  const double *y = x - 1;
  double *S = s - 1, *T = t - 1;
  for (int i = 1; i <= n; i++)
    T[i] = 0.0;
  for (int pass = 0; pass < 2; pass++) {
    for (int i = 1; i <= n; i++)
      w1[i] = y[i] - T[i]; /* detrended */
    sg__stl_ss(w1, n, np, ns, 0, sj, C, w2, w3, w4);
    sg__stl_ma(C, len, np, w2); /* low-pass of the cycle-subseries: MA np, MA np, MA 3, loess */
    sg__stl_ma(w2, n + np + 1, np, w3);
    sg__stl_ma(w3, n + 2, 3, w2);
    sg__stl_ess(w2, n, nl, 1, lj, w1, w4);
    for (int i = 1; i <= n; i++)
      S[i] = C[np + i] - w1[i];
    for (int i = 1; i <= n; i++)
      w1[i] = y[i] - S[i]; /* deseasonalised */
    sg__stl_ess(w1, n, nt, 1, tj, T, w4);
  }
}

/* Seasonal strength max(0, 1 - var(R) / var(S + R)) of x[0..n) with period m >= 2, from STL
 * with s.window 11 as forecast::mstl (what forecast::nsdiffs's "seas" test uses).
 * work: sg__arima_stl_scratch(n, m) doubles. Returns 0 when n <= 2m (stl needs two periods). */
SG__ARIMA_FN double sg__arima_seas_strength(const double *x, int n, int m, double *work) {
  if (n <= 2 * m) return 0.0;
  double *s = work, *t = work + n;
  sg__arima_stl(x, n, m, 11, s, t, work + 2 * n);
  double mr = 0.0, msr = 0.0;
  for (int i = 0; i < n; i++) {
    double rem = x[i] - s[i] - t[i];
    mr += rem;
    msr += rem + s[i];
  }
  mr /= n;
  msr /= n;
  double vr = 0.0, vsr = 0.0;
  for (int i = 0; i < n; i++) {
    double rem = x[i] - s[i] - t[i];
    vr += (rem - mr) * (rem - mr);
    vsr += (rem + s[i] - msr) * (rem + s[i] - msr);
  }
  if (!(vsr > 0.0)) return 0.0;
  double st = 1.0 - vr / vsr;
  return st < 0.0 ? 0.0 : (st > 1.0 ? 1.0 : st);
}

#define SG__ARIMA_MAXREG 10

/* OLS of y (n) on the k <= SG__ARIMA_MAXREG columns of X (column-major, column j at X + j*n):
 * beta and scale = 10 standard errors (1 where undefined), as R's arima starts regression
 * coefficients. Returns 0 when X'X is singular. */
SG__ARIMA_FN int sg__arima_ols(const double *y, int n, const double *X, int k, double *beta,
                               double *scale) {
  double A[SG__ARIMA_MAXREG * SG__ARIMA_MAXREG], Ainv[SG__ARIMA_MAXREG * SG__ARIMA_MAXREG];
  double b[SG__ARIMA_MAXREG], col[SG__ARIMA_MAXREG];
  if (k == 0) return 1;
  for (int i = 0; i < k; i++) {
    double s = 0.0;
    for (int t = 0; t < n; t++)
      s += X[(size_t)i * n + t] * y[t];
    b[i] = s;
    for (int j = 0; j <= i; j++) {
      double v = 0.0;
      for (int t = 0; t < n; t++)
        v += X[(size_t)i * n + t] * X[(size_t)j * n + t];
      A[i * k + j] = A[j * k + i] = v;
    }
  }
  for (int i = 0; i < k * k; i++)
    Ainv[i] = A[i];
  for (int i = 0; i < k; i++)
    beta[i] = b[i];
  if (!sg__arima_solve(k, Ainv, beta)) return 0;
  double rss = 0.0;
  for (int t = 0; t < n; t++) {
    double e = y[t];
    for (int j = 0; j < k; j++)
      e -= X[(size_t)j * n + t] * beta[j];
    rss += e * e;
  }
  double s2 = n > k ? rss / (n - k) : 0.0;
  for (int j = 0; j < k; j++) {
    for (int i = 0; i < k * k; i++)
      Ainv[i] = A[i];
    for (int i = 0; i < k; i++)
      col[i] = i == j ? 1.0 : 0.0;
    double se = sg__arima_solve(k, Ainv, col) ? sqrt(s2 * col[j]) : 0.0;
    scale[j] = se > 0.0 && isfinite(se) ? 10.0 * se : 1.0;
  }
  return 1;
}

SG_END_DECLS

#endif
