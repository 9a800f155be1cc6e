/* shopgpu CLI `forecast`: reads a long CSV (shopgpu_ts.h: series, frequency, regressors), sends
 * it with Forecast (up to 1,000 series, answered in the call) or StartForecast (a job followed
 * with the progress bar; --detach prints its id), and writes FORECAST.csv / MODELS.csv
 * (cli_forecast_out.c). `--job ID` writes the outputs of a forecast job started before. */
#include "cli_forecast.h"

#include <errno.h>
#include <grpc/status.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct fc_args {
  const char *file, *job, *out, *models;
  int64_t horizon, season, priority; /* season 0: from the frequency */
  int search, optimizer;
  int n_levels;
  double levels[SG_FC_MAX_LEVELS];
  int n_exog;
  const char *exog[SHOPGPU_TS_MAX_EXOG];
  char exog_buf[1024];
} fc_args;

/* ---- options ---- */

static int parse_levels(const char *text, fc_args *a) {
  const char *p = text;
  for (a->n_levels = 0;; p++) {
    char *end;
    errno = 0;
    double v = strtod(p, &end);
    if (end == p || errno || !(v > 0 && v < 100) || (*end && *end != ',') ||
        a->n_levels == SG_FC_MAX_LEVELS)
      return sg_cli_usage("--level: \"%.64s\" is not up to %d percentages in (0, 100), "
                          "comma-separated",
                          text, SG_FC_MAX_LEVELS);
    for (int i = 0; i < a->n_levels; i++) /* lo-80,hi-80 twice: no column names one value */
      if (a->levels[i] == v) return sg_cli_usage("--level: %g given twice", v);
    a->levels[a->n_levels++] = v;
    if (!*end) return SG_CLI_OK;
    p = end;
  }
}

static int parse_exog(const char *text, fc_args *a) {
  if (strlen(text) >= sizeof a->exog_buf)
    return sg_cli_usage("--exog: over %zu bytes", sizeof a->exog_buf - 1);
  snprintf(a->exog_buf, sizeof a->exog_buf, "%s", text);
  for (char *p = a->exog_buf;;) {
    char *comma = strchr(p, ',');
    if (comma) *comma = '\0';
    if (!*p || a->n_exog == SHOPGPU_TS_MAX_EXOG)
      return sg_cli_usage("--exog: \"%.64s\" is not 1..%d column names, comma-separated", text,
                          SHOPGPU_TS_MAX_EXOG);
    for (int i = 0; i < a->n_exog; i++) /* one column twice: a singular regression */
      if (strcmp(a->exog[i], p) == 0) return sg_cli_usage("--exog: column %.64s given twice", p);
    a->exog[a->n_exog++] = p;
    if (!comma) return SG_CLI_OK;
    p = comma + 1;
  }
}

/* With --job the model options belong to the job already. */
static int check_job_mode(const sg_cli *cli) {
  static const char *const model_opts[] = {"horizon", "season",    "level",
                                           "search",  "optimizer", "priority"};
  for (size_t i = 0; i < sizeof model_opts / sizeof model_opts[0]; i++)
    if (sg_cli_opt_str(cli, model_opts[i]))
      return sg_cli_usage("forecast --job: takes no --%s (the job's own is used)", model_opts[i]);
  if (cli->detach) return sg_cli_usage("forecast --job: takes no --detach");
  return SG_CLI_OK;
}

static int check_new_mode(const sg_cli *cli, const fc_args *a, int argc) {
  if (argc != 1) return sg_cli_usage("forecast: expects FILE.csv (or --job ID)");
  if (!sg_cli_opt_str(cli, "horizon")) return sg_cli_usage("forecast: --horizon is required");
  if (a->out && cli->detach)
    return sg_cli_usage("forecast: --out needs the job's end: leave out --detach");
  if (!a->out && !cli->detach) return sg_cli_usage("forecast: --out is required");
  return SG_CLI_OK;
}

/* The directory of path (its text before the last '/', or "."), and its last name. */
static void split_path(const char *path, char *dir, size_t cap, const char **name) {
  const char *slash = strrchr(path, '/');
  if (!slash) {
    snprintf(dir, cap, ".");
    *name = path;
  } else {
    snprintf(dir, cap, "%.*s", slash == path ? 1 : (int)(slash - path), path);
    *name = slash + 1;
  }
}

/* Whether two output paths are one file: the same text, one existing file by two names, or the
 * same name in one directory named two ways (f.csv and ./f.csv, before either exists). */
static int same_file(const char *a, const char *b) {
  if (strcmp(a, b) == 0) return 1;
  struct stat x, y;
  if (stat(a, &x) == 0 && stat(b, &y) == 0) return x.st_dev == y.st_dev && x.st_ino == y.st_ino;
  char da[4096], db[4096];
  const char *na, *nb;
  split_path(a, da, sizeof da, &na);
  split_path(b, db, sizeof db, &nb);
  return strcmp(na, nb) == 0 && stat(da, &x) == 0 && stat(db, &y) == 0 && x.st_dev == y.st_dev &&
         x.st_ino == y.st_ino;
}

/* An output path that cannot be written, refused before the work (not at the rename after it). */
static int check_output(const char *flag, const char *path) {
  struct stat sb;
  if (!path[0]) return sg_cli_usage("forecast: %s: an empty path (- is stdout)", flag);
  if (strcmp(path, "-") != 0 && stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
    return sg_cli_usage("forecast: %s: %.64s is a directory", flag, path);
  return SG_CLI_OK;
}

static int read_args(sg_cli *cli, int argc, char **argv, fc_args *a) {
  a->file = argc ? argv[0] : NULL;
  a->job = sg_cli_opt_str(cli, "job");
  a->out = sg_cli_opt_str(cli, "out");
  a->models = sg_cli_opt_str(cli, "models");
  const char *levels = sg_cli_opt_str(cli, "level"), *exog = sg_cli_opt_str(cli, "exog");
  a->levels[0] = 80, a->levels[1] = 95, a->n_levels = 2;
  if (sg_cli_opt_int(cli, "horizon", 1, 10000, &a->horizon) != SG_CLI_OK ||
      sg_cli_opt_int(cli, "season", 1, 366, &a->season) != SG_CLI_OK ||
      sg_cli_opt_int(cli, "priority", -100, 100, &a->priority) != SG_CLI_OK ||
      (levels && parse_levels(levels, a) != SG_CLI_OK) ||
      (exog && parse_exog(exog, a) != SG_CLI_OK) ||
      sg_cli_opt_choice(cli, "search", "stepwise", "grid", &a->search) != SG_CLI_OK ||
      sg_cli_opt_choice(cli, "optimizer", "bfgs", "lm", &a->optimizer) != SG_CLI_OK)
    return SG_CLI_USAGE;
  if (a->job && !a->out) return sg_cli_usage("forecast --job: --out is required");
  if (a->out && cli->json && strcmp(a->out, "-") == 0)
    return sg_cli_usage("forecast: --out - and --json would share stdout");
  if ((a->out && check_output("--out", a->out) != SG_CLI_OK) ||
      (a->models && check_output("--models", a->models) != SG_CLI_OK))
    return SG_CLI_USAGE;
  if (a->out && a->models && same_file(a->out, a->models))
    return sg_cli_usage("forecast: --out and --models name the same file (%.64s)", a->models);
  return a->job ? check_job_mode(cli) : check_new_mode(cli, a, argc);
}

/* ---- the request ---- */

typedef struct fc_request {
  Shopgpu__V1__ForecastSpec spec;
  Shopgpu__V1__ForecastRequest req;
  Shopgpu__V1__TimeSeries *rows, **ptrs;
} fc_request;

/* The request over ts's arrays (nothing is copied); 0, or -1 when out of memory. */
static int build_request(fc_request *r, const shopgpu_ts *ts, fc_args *a, int season) {
  shopgpu__v1__forecast_spec__init(&r->spec);
  r->spec.horizon = (uint32_t)a->horizon;
  r->spec.season = (uint32_t)season;
  r->spec.levels = a->levels;
  r->spec.n_levels = (size_t)a->n_levels;
  r->spec.search = a->search ? SHOPGPU__V1__FORECAST_SPEC__SEARCH__GRID
                             : SHOPGPU__V1__FORECAST_SPEC__SEARCH__STEPWISE;
  r->spec.optimizer = a->optimizer ? SHOPGPU__V1__FORECAST_SPEC__OPTIMIZER__LM
                                   : SHOPGPU__V1__FORECAST_SPEC__OPTIMIZER__BFGS;
  r->spec.n_xreg = (uint32_t)ts->n_exog;
  shopgpu__v1__forecast_request__init(&r->req);
  r->req.spec = &r->spec;
  r->req.priority = (int32_t)a->priority;
  r->rows = calloc(ts->n_series, sizeof *r->rows);
  r->ptrs = calloc(ts->n_series, sizeof *r->ptrs);
  if (!r->rows || !r->ptrs) return -1;
  size_t nx = (size_t)ts->n_exog, h = (size_t)a->horizon;
  for (size_t i = 0; i < ts->n_series; i++) {
    const shopgpu_ts_series *s = &ts->series[i];
    Shopgpu__V1__TimeSeries *row = &r->rows[i];
    shopgpu__v1__time_series__init(row);
    row->id = (char *)(uintptr_t)s->id;
    row->values = ts->values + s->offset;
    row->n_values = s->len;
    if (nx) {
      row->xreg = ts->xreg + s->offset * nx, row->n_xreg = s->len * nx;
      row->xreg_future = ts->xreg_future + i * h * nx, row->n_xreg_future = h * nx;
    }
    r->ptrs[i] = row;
  }
  r->req.series = r->ptrs;
  r->req.n_series = ts->n_series;
  return 0;
}

/* One warning for the series with missing values of one kind: periods no row gave (gaps, na
 * 0) or rows whose y is empty, NA or NaN (na 1). */
static void warn_missing(sg_cli *cli, const char *path, const shopgpu_ts *ts, int na) {
  size_t n_series = 0, n_values = 0, first = 0;
  for (size_t i = 0; i < ts->n_series; i++) {
    const shopgpu_ts_series *s = &ts->series[i];
    size_t n = na ? s->na : s->missing - s->na;
    if (n && !n_series++) first = i;
    n_values += n;
  }
  if (!n_series) return;
  fprintf(cli->err,
          "shopgpu: warning: %s: %zu series with %s (%zu in all; the first is \"%.64s\" from "
          "line %llu): sent as NaN, they get status missing\n",
          path, n_series, na ? "missing y values (empty, NA or NaN)" : "missing periods", n_values,
          ts->series[first].id, (unsigned long long)ts->series[first].line);
}

/* Warnings about the input: gaps and missing y (sent as NaN), future rows that are not used. */
static void warn_input(sg_cli *cli, const char *path, const shopgpu_ts *ts) {
  warn_missing(cli, path, ts, 0);
  warn_missing(cli, path, ts, 1);
  if (ts->ignored_rows)
    fprintf(cli->err,
            "shopgpu: warning: %s: %llu rows after their series' last y not used (future values "
            "are read for --exog columns only)\n",
            path, (unsigned long long)ts->ignored_rows);
}

/* Forecast in the call, or StartForecast and the job (*final, unless detached). */
static int send(sg_cli *cli, const Shopgpu__V1__ForecastRequest *req,
                Shopgpu__V1__ForecastResponse **direct, Shopgpu__V1__Job **final,
                char id[SHOPGPU_JOB_ID_SIZE]) {
  shopgpu_status st;
  int64_t timeout = sg_cli_stream_timeout(cli); /* the data and the fits take their time */
  /* in the call when small and nobody watches a progress bar (stderr not a terminal) */
  if (req->n_series <= SHOPGPU_FORECAST_DIRECT_MAX && !cli->detach && !cli->progress) {
    if (shopgpu_forecast(cli->client, req, direct, timeout, &st) != 0)
      return sg_cli_rpc_error(cli, &st);
    return SG_CLI_OK;
  }
  if (shopgpu_forecast_start(cli->client, req, id, timeout, &st) != 0)
    return sg_cli_rpc_error(cli, &st);
  return sg_cli_job_started(cli, id, final);
}

/* The forecast a finished job holds, or NULL (error printed). */
static const Shopgpu__V1__ForecastResponse *job_forecast(sg_cli *cli, const Shopgpu__V1__Job *job) {
  if (job->result_case == SHOPGPU__V1__JOB__RESULT_FORECAST && job->forecast) return job->forecast;
  shopgpu_status st = {GRPC_STATUS_FAILED_PRECONDITION, ""};
  snprintf(st.message, sizeof st.message, "job %s is a %s job without a forecast result", job->id,
           job->kind);
  sg_cli_rpc_error(cli, &st);
  return NULL;
}

/* The outputs and the summary; a run where no series got a forecast fails (exit 1), though
 * its files are written like any other's. */
static int write_outputs(sg_cli *cli, sg_fc_output *o) {
  sg_fc_counts counts;
  int rc = sg_fc_write(cli, o, &counts);
  if (rc != SG_CLI_OK) return rc;
  sg_fc_summary(cli, o, &counts);
  if (counts.forecast > 0) return SG_CLI_OK;
  fprintf(cli->err, "shopgpu: no series could be forecast (of %zu)\n", counts.series);
  return SG_CLI_FAIL;
}

static int run_new(sg_cli *cli, fc_args *a) {
  shopgpu_ts_options opts = {.exog = a->exog, .n_exog = a->n_exog, .horizon = (int)a->horizon};
  shopgpu_status st;
  shopgpu_ts *ts = shopgpu_ts_read(a->file, &opts, &st);
  if (!ts) return sg_cli_rpc_error(cli, &st);
  warn_input(cli, a->file, ts);
  int season = a->season ? (int)a->season : shopgpu_freq_season(&ts->freq);
  fc_request r = {0};
  Shopgpu__V1__ForecastResponse *direct = NULL;
  Shopgpu__V1__Job *final = NULL;
  char id[SHOPGPU_JOB_ID_SIZE] = "";
  int rc = build_request(&r, ts, a, season) == 0 ? send(cli, &r.req, &direct, &final, id)
                                                 : sg_cli_input_error(cli, "out of memory");
  const Shopgpu__V1__ForecastResponse *resp = direct;
  if (rc == SG_CLI_OK && final && !(resp = job_forecast(cli, final))) rc = SG_CLI_FAIL;
  if (rc == SG_CLI_OK && resp) {
    sg_fc_output o = {.ts = ts,
                      .resp = resp,
                      .horizon = (int)a->horizon,
                      .n_levels = a->n_levels,
                      .exog = a->exog,
                      .n_exog = a->n_exog,
                      .season = season,
                      .job_id = id[0] ? id : NULL,
                      .out = a->out,
                      .models = a->models};
    memcpy(o.levels, a->levels, sizeof o.levels);
    rc = write_outputs(cli, &o);
  }
  if (direct) protobuf_c_message_free_unpacked(&direct->base, NULL);
  if (final) protobuf_c_message_free_unpacked(&final->base, NULL);
  free(r.rows), free(r.ptrs);
  shopgpu_ts_free(ts);
  return rc;
}

/* --job: the horizon, levels and season come from the answer's first forecast. */
static void output_from_answer(sg_fc_output *o, const Shopgpu__V1__ForecastResponse *resp) {
  for (size_t i = 0; i < resp->n_series; i++) {
    const Shopgpu__V1__SeriesForecast *s = resp->series[i];
    if (!o->season && strcmp(s->status, "ok") == 0) o->season = (int)s->season;
    if (o->horizon || !s->n_mean) continue;
    o->horizon = (int)s->n_mean;
    for (size_t l = 0; l < s->n_intervals && l < SG_FC_MAX_LEVELS; l++)
      o->levels[o->n_levels++] = s->intervals[l]->level;
  }
}

static int run_job(sg_cli *cli, fc_args *a) {
  Shopgpu__V1__Job *final = NULL;
  int rc = sg_cli_wait_job(cli, a->job, &final);
  const Shopgpu__V1__ForecastResponse *resp = NULL;
  if (rc == SG_CLI_OK && !(resp = job_forecast(cli, final))) rc = SG_CLI_FAIL;
  shopgpu_ts *ts = NULL;
  shopgpu_status st;
  if (rc == SG_CLI_OK && a->file && !(ts = shopgpu_ts_read(a->file, NULL, &st)))
    rc = sg_cli_rpc_error(cli, &st);
  if (rc == SG_CLI_OK) {
    sg_fc_output o = {.ts = ts,
                      .resp = resp,
                      .exog = a->n_exog ? a->exog : NULL,
                      .n_exog = a->n_exog,
                      .job_id = a->job,
                      .out = a->out,
                      .models = a->models};
    output_from_answer(&o, resp);
    rc = write_outputs(cli, &o);
  }
  shopgpu_ts_free(ts);
  if (final) protobuf_c_message_free_unpacked(&final->base, NULL);
  return rc;
}

int sg_cli_cmd_forecast(sg_cli *cli, int argc, char **argv) {
  fc_args a = {0};
  if (read_args(cli, argc, argv, &a) != SG_CLI_OK) return SG_CLI_USAGE;
  return a.job ? run_job(cli, &a) : run_new(cli, &a);
}
