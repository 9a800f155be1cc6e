/* libshopgpu-client's time-series reading on its own: the generic header CSV (quotes, BOM, CRLF,
 * field counts, size cap), ds parsing and formatting, frequency inference (integers, hourly,
 * daily, weekly, monthly on a day and on month ends, quarterly, yearly), the continuation of
 * each, gaps as NaN, and every rejected input named by file, line and column or by series. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "shopgpu_io.h"
#include "shopgpu_ts.h"

static char dir[] = "/tmp/shopgpu-ts-XXXXXX";

static void make_dir(void) { cr_assert_not_null(mkdtemp(dir)); }

static void remove_dir(void) {
  char cmd[64];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
}

TestSuite(ts, .init = make_dir, .fini = remove_dir);

static const char *text_file(const char *text) {
  static char path[128];
  snprintf(path, sizeof path, "%s/in.csv", dir);
  FILE *f = fopen(path, "wb");
  cr_assert_not_null(f);
  fputs(text, f);
  fclose(f);
  return path;
}

static shopgpu_ts *read_ts(const char *text, const shopgpu_ts_options *o) {
  shopgpu_status st = {0};
  shopgpu_ts *ts = shopgpu_ts_read(text_file(text), o, &st);
  cr_assert_not_null(ts, "read failed: %s", st.message);
  return ts;
}

/* text must be rejected with a message holding want. */
static void ts_fails(const char *text, const shopgpu_ts_options *o, const char *want) {
  shopgpu_status st = {0};
  shopgpu_ts *ts = shopgpu_ts_read(text_file(text), o, &st);
  cr_expect_null(ts, "accepted: %s", text);
  shopgpu_ts_free(ts);
  cr_expect_eq(st.code, 3, "INVALID_ARGUMENT");
  cr_expect_neq(strstr(st.message, want), NULL, "\"%s\" lacks \"%s\"", st.message, want);
}

/* The frequency's name, its season, and the ds after the last of series i, as text. */
static void expect_freq(const shopgpu_ts *ts, const char *name, int season) {
  char buf[64];
  shopgpu_freq_name(&ts->freq, buf, sizeof buf);
  cr_expect_str_eq(buf, name);
  cr_expect_eq(shopgpu_freq_season(&ts->freq), season, "season of %s", name);
}

static void expect_next(const shopgpu_ts *ts, size_t i, int k, const char *want) {
  char buf[32];
  shopgpu_ds_format_text(buf, sizeof buf, ts->freq.format,
                         shopgpu_freq_add(&ts->freq, ts->series[i].last, k));
  cr_expect_str_eq(buf, want, "series %zu, %d ahead", i, k);
}

static void expect_values(const shopgpu_ts *ts, size_t i, const double *want, size_t n) {
  const shopgpu_ts_series *s = &ts->series[i];
  cr_assert_eq(s->len, n, "series %s: %zu values, want %zu", s->id, s->len, n);
  for (size_t k = 0; k < n; k++) {
    double v = ts->values[s->offset + k];
    cr_expect(isnan(want[k]) ? isnan(v) : v == want[k], "%s[%zu] = %g, want %g", s->id, k, v,
              want[k]);
  }
}

Test(ts, integers_sorted_per_series_in_order_of_first_appearance) {
  shopgpu_ts *ts = read_ts("unique_id,ds,y,price\nb,30,3,9\na,20,20,9\nb,10,1,9\na,10,10,9\n"
                           "b,20,2,9\n",
                           NULL);
  cr_assert_eq(ts->n_series, 2);
  cr_expect_str_eq(ts->series[0].id, "b");
  cr_expect_str_eq(ts->series[1].id, "a");
  expect_values(ts, 0, (double[]){1, 2, 3}, 3);
  expect_values(ts, 1, (double[]){10, 20}, 2);
  expect_freq(ts, "step 10", 1);
  expect_next(ts, 0, 1, "40");
  expect_next(ts, 1, 2, "40");
  cr_expect_eq(ts->rows, 5);
  cr_expect_eq(ts->series[0].line, 2);
  cr_expect_eq(shopgpu_ts_find(ts, "a"), 1);
  cr_expect_eq(shopgpu_ts_find(ts, "c"), -1);
  cr_expect_eq(ts->missing, 0);
  shopgpu_ts_free(ts);
}

Test(ts, daily_gaps_and_empty_y_become_nan) {
  shopgpu_ts *ts = read_ts("ds,y,unique_id\n2024-02-27,1,s\n2024-03-02,5,s\n2024-02-28,,s\n"
                           "2024-02-29,NA,s\n2024-02-28,7,t\n2024-02-29,8,t\n",
                           NULL);
  double nan = NAN;
  expect_values(ts, 0, (double[]){1, nan, nan, nan, 5}, 5);
  cr_expect_eq(ts->series[0].missing, 3, "one gap (03-01) and two empty values");
  cr_expect_eq(ts->series[0].na, 2, "the two empty values had rows");
  cr_expect_eq(ts->series[1].na, 0);
  cr_expect_eq(ts->missing, 3);
  cr_expect_eq(ts->gap_series, 1);
  expect_freq(ts, "daily", 7);
  expect_next(ts, 0, 1, "2024-03-03");
  expect_next(ts, 1, 1, "2024-03-01");
  shopgpu_ts_free(ts);
}

Test(ts, weekly_hourly_and_minutes) {
  shopgpu_ts *ts =
      read_ts("unique_id,ds,y\nw,2023-12-25,1\nw,2024-01-01,2\nw,2024-01-08,3\n", NULL);
  expect_freq(ts, "weekly", 52);
  expect_next(ts, 0, 1, "2024-01-15");
  shopgpu_ts_free(ts);
  ts = read_ts("unique_id,ds,y\nh,2024-12-31T22:00:00,1\nh,2024-12-31T23:00:00,2\n", NULL);
  expect_freq(ts, "hourly", 24);
  expect_next(ts, 0, 1, "2025-01-01T00:00:00");
  shopgpu_ts_free(ts);
  ts = read_ts("unique_id,ds,y\nq,2024-01-01 00:15:00,1\nq,2024-01-01 00:30:00,2\n", NULL);
  expect_freq(ts, "every 15 minutes", 96);
  expect_next(ts, 0, 2, "2024-01-01 01:00:00");
  shopgpu_ts_free(ts);
  /* seasons the server takes (at most 366): a minute cycle of seconds (an hour's 3600 was
   * refused), an hour's of 10 seconds, none for 7 minutes */
  ts = read_ts("unique_id,ds,y\ns,2024-01-01 00:00:01,1\ns,2024-01-01 00:00:02,2\n", NULL);
  cr_expect_eq(shopgpu_freq_season(&ts->freq), 60, "seconds");
  shopgpu_ts_free(ts);
  ts = read_ts("unique_id,ds,y\ns,2024-01-01 00:00:10,1\ns,2024-01-01 00:00:20,2\n", NULL);
  cr_expect_eq(shopgpu_freq_season(&ts->freq), 360, "10 seconds");
  shopgpu_ts_free(ts);
  ts = read_ts("unique_id,ds,y\ns,2024-01-01 00:07:00,1\ns,2024-01-01 00:14:00,2\n", NULL);
  cr_expect_eq(shopgpu_freq_season(&ts->freq), 1, "7 minutes");
  shopgpu_ts_free(ts);
}

Test(ts, monthly_same_day_and_month_ends) {
  shopgpu_ts *ts = read_ts("unique_id,ds,y\nm,2023-11-15,1\nm,2023-12-15,2\nm,2024-01-15,3\n"
                           "n,2023-10-03,1\nn,2023-11-03,1\n",
                           NULL);
  expect_freq(ts, "monthly", 12);
  expect_next(ts, 0, 1, "2024-02-15");
  expect_next(ts, 1, 3, "2024-02-03");
  shopgpu_ts_free(ts);
  ts = read_ts("unique_id,ds,y\ne,2023-11-30,1\ne,2023-12-31,2\ne,2024-01-31,3\n", NULL);
  expect_freq(ts, "monthly (month ends)", 12);
  expect_next(ts, 0, 1, "2024-02-29");
  expect_next(ts, 0, 2, "2024-03-31");
  expect_next(ts, 0, 13, "2025-02-28");
  shopgpu_ts_free(ts);
  ts = read_ts("unique_id,ds,y\ng,2023-11-30,1\ng,2024-01-31,3\ng,2024-02-29,4\n", NULL);
  double nan = NAN;
  expect_values(ts, 0, (double[]){1, nan, 3, 4}, 4);
  cr_expect_eq(ts->missing, 1, "December is a gap");
  shopgpu_ts_free(ts);
}

Test(ts, quarterly_and_yearly) {
  shopgpu_ts *ts =
      read_ts("unique_id,ds,y\nq,2023-07-01,1\nq,2023-10-01,2\nq,2024-04-01,3\n", NULL);
  expect_freq(ts, "quarterly", 4);
  expect_values(ts, 0, (double[]){1, 2, NAN, 3}, 4);
  expect_next(ts, 0, 1, "2024-07-01");
  shopgpu_ts_free(ts);
  ts = read_ts("unique_id,ds,y\nq,2023-09-30,1\nq,2023-12-31,2\nq,2024-03-31,3\n", NULL);
  expect_freq(ts, "quarterly (month ends)", 4);
  expect_next(ts, 0, 1, "2024-06-30");
  shopgpu_ts_free(ts);
  ts = read_ts("unique_id,ds,y\ny,2019-01-01,1\ny,2020-01-01,2\ny,2021-01-01,3\nz,2022-01-01,5\n",
               NULL);
  expect_freq(ts, "yearly", 1);
  expect_next(ts, 1, 1, "2023-01-01");
  shopgpu_ts_free(ts);
}

Test(ts, mixed_and_irregular_frequencies_are_rejected) {
  ts_fails("unique_id,ds,y\nd,2024-01-01,1\nd,2024-01-02,1\nw,2024-01-01,1\nw,2024-01-08,1\n", NULL,
           "in.csv: mixed frequencies: series \"d\" is daily, series \"w\" is weekly");
  ts_fails("unique_id,ds,y\nd,2024-01-01,1\nd,2024-01-02,1\nm,2024-01-01,1\nm,2024-02-01,1\n"
           "m,2024-03-01,1\n",
           NULL, "series \"d\" is daily, series \"m\" is monthly");
  ts_fails("unique_id,ds,y\na,2024-01-01,1\na,2024-01-03,1\na,2024-01-08,1\n", NULL,
           "series \"a\": irregular ds: 2024-01-03 to 2024-01-08 is not a whole number of "
           "periods of its smallest spacing (every 2 days)");
  ts_fails("unique_id,ds,y\na,0,1\na,2,1\na,5,1\n", NULL, "(step 2)");
  ts_fails("unique_id,ds,y\na,2024-01-15,1\na,2024-02-01,1\na,2024-03-15,1\n", NULL,
           "irregular ds");
  ts_fails("unique_id,ds,y\na,1,1\nb,2,1\n", NULL, "no series has two distinct ds");
}

Test(ts, bad_fields_are_named_by_line_and_column) {
  ts_fails("unique_id,ds,y\na,1,1\na,2,1O\n", NULL,
           "in.csv:3: column 3 (y): \"1O\" is not a "
           "finite number");
  ts_fails("unique_id,ds,y\na,1,inf\n", NULL, "in.csv:2: column 3 (y): \"inf\" is not a finite");
  ts_fails("unique_id,ds,y\na,2024-13-01,1\n", NULL,
           "in.csv:2: column 2 (ds): \"2024-13-01\" is not an integer nor a date "
           "YYYY-MM-DD[ HH:MM:SS] or YYYY-MM-DDTHH:MM:SS");
  ts_fails("unique_id,ds,y\na,2023-02-29,1\n", NULL, "column 2 (ds): \"2023-02-29\"");
  ts_fails("unique_id,ds,y\na,2024-01-01,1\na,2024-01-02 10:00:00,1\n", NULL,
           "in.csv:3: column 2 (ds): \"2024-01-02 10:00:00\" is a date and time, the first row's "
           "ds is a date");
  ts_fails("unique_id,ds,y\na,2024-01-01,1\na,2024-01-02,1,9\n", NULL,
           "in.csv:3: 4 fields, the header has 3");
  ts_fails("unique_id,ds,y\n,1,1\n", NULL, "in.csv:2: column 1 (unique_id): empty id");
  ts_fails("unique_id,ds,y\na,\"1,1\n", NULL, "in.csv:2: a quoted field lacks its closing quote");
}

/* The horizon's last ds must be one the file's form can hold: years past 9999 came out as
 * "10000-01-01" (which no reader takes back), and an integer ds near 2^63 overflowed int64 (UB) */
Test(ts, a_horizon_past_the_last_writable_ds_is_named) {
  shopgpu_ts_options o = {.horizon = 3};
  ts_fails("unique_id,ds,y\na,9999-12-29,1\na,9999-12-30,2\n", &o,
           "in.csv:2: series \"a\": 3 periods after its last ds 9999-12-30 pass 9999-12-31, the "
           "last ds this file's form can have");
  o.horizon = 1;
  ts_fails("unique_id,ds,y\nb,9999-10-31,1\nb,9999-11-30,2\nb,9999-12-31,3\n", &o,
           "series \"b\": 1 period after its last ds 9999-12-31 passes 9999-12-31");
  o.horizon = 10000;
  ts_fails("unique_id,ds,y\na,0,1\na,400000000000000000,2\n", &o,
           "series \"a\": 10000 periods after its last ds 400000000000000000 pass "
           "999999999999999999");
  ts_fails("unique_id,ds,y\na,1,1\na,1000000000000000000,2\n", &o,
           "in.csv:3: column 2 (ds): \"1000000000000000000\": an integer ds has at most 18 digits");
  /* up to the last day itself is fine */
  o.horizon = 1;
  shopgpu_ts *ts = read_ts("unique_id,ds,y\na,9999-12-29,1\na,9999-12-30,2\n", &o);
  expect_next(ts, 0, 1, "9999-12-31");
  shopgpu_ts_free(ts);
  shopgpu_freq yearly = {SHOPGPU_DS_DATE, SHOPGPU_FREQ_MONTHS, 12, 0};
  int64_t a, end;
  cr_assert_eq(shopgpu_ds_parse("2024-03-01", &a), SHOPGPU_DS_DATE);
  cr_expect_eq(shopgpu_freq_add_checked(&yearly, a, 7975, &end), 0);
  cr_expect_eq(shopgpu_freq_add_checked(&yearly, a, 7976, &end), -1, "year 10000");
  shopgpu_freq steps = {SHOPGPU_DS_INTEGER, SHOPGPU_FREQ_STEPS, INT64_C(900000000000000000), 0};
  cr_expect_eq(shopgpu_freq_add_checked(&steps, 0, 1, &end), 0);
  cr_expect_eq(shopgpu_freq_add_checked(&steps, 0, 2, &end), -1, "no overflow on the way");
}

Test(ts, repeated_ds_and_series_without_y_are_rejected) {
  ts_fails("unique_id,ds,y\na,2024-01-01,1\nb,2024-01-01,1\na,2024-01-02,1\na,2024-01-01,2\n", NULL,
           "in.csv:5: series \"a\": ds 2024-01-01 repeats line 2");
  ts_fails("unique_id,ds,y\na,1,1\na,2,1\nb,1,\nb,2,\n", NULL,
           "in.csv:4: series \"b\": no value of y");
}

Test(ts, header_by_name_with_quotes_bom_crlf_and_extra_columns) {
  shopgpu_ts *ts = read_ts("\xEF\xBB\xBF\"store\",\"y\",\"unique_id\",\"ds\"\r\n"
                           "x,1.5,\"a,1\",1\r\n\r\nx, 2.5 ,\"a,1\",2\r\n",
                           NULL);
  cr_assert_eq(ts->n_series, 1);
  cr_expect_str_eq(ts->series[0].id, "a,1");
  expect_values(ts, 0, (double[]){1.5, 2.5}, 2);
  shopgpu_ts_free(ts);
  ts_fails("unique_id,ds,value\na,1,1\n", NULL,
           "in.csv:1: no column \"y\" in the header (expected unique_id,ds,y[,exog...])");
  ts_fails("unique_id,ds,y\n", NULL, "in.csv:1: no rows after the header");
  ts_fails("", NULL, "in.csv: empty: expected a header line");
  shopgpu_ts_options o = {.max_bytes = 16};
  ts_fails("unique_id,ds,y\na,1,1\na,2,1\n", &o,
           "in.csv: 27 bytes is over the limit of 16 bytes (split the file)");
}

Test(ts, exog_future_rows_give_the_regressors_future) {
  const char *cols[] = {"promo"};
  shopgpu_ts_options o = {.exog = cols, .n_exog = 1, .horizon = 2};
  const char *text =
      "unique_id,ds,y,promo,other\n"
      "a,2024-01-03,,1,x\na,2024-01-01,5,0,x\na,2024-01-02,6,1,x\na,2024-01-04,,0,x\n"
      "b,2024-01-01,7,1,x\nb,2024-01-02,8,0,x\nb,2024-01-03,,0,x\nb,2024-01-04,,1,x\n";
  shopgpu_ts *ts = read_ts(text, &o);
  expect_values(ts, 0, (double[]){5, 6}, 2);
  cr_expect(ts->xreg[0] == 0 && ts->xreg[1] == 1 && ts->xreg[2] == 1 && ts->xreg[3] == 0);
  cr_expect(ts->xreg_future[0] == 1 && ts->xreg_future[1] == 0, "a's future: 1, 0");
  cr_expect(ts->xreg_future[2] == 0 && ts->xreg_future[3] == 1, "b's future: 0, 1");
  cr_expect_eq(ts->ignored_rows, 0);
  shopgpu_ts_free(ts);
  ts = read_ts(text, NULL);
  cr_expect_eq(ts->ignored_rows, 4, "without exog the future rows are not used");
  shopgpu_ts_free(ts);
  o.horizon = 3;
  ts_fails(text, &o,
           "in.csv:2: series \"a\": 2 future rows (y empty after its last y, line 4), "
           "the regressors need exactly 3 (the horizon)");
  o.horizon = 2;
  ts_fails("unique_id,ds,y,promo\na,1,5,0\na,2,6,0\na,3,,1\na,5,,1\n", &o,
           "in.csv:5: series \"a\": future row 2 should be ds 4");
  ts_fails("unique_id,ds,y,promo\na,1,5,0\na,2,6,0\na,3,,1\na,4,,\n", &o,
           "in.csv:5: column 4 (promo): series \"a\": a future row needs the regressor's value");
  ts_fails("unique_id,ds,y,promo\na,1,5,0\na,2,6,x\n", &o, "in.csv:3: column 4 (promo): \"x\"");
  const char *bad[] = {"price"};
  o.exog = bad;
  ts_fails("unique_id,ds,y,promo\na,1,5,0\n", &o, "no column \"price\" in the header");
}

Test(ts, ds_parse_and_periods) {
  int64_t v;
  cr_expect_eq(shopgpu_ds_parse("1970-01-02", &v), SHOPGPU_DS_DATE);
  cr_expect_eq(v, 86400);
  cr_expect_eq(shopgpu_ds_parse("1969-12-31T23:59:59", &v), SHOPGPU_DS_DATETIME_T);
  cr_expect_eq(v, -1);
  cr_expect_eq(shopgpu_ds_parse("2000-02-29 12:00:00", &v), SHOPGPU_DS_DATETIME);
  char buf[32];
  shopgpu_ds_format_text(buf, sizeof buf, SHOPGPU_DS_DATETIME, v);
  cr_expect_str_eq(buf, "2000-02-29 12:00:00");
  cr_expect_eq(shopgpu_ds_parse("-42", &v), SHOPGPU_DS_INTEGER);
  cr_expect_eq(v, -42);
  const char *bad[] = {"",           "1.5",        "2024-1-01",        "2024-01-01T24:00:00",
                       "1900-02-29", "0000-01-01", "2024-01-01T10:00", "2024-01-01x",
                       "12a"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    cr_expect_eq(shopgpu_ds_parse(bad[i], &v), -1, "\"%s\" accepted", bad[i]);
  shopgpu_freq m = {SHOPGPU_DS_DATE, SHOPGPU_FREQ_MONTHS, 3, 0};
  int64_t a, b, n = -1;
  shopgpu_ds_parse("2024-01-10", &a);
  shopgpu_ds_parse("2024-07-10", &b);
  cr_expect(shopgpu_freq_periods(&m, a, b, &n) == 0 && n == 2);
  shopgpu_ds_parse("2024-07-11", &b);
  cr_expect_eq(shopgpu_freq_periods(&m, a, b, &n), -1, "off the day");
  shopgpu_ds_parse("2024-04-10", &b);
  m.step = 6;
  cr_expect_eq(shopgpu_freq_periods(&m, a, b, &n), -1, "half a period");
}

/* 201 series of 3 rows each spanning 100,000 periods: a 4 KB file that would fill 160 MB of
 * gaps (2,000 such series: 1.6 GB) is refused before anything is allocated for them */
Test(ts, gaps_filled_across_all_series_are_bounded) {
  static char text[16384];
  size_t at = (size_t)snprintf(text, sizeof text, "unique_id,ds,y\n");
  for (int s = 0; s < 201; s++)
    at += (size_t)snprintf(text + at, sizeof text - at, "s%d,0,1\ns%d,1,2\ns%d,99999,3\n", s, s, s);
  ts_fails(text, NULL,
           "in.csv:602: series \"s200\": the series up to here span 20100000 periods, gaps "
           "included, times 1 value(s) each");
}

Test(ts, csv_table_stops_endless_input_at_the_line_limit_and_refuses_nul_bytes) {
  shopgpu_status st = {0, ""};
  /* a device has no size to check up front: reading must stop at the line limit (it used to
   * read /dev/zero until the memory ran out) */
  cr_expect_null(shopgpu_csv_open("/dev/zero", 0, &st));
  cr_expect_neq(strstr(st.message, "/dev/zero:1: line longer than 1048576 bytes"), NULL, "%s",
                st.message);
  char path[160];
  snprintf(path, sizeof path, "%s/nul.csv", dir);
  FILE *f = fopen(path, "wb");
  cr_assert_not_null(f);
  static const char text[] = "unique_id,ds,y\nA,1,1\0"
                             "5\n";
  fwrite(text, 1, sizeof text - 1, f);
  fclose(f);
  shopgpu_csv *c = shopgpu_csv_open(path, 0, &st);
  cr_assert_not_null(c, "%s", st.message);
  cr_expect_eq(shopgpu_csv_next(c, &st), -1, "y 1\\05 read as 1");
  cr_expect_neq(strstr(st.message, "nul.csv:2: a NUL byte at byte 6"), NULL, "%s", st.message);
  shopgpu_csv_close(c);
  cr_expect_null(shopgpu_csv_open(dir, 0, &st));
  cr_expect_neq(strstr(st.message, ": is a directory"), NULL, "%s", st.message);
}

Test(ts, csv_table_reads_fields_by_name) {
  shopgpu_status st;
  shopgpu_csv *c = shopgpu_csv_open(text_file("a, \"b \"\"q\"\"\" ,c\n1,,3\n"), 0, &st);
  cr_assert_not_null(c, "%s", st.message);
  cr_expect_eq(shopgpu_csv_columns(c), 3);
  cr_expect_eq(shopgpu_csv_find(c, "b \"q\""), 1);
  cr_expect_eq(shopgpu_csv_find(c, "d"), -1);
  cr_assert_eq(shopgpu_csv_next(c, &st), 1);
  cr_expect_str_eq(shopgpu_csv_field(c, 1), "");
  double v = 0;
  cr_expect(shopgpu_csv_number(c, 1, 1, &v, &st) == 0 && isnan(v));
  cr_expect_eq(shopgpu_csv_number(c, 1, 0, &v, &st), -1);
  cr_expect_neq(
      strstr(st.message, "in.csv:2: column 2 (b \"q\"): a number is required, found \"\""), NULL,
      "%s", st.message);
  cr_expect(shopgpu_csv_number(c, 2, 0, &v, &st) == 0 && v == 3);
  cr_expect_eq(shopgpu_csv_next(c, &st), 0);
  cr_expect_eq(shopgpu_csv_next(c, &st), 0, "and from then on");
  shopgpu_csv_close(c);
}
