/* Tests and small regressions behind automatic ARIMA (host+device): the KPSS level-stationarity
 * statistic as urca::ur.kpss (type "mu", lag trunc(3 sqrt(n)/13) as forecast::ndiffs), the
 * seasonal-strength heuristic that picks D (on a classical moving-average decomposition: R uses
 * STL, so borderline series can get a different D), and the OLS start for regression
 * coefficients with R's parscale (10 standard errors). */
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

/* Seasonal strength max(0, 1 - var(R) / var(S + R)) of x[0..n) with period m >= 2, from a
 * classical decomposition: centred (2 x m when m is even) moving-average trend, seasonal
 * indices as the mean detrended value of each position (centred to sum 0), remainder the rest.
 * work: n + m doubles. Returns 0 when n < 2m + 1. */
SG__ARIMA_FN double sg__arima_seas_strength(const double *x, int n, int m, double *work) {
  if (n < 2 * m + 1) return 0.0;
  double *tr = work, *s = work + n;
  int h = m / 2, lo = h, hi = n - h; /* trend defined on [lo, hi) */
  for (int t = lo; t < hi; t++) {
    double v = 0.0;
    if (m % 2 == 1) {
      for (int k = -h; k <= h; k++)
        v += x[t + k];
      v /= m;
    } else {
      for (int k = -h + 1; k <= h - 1; k++)
        v += x[t + k];
      v += 0.5 * (x[t - h] + x[t + h]);
      v /= m;
    }
    tr[t] = v;
  }
  for (int k = 0; k < m; k++) {
    double sum = 0.0;
    int cnt = 0;
    for (int t = lo + ((k - lo % m) + m) % m; t < hi; t += m) {
      sum += x[t] - tr[t];
      cnt++;
    }
    s[k] = cnt ? sum / cnt : 0.0;
  }
  double mean_s = 0.0;
  for (int k = 0; k < m; k++)
    mean_s += s[k];
  mean_s /= m;
  double mr = 0.0, msr = 0.0;
  int cnt = hi - lo;
  for (int t = lo; t < hi; t++) {
    double sk = s[t % m] - mean_s, rem = x[t] - tr[t] - sk;
    mr += rem;
    msr += rem + sk;
  }
  mr /= cnt;
  msr /= cnt;
  double vr = 0.0, vsr = 0.0;
  for (int t = lo; t < hi; t++) {
    double sk = s[t % m] - mean_s, rem = x[t] - tr[t] - sk;
    vr += (rem - mr) * (rem - mr);
    vsr += (rem + sk - msr) * (rem + sk - msr);
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
