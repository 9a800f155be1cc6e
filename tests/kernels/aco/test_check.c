/* Problem and parameter validation: every bad input is SG_INVALID_ARGUMENT with a message that
 * names the field (and index), before any backend work. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "check.h"

static double xs[5] = {0, 1, 2, 3, 4}, ys[5] = {0, 1, 0, 1, 0};
static int dem[5] = {0, 3, 4, 2, 1};

static sg_aco_problem vrp5(void) {
  sg_aco_problem p = {.n = 5, .metric = SG_ACO_EUC_2D, .x = xs, .y = ys};
  p.demand = dem;
  p.capacity = 5;
  return p;
}

static void expect_bad(const sg_aco_problem *p, const char *frag) {
  sg_err e = {0};
  cr_assert_eq(sg_aco_problem_check(p, &e), SG_INVALID_ARGUMENT, "accepted (wanted \"%s\")", frag);
  cr_assert(strstr(e.msg, frag), "message \"%s\" lacks \"%s\"", e.msg, frag);
}

Test(aco_check, accepts_valid_problems) {
  sg_aco_problem p = vrp5();
  sg_err e = {0};
  cr_assert_eq(sg_aco_problem_check(&p, &e), SG_OK, "%s", e.msg);
  sg_aco_problem t = {.n = 5, .metric = SG_ACO_GEO, .x = xs, .y = ys};
  cr_assert_eq(sg_aco_problem_check(&t, &e), SG_OK, "%s", e.msg);
}

Test(aco_check, rejects_bad_sizes_metrics_and_coordinates) {
  expect_bad(NULL, "problem is NULL");
  sg_aco_problem p = {.n = 2, .metric = SG_ACO_EUC_2D, .x = xs, .y = ys};
  expect_bad(&p, "n: 2 < 3");
  p.n = 5;
  p.metric = (sg_aco_metric)42;
  expect_bad(&p, "metric: 42");
  p.metric = SG_ACO_EUC_2D;
  p.y = NULL;
  expect_bad(&p, "y: NULL");
  double bad[5] = {0, 1, NAN, 3, 4};
  p.y = ys;
  p.x = bad;
  expect_bad(&p, "x[2]: nan");
  bad[2] = INFINITY;
  expect_bad(&p, "x[2]: inf");
  p.x = xs;
  p.y = bad;
  bad[2] = 2e9;
  expect_bad(&p, "y[2]");
}

Test(aco_check, rejects_inconsistent_matrices) {
  double m[9] = {0, 1, 2, 1, 0, 3, 2, 3, 0};
  sg_aco_problem p = {.n = 3, .metric = SG_ACO_EXPLICIT, .matrix = m};
  sg_err e = {0};
  cr_assert_eq(sg_aco_problem_check(&p, &e), SG_OK, "%s", e.msg);
  m[5] = 4; /* [1][2] */
  expect_bad(&p, "matrix[1][2] = 4 != matrix[2][1] = 3");
  m[5] = 3;
  m[4] = 1;
  expect_bad(&p, "matrix[1][1]: diagonal 1");
  m[4] = 0;
  m[1] = m[3] = -1;
  expect_bad(&p, "matrix[0][1]: -1");
  m[1] = m[3] = NAN;
  expect_bad(&p, "matrix[0][1]: nan");
  p.matrix = NULL;
  expect_bad(&p, "matrix: NULL");
}

Test(aco_check, rejects_duplicate_ids) {
  int64_t ids[5] = {10, 20, 30, 20, 50};
  sg_aco_problem p = vrp5();
  p.ids = ids;
  expect_bad(&p, "ids[3]: 20 duplicates ids[1]");
  ids[3] = 40;
  sg_err e = {0};
  cr_assert_eq(sg_aco_problem_check(&p, &e), SG_OK, "%s", e.msg);
}

Test(aco_check, rejects_bad_vehicle_fields) {
  sg_aco_problem p = vrp5();
  int d[5] = {0, 3, 6, 2, 1};
  p.demand = d;
  expect_bad(&p, "demand[2]: 6 > capacity 5");
  d[2] = -1;
  expect_bad(&p, "demand[2]: -1 < 0");
  d[2] = 4;
  d[0] = 1;
  expect_bad(&p, "demand[0]");
  d[0] = 0;
  p.capacity = 0;
  expect_bad(&p, "capacity: 0");
  p.capacity = 5;
  double svc[5] = {0, 1, -2, 1, 1};
  p.service_time = svc;
  expect_bad(&p, "service_time[2]");
  svc[2] = 1;
  p.max_vehicles = 2; /* total demand 10 = 2 x 5: fits */
  sg_err e = {0};
  cr_assert_eq(sg_aco_problem_check(&p, &e), SG_OK, "%s", e.msg);
  p.max_vehicles = 1;
  expect_bad(&p, "max_vehicles: 1 x capacity 5 < total demand 10");
  p.max_vehicles = -1;
  expect_bad(&p, "max_vehicles: -1");
  p.max_vehicles = 0;
  p.max_route_length = 8.5; /* node 4 at (4, 0): round trip 8 + service 1 = 9 */
  expect_bad(&p, "round trip to node 4");
  p.max_route_length = NAN;
  expect_bad(&p, "max_route_length");
  sg_aco_problem t = {.n = 5, .metric = SG_ACO_EUC_2D, .x = xs, .y = ys, .capacity = 5};
  expect_bad(&t, "demand is empty");
}

Test(aco_check, begin_rejects_bad_params_naming_them) {
  sg_err e = {0};
  sg_backend_config cfg = {.kind = SG_BACKEND_CPU};
  sg_backend *be = sg_backend_open(&cfg, &e);
  sg_exec *x = sg_exec_create(be, &e);
  sg_aco_problem p = vrp5();
  sg_aco_params q;
  const char *frags[] = {"params.rho",         "params.alpha",        "params.beta",
                         "params.ants",        "params.colonies",     "params.candidates",
                         "params.new_edges",   "params.time_limit_s", "params.max_iterations",
                         "params.local_search"};
  for (size_t i = 0; i < SG_ARRAY_LEN(frags); i++) {
    sg_aco_params_default(&q);
    switch (i) {
    case 0: q.rho = 1.0; break;
    case 1: q.alpha = -1; break;
    case 2: q.beta = NAN; break;
    case 3: q.ants = -3; break;
    case 4: q.colonies = 5000; break;
    case 5: q.candidates = 65; break;
    case 6: q.new_edges = -2; break;
    case 7: q.time_limit_s = -1; break;
    case 8: q.max_iterations = -1; break;
    case 9: q.local_search = 2; break;
    }
    sg_err_clear(&e);
    cr_assert_null(sg_aco_begin(x, &p, &q, &e), "%s accepted", frags[i]);
    cr_assert_eq(e.code, SG_INVALID_ARGUMENT);
    cr_assert(strstr(e.msg, frags[i]), "message \"%s\" lacks \"%s\"", e.msg, frags[i]);
  }
  sg_aco_params_default(&q);
  sg_err_clear(&e);
  cr_assert_null(sg_aco_begin(x, &p, NULL, &e));
  cr_assert(strstr(e.msg, "params is NULL"), "%s", e.msg);
  sg_err_clear(&e);
  cr_assert_null(sg_aco_begin(NULL, &p, &q, &e));
  cr_assert(strstr(e.msg, "exec"), "%s", e.msg);
  sg_exec_destroy(x);
  sg_backend_close(be);
}
