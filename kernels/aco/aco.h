/* Ant colony optimisation for the symmetric TSP and the capacitated VRP: a MAX-MIN Ant System
 * with nearest-neighbour candidate lists, focused construction (each ant changes a few edges of
 * its colony's best solution), several colonies, and local search on every ant's solution
 * (TSP: 2-opt + Or-opt; CVRP: giant tour + Split, then relocate, swap, 2-opt, 2-opt*, Or-opt).
 *
 * Anytime and step-able: sg_aco_begin validates and prepares, sg_aco_step runs iterations (a
 * scheduler calls it with a small max_iterations and reads the progress), sg_aco_best returns
 * the best solution so far with its convergence trace, sg_aco_end frees. Deterministic for a
 * seed on one backend when stopped by an iteration limit (a time limit only moves the stop).
 *
 * Memory is O(n·k) beside the per-ant buffers (k = candidate list size) above
 * SG_ACO_CACHE_MAX_N nodes: distances come from coordinates on the fly, pheromone lives on
 * candidate edges only, so 10,000 stops and more fit. Up to SG_ACO_CACHE_MAX_N nodes the
 * distances are tabled once (n² doubles, at most 32 MiB) because the local search reads them
 * millions of times. Explicit matrices are held whole, up to SG_ACO_MATRIX_MAX_N nodes. */
#ifndef SG_ACO_H
#define SG_ACO_H

#include <stddef.h>
#include <stdint.h>

#include "../common/backend.h"

SG_BEGIN_DECLS

#define SG_ACO_MIN_N 3
#define SG_ACO_MAX_N 1000000     /* nodes (coordinate metrics) */
#define SG_ACO_COORD_MAX 1e9     /* largest coordinate magnitude */
#define SG_ACO_MATRIX_MAX_N 4096 /* nodes with an explicit matrix (128 MiB of doubles) */
#define SG_ACO_MAX_CANDIDATES 64
#define SG_ACO_CACHE_MAX_N 2048 /* up to this many nodes distances are tabled (<= 32 MiB) */

/* Distance conventions (TSPLIB, Reinelt 1991). Every metric but EXACT_2D and EXPLICIT gives
 * integers; costs are sums of these distances. */
typedef enum sg_aco_metric {
  SG_ACO_EUC_2D,   /* (int)(sqrt(dx²+dy²) + 0.5) */
  SG_ACO_CEIL_2D,  /* ceil(sqrt(dx²+dy²)) */
  SG_ACO_ATT,      /* pseudo-Euclidean: r = sqrt((dx²+dy²)/10), t = nint(r), t < r ? t+1 : t */
  SG_ACO_GEO,      /* x = latitude, y = longitude as DDD.MM; TSPLIB's sphere, PI = 3.141592 */
  SG_ACO_EXACT_2D, /* sqrt(dx²+dy²) unrounded (CVRPLIB CMT convention) */
  SG_ACO_EXPLICIT, /* matrix[i*n + j] */
  SG_ACO_METRIC_COUNT
} sg_aco_metric;

/* "EUC_2D", "CEIL_2D", "ATT", "GEO", "EXACT_2D", "EXPLICIT"; "?" outside the enum. */
const char *sg_aco_metric_name(sg_aco_metric m);

/* A problem: a view over caller-owned arrays (nothing is copied until sg_aco_begin).
 * TSP when demand is NULL: visit all n nodes once, return to the start.
 * CVRP when demand is non-NULL: node 0 is the depot, nodes 1..n-1 are customers served once each
 * by routes that start and end at the depot. */
typedef struct sg_aco_problem {
  int n; /* nodes, SG_ACO_MIN_N..SG_ACO_MAX_N */
  sg_aco_metric metric;
  const double *x, *y;  /* (n) coordinates, finite; unused for EXPLICIT */
  const double *matrix; /* (n x n) row-major, leading dimension n, EXPLICIT only: finite, >= 0,
                           zero diagonal, symmetric; n <= SG_ACO_MATRIX_MAX_N */
  const int64_t *ids;   /* (n) external ids (as numbered in the file), distinct; NULL = 1..n */
  /* CVRP only (leave zero / NULL for the TSP) */
  const int *demand;          /* (n) demand[0] = 0, 0 <= demand[i] <= capacity */
  int capacity;               /* vehicle capacity, > 0 */
  double max_route_length;    /* 0 = none; bound on a route's travel + service time */
  const double *service_time; /* (n) >= 0 or NULL; counts toward max_route_length only */
  int max_vehicles;           /* 0 = unlimited; else at most this many routes */
} sg_aco_problem;

/* Checks every field; SG_INVALID_ARGUMENT with a message naming the field and index
 * ("demand[4]: 120 > capacity 100", "ids[7]: 12 duplicates ids[3]"). Needs no exec. */
sg_status sg_aco_problem_check(const sg_aco_problem *p, sg_err *err);

/* Distance between nodes i and j (0-based) in the problem's metric; p must be valid. */
double sg_aco_distance(const sg_aco_problem *p, int i, int j);

typedef struct sg_aco_params {
  int ants;               /* ants per colony; 0 = backend default (cpu 8, cuda 128) */
  int colonies;           /* independent colonies sharing the best every exchange_every
                             iterations; 0 = backend default (cpu 4, cuda 32) */
  double alpha, beta;     /* pheromone and 1/distance exponents, >= 0 */
  double rho;             /* evaporation, in (0, 1) */
  int candidates;         /* nearest neighbours per node, 0 = 10 (TSP) / 16 (CVRP);
                             at most SG_ACO_MAX_CANDIDATES */
  int local_search;       /* 1 = local search on every ant (recommended), 0 = none */
  int new_edges;          /* focused construction: an ant adds up to a random 1..2 x new_edges
                             edges outside its colony's best solution, then copies the rest;
                             0 = default 8; -1 = unlimited (classic construction) */
  int exchange_every;     /* iterations between colonies adopting the global best; 0 = 50 */
  double time_limit_s;    /* >= 0; 0 = none. Wall time since sg_aco_begin was called, so a
                             caller that does other work between steps (a scheduler serving
                             other calls) still gets its answer by the limit */
  int64_t max_iterations; /* >= 0; 0 = none */
  uint64_t seed;
} sg_aco_params;

/* The defaults: alpha 1, beta 2, rho 0.02, local search on, everything else 0 (auto). */
void sg_aco_params_default(sg_aco_params *p);
/* SG_OK, or INVALID_ARGUMENT naming the field ("params.alpha: ..."); sg_aco_begin checks too. */
sg_status sg_aco_params_check(const sg_aco_params *p, sg_err *err);

typedef struct sg_aco_progress {
  int64_t iterations; /* done so far */
  double best_cost;   /* best feasible cost so far; INFINITY while none is feasible */
  int feasible;       /* 1 once a feasible solution was found */
  double elapsed_s;   /* wall time since sg_aco_begin was called (as of the last step) */
  int done;           /* 1 when a time or iteration limit is reached */
} sg_aco_progress;

/* The best solution so far: a view into the solver, valid until its next step or end. */
typedef struct sg_aco_solution {
  double cost;              /* travel distance in the instance's own metric, recomputed from the
                               routes (service time excluded); INFINITY when infeasible */
  int feasible;             /* 0 only for CVRP when no route plan met the limits yet */
  int n_routes;             /* TSP: 1 */
  const int *route_start;   /* (n_routes + 1) offsets into nodes */
  const int *nodes;         /* 0-based node indices. TSP: the tour, n entries starting at node 0;
                               CVRP: the customers of each route in visiting order (no depot) */
  const int64_t *ids;       /* the same nodes as external ids (the problem's ids, or 1..n) */
  const double *trace_t;    /* (trace_len) seconds since begin at each improvement of the best */
  const double *trace_cost; /* (trace_len) the best feasible cost at that time */
  int trace_len;
  int64_t iterations;
  double elapsed_s;
} sg_aco_solution;

typedef struct sg_aco_solver sg_aco_solver;

/* Validates problem and params, copies what it needs (the caller's arrays may go afterwards),
 * builds candidate lists and an initial solution, and opens the backend state on x.
 * The solver keeps x: every later call must use the same exec, from one thread at a time.
 * Returns NULL with err set: SG_INVALID_ARGUMENT (field named), SG_OUT_OF_MEMORY,
 * device errors from the backend. */
sg_aco_solver *sg_aco_begin(sg_exec *x, const sg_aco_problem *problem, const sg_aco_params *params,
                            sg_err *err);

/* Runs up to max_iterations (>= 1) iterations, fewer when a limit is reached, and fills progress
 * (may be NULL). After done, further steps do nothing and return SG_OK. */
sg_status sg_aco_step(sg_aco_solver *s, int64_t max_iterations, sg_aco_progress *progress,
                      sg_err *err);

/* Runs until a limit is reached (needs time_limit_s or max_iterations). */
sg_status sg_aco_run(sg_aco_solver *s, sg_aco_progress *progress, sg_err *err);

/* Fills out with a view of the best solution so far (see sg_aco_solution). */
void sg_aco_best(sg_aco_solver *s, sg_aco_solution *out);

void sg_aco_end(sg_aco_solver *s);

/* ---- TSPLIB (.tsp, .tour) and CVRPLIB (.vrp) files (kernels/aco/tsplib.c) ---- */

/* A parsed instance owning its arrays; `problem` views them. */
typedef struct sg_aco_instance {
  char name[128];
  char type[16]; /* "TSP" or "CVRP" */
  sg_aco_problem problem;
  double *x, *y, *matrix, *service_time;
  int *demand;
  int64_t *ids;
} sg_aco_instance;

/* Flags for sg_aco_instance_read / _parse */
#define SG_ACO_READ_EXACT 1 /* read EUC_2D as EXACT_2D (CVRPLIB CMT: unrounded distances) */

/* Parses TSPLIB TSP and CVRPLIB CVRP text: headers as "KEY : value" or "KEY: value", CRLF or
 * LF; EDGE_WEIGHT_TYPE EUC_2D, CEIL_2D, ATT, GEO, EXPLICIT with EDGE_WEIGHT_FORMAT FULL_MATRIX,
 * UPPER_ROW, LOWER_ROW, UPPER_DIAG_ROW, LOWER_DIAG_ROW (and the *_COL twins); sections
 * NODE_COORD, EDGE_WEIGHT, DEMAND, DEPOT, DISPLAY_DATA (ignored); CAPACITY, DISTANCE,
 * SERVICE_TIME, VEHICLES. The depot becomes node 0 (nodes are reordered so). Errors name the
 * source and line: "E-n13-k4.vrp:12: demand for unknown node 14". The result passes
 * sg_aco_problem_check. Free with sg_aco_instance_free. */
sg_aco_instance *sg_aco_instance_parse(const char *text, size_t len, const char *source, int flags,
                                       sg_err *err);
sg_aco_instance *sg_aco_instance_read(const char *path, int flags, sg_err *err);
void sg_aco_instance_free(sg_aco_instance *inst);

/* Reads the TOUR_SECTION of a TSPLIB .tour file as 0-based node indices of inst (mapping the
 * file's ids through inst->problem.ids). tour must hold inst->problem.n entries. */
sg_status sg_aco_tour_read(const char *path, const sg_aco_instance *inst, int *tour, sg_err *err);

SG_END_DECLS

#endif
