/* The CVRP solver on the CPU backend: known optima of small CVRPLIB instances, the route
 * length limit with service times (CMT6, unrounded distances), a vehicle limit, every solution
 * checked by the independent checker (each customer once, capacity, route length, fleet, cost
 * recomputed), and determinism for a seed. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "common/backend.h"

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

TestSuite(aco_vrp, .init = setup, .fini = teardown);

static sg_aco_params params(uint64_t seed, int64_t iterations) {
  sg_aco_params q;
  sg_aco_params_default(&q);
  q.colonies = 2;
  q.ants = 16;
  q.max_iterations = iterations;
  q.seed = seed;
  return q;
}

/* solves, checks with the reference, returns the cost; *routes gets the route count */
static double solve(const sg_aco_problem *p, const sg_aco_params *q, const char *what,
                    int *routes) {
  sg_err e = {0};
  sg_aco_solver *s = sg_aco_begin(x, p, q, &e);
  cr_assert_not_null(s, "%s: %s", what, e.msg);
  sg_aco_progress pr;
  cr_assert_eq(sg_aco_run(s, &pr, &e), SG_OK, "%s: %s", what, e.msg);
  sg_aco_solution sol;
  sg_aco_best(s, &sol);
  cr_assert(sol.feasible, "%s: no feasible solution", what);
  double cost;
  char why[256];
  cr_assert(ref_check_solution(p, &sol, &cost, why, sizeof why), "%s: %s", what, why);
  double tol = p->metric == SG_ACO_EXACT_2D ? 1e-9 * cost : 0.0;
  cr_assert_float_eq(cost, sol.cost, tol, "%s: recomputed %.17g, reported %.17g", what, cost,
                     sol.cost);
  cr_assert_eq(pr.best_cost, sol.cost);
  if (routes) *routes = sol.n_routes;
  sg_aco_end(s);
  return cost;
}

Test(aco_vrp, reaches_the_known_optima_of_small_instances) {
  const struct {
    const char *file;
    double optimum;
  } cases[] = {{"E-n13-k4.vrp", 247}, {"P-n16-k8.vrp", 450}, {"A-n32-k5.vrp", 784}};
  for (size_t c = 0; c < SG_ARRAY_LEN(cases); c++) {
    sg_aco_instance *in = ref_load(cases[c].file, 0);
    sg_aco_params q = params(1, 20);
    double cost = solve(&in->problem, &q, cases[c].file, NULL);
    cr_assert_eq(cost, cases[c].optimum, "%s: %g", cases[c].file, cost);
    sg_aco_instance_free(in);
  }
}

Test(aco_vrp, holds_route_length_with_service_times) {
  sg_aco_instance *in = ref_load("CMT6.vrp", SG_ACO_READ_EXACT);
  sg_aco_params q = params(2, 4);
  q.ants = 8;
  double cost = solve(&in->problem, &q, "CMT6", NULL);
  cr_assert_lt(cost, 555.43 * 1.03, "CMT6: %g more than 3%% above the best known 555.43", cost);
  /* a tighter limit than any route of the best known solution still gives valid plans */
  sg_aco_problem p = in->problem;
  p.max_route_length = 170;
  q.max_iterations = 2;
  solve(&p, &q, "CMT6 with max_route_length 170", NULL);
  sg_aco_instance_free(in);
}

Test(aco_vrp, respects_a_vehicle_limit) {
  sg_aco_instance *in = ref_load("A-n32-k5.vrp", 0);
  sg_aco_problem p = in->problem;
  p.max_vehicles = 5; /* total demand 410 of 5 x 100 */
  sg_aco_params q = params(3, 20);
  int routes;
  double cost = solve(&p, &q, "A-n32-k5 with 5 vehicles", &routes);
  cr_assert_leq(routes, 5);
  cr_assert_eq(cost, 784);
  sg_aco_instance_free(in);
  in = ref_load("P-n16-k8.vrp", 0);
  p = in->problem;
  p.max_vehicles = 8; /* 246 of 8 x 35: tight */
  cost = solve(&p, &q, "P-n16-k8 with 8 vehicles", &routes);
  cr_assert_leq(routes, 8);
  cr_assert_eq(cost, 450);
  sg_aco_instance_free(in);
}

Test(aco_vrp, is_deterministic_for_a_seed_and_valid_on_x_instances) {
  sg_aco_instance *in = ref_load("X-n101-k25.vrp", 0);
  sg_aco_params q = params(42, 3);
  q.ants = 4;
  double a = solve(&in->problem, &q, "X-n101-k25 run 1", NULL);
  double b = solve(&in->problem, &q, "X-n101-k25 run 2", NULL);
  cr_assert_eq(a, b);
  cr_assert_lt(a, 27591 * 1.10, "X-n101-k25: %g", a);
  /* without local search the plan is still valid */
  q.local_search = 0;
  q.max_iterations = 2;
  solve(&in->problem, &q, "X-n101-k25 without local search", NULL);
  sg_aco_instance_free(in);
}

Test(aco_vrp, explicit_matrix_with_external_ids) {
  sg_aco_instance *in = ref_load("E-n13-k4.vrp", 0);
  sg_aco_problem p = in->problem;
  int64_t ids[13];
  for (int i = 0; i < 13; i++)
    ids[i] = 100 + i;
  p.ids = ids;
  sg_aco_params q = params(5, 10);
  q.new_edges = -1;
  cr_assert_eq(solve(&p, &q, "E-n13-k4 with ids", NULL), 247);
  sg_aco_instance_free(in);
}

Test(aco_vrp, solves_tiny_instances) {
  /* depot at 0, customers on a line; capacity forces one customer per route for n = 3 */
  double xs[6] = {0, 2, 5, 1, 3, 4}, ys[6] = {0};
  int dem[6] = {0, 3, 3, 1, 1, 1};
  for (int n = 3; n <= 6; n++) {
    sg_aco_problem p = {.n = n, .metric = SG_ACO_EUC_2D, .x = xs, .y = ys};
    p.demand = dem;
    p.capacity = 4;
    sg_aco_params q = params(1, 5);
    char what[32];
    snprintf(what, sizeof what, "%d nodes", n);
    solve(&p, &q, what, NULL);
  }
  sg_aco_problem p = {.n = 3, .metric = SG_ACO_EUC_2D, .x = xs, .y = ys};
  p.demand = dem;
  p.capacity = 4;
  sg_aco_params q = params(1, 5);
  cr_assert_eq(solve(&p, &q, "two customers, two routes", NULL), 2 * 2 + 2 * 5);
  p.capacity = 6;
  cr_assert_eq(solve(&p, &q, "two customers, one route", NULL), 10);
}

Test(aco_vrp, large_random_instances_are_valid) {
  /* above SG_ACO_CACHE_MAX_N: distances from coordinates, far-apart points (a unit of excess
   * load is cheap next to a leg, so the penalties must scale with the instance) */
  int n = 3001;
  double *xs = malloc(n * sizeof *xs), *ys = malloc(n * sizeof *ys);
  int *d = malloc(n * sizeof *d);
  uint64_t seed = 3001; /* fixed, so that a failure repeats */
  srand((unsigned)seed);
  for (int i = 0; i < n; i++) {
    xs[i] = rand() % 100000;
    ys[i] = rand() % 100000;
    d[i] = i ? 1 + rand() % 20 : 0;
  }
  sg_aco_problem p = {.n = n, .metric = SG_ACO_EUC_2D, .x = xs, .y = ys};
  p.demand = d;
  p.capacity = 100;
  sg_aco_params q = params(seed, 1);
  q.colonies = 1;
  q.ants = 2;
  int routes;
  solve(&p, &q, "3000 random customers", &routes);
  long long total = 0;
  for (int i = 1; i < n; i++) total += d[i];
  cr_assert_geq(routes, (total + 99) / 100);
  free(xs);
  free(ys);
  free(d);
}
