/* ARIMA benchmarks (prints the machine, then markdown):
 *   shopgpu-arima-bench accuracy [--data DIR] [--backend cpu|cuda|auto] [--threads N]
 *                                [--only TEXT] [--models FILE] [--grid]
 *       M3 (yearly, quarterly, monthly, other; horizons and MASE periods as horizons.csv) and
 *       M4 Hourly: automatic ARIMA (auto.arima's defaults), sMAPE and MASE per category next
 *       to R auto.arima's published values (published_accuracy.csv). --only: the categories
 *       whose name contains TEXT; --models: per series, the chosen model and its MASE (CSV);
 *       --grid: the full grid instead of the stepwise search.
 *   shopgpu-arima-bench speed [--data DIR] [--backend B] [--threads N] [--forecasts FILE]
 *       fit + forecast of all M3 monthly series, seconds (bench/arima/speed.py puts it next to
 *       statsforecast's AutoARIMA over the same search space).
 *   shopgpu-arima-bench synthetic --series N --length L [--grid] [--backend B]
 *       N simulated monthly SARIMA series, full seasonal grid or stepwise: seconds.
 * Every mode takes --optimizer bfgs|lm (sg_arima_optimizer; default bfgs).
 * Data: DIR defaults to ../shared/data/timeseries (run from the repository root). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arima/arima.h"
#include "common/philox.h"
#include "machine.h"

typedef struct dataset {
  size_t n_series, n_values, n_test;
  size_t *offsets;
  double *values; /* training values */
  double *test;   /* n_series x h */
  int h, m, mase_m;
} dataset;

static void ds_free(dataset *d) {
  free(d->offsets);
  free(d->values);
  free(d->test);
}

static int grow(void **p, size_t *cap, size_t need, size_t elem) {
  if (need <= *cap) return 1;
  size_t c = *cap ? *cap * 2 : 1024;
  while (c < need)
    c *= 2;
  void *q = realloc(*p, c * elem);
  if (!q) return 0;
  *p = q;
  *cap = c;
  return 1;
}

/* M3 CSV: series,n,nf,category,start_year,start_period,v1..vN (last nf values are the test). */
static int load_m3(const char *path, int h, dataset *d) {
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  size_t cap_line = 1 << 20, cap_off = 0, cap_val = 0, cap_test = 0;
  char *line = malloc(cap_line);
  memset(d, 0, sizeof *d);
  d->h = h;
  if (!fgets(line, (int)cap_line, f)) goto fail;
  while (fgets(line, (int)cap_line, f)) {
    char *tok = strtok(line, ",");
    if (!tok) continue;
    int n = atoi(strtok(NULL, ",")), nf = atoi(strtok(NULL, ","));
    for (int i = 0; i < 3; i++)
      strtok(NULL, ",");
    if (!grow((void **)&d->offsets, &cap_off, d->n_series + 2, sizeof(size_t)) ||
        !grow((void **)&d->values, &cap_val, d->n_values + (size_t)n, sizeof(double)) ||
        !grow((void **)&d->test, &cap_test, (d->n_series + 1) * (size_t)h, sizeof(double)))
      goto fail;
    d->offsets[d->n_series] = d->n_values;
    for (int t = 0; t < n; t++) {
      double v = strtod(strtok(NULL, ",\n"), NULL);
      if (t < n - nf)
        d->values[d->n_values++] = v;
      else if (t - (n - nf) < h)
        d->test[d->n_series * (size_t)h + (size_t)(t - (n - nf))] = v;
    }
    d->n_series++;
    d->offsets[d->n_series] = d->n_values;
  }
  free(line);
  fclose(f);
  return 1;
fail:
  free(line);
  fclose(f);
  return 0;
}

/* M4: "V1","V2",...; each row "H1",v,v,...,"" (padded). */
static int read_m4_rows(const char *path, double **vals, size_t **off, size_t *ns) {
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  size_t cap_line = 1 << 20, cap_off = 0, cap_val = 0, nv = 0;
  char *line = malloc(cap_line);
  *ns = 0;
  *vals = NULL;
  *off = NULL;
  if (!fgets(line, (int)cap_line, f)) return 0;
  while (fgets(line, (int)cap_line, f)) {
    char *p = strchr(line, ',');
    if (!p) continue;
    if (!grow((void **)off, &cap_off, *ns + 2, sizeof(size_t))) return 0;
    (*off)[*ns] = nv;
    for (p = p + 1; *p && *p != '\n' && *p != '\r';) {
      char *q = p + strcspn(p, ",\r\n");
      if (*p == '"') p++;
      if (q > p && *p != '"') {
        if (!grow((void **)vals, &cap_val, nv + 1, sizeof(double))) return 0;
        (*vals)[nv++] = strtod(p, NULL);
      }
      p = *q == ',' ? q + 1 : q;
    }
    (*ns)++;
    (*off)[*ns] = nv;
  }
  free(line);
  fclose(f);
  return 1;
}

static int load_m4_hourly(const char *dir, dataset *d) {
  char a[1024], b[1024];
  snprintf(a, sizeof a, "%s/m4/Hourly-train.csv", dir);
  snprintf(b, sizeof b, "%s/m4/Hourly-test.csv", dir);
  memset(d, 0, sizeof *d);
  double *tv;
  size_t *to, nt;
  if (!read_m4_rows(a, &d->values, &d->offsets, &d->n_series) || !read_m4_rows(b, &tv, &to, &nt))
    return 0;
  d->h = 48;
  d->n_values = d->offsets[d->n_series];
  d->test = malloc(nt * 48 * sizeof(double));
  for (size_t i = 0; i < nt; i++)
    for (int k = 0; k < 48; k++)
      d->test[i * 48 + k] = tv[to[i] + (size_t)k];
  free(tv);
  free(to);
  return nt == d->n_series;
}

typedef struct scores {
  double smape, mase;
  size_t ok, failed;
  double seconds;
} scores;

/* Runs the batch in steps of 64 series (as the scheduler would) and scores it. */
static int run_and_score(sg_exec *x, const dataset *d, sg_arima_spec *spec, scores *out,
                         const char *fc_path, FILE *models, const char *cat) {
  sg_arima_input in = {.n_series = d->n_series, .values = d->values, .offsets = d->offsets};
  sg_arima_job *job;
  sg_err e = {0};
  double t0 = sg_bench_now();
  if (sg_arima_batch_begin(x, &in, spec, &job, &e) != SG_OK) {
    fprintf(stderr, "begin: %s\n", e.msg);
    return 0;
  }
  sg_arima_progress pr = {0};
  do {
    if (sg_arima_batch_step(job, 64, &pr, &e) != SG_OK) {
      fprintf(stderr, "step: %s\n", e.msg);
      sg_arima_batch_end(job, NULL);
      return 0;
    }
  } while (pr.done < pr.total);
  sg_arima_results *r;
  sg_arima_batch_end(job, &r);
  out->seconds = sg_bench_now() - t0;
  FILE *fc = fc_path ? fopen(fc_path, "w") : NULL;
  double ss = 0.0, sm = 0.0;
  out->ok = out->failed = 0;
  for (size_t i = 0; i < d->n_series; i++) {
    const double *y = d->values + d->offsets[i];
    size_t n = d->offsets[i + 1] - d->offsets[i];
    double scale = 0.0;
    int cnt = 0;
    for (size_t t = (size_t)d->mase_m; t < n; t++, cnt++)
      scale += fabs(y[t] - y[t - d->mase_m]);
    scale /= cnt;
    double s1 = 0.0, s2 = 0.0;
    const sg_arima_fit *f = &r->fits[i];
    if (f->status == SG_ARIMA_OK || f->status == SG_ARIMA_CONSTANT)
      out->ok++;
    else
      out->failed++;
    for (int k = 0; k < d->h; k++) {
      double fk = r->mean[i * (size_t)d->h + (size_t)k], yk = d->test[i * (size_t)d->h + (size_t)k];
      if (!isfinite(fk)) fk = y[n - 1]; /* naive fallback for a failed series */
      s1 += 200.0 * fabs(yk - fk) / (fabs(yk) + fabs(fk));
      s2 += fabs(yk - fk) / scale;
      if (fc) fprintf(fc, "%zu,%d,%.10g\n", i, k + 1, fk);
    }
    ss += s1 / d->h;
    sm += s2 / d->h;
    if (models)
      fprintf(models, "%s,%zu,%d,%d,%d,%d,%d,%d,%d,%d,%d,%.10g,%.10g,%.6f,%.6f\n", cat, i,
              f->status, f->p, f->d, f->q, f->P, f->D, f->Q, f->has_mean, f->has_drift, f->aicc,
              f->loglik, s2 / d->h, s1 / d->h);
  }
  if (fc) fclose(fc);
  out->smape = ss / (double)d->n_series;
  out->mase = sm / (double)d->n_series;
  sg_arima_results_free(r);
  return 1;
}

typedef struct opts {
  const char *data, *backend, *forecasts, *only, *models;
  int threads, series, length, grid, limit;
  sg_arima_optimizer optimizer;
} opts;

static sg_exec *open_exec(const opts *o, sg_backend **be) {
  sg_err e = {0};
  sg_backend_config cfg = {.cpu_threads = o->threads};
  if (sg_backend_kind_parse(o->backend, &cfg.kind, &e) != SG_OK) return NULL;
  *be = sg_backend_open(&cfg, &e);
  if (!*be) {
    fprintf(stderr, "backend: %s\n", e.msg);
    return NULL;
  }
  printf("backend: %s (%s)\n", sg_backend_name(*be), sg_backend_reason(*be));
  printf("optimizer: %s\n", o->optimizer == SG_ARIMA_OPT_LM ? "lm" : "bfgs");
  return sg_exec_create(*be, &e);
}

static int accuracy(sg_exec *x, const opts *o) {
  /* category, file, h, m (= MASE period), R auto.arima sMAPE and MASE */
  struct {
    const char *name, *file;
    int h, m;
    double r_smape, r_mase;
  } cats[] = {{"M3 Yearly", "m3/M3_yearly.csv", 6, 1, 17.10, 2.959},
              {"M3 Quarterly", "m3/M3_quarterly.csv", 8, 4, 10.01, 1.189},
              {"M3 Monthly", "m3/M3_monthly.csv", 18, 12, 15.02, 0.868},
              {"M3 Other", "m3/M3_other.csv", 8, 1, 4.51, 1.841},
              {"M4 Hourly", NULL, 48, 24, NAN, 1.02}};
  printf("\n| category | series | h | sMAPE | R auto.arima sMAPE | MASE | R auto.arima MASE | "
         "MASE ratio | target (MASE <= R) | failed | seconds |\n");
  printf("|---|---|---|---|---|---|---|---|---|---|---|\n");
  double sum_ratio = 0.0;
  int all = 1, ran = 0;
  FILE *models = NULL;
  if (o->models) {
    if (!(models = fopen(o->models, "w"))) {
      perror(o->models);
      return 1;
    }
    fprintf(models, "category,series,status,p,d,q,P,D,Q,mean,drift,aicc,loglik,mase,smape\n");
  }
  for (size_t c = 0; c < SG_ARRAY_LEN(cats); c++) {
    if (o->only && !strstr(cats[c].name, o->only)) continue;
    ran++;
    dataset d;
    char path[1024];
    int ok;
    if (cats[c].file) {
      snprintf(path, sizeof path, "%s/%s", o->data, cats[c].file);
      ok = load_m3(path, cats[c].h, &d);
    } else {
      ok = load_m4_hourly(o->data, &d);
    }
    if (!ok) {
      fprintf(stderr, "cannot read %s data under %s\n", cats[c].name, o->data);
      return 1;
    }
    d.m = d.mase_m = cats[c].m;
    sg_arima_spec spec;
    sg_arima_spec_default(&spec);
    spec.season = cats[c].m;
    spec.h = cats[c].h;
    if (o->grid) spec.search = SG_ARIMA_GRID;
    spec.optimizer = o->optimizer;
    scores s;
    if (!run_and_score(x, &d, &spec, &s, NULL, models, cats[c].name)) return 1;
    double ratio = s.mase / cats[c].r_mase;
    sum_ratio += ratio;
    all &= ratio <= 1.0;
    char rs[32] = "n/a";
    if (!isnan(cats[c].r_smape)) snprintf(rs, sizeof rs, "%.2f", cats[c].r_smape);
    printf("| %s | %zu | %d | %.2f | %s | %.3f | %.3f | %.3f | %s | %zu | %.1f |\n", cats[c].name,
           d.n_series, d.h, s.smape, rs, s.mase, cats[c].r_mase, ratio, ratio <= 1.0 ? "yes" : "no",
           s.failed, s.seconds);
    fflush(stdout);
    ds_free(&d);
  }
  if (models) fclose(models);
  if (!ran) {
    fprintf(stderr, "--only %s: no category matches\n", o->only);
    return 2;
  }
  double mean_ratio = sum_ratio / (double)(ran ? ran : 1);
  printf("\nmean MASE ratio vs R auto.arima: %.3f (target: < 1 on average and <= 1 in every "
         "category: %s)%s\n",
         mean_ratio, all && mean_ratio < 1.0 ? "met" : "NOT met",
         ran < (int)SG_ARRAY_LEN(cats) ? " [only some categories ran]" : "");
  return 0;
}

static int speed(sg_exec *x, const opts *o) {
  dataset d;
  char path[1024];
  snprintf(path, sizeof path, "%s/m3/M3_monthly.csv", o->data);
  if (!load_m3(path, 18, &d)) {
    fprintf(stderr, "cannot read %s\n", path);
    return 1;
  }
  d.m = d.mase_m = 12;
  if (o->limit > 0 && (size_t)o->limit < d.n_series) d.n_series = (size_t)o->limit;
  sg_arima_spec spec;
  sg_arima_spec_default(&spec);
  spec.season = 12;
  spec.h = 18;
  if (getenv("SG_ARIMA_METHOD")) spec.method = (sg_arima_method)atoi(getenv("SG_ARIMA_METHOD"));
  spec.optimizer = o->optimizer;
  scores s;
  if (!run_and_score(x, &d, &spec, &s, o->forecasts, NULL, NULL)) return 1;
  printf("shopgpu M3 monthly: %zu series, fit+forecast %.3f s (%.2f ms/series), MASE %.3f, "
         "sMAPE %.2f, threads %d\n",
         d.n_series, s.seconds, 1e3 * s.seconds / (double)d.n_series, s.mase, s.smape, o->threads);
  ds_free(&d);
  return 0;
}

/* Simulated airline-like monthly series: (0,1,1)(0,1,1)12 with Philox noise. */
static int synthetic(sg_exec *x, const opts *o) {
  size_t ns = (size_t)o->series, L = (size_t)o->length;
  double *v = malloc(ns * L * sizeof *v);
  size_t *off = malloc((ns + 1) * sizeof *off);
  if (!v || !off) return 1;
  for (size_t i = 0; i < ns; i++) {
    off[i] = i * L;
    double e[256] = {0}, level = 100.0 + (double)(i % 50);
    double *y = v + i * L;
    for (size_t t = 0; t < L; t++) {
      sg_philox4 b = sg_philox_block(42, i, t);
      double u1 = ((double)(b.v[0] >> 8) + 1.0) / 16777217.0,
             u2 = (double)(b.v[1] >> 8) / 16777216.0;
      e[t % 256] = sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
      double seas = 10.0 * sin(6.283185307179586 * (double)t / 12.0);
      level += 0.3 * e[t % 256];
      y[t] = level + seas + e[t % 256];
    }
  }
  off[ns] = ns * L;
  sg_arima_input in = {.n_series = ns, .values = v, .offsets = off};
  sg_arima_spec spec;
  sg_arima_spec_default(&spec);
  spec.season = 12;
  spec.h = 18;
  if (o->grid) {
    spec.search = SG_ARIMA_GRID;
    spec.method = SG_ARIMA_METHOD_CSS_ML;
  }
  spec.optimizer = o->optimizer;
  sg_arima_results *r;
  sg_err e = {0};
  double t0 = sg_bench_now();
  sg_status st = sg_arima_batch_run(x, &in, &spec, &r, &e);
  double sec = sg_bench_now() - t0;
  if (st != SG_OK) {
    fprintf(stderr, "run: %s\n", e.msg);
    return 1;
  }
  size_t ok = 0, models = 0;
  for (size_t i = 0; i < ns; i++) {
    ok += r->fits[i].status == SG_ARIMA_OK;
    models += (size_t)r->fits[i].models_fitted;
  }
  printf("\n| series | length | search | models fitted | ok | seconds | series/s |\n");
  printf("|---|---|---|---|---|---|---|\n");
  printf("| %zu | %zu | %s | %zu | %zu | %.2f | %.0f |\n", ns, L,
         o->grid ? "full seasonal grid (p,q<=5, P,Q<=2, p+q+P+Q<=5, +-constant; CSS, ML refit)"
                 : "stepwise",
         models, ok, sec, (double)ns / sec);
  sg_arima_results_free(r);
  free(v);
  free(off);
  return 0;
}

int main(int argc, char **argv) {
  opts o = {.data = "../shared/data/timeseries",
            .backend = "cpu",
            .threads = 0,
            .series = 1000,
            .length = 120};
  if (argc < 2) {
    fprintf(stderr, "usage: %s accuracy|speed|synthetic [options]\n", argv[0]);
    return 2;
  }
  for (int i = 2; i < argc; i++) {
    if (!strcmp(argv[i], "--data") && i + 1 < argc)
      o.data = argv[++i];
    else if (!strcmp(argv[i], "--backend") && i + 1 < argc)
      o.backend = argv[++i];
    else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
      o.threads = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--forecasts") && i + 1 < argc)
      o.forecasts = argv[++i];
    else if (!strcmp(argv[i], "--only") && i + 1 < argc)
      o.only = argv[++i];
    else if (!strcmp(argv[i], "--models") && i + 1 < argc)
      o.models = argv[++i];
    else if (!strcmp(argv[i], "--series") && i + 1 < argc)
      o.series = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--length") && i + 1 < argc)
      o.length = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--grid"))
      o.grid = 1;
    else if (!strcmp(argv[i], "--limit") && i + 1 < argc)
      o.limit = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--optimizer") && i + 1 < argc) {
      const char *v = argv[++i];
      if (strcmp(v, "bfgs") && strcmp(v, "lm")) {
        fprintf(stderr, "--optimizer: \"%s\" is not bfgs or lm\n", v);
        return 2;
      }
      o.optimizer = strcmp(v, "lm") ? SG_ARIMA_OPT_BFGS : SG_ARIMA_OPT_LM;
    } else {
      fprintf(stderr, "unknown option %s\n", argv[i]);
      return 2;
    }
  }
  sg_bench_print_machine(stdout);
  sg_backend *be = NULL;
  sg_exec *x = open_exec(&o, &be);
  if (!x) return 1;
  int rc = 2;
  if (!strcmp(argv[1], "accuracy"))
    rc = accuracy(x, &o);
  else if (!strcmp(argv[1], "speed"))
    rc = speed(x, &o);
  else if (!strcmp(argv[1], "synthetic"))
    rc = synthetic(x, &o);
  else
    fprintf(stderr, "unknown mode %s\n", argv[1]);
  sg_exec_destroy(x);
  sg_backend_close(be);
  return rc;
}
