/* The aco API: every argument checked once (messages name the field and index), the prepared
 * model copied from the caller's arrays, then the backend's slots through SG_DISPATCH.
 * The host half of each iteration lives in aco_solver.c; the ants run in the backend. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/size.h"
#include "aco_internal.h"
#include "aco_vrp.h"

static const char *const metric_names[] = {"EUC_2D", "CEIL_2D",  "ATT",
                                           "GEO",    "EXACT_2D", "EXPLICIT"};

const char *sg_aco_metric_name(sg_aco_metric m) {
  return (unsigned)m < SG_ARRAY_LEN(metric_names) ? metric_names[m] : "?";
}

double sg_aco_distance(const sg_aco_problem *p, int i, int j) {
  if (p->metric == SG_ACO_EXPLICIT) return p->matrix[(size_t)i * (size_t)p->n + (size_t)j];
  if (p->metric == SG_ACO_GEO)
    return sg__aco_coord_dist(SG__ACO_GEO, sg__aco_geo_rad(p->x[i]), sg__aco_geo_rad(p->y[i]),
                              sg__aco_geo_rad(p->x[j]), sg__aco_geo_rad(p->y[j]));
  return sg__aco_coord_dist((int)p->metric, p->x[i], p->y[i], p->x[j], p->y[j]);
}

/* ---- validation ---- */

#define BAD(...) sg_err_set(err, SG_INVALID_ARGUMENT, "aco: " __VA_ARGS__)
#define COORD_MAX SG_ACO_COORD_MAX

static sg_status check_matrix(const sg_aco_problem *p, sg_err *err) {
  int n = p->n;
  if (!p->matrix) return BAD("matrix: NULL with metric EXPLICIT");
  if (n > SG_ACO_MATRIX_MAX_N)
    return BAD("n: %d > SG_ACO_MATRIX_MAX_N %d for an explicit matrix", n, SG_ACO_MATRIX_MAX_N);
  for (int i = 0; i < n; i++) {
    for (int j = 0; j < n; j++) {
      double v = p->matrix[(size_t)i * n + j], w = p->matrix[(size_t)j * n + i];
      if (!isfinite(v) || v < 0)
        return BAD("matrix[%d][%d]: %g is not a finite value >= 0", i, j, v);
      if (i == j && v != 0) return BAD("matrix[%d][%d]: diagonal %g != 0", i, j, v);
      if (v != w)
        return BAD("matrix[%d][%d] = %g != matrix[%d][%d] = %g (must be symmetric)", i, j, v, j, i,
                   w);
    }
  }
  return SG_OK;
}

static sg_status check_coords(const sg_aco_problem *p, sg_err *err) {
  const char *mn = sg_aco_metric_name(p->metric);
  if (!p->x) return BAD("x: NULL with metric %s", mn);
  if (!p->y) return BAD("y: NULL with metric %s", mn);
  for (int i = 0; i < p->n; i++) {
    if (!isfinite(p->x[i]) || fabs(p->x[i]) > COORD_MAX)
      return BAD("x[%d]: %g is not finite or exceeds %g in magnitude", i, p->x[i], COORD_MAX);
    if (!isfinite(p->y[i]) || fabs(p->y[i]) > COORD_MAX)
      return BAD("y[%d]: %g is not finite or exceeds %g in magnitude", i, p->y[i], COORD_MAX);
  }
  return SG_OK;
}

typedef struct id_at {
  int64_t id;
  int at;
} id_at;

static int cmp_id(const void *a, const void *b) {
  const id_at *x = a, *y = b;
  if (x->id != y->id) return x->id < y->id ? -1 : 1;
  return x->at - y->at;
}

static sg_status check_ids(const sg_aco_problem *p, sg_err *err) {
  if (!p->ids) return SG_OK;
  id_at *ord = malloc((size_t)p->n * sizeof *ord);
  if (!ord) return sg_err_set(err, SG_OUT_OF_MEMORY, "aco: out of memory checking ids");
  for (int i = 0; i < p->n; i++)
    ord[i] = (id_at){p->ids[i], i};
  qsort(ord, (size_t)p->n, sizeof *ord, cmp_id);
  sg_status st = SG_OK;
  for (int i = 1; i < p->n && st == SG_OK; i++) {
    if (ord[i].id == ord[i - 1].id)
      st = BAD("ids[%d]: %lld duplicates ids[%d]", ord[i].at, (long long)ord[i].id, ord[i - 1].at);
  }
  free(ord);
  return st;
}

static sg_status check_vrp(const sg_aco_problem *p, sg_err *err) {
  if (p->capacity <= 0) return BAD("capacity: %d <= 0", p->capacity);
  if (p->demand[0] != 0) return BAD("demand[0]: the depot's demand %d != 0", p->demand[0]);
  long long total = 0;
  for (int i = 1; i < p->n; i++) {
    if (p->demand[i] < 0) return BAD("demand[%d]: %d < 0", i, p->demand[i]);
    if (p->demand[i] > p->capacity)
      return BAD("demand[%d]: %d > capacity %d", i, p->demand[i], p->capacity);
    total += p->demand[i];
  }
  if (!isfinite(p->max_route_length) || p->max_route_length < 0)
    return BAD("max_route_length: %g is not finite and >= 0", p->max_route_length);
  for (int i = 1; p->service_time && i < p->n; i++) {
    if (!isfinite(p->service_time[i]) || p->service_time[i] < 0)
      return BAD("service_time[%d]: %g is not finite and >= 0", i, p->service_time[i]);
  }
  if (p->max_vehicles < 0) return BAD("max_vehicles: %d < 0", p->max_vehicles);
  if (p->max_vehicles > 0 && (long long)p->max_vehicles * p->capacity < total)
    return BAD("max_vehicles: %d x capacity %d < total demand %lld", p->max_vehicles, p->capacity,
               total);
  for (int i = 1; p->max_route_length > 0 && i < p->n; i++) {
    double need = sg_aco_distance(p, 0, i) + sg_aco_distance(p, i, 0) +
                  (p->service_time ? p->service_time[i] : 0.0);
    if (need > p->max_route_length)
      return BAD("max_route_length: %g < %g for the round trip to node %d", p->max_route_length,
                 need, i);
  }
  return SG_OK;
}

sg_status sg_aco_problem_check(const sg_aco_problem *p, sg_err *err) {
  if (!p) return BAD("problem is NULL");
  if (p->n < SG_ACO_MIN_N) return BAD("n: %d < %d", p->n, SG_ACO_MIN_N);
  if (p->n > SG_ACO_MAX_N) return BAD("n: %d > %d", p->n, SG_ACO_MAX_N);
  if ((unsigned)p->metric >= SG_ACO_METRIC_COUNT)
    return BAD("metric: %d is not an sg_aco_metric", (int)p->metric);
  SG_TRY(p->metric == SG_ACO_EXPLICIT ? check_matrix(p, err) : check_coords(p, err));
  SG_TRY(check_ids(p, err));
  if (p->demand) return check_vrp(p, err);
  if (p->capacity || p->service_time || p->max_route_length != 0 || p->max_vehicles)
    return BAD("capacity: vehicle fields are set but demand is empty (a TSP has none)");
  return SG_OK;
}

void sg_aco_params_default(sg_aco_params *p) {
  memset(p, 0, sizeof *p);
  p->alpha = 1.0;
  p->beta = 2.0;
  p->rho = 0.02;
  p->local_search = 1;
}

sg_status sg_aco_params_check(const sg_aco_params *q, sg_err *err) {
  if (!q) return BAD("params is NULL");
  if (!isfinite(q->alpha) || q->alpha < 0 || q->alpha > 16)
    return BAD("params.alpha: %g is not in [0, 16]", q->alpha);
  if (!isfinite(q->beta) || q->beta < 0 || q->beta > 16)
    return BAD("params.beta: %g is not in [0, 16]", q->beta);
  if (!(q->rho > 0 && q->rho < 1)) return BAD("params.rho: %g is not in (0, 1)", q->rho);
  if (q->ants < 0 || q->ants > 65536) return BAD("params.ants: %d is not in [0, 65536]", q->ants);
  if (q->colonies < 0 || q->colonies > 1024)
    return BAD("params.colonies: %d is not in [0, 1024]", q->colonies);
  if (q->candidates < 0 || q->candidates > SG_ACO_MAX_CANDIDATES)
    return BAD("params.candidates: %d is not in [0, %d]", q->candidates, SG_ACO_MAX_CANDIDATES);
  if (q->local_search != 0 && q->local_search != 1)
    return BAD("params.local_search: %d is not 0 or 1", q->local_search);
  if (q->new_edges < -1) return BAD("params.new_edges: %d < -1", q->new_edges);
  if (q->exchange_every < 0) return BAD("params.exchange_every: %d < 0", q->exchange_every);
  if (!isfinite(q->time_limit_s) || q->time_limit_s < 0)
    return BAD("params.time_limit_s: %g is not finite and >= 0", q->time_limit_s);
  if (q->max_iterations < 0)
    return BAD("params.max_iterations: %lld < 0", (long long)q->max_iterations);
  return SG_OK;
}

/* ---- solver life cycle ---- */

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void resolve_params(sg_aco_solver *s, const sg_aco_problem *p) {
  sg_aco_params *q = &s->prm;
  int gpu = sg_backend_kind_of(sg_exec_backend(s->x)) == SG_BACKEND_CUDA;
  if (q->ants == 0) q->ants = gpu ? 128 : 8;
  if (q->colonies == 0) q->colonies = gpu ? 32 : 4;
  if (q->candidates == 0) q->candidates = p->demand ? 16 : 10;
  if (q->new_edges == 0) q->new_edges = 8;
  if (q->exchange_every == 0) q->exchange_every = 50;
  int pool = p->demand ? p->n - 1 : p->n; /* nodes a candidate can be */
  if (q->candidates > pool - 1) q->candidates = pool - 1;
}

static void *take(size_t count, size_t size, int *bad) {
  size_t bytes;
  void *ptr = NULL;
  if (sg_size_mul(count ? count : 1, size, &bytes)) ptr = calloc(1, bytes);
  if (!ptr) *bad = 1;
  return ptr;
}

/* coordinates (GEO to radians) or the explicit matrix; the distance table when small */
static void copy_distances(sg_aco_solver *s, const sg_aco_problem *p, int *bad) {
  size_t n = (size_t)p->n;
  if (p->metric == SG_ACO_EXPLICIT) {
    s->matrix = take(n * n, sizeof(double), bad);
    if (s->matrix) memcpy(s->matrix, p->matrix, n * n * sizeof(double));
    return;
  }
  int geo = p->metric == SG_ACO_GEO;
  s->xs = take(n, sizeof(double), bad);
  s->ys = take(n, sizeof(double), bad);
  if (*bad) return;
  for (size_t i = 0; i < n; i++) {
    s->xs[i] = geo ? sg__aco_geo_rad(p->x[i]) : p->x[i];
    s->ys[i] = geo ? sg__aco_geo_rad(p->y[i]) : p->y[i];
  }
  if (n > SG_ACO_CACHE_MAX_N) return; /* see aco.h: O(n k) memory above the limit */
  sg__aco_model coords = {.n = p->n, .metric = (int)p->metric, .x = s->xs, .y = s->ys};
  s->matrix = take(n * n, sizeof(double), bad);
  for (size_t i = 0; s->matrix && i < n; i++)
    for (size_t j = 0; j < n; j++)
      s->matrix[i * n + j] = sg__aco_dist(&coords, (int)i, (int)j);
}

static void copy_vehicles(sg_aco_solver *s, const sg_aco_problem *p, int *bad) {
  sg__aco_model *m = &s->model;
  size_t n = (size_t)p->n;
  s->demand = take(n, sizeof(int), bad);
  s->service = take(n, sizeof(double), bad);
  for (size_t i = 0; s->demand && s->service && i < n; i++) {
    s->demand[i] = p->demand[i];
    s->service[i] = p->service_time && i > 0 ? p->service_time[i] : 0.0;
  }
  m->demand = s->demand;
  m->service = s->service;
  m->capacity = (double)p->capacity;
  m->max_len = p->max_route_length;
  m->max_routes = p->max_vehicles > 0 && p->max_vehicles < p->n - 1 ? p->max_vehicles : p->n - 1;
}

/* copies the problem into the solver's model */
static void fill_model(sg_aco_solver *s, const sg_aco_problem *p, int *bad) {
  sg__aco_model *m = &s->model;
  size_t n = (size_t)p->n;
  m->n = p->n;
  m->metric = (int)p->metric;
  m->k = s->prm.candidates;
  m->vrp = p->demand != NULL;
  copy_distances(s, p, bad);
  s->ids = take(n, sizeof(int64_t), bad);
  for (size_t i = 0; s->ids && i < n; i++)
    s->ids[i] = p->ids ? p->ids[i] : (int64_t)i + 1;
  s->cand = take(n * (size_t)m->k, sizeof(int), bad);
  m->x = s->xs;
  m->y = s->ys;
  m->matrix = s->matrix;
  m->cand = s->cand;
  if (m->vrp) copy_vehicles(s, p, bad);
}

static void alloc_state(sg_aco_solver *s, int *bad) {
  size_t n = (size_t)s->n, c = (size_t)s->colonies, nk = n * (size_t)s->k;
  size_t ants = c * (size_t)s->ants;
  s->eta_beta = take(nk, sizeof(double), bad);
  s->tau = take(c * nk, sizeof(double), bad);
  s->choice = take(c * nk, sizeof(double), bad);
  s->src = take(c * (size_t)s->m, sizeof(int), bad);
  s->src_pos = take(c * n, sizeof(int), bad);
  s->lambda = take(c * 2, sizeof(double), bad);
  s->cbest = take(c * (size_t)s->sol_cap, sizeof(int), bad);
  s->cbest_len = take(c, sizeof(int), bad);
  s->cbest_cost = take(c, sizeof(double), bad);
  s->cbest_pcost = take(c, sizeof(double), bad);
  s->cbest_feas = take(c, sizeof(int), bad);
  s->c_improved = take(c, sizeof(int64_t), bad);
  s->ant_cost = take(ants, sizeof(double), bad);
  s->ant_pcost = take(ants, sizeof(double), bad);
  s->ant_flags = take(ants, sizeof(int), bad);
  s->it_sol = take(c * (size_t)s->sol_cap, sizeof(int), bad);
  s->it_len = take(c, sizeof(int), bad);
  s->gbest = take((size_t)s->sol_cap, sizeof(int), bad);
  s->view_nodes = take(n, sizeof(int), bad);
  s->view_start = take(n + 1, sizeof(int), bad);
  s->view_ids = take(n, sizeof(int64_t), bad);
  s->host_scratch = take(sg__aco_scratch_bytes(&s->model), 1, bad);
}

static sg_status backend_open(sg_aco_solver *s, sg_err *err) {
  SG_DISPATCH(s->x, aco, open, err, &s->model, s->colonies, s->ants, &s->state, err);
}

static sg_status backend_iterate(sg_aco_solver *s, const sg__aco_iter *it, sg__aco_out *out,
                                 sg_err *err) {
  SG_DISPATCH(s->x, aco, iterate, err, s->state, it, out, err);
}

/* not through the gate: host memory must be freed even when the device was lost */
static void backend_close(sg_aco_solver *s) {
  sg_err e = {0};
  const sg_aco_ops *ops = s->x->ops->aco;
  if (ops && ops->close) (void)ops->close(s->x, s->state, &e);
}

void sg_aco_end(sg_aco_solver *s) {
  if (!s) return;
  if (s->state) backend_close(s);
  void *owned[] = {s->xs,         s->ys,          s->matrix,       s->service,    s->demand,
                   s->cand,       s->ids,         s->eta_beta,     s->tau,        s->choice,
                   s->src,        s->src_pos,     s->lambda,       s->cbest,      s->cbest_len,
                   s->cbest_cost, s->cbest_pcost, s->cbest_feas,   s->c_improved, s->ant_cost,
                   s->ant_pcost,  s->ant_flags,   s->it_sol,       s->it_len,     s->gbest,
                   s->view_nodes, s->view_start,  s->host_scratch, s->trace.t,    s->trace.cost,
                   s->view_ids};
  for (size_t i = 0; i < SG_ARRAY_LEN(owned); i++)
    free(owned[i]);
  free(s);
}

sg_aco_solver *sg_aco_begin(sg_exec *x, const sg_aco_problem *problem, const sg_aco_params *params,
                            sg_err *err) {
  double t0 = now_s();
  if (!x) {
    sg_err_set(err, SG_INVALID_ARGUMENT, "aco: exec is NULL");
    return NULL;
  }
  if (sg_aco_problem_check(problem, err) != SG_OK || sg_aco_params_check(params, err) != SG_OK)
    return NULL;
  sg_aco_solver *s = calloc(1, sizeof *s);
  if (!s) {
    sg_err_set(err, SG_OUT_OF_MEMORY, "aco: out of memory");
    return NULL;
  }
  s->x = x;
  s->t_begin = t0;
  s->prm = *params;
  resolve_params(s, problem);
  s->n = problem->n;
  s->m = problem->demand ? problem->n - 1 : problem->n;
  s->k = s->prm.candidates;
  s->colonies = s->prm.colonies;
  s->ants = s->prm.ants;
  s->sol_cap = problem->demand ? 2 * problem->n : problem->n;
  s->gbest_cost = s->gbest_pcost = INFINITY;
  int bad = 0;
  if ((size_t)s->colonies * (size_t)s->ants > ((size_t)1 << 20)) {
    sg_err_set(err, SG_INVALID_ARGUMENT, "aco: params.colonies %d x params.ants %d > 1048576",
               s->colonies, s->ants);
    goto fail;
  }
  fill_model(s, problem, &bad);
  if (!bad) alloc_state(s, &bad);
  if (bad) {
    sg_err_set(err, SG_OUT_OF_MEMORY, "aco: out of memory for n = %d, %d colonies x %d ants", s->n,
               s->colonies, s->ants);
    goto fail;
  }
  int threads = x->threads > 0 ? x->threads : 1;
  if (sg__aco_candidates(&s->model, s->model.vrp ? 1 : 0, s->k, threads, s->cand, err) != SG_OK)
    goto fail;
  if (sg__aco_seed(s, err) != SG_OK) goto fail;
  if (backend_open(s, err) != SG_OK) goto fail;
  s->elapsed = now_s() - t0;
  if (s->trace.len == 1) s->trace.t[0] = s->elapsed; /* the initial solution */
  return s;
fail:
  sg_aco_end(s);
  return NULL;
}

/* Done at the iteration limit, or when the time limit would pass during the next iteration
 * (assumed as long as the last one): the answer is due by the limit, and a large instance's
 * iteration can take longer than a caller's margin. The first iteration always runs. */
static int limit_reached(const sg_aco_solver *s, double elapsed) {
  if (s->prm.max_iterations > 0 && s->iterations >= s->prm.max_iterations) return 1;
  double next = s->iterations > 0 ? s->iter_s : 0.0;
  return s->prm.time_limit_s > 0 && elapsed + next >= s->prm.time_limit_s;
}

static void fill_progress(const sg_aco_solver *s, sg_aco_progress *p) {
  if (!p) return;
  p->iterations = s->iterations;
  p->feasible = s->gbest_feas;
  p->best_cost = s->gbest_feas ? s->gbest_cost : INFINITY;
  p->elapsed_s = s->elapsed;
  p->done = s->done;
}

sg_status sg_aco_step(sg_aco_solver *s, int64_t max_iterations, sg_aco_progress *progress,
                      sg_err *err) {
  if (!s) return sg_err_set(err, SG_INVALID_ARGUMENT, "aco: solver is NULL");
  if (max_iterations < 1) return BAD("max_iterations: %lld < 1", (long long)max_iterations);
  sg__aco_out out = {s->ant_cost, s->ant_pcost, s->ant_flags, s->it_sol, s->it_len};
  sg_status st = SG_OK;
  for (int64_t i = 0; i < max_iterations && !s->done; i++) {
    if (limit_reached(s, now_s() - s->t_begin)) {
      s->done = 1;
      break;
    }
    sg__aco_iter it = {s->colonies,         s->ants,  s->iterations, s->prm.seed, s->prm.new_edges,
                       s->prm.local_search, s->m,     s->sol_cap,    s->choice,   s->src,
                       s->src_pos,          s->lambda};
    double it0 = now_s();
    if ((st = backend_iterate(s, &it, &out, err)) != SG_OK) break;
    s->iterations++;
    sg__aco_after_ants(s, now_s() - s->t_begin);
    s->iter_s = now_s() - it0;
  }
  s->elapsed = now_s() - s->t_begin;
  if (st == SG_OK && limit_reached(s, s->elapsed)) s->done = 1;
  fill_progress(s, progress);
  return st;
}

sg_status sg_aco_run(sg_aco_solver *s, sg_aco_progress *progress, sg_err *err) {
  if (!s) return sg_err_set(err, SG_INVALID_ARGUMENT, "aco: solver is NULL");
  if (s->prm.max_iterations <= 0 && s->prm.time_limit_s <= 0)
    return BAD("run: params.time_limit_s and params.max_iterations are both 0 (no end)");
  while (!s->done)
    SG_TRY(sg_aco_step(s, 16, progress, err));
  fill_progress(s, progress);
  return SG_OK;
}

void sg_aco_best(sg_aco_solver *s, sg_aco_solution *out) {
  memset(out, 0, sizeof *out);
  int len = 0, routes = 0;
  if (!s->model.vrp) {
    int at = 0;
    for (int i = 0; i < s->n; i++)
      if (s->gbest[i] == 0) at = i;
    for (int i = 0; i < s->n; i++)
      s->view_nodes[i] = s->gbest[(at + i) % s->n];
    len = s->n;
    routes = 1;
    s->view_start[0] = 0;
    s->view_start[1] = s->n;
    out->cost = sg__aco_tour_cost(&s->model, s->view_nodes, s->n);
  } else {
    s->view_start[0] = 0;
    for (int i = 0; i < s->gbest_len; i++) {
      if (s->gbest[i] != 0)
        s->view_nodes[len++] = s->gbest[i];
      else
        s->view_start[++routes] = len;
    }
    out->cost = sg__aco_vrp_cost(&s->model, s->gbest, s->gbest_len);
  }
  for (int i = 0; i < len; i++)
    s->view_ids[i] = s->ids[s->view_nodes[i]];
  out->ids = s->view_ids;
  out->feasible = s->gbest_feas;
  if (!out->feasible) out->cost = INFINITY;
  out->n_routes = routes;
  out->route_start = s->view_start;
  out->nodes = s->view_nodes;
  out->trace_t = s->trace.t;
  out->trace_cost = s->trace.cost;
  out->trace_len = s->trace.len;
  out->iterations = s->iterations;
  out->elapsed_s = s->elapsed;
}
