/* shopgpu-aco-bench: solves TSPLIB / CVRPLIB instances with kernels/aco under a time (or
 * iteration) limit and prints, after the machine, a markdown table: cost, gap to the known
 * optimum or best known solution (from TSPLIB optima.csv or CVRPLIB bks.csv), time to the best,
 * time to within 1% and 3%, iterations. --csv prints one machine-readable line per instance
 * instead (bench/aco/compare.py reads it).
 *
 *   shopgpu-aco-bench [--backend cpu|cuda|auto] [--time S] [--iterations N] [--seed S]
 *                     [--ants A] [--colonies C] [--candidates K] [--threads T]
 *                     [--ref optima.csv|bks.csv] [--exact] [--csv] FILE...
 *   shopgpu-aco-bench --machine   (prints the machine and exits) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aco/aco.h"
#include "machine.h"

typedef struct opts {
  sg_backend_kind backend;
  sg_aco_params prm;
  int threads, csv, exact;
  const char *ref;
} opts;

static void usage(void) {
  fprintf(stderr, "usage: shopgpu-aco-bench [--backend cpu|cuda|auto] [--time S] [--iterations N] "
                  "[--seed S] [--ants A] [--colonies C] [--candidates K] [--threads T] "
                  "[--ref CSV] [--exact] [--csv] FILE...\n");
  exit(2);
}

/* the reference cost of `name` in a TSPLIB optima.csv or CVRPLIB bks.csv; NAN when absent */
static double reference(const char *csv, const char *name) {
  if (!csv) return NAN;
  FILE *f = fopen(csv, "r");
  if (!f) return NAN;
  char line[4096];
  int col = -1;
  double found = NAN;
  if (fgets(line, sizeof line, f)) {
    int i = 0;
    for (char *tok = strtok(line, ",\r\n"); tok; tok = strtok(NULL, ",\r\n"), i++)
      if (!strcmp(tok, "optimal_length") || !strcmp(tok, "bks_cost")) col = i;
  }
  while (col >= 0 && isnan(found) && fgets(line, sizeof line, f)) {
    size_t len = strlen(name);
    if (strncmp(line, name, len) != 0 || line[len] != ',') continue;
    char *p = line;
    for (int i = 0; i < col && p; i++) {
      p = strchr(p, ',');
      if (p) p++;
    }
    if (p) found = strtod(p, NULL);
  }
  fclose(f);
  return found;
}

/* first trace time at which the best was within `ratio` of ref; NAN if never */
static double time_to(const sg_aco_solution *s, double ref, double ratio) {
  for (int i = 0; i < s->trace_len; i++)
    if (s->trace_cost[i] <= ref * ratio + 1e-9) return s->trace_t[i];
  return NAN;
}

static int solve_one(sg_exec *x, const opts *o, const char *path, double *gap_out) {
  sg_err e = {0};
  sg_aco_instance *in = sg_aco_instance_read(path, o->exact ? SG_ACO_READ_EXACT : 0, &e);
  if (!in) {
    fprintf(stderr, "%s\n", e.msg);
    return 1;
  }
  sg_aco_solver *s = sg_aco_begin(x, &in->problem, &o->prm, &e);
  sg_aco_progress pr;
  if (!s || sg_aco_run(s, &pr, &e) != SG_OK) {
    fprintf(stderr, "%s: %s\n", in->name, e.msg);
    sg_aco_end(s);
    sg_aco_instance_free(in);
    return 1;
  }
  sg_aco_solution sol;
  sg_aco_best(s, &sol);
  double ref = reference(o->ref, in->name);
  double gap = 100.0 * (sol.cost - ref) / ref;
  double t_best = sol.trace_len ? sol.trace_t[sol.trace_len - 1] : NAN;
  double t1 = time_to(&sol, ref, 1.01), t3 = time_to(&sol, ref, 1.03);
  if (o->csv) {
    printf("RESULT,%s,%d,%.17g,%.17g,%.4f,%.4f,%.4f,%.4f,%.4f,%lld,%d,%d\n", in->name,
           in->problem.n, ref, sol.cost, gap, t_best, t1, t3, sol.elapsed_s,
           (long long)sol.iterations, sol.n_routes, sol.feasible);
  } else {
    printf("| %s | %d | %.10g | %.10g | %.3f | %.2f | %.2f | %.2f | %lld | %d |\n", in->name,
           in->problem.n, ref, sol.cost, gap, t_best, t1, t3, (long long)sol.iterations,
           sol.n_routes);
  }
  fflush(stdout);
  *gap_out = gap;
  sg_aco_end(s);
  sg_aco_instance_free(in);
  return sol.feasible ? 0 : 1;
}

static int parse_args(int argc, char **argv, opts *o, int *first) {
  sg_aco_params_default(&o->prm);
  o->prm.time_limit_s = 10;
  o->prm.seed = 1;
  o->backend = SG_BACKEND_CPU;
  int i = 1;
  for (; i < argc && argv[i][0] == '-'; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    sg_err e = {0};
    if (!strcmp(a, "--machine")) {
      sg_bench_print_machine(stdout);
      exit(0);
    }
    if (!strcmp(a, "--csv"))
      o->csv = 1;
    else if (!strcmp(a, "--exact"))
      o->exact = 1;
    else if (!v)
      usage();
    else if (!strcmp(a, "--backend")) {
      if (sg_backend_kind_parse(v, &o->backend, &e) != SG_OK) usage();
    } else if (!strcmp(a, "--time"))
      o->prm.time_limit_s = atof(v);
    else if (!strcmp(a, "--iterations"))
      o->prm.max_iterations = atoll(v);
    else if (!strcmp(a, "--seed"))
      o->prm.seed = strtoull(v, NULL, 10);
    else if (!strcmp(a, "--ants"))
      o->prm.ants = atoi(v);
    else if (!strcmp(a, "--colonies"))
      o->prm.colonies = atoi(v);
    else if (!strcmp(a, "--candidates"))
      o->prm.candidates = atoi(v);
    else if (!strcmp(a, "--threads"))
      o->threads = atoi(v);
    else if (!strcmp(a, "--ref"))
      o->ref = v;
    else
      usage();
    if (strcmp(a, "--csv") && strcmp(a, "--exact")) i++;
  }
  *first = i;
  return i < argc;
}

int main(int argc, char **argv) {
  opts o = {0};
  int first;
  if (!parse_args(argc, argv, &o, &first)) usage();
  sg_err e = {0};
  sg_backend_config cfg = {.kind = o.backend, .cpu_threads = o.threads};
  sg_backend *be = sg_backend_open(&cfg, &e);
  sg_exec *x = be ? sg_exec_create(be, &e) : NULL;
  if (!x) {
    fprintf(stderr, "backend: %s\n", e.msg);
    return 1;
  }
  if (!o.csv) {
    sg_bench_print_machine(stdout);
    printf("backend: %s (%s); limit %g s, %lld iterations, seed %llu\n\n", sg_backend_name(be),
           sg_backend_reason(be), o.prm.time_limit_s, (long long)o.prm.max_iterations,
           (unsigned long long)o.prm.seed);
    printf("| instance | n | optimum/BKS | cost | gap %% | t best s | t 1%% s | t 3%% s | "
           "iterations | routes |\n|---|---|---|---|---|---|---|---|---|---|\n");
  }
  int bad = 0, count = 0;
  double sum = 0;
  for (int i = first; i < argc; i++) {
    double gap = NAN;
    bad |= solve_one(x, &o, argv[i], &gap);
    if (!isnan(gap)) {
      sum += gap;
      count++;
    }
  }
  if (!o.csv && count)
    printf("| **mean of %d** | | | | **%.3f** | | | | | |\n", count, sum / count);
  sg_exec_destroy(x);
  sg_backend_close(be);
  return bad;
}
