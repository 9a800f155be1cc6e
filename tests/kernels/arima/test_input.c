/* Bad input: every checked field gives SG_INVALID_ARGUMENT (or SG_OVERFLOW) with a message
 * naming it; per-series problems become statuses, never a failed call. */
#include <criterion/criterion.h>

#include "common/backend.h"
#include "fixtures.h"

static sg_backend *be;
static sg_exec *x;
static void setup(void) {
  sg_err e = {0};
  sg_backend_config cfg = {.kind = SG_BACKEND_CPU};
  be = sg_backend_open(&cfg, &e);
  x = sg_exec_create(be, &e);
}
static void teardown(void) {
  sg_exec_destroy(x);
  sg_backend_close(be);
}
TestSuite(arima_input, .init = setup, .fini = teardown);

static double vals[60];
static size_t offs[3] = {0, 30, 60};

static sg_arima_input good_input(void) {
  for (int i = 0; i < 60; i++)
    vals[i] = 10.0 + (double)(i % 7) + 0.1 * i;
  sg_arima_input in = {.n_series = 2, .values = vals, .offsets = offs};
  return in;
}

static void expect_rejected(const sg_arima_input *in, const sg_arima_spec *spec, sg_status code,
                            const char *needle) {
  sg_err e = {0};
  sg_arima_results *r = (sg_arima_results *)0x1;
  sg_status st = sg_arima_batch_run(x, in, spec, &r, &e);
  cr_expect_eq(st, code, "%s: got %s (%s)", needle, sg_status_name(st), e.msg);
  cr_expect(strstr(e.msg, needle) != NULL, "message '%s' should name '%s'", e.msg, needle);
  cr_expect_null(r);
}

Test(arima_input, rejects_bad_spec_fields_naming_them) {
  sg_arima_input in = good_input();
  sg_arima_spec s;
#define REJECT(stmt, needle)                                                                       \
  do {                                                                                             \
    sg_arima_spec_default(&s);                                                                     \
    s.season = 12;                                                                                 \
    s.h = 6;                                                                                       \
    stmt;                                                                                          \
    expect_rejected(&in, &s, SG_INVALID_ARGUMENT, needle);                                         \
  } while (0)
  REJECT(s.h = 0, "spec.h");
  REJECT(s.h = -3, "spec.h");
  REJECT(s.h = SG_ARIMA_MAX_H + 1, "spec.h");
  REJECT(s.season = 0, "spec.season");
  REJECT(s.season = SG_ARIMA_MAX_SEASON + 1, "spec.season");
  REJECT(s.n_levels = 5, "spec.n_levels");
  REJECT(s.levels[1] = 100.0, "spec.levels[1]");
  REJECT(s.levels[0] = 0.0, "spec.levels[0]");
  REJECT(s.max_p = 6, "spec.max_p");
  REJECT(s.max_Q = 3, "spec.max_Q");
  REJECT(s.d = 3, "spec.d");
  REJECT(s.D = 2, "spec.D");
  REJECT(s.nmodels = 0, "spec.nmodels");
  REJECT(s.maxit = 0, "spec.maxit");
  REJECT(s.search = (sg_arima_search)7, "spec.search");
  REJECT(s.ic = (sg_arima_ic)9, "spec.ic");
  /* a request's -1 was named as 4294967295 (the enum read unsigned) */
  REJECT(s.method = (sg_arima_method)-1, "spec.method: -1 outside [");
  REJECT((s.search = SG_ARIMA_FIXED, s.p = 6), "spec.p");
  REJECT((s.search = SG_ARIMA_FIXED, s.season = 1, s.P = 1), "spec.P");
  REJECT((s.search = SG_ARIMA_FIXED, s.season = 1, s.Q = 1), "spec.Q");
  REJECT((s.season = 1, s.D = 1), "spec.D");
  REJECT((s.search = SG_ARIMA_FIXED, s.season = 60, s.P = 1), "spec.season");
#undef REJECT
}

Test(arima_input, rejects_bad_input_fields_naming_them) {
  sg_arima_spec s;
  sg_arima_spec_default(&s);
  s.h = 4;
  sg_arima_input in = good_input();
  in.n_series = 0;
  expect_rejected(&in, &s, SG_INVALID_ARGUMENT, "input.n_series");
  in = good_input();
  in.values = NULL;
  expect_rejected(&in, &s, SG_INVALID_ARGUMENT, "input.values");
  in = good_input();
  in.offsets = NULL;
  expect_rejected(&in, &s, SG_INVALID_ARGUMENT, "input.offsets");
  in = good_input();
  size_t bad_off[3] = {0, 40, 30};
  in.offsets = bad_off;
  expect_rejected(&in, &s, SG_INVALID_ARGUMENT, "input.offsets[2]");
  in = good_input();
  in.n_xreg = SG_ARIMA_MAX_XREG + 1;
  expect_rejected(&in, &s, SG_INVALID_ARGUMENT, "input.n_xreg");
  in = good_input();
  in.n_xreg = 1;
  in.xreg = vals;
  expect_rejected(&in, &s, SG_INVALID_ARGUMENT, "input.xreg_future");
  in = good_input();
  in.n_series = (size_t)SG_ARIMA_MAX_SERIES + 1;
  expect_rejected(&in, &s, SG_INVALID_ARGUMENT, "input.n_series");
  in = good_input();
  size_t huge[2] = {0, (size_t)SG_ARIMA_MAX_LENGTH + 1};
  in.n_series = 1;
  in.offsets = huge;
  expect_rejected(&in, &s, SG_INVALID_ARGUMENT, "series[0]: length");
  sg_err e = {0};
  in = good_input();
  cr_expect_eq(sg_arima_batch_begin(x, &in, &s, NULL, &e), SG_INVALID_ARGUMENT);
  sg_arima_job *job;
  sg_err_clear(&e);
  cr_expect_eq(sg_arima_batch_begin(x, &in, NULL, &job, &e), SG_INVALID_ARGUMENT);
  cr_expect(strstr(e.msg, "spec"));
  sg_err_clear(&e);
  cr_expect_eq(sg_arima_batch_begin(NULL, &in, &s, &job, &e), SG_INVALID_ARGUMENT);
  cr_expect(strstr(e.msg, "exec"));
  cr_expect_eq(sg_arima_batch_step(NULL, 1, NULL, &e), SG_INVALID_ARGUMENT);
}

Test(arima_input, per_series_problems_are_statuses) {
  double v[] = {1, 2, 3, INFINITY, 5, 6, 7, 8, 9, 10, /* inf */
                5, 5, 5, 5,        5, 5,              /* constant */
                1, 2,                                 /* too short for anything */
                1, 3, 2, 4,        3, 5, 4, 6};       /* too short for a fixed (3,1,1) */
  size_t off[] = {0, 10, 16, 18, 26};
  sg_arima_input in = {.n_series = 4, .values = v, .offsets = off};
  sg_arima_spec s;
  sg_arima_spec_default(&s);
  s.search = SG_ARIMA_FIXED;
  s.p = 3, s.d = 1, s.q = 1;
  s.h = 3;
  sg_arima_results *r;
  sg_err e = {0};
  cr_assert_eq(sg_arima_batch_run(x, &in, &s, &r, &e), SG_OK, "%s", e.msg);
  cr_expect_eq(r->fits[0].status, SG_ARIMA_MISSING, "%s", r->fits[0].message);
  cr_expect(strstr(r->fits[0].message, "value 3"), "%s", r->fits[0].message);
  cr_expect_eq(r->fits[1].status, SG_ARIMA_CONSTANT);
  cr_expect_eq(r->mean[1 * 3 + 2], 5.0);
  cr_expect_eq(r->fits[2].status, SG_ARIMA_TOO_SHORT, "%s", r->fits[2].message);
  cr_expect_eq(r->fits[3].status, SG_ARIMA_TOO_SHORT, "%s", r->fits[3].message);
  cr_expect(strstr(r->fits[3].message, "too short"), "%s", r->fits[3].message);
  cr_expect(isnan(r->mean[0]) && isnan(r->lower[2 * 3 * 2]) && isnan(r->upper[3 * 3 * 2 + 1]));
  cr_expect_str_eq(sg_arima_status_name(SG_ARIMA_NOT_CONVERGED), "not_converged");
  sg_arima_results_free(r);
  /* missing regressor values are reported too */
  double y[12] = {1, 3, 2, 5, 4, 6, 5, 8, 7, 9, 8, 11},
         xr[12] = {0, 1, 0, 1, 0, NAN, 0, 1, 0, 1, 0, 1};
  double xf[3] = {0, 1, 0};
  size_t o1[2] = {0, 12};
  sg_arima_input in2 = {
      .n_series = 1, .values = y, .offsets = o1, .n_xreg = 1, .xreg = xr, .xreg_future = xf};
  sg_arima_spec_default(&s);
  s.h = 3;
  cr_assert_eq(sg_arima_batch_run(x, &in2, &s, &r, &e), SG_OK, "%s", e.msg);
  cr_expect_eq(r->fits[0].status, SG_ARIMA_MISSING);
  cr_expect(strstr(r->fits[0].message, "xreg"), "%s", r->fits[0].message);
  sg_arima_results_free(r);
}

Test(arima_input, nonfinite_future_xreg_is_missing) {
  /* the middle series has NaN at future step 1 (and Inf at 2): missing like a NaN in the past
   * regressors; the others around it are still fitted (the batch runs in ranges around it) */
  double y[36], xr[36];
  for (int t = 0; t < 36; t++) {
    y[t] = 10.0 + (double)(t % 12 % 5) + 2.0 * (t % 2) + 0.3 * (t % 12);
    xr[t] = (double)(t % 2);
  }
  double xf[9] = {0, 1, 0, 1, NAN, INFINITY, 0, 1, 0};
  size_t off[4] = {0, 12, 24, 36};
  sg_arima_input in = {
      .n_series = 3, .values = y, .offsets = off, .n_xreg = 1, .xreg = xr, .xreg_future = xf};
  sg_arima_spec s;
  sg_arima_spec_default(&s);
  s.h = 3;
  sg_arima_results *r;
  sg_err e = {0};
  cr_assert_eq(sg_arima_batch_run(x, &in, &s, &r, &e), SG_OK, "%s", e.msg);
  cr_expect_eq(r->fits[0].status, SG_ARIMA_OK, "%s", r->fits[0].message);
  cr_expect(isfinite(r->mean[2]) && isfinite(r->upper[5]));
  cr_expect_eq(r->fits[1].status, SG_ARIMA_MISSING, "%s", r->fits[1].message);
  cr_expect(strstr(r->fits[1].message, "xreg_future[1][0]"), "%s", r->fits[1].message);
  cr_expect_eq(r->fits[1].models_fitted, 0);
  cr_expect(isnan(r->mean[3 + 1]) && isnan(r->lower[1 * 6]) && isnan(r->upper[1 * 6 + 5]));
  cr_expect_eq(r->fits[2].status, SG_ARIMA_OK, "%s", r->fits[2].message);
  cr_expect(isfinite(r->mean[2 * 3 + 2]) && isfinite(r->lower[2 * 6 + 5]));
  sg_arima_results_free(r);
}
