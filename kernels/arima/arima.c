/* sg_arima_*: every argument checked once (messages name the field and value), the step-able
 * batch job (results owned by the job until sg_arima_batch_end hands them over), and dispatch of
 * series ranges to the backend's run slot. */
#include "arima.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/size.h"
#include "arima_backends.h"
#include "arima_stat.h"

struct sg_arima_job {
  sg_exec *x;
  sg_arima_input in;
  sg_arima_spec spec;
  sg_arima_results *res;
  size_t next, ok;
};

static const char *const status_names[] = {"ok",      "too_short",     "constant",
                                           "missing", "not_converged", "pending"};

const char *sg_arima_status_name(int status) {
  if (status < 0 || status >= (int)SG_ARRAY_LEN(status_names)) return "unknown";
  return status_names[status];
}

void sg_arima_spec_default(sg_arima_spec *s) {
  memset(s, 0, sizeof *s);
  s->season = 1;
  s->search = SG_ARIMA_STEPWISE;
  s->max_p = s->max_q = 5;
  s->max_P = s->max_Q = 2;
  s->max_order = 5;
  s->nmodels = 94;
  s->d = s->D = -1;
  s->max_d = 2;
  s->max_D = 1;
  s->constant = SG_ARIMA_CONST_AUTO;
  s->ic = SG_ARIMA_AICC;
  s->method = SG_ARIMA_METHOD_AUTO;
  s->optimizer = SG_ARIMA_OPT_BFGS;
  s->maxit = 100;
  s->h = 1;
  s->n_levels = 2;
  s->levels[0] = 80.0;
  s->levels[1] = 95.0;
}

static sg_status bad(sg_err *err, const char *field, long v, const char *why) {
  return sg_err_set(err, SG_INVALID_ARGUMENT, "%s: %ld %s", field, v, why);
}

static sg_status check_range(sg_err *err, const char *field, long v, long lo, long hi) {
  if (v < lo || v > hi) {
    return sg_err_set(err, SG_INVALID_ARGUMENT, "%s: %ld outside [%ld, %ld]", field, v, lo, hi);
  }
  return SG_OK;
}

static sg_status check_seasonal(const sg_arima_spec *s, sg_err *err) {
  int m = s->season;
  int fixed = s->search == SG_ARIMA_FIXED;
  if (fixed && (s->P > 0 || s->Q > 0) && m < 2) {
    return bad(err, s->P > 0 ? "spec.P" : "spec.Q", s->P > 0 ? s->P : s->Q,
               "needs season >= 2 (season 1)");
  }
  if (s->D > 0 && m < 2) return bad(err, "spec.D", s->D, "needs season >= 2 (season 1)");
  if (fixed && (s->P > 0 || s->Q > 0) && m > SG_ARIMA_MAX_SARMA_SEASON) {
    return sg_err_set(err, SG_INVALID_ARGUMENT,
                      "spec.season: %d > %d with seasonal ARMA orders (P %d, Q %d)", m,
                      SG_ARIMA_MAX_SARMA_SEASON, s->P, s->Q);
  }
  return SG_OK;
}

sg_status sg_arima_spec_check(const sg_arima_spec *s, sg_err *err) {
  SG_TRY(check_range(err, "spec.season", s->season, 1, SG_ARIMA_MAX_SEASON));
  SG_TRY(check_range(err, "spec.search", (int)s->search, SG_ARIMA_STEPWISE, SG_ARIMA_FIXED));
  SG_TRY(check_range(err, "spec.ic", (int)s->ic, SG_ARIMA_AICC, SG_ARIMA_BIC));
  SG_TRY(
      check_range(err, "spec.method", (int)s->method, SG_ARIMA_METHOD_AUTO, SG_ARIMA_METHOD_CSS));
  SG_TRY(check_range(err, "spec.optimizer", (int)s->optimizer, SG_ARIMA_OPT_BFGS, SG_ARIMA_OPT_LM));
  SG_TRY(check_range(err, "spec.constant", (int)s->constant, SG_ARIMA_CONST_AUTO,
                     SG_ARIMA_CONST_ALWAYS));
  if (s->h <= 0) return bad(err, "spec.h", s->h, "<= 0");
  SG_TRY(check_range(err, "spec.h", s->h, 1, SG_ARIMA_MAX_H));
  SG_TRY(check_range(err, "spec.n_levels", s->n_levels, 0, SG_ARIMA_MAX_LEVELS));
  for (int l = 0; l < s->n_levels; l++) {
    if (!(s->levels[l] > 0.0 && s->levels[l] < 100.0)) {
      return sg_err_set(err, SG_INVALID_ARGUMENT, "spec.levels[%d]: %g outside (0, 100)", l,
                        s->levels[l]);
    }
  }
  SG_TRY(check_range(err, "spec.max_p", s->max_p, 0, SG_ARIMA_MAX_PQ));
  SG_TRY(check_range(err, "spec.max_q", s->max_q, 0, SG_ARIMA_MAX_PQ));
  SG_TRY(check_range(err, "spec.max_P", s->max_P, 0, SG_ARIMA_MAX_SPQ));
  SG_TRY(check_range(err, "spec.max_Q", s->max_Q, 0, SG_ARIMA_MAX_SPQ));
  SG_TRY(check_range(err, "spec.max_order", s->max_order, 0, 1000));
  SG_TRY(check_range(err, "spec.nmodels", s->nmodels, 1, 128));
  SG_TRY(check_range(err, "spec.maxit", s->maxit, 1, 100000));
  SG_TRY(check_range(err, "spec.d", s->d, -1, SG_ARIMA_MAX_D));
  SG_TRY(check_range(err, "spec.D", s->D, -1, SG_ARIMA_MAX_SD));
  SG_TRY(check_range(err, "spec.max_d", s->max_d, 0, SG_ARIMA_MAX_D));
  SG_TRY(check_range(err, "spec.max_D", s->max_D, 0, SG_ARIMA_MAX_SD));
  if (s->search == SG_ARIMA_FIXED) {
    SG_TRY(check_range(err, "spec.p", s->p, 0, SG_ARIMA_MAX_PQ));
    SG_TRY(check_range(err, "spec.q", s->q, 0, SG_ARIMA_MAX_PQ));
    SG_TRY(check_range(err, "spec.P", s->P, 0, SG_ARIMA_MAX_SPQ));
    SG_TRY(check_range(err, "spec.Q", s->Q, 0, SG_ARIMA_MAX_SPQ));
  }
  return check_seasonal(s, err);
}

static sg_status check_input(const sg_arima_input *in, const sg_arima_spec *s, sg_err *err) {
  if (in->n_series == 0) return sg_err_set(err, SG_INVALID_ARGUMENT, "input.n_series: 0 series");
  if (in->n_series > SG_ARIMA_MAX_SERIES) {
    return sg_err_set(err, SG_INVALID_ARGUMENT, "input.n_series: %zu > %d", in->n_series,
                      SG_ARIMA_MAX_SERIES);
  }
  if (!in->offsets) return sg_err_set(err, SG_INVALID_ARGUMENT, "input.offsets is NULL");
  if (!in->values) return sg_err_set(err, SG_INVALID_ARGUMENT, "input.values is NULL");
  SG_TRY(check_range(err, "input.n_xreg", in->n_xreg, 0, SG_ARIMA_MAX_XREG));
  if (in->n_xreg > 0 && (!in->xreg || !in->xreg_future)) {
    return sg_err_set(err, SG_INVALID_ARGUMENT, "input.%s is NULL with n_xreg %d",
                      in->xreg ? "xreg_future" : "xreg", in->n_xreg);
  }
  for (size_t i = 0; i < in->n_series; i++) {
    size_t a = in->offsets[i], b = in->offsets[i + 1];
    if (b < a) {
      return sg_err_set(err, SG_INVALID_ARGUMENT, "input.offsets[%zu]: %zu < offsets[%zu] = %zu",
                        i + 1, b, i, a);
    }
    if (b - a > SG_ARIMA_MAX_LENGTH) {
      return sg_err_set(err, SG_INVALID_ARGUMENT, "series[%zu]: length %zu > %d", i, b - a,
                        SG_ARIMA_MAX_LENGTH);
    }
  }
  size_t cells;
  if (in->n_xreg > 0 && !sg_size_mul3(in->n_series, (size_t)s->h, (size_t)in->n_xreg, &cells)) {
    return sg_err_set(err, SG_OVERFLOW, "input.xreg_future: %zu x %d x %d overflows", in->n_series,
                      s->h, in->n_xreg);
  }
  return SG_OK;
}

void sg_arima_results_free(sg_arima_results *r) {
  if (!r) return;
  free(r->fits);
  free(r->mean);
  free(r->lower);
  free(r->upper);
  free(r);
}

static sg_arima_results *results_alloc(size_t ns, const sg_arima_spec *s, sg_err *err) {
  size_t nm, nl;
  if (!sg_size_mul3(ns, (size_t)s->h, sizeof(double), &nm) ||
      !sg_size_mul3(ns, (size_t)s->h * (size_t)(s->n_levels ? s->n_levels : 1), sizeof(double),
                    &nl)) {
    sg_err_set(err, SG_OVERFLOW, "arima results: %zu series x h %d overflows", ns, s->h);
    return NULL;
  }
  sg_arima_results *r = calloc(1, sizeof *r);
  if (!r) goto fail;
  r->n_series = ns;
  r->h = s->h;
  r->n_levels = s->n_levels;
  memcpy(r->levels, s->levels, sizeof r->levels);
  r->fits = calloc(ns, sizeof *r->fits);
  r->mean = malloc(nm);
  r->lower = malloc(nl);
  r->upper = malloc(nl);
  if (!r->fits || !r->mean || !r->lower || !r->upper) goto fail;
  for (size_t i = 0; i < ns; i++) {
    r->fits[i].status = SG_ARIMA_PENDING;
    r->fits[i].m = s->season;
  }
  return r;
fail:
  sg_arima_results_free(r);
  sg_err_set(err, SG_OUT_OF_MEMORY, "arima results for %zu series, h %d", ns, s->h);
  return NULL;
}

sg_status sg_arima_batch_begin(sg_exec *x, const sg_arima_input *input, const sg_arima_spec *spec,
                               sg_arima_job **job, sg_err *err) {
  if (!job) return sg_err_set(err, SG_INVALID_ARGUMENT, "arima: job is NULL");
  *job = NULL;
  if (!x) return sg_err_set(err, SG_INVALID_ARGUMENT, "arima: exec is NULL");
  if (!input) return sg_err_set(err, SG_INVALID_ARGUMENT, "arima: input is NULL");
  if (!spec) return sg_err_set(err, SG_INVALID_ARGUMENT, "arima: spec is NULL");
  SG_TRY(sg_arima_spec_check(spec, err));
  SG_TRY(check_input(input, spec, err));
  sg_arima_job *j = calloc(1, sizeof *j);
  if (!j) return sg_err_set(err, SG_OUT_OF_MEMORY, "arima: job");
  j->x = x;
  j->in = *input;
  j->spec = *spec;
  j->res = results_alloc(input->n_series, spec, err);
  if (!j->res) {
    free(j);
    return err ? err->code : SG_OUT_OF_MEMORY;
  }
  *job = j;
  return SG_OK;
}

static sg_status run_range(sg_arima_job *j, size_t first, size_t count, sg_err *err) {
  sg_arima_results *r = j->res;
  size_t h = (size_t)r->h, hl = h * (size_t)r->n_levels;
  SG_DISPATCH(j->x, arima, run, err, &j->in, &j->spec, first, count, r->fits + first,
              r->mean + first * h, r->lower + first * hl, r->upper + first * hl, err);
}

/* Series i's first non-finite future regressor: 1 and its step *k and column *c, else 0. */
static int future_bad(const sg_arima_input *in, int h, size_t i, int *k, int *c) {
  const double *xf = in->xreg_future + i * (size_t)h * (size_t)in->n_xreg;
  for (int t = 0; t < h * in->n_xreg; t++) {
    if (!isfinite(xf[t])) {
      *k = t / in->n_xreg, *c = t % in->n_xreg;
      return 1;
    }
  }
  return 0;
}

/* A non-finite future regressor makes the series missing, as one in its past does
 * (sg__arima_prepare): its forecast could only be NaN. Checked here on the host because the
 * per-series pipeline shared with the GPU sees xreg_future only after the search; such series
 * are not fitted, and the good ones run in the contiguous ranges between them. */
static sg_status run_checked(sg_arima_job *j, size_t first, size_t count, sg_err *err) {
  sg_arima_results *r = j->res;
  size_t h = (size_t)r->h, hl = h * (size_t)r->n_levels, at = first, end = first + count;
  for (size_t i = first; i < end && j->in.n_xreg > 0; i++) {
    int k, c;
    if (!future_bad(&j->in, r->h, i, &k, &c)) continue;
    if (i > at) SG_TRY(run_range(j, at, i - at, err));
    at = i + 1;
    sg_arima_fit *f = &r->fits[i];
    f->status = SG_ARIMA_MISSING;
    snprintf(f->message, sizeof f->message, "xreg_future[%d][%d] (step, column) is not finite", k,
             c);
    for (size_t t = 0; t < h; t++)
      r->mean[i * h + t] = NAN;
    for (size_t t = 0; t < hl; t++)
      r->lower[i * hl + t] = r->upper[i * hl + t] = NAN;
  }
  return at < end ? run_range(j, at, end - at, err) : SG_OK;
}

sg_status sg_arima_batch_step(sg_arima_job *job, size_t max_series, sg_arima_progress *progress,
                              sg_err *err) {
  if (!job) return sg_err_set(err, SG_INVALID_ARGUMENT, "arima: job is NULL");
  size_t left = job->in.n_series - job->next;
  size_t count = max_series == 0 || max_series > left ? left : max_series;
  if (count > 0) {
    SG_TRY(run_checked(job, job->next, count, err));
    for (size_t i = job->next; i < job->next + count; i++)
      job->ok += job->res->fits[i].status == SG_ARIMA_OK;
    job->next += count;
  }
  if (progress) {
    progress->done = job->next;
    progress->total = job->in.n_series;
    progress->ok = job->ok;
  }
  return SG_OK;
}

void sg_arima_batch_end(sg_arima_job *job, sg_arima_results **results) {
  if (results) *results = NULL;
  if (!job) return;
  if (results)
    *results = job->res;
  else
    sg_arima_results_free(job->res);
  free(job);
}

sg_status sg_arima_batch_run(sg_exec *x, const sg_arima_input *input, const sg_arima_spec *spec,
                             sg_arima_results **results, sg_err *err) {
  if (!results) return sg_err_set(err, SG_INVALID_ARGUMENT, "arima: results is NULL");
  *results = NULL;
  sg_arima_job *job;
  SG_TRY(sg_arima_batch_begin(x, input, spec, &job, err));
  sg_status st = sg_arima_batch_step(job, 0, NULL, err);
  if (st != SG_OK) {
    sg_arima_batch_end(job, NULL);
    return st;
  }
  sg_arima_batch_end(job, results);
  return SG_OK;
}

/* --- host helpers over the shared tests ------------------------------------------------- */

double sg_arima_kpss(const double *x, size_t n, int lags) {
  return n < 2 ? 0.0 : sg__arima_kpss(x, (int)n, lags);
}

int sg_arima_ndiffs(const double *x, size_t n, int max_d) {
  double *copy = malloc((n ? n : 1) * sizeof *copy);
  if (!copy) return 0;
  memcpy(copy, x, n * sizeof *copy);
  int d = sg__arima_ndiffs(copy, (int)n, max_d);
  free(copy);
  return d;
}

double sg_arima_seasonal_strength(const double *x, size_t n, int m) {
  if (m < 2) return 0.0;
  if (n > INT_MAX / 8) return 0.0;
  double *work = malloc(sg__arima_stl_scratch((int)n, m) * sizeof *work);
  if (!work) return 0.0;
  double v = sg__arima_seas_strength(x, (int)n, m, work);
  free(work);
  return v;
}

int sg_arima_nsdiffs(const double *x, size_t n, int m) {
  if (m < 2 || n <= 2 * (size_t)m || sg__arima_is_constant(x, (int)n)) return 0;
  return sg_arima_seasonal_strength(x, n, m) > SG__ARIMA_SEAS_STRENGTH;
}
