/* The CLI's job views on fixed inputs, no server: the progress line (bar width from the terminal
 * width, percent and bar rounded down, ETA and elapsed clocks, best, cut to the terminal), the
 * ETA estimate, time formats, and a Job as JSON, as "key value" lines and as a table row. The
 * expected texts were worked out by hand from the documented layout. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json.h"

static void expect_line(const sg_cli_progress *p, int columns, const char *want) {
  char buf[512];
  size_t n = sg_cli_progress_line(buf, sizeof buf, p, columns);
  cr_expect_str_eq(buf, want, "columns %d", columns);
  cr_expect_eq(n, strlen(want));
}

static const sg_cli_progress half = {
    .state = "running", .done = 150, .total = 300, .unit = "ms", .elapsed_s = 1.5, .eta_s = 1.5};

Test(progress_line, bar_takes_what_the_text_leaves_of_the_terminal) {
  /* 80 columns: 79 - "running   " (10) - brackets (2) - widest text (" 100%  300/300 ms  0:01
   * elapsed  eta 0:01": 41) = 26 cells, 150/300 of them full = 13 */
  expect_line(&half, 80,
              "running   [#############-------------]  50%  150/300 ms  0:01 elapsed  eta 0:01");
  /* wide terminals: at most 40 cells (20 full) */
  expect_line(&half, 200,
              "running   [####################--------------------]  50%  150/300 ms  0:01 "
              "elapsed  eta 0:01");
  /* narrow: at least 10 cells, and the line is cut to 39 characters */
  expect_line(&half, 40, "running   [#####-----]  50%  150/300 ms");
}

Test(progress_line, percent_and_bar_round_down_and_stop_at_100) {
  sg_cli_progress p = half;
  p.done = 299;
  p.eta_s = -1; /* unknown: not shown */
  /* 99.67% -> 99; 299*26/300 = 25.9 -> 25 cells */
  expect_line(&p, 80, "running   [#########################-]  99%  299/300 ms  0:01 elapsed");
  p.done = 1;
  p.total = 3;
  p.unit = "";
  /* widest text " 100%  3/3  0:01 elapsed  eta 0:01": 34 -> 33 cells; 1*33/3 = 11 */
  expect_line(&p, 80, "running   [###########----------------------]  33%  1/3  0:01 elapsed");
  p.done = 4; /* more than the total */
  expect_line(&p, 80, "running   [#################################] 100%  4/3  0:01 elapsed");
}

Test(progress_line, final_state_and_no_total_and_best) {
  sg_cli_progress done = {
      .state = "succeeded", .done = 300, .total = 300, .unit = "ms", .elapsed_s = 0.4, .eta_s = -1};
  expect_line(&done, 80, "succeeded [##########################] 100%  300/300 ms  0:00 elapsed");
  sg_cli_progress queued = {.state = "queued", .unit = "ms", .elapsed_s = 3.2, .eta_s = -1};
  expect_line(&queued, 80, "queued      0:03 elapsed");
  /* the server's estimate while nothing is measured: marked rough */
  queued.estimate_left_s = 75;
  expect_line(&queued, 80, "queued      0:03 elapsed  eta ~1:15");
  sg_cli_progress started = half;
  started.eta_s = -1;
  started.estimate_left_s = 2.5;
  /* one cell less for the "~" (25, 12 full), so the line still fits 79 characters */
  expect_line(&started, 80,
              "running   [############-------------]  50%  150/300 ms  0:01 elapsed  eta ~0:02");
  sg_cli_progress count = {.state = "running", .done = 42, .elapsed_s = 0, .eta_s = 5};
  expect_line(&count, 80, "running     42  0:00 elapsed");
  sg_cli_progress best = {.state = "running",
                          .done = 2,
                          .total = 10,
                          .unit = "iterations",
                          .has_best = 1,
                          .best = 1234.5678,
                          .elapsed_s = 65,
                          .eta_s = 260};
  /* widest text " 100%  10/10 iterations  1:05 elapsed  eta 4:20" (47) + best room (19):
   * 99 - 10 - 2 - 66 = 21 cells, 2*21/10 = 4.2 -> 4 */
  expect_line(&best, 100,
              "running   [####-----------------]  20%  2/10 iterations  1:05 elapsed  eta 4:20  "
              "best 1234.57");
}

Test(progress_line, small_buffers_stay_terminated) {
  char buf[12];
  size_t n = sg_cli_progress_line(buf, sizeof buf, &half, 80);
  cr_expect_eq(n, 11);
  cr_expect_str_eq(buf, "running   [");
  cr_expect_eq(sg_cli_progress_line(buf, 0, &half, 80), 0);
}

Test(progress_eta, rate_since_the_baseline) {
  cr_expect_eq(sg_cli_eta(10, 1.0, 60, 3.0, 110), 2.0); /* 50 in 2 s, 50 to go */
  cr_expect_eq(sg_cli_eta(0, 0.0, 25, 1.0, 100), 3.0);
  cr_expect_eq(sg_cli_eta(0, 0.0, 100, 5.0, 100), 0.0); /* done */
  cr_expect_eq(sg_cli_eta(0, 0.0, 120, 5.0, 100), 0.0);
  cr_expect_eq(sg_cli_eta(10, 0.0, 10, 5.0, 100), -1.0); /* no progress since */
  cr_expect_eq(sg_cli_eta(0, 2.0, 10, 2.0, 100), -1.0);  /* no time */
  cr_expect_eq(sg_cli_eta(0, 0.0, 10, 1.0, 0), -1.0);    /* no total */
}

static void expect_clock(double s, const char *want) {
  char buf[32];
  sg_cli_format_clock(buf, sizeof buf, s);
  cr_expect_str_eq(buf, want, "%g s", s);
}

static void expect_age(int64_t ms, const char *want) {
  char buf[32];
  sg_cli_format_age(buf, sizeof buf, ms);
  cr_expect_str_eq(buf, want, "%lld ms", (long long)ms);
}

Test(progress_format, clocks_and_ages_round_down) {
  expect_clock(0, "0:00");
  expect_clock(59.99, "0:59");
  expect_clock(61, "1:01");
  expect_clock(599, "9:59");
  expect_clock(3599.9, "59:59");
  expect_clock(3600, "1:00:00");
  expect_clock(3725, "1:02:05");
  expect_clock(90061, "25:01:01");
  expect_clock(-0.5, "--:--");
  expect_clock(NAN, "--:--");
  expect_age(-5, "0s");
  expect_age(999, "0s");
  expect_age(59999, "59s");
  expect_age(60000, "1m");
  expect_age(3599999, "59m");
  expect_age(3600000, "1h");
  expect_age(86399999, "23h");
  expect_age(172800000, "2d");
}

/* ---- Job views ---- */

typedef struct fixture {
  Shopgpu__V1__Job job;
  Shopgpu__V1__JobProgress progress;
  Shopgpu__V1__SleepJobResult result;
  char id[33], kind[16], unit[16], label[32], error[32];
} fixture;

/* A sleep job that succeeded: 300/300 ms, created at 2023-11-14T22:13:20Z, ran 1.25 s. */
static void succeeded_job(fixture *f) {
  memset(f, 0, sizeof *f);
  strcpy(f->id, "00112233445566778899aabbccddeeff");
  strcpy(f->kind, "sleep");
  strcpy(f->unit, "ms");
  strcpy(f->label, "nightly");
  shopgpu__v1__job__init(&f->job);
  shopgpu__v1__job_progress__init(&f->progress);
  shopgpu__v1__sleep_job_result__init(&f->result);
  f->progress.done = f->progress.total = 300;
  f->progress.unit = f->unit;
  f->result.steps = 30;
  f->job.id = f->id;
  f->job.kind = f->kind;
  f->job.label = f->label;
  f->job.error_message = f->error;
  f->job.state = SHOPGPU__V1__JOB_STATE__JOB_STATE_SUCCEEDED;
  f->job.progress = &f->progress;
  f->job.created_at_unix_ms = 1700000000000;
  f->job.started_at_unix_ms = 1700000000250;
  f->job.finished_at_unix_ms = 1700000001500;
  f->job.result_case = SHOPGPU__V1__JOB__RESULT_SLEEP;
  f->job.sleep = &f->result;
}

/* A sleep job cancelled while running, not finished yet in this snapshot. */
static void cancelled_job(fixture *f) {
  succeeded_job(f);
  f->job.state = SHOPGPU__V1__JOB_STATE__JOB_STATE_CANCELLED;
  f->progress.done = 20;
  f->progress.total = 30000;
  f->job.error_code = 1;
  strcpy(f->error, "cancelled");
  strcpy(f->label, "a \"q\"\nb");
  f->job.priority = -3;
  f->job.finished_at_unix_ms = 0;
  f->job.result_case = SHOPGPU__V1__JOB__RESULT__NOT_SET;
  f->job.sleep = NULL;
}

static char *job_json(const Shopgpu__V1__Job *job, int with_result) {
  char *buf = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&buf, &len);
  cr_assert_not_null(out);
  sg__json j;
  sg__json_init(&j, out);
  sg_cli_job_json(&j, job, with_result);
  fclose(out);
  return buf;
}

Test(job_view, json_has_the_fixed_shape) {
  fixture f;
  succeeded_job(&f);
  f.job.estimated_s = 1.5;
  char *s = job_json(&f.job, 1);
  cr_expect_str_eq(s, "{\"id\":\"00112233445566778899aabbccddeeff\",\"kind\":\"sleep\",\"state\":"
                      "\"succeeded\",\"progress\":{\"done\":300,\"total\":300,\"unit\":\"ms\","
                      "\"best\":null},\"error\":null,\"label\":\"nightly\",\"priority\":0,"
                      "\"estimated_s\":1.5,\"created_at_unix_ms\":1700000000000,\"started_at_unix_"
                      "ms\":1700000000250,"
                      "\"finished_at_unix_ms\":1700000001500,\"result\":{\"steps\":30}}");
  free(s);
  cancelled_job(&f);
  f.progress.has_best = 1;
  f.progress.best = 0.25;
  s = job_json(&f.job, 1);
  cr_expect_str_eq(s, "{\"id\":\"00112233445566778899aabbccddeeff\",\"kind\":\"sleep\",\"state\":"
                      "\"cancelled\",\"progress\":{\"done\":20,\"total\":30000,\"unit\":\"ms\","
                      "\"best\":0.25},\"error\":{\"code\":\"CANCELLED\",\"message\":\"cancelled\"},"
                      "\"label\":\"a \\\"q\\\"\\nb\",\"priority\":-3,\"estimated_s\":null,"
                      "\"created_at_unix_ms\":"
                      "1700000000000,\"started_at_unix_ms\":1700000000250,\"finished_at_unix_ms\":"
                      "null,\"result\":null}");
  free(s);
  s = job_json(&f.job, 0);
  cr_expect_null(strstr(s, "result"), "%s", s);
  free(s);
}

static char *capture_print(const Shopgpu__V1__Job *job, int with_result, int64_t now_ms) {
  char *buf = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&buf, &len);
  cr_assert_not_null(out);
  sg_cli_job_print(out, job, with_result, now_ms);
  fclose(out);
  return buf;
}

Test(job_view, key_value_lines) {
  fixture f;
  succeeded_job(&f);
  char *s = capture_print(&f.job, 1, 1700000065000);
  cr_expect_str_eq(s, "id        00112233445566778899aabbccddeeff\n"
                      "kind      sleep\n"
                      "state     succeeded\n"
                      "progress  100% 300/300 ms\n"
                      "priority  0\n"
                      "label     nightly\n"
                      "created   2023-11-14T22:13:20.000Z (1m ago)\n"
                      "started   2023-11-14T22:13:20.250Z\n"
                      "finished  2023-11-14T22:13:21.500Z (ran 1.250 s)\n"
                      "result    {\"steps\":30}\n");
  free(s);
  cancelled_job(&f);
  s = capture_print(&f.job, 0, 1700000000000 + 5 * 3600 * 1000);
  cr_expect_str_eq(s, "id        00112233445566778899aabbccddeeff\n"
                      "kind      sleep\n"
                      "state     cancelled\n"
                      "progress  0% 20/30000 ms\n"
                      "priority  -3\n"
                      "label     a \"q\" b\n"
                      "created   2023-11-14T22:13:20.000Z (5h ago)\n"
                      "started   2023-11-14T22:13:20.250Z\n"
                      "error     CANCELLED: cancelled\n");
  free(s);
}

Test(job_view, table_rows_and_progress_column) {
  fixture a, b;
  succeeded_job(&a);
  cancelled_job(&b);
  strcpy(b.id, "ffeeddccbbaa99887766554433221100");
  b.job.created_at_unix_ms = 1700000030000;
  Shopgpu__V1__Job *jobs[] = {&b.job, &a.job};
  char *buf = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&buf, &len);
  cr_assert_not_null(out);
  sg_cli_job_table(out, jobs, 2, 1700000090000);
  fclose(out);
  cr_expect_str_eq(
      buf, "ID                                KIND           STATE      PROGRESS    "
           "                AGE  LABEL\n"
           "ffeeddccbbaa99887766554433221100  sleep          cancelled  0% 20/30000 "
           "ms" /* 10 to fill PROGRESS, 2, 3 to right-align AGE */ "               1m  a \"q\" b\n"
           "00112233445566778899aabbccddeeff  sleep          succeeded  100% 300/300 "
           "ms" /* 9 + 2 + 3 */ "              1m  nightly\n");
  free(buf);
  char col[64];
  Shopgpu__V1__JobProgress p = SHOPGPU__V1__JOB_PROGRESS__INIT;
  sg_cli_format_job_progress(col, sizeof col, NULL);
  cr_expect_str_eq(col, "-");
  sg_cli_format_job_progress(col, sizeof col, &p);
  cr_expect_str_eq(col, "-");
  p.done = 5;
  sg_cli_format_job_progress(col, sizeof col, &p);
  cr_expect_str_eq(col, "5");
  char series[] = "series";
  p.unit = series;
  p.done = 42;
  sg_cli_format_job_progress(col, sizeof col, &p);
  cr_expect_str_eq(col, "42 series");
  p.total = 3;
  p.done = 1;
  sg_cli_format_job_progress(col, sizeof col, &p);
  cr_expect_str_eq(col, "33% 1/3 series");
}
