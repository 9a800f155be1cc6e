/* Routing as scheduler jobs: a SolveRoutesRequest becomes an sg_aco_problem (parsed from TSPLIB
 * or CVRPLIB text, or copied from the structured form), the solver runs in steps sized to about
 * 20 ms (batch class: interactive work goes between steps), progress reports the best cost so
 * far, and the answer is built from the solver's best solution while the solver still lives. */
#include "route_jobs.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "aco/aco.h"
#include "pb.h"
#include "server.h"
#include "util.h"

#define DEFAULT_TIME_LIMIT_S 10.0
/* A server's bounds on one problem: its first iteration (a starting tour and a local search)
 * cannot stop in between, and took 17 s at 300,000 stops against a 10 s limit (1,000,000 stayed
 * without progress or cancel for minutes); the colonies' state, colonies x n x candidates x 16
 * bytes and colonies x ants x n x 4, is sized by the client's parameters (2,000 stops with 1,024
 * colonies took 2 GB). */
#define MAX_STOPS 100000
#define MAX_STATE_BYTES (2.0 * 1073741824.0)
#define STEP_TARGET_S 0.02

struct sg_route_job {
  sg_aco_instance *inst; /* parsed text, or NULL */
  double *x, *y, *matrix, *service;
  int *demand;
  int64_t *ids;
  sg_aco_problem problem;
  sg_aco_params params;
  sg_aco_solver *solver;
  int64_t per_step;
  int64_t answer_by_us; /* the solve ends by then (sg_mono_us; 0 = no bound) */
  char name[128];
  /* the answer */
  Shopgpu__V1__Route *routes, **route_ptrs;
  Shopgpu__V1__TracePoint *trace, **trace_ptrs;
};

void sg_route_job_free(sg_route_job *r) {
  if (!r) return;
  if (r->solver) sg_aco_end(r->solver);
  sg_aco_instance_free(r->inst);
  free(r->x), free(r->y), free(r->matrix), free(r->service), free(r->demand), free(r->ids);
  free(r->routes), free(r->route_ptrs), free(r->trace), free(r->trace_ptrs);
  free(r);
}

static void *dup_array(const void *src, size_t n, size_t size) {
  if (!n) return NULL;
  void *p = malloc(n * size);
  if (p) memcpy(p, src, n * size);
  return p;
}

/* An optional per-node field: empty, or one value per node. */
static sg_status per_node(const char *field, size_t got, size_t n, sg_err *err) {
  if (got && got != n)
    return sg_err_set(err, SG_INVALID_ARGUMENT, "problem.%s: %zu values for %zu nodes", field, got,
                      n);
  return SG_OK;
}

/* The structured form: copies and lengths; everything else is checked by sg_aco_problem_check. */
static sg_status structured(const Shopgpu__V1__RoutingProblem *p, sg_route_job *r, sg_err *err) {
  int explicit_ = p->metric == SHOPGPU__V1__ROUTING_PROBLEM__METRIC__EXPLICIT;
  if ((int)p->metric < 0 || p->metric > SHOPGPU__V1__ROUTING_PROBLEM__METRIC__EXPLICIT)
    return sg_err_set(err, SG_INVALID_ARGUMENT,
                      "problem.metric: %d is not EUC_2D, CEIL_2D, ATT, GEO, EXACT_2D or EXPLICIT",
                      (int)p->metric);
  /* fields the metric does not use were ignored, NaN or not: a request that mixes them says
   * something else than what would be solved */
  if (explicit_ && (p->n_x || p->n_y))
    return sg_err_set(err, SG_INVALID_ARGUMENT,
                      "problem.%s: coordinates with metric EXPLICIT (the matrix gives the "
                      "distances)",
                      p->n_x ? "x" : "y");
  if (!explicit_ && p->n_matrix)
    return sg_err_set(err, SG_INVALID_ARGUMENT,
                      "problem.matrix: a matrix with a coordinate metric (only with EXPLICIT)");
  if (!explicit_ && p->n && p->n != p->n_x)
    return sg_err_set(err, SG_INVALID_ARGUMENT, "problem.n: %u for %zu coordinates", p->n, p->n_x);
  size_t n = explicit_ ? p->n : p->n_x;
  if (n < SG_ACO_MIN_N || n > MAX_STOPS)
    return sg_err_set(err, SG_INVALID_ARGUMENT, "problem.%s: %zu nodes (%d..%d)",
                      explicit_ ? "n" : "x", n, SG_ACO_MIN_N, MAX_STOPS);
  if (!explicit_ && p->n_y != n)
    return sg_err_set(err, SG_INVALID_ARGUMENT, "problem.y: %zu values for %zu x", p->n_y, n);
  if (explicit_ && (n > SG_ACO_MATRIX_MAX_N || p->n_matrix != n * n))
    return sg_err_set(err, SG_INVALID_ARGUMENT,
                      "problem.matrix: %zu values for n = %zu (%zu, n <= %d)", p->n_matrix, n,
                      n * n, SG_ACO_MATRIX_MAX_N);
  SG_TRY(per_node("ids", p->n_ids, n, err));
  SG_TRY(per_node("demand", p->n_demand, n, err));
  SG_TRY(per_node("service_time", p->n_service_time, n, err));
  r->x = dup_array(p->x, p->n_x, sizeof(double));
  r->y = dup_array(p->y, p->n_y, sizeof(double));
  r->matrix = dup_array(p->matrix, p->n_matrix, sizeof(double));
  r->ids = dup_array(p->ids, p->n_ids, sizeof(int64_t));
  r->service = dup_array(p->service_time, p->n_service_time, sizeof(double));
  if (p->n_demand && (r->demand = malloc(n * sizeof(int))))
    for (size_t i = 0; i < n; i++)
      r->demand[i] = p->demand[i];
  /* a NULL copy of a non-empty field is a failed malloc; the caller frees what was copied */
  if ((p->n_x && !r->x) || (p->n_y && !r->y) || (p->n_matrix && !r->matrix) ||
      (p->n_ids && !r->ids) || (p->n_service_time && !r->service) || (p->n_demand && !r->demand))
    return sg_err_set(err, SG_OUT_OF_MEMORY, "problem: out of memory copying %zu nodes", n);
  r->problem = (sg_aco_problem){.n = (int)n,
                                .metric = (sg_aco_metric)p->metric,
                                .x = r->x,
                                .y = r->y,
                                .matrix = r->matrix,
                                .ids = r->ids,
                                .demand = r->demand,
                                .capacity = p->capacity,
                                .max_route_length = p->max_route_length,
                                .service_time = r->service,
                                .max_vehicles = p->max_vehicles};
  return SG_OK;
}

/* A solver error in the request's terms: its "aco: " prefix off, and `prefix` (the message the
 * field lives in: "problem.", or "problem.tsplib: " for fields read from the file) on. */
static sg_status request_terms(sg_err *err, const char *prefix) {
  if (!err || err->code == SG_OK) return err ? err->code : SG_INTERNAL;
  size_t aco = strncmp(err->msg, "aco: ", 5) == 0 ? 5 : 0;
  /* "problem." + "x[2]: ...": no separator; params are named in full already */
  sg_err_reword(err, aco, strncmp(err->msg + aco, "params.", 7) == 0 ? "" : prefix);
  return err->code;
}

static sg_status problem_from(const Shopgpu__V1__RoutingProblem *p, sg_route_job *r, sg_err *err) {
  if (!p) return sg_err_set(err, SG_INVALID_ARGUMENT, "problem: missing");
  const char *mixed = !p->tsplib[0]                              ? NULL
                      : p->n_x || p->n_y                         ? "x"
                      : p->n_matrix || p->n                      ? "matrix"
                      : p->n_ids                                 ? "ids"
                      : p->n_demand || p->capacity               ? "demand"
                      : p->max_route_length || p->n_service_time ? "max_route_length"
                      : p->max_vehicles                          ? "max_vehicles"
                      : p->metric                                ? "metric"
                                                                 : NULL;
  if (mixed) /* the file was solved and these ignored: a CVRP asked for came back a TSP */
    return sg_err_set(err, SG_INVALID_ARGUMENT,
                      "problem.%s: with problem.tsplib (the file gives the whole problem; use one "
                      "form or the other)",
                      mixed);
  if (p->tsplib[0]) {
    r->inst = sg_aco_instance_parse(p->tsplib, strlen(p->tsplib), "problem.tsplib",
                                    p->exact_distances ? SG_ACO_READ_EXACT : 0, err);
    if (!r->inst) return err->code;
    if (p->exact_distances && r->inst->problem.metric != SG_ACO_EXACT_2D) /* ignored, it misled */
      return sg_err_set(err, SG_INVALID_ARGUMENT,
                        "problem.exact_distances: applies to EDGE_WEIGHT_TYPE EUC_2D; this file "
                        "is %s, whose distances it keeps",
                        sg_aco_metric_name(r->inst->problem.metric));
    r->problem = r->inst->problem;
    snprintf(r->name, sizeof r->name, "%s", r->inst->name);
    sg_utf8_sanitize(r->name); /* the answer's name must be a valid protobuf string */
  } else {
    if (p->exact_distances)
      return sg_err_set(err, SG_INVALID_ARGUMENT,
                        "problem.exact_distances: only with problem.tsplib (the structured form "
                        "says problem.metric EXACT_2D)");
    SG_TRY(structured(p, r, err));
  }
  if (sg_aco_problem_check(&r->problem, err) != SG_OK)
    return request_terms(err, p->tsplib[0] ? "problem.tsplib: " : "problem.");
  return SG_OK;
}

static void params_from(const Shopgpu__V1__SolverParams *p, sg_aco_params *o) {
  sg_aco_params_default(o);
  if (!p) {
    o->time_limit_s = DEFAULT_TIME_LIMIT_S;
    return;
  }
  o->time_limit_s = p->time_limit_s > 0 ? p->time_limit_s
                    : p->max_iterations ? 0
                                        : DEFAULT_TIME_LIMIT_S;
  o->max_iterations = p->max_iterations;
  o->seed = p->seed;
  o->ants = p->ants, o->colonies = p->colonies, o->candidates = p->candidates;
  /* unset (0) is the default; anything else, NaN and negatives too, goes to the solver's check */
  if (p->alpha != 0) o->alpha = p->alpha;
  if (p->beta != 0) o->beta = p->beta;
  if (p->rho != 0) o->rho = p->rho;
  o->local_search = !p->no_local_search;
}

static sg_status within_bounds(const sg_route_job *r, sg_err *err) {
  double n = r->problem.n;
  if (r->problem.n > MAX_STOPS)
    return sg_err_set(err, SG_INVALID_ARGUMENT,
                      "problem: %d stops; this server solves up to %d in one problem", r->problem.n,
                      MAX_STOPS);
  const sg_aco_params *p = &r->params; /* 0: the defaults of the cpu backend */
  double colonies = p->colonies ? p->colonies : 4, ants = p->ants ? p->ants : 8;
  double k = p->candidates ? p->candidates : 16;
  double bytes = colonies * n * k * 16 + colonies * ants * n * 4;
  if (bytes > MAX_STATE_BYTES)
    return sg_err_set(err, SG_INVALID_ARGUMENT,
                      "params: %.0f colonies x %.0f ants x %.0f candidates for %d stops need "
                      "about %.1f GiB of solver state, over %.0f GiB: fewer colonies, ants or "
                      "candidates",
                      colonies, ants, k, r->problem.n, bytes / 1073741824.0,
                      MAX_STATE_BYTES / 1073741824.0);
  return SG_OK;
}

sg_route_job *sg_route_job_new(const Shopgpu__V1__SolveRoutesRequest *req, int64_t answer_by_us,
                               sg_err *err) {
  sg_route_job *r = calloc(1, sizeof *r);
  if (!r) {
    sg_err_set(err, SG_OUT_OF_MEMORY, "route: out of memory");
    return NULL;
  }
  const Shopgpu__V1__SolverParams *p = req->params;
  if (p && (!isfinite(p->time_limit_s) || p->time_limit_s < 0 || p->max_iterations < 0)) {
    sg_err_set(err, SG_INVALID_ARGUMENT, "params: time_limit_s %g and max_iterations %lld",
               p->time_limit_s, (long long)p->max_iterations);
    sg_route_job_free(r);
    return NULL;
  }
  if (problem_from(req->problem, r, err) != SG_OK) {
    sg_route_job_free(r);
    return NULL;
  }
  params_from(p, &r->params);
  if (sg_aco_params_check(&r->params, err) != SG_OK || within_bounds(r, err) != SG_OK) {
    request_terms(err, "");
    sg_route_job_free(r);
    return NULL;
  }
  r->answer_by_us = answer_by_us;
  r->per_step = 1;
  return r;
}

/* One step of about STEP_TARGET_S: the iterations per step follow the measured cost. */
static sg_status route_step(sg_job *j, sg_exec *x, int *done, sg_err *err) {
  sg_route_job *r = sg_job_data(j);
  if (!r->solver && r->answer_by_us) { /* what the queue and the parsing left of the deadline */
    double left = fmax(0.01, (double)(r->answer_by_us - sg_mono_us()) * 1e-6);
    if (r->params.time_limit_s == 0 || r->params.time_limit_s > left) r->params.time_limit_s = left;
  }
  if (!r->solver) {
    r->solver = sg_aco_begin(x, &r->problem, &r->params, err);
    if (!r->solver) return request_terms(err, "");
  }
  sg_aco_progress p;
  int64_t t0 = sg_mono_us(); /* the step's own time: elapsed_s counts the waits between steps */
  SG_TRY(sg_aco_step(r->solver, r->per_step, &p, err));
  double took = (double)(sg_mono_us() - t0) * 1e-6;
  r->per_step = sg_step_units(r->per_step, took, STEP_TARGET_S, 1);
  double limit = r->params.time_limit_s;
  sg_job_progress jp = {.done = (uint64_t)(p.elapsed_s * 1000),
                        .total = limit > 0 ? (uint64_t)(limit * 1000) : 0,
                        .has_best = p.feasible,
                        .best = p.feasible ? p.best_cost : 0};
  if (p.done)
    jp.total = jp.done; /* 100% at the end, in the time it took (an iteration limit
                         * may end it well before the time limit) */
  sg_job_set_progress(j, &jp);
  if (p.done) /* the iterations it ran, fewer where the time limit or the deadline came first */
    sg_job_set_work(j, (double)p.iterations * r->problem.n);
  *done = p.done;
  return SG_OK;
}

static void route_cleanup(void *data) { sg_route_job_free(data); }

/* work (with an iteration limit): iterations x stops */
const sg_job_ops sg_route_job_ops = {
    .kind = "solve_routes", .work_rate = 1e5, .step = route_step, .cleanup = route_cleanup};

void sg_route_job_size(const sg_route_job *r, double *cost, double *work) {
  *cost = r->params.time_limit_s; /* a bound: the iterations may end it sooner */
  *work = (double)r->params.max_iterations * r->problem.n;
  if (r->answer_by_us) { /* a call's deadline cuts the solve */
    double left = (double)(r->answer_by_us - sg_mono_us()) * 1e-6;
    if (left > 0 && (*cost == 0 || *cost > left)) *cost = left;
  }
}

sg_status sg_route_response(sg_route_job *r, Shopgpu__V1__SolveRoutesResponse *resp, sg_err *err) {
  shopgpu__v1__solve_routes_response__init(resp);
  if (!r->solver) return sg_err_set(err, SG_INTERNAL, "route: no solver");
  sg_aco_solution s;
  sg_aco_best(r->solver, &s);
  free(r->routes), free(r->route_ptrs), free(r->trace), free(r->trace_ptrs);
  r->routes = calloc((size_t)s.n_routes + 1, sizeof *r->routes);
  r->route_ptrs = calloc((size_t)s.n_routes + 1, sizeof *r->route_ptrs);
  r->trace = calloc((size_t)s.trace_len + 1, sizeof *r->trace);
  r->trace_ptrs = calloc((size_t)s.trace_len + 1, sizeof *r->trace_ptrs);
  if (!r->routes || !r->route_ptrs || !r->trace || !r->trace_ptrs)
    return sg_err_set(err, SG_OUT_OF_MEMORY, "route: out of memory for the answer");
  for (int i = 0; i < s.n_routes; i++) {
    shopgpu__v1__route__init(&r->routes[i]);
    r->routes[i].n_nodes = (size_t)(s.route_start[i + 1] - s.route_start[i]);
    r->routes[i].nodes = (int64_t *)(uintptr_t)(s.ids + s.route_start[i]);
    r->route_ptrs[i] = &r->routes[i];
  }
  for (int i = 0; i < s.trace_len; i++) {
    shopgpu__v1__trace_point__init(&r->trace[i]);
    r->trace[i].t = s.trace_t[i];
    r->trace[i].cost = s.trace_cost[i];
    r->trace_ptrs[i] = &r->trace[i];
  }
  resp->problem = sg_pb_str(r->problem.demand ? "cvrp" : "tsp");
  resp->n = (uint32_t)r->problem.n;
  resp->cost = s.feasible ? s.cost : 0;
  resp->feasible = s.feasible != 0;
  resp->routes = r->route_ptrs, resp->n_routes = (size_t)s.n_routes;
  resp->trace = r->trace_ptrs, resp->n_trace = (size_t)s.trace_len;
  resp->time_s = s.elapsed_s;
  resp->iterations = s.iterations;
  resp->name = r->name;
  return SG_OK;
}

/* ---- the job-registry kind ---- */

sg_status sg_route_prepare(sg_server *srv, const Shopgpu__V1__SubmitJobRequest *req,
                           sg_job_spec *spec, sg_err *err) {
  (void)srv;
  sg_route_job *r = sg_route_job_new(req->solve_routes, 0, err);
  if (!r) return err->code;
  *spec = (sg_job_spec){.ops = &sg_route_job_ops, .data = r, .cls = SG_JOB_BATCH};
  sg_route_job_size(r, &spec->cost, &spec->work);
  return SG_OK;
}

void sg_route_result(sg_job *job, Shopgpu__V1__Job *out) {
  Shopgpu__V1__SolveRoutesResponse *resp = malloc(sizeof *resp);
  if (!resp || sg_route_response(sg_job_data(job), resp, NULL) != SG_OK) {
    free(resp);
    return;
  }
  out->result_case = SHOPGPU__V1__JOB__RESULT_SOLVE_ROUTES;
  out->solve_routes = resp;
}

void sg_route_free_result(Shopgpu__V1__Job *out) {
  if (out->result_case == SHOPGPU__V1__JOB__RESULT_SOLVE_ROUTES) free(out->solve_routes);
}
