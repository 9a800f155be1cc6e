/* The TSP solver on the CPU backend: known optima of small TSPLIB instances, every solution
 * valid with its cost recomputed by the independent checker, determinism for a seed (also
 * across thread counts and step sizes), limits, the anytime trace, and 10,000 stops in far less
 * than n² memory. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "check.h"
#include "common/backend.h"

static sg_exec *open_cpu(int threads, sg_backend **be) {
  sg_err e = {0};
  sg_backend_config cfg = {.kind = SG_BACKEND_CPU, .cpu_threads = threads};
  *be = sg_backend_open(&cfg, &e);
  cr_assert_not_null(*be, "%s", e.msg);
  sg_exec *x = sg_exec_create(*be, &e);
  cr_assert_not_null(x, "%s", e.msg);
  return x;
}

static void close_cpu(sg_exec *x, sg_backend *be) {
  sg_exec_destroy(x);
  sg_backend_close(be);
}

static sg_aco_params small_params(uint64_t seed, int64_t iterations) {
  sg_aco_params q;
  sg_aco_params_default(&q);
  q.colonies = 2;
  q.ants = 16;
  q.max_iterations = iterations;
  q.seed = seed;
  return q;
}

/* runs to the limit, or until the cost reaches target; checks the best solution with the
 * reference and returns its cost */
static double solve_to(sg_exec *x, const sg_aco_problem *p, const sg_aco_params *q,
                       const char *what, double target) {
  sg_err e = {0};
  sg_aco_solver *s = sg_aco_begin(x, p, q, &e);
  cr_assert_not_null(s, "%s: %s", what, e.msg);
  sg_aco_progress pr = {.best_cost = INFINITY};
  while (!pr.done && !(pr.best_cost <= target))
    cr_assert_eq(sg_aco_step(s, 5, &pr, &e), SG_OK, "%s: %s", what, e.msg);
  sg_aco_solution sol;
  sg_aco_best(s, &sol);
  double cost;
  char why[256];
  cr_assert(sol.feasible, "%s", what);
  cr_assert(ref_check_solution(p, &sol, &cost, why, sizeof why), "%s: %s", what, why);
  cr_assert_eq(cost, sol.cost, "%s: recomputed %.17g, reported %.17g", what, cost, sol.cost);
  cr_assert_eq(pr.best_cost, sol.cost, "%s", what);
  if (!p->demand) cr_assert_eq(sol.nodes[0], 0, "%s: tours start at node 0", what);
  sg_aco_end(s);
  return cost;
}

static double solve_checked(sg_exec *x, const sg_aco_problem *p, const sg_aco_params *q,
                            const char *what) {
  return solve_to(x, p, q, what, -INFINITY);
}

Test(aco_tsp, reaches_the_known_optima_of_small_instances) {
  const struct {
    const char *file;
    double optimum;
  } cases[] = {{"burma14.tsp", 3323}, {"gr17.tsp", 2085},     {"gr24.tsp", 1272},
               {"fri26.tsp", 937},    {"bays29.tsp", 2020},   {"att48.tsp", 10628},
               {"eil51.tsp", 426},    {"berlin52.tsp", 7542}, {"st70.tsp", 675},
               {"gr96.tsp", 55209},   {"kroA100.tsp", 21282}};
  sg_backend *be;
  sg_exec *x = open_cpu(0, &be);
  for (size_t c = 0; c < SG_ARRAY_LEN(cases); c++) {
    sg_aco_instance *in = ref_load(cases[c].file, 0);
    sg_aco_params q = small_params(7, 200); /* stops early at the optimum */
    double cost = solve_to(x, &in->problem, &q, cases[c].file, cases[c].optimum);
    cr_assert_eq(cost, cases[c].optimum, "%s: %g, optimum %g", cases[c].file, cost,
                 cases[c].optimum);
    sg_aco_instance_free(in);
  }
  close_cpu(x, be);
}

/* best cost after each step and the final tour, for comparing runs */
typedef struct run {
  double costs[64];
  int tour[128];
  int steps;
} run;

static void record(sg_exec *x, const sg_aco_problem *p, const sg_aco_params *q, int step, run *r) {
  sg_err e = {0};
  sg_aco_solver *s = sg_aco_begin(x, p, q, &e);
  cr_assert_not_null(s, "%s", e.msg);
  sg_aco_progress pr = {0};
  r->steps = 0;
  while (!pr.done && r->steps < 64) {
    cr_assert_eq(sg_aco_step(s, step, &pr, &e), SG_OK, "%s", e.msg);
    r->costs[r->steps++] = pr.best_cost;
  }
  sg_aco_solution sol;
  sg_aco_best(s, &sol);
  memcpy(r->tour, sol.nodes, (size_t)p->n * sizeof(int));
  sg_aco_end(s);
}

Test(aco_tsp, is_deterministic_for_a_seed_across_threads_and_steps) {
  sg_aco_instance *in = ref_load("kroA100.tsp", 0);
  sg_aco_params q = small_params(11, 40);
  q.local_search = 1;
  q.ants = 3; /* few ants: the best differs between seeds and the runs are short */
  sg_backend *b1, *b2;
  sg_exec *x1 = open_cpu(1, &b1), *x2 = open_cpu(2, &b2);
  run a, b, c;
  record(x1, &in->problem, &q, 10, &a);
  record(x2, &in->problem, &q, 10, &b);
  cr_assert_eq(a.steps, 4);
  cr_assert_eq(b.steps, 4);
  cr_assert_arr_eq(a.costs, b.costs, sizeof(double) * 4, "1 thread vs 2 threads");
  cr_assert_arr_eq(a.tour, b.tour, sizeof(int) * 100);
  /* steps of 1 give the same 40 iterations */
  record(x2, &in->problem, &q, 1, &c);
  cr_assert_eq(c.steps, 40);
  for (int i = 0; i < 4; i++)
    cr_assert_eq(c.costs[10 * i + 9], a.costs[i], "after %d", 10 * i + 10);
  cr_assert_arr_eq(a.tour, c.tour, sizeof(int) * 100);
  close_cpu(x1, b1);
  close_cpu(x2, b2);
  sg_aco_instance_free(in);
}

Test(aco_tsp, progress_is_monotone_and_the_trace_ends_at_the_best) {
  sg_aco_instance *in = ref_load("st70.tsp", 0);
  sg_backend *be;
  sg_exec *x = open_cpu(0, &be);
  sg_aco_params q = small_params(3, 60);
  q.new_edges = -1; /* classic full construction also works */
  sg_err e = {0};
  sg_aco_solver *s = sg_aco_begin(x, &in->problem, &q, &e);
  cr_assert_not_null(s, "%s", e.msg);
  sg_aco_progress pr = {0};
  double last = INFINITY;
  int64_t iters = 0;
  while (!pr.done) {
    cr_assert_eq(sg_aco_step(s, 7, &pr, &e), SG_OK, "%s", e.msg);
    cr_assert_leq(pr.best_cost, last);
    cr_assert_geq(pr.iterations, iters);
    last = pr.best_cost;
    iters = pr.iterations;
  }
  cr_assert_eq(pr.iterations, 60);
  sg_aco_solution sol;
  sg_aco_best(s, &sol);
  cr_assert_gt(sol.trace_len, 0);
  for (int i = 1; i < sol.trace_len; i++) {
    cr_assert_lt(sol.trace_cost[i], sol.trace_cost[i - 1]);
    cr_assert_geq(sol.trace_t[i], sol.trace_t[i - 1]);
  }
  cr_assert_eq(sol.trace_cost[sol.trace_len - 1], sol.cost);
  cr_assert_leq(sol.trace_t[sol.trace_len - 1], sol.elapsed_s);
  /* a finished solver does nothing more */
  cr_assert_eq(sg_aco_step(s, 5, &pr, &e), SG_OK);
  cr_assert_eq(pr.iterations, 60);
  cr_assert_eq(sg_aco_step(s, 0, &pr, &e), SG_INVALID_ARGUMENT);
  sg_aco_end(s);
  close_cpu(x, be);
  sg_aco_instance_free(in);
}

Test(aco_tsp, stops_at_the_time_limit) {
  sg_aco_instance *in = ref_load("kroA100.tsp", 0);
  sg_backend *be;
  sg_exec *x = open_cpu(0, &be);
  sg_aco_params q = small_params(5, 0);
  q.time_limit_s = 0.3;
  sg_err e = {0};
  sg_aco_solver *s = sg_aco_begin(x, &in->problem, &q, &e);
  cr_assert_not_null(s, "%s", e.msg);
  sg_aco_progress pr;
  cr_assert_eq(sg_aco_run(s, &pr, &e), SG_OK, "%s", e.msg);
  cr_assert(pr.done);
  /* it stops before an iteration that would end past the limit: most of the 0.3 s is used (an
   * iteration of kroA100 takes milliseconds), and the end is not far past it */
  cr_assert_geq(pr.elapsed_s, 0.15, "elapsed %g", pr.elapsed_s);
  cr_assert_lt(pr.elapsed_s, 3.0, "elapsed %g", pr.elapsed_s);
  cr_assert_gt(pr.iterations, 0);
  sg_aco_end(s);
  /* no limit at all: run refuses, step works */
  q.time_limit_s = 0;
  s = sg_aco_begin(x, &in->problem, &q, &e);
  cr_assert_eq(sg_aco_run(s, &pr, &e), SG_INVALID_ARGUMENT);
  sg_err_clear(&e);
  cr_assert_eq(sg_aco_step(s, 2, &pr, &e), SG_OK, "%s", e.msg);
  cr_assert_eq(pr.iterations, 2);
  cr_assert_not(pr.done);
  sg_aco_end(s);
  close_cpu(x, be);
  sg_aco_instance_free(in);
}

/* The limit is wall time since begin: a caller that sleeps between steps (a scheduler serving
 * other calls) gets its answer by the limit, not after the limit's worth of steps. */
Test(aco_tsp, the_time_limit_counts_the_time_between_steps) {
  sg_aco_instance *in = ref_load("kroA100.tsp", 0);
  sg_backend *be;
  sg_exec *x = open_cpu(0, &be);
  sg_aco_params q = small_params(5, 0);
  q.time_limit_s = 0.5;
  sg_err e = {0};
  struct timespec t0, t1, gap = {0, 100 * 1000000L};
  clock_gettime(CLOCK_MONOTONIC, &t0);
  sg_aco_solver *s = sg_aco_begin(x, &in->problem, &q, &e);
  cr_assert_not_null(s, "%s", e.msg);
  sg_aco_progress pr = {0};
  int steps = 0;
  while (!pr.done && steps < 100) {
    cr_assert_eq(sg_aco_step(s, 1, &pr, &e), SG_OK, "%s", e.msg);
    steps++;
    nanosleep(&gap, NULL); /* 100 ms of other work per one-iteration step */
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double wall = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
  cr_assert(pr.done, "not done after %d steps", steps);
  /* counting only the time inside the steps (milliseconds each), it would run ~100 steps */
  cr_expect_leq(steps, 7, "%d steps of ~100 ms for a 0.5 s limit", steps);
  cr_expect_lt(wall, 1.5, "%.3f s wall for a 0.5 s limit", wall);
  cr_expect_geq(pr.elapsed_s, 0.4, "elapsed %g counts the sleeps", pr.elapsed_s);
  sg_aco_end(s);
  close_cpu(x, be);
  sg_aco_instance_free(in);
}

Test(aco_tsp, without_local_search_and_with_external_ids) {
  sg_aco_instance *in = ref_load("eil51.tsp", 0);
  sg_backend *be;
  sg_exec *x = open_cpu(0, &be);
  sg_aco_params q = small_params(9, 30);
  q.local_search = 0;
  q.candidates = 5;
  double cost = solve_checked(x, &in->problem, &q, "eil51 without local search");
  cr_assert_geq(cost, 426);
  int64_t ids[51];
  for (int i = 0; i < 51; i++)
    ids[i] = 1000 - 7 * i;
  sg_aco_problem p = in->problem;
  p.ids = ids;
  q.local_search = 1;
  cr_assert_eq(solve_checked(x, &p, &q, "eil51 with ids"), 426);
  close_cpu(x, be);
  sg_aco_instance_free(in);
}

/* Peak resident memory of this process so far, in bytes (Linux reports ru_maxrss in KiB). */
static double peak_rss_bytes(void) {
  struct rusage u;
  cr_assert_eq(getrusage(RUSAGE_SELF, &u), 0);
  return (double)u.ru_maxrss * 1024.0;
}

/* A fixed seed, so that a failure repeats. The peak growth is measured around the solver alone:
 * n² doubles would be 800 MB, the O(n·k) state is a few MB, so 200 MB catches any n² table. */
Test(aco_tsp, ten_thousand_stops_fit) {
  int n = 10000;
  uint64_t seed = 10000;
  double *xs = malloc(n * sizeof *xs), *ys = malloc(n * sizeof *ys);
  srand((unsigned)seed);
  for (int i = 0; i < n; i++) {
    xs[i] = rand() % 100000;
    ys[i] = rand() % 100000;
  }
  sg_aco_problem p = {.n = n, .metric = SG_ACO_EUC_2D, .x = xs, .y = ys};
  sg_backend *be;
  sg_exec *x = open_cpu(0, &be);
  sg_aco_params q = small_params(seed, 1);
  q.colonies = 1;
  q.ants = 2;
  double before = peak_rss_bytes();
  double cost = solve_checked(x, &p, &q, "10000 random stops");
  double grew = peak_rss_bytes() - before;
  cr_assert_gt(cost, 0);
  cr_assert(grew < 200e6, "peak RSS grew by %.0f MB for n = %d (n² doubles: %.0f MB)", grew / 1e6,
            n, 8.0 * n * n / 1e6);
  close_cpu(x, be);
  free(xs);
  free(ys);
}

Test(aco_tsp, solves_tiny_and_degenerate_instances) {
  sg_backend *be;
  sg_exec *x = open_cpu(0, &be);
  /* n = 3..6 on a line; the optimum of points on a line is twice its span */
  double xs[8] = {0, 7, 3, 9, 1, 4, 4, 4}, ys[8] = {0};
  for (int n = 3; n <= 6; n++) {
    sg_aco_problem p = {.n = n, .metric = SG_ACO_EUC_2D, .x = xs, .y = ys};
    sg_aco_params q = small_params(1, 10);
    double lo = 0, hi = 0;
    for (int i = 0; i < n; i++) {
      lo = xs[i] < lo ? xs[i] : lo;
      hi = xs[i] > hi ? xs[i] : hi;
    }
    char what[32];
    snprintf(what, sizeof what, "line of %d", n);
    cr_assert_eq(solve_checked(x, &p, &q, what), 2 * (hi - lo), "%s", what);
  }
  /* every point at the same place: cost 0 */
  double zero[8] = {0};
  sg_aco_problem p = {.n = 8, .metric = SG_ACO_EUC_2D, .x = zero, .y = zero};
  sg_aco_params q = small_params(1, 5);
  cr_assert_eq(solve_checked(x, &p, &q, "coincident points"), 0);
  /* duplicates among distinct points (xs has 4 three times) */
  sg_aco_problem d = {.n = 8, .metric = SG_ACO_CEIL_2D, .x = xs, .y = ys};
  cr_assert_eq(solve_checked(x, &d, &q, "duplicates"), 18);
  close_cpu(x, be);
}
