/* CUDA vs CPU (label gpu). The ants run the same code on both backends (aco_tsp.h, aco_vrp.h,
 * device code built with -fmad=false) and the host bookkeeping is shared, so the stated
 * tolerance is zero: with an iteration limit the best cost after every iteration and the final
 * solution are identical. Distances are tabled on the host below SG_ACO_CACHE_MAX_N nodes; above
 * it GEO distances use the device's cos/acos, so parity there is checked on validity and cost. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "common/backend.h"

static sg_backend *cpu, *gpu;
static sg_exec *xc, *xg;

static void setup(void) {
  sg_err e = {0};
  sg_backend_config cc = {.kind = SG_BACKEND_CPU}, gc = {.kind = SG_BACKEND_CUDA};
  cpu = sg_backend_open(&cc, &e);
  gpu = sg_backend_open(&gc, &e);
  cr_assert_not_null(gpu, "%s", e.msg);
  xc = sg_exec_create(cpu, &e);
  xg = sg_exec_create(gpu, &e);
  cr_assert_not_null(xg, "%s", e.msg);
}

static void teardown(void) {
  sg_exec_destroy(xc);
  sg_exec_destroy(xg);
  sg_backend_close(cpu);
  sg_backend_close(gpu);
}

/* On the CUDA emulator (tests/cuda_emu) the GPU defaults' 4,096 ants per iteration run on the
 * host: about 2 minutes on 2 cores, more on a loaded machine. */
#ifdef SG_CUDA_EMU
#define PARITY_TIMEOUT 900
#else
#define PARITY_TIMEOUT 240
#endif
TestSuite(aco_parity, .init = setup, .fini = teardown, .timeout = PARITY_TIMEOUT);

typedef struct trace {
  double best[64];
  int steps, n_routes, len;
  int *nodes;
  double cost;
} trace;

static void run(sg_exec *x, const sg_aco_problem *p, const sg_aco_params *q, trace *t,
                const char *what) {
  sg_err e = {0};
  sg_aco_solver *s = sg_aco_begin(x, p, q, &e);
  cr_assert_not_null(s, "%s: %s", what, e.msg);
  sg_aco_progress pr = {0};
  t->steps = 0;
  while (!pr.done && t->steps < 64) {
    cr_assert_eq(sg_aco_step(s, 1, &pr, &e), SG_OK, "%s: %s", what, e.msg);
    t->best[t->steps++] = pr.best_cost;
  }
  sg_aco_solution sol;
  sg_aco_best(s, &sol);
  double cost;
  char why[256];
  cr_assert(sol.feasible, "%s", what);
  cr_assert(ref_check_solution(p, &sol, &cost, why, sizeof why), "%s: %s", what, why);
  double tol = p->metric == SG_ACO_EXACT_2D ? 1e-9 * cost : 0.0;
  cr_assert_float_eq(cost, sol.cost, tol, "%s: recomputed %.17g, reported %.17g", what, cost,
                     sol.cost);
  t->cost = sol.cost;
  t->n_routes = sol.n_routes;
  t->len = sol.route_start[sol.n_routes];
  t->nodes = malloc((size_t)t->len * sizeof(int));
  memcpy(t->nodes, sol.nodes, (size_t)t->len * sizeof(int));
  sg_aco_end(s);
}

Test(aco_parity, cuda_matches_cpu_iteration_by_iteration) {
  const struct {
    const char *file;
    int flags;
  } cases[] = {{"eil51.tsp", 0},
               {"gr96.tsp", 0},
               {"bays29.tsp", 0},
               {"att48.tsp", 0},
               {"E-n13-k4.vrp", 0},
               {"A-n32-k5.vrp", 0},
               {"CMT6.vrp", SG_ACO_READ_EXACT},
               {"X-n101-k25.vrp", 0}};
  for (size_t c = 0; c < SG_ARRAY_LEN(cases); c++) {
    sg_aco_instance *in = ref_load(cases[c].file, cases[c].flags);
    sg_aco_params q;
    sg_aco_params_default(&q);
    q.colonies = 3;
    q.ants = 24;
    q.max_iterations = 12;
    q.seed = 2024 + c;
    trace a, b;
    run(xc, &in->problem, &q, &a, cases[c].file);
    run(xg, &in->problem, &q, &b, cases[c].file);
    cr_assert_eq(a.steps, b.steps);
    for (int i = 0; i < a.steps; i++)
      cr_assert_eq(a.best[i], b.best[i], "%s: iteration %d: cpu %.17g cuda %.17g", cases[c].file,
                   i + 1, a.best[i], b.best[i]);
    cr_assert_eq(a.n_routes, b.n_routes, "%s", cases[c].file);
    cr_assert_eq(a.len, b.len, "%s", cases[c].file);
    cr_assert_arr_eq(a.nodes, b.nodes, (size_t)a.len * sizeof(int), "%s: solutions differ",
                     cases[c].file);
    free(a.nodes);
    free(b.nodes);
    sg_aco_instance_free(in);
  }
}

Test(aco_parity, cuda_defaults_reach_the_optimum) {
  sg_aco_instance *in = ref_load("kroA100.tsp", 0);
  sg_aco_params q;
  sg_aco_params_default(&q);
  q.max_iterations = 60;
  q.seed = 99;
  trace t;
  run(xg, &in->problem, &q, &t, "kroA100 on cuda");
  cr_assert_eq(t.cost, 21282, "kroA100 on cuda: %g", t.cost);
  free(t.nodes);
  sg_aco_instance_free(in);
  in = ref_load("A-n32-k5.vrp", 0);
  run(xg, &in->problem, &q, &t, "A-n32-k5 on cuda");
  cr_assert_eq(t.cost, 784, "A-n32-k5 on cuda: %g", t.cost);
  free(t.nodes);
  sg_aco_instance_free(in);
}

Test(aco_parity, large_uncached_instances_are_valid_and_close) {
  int n = 5000;
  double *xs = malloc(n * sizeof *xs), *ys = malloc(n * sizeof *ys);
  uint64_t seed = 5000; /* fixed, so that a failure repeats */
  srand((unsigned)seed);
  for (int i = 0; i < n; i++) {
    xs[i] = rand() % 100000;
    ys[i] = rand() % 100000;
  }
  sg_aco_problem p = {.n = n, .metric = SG_ACO_EUC_2D, .x = xs, .y = ys};
  sg_aco_params q;
  sg_aco_params_default(&q);
  q.colonies = 4;
  q.ants = 32;
  q.max_iterations = 5;
  q.seed = seed;
  trace a, b;
  run(xc, &p, &q, &a, "5000 stops on cpu");
  run(xg, &p, &q, &b, "5000 stops on cuda");
  cr_assert_eq(a.cost, b.cost, "EUC_2D from coordinates is exact on both: %g vs %g", a.cost,
               b.cost);
  free(a.nodes);
  free(b.nodes);
  free(xs);
  free(ys);
}
