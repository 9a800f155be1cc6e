/* The forecast client against a real server: the library's Forecast, StartForecast and
 * Replenish calls; `shopgpu forecast` on synthetic seasonal series (rows, columns, continued
 * month-end dates, values near the noise-free truth, the too-short series only in MODELS.csv),
 * on real promotion data with --exog, past 1,000 series as a job, --detach then --job; gaps,
 * mixed frequencies and bad numbers; `shopgpu replenish` against a hand computation, and its
 * bad inventory rows named by line and column. */
#include "cli_run.h"
#include "click_test.h"

TestSuite(cli_forecast, .init = seed_rng, .fini = cleanup_cli, .timeout = 240);

#define CPU ((const char *const[]){"--backend", "cpu", NULL})
#define PASTA SG_TEST_SOURCE_DIR "/data/forecast/pasta_promo.csv"
#define Z975 1.959963984540054
#define Z95 1.6448536269514722

static char paths[32][160];

/* aux_dir/name (one of 32 slots, reused round robin). */
static const char *aux(const char *name) {
  static int next;
  char *p = paths[next++ % 32];
  snprintf(p, sizeof paths[0], "%s/%s", aux_dir, name);
  return p;
}

/* The lines of path (without line ends) into a fresh array; *n: how many. */
static char **read_lines(const char *path, size_t *n) {
  FILE *f = fopen(path, "r");
  cr_assert_not_null(f, "no %s", path);
  char **lines = NULL, buf[4096];
  *n = 0;
  while (fgets(buf, sizeof buf, f)) {
    buf[strcspn(buf, "\n")] = '\0';
    lines = realloc(lines, (*n + 1) * sizeof *lines);
    lines[(*n)++] = strdup(buf);
  }
  fclose(f);
  return lines;
}

static void free_lines(char **lines, size_t n) {
  for (size_t i = 0; i < n; i++)
    free(lines[i]);
  free(lines);
}

static void expect_has(const char *text, const char *want) {
  cr_expect_neq(strstr(text, want), NULL, "\"%s\" lacks \"%s\"", text, want);
}

/* ---- the library ---- */

static Shopgpu__V1__TimeSeries series_of(const char *id, double *values, size_t n) {
  Shopgpu__V1__TimeSeries s = SHOPGPU__V1__TIME_SERIES__INIT;
  s.id = (char *)(uintptr_t)id;
  s.values = values, s.n_values = n;
  return s;
}

Test(cli_forecast, library_forecast_start_and_replenish) {
  start_server(CPU);
  shopgpu_client *c = open_client();
  double a[40], flat[10];
  for (int t = 0; t < 40; t++)
    a[t] = 10 + t % 4 + rng_float(0.5f);
  for (int t = 0; t < 10; t++)
    flat[t] = 3;
  Shopgpu__V1__TimeSeries s[2] = {series_of("a", a, 40), series_of("flat", flat, 10)};
  Shopgpu__V1__TimeSeries *ptrs[2] = {&s[0], &s[1]};
  Shopgpu__V1__ForecastSpec spec = SHOPGPU__V1__FORECAST_SPEC__INIT;
  spec.horizon = 4, spec.season = 4;
  Shopgpu__V1__ForecastRequest req = SHOPGPU__V1__FORECAST_REQUEST__INIT;
  req.spec = &spec, req.series = ptrs, req.n_series = 2;
  Shopgpu__V1__ForecastResponse *resp = NULL;
  shopgpu_status st;
  cr_assert_eq(shopgpu_forecast(c, &req, &resp, 30000, &st), 0, "%s", st.message);
  cr_expect_str_eq(resp->series[0]->status, "ok");
  cr_expect_str_eq(resp->series[1]->status, "constant");
  cr_expect(resp->series[1]->n_mean == 4 && resp->series[1]->mean[3] == 3);
  char id[SHOPGPU_JOB_ID_SIZE];
  cr_assert_eq(shopgpu_forecast_start(c, &req, id, 5000, &st), 0, "%s", st.message);
  cr_expect_eq(strlen(id), 32);
  Shopgpu__V1__Job *job = wait_job(c, id);
  cr_assert_eq(job->result_case, SHOPGPU__V1__JOB__RESULT_FORECAST);
  cr_expect(memcmp(job->forecast->series[0]->mean, resp->series[0]->mean, 4 * sizeof(double)) == 0,
            "the job's forecast equals the direct one");
  protobuf_c_message_free_unpacked(&job->base, NULL);
  protobuf_c_message_free_unpacked(&resp->base, NULL);
  spec.horizon = 0;
  cr_expect_eq(shopgpu_forecast(c, &req, &resp, 5000, &st), 3);
  expect_has(st.message, "spec.horizon");
  cr_expect_eq(shopgpu_forecast(c, NULL, &resp, 5000, &st), 3);
  shopgpu_client_close(c);
  stop_server_checked();
}

/* ---- forecast ---- */

static int month_len(int y, int m) {
  static const int len[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return len[m - 1] + (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
}

/* Series s's noise-free value in month t (0 = January 2018). */
static double truth(int s, int t) { return 100 + 10 * s + 20 * sin(2 * M_PI * t / 12) + 0.5 * t; }

/* Three seasonal monthly series on month ends (48 months, noise sd about 1) and one of two
 * values, the rows in a scrambled order. */
static const char *write_monthly(void) {
  static char rows[200][64];
  int n = 0;
  for (int s = 0; s < 3; s++)
    for (int t = 0; t < 48; t++) {
      int y = 2018 + t / 12, m = t % 12 + 1;
      snprintf(rows[n++], sizeof rows[0], "sku-%d,%d-%02d-%02d,%.4f\n", s, y, m, month_len(y, m),
               truth(s, t) + rng_float(1.7f));
    }
  snprintf(rows[n++], sizeof rows[0], "short,2021-12-31,6\n");
  snprintf(rows[n++], sizeof rows[0], "short,2021-11-30,5\n");
  const char *path = aux("monthly.csv");
  FILE *f = fopen(path, "w");
  fputs("unique_id,ds,y\n", f);
  for (int i = 0; i < n; i++) /* 37 is prime to n = 146: every row once, scrambled */
    fputs(rows[(i * 37) % n], f);
  fclose(f);
  return path;
}

/* Checks one FORECAST.csv row of a monthly series against the truth: date, nesting, closeness. */
static void check_monthly_row(const char *line, int k) {
  static const char *const dates[] = {"2022-01-31", "2022-02-28", "2022-03-31",
                                      "2022-04-30", "2022-05-31", "2022-06-30"};
  int s;
  char ds[16];
  double v[5];
  cr_assert_eq(
      sscanf(line, "sku-%d,%10[^,],%lf,%lf,%lf,%lf,%lf", &s, ds, &v[0], &v[1], &v[2], &v[3], &v[4]),
      7, "row %s", line);
  cr_expect_str_eq(ds, dates[k], "%s", line);
  /* yhat, lo-80, hi-80, lo-95, hi-95 */
  cr_expect(v[3] <= v[1] && v[1] <= v[0] && v[0] <= v[2] && v[2] <= v[4], "nested: %s", line);
  cr_expect_lt(fabs(v[0] - truth(s, 48 + k)), 8, "%s: truth %g", line, truth(s, 48 + k));
}

Test(cli_forecast, forecast_writes_rows_columns_dates_and_models) {
  make_aux_dir();
  start_server(CPU);
  const char *in = write_monthly(), *out = aux("f.csv"), *models = aux("m.csv");
  cli_run r;
  run_cli(&r,
          ARGS("--server", srv.addr, "--json", "forecast", in, "--horizon", "6", "--out", out,
               "--models", models),
          NULL);
  cr_assert_eq(r.status, 0, "stderr: %s", r.err);
  expect_has(r.out, "{\"series\":4,\"forecast\":3,\"without_forecast\":1,\"statuses\":{\"ok\":3,"
                    "\"constant\":0,\"too_short\":1,");
  expect_has(r.out, "\"frequency\":\"monthly (month ends)\",\"season\":12,\"horizon\":6,"
                    "\"levels\":[80,95],\"missing_periods\":0,\"job\":null,");
  expect_has(r.err, "shopgpu: 1 series without a forecast (too_short 1): listed in ");
  size_t n;
  char **lines = read_lines(out, &n);
  cr_assert_eq(n, 1 + 3 * 6, "header and 6 rows per series with a forecast");
  cr_expect_str_eq(lines[0], "unique_id,ds,yhat,lo-80,hi-80,lo-95,hi-95");
  for (size_t i = 1; i < n; i++)
    check_monthly_row(lines[i], (int)(i - 1) % 6);
  free_lines(lines, n);
  lines = read_lines(models, &n);
  cr_assert_eq(n, 5);
  cr_expect_str_eq(lines[0], "unique_id,status,message,order,coef,sigma2,aicc");
  int shorts = 0;
  for (size_t i = 1; i < n; i++) {
    if (strncmp(lines[i], "short,too_short,", 16) == 0) {
      shorts++;
      cr_expect_eq(strcmp(lines[i] + strlen(lines[i]) - 4, ",,,,"), 0, "%s", lines[i]);
      continue;
    }
    expect_has(lines[i], ",ok,,\"ARIMA(");
    expect_has(lines[i], ")[12]");
    expect_has(lines[i], "=");
  }
  cr_expect_eq(shorts, 1);
  free_lines(lines, n);
  run_cli(&r,
          ARGS("--server", srv.addr, "forecast", in, "--horizon", "2", "--out", out, "--level",
               "95,50.5", "--season", "1", "--search", "grid", "--optimizer", "lm"),
          NULL);
  cr_assert_eq(r.status, 0, "stderr: %s", r.err);
  expect_has(r.out, "forecast 3 of 4 series, 2 periods ahead (monthly (month ends), season 1)");
  expect_has(r.err, "--models FILE.csv lists them");
  lines = read_lines(out, &n);
  cr_expect_str_eq(lines[0], "unique_id,ds,yhat,lo-95,hi-95,lo-50.5,hi-50.5");
  free_lines(lines, n);
  stop_server_checked();
}

Test(cli_forecast, exog_promotion_flag_from_future_rows) {
  make_aux_dir();
  start_server(CPU);
  const char *out = aux("f.csv"), *models = aux("m.csv");
  cli_run r;
  run_cli(&r,
          ARGS("--server", srv.addr, "forecast", PASTA, "--horizon", "7", "--exog", "promo",
               "--out", out, "--models", models),
          NULL);
  cr_assert_eq(r.status, 0, "stderr: %s", r.err);
  expect_has(r.out, "forecast 2 of 2 series, 7 periods ahead (daily, season 7)");
  size_t n;
  char **lines = read_lines(out, &n);
  cr_assert_eq(n, 1 + 2 * 7);
  cr_expect_eq(strncmp(lines[1], "B1_12,2018-10-25,", 17), 0, "%s", lines[1]);
  cr_expect_eq(strncmp(lines[14], "B2_37,2018-10-31,", 17), 0, "%s", lines[14]);
  free_lines(lines, n);
  lines = read_lines(models, &n);
  cr_assert_eq(n, 3);
  const char *promo = strstr(lines[1], " promo=") ? strstr(lines[1], " promo=") : "";
  cr_expect_gt(atof(promo + 7), 0, "a promotion lifts B1_12's sales: %s", lines[1]);
  expect_has(lines[2], "promo=");
  free_lines(lines, n);
  run_cli(&r,
          ARGS("--server", srv.addr, "forecast", PASTA, "--horizon", "5", "--exog", "promo",
               "--out", out),
          NULL);
  cr_expect_eq(r.status, 1);
  expect_has(r.err, "shopgpu: INVALID_ARGUMENT: ");
  expect_has(r.err, "pasta_promo.csv:2: series \"B1_12\": 7 future rows (y empty after its last "
                    "y, line 71), the regressors need exactly 5 (the horizon)");
  run_cli(&r, ARGS("--server", srv.addr, "forecast", PASTA, "--horizon", "7", "--out", out), NULL);
  cr_expect_eq(r.status, 0, "without --exog the future rows are left aside");
  expect_has(r.err, "14 rows after their series' last y not used");
  stop_server_checked();
}

/* n tiny series of 12 integer-indexed values each. */
static const char *write_many(int n) {
  const char *path = aux("many.csv");
  FILE *f = fopen(path, "w");
  fputs("unique_id,ds,y\n", f);
  for (int s = 0; s < n; s++)
    for (int t = 0; t < 12; t++)
      fprintf(f, "s%d,%d,%.3f\n", s, t, 20 + s % 7 + rng_float(2));
  fclose(f);
  return path;
}

/* The id a --detach run printed (its first line). */
static void detached_id(const cli_run *r, char id[SHOPGPU_JOB_ID_SIZE]) {
  cr_assert_eq(r->status, 0, "stderr: %s", r->err);
  cr_assert_eq(strlen(r->out), 33, "an id and a newline: %s", r->out);
  snprintf(id, SHOPGPU_JOB_ID_SIZE, "%s", r->out);
}

Test(cli_forecast, over_a_thousand_series_run_as_a_job_and_detach_then_job) {
  make_aux_dir();
  start_server(CPU);
  const char *in = write_many(1001), *out = aux("f.csv");
  cli_run r;
  run_cli(&r,
          ARGS("--server", srv.addr, "--json", "--progress", "forecast", in, "--horizon", "2",
               "--search", "stepwise", "--out", out),
          NULL);
  cr_assert_eq(r.status, 0, "stderr: %s", r.err);
  expect_has(r.out, "{\"series\":1001,\"forecast\":1001,");
  expect_has(r.out, "\"frequency\":\"step 1\",\"season\":1,\"horizon\":2,");
  expect_has(r.out, "\"job\":\"");
  expect_has(r.err, "1001/1001 series");
  size_t n;
  char **lines = read_lines(out, &n);
  cr_assert_eq(n, 1 + 1001 * 2);
  cr_expect_eq(strncmp(lines[1], "s0,12,", 6), 0, "%s", lines[1]);
  cr_expect_eq(strncmp(lines[2002], "s1000,13,", 9), 0, "%s", lines[2002]);
  free_lines(lines, n);
  const char *small = write_monthly(), *direct = aux("direct.csv"), *later = aux("later.csv");
  run_cli(&r,
          ARGS("--server", srv.addr, "--progress", "forecast", small, "--horizon", "3", "--out",
               direct),
          NULL);
  cr_assert_eq(r.status, 0, "stderr: %s", r.err);
  expect_has(r.err, " series"); /* a small file with a progress bar to draw runs as a job too */
  expect_has(r.err, "succeeded");
  run_cli(&r, ARGS("--server", srv.addr, "forecast", small, "--horizon", "3", "--out", direct),
          NULL);
  cr_assert_eq(r.status, 0, "stderr: %s", r.err);
  run_cli(&r, ARGS("--server", srv.addr, "--detach", "forecast", small, "--horizon", "3"), NULL);
  char id[SHOPGPU_JOB_ID_SIZE];
  detached_id(&r, id);
  run_cli(&r, ARGS("--server", srv.addr, "forecast", "--job", id, "--out", later, small), NULL);
  cr_assert_eq(r.status, 0, "stderr: %s", r.err);
  char a[8192], b[8192];
  slurp(direct, a, sizeof a);
  slurp(later, b, sizeof b);
  cr_expect_str_eq(b, a, "the job's output equals the direct call's");
  run_cli(&r, ARGS("--server", srv.addr, "forecast", "--job", id, "--out", later), NULL);
  cr_assert_eq(r.status, 0, "stderr: %s", r.err);
  lines = read_lines(later, &n);
  cr_expect_eq(strncmp(lines[3], "sku-", 4), 0);
  expect_has(lines[3], ",3,"); /* without the input, ds counts the periods ahead */
  free_lines(lines, n);
  /* another input given with --job, whose series end where the horizon would pass 9999-12-31:
   * refused naming the series (it wrote year-10000 dates) */
  const char *late = aux("late.csv");
  FILE *lf = fopen(late, "w");
  cr_assert_not_null(lf);
  fputs("unique_id,ds,y\n", lf);
  for (int s = 0; s < 3; s++)
    fprintf(lf, "sku-%d,9999-10-31,1\nsku-%d,9999-11-30,2\nsku-%d,9999-12-31,3\n", s, s, s);
  fprintf(lf, "short,9999-11-30,5\nshort,9999-12-31,6\n");
  fclose(lf);
  run_cli(&r, ARGS("--server", srv.addr, "forecast", "--job", id, "--out", later, late), NULL);
  cr_expect_eq(r.status, 1, "stderr: %s", r.err);
  expect_has(r.err, "periods after its last ds pass the last ds the input's form can have");
  stop_server_checked();
}

Test(cli_forecast, gaps_mixed_frequencies_and_bad_numbers) {
  make_aux_dir();
  start_server(CPU);
  const char *in = aux("gap.csv"), *out = aux("f.csv"), *models = aux("m.csv");
  FILE *f = fopen(in, "w");
  fputs("unique_id,ds,y\n", f);
  for (int d = 1; d <= 28; d++) {
    fprintf(f, "full,2024-02-%02d,%.3f\n", d, 10 + d % 7 + rng_float(1));
    if (d != 9) fprintf(f, "holed,2024-02-%02d,%.3f\n", d, 10 + d % 7 + rng_float(1));
  }
  fclose(f);
  cli_run r;
  run_cli(&r,
          ARGS("--server", srv.addr, "forecast", in, "--horizon", "3", "--out", out, "--models",
               models),
          NULL);
  cr_assert_eq(r.status, 0, "stderr: %s", r.err);
  expect_has(r.err, "warning: ");
  expect_has(r.err, "1 series with missing periods (1 in all; the first is \"holed\" from line 3)");
  expect_has(r.err, "1 series without a forecast (missing 1)");
  char text[4096];
  slurp(out, text, sizeof text);
  cr_expect_null(strstr(text, "holed"), "no forecast rows for a series with a gap");
  expect_has(text, "full,2024-02-29,");
  slurp(models, text, sizeof text);
  expect_has(text, "\nholed,missing,");
  write_text(in,
             "unique_id,ds,y\nd,2024-01-01,1\nd,2024-01-02,2\nw,2024-01-01,1\nw,2024-01-08,2\n");
  run_cli(&r, ARGS("--server", srv.addr, "forecast", in, "--horizon", "3", "--out", out), NULL);
  cr_expect_eq(r.status, 1);
  expect_has(r.err, "gap.csv: mixed frequencies: series \"d\" is daily, series \"w\" is weekly");
  write_text(in, "unique_id,ds,y\nd,2024-01-01,1\nd,2024-01-02,two\n");
  run_cli(&r, ARGS("--server", srv.addr, "forecast", in, "--horizon", "3", "--out", out), NULL);
  cr_expect_eq(r.status, 1);
  expect_has(r.err, "shopgpu: INVALID_ARGUMENT: ");
  expect_has(r.err, "gap.csv:3: column 3 (y): \"two\" is not a finite number");
  write_text(in, "unique_id,ds,y\nd,2024-01-01,1\nd,2024-01-02,2\nd,2024-01-03,3\n");
  const char *fresh = aux("fresh.csv");
  run_cli(&r,
          ARGS("--server", srv.addr, "forecast", in, "--horizon", "3", "--out", fresh, "--models",
               "/nonexistent-dir/m.csv"),
          NULL);
  cr_expect_eq(r.status, 1);
  expect_has(r.err, "--models: cannot write /nonexistent-dir/m.csv");
  cr_expect_neq(access(fresh, F_OK), 0, "no FORECAST.csv without its MODELS.csv");
  stop_server_checked();
}

Test(cli_forecast, no_series_forecast_exits_1_and_na_y_is_not_a_gap) {
  make_aux_dir();
  start_server(CPU);
  const char *in = aux("na.csv"), *out = aux("f.csv"), *models = aux("m.csv");
  FILE *f = fopen(in, "w");
  fputs("unique_id,ds,y\n", f);
  for (int d = 1; d <= 28; d++)
    fprintf(f, "s,2024-02-%02d,%s\n", d, d == 9 ? "NA" : d % 2 ? "10.5" : "12.25");
  fclose(f);
  cli_run r;
  run_cli(&r,
          ARGS("--server", srv.addr, "forecast", in, "--horizon", "3", "--out", out, "--models",
               models),
          NULL);
  cr_expect_eq(r.status, 1, "no series forecast: stderr: %s", r.err);
  expect_has(r.err, "na.csv: 1 series with missing y values (empty, NA or NaN) (1 in all; the "
                    "first is \"s\" from line 2)");
  cr_expect_null(strstr(r.err, "missing periods"), "no period is missing: %s", r.err);
  expect_has(r.err, "1 series without a forecast (missing 1)");
  expect_has(r.err, "shopgpu: no series could be forecast (of 1)");
  char text[4096];
  slurp(out, text, sizeof text);
  cr_expect_str_eq(text, "unique_id,ds,yhat,lo-80,hi-80,lo-95,hi-95\n", "the header only");
  slurp(models, text, sizeof text);
  expect_has(text, "\ns,missing,");
  /* one series forecast of three: exit 0, each kind of missing value warned about on its own */
  f = fopen(in, "a");
  for (int d = 1; d <= 28; d++)
    if (d != 5) fprintf(f, "t,2024-02-%02d,%.3f\n", d, 10 + d % 7 + rng_float(1));
  for (int d = 1; d <= 28; d++)
    fprintf(f, "u,2024-02-%02d,%.3f\n", d, 10 + d % 7 + rng_float(1));
  fclose(f);
  run_cli(&r, ARGS("--server", srv.addr, "forecast", in, "--horizon", "3", "--out", out), NULL);
  cr_expect_eq(r.status, 0, "stderr: %s", r.err);
  expect_has(r.err, "1 series with missing periods (1 in all; the first is \"t\" from line 30)");
  expect_has(r.err, "1 series with missing y values (empty, NA or NaN) (1 in all; the first is "
                    "\"s\" from line 2)");
  expect_has(r.err, "2 series without a forecast (missing 2)");
  cr_expect_null(strstr(r.err, "no series could be forecast"), "%s", r.err);
  slurp(out, text, sizeof text);
  expect_has(text, "\nu,2024-02-29,");
  stop_server_checked();
}

/* ---- replenish ---- */

/* A forecast of 6 periods: "a" with mean 10 and se 2 (from hi-95; hi-80 says otherwise, and
 * must be ignored as the narrower interval), "b" flat at 5, "c" nobody stocks. */
static const char *write_forecast_csv(void) {
  const char *path = aux("fc.csv");
  FILE *f = fopen(path, "w");
  fputs("unique_id,ds,yhat,lo-80,hi-80,lo-95,hi-95\n", f);
  for (int k = 1; k <= 6; k++) {
    fprintf(f, "a,2024-0%d-01,10,0,30,%.15g,%.15g\n", k, 10 - 2 * Z975, 10 + 2 * Z975);
    fprintf(f, "b,2024-0%d-01,5,5,5,5,5\n", k);
    fprintf(f, "c,2024-0%d-01,1,0,2,0,3\n", k);
  }
  fclose(f);
  return path;
}

/* The ORDERS.csv row of sku as its 8 numbers. */
static void order_row(const char *path, const char *sku, double v[8]) {
  size_t n;
  char **lines = read_lines(path, &n), prefix[16];
  snprintf(prefix, sizeof prefix, "%s,", sku);
  int found = 0;
  for (size_t i = 1; i < n && !found; i++)
    if (strncmp(lines[i], prefix, strlen(prefix)) == 0)
      found = sscanf(lines[i] + strlen(prefix), "%lf,%lf,%lf,%lf,%lf,%lf,%lf,%lf", &v[0], &v[1],
                     &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) == 8;
  cr_assert(found, "no row for %s in %s", sku, path);
  free_lines(lines, n);
}

static void expect_near(double got, double want, const char *what) {
  cr_expect_lt(fabs(got - want), 1e-9 * fmax(1, fabs(want)), "%s: %.12g, want %.12g", what, got,
               want);
}

Test(cli_forecast, replenish_matches_a_hand_computation) {
  make_aux_dir();
  start_server(CPU);
  const char *fc = write_forecast_csv(), *inv = aux("inv.csv"), *out = aux("orders.csv");
  write_text(inv, "unique_id,on_hand,on_order,lead_time,service_level,moq,pack_size,backorders,"
                  "review_period\na,5,0,2,0.95,,6,,\nb,2,1,1,0.9,10,1,1,2\n");
  cli_run r;
  run_cli(&r, ARGS("--server", srv.addr, "replenish", fc, "--inventory", inv, "--out", out), NULL);
  cr_assert_eq(r.status, 0, "stderr: %s", r.err);
  expect_has(r.out, "planned 2 skus: 2 orders, 37 units into ");
  expect_has(r.err, "warning: 1 sku of the forecast not in ");
  char head[256];
  slurp(out, head, sizeof head);
  const char *want = "unique_id,on_hand,on_order,inventory_position,demand_lead_time,"
                     "safety_stock,reorder_point,order_up_to,order_qty\n";
  cr_expect_eq(strncmp(head, want, strlen(want)), 0, "%s", head);
  double v[8];
  order_row(out, "a", v);
  double rop = 20 + Z95 * sqrt(8); /* two periods of mean 10, se 2, independent errors */
  expect_near(v[2], 5, "a: position"), expect_near(v[3], 20, "a: demand over the lead time");
  expect_near(v[4], Z95 * sqrt(8), "a: safety stock"), expect_near(v[5], rop, "a: reorder point");
  expect_near(v[6], rop, "a: order-up-to (continuous review)");
  expect_near(v[7], 24, "a: 19.65 units rounded up to 4 packs of 6");
  order_row(out, "b", v);
  expect_near(v[2], 2 + 1 - 1, "b: position"), expect_near(v[6], 15, "b: 3 periods of 5");
  expect_near(v[7], 13, "b: a review orders up to 15 (over the moq of 10)");
  run_cli(&r,
          ARGS("--server", srv.addr, "--json", "replenish", fc, "--inventory", inv, "--out", out,
               "--error-correlation", "1"),
          NULL);
  cr_assert_eq(r.status, 0, "stderr: %s", r.err);
  expect_has(r.out, "{\"skus\":2,\"orders\":2,\"order_units\":37,\"periods\":6,\"level\":95,"
                    "\"error_correlation\":1,\"not_in_inventory\":1,\"out\":");
  order_row(out, "a", v);
  expect_near(v[5], 20 + Z95 * 4, "a: reorder point with fully correlated errors");
  stop_server_checked();
}

/* replenish with inventory text must exit 1 with want on stderr. */
static void replenish_fails(const char *fc, const char *inv_text, const char *want) {
  const char *inv = aux("inv.csv");
  write_text(inv, inv_text);
  cli_run r;
  run_cli(&r,
          ARGS("--server", srv.addr, "replenish", fc, "--inventory", inv, "--out", aux("o.csv")),
          NULL);
  cr_expect_eq(r.status, 1, "stdout: %s", r.out);
  expect_has(r.err, "shopgpu: INVALID_ARGUMENT: ");
  expect_has(r.err, want);
}

Test(cli_forecast, replenish_names_bad_rows) {
  make_aux_dir();
  start_server(CPU);
  const char *fc = write_forecast_csv();
  const char *head = "unique_id,on_hand,on_order,lead_time,service_level,moq,pack_size\n";
  char text[512];
  const struct {
    const char *rows, *want;
  } cases[] = {
      {"a,5,0,2,0.95,0,1\nb,1,0,-1,0.95,0,1\n",
       "inv.csv:3: column 4 (lead_time): -1 is not a whole number of periods >= 0"},
      {"a,5,0,1.5,0.95,0,1\n", "inv.csv:2: column 4 (lead_time): 1.5 is not a whole number"},
      {"a,5,0,2,95,0,1\n", "inv.csv:2: column 5 (service_level): 95 is not in (0, 1)"},
      {"a,5,0,2,0.95,0,0\n", "inv.csv:2: column 7 (pack_size): 0 is not > 0"},
      /* too large says so (it said "is not a whole number ... >= 0"), with the value unrounded */
      {"a,5,0,2147483648,0.95,0,1\n",
       "inv.csv:2: column 4 (lead_time): 2147483648 is over the limit 1e+06"},
      {"a,5,0,2,0.95,0,1e308\n", "inv.csv:2: column 7 (pack_size): 1e+308 is over the limit"},
      {"a,x,0,2,0.95,0,1\n", "inv.csv:2: column 2 (on_hand): \"x\" is not a finite number"},
      {"a,5,0,7,0.95,0,1\n", "inv.csv:2: sku \"a\": lead_time 7 + review_period 0 > 6 forecast "},
      {"a,5,0,2,0.95,0,1\na,1,0,2,0.95,0,1\n", "inv.csv:3: column 1 (unique_id): sku \"a\" "
                                               "repeats line 2"},
      {"z,5,0,2,0.95,0,1\na,1,0,2,0.95,0,1\ny,5,0,2,0.95,0,1\n",
       "inv.csv: 2 skus without a forecast in "},
      {"a,5,0,2,0.95\n", "inv.csv:2: 5 fields, the header has 7"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    snprintf(text, sizeof text, "%s%s", head, cases[i].rows);
    replenish_fails(fc, text, cases[i].want);
  }
  replenish_fails(fc, "unique_id,on_hand,on_order,lead_time,service_level,pack_size\n",
                  "inv.csv:1: no column \"moq\"");
  replenish_fails(fc, "unique_id,on_hand\n", "no column \"on_order\"");
  const char *nohi = aux("nohi.csv");
  write_text(nohi, "unique_id,ds,yhat\na,1,10\n");
  snprintf(text, sizeof text, "%sa,5,0,1,0.95,0,1\n", head);
  replenish_fails(nohi, text, "nohi.csv:1: no hi-LEVEL column");
  stop_server_checked();
}

Test(cli_forecast, usage_errors) {
  const char *const cases[][12] = {
      {"forecast", "x.csv", "--out", "f.csv", NULL},
      {"forecast", "x.csv", "--horizon", "3", NULL},
      {"forecast", "x.csv", "--horizon", "3", "--out", "f.csv", "--level", "120", NULL},
      {"forecast", "x.csv", "--horizon", "3", "--out", "f.csv", "--search", "exhaustive", NULL},
      {"forecast", "x.csv", "--horizon", "3", "--out", "f.csv", "--optimizer", "newton", NULL},
      {"forecast", "x.csv", "--horizon", "0", "--out", "f.csv", NULL},
      {"forecast", "--job", "abc", "--out", "f.csv", "--horizon", "3", NULL},
      {"forecast", "x.csv", "--horizon", "3", "--out", "f.csv", "--exog", "a,,b", NULL},
      {"forecast", "--detach", "x.csv", "--horizon", "3", "--out", "f.csv", NULL},
      {"replenish", "f.csv", "--out", "o.csv", NULL},
      {"replenish", "f.csv", "--inventory", "i.csv", "--out", "o.csv", "--error-correlation", "2",
       NULL},
      {"forecast", "x.csv", "--horizon", "3", "--out", "f.csv", "--models", "f.csv", NULL},
      {"forecast", "x.csv", "--horizon", "3", "--out", "f.csv", "--models", "./f.csv", NULL},
      {"forecast", "x.csv", "--horizon", "3", "--out", "", NULL},
      {"forecast", "x.csv", "--horizon", "3", "--out", "/tmp", NULL},
      {"forecast", "x.csv", "--horizon", "3", "--out", "f.csv", "--level", "80,95,80", NULL},
      {"forecast", "x.csv", "--horizon", "3", "--out", "f.csv", "--exog", "promo,price,promo",
       NULL},
  };
  const char *want[] = {"--horizon is required",
                        "--out is required",
                        "--level: \"120\"",
                        "--search: \"exhaustive\"",
                        "--optimizer: \"newton\"",
                        "--horizon: \"0\"",
                        "takes no --horizon",
                        "--exog: \"a,,b\"",
                        "leave out --detach",
                        "--inventory is required",
                        "--error-correlation: \"2\"",
                        "--out and --models name the same file (f.csv)",
                        "--out and --models name the same file (./f.csv)",
                        "--out: an empty path",
                        "--out: /tmp is a directory",
                        "--level: 80 given twice",
                        "--exog: column promo given twice"};
  cr_assert_eq(sizeof cases / sizeof cases[0], sizeof want / sizeof want[0]);
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    cli_run r;
    const char *args[16] = {"--server", "127.0.0.1:1"};
    for (int k = 0; cases[i][k]; k++)
      args[2 + k] = cases[i][k];
    run_cli(&r, args, NULL);
    cr_expect_eq(r.status, 2, "case %zu", i);
    expect_has(r.err, want[i]);
  }
}
