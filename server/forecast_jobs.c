/* Forecasts as scheduler jobs: a ForecastRequest becomes one ragged sg_arima_input, runs in
 * steps of a few dozen series (batch class, so interactive work goes between steps), and the
 * results go back as a ForecastResponse whose arrays point into the kernel's results. */
#include "forecast_jobs.h"

#include <stdlib.h>
#include <string.h>

#include "arima/arima.h"
#include "common/size.h"
#include "pb.h"
#include "server.h"
#include "util.h"

/* A step's wall time that the series per step aim at: short enough that cancel and the
 * interactive work between steps wait little, long enough that every CPU thread gets whole
 * series (an M4 hourly series takes ~0.25 s on one core) and a GPU step fills the device. */
#define STEP_TARGET_S 0.1
#define MIN_SERIES_PER_STEP 4

struct sg_forecast_job {
  size_t n;
  char **ids;
  double *values, *xreg, *xreg_future;
  size_t *offsets;
  sg_arima_input input;
  sg_arima_spec spec;
  sg_arima_job *job;
  int64_t per_step; /* series in the next step, from the measured cost of the last */
  sg_arima_results *results;
  /* the response, built once from results */
  Shopgpu__V1__SeriesForecast *rows, **row_ptrs;
  Shopgpu__V1__PredictionInterval *ivs, **iv_ptrs;
};

void sg_forecast_job_free(sg_forecast_job *f) {
  if (!f) return;
  if (f->job) sg_arima_batch_end(f->job, NULL);
  sg_arima_results_free(f->results);
  for (size_t i = 0; f->ids && i < f->n; i++)
    free(f->ids[i]);
  free(f->ids), free(f->values), free(f->xreg), free(f->xreg_future), free(f->offsets);
  free(f->rows), free(f->row_ptrs), free(f->ivs), free(f->iv_ptrs);
  free(f);
}

/* A kernel spec error in the request's field names (the kernel says P, ic, h: R's names). */
static sg_status proto_names(sg_err *err) {
  static const char *const names[][2] = {{"spec.P:", "spec.seasonal_p:"},
                                         {"spec.Q:", "spec.seasonal_q:"},
                                         {"spec.D:", "spec.seasonal_d:"},
                                         {"spec.max_P:", "spec.max_seasonal_p:"},
                                         {"spec.max_Q:", "spec.max_seasonal_q:"},
                                         {"spec.ic:", "spec.criterion:"},
                                         {"spec.h:", "spec.horizon:"}};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    size_t n = strlen(names[i][0]);
    if (strncmp(err->msg, names[i][0], n) != 0) continue;
    sg_err_reword(err, n, names[i][1]);
    break;
  }
  return err->code;
}

static sg_status spec_from(const Shopgpu__V1__ForecastSpec *s, sg_arima_spec *o, sg_err *err) {
  sg_arima_spec_default(o);
  if (!s) return sg_err_set(err, SG_INVALID_ARGUMENT, "spec: missing (spec.horizon is required)");
  if (s->horizon < 1 || s->horizon > SG_ARIMA_MAX_H)
    return sg_err_set(err, SG_INVALID_ARGUMENT, "spec.horizon: %u is outside 1..%d", s->horizon,
                      SG_ARIMA_MAX_H);
  if (s->n_levels > SG_ARIMA_MAX_LEVELS)
    return sg_err_set(err, SG_INVALID_ARGUMENT, "spec.levels: %zu levels > %d", s->n_levels,
                      SG_ARIMA_MAX_LEVELS);
  if (s->search != SHOPGPU__V1__FORECAST_SPEC__SEARCH__STEPWISE &&
      s->search != SHOPGPU__V1__FORECAST_SPEC__SEARCH__GRID &&
      s->search != SHOPGPU__V1__FORECAST_SPEC__SEARCH__FIXED)
    return sg_err_set(err, SG_INVALID_ARGUMENT, "spec.search: %d is not STEPWISE, GRID or FIXED",
                      (int)s->search);
  /* before the casts to int (2^32 - 1 must not read as -1) */
  const struct {
    uint32_t v;
    const char *name;
  } orders[] = {{s->season, "season"},
                {s->max_p, "max_p"},
                {s->max_q, "max_q"},
                {s->max_seasonal_p, "max_seasonal_p"},
                {s->max_seasonal_q, "max_seasonal_q"},
                {s->max_order, "max_order"},
                {s->p, "p"},
                {s->q, "q"},
                {s->seasonal_p, "seasonal_p"},
                {s->seasonal_q, "seasonal_q"}};
  for (size_t i = 0; i < sizeof orders / sizeof orders[0]; i++)
    if (orders[i].v > 100000)
      return sg_err_set(err, SG_INVALID_ARGUMENT, "spec.%s: %u is out of range", orders[i].name,
                        orders[i].v);
  o->h = (int)s->horizon;
  o->season = s->season ? (int)s->season : 1;
  if (s->n_levels) {
    o->n_levels = (int)s->n_levels;
    for (size_t i = 0; i < s->n_levels; i++)
      o->levels[i] = s->levels[i];
  }
  o->search = s->search == SHOPGPU__V1__FORECAST_SPEC__SEARCH__GRID    ? SG_ARIMA_GRID
              : s->search == SHOPGPU__V1__FORECAST_SPEC__SEARCH__FIXED ? SG_ARIMA_FIXED
                                                                       : SG_ARIMA_STEPWISE;
  if (s->max_p) o->max_p = (int)s->max_p;
  if (s->max_q) o->max_q = (int)s->max_q;
  if (s->max_seasonal_p) o->max_P = (int)s->max_seasonal_p;
  if (s->max_seasonal_q) o->max_Q = (int)s->max_seasonal_q;
  if (s->max_order) o->max_order = (int)s->max_order;
  /* checked before the cast: d = 2^32 - 1 would become -1, which means automatic */
  if (s->fix_d && s->d > SG_ARIMA_MAX_D)
    return sg_err_set(err, SG_INVALID_ARGUMENT, "spec.d: %u is outside 0..%d", s->d,
                      SG_ARIMA_MAX_D);
  if (s->fix_seasonal_d && s->seasonal_d > SG_ARIMA_MAX_SD)
    return sg_err_set(err, SG_INVALID_ARGUMENT, "spec.seasonal_d: %u is outside 0..%d",
                      s->seasonal_d, SG_ARIMA_MAX_SD);
  if (s->fix_d) o->d = (int)s->d;
  if (s->fix_seasonal_d) o->D = (int)s->seasonal_d;
  o->p = (int)s->p, o->q = (int)s->q, o->P = (int)s->seasonal_p, o->Q = (int)s->seasonal_q;
  o->constant = (sg_arima_constant)s->constant;
  o->ic = (sg_arima_ic)s->criterion;
  o->method = (sg_arima_method)s->method;
  o->optimizer = (sg_arima_optimizer)s->optimizer;
  if (sg_arima_spec_check(o, err) != SG_OK) return proto_names(err); /* now, not when it runs */
  return SG_OK;
}

/* Copies the series into one ragged input; checks the regressor sizes. */
static sg_status input_from(const Shopgpu__V1__ForecastRequest *r, sg_forecast_job *f,
                            sg_err *err) {
  size_t total = 0, nx = r->spec->n_xreg, h = r->spec->horizon;
  if (nx > SG_ARIMA_MAX_XREG)
    return sg_err_set(err, SG_INVALID_ARGUMENT, "spec.n_xreg: %zu > %d", nx, SG_ARIMA_MAX_XREG);
  for (size_t i = 0; i < r->n_series; i++) {
    const Shopgpu__V1__TimeSeries *s = r->series[i];
    if (s->n_xreg != s->n_values * nx || s->n_xreg_future != h * nx)
      return sg_err_set(err, SG_INVALID_ARGUMENT,
                        "series[%zu].xreg: %zu and %zu values, want %zu and %zu (n_xreg %zu)", i,
                        s->n_xreg, s->n_xreg_future, s->n_values * nx, h * nx, nx);
    if (!sg_size_add(total, s->n_values, &total))
      return sg_err_set(err, SG_OVERFLOW, "series: too many values");
  }
  f->n = r->n_series;
  f->ids = calloc(f->n, sizeof *f->ids);
  f->offsets = malloc((f->n + 1) * sizeof *f->offsets);
  f->values = malloc((total ? total : 1) * sizeof *f->values);
  f->xreg = nx ? malloc(total * nx * sizeof *f->xreg + 1) : NULL;
  f->xreg_future = nx ? malloc(f->n * h * nx * sizeof *f->xreg_future + 1) : NULL;
  if (!f->ids || !f->offsets || !f->values || (nx && (!f->xreg || !f->xreg_future)))
    return sg_err_set(err, SG_OUT_OF_MEMORY, "forecast: out of memory for %zu values", total);
  size_t at = 0;
  for (size_t i = 0; i < f->n; i++) {
    const Shopgpu__V1__TimeSeries *s = r->series[i];
    char field[48];
    snprintf(field, sizeof field, "series[%zu].id", i);
    SG_TRY(sg_utf8_check(s->id, field, err)); /* echoed in the answer */
    if (!(f->ids[i] = strdup(s->id))) return sg_err_set(err, SG_OUT_OF_MEMORY, "out of memory");
    f->offsets[i] = at;
    /* an empty series (no values: NULL arrays) gets its too_short status when it runs */
    if (s->n_values) memcpy(f->values + at, s->values, s->n_values * sizeof *f->values);
    if (nx && s->n_xreg) memcpy(f->xreg + at * nx, s->xreg, s->n_xreg * sizeof *f->xreg);
    if (nx && s->n_xreg_future)
      memcpy(f->xreg_future + i * h * nx, s->xreg_future, s->n_xreg_future * sizeof(double));
    at += s->n_values;
  }
  f->offsets[f->n] = at;
  f->input = (sg_arima_input){f->n, f->values, f->offsets, (int)nx, f->xreg, f->xreg_future};
  return SG_OK;
}

/* The answer's size, about: per series its means and two bounds per level (8 bytes each), and
 * some 100 bytes of model. Past max_bytes it could never be sent (nor stored as a job's result),
 * so it is refused before the results are allocated (horizon 10,000 made 720 KB a series, empty
 * ones included: 4,000 series took 2.8 GB). */
static sg_status answer_fits(const Shopgpu__V1__ForecastRequest *r, const sg_arima_spec *spec,
                             size_t max_bytes, sg_err *err) {
  double per = (double)spec->h * (1 + 2 * spec->n_levels) * 8 + 100;
  double bytes = (double)r->n_series * per;
  if (!max_bytes || bytes <= (double)max_bytes) return SG_OK;
  return sg_err_set(err, SG_INVALID_ARGUMENT,
                    "spec.horizon: %d periods for %zu series at %d levels make an answer of about "
                    "%.0f MB, over the %zu MB a message may have (--max-message-mb): fewer series "
                    "per call, or a shorter horizon",
                    spec->h, r->n_series, spec->n_levels, bytes / 1048576.0, max_bytes >> 20);
}

sg_forecast_job *sg_forecast_job_new(const Shopgpu__V1__ForecastRequest *r, size_t max_series,
                                     size_t max_answer_bytes, sg_err *err) {
  if (r->n_series == 0) {
    sg_err_set(err, SG_INVALID_ARGUMENT, "series: empty");
    return NULL;
  }
  if (r->n_series > max_series) {
    sg_err_set(err, SG_INVALID_ARGUMENT, "series: %zu series > %zu for this call%s", r->n_series,
               max_series, max_series < SG_ARIMA_MAX_SERIES ? " (use StartForecast)" : "");
    return NULL;
  }
  sg_forecast_job *f = calloc(1, sizeof *f);
  if (!f) {
    sg_err_set(err, SG_OUT_OF_MEMORY, "forecast: out of memory");
    return NULL;
  }
  f->per_step = MIN_SERIES_PER_STEP;
  if (spec_from(r->spec, &f->spec, err) != SG_OK ||
      answer_fits(r, &f->spec, max_answer_bytes, err) != SG_OK || input_from(r, f, err) != SG_OK) {
    sg_forecast_job_free(f);
    return NULL;
  }
  return f;
}

/* One step: begin on the first (validation of the spec and every series happens there), then
 * about STEP_TARGET_S of series: the count follows the measured cost (series lengths, seasons
 * and the backend vary it by 1000x), growing at most twofold per step. */
static sg_status forecast_step(sg_job *j, sg_exec *x, int *done, sg_err *err) {
  sg_forecast_job *f = sg_job_data(j);
  if (!f->job) SG_TRY(sg_arima_batch_begin(x, &f->input, &f->spec, &f->job, err));
  sg_arima_progress p;
  int64_t t0 = sg_mono_us();
  SG_TRY(sg_arima_batch_step(f->job, (size_t)f->per_step, &p, err));
  double took = (double)(sg_mono_us() - t0) * 1e-6;
  f->per_step = sg_step_units(f->per_step, took, STEP_TARGET_S, MIN_SERIES_PER_STEP);
  sg_job_progress jp = {.done = p.done, .total = p.total};
  sg_job_set_progress(j, &jp);
  *done = p.done == p.total;
  if (*done) {
    sg_arima_batch_end(f->job, &f->results);
    f->job = NULL;
  }
  return SG_OK;
}

static void forecast_cleanup(void *data) { sg_forecast_job_free(data); }

/* work: points x candidate models */
const sg_job_ops sg_forecast_job_ops = {
    .kind = "forecast", .work_rate = 2e6, .step = forecast_step, .cleanup = forecast_cleanup};

double sg_forecast_job_work(const sg_forecast_job *f) {
  const sg_arima_spec *s = &f->spec;
  double models = 1; /* fixed orders */
  if (s->search == SG_ARIMA_GRID) {
    int seasonal = s->season > 1, P = seasonal ? s->max_P : 0, Q = seasonal ? s->max_Q : 0;
    models = 0;
    for (int p = 0; p <= s->max_p; p++)
      for (int q = 0; q <= s->max_q; q++)
        for (int sp = 0; sp <= P; sp++)
          for (int sq = 0; sq <= Q; sq++)
            models += !s->max_order || p + q + sp + sq <= s->max_order;
  } else if (s->search == SG_ARIMA_STEPWISE) {
    models = s->nmodels < 20 ? s->nmodels : 20; /* auto.arima's stepwise search fits ~10-30 */
  }
  return (double)f->offsets[f->n] * models;
}

static void fill_row(sg_forecast_job *f, size_t i, Shopgpu__V1__SeriesForecast *row) {
  const sg_arima_results *r = f->results;
  const sg_arima_fit *fit = &r->fits[i];
  shopgpu__v1__series_forecast__init(row);
  row->id = f->ids[i];
  row->status = sg_pb_str(sg_arima_status_name(fit->status));
  row->message = sg_pb_str(fit->message);
  row->p = (uint32_t)fit->p, row->d = (uint32_t)fit->d, row->q = (uint32_t)fit->q;
  row->seasonal_p = (uint32_t)fit->P, row->seasonal_d = (uint32_t)fit->D;
  row->seasonal_q = (uint32_t)fit->Q, row->season = (uint32_t)fit->m;
  row->has_mean = fit->has_mean != 0, row->has_drift = fit->has_drift != 0;
  row->n_coef = (size_t)fit->n_coef;
  row->coef = (double *)(uintptr_t)fit->coef;
  row->sigma2 = fit->sigma2, row->loglik = fit->loglik;
  row->aic = fit->aic, row->aicc = fit->aicc, row->bic = fit->bic;
  row->models_fitted = (uint32_t)fit->models_fitted;
  int has = fit->status == SG_ARIMA_OK || fit->status == SG_ARIMA_CONSTANT;
  row->n_mean = has ? (size_t)r->h : 0;
  row->mean = r->mean + i * (size_t)r->h;
  row->n_intervals = has ? (size_t)r->n_levels : 0;
  row->intervals = f->iv_ptrs + i * (size_t)r->n_levels;
  for (int l = 0; l < r->n_levels; l++) {
    Shopgpu__V1__PredictionInterval *iv = &f->ivs[i * (size_t)r->n_levels + (size_t)l];
    shopgpu__v1__prediction_interval__init(iv);
    iv->level = r->levels[l];
    iv->n_lower = iv->n_upper = (size_t)r->h;
    iv->lower = r->lower + (i * (size_t)r->n_levels + (size_t)l) * (size_t)r->h;
    iv->upper = r->upper + (i * (size_t)r->n_levels + (size_t)l) * (size_t)r->h;
    f->iv_ptrs[i * (size_t)r->n_levels + (size_t)l] = iv;
  }
}

sg_status sg_forecast_response(sg_forecast_job *f, Shopgpu__V1__ForecastResponse *resp,
                               sg_err *err) {
  shopgpu__v1__forecast_response__init(resp);
  if (!f->results) return sg_err_set(err, SG_INTERNAL, "forecast: no results");
  size_t n = f->n, nl = (size_t)f->results->n_levels;
  if (!f->rows) {
    f->rows = malloc(n * sizeof *f->rows);
    f->row_ptrs = malloc(n * sizeof *f->row_ptrs);
    f->ivs = malloc((n * nl + 1) * sizeof *f->ivs);
    f->iv_ptrs = malloc((n * nl + 1) * sizeof *f->iv_ptrs);
    if (!f->rows || !f->row_ptrs || !f->ivs || !f->iv_ptrs)
      return sg_err_set(err, SG_OUT_OF_MEMORY, "forecast: out of memory for the response");
    for (size_t i = 0; i < n; i++) {
      fill_row(f, i, &f->rows[i]);
      f->row_ptrs[i] = &f->rows[i];
    }
  }
  resp->series = f->row_ptrs;
  resp->n_series = n;
  return SG_OK;
}

/* ---- the job-registry kind (StartForecast, Jobs.Submit) ---- */

sg_status sg_forecast_prepare(sg_server *srv, const Shopgpu__V1__SubmitJobRequest *req,
                              sg_job_spec *spec, sg_err *err) {
  sg_forecast_job *f = sg_forecast_job_new(req->forecast, SG_ARIMA_MAX_SERIES,
                                           (size_t)srv->cfg.max_message_mb << 20, err);
  if (!f) return err->code;
  *spec = (sg_job_spec){
      .ops = &sg_forecast_job_ops, .data = f, .cls = SG_JOB_BATCH, .work = sg_forecast_job_work(f)};
  return SG_OK;
}

void sg_forecast_result(sg_job *job, Shopgpu__V1__Job *out) {
  Shopgpu__V1__ForecastResponse *resp = malloc(sizeof *resp);
  if (!resp || sg_forecast_response(sg_job_data(job), resp, NULL) != SG_OK) {
    free(resp);
    return;
  }
  out->result_case = SHOPGPU__V1__JOB__RESULT_FORECAST;
  out->forecast = resp; /* points into the job's data, which outlives the persisting */
}

void sg_forecast_free_result(Shopgpu__V1__Job *out) {
  if (out->result_case == SHOPGPU__V1__JOB__RESULT_FORECAST) free(out->forecast);
}
