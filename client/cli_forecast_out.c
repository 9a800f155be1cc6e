/* The outputs of `shopgpu forecast`: FORECAST.csv (unique_id,ds,yhat,lo-L,hi-L... for the
 * series that have a forecast, ds continuing each series in the input's format), MODELS.csv
 * (every series: status, message, model, coefficients, sigma2, AICc) and the summary. Both files
 * go through a temp file renamed at the end, so a failure leaves neither half written. */
#include <grpc/status.h>
#include <stdlib.h>
#include <string.h>

#include "cli_forecast.h"
#include "json.h"

int sg_fc_has_forecast(const Shopgpu__V1__SeriesForecast *s, int horizon) {
  return (strcmp(s->status, "ok") == 0 || strcmp(s->status, "constant") == 0) &&
         s->n_mean == (size_t)horizon;
}

/* The series' interval at level, or NULL. */
static const Shopgpu__V1__PredictionInterval *interval(const Shopgpu__V1__SeriesForecast *s,
                                                       double level, int horizon) {
  for (size_t i = 0; i < s->n_intervals; i++) {
    const Shopgpu__V1__PredictionInterval *iv = s->intervals[i];
    if (iv->level == level && iv->n_lower == (size_t)horizon && iv->n_upper == (size_t)horizon)
      return iv;
  }
  return NULL;
}

/* The input series answer i stands for: by position when the ids agree, else by id; -1 when the
 * input has no such series. */
static long input_series(const sg_fc_output *o, size_t i) {
  const char *id = o->resp->series[i]->id;
  if (i < o->ts->n_series && strcmp(o->ts->series[i].id, id) == 0) return (long)i;
  return shopgpu_ts_find(o->ts, id);
}

static void put_number(FILE *f, double v) {
  char text[40];
  sg__double_text(text, sizeof text, v);
  fputc(',', f);
  fputs(text, f);
}

/* The rows of answer i; SG_CLI_OK or the error printed. */
static int write_rows(sg_cli *cli, FILE *f, const sg_fc_output *o, size_t i) {
  const Shopgpu__V1__SeriesForecast *s = o->resp->series[i];
  long at = o->ts ? input_series(o, i) : 0;
  if (at < 0)
    return sg_cli_input_error(cli, "series \"%.64s\" of the answer is not in the input", s->id);
  const Shopgpu__V1__PredictionInterval *ivs[SG_FC_MAX_LEVELS];
  for (int l = 0; l < o->n_levels; l++)
    if (!(ivs[l] = interval(s, o->levels[l], o->horizon))) {
      shopgpu_status st = {GRPC_STATUS_INTERNAL, ""};
      snprintf(st.message, sizeof st.message, "response: series \"%.64s\" has no %g%% interval",
               s->id, o->levels[l]);
      return sg_cli_rpc_error(cli, &st);
    }
  int64_t end;
  if (o->ts && shopgpu_freq_add_checked(&o->ts->freq, o->ts->series[at].last, o->horizon, &end))
    return sg_cli_input_error(cli,
                              "series \"%.64s\": %d periods after its last ds pass the last ds "
                              "the input's form can have",
                              s->id, o->horizon);
  for (int k = 0; k < o->horizon; k++) {
    char ds[32];
    if (o->ts) /* checked above: no step passes the last ds */
      shopgpu_ds_format_text(ds, sizeof ds, o->ts->freq.format,
                             shopgpu_freq_add(&o->ts->freq, o->ts->series[at].last, k + 1));
    else
      snprintf(ds, sizeof ds, "%d", k + 1);
    sg_cli_csv_field(f, s->id);
    fprintf(f, ",%s", ds);
    put_number(f, s->mean[k]);
    for (int l = 0; l < o->n_levels; l++) {
      put_number(f, ivs[l]->lower[k]);
      put_number(f, ivs[l]->upper[k]);
    }
    fputc('\n', f);
  }
  return SG_CLI_OK;
}

static void count(sg_fc_counts *c, const Shopgpu__V1__SeriesForecast *s, int horizon) {
  static const char *const names[] = {"ok", "constant", "too_short", "missing", "not_converged"};
  size_t *slots[] = {&c->ok, &c->constant, &c->too_short, &c->missing, &c->not_converged};
  size_t k = 0;
  while (k < 5 && strcmp(s->status, names[k]) != 0)
    k++;
  (*(k < 5 ? slots[k] : &c->other))++;
  c->series++;
  c->forecast += (size_t)sg_fc_has_forecast(s, horizon);
}

static int write_forecast(sg_cli *cli, FILE *f, const sg_fc_output *o, sg_fc_counts *counts) {
  fputs("unique_id,ds,yhat", f);
  for (int l = 0; l < o->n_levels; l++)
    fprintf(f, ",lo-%g,hi-%g", o->levels[l], o->levels[l]);
  fputc('\n', f);
  int rc = SG_CLI_OK;
  for (size_t i = 0; rc == SG_CLI_OK && i < o->resp->n_series; i++) {
    count(counts, o->resp->series[i], o->horizon);
    if (sg_fc_has_forecast(o->resp->series[i], o->horizon)) rc = write_rows(cli, f, o, i);
  }
  return rc;
}

/* ---- MODELS.csv ---- */

void sg_fc_order_text(char *buf, size_t size, const Shopgpu__V1__SeriesForecast *s) {
  int n = snprintf(buf, size, "ARIMA(%u,%u,%u)", s->p, s->d, s->q);
  if (n >= 0 && (size_t)n < size && s->seasonal_p + s->seasonal_d + s->seasonal_q > 0)
    n += snprintf(buf + n, size - (size_t)n, "(%u,%u,%u)[%u]", s->seasonal_p, s->seasonal_d,
                  s->seasonal_q, s->season);
  if (n >= 0 && (size_t)n < size && (s->has_drift || s->has_mean))
    snprintf(buf + n, size - (size_t)n, " with %s", s->has_drift ? "drift" : "mean");
}

/* The name of coefficient j: ar1.., ma1.., sar1.., sma1.., mean or drift, then the regressors. */
static void coef_name(char *buf, size_t size, const sg_fc_output *o,
                      const Shopgpu__V1__SeriesForecast *s, size_t j) {
  static const char *const parts[] = {"ar", "ma", "sar", "sma"};
  size_t counts[] = {s->p, s->q, s->seasonal_p, s->seasonal_q};
  for (int k = 0; k < 4; k++) {
    if (j < counts[k]) {
      snprintf(buf, size, "%s%zu", parts[k], j + 1);
      return;
    }
    j -= counts[k];
  }
  if (s->has_mean || s->has_drift) {
    if (j == 0) {
      snprintf(buf, size, "%s", s->has_drift ? "drift" : "mean");
      return;
    }
    j--;
  }
  if (o->exog && j < (size_t)o->n_exog)
    snprintf(buf, size, "%s", o->exog[j]);
  else
    snprintf(buf, size, "xreg%zu", j + 1);
}

/* "ar1=0.5 ma1=-0.3 mean=10" into a growing buffer; the caller frees it. */
static char *coef_text(const sg_fc_output *o, const Shopgpu__V1__SeriesForecast *s) {
  size_t cap = 64 + s->n_coef * 130, used = 0; /* a name is under 80 bytes, a value 25 */
  char *text = malloc(cap);
  if (!text) return NULL;
  text[0] = '\0';
  for (size_t j = 0; j < s->n_coef && used < cap; j++) {
    char name[80], value[40];
    coef_name(name, sizeof name, o, s, j);
    sg__double_text(value, sizeof value, s->coef[j]);
    used += (size_t)snprintf(text + used, cap - used, "%s%s=%s", j ? " " : "", name, value);
  }
  return text;
}

static void write_model_row(FILE *f, const sg_fc_output *o, const Shopgpu__V1__SeriesForecast *s) {
  sg_cli_csv_field(f, s->id);
  fprintf(f, ",%s,", s->status);
  sg_cli_csv_field(f, s->message);
  fputc(',', f);
  if (strcmp(s->status, "ok") != 0) {
    fputs(",,,\n", f);
    return;
  }
  char order[96];
  sg_fc_order_text(order, sizeof order, s);
  sg_cli_csv_field(f, order);
  fputc(',', f);
  char *coef = coef_text(o, s);
  sg_cli_csv_field(f, coef ? coef : "");
  free(coef);
  put_number(f, s->sigma2);
  put_number(f, s->aicc);
  fputc('\n', f);
}

static void write_models(FILE *f, const sg_fc_output *o) {
  fputs("unique_id,status,message,order,coef,sigma2,aicc\n", f);
  for (size_t i = 0; i < o->resp->n_series; i++)
    write_model_row(f, o, o->resp->series[i]);
}

/* Both files are opened before either is written and kept only when both were. */
int sg_fc_write(sg_cli *cli, const sg_fc_output *o, sg_fc_counts *counts) {
  memset(counts, 0, sizeof *counts);
  sg_cli_out out, models = {0};
  int rc = sg_cli_out_open(cli, &out, "--out", o->out);
  if (rc != SG_CLI_OK) return rc;
  if (o->models && (rc = sg_cli_out_open(cli, &models, "--models", o->models)) != SG_CLI_OK) {
    sg_cli_out_commit(cli, &out, 0);
    return rc;
  }
  rc = write_forecast(cli, out.f, o, counts);
  if (o->models && rc == SG_CLI_OK) write_models(models.f, o);
  int committed = sg_cli_out_commit(cli, &out, rc == SG_CLI_OK);
  if (rc == SG_CLI_OK) rc = committed;
  committed = o->models ? sg_cli_out_commit(cli, &models, rc == SG_CLI_OK) : SG_CLI_OK;
  return rc == SG_CLI_OK ? committed : rc;
}

/* ---- the summary ---- */

static void json_counts(sg__json *j, const sg_fc_counts *c) {
  const char *names[] = {"ok", "constant", "too_short", "missing", "not_converged", "other"};
  size_t values[] = {c->ok, c->constant, c->too_short, c->missing, c->not_converged, c->other};
  sg__json_key(j, "statuses");
  sg__json_begin_object(j);
  for (int k = 0; k < 6; k++) {
    sg__json_key(j, names[k]);
    sg__json_uint(j, values[k]);
  }
  sg__json_end_object(j);
}

static void json_string_or_null(sg__json *j, const char *key, const char *value) {
  sg__json_key(j, key);
  sg__json_string(j, value); /* NULL writes null */
}

static void summary_json(sg_cli *cli, const sg_fc_output *o, const sg_fc_counts *c) {
  sg__json j;
  char freq[64];
  if (o->ts) shopgpu_freq_name(&o->ts->freq, freq, sizeof freq);
  sg__json_init(&j, cli->out);
  sg__json_begin_object(&j);
  sg__json_key(&j, "series"), sg__json_uint(&j, c->series);
  sg__json_key(&j, "forecast"), sg__json_uint(&j, c->forecast);
  sg__json_key(&j, "without_forecast"), sg__json_uint(&j, c->series - c->forecast);
  json_counts(&j, c);
  json_string_or_null(&j, "frequency", o->ts ? freq : NULL);
  sg__json_key(&j, "season");
  if (o->season)
    sg__json_int(&j, o->season);
  else
    sg__json_null(&j);
  sg__json_key(&j, "horizon"), sg__json_int(&j, o->horizon);
  sg__json_key(&j, "levels");
  sg__json_begin_array(&j);
  for (int l = 0; l < o->n_levels; l++)
    sg__json_double(&j, o->levels[l]);
  sg__json_end_array(&j);
  sg__json_key(&j, "missing_periods");
  if (o->ts)
    sg__json_uint(&j, o->ts->missing);
  else
    sg__json_null(&j);
  json_string_or_null(&j, "job", o->job_id);
  json_string_or_null(&j, "out", o->out);
  json_string_or_null(&j, "models", o->models);
  sg__json_end_object(&j);
  sg__json_finish(&j);
}

/* "too_short 1, missing 2" for the statuses without a forecast. */
static void without_text(char *buf, size_t size, const sg_fc_counts *c) {
  const char *names[] = {"too_short", "missing", "not_converged", "other"};
  size_t values[] = {c->too_short, c->missing, c->not_converged, c->other};
  size_t used = 0;
  buf[0] = '\0';
  for (int k = 0; k < 4 && used < size; k++)
    if (values[k])
      used += (size_t)snprintf(buf + used, size - used, "%s%s %zu", used ? ", " : "", names[k],
                               values[k]);
}

void sg_fc_summary(sg_cli *cli, const sg_fc_output *o, const sg_fc_counts *c) {
  if (c->forecast < c->series) {
    char what[128];
    without_text(what, sizeof what, c);
    fprintf(cli->err, "shopgpu: %zu series without a forecast (%s): %s%s\n",
            c->series - c->forecast, what,
            o->models ? "listed in " : "--models FILE.csv lists them", o->models ? o->models : "");
  }
  if (cli->json) {
    summary_json(cli, o, c);
    return;
  }
  if (strcmp(o->out, "-") == 0) return; /* stdout holds the CSV */
  char freq[64] = "";
  if (o->ts) shopgpu_freq_name(&o->ts->freq, freq, sizeof freq);
  fprintf(cli->out, "forecast %zu of %zu series, %d periods ahead", c->forecast, c->series,
          o->horizon);
  if (o->ts) fprintf(cli->out, " (%s, season %d)", freq, o->season);
  fprintf(cli->out, " into %s\n", o->out);
  if (o->models) fprintf(cli->out, "models of all %zu series in %s\n", c->series, o->models);
  if (o->job_id) fprintf(cli->out, "job %s\n", o->job_id);
}
