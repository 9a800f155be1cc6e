/* ARIMA math shared by the CPU and CUDA backends (host+device, double precision): polynomial
 * expansion of seasonal ARMA, the stationarity/invertibility transform, differencing, the
 * conditional-sum-of-squares and exact (Kalman filter) likelihoods, the stationary state
 * covariance, and forecasts with their variances. Conventions follow R's stats::arima:
 * phi(B) = 1 - sum phi_i B^i, theta(B) = 1 + sum theta_j B^j, Harvey's state-space form with
 * r = max(p, q + 1), likelihoods concentrated over sigma^2. Every variable-length array lives
 * in caller scratch (no VLAs, no malloc), so the same code runs inside one device thread. */
#ifndef SG_ARIMA_CORE_H
#define SG_ARIMA_CORE_H

#include <math.h>
#include <string.h>

#include "../common/hd.h"

SG_BEGIN_DECLS

#define SG__ARIMA_LOG2PI 1.8378770664093454836

/* Heavy helpers (filters, optimiser, search) are not force-inlined on the device: inlining the
 * whole pipeline into every kernel takes nvcc many minutes and spills registers anyway. */
#if defined(__CUDACC__)
#define SG__ARIMA_FN static __host__ __device__ __noinline__ __attribute__((unused))
#else
#define SG__ARIMA_FN static inline
#endif

/* A candidate model on the differenced series: ARMA orders, the season, and how many
 * regression columns (mean/drift/xreg, already differenced) it uses. */
typedef struct sg__arma_order {
  int p, q, P, Q, m;
  int nreg;
} sg__arma_order;

static SG_INLINE SG_HD int sg__arma_npar(sg__arma_order o) {
  return o.p + o.q + o.P + o.Q + o.nreg;
}
static SG_INLINE SG_HD int sg__arma_pf(sg__arma_order o) { return o.p + o.P * o.m; }
static SG_INLINE SG_HD int sg__arma_qf(sg__arma_order o) { return o.q + o.Q * o.m; }
static SG_INLINE SG_HD int sg__arma_r(sg__arma_order o) {
  int pf = sg__arma_pf(o), qf = sg__arma_qf(o);
  return pf > qf + 1 ? pf : qf + 1;
}

/* R's partrans: tanh of each raw value is a partial autocorrelation; Durbin-Levinson turns the
 * k values into AR coefficients of a stationary polynomial. work: k doubles. */
static SG_INLINE SG_HD void sg__arima_partrans(int k, const double *raw, double *out,
                                               double *work) {
  for (int j = 0; j < k; j++)
    work[j] = out[j] = tanh(raw[j]);
  for (int j = 1; j < k; j++) {
    double a = out[j];
    for (int i = 0; i < j; i++)
      work[i] -= a * out[j - i - 1];
    for (int i = 0; i < j; i++)
      out[i] = work[i];
  }
}

/* Inverse of sg__arima_partrans (R's invpartrans): AR coefficients to raw values. Returns 0
 * when the polynomial is not stationary (a partial autocorrelation reaches +-1). */
static SG_INLINE SG_HD int sg__arima_invpartrans(int k, const double *phi, double *raw,
                                                 double *work) {
  for (int j = 0; j < k; j++)
    work[j] = raw[j] = phi[j];
  for (int j = k - 1; j > 0; j--) {
    double a = raw[j];
    if (fabs(a) >= 1.0) return 0;
    for (int i = 0; i < j; i++)
      work[i] = (raw[i] + a * raw[j - i - 1]) / (1.0 - a * a);
    for (int i = 0; i < j; i++)
      raw[i] = work[i];
  }
  for (int j = 0; j < k; j++) {
    if (fabs(raw[j]) >= 1.0) return 0;
    raw[j] = atanh(raw[j]);
  }
  return 1;
}

/* 1 when every root of 1 - sum c_i z^i has modulus >= radius (step-down / Schur-Cohn test on
 * the polynomial scaled by radius). sign = -1 tests 1 + sum c_i z^i (an MA polynomial).
 * work: 2k doubles. */
static SG_INLINE SG_HD int sg__arima_roots_outside(int k, const double *c, double sign,
                                                   double radius, double *work) {
  double *a = work, *b = work + k;
  double s = 1.0;
  for (int i = 0; i < k; i++) {
    s *= radius;
    a[i] = sign * c[i] * s; /* roots of p(z) beyond radius <=> roots of p(radius w) beyond 1 */
  }
  for (int j = k - 1; j >= 0; j--) {
    double kj = a[j];
    if (!(fabs(kj) < 1.0)) return 0;
    for (int i = 0; i < j; i++)
      b[i] = (a[i] + kj * a[j - i - 1]) / (1.0 - kj * kj);
    for (int i = 0; i < j; i++)
      a[i] = b[i];
  }
  return 1;
}

/* Natural parameters [ar p | ma q | sar P | sma Q] to the expanded polynomials phi[0..pf) and
 * theta[0..qf) (R's ArimaTransPars with trans = FALSE). */
static SG_INLINE SG_HD void sg__arima_expand(sg__arma_order o, const double *par, double *phi,
                                             double *theta) {
  const double *ar = par, *ma = par + o.p, *sar = ma + o.q, *sma = sar + o.P;
  int pf = sg__arma_pf(o), qf = sg__arma_qf(o);
  for (int i = 0; i < pf; i++)
    phi[i] = 0.0;
  for (int i = 0; i < qf; i++)
    theta[i] = 0.0;
  for (int i = 0; i < o.p; i++)
    phi[i] = ar[i];
  for (int i = 0; i < o.q; i++)
    theta[i] = ma[i];
  for (int j = 0; j < o.P; j++) {
    phi[(j + 1) * o.m - 1] += sar[j];
    for (int i = 0; i < o.p; i++)
      phi[(j + 1) * o.m + i] -= ar[i] * sar[j];
  }
  for (int j = 0; j < o.Q; j++) {
    theta[(j + 1) * o.m - 1] += sma[j];
    for (int i = 0; i < o.q; i++)
      theta[(j + 1) * o.m + i] += ma[i] * sma[j];
  }
}

/* How the optimiser's vector u maps to the natural parameters. */
enum {
  SG__ARIMA_NATURAL = 0, /* u holds them as they are */
  SG__ARIMA_ALL = 1,     /* AR parts through partrans (stationary), MA parts through -partrans
                            (invertible) */
  SG__ARIMA_AR = 2       /* R's transform.pars: AR parts through partrans, MA parts as they are
                            (inverted afterwards, sg__arima_ma_invert) */
};

/* u to natural parameters [ar p | ma q | sar P | sma Q | beta nreg] under `mode`; regression
 * coefficients are beta0 + scale * u in every mode. work: max order doubles. */
static SG_INLINE SG_HD void sg__arima_untransform(sg__arma_order o, int mode, const double *u,
                                                  const double *beta0, const double *bscale,
                                                  double *par, double *work) {
  int lens[4] = {o.p, o.q, o.P, o.Q};
  int at = 0;
  for (int g = 0; g < 4; g++) {
    int ma = g == 1 || g == 3;
    if (mode == SG__ARIMA_NATURAL || (ma && mode == SG__ARIMA_AR)) {
      for (int i = 0; i < lens[g]; i++)
        par[at + i] = u[at + i];
    } else {
      sg__arima_partrans(lens[g], u + at, par + at, work);
      if (ma)
        for (int i = 0; i < lens[g]; i++)
          par[at + i] = -par[at + i];
    }
    at += lens[g];
  }
  for (int j = 0; j < o.nreg; j++)
    par[at + j] = beta0[j] + bscale[j] * u[at + j];
}

/* Natural parameters to u under `mode` (SG__ARIMA_ALL or SG__ARIMA_AR; inverse of
 * sg__arima_untransform); 0 when a transformed polynomial is not stationary/invertible. */
static SG_INLINE SG_HD int sg__arima_transform(sg__arma_order o, int mode, const double *par,
                                               const double *beta0, const double *bscale, double *u,
                                               double *work) {
  int lens[4] = {o.p, o.q, o.P, o.Q};
  int at = 0;
  for (int g = 0; g < 4; g++) {
    int ma = g == 1 || g == 3;
    if (ma && mode == SG__ARIMA_AR) {
      for (int i = 0; i < lens[g]; i++)
        u[at + i] = par[at + i];
    } else {
      double tmp[8]; /* orders are validated <= SG_ARIMA_MAX_PQ (5) */
      for (int i = 0; i < lens[g]; i++)
        tmp[i] = ma ? -par[at + i] : par[at + i];
      if (!sg__arima_invpartrans(lens[g], tmp, u + at, work)) return 0;
    }
    at += lens[g];
  }
  for (int j = 0; j < o.nreg; j++)
    u[at + j] = (par[at + j] - beta0[j]) / bscale[j];
  return 1;
}

/* R's maInvert: the MA polynomial 1 + c_1 z + ... + c_k z^k with each root inside the unit
 * circle replaced by its reciprocal, which leaves the autocorrelations (and the exact
 * likelihood, concentrated over sigma^2) unchanged and makes the polynomial invertible. Roots
 * by Durand-Kerner on the monic polynomial (k <= 8). Returns 1 when c changed. work: 2k. */
static SG_INLINE SG_HD int sg__arima_ma_invert(int k, double *c, double *work) {
  int q0 = k;
  while (q0 > 0 && c[q0 - 1] == 0.0)
    q0--;
  if (q0 == 0 || q0 > 8 || sg__arima_roots_outside(q0, c, -1.0, 1.0, work)) return 0;
  if (q0 == 1) {
    c[0] = 1.0 / c[0];
    return 1;
  }
  double ar[9], ai[9], zr[8], zi[8];
  for (int j = 0; j <= q0; j++) { /* monic: z^q0 + ... + 1 / c_q0 */
    ar[j] = (j == 0 ? 1.0 : c[j - 1]) / c[q0 - 1];
    ai[j] = 0.0;
  }
  double sr = 1.0, si = 0.0; /* starts (0.4 + 0.9i)^i */
  for (int i = 0; i < q0; i++) {
    zr[i] = sr, zi[i] = si;
    double t = sr * 0.4 - si * 0.9;
    si = sr * 0.9 + si * 0.4;
    sr = t;
  }
  for (int it = 0; it < 500; it++) {
    double moved = 0.0;
    for (int i = 0; i < q0; i++) {
      double pr = 1.0, pi = 0.0; /* Horner: p(z_i) with leading coefficient 1 */
      for (int j = q0 - 1; j >= 0; j--) {
        double t = pr * zr[i] - pi * zi[i] + ar[j];
        pi = pr * zi[i] + pi * zr[i] + ai[j];
        pr = t;
      }
      double dr = 1.0, di = 0.0;
      for (int j = 0; j < q0; j++) {
        if (j == i) continue;
        double er = zr[i] - zr[j], ei = zi[i] - zi[j];
        double t = dr * er - di * ei;
        di = dr * ei + di * er;
        dr = t;
      }
      double den = dr * dr + di * di;
      if (!(den > 0.0)) den = 1e-300;
      double qr = (pr * dr + pi * di) / den, qi = (pi * dr - pr * di) / den;
      zr[i] -= qr, zi[i] -= qi;
      moved = fmax(moved, fabs(qr) + fabs(qi));
    }
    if (moved < 1e-14) break;
  }
  /* prod (1 - z / r) over the roots, inside ones reflected: x_0 = 1, x_j = -e_j(1/r) */
  double xr[9], xi[9];
  xr[0] = 1.0, xi[0] = 0.0;
  for (int j = 1; j <= q0; j++)
    xr[j] = xi[j] = 0.0;
  for (int i = 0; i < q0; i++) {
    double m2 = zr[i] * zr[i] + zi[i] * zi[i];
    double rr = zr[i], ri = zi[i];
    if (m2 < 1.0) rr = zr[i] / m2, ri = -zi[i] / m2; /* inside: 1 / z */
    double m2r = rr * rr + ri * ri;
    double vr = rr / m2r, vi = -ri / m2r; /* 1 / r */
    for (int j = i + 1; j >= 1; j--) {
      xr[j] -= xr[j - 1] * vr - xi[j - 1] * vi;
      xi[j] -= xr[j - 1] * vi + xi[j - 1] * vr;
    }
  }
  for (int j = 1; j <= q0; j++)
    c[j - 1] = xr[j];
  return 1;
}

/* In place: x[0..n) becomes its d-fold lag-1 and D-fold lag-m difference; returns the new
 * length n - d - D*m (the first values are dropped, as R's diff()). */
static SG_INLINE SG_HD int sg__arima_diff(double *x, int n, int d, int D, int m) {
  for (int k = 0; k < D; k++) {
    for (int t = 0; t + m < n; t++)
      x[t] = x[t + m] - x[t];
    n -= m;
  }
  for (int k = 0; k < d; k++) {
    for (int t = 0; t + 1 < n; t++)
      x[t] = x[t + 1] - x[t];
    n -= 1;
  }
  return n < 0 ? 0 : n;
}

/* Coefficients of (1-B)^d (1-B^m)^D = 1 - sum_k delta[k-1] B^k (R's Delta); delta needs
 * nd + 1 doubles. Returns nd = d + D*m. */
static SG_INLINE SG_HD int sg__arima_delta(int d, int D, int m, double *delta) {
  int deg = 0;
  delta[0] = 1.0;
  for (int f = 0; f < d + D; f++) {
    int lag = f < d ? 1 : m;
    for (int k = deg + lag; k >= 0; k--) {
      double v = k <= deg ? delta[k] : 0.0;
      if (k >= lag) v -= delta[k - lag];
      delta[k] = v;
    }
    deg += lag;
  }
  for (int k = 0; k < deg; k++)
    delta[k] = -delta[k + 1];
  return deg;
}

/* z[t] = w[t] - sum_j X[j*ld + t] beta[j]: the series less its regression part. */
static SG_INLINE SG_HD void sg__arima_deregress(const double *w, int n, const double *X, int ld,
                                                int nreg, const double *beta, double *z) {
  for (int t = 0; t < n; t++) {
    double v = w[t];
    for (int j = 0; j < nreg; j++)
      v -= X[(size_t)j * ld + t] * beta[j];
    z[t] = v;
  }
}

/* Conditional sum of squares (R's ARIMA_CSS on a differenced series): residuals start at
 * t = pf; returns ssq and sets *nu to the number of residuals. resid: n doubles. Only the
 * non-zero lags of the expanded polynomials are visited (a seasonal model has at most
 * (p+1)(P+1)-1 of its p + P m lags non-zero). */
SG__ARIMA_FN double sg__arima_css(const double *z, int n, const double *phi, int pf,
                                  const double *theta, int qf, double *resid, int *nu) {
  int lp[40], lq[40], np = 0, nq = 0;
  double cp[40], cq[40];
  for (int i = 0; i < pf && np < 40; i++)
    if (phi[i] != 0.0) lp[np] = i + 1, cp[np++] = phi[i];
  for (int j = 0; j < qf && nq < 40; j++)
    if (theta[j] != 0.0) lq[nq] = j + 1, cq[nq++] = theta[j];
  double ssq = 0.0;
  for (int t = 0; t < pf && t < n; t++)
    resid[t] = 0.0;
  for (int t = pf; t < n; t++) {
    double e = z[t];
    for (int i = 0; i < np; i++)
      e -= cp[i] * z[t - lp[i]];
    for (int j = 0; j < nq; j++)
      if (lq[j] <= t - pf) e -= cq[j] * resid[t - lq[j]];
    resid[t] = e;
    ssq += e * e;
  }
  *nu = n - pf > 0 ? n - pf : 0;
  return ssq;
}

/* Solves A x = b (k x k, row-major, overwritten) by Gaussian elimination with partial
 * pivoting; returns 0 when singular. */
SG__ARIMA_FN int sg__arima_solve(int k, double *A, double *b) {
  for (int c = 0; c < k; c++) {
    int piv = c;
    for (int r = c + 1; r < k; r++)
      if (fabs(A[r * k + c]) > fabs(A[piv * k + c])) piv = r;
    if (!(fabs(A[piv * k + c]) > 1e-300)) return 0;
    if (piv != c) {
      for (int j = 0; j < k; j++) {
        double t = A[c * k + j];
        A[c * k + j] = A[piv * k + j];
        A[piv * k + j] = t;
      }
      double t = b[c];
      b[c] = b[piv];
      b[piv] = t;
    }
    for (int r = c + 1; r < k; r++) {
      double f = A[r * k + c] / A[c * k + c];
      if (f == 0.0) continue;
      for (int j = c; j < k; j++)
        A[r * k + j] -= f * A[c * k + j];
      b[r] -= f * b[c];
    }
  }
  for (int c = k - 1; c >= 0; c--) {
    double s = b[c];
    for (int j = c + 1; j < k; j++)
      s -= A[c * k + j] * b[j];
    b[c] = s / A[c * k + c];
  }
  return 1;
}

/* Longest AR or MA lag sg__arima_q0 takes (p + P m, q + Q m with m <= 52). */
#define SG__ARIMA_Q0_MAXLAG 112
/* AR parts up to this order get their autocovariances from a dense solve, longer (seasonal)
 * ones from the Levinson recursions */
#define SG__ARIMA_Q0_DENSE 8

/* Doubles of scratch sg__arima_q0 needs for a model with pf, r (qf < r). */
static SG_INLINE SG_HD int sg__arima_q0_scratch(int pf, int r) {
  return 3 * (pf + 1) + 6 * (r + 2);
}

/* Stationary covariance P0 (r x r, row-major) of Harvey's state for unit innovation variance:
 * the solution of P = T P T' + R R' (what R's getQ0 computes). Row 0 comes from the ARMA
 * autocovariances gamma(k) and psi weights; the other rows from the fixed-point equation
 * P[i][l] = phi_i phi_l P00 + phi_i P[0][l+1] + phi_l P[0][i+1] + P[i+1][l+1] + R_i R_l,
 * solved backwards from row r-1. x = theta(B) u with u = e / phi(B), so gamma_x(k) =
 * sum_d w_|d| gamma_u(k - d), w_d = sum_j theta_j theta_{j+d} (over the nonzero lags only);
 * gamma_u(0..pf) from the dense (pf+1)^2 system for a short AR part, and for a seasonal one
 * (pf = p + P m, up to 29) in O(pf^2) from its partial autocorrelations (Levinson step-down,
 * then forward), then the AR recursion. (Levinson is less exact near a unit root, a relative
 * residual of 1e-14 instead of 1e-15 for an AR(2) with roots at 1.003, and the Chandrasekhar
 * filter needs Q0 to satisfy its equation closely.) Returns 0 when the AR part is not
 * stationary (a partial autocorrelation reaches +-1).
 * full = 0: row 0 only (P[0..r), all the Chandrasekhar filter needs), without the O(r^2) rest. */
SG__ARIMA_FN int sg__arima_q0(const double *phi, int pf, const double *theta, int qf, int r,
                              int full, double *P, double *work) {
  int L = r + qf; /* gamma_u is needed at lags 0..r + qf */
  double *kap = work, *a = kap + (pf + 1), *b = a + (pf + 1), *rho = b + (r + 1);
  double *psi = rho + (L + 1), *gam = psi + (r + 2), *w = gam + (r + 2);
  /* step-down: partial autocorrelations kap[1..pf] of phi */
  for (int j = 1; j <= pf; j++)
    a[j] = phi[j - 1];
  for (int k = pf; k >= 1; k--) {
    double kk = a[k], den = 1.0 - kk * kk;
    if (!(den > 0.0)) return 0;
    kap[k] = kk;
    double inv = 1.0 / den;
    for (int j = 1; j < k; j++)
      b[j] = (a[j] + kk * a[k - j]) * inv;
    for (int j = 1; j < k; j++)
      a[j] = b[j];
  }
  double g0 = 1.0;
  if (pf <= SG__ARIMA_Q0_DENSE) {
    /* short AR part: gamma_u(0..pf) itself (g0 = 1) from the dense system, backward stable */
    double A[(SG__ARIMA_Q0_DENSE + 1) * (SG__ARIMA_Q0_DENSE + 1)];
    int k1 = pf + 1;
    for (int i = 0; i < k1 * k1; i++)
      A[i] = 0.0;
    for (int row = 0; row < k1; row++) {
      A[row * k1 + row] += 1.0;
      for (int i = 1; i <= pf; i++)
        A[row * k1 + (row >= i ? row - i : i - row)] -= phi[i - 1];
      rho[row] = row == 0 ? 1.0 : 0.0;
    }
    if (!sg__arima_solve(k1, A, rho)) return 0;
  } else {
    /* Levinson forward: autocorrelations rho(1..pf) of u */
    rho[0] = 1.0;
    for (int k = 1; k <= pf; k++) {
      double v = 1.0, s = 0.0; /* v: prediction error variance of order k - 1 (relative) */
      for (int j = 1; j < k; j++) {
        s += a[j] * rho[k - j];
        v -= a[j] * rho[j];
      }
      rho[k] = s + kap[k] * v;
      for (int j = 1; j < k; j++)
        b[j] = a[j] - kap[k] * a[k - j];
      for (int j = 1; j < k; j++)
        a[j] = b[j];
      a[k] = kap[k];
    }
    /* var(u) = 1 / (1 - sum phi_i rho_i), from the rho just computed rather than as
     * 1 / prod(1 - kap^2): the lag-0 equation then holds to rounding */
    for (int i = 1; i <= pf; i++)
      g0 -= phi[i - 1] * rho[i];
    g0 = 1.0 / g0;
  }
  /* the nonzero lags of phi, theta (with theta_0 = 1) and w: a seasonal model has few */
  int iph[SG__ARIMA_Q0_MAXLAG], ith[SG__ARIMA_Q0_MAXLAG], iw[SG__ARIMA_Q0_MAXLAG];
  int nph = 0, nth = 0, nw = 0;
  for (int i = 1; i <= pf; i++)
    if (phi[i - 1] != 0.0) iph[nph++] = i;
  for (int d = 0; d <= qf; d++) {
    b[d] = d == 0 ? 1.0 : theta[d - 1];
    if (b[d] != 0.0) ith[nth++] = d;
  }
  for (int k = pf + 1; k <= L; k++) {
    double s = 0.0;
    for (int t = 0; t < nph; t++)
      s += phi[iph[t] - 1] * rho[k - iph[t]];
    rho[k] = s;
  }
  /* MA filter: w_d = sum_j theta_j theta_{j+d} (theta_0 = 1) */
  for (int d = 0; d <= qf; d++)
    w[d] = 0.0;
  for (int x = 0; x < nth; x++)
    for (int y = x; y < nth; y++)
      w[ith[y] - ith[x]] += b[ith[x]] * b[ith[y]];
  for (int d = 1; d <= qf; d++)
    if (w[d] != 0.0) iw[nw++] = d;
  for (int k = 0; k <= r; k++) {
    double s = w[0] * rho[k];
    for (int t = 0; t < nw; t++) {
      int d = iw[t];
      s += w[d] * (rho[k + d] + rho[k >= d ? k - d : d - k]);
    }
    gam[k] = g0 * s;
  }
  /* psi weights 0..r */
  for (int j = 0; j <= r; j++) {
    double v = j <= qf ? b[j] : 0.0;
    for (int t = 0; t < nph && iph[t] <= j; t++)
      v += phi[iph[t] - 1] * psi[j - iph[t]];
    psi[j] = v;
  }
  /* row 0: Cov(x_t, a_t[j]) */
  for (int j = 0; j < r; j++) {
    double v = 0.0;
    for (int t = 0; t < nph; t++) /* lags kk in j + 1..pf (<= r) */
      if (iph[t] > j) v += phi[iph[t] - 1] * gam[iph[t] - j];
    for (int t = 0; t < nth; t++) /* lags kk in j..qf (<= r - 1) */
      if (ith[t] >= j) v += b[ith[t]] * psi[ith[t] - j];
    P[j] = v;
    if (full) P[j * r] = v;
  }
  if (!full) return 1;
  for (int i = r - 1; i >= 1; i--) {
    double phii = i < pf ? phi[i] : 0.0, Ri = i <= qf ? theta[i - 1] : 0.0;
    double p0i1 = i + 1 < r ? P[i + 1] : 0.0;
    for (int l = r - 1; l >= i; l--) {
      double phil = l < pf ? phi[l] : 0.0, Rl = l <= qf ? theta[l - 1] : 0.0;
      double p0l1 = l + 1 < r ? P[l + 1] : 0.0;
      double next = (i + 1 < r && l + 1 < r) ? P[(i + 1) * r + l + 1] : 0.0;
      double v = phii * phil * P[0] + phii * p0l1 + phil * p0i1 + next + Ri * Rl;
      P[i * r + l] = v;
      P[l * r + i] = v;
    }
  }
  return 1;
}

/* Doubles of scratch sg__arima_kalman needs. */
static SG_INLINE SG_HD int sg__arima_kalman_scratch(int pf, int r) {
  int r1 = r + 1;
  return 2 * r1 * r1 + 6 * r1 + sg__arima_q0_scratch(pf, r) + r * r;
}

/* The same likelihood by the Chandrasekhar recursions (Morf, Sidhu & Kailath 1974): from the
 * stationary prior P1 = Q0 the change of the predicted covariance P_{t+1} - P_t has rank one,
 * Y_t M_t Y_t', so F_t and the gain follow from O(r) updates per step instead of the O(r^2)
 * covariance recursion (the filter never needs P itself):
 *   F_{t+1} = F_t + M_t s^2,  g_{t+1} = g_t + M_t s T Y_t,  Y_{t+1} = T Y_t - s g_t / F_t,
 *   M_{t+1} = M_t F_t / F_{t+1},  with s = Y_t[0], g_t = T P_t e1, Y_1 = g_1, M_1 = -1 / F_1.
 * Exact because sg__arima_q0 solves Q0 = T Q0 T' + R R'. Same outputs and rules as
 * sg__arima_kalman without the final state. */
SG__ARIMA_FN int sg__arima_kalman_fast(const double *z, int n, const double *phi, int pf,
                                       const double *theta, int qf, double *ssq_out,
                                       double *sumlog_out, int *nu_out, double *resid,
                                       double *work) {
  int r = pf > qf + 1 ? pf : qf + 1, r1 = r + 1;
  double *x = work, *g = x + r1, *Y = g + r1, *u = Y + r1, *ph = u + r1, *q0 = ph + r1,
         *q0w = q0 + r * r;
  if (!sg__arima_q0(phi, pf, theta, qf, r, 0, q0, q0w)) return 0;
  for (int i = 0; i < r1; i++) {
    ph[i] = i < pf ? phi[i] : 0.0;
    x[i] = u[i] = 0.0;
  }
  double F = q0[0];
  for (int i = 0; i < r; i++)                             /* g = T Q0 e1 */
    g[i] = ph[i] * q0[0] + (i + 1 < r ? q0[i + 1] : 0.0); /* q0 symmetric: row 0 */
  g[r] = 0.0;
  for (int i = 0; i < r1; i++)
    Y[i] = g[i];
  /* sum log F as the log of products of up to 64 factors (each < 1e4: no overflow), one libm
   * call per 64 steps */
  double M = -1.0 / F, ssq = 0.0, sumlog = 0.0, prodF = 1.0;
  int nu = 0;
  for (int t = 0; t < n; t++) {
    if (!(F > 0.0) || !isfinite(F)) return 0;
    double v = z[t] - x[0];
    if (F < 1e4) {
      nu++;
      ssq += v * v / F;
      prodF *= F;
      if ((nu & 63) == 0) {
        sumlog += log(prodF);
        prodF = 1.0;
      }
      if (resid) resid[t] = v / sqrt(F);
    } else if (resid) {
      resid[t] = 0.0;
    }
    double vf = v / F, x0 = x[0], s = Y[0], Ms = M * s, sf = s / F;
    for (int i = 0; i < r; i++) { /* x[i + 1] and Y[i + 1] are read before they are written */
      x[i] = x[i + 1] + ph[i] * x0 + g[i] * vf;
      u[i] = Y[i + 1] + ph[i] * s; /* T Y */
      Y[i] = u[i] - g[i] * sf;
      g[i] += u[i] * Ms;
    }
    double Fn = F + Ms * s;
    M = M * F / Fn;
    F = Fn;
  }
  sumlog += log(prodF);
  *ssq_out = ssq;
  *sumlog_out = sumlog;
  if (nu_out) *nu_out = nu;
  return 1;
}

/* Exact Gaussian likelihood of the stationary ARMA z[0..n) by the Kalman filter (R's
 * ARIMA_Like without differencing states). Outputs ssq = sum v_t^2/F_t, sumlog = sum log F_t
 * (unit innovation variance) and nu, the observations counted: as R, a step whose prediction
 * variance F is 1e4 or more (the first values of a nearly non-stationary model) updates the
 * state but adds nothing to ssq and sumlog. When the filtered covariance stops changing (every
 * entry within 1e-12 of the largest of the last step's) the recursion has reached its fixed point
 * and stops: later steps cost O(r) instead of O(r^2). (F alone can stay put for a season while
 * the covariance still moves: a pure seasonal model learns nothing about lag m until step m.)
 * The state covariance is kept with one zero row and column beyond r (stride r + 1) so the
 * structured update P <- T P T' + R R' has no branches in its inner loop.
 * a_out (r) / P_out (r x r), when not NULL, receive the filtered state after the last step;
 * without them the call goes to sg__arima_kalman_fast (same values, O(r) per step).
 * resid (n, may be NULL): standardised innovations v_t / sqrt(F_t), 0 for a step not counted.
 * Returns 0 when P0 cannot be computed or a variance is not positive. */
SG__ARIMA_FN int sg__arima_kalman(const double *z, int n, const double *phi, int pf,
                                  const double *theta, int qf, double *ssq_out, double *sumlog_out,
                                  int *nu_out, double *resid, double *a_out, double *P_out,
                                  double *work) {
  if (!a_out && !P_out) {
    return sg__arima_kalman_fast(z, n, phi, pf, theta, qf, ssq_out, sumlog_out, nu_out, resid,
                                 work);
  }
  int r = pf > qf + 1 ? pf : qf + 1, r1 = r + 1;
  double *P = work, *Pn = P + r1 * r1, *a = Pn + r1 * r1, *an = a + r1, *ph = an + r1;
  double *Rv = ph + r1, *p0 = Rv + r1, *M = p0 + r1, *q0 = M + r1, *q0w = q0 + r * r;
  if (!sg__arima_q0(phi, pf, theta, qf, r, 1, q0, q0w)) return 0;
  for (int i = 0; i < r1 * r1; i++)
    P[i] = Pn[i] = 0.0;
  for (int i = 0; i < r; i++)
    for (int l = 0; l < r; l++)
      Pn[i * r1 + l] = q0[i * r + l];
  for (int i = 0; i < r1; i++) {
    a[i] = an[i] = p0[i] = M[i] = 0.0;
    ph[i] = i < pf ? phi[i] : 0.0;
    Rv[i] = i == 0 ? 1.0 : (i <= qf && i < r ? theta[i - 1] : 0.0);
  }
  double ssq = 0.0, sumlog = 0.0, logF = 0.0;
  int steady = 0, nu = 0;
  for (int t = 0; t < n; t++) {
    for (int i = 0; i < r; i++)
      an[i] = a[i + 1] + ph[i] * a[0];
    if (t > 0 && !steady) {
      double P00 = P[0];
      for (int l = 0; l < r1; l++)
        p0[l] = P[l];
      for (int i = 0; i < r; i++) {
        const double *Pi1 = P + (i + 1) * r1 + 1;
        double *out = Pn + i * r1;
        double phi_i = ph[i], R_i = Rv[i], c0 = phi_i * P00, c1 = p0[i + 1];
        for (int l = 0; l < r; l++)
          out[l] = phi_i * p0[l + 1] + ph[l] * (c0 + c1) + Pi1[l] + R_i * Rv[l];
      }
    }
    double F = Pn[0];
    if (!(F > 0.0) || !isfinite(F)) return 0;
    double v = z[t] - an[0];
    if (F < 1e4) {
      nu++;
      ssq += v * v / F;
      sumlog += steady ? logF : log(F); /* F no longer changes once steady */
      if (resid) resid[t] = v / sqrt(F);
    } else if (resid) {
      resid[t] = 0.0;
    }
    double vf = v / F;
    for (int i = 0; i < r; i++)
      a[i] = an[i] + Pn[i] * vf;
    if (!steady) {
      for (int i = 0; i < r; i++)
        M[i] = Pn[i] / F;
      double dmax = 0.0, pmax = 0.0; /* change of the filtered covariance since the last step */
      for (int i = 0; i < r; i++) {
        const double *pn = Pn + i * r1;
        double *out = P + i * r1, mi = Pn[i];
        for (int l = 0; l < r; l++) {
          double nv = pn[l] - mi * M[l];
          double dd = fabs(nv - out[l]), av = fabs(nv); /* not fmax: a libm call */
          dmax = dd > dmax ? dd : dmax;
          pmax = av > pmax ? av : pmax;
          out[l] = nv;
        }
      }
      if (t > 0 && dmax <= 1e-12 * pmax) { /* a fixed point of the recursion: F stays as it is */
        steady = 1;
        logF = log(F);
      }
    }
  }
  *ssq_out = ssq;
  *sumlog_out = sumlog;
  if (nu_out) *nu_out = nu;
  if (a_out)
    for (int i = 0; i < r; i++)
      a_out[i] = a[i];
  if (P_out)
    for (int i = 0; i < r; i++)
      for (int l = 0; l < r; l++)
        P_out[i * r + l] = P[i * r1 + l];
  return 1;
}

/* Normal quantile (Wichura's AS241, PPND16: about 1e-16 relative accuracy), 0 < p < 1. */
static SG_INLINE SG_HD double sg__arima_qnorm(double p) {
  double q = p - 0.5, r, val;
  if (fabs(q) <= 0.425) {
    r = 0.180625 - q * q;
    val =
        q *
        (((((((r * 2509.0809287301226727 + 33430.575583588128105) * r + 67265.770927008700853) * r +
             45921.953931549871457) *
                r +
            13731.693765509461125) *
               r +
           1971.5909503065514427) *
              r +
          133.14166789178437745) *
             r +
         3.387132872796366608) /
        (((((((r * 5226.495278852545925 + 28729.085735721942674) * r + 39307.89580009271061) * r +
             21213.794301586595867) *
                r +
            5394.1960214247511077) *
               r +
           687.1870074920579083) *
              r +
          42.313330701600911252) *
             r +
         1.0);
    return val;
  }
  r = q < 0 ? p : 1.0 - p;
  r = sqrt(-log(r));
  if (r <= 5.0) {
    r -= 1.6;
    val = (((((((r * 7.7454501427834140764e-4 + 0.0227238449892691845833) * r +
                0.24178072517745061177) *
                   r +
               1.27045825245236838258) *
                  r +
              3.64784832476320460504) *
                 r +
             5.7694972214606914055) *
                r +
            4.6303378461565452959) *
               r +
           1.42343711074968357734) /
          (((((((r * 1.05075007164441684324e-9 + 5.475938084995344946e-4) * r +
                0.0151986665636164571966) *
                   r +
               0.14810397642748007459) *
                  r +
              0.68976733498510000455) *
                 r +
             1.6763848301838038494) *
                r +
            2.05319162663775882187) *
               r +
           1.0);
  } else {
    r -= 5.0;
    val = (((((((r * 2.01033439929228813265e-7 + 2.71155556874348757815e-5) * r +
                0.0012426609473880784386) *
                   r +
               0.026532189526576123093) *
                  r +
              0.29656057182850489123) *
                 r +
             1.7848265399172913358) *
                r +
            5.4637849111641143699) *
               r +
           6.6579046435011037772) /
          (((((((r * 2.04426310338993978564e-15 + 1.4215117583164458887e-7) * r +
                1.8463183175100546818e-5) *
                   r +
               7.868691311456132591e-4) *
                  r +
              0.0148753612908506148525) *
                 r +
             0.13692988092273580531) *
                r +
            0.59983220655588793769) *
               r +
           1.0);
  }
  return q < 0.0 ? -val : val;
}

SG_END_DECLS

#endif
