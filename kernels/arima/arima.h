/* Batched ARIMA: order search, fitting and forecasts with prediction intervals for many series
 * at once, on the CPU (OpenMP over series) or the GPU (one thread per series, or per series x
 * candidate order for the full grid).
 *
 * Model (R's stats::arima / forecast::Arima conventions): y_t = x_t' beta + u_t with
 *   phi(B) Phi(B^m) (1-B)^d (1-B^m)^D u_t = theta(B) Theta(B^m) e_t,  e_t ~ N(0, sigma^2),
 *   phi(B) = 1 - sum ar_i B^i, theta(B) = 1 + sum ma_j B^j (same signs for the seasonal parts).
 * x_t holds an intercept (only when d + D = 0), a drift t = 1..n (only when d + D = 1) and the
 * caller's exogenous regressors (promotion flags, prices: regression with ARIMA errors).
 * Fitting: conditional sum of squares (CSS) or exact maximum likelihood (Kalman filter on
 * Harvey's state-space form of the differenced series; the stationary start covariance solves
 * P = T P T' + R R'), by BFGS on transformed parameters that keep the AR parts stationary and
 * the MA parts invertible. sigma^2 = (standardised) residual sum of squares / n used, as arima().
 * AIC = -2 loglik + 2 k, AICc = AIC + 2k(k+1)/(n' - k - 1), BIC = AIC + k (log n' - 2), with
 * k = coefficients + 1 and n' = n - d - D m (forecast::Arima's definitions).
 *
 * Automatic order (Hyndman & Khandakar 2008, forecast::auto.arima): D from a seasonal-strength
 * test (strength > 0.64 on an STL decomposition, as forecast::nsdiffs), d from repeated KPSS
 * tests at 5% on the seasonally differenced series; then either the stepwise search
 * (auto.arima's start models and neighbour moves, at most nmodels fits) or the full grid of
 * every (p, q, P, Q) up to the maxima with p + q + P + Q <= max_order, each with and without
 * the constant where allowed.
 * Candidates whose AR or MA roots lie inside |z| < 1.01 are rejected, as auto.arima does.
 *
 * Forecasts: the Kalman forecast of the full (integrated) model from the filtered state, as
 * R's predict.Arima: mean, and mean -+ z_{(1+level)/2} sqrt(var_h sigma^2) per level.
 *
 * Threading: a job is used by one thread at a time; different jobs are independent. */
#ifndef SG_ARIMA_H
#define SG_ARIMA_H

#include <stddef.h>
#include <stdint.h>

#include "../common/backend.h"

SG_BEGIN_DECLS

/* Limits (each checked; exceeding one is SG_INVALID_ARGUMENT naming the field). */
#define SG_ARIMA_MAX_PQ 5            /* p, q, max_p, max_q */
#define SG_ARIMA_MAX_SPQ 2           /* P, Q, max_P, max_Q */
#define SG_ARIMA_MAX_D 2             /* d, max_d */
#define SG_ARIMA_MAX_SD 1            /* D, max_D */
#define SG_ARIMA_MAX_SEASON 366      /* season m (differencing) */
#define SG_ARIMA_MAX_SARMA_SEASON 52 /* m when P or Q > 0 (the state grows with P m, Q m) */
#define SG_ARIMA_MAX_XREG 8          /* exogenous regressors */
#define SG_ARIMA_MAX_LEVELS 4        /* prediction-interval levels */
#define SG_ARIMA_MAX_H 10000         /* forecast horizon */
#define SG_ARIMA_MAX_LENGTH 100000   /* values in one series */
#define SG_ARIMA_MAX_SERIES 100000000
#define SG_ARIMA_MAX_COEF (2 * SG_ARIMA_MAX_PQ + 2 * SG_ARIMA_MAX_SPQ + 1 + SG_ARIMA_MAX_XREG)

/* Per-series outcome: a bad series never fails the call. */
typedef enum sg_arima_series_status {
  SG_ARIMA_OK = 0,
  SG_ARIMA_TOO_SHORT,     /* not enough values for the model or the search (no forecast) */
  SG_ARIMA_CONSTANT,      /* all values equal: forecasts are that value, zero-width intervals */
  SG_ARIMA_MISSING,       /* a NaN/Inf in the values or the regressors (no forecast) */
  SG_ARIMA_NOT_CONVERGED, /* no candidate gave a finite likelihood (no forecast) */
  SG_ARIMA_PENDING        /* not processed yet (a job that was ended early) */
} sg_arima_series_status;

/* "ok", "too_short", "constant", "missing", "not_converged", "pending". */
const char *sg_arima_status_name(int status);

typedef enum sg_arima_search {
  SG_ARIMA_STEPWISE = 0,
  SG_ARIMA_GRID,
  SG_ARIMA_FIXED
} sg_arima_search;
typedef enum sg_arima_ic { SG_ARIMA_AICC = 0, SG_ARIMA_AIC, SG_ARIMA_BIC } sg_arima_ic;
/* AUTO: as auto.arima: CSS_ML when n > 150 or m > 12, else ML. ML: every candidate by exact
 * likelihood (CSS start). CSS_ML: candidates by CSS, then the best ones refitted by exact
 * likelihood until one is acceptable. CSS: CSS only (loglik is the CSS one). */
typedef enum sg_arima_method {
  SG_ARIMA_METHOD_AUTO = 0,
  SG_ARIMA_METHOD_ML,
  SG_ARIMA_METHOD_CSS_ML,
  SG_ARIMA_METHOD_CSS
} sg_arima_method;

/* How each candidate's likelihood is maximised. BFGS: R's optim (vmmin: its line search,
 * numerical gradient and tolerances) on R's parametrisation, CSS then exact likelihood as
 * arima() does, so the fits stop where R's stop and the models are auto.arima's (M3: the same
 * model for 99.4% of the yearly, 98.7% of the quarterly, 97.8% of the monthly series). LM:
 * Levenberg-Marquardt on the residual vector, seasonal MA parts kept invertible: 1.5-1.7x faster,
 * the same model as auto.arima for 98.9%, 98.0% and 93.2% of those series. */
typedef enum sg_arima_optimizer { SG_ARIMA_OPT_BFGS = 0, SG_ARIMA_OPT_LM } sg_arima_optimizer;
/* AUTO: try with and without (mean when d + D = 0, drift when d + D = 1; none when d + D > 1).
 * NONE: never. ALWAYS: always where allowed. */
typedef enum sg_arima_constant {
  SG_ARIMA_CONST_AUTO = 0,
  SG_ARIMA_CONST_NONE,
  SG_ARIMA_CONST_ALWAYS
} sg_arima_constant;

/* What to fit. Plain data (no pointers): the CUDA backend copies it by value. */
typedef struct sg_arima_spec {
  int season; /* m >= 1; 1 = non-seasonal (seasonal maxima are then ignored) */
  sg_arima_search search;
  int max_p, max_q, max_P, max_Q; /* search bounds (auto.arima: 5, 5, 2, 2) */
  int max_order;                  /* grid: p + q + P + Q <= max_order (5); 0 = no bound */
  int nmodels;                    /* stepwise: most candidates fitted per series (94) */
  int p, q, P, Q;                 /* SG_ARIMA_FIXED: the orders */
  int d, D;                       /* -1 = automatic (KPSS / seasonal strength), else fixed */
  int max_d, max_D;               /* automatic bounds (2, 1) */
  sg_arima_constant constant;
  sg_arima_ic ic;
  sg_arima_method method;
  sg_arima_optimizer optimizer;
  int maxit;                          /* iterations per fit (100, as optim) */
  int h;                              /* forecast horizon >= 1 */
  int n_levels;                       /* 0..SG_ARIMA_MAX_LEVELS */
  double levels[SG_ARIMA_MAX_LEVELS]; /* percent, in (0, 100) */
} sg_arima_spec;

/* auto.arima's defaults: stepwise, max (5,5,2,2), max_order 5, nmodels 94, d = D = -1,
 * max_d 2, max_D 1, constant AUTO, AICc, method AUTO, optimizer BFGS, maxit 100, levels 80 and 95;
 * the caller sets season and h (h defaults to 1). */
void sg_arima_spec_default(sg_arima_spec *spec);
/* SG_OK, or SG_INVALID_ARGUMENT naming the field ("spec.max_P: 7 outside [0, 2]"); the search
 * checks it too. */
sg_status sg_arima_spec_check(const sg_arima_spec *spec, sg_err *err);

/* A batch of series (host memory, caller-owned, must outlive the job).
 * Series i is values[offsets[i] .. offsets[i+1]) (ragged lengths; offsets has n_series + 1
 * non-decreasing entries, offsets[0] may be non-zero). Optional regressors: xreg holds n_xreg
 * values per time step, row-major along the same offsets (xreg[(offsets[i] + t) * n_xreg + j]),
 * and xreg_future their future values, h rows per series (xreg_future[(i * h + k) * n_xreg + j]).
 * Both NULL when n_xreg = 0. */
typedef struct sg_arima_input {
  size_t n_series;
  const double *values;
  const size_t *offsets;
  int n_xreg;
  const double *xreg;
  const double *xreg_future;
} sg_arima_input;

/* The outcome for one series. coef layout: ar[p], ma[q], sar[P], sma[Q], then the constant
 * (mean or drift) when has_mean or has_drift, then the n_xreg regression coefficients. */
typedef struct sg_arima_fit {
  int status;       /* sg_arima_series_status */
  char message[96]; /* "" when ok; else why, e.g. "length 5 < 7 needed for (1,1,1)" */
  int p, d, q, P, D, Q, m;
  int has_mean, has_drift;
  int n_coef;
  double coef[SG_ARIMA_MAX_COEF];
  double sigma2, loglik, aic, aicc, bic;
  int n_used;        /* n - d - D m */
  int exact;         /* 1: loglik is the exact likelihood; 0: CSS */
  int models_fitted; /* candidates tried by the search */
} sg_arima_fit;

/* Results of a batch: fits[n_series]; mean[i * h + k]; lower/upper[(i * n_levels + l) * h + k]
 * (level order as in the spec). Forecasts of series without one are NaN. */
typedef struct sg_arima_results {
  size_t n_series;
  int h, n_levels;
  double levels[SG_ARIMA_MAX_LEVELS];
  sg_arima_fit *fits;
  double *mean, *lower, *upper;
} sg_arima_results;

void sg_arima_results_free(sg_arima_results *res);

typedef struct sg_arima_progress {
  size_t done, total; /* series finished / in the batch */
  size_t ok;          /* of those done, status ok */
} sg_arima_progress;

typedef struct sg_arima_job sg_arima_job;

/* Validates input and spec (SG_INVALID_ARGUMENT naming the field: "spec.h: 0 <= 0",
 * "offsets[3]: 10 < offsets[2] = 12", "spec.P: 1 needs season >= 2 (season 1)"; SG_OVERFLOW
 * for sizes that overflow) and allocates the results (SG_OUT_OF_MEMORY). Per-series problems
 * (NaN, too short, constant) are not errors: they become that series' status. */
sg_status sg_arima_batch_begin(sg_exec *x, const sg_arima_input *input, const sg_arima_spec *spec,
                               sg_arima_job **job, sg_err *err);

/* Processes up to max_series more series (0 = all that remain) and reports progress. With the
 * stepwise search and the BFGS optimizer an M3 monthly series takes ~20 ms on one CPU core, an
 * M4 hourly one ~0.25 s (the server sizes its steps from the measured time). Device errors fail
 * the step (the job can be ended, not continued). */
sg_status sg_arima_batch_step(sg_arima_job *job, size_t max_series, sg_arima_progress *progress,
                              sg_err *err);

/* Frees the job and hands its results to *results (caller frees with sg_arima_results_free);
 * series not processed have status SG_ARIMA_PENDING. results may be NULL to discard. */
void sg_arima_batch_end(sg_arima_job *job, sg_arima_results **results);

/* begin + steps until done + end. */
sg_status sg_arima_batch_run(sg_exec *x, const sg_arima_input *input, const sg_arima_spec *spec,
                             sg_arima_results **results, sg_err *err);

/* Host-side helpers (no backend): KPSS statistic (level, Bartlett window over `lags` lags;
 * lags < 0 = trunc(3 sqrt(n)/13) as forecast::ndiffs), ndiffs (0..max_d), the seasonal-strength
 * statistic and nsdiffs (0 or 1) as used by the automatic search. Values must be finite. */
double sg_arima_kpss(const double *x, size_t n, int lags);
int sg_arima_ndiffs(const double *x, size_t n, int max_d);
double sg_arima_seasonal_strength(const double *x, size_t n, int m);
int sg_arima_nsdiffs(const double *x, size_t n, int m);

SG_END_DECLS

#endif
