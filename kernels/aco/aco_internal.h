/* Host-side internals of the aco family shared across its files (not for the server):
 * candidate lists, the solver object and the host steps of the MAX-MIN Ant System. */
#ifndef SG_ACO_INTERNAL_H
#define SG_ACO_INTERNAL_H

#include "aco.h"
#include "aco_backends.h"
#include "aco_core.h"

SG_BEGIN_DECLS

/* k nearest nodes of every node among nodes first..n-1 (never itself), nearest first by the
 * model's metric (ties: Euclidean, then index). Coordinates: a k-d tree (2-d, or 3-d unit
 * vectors for GEO); EXPLICIT: a scan of each row. cand: (n x k). k < n - first. */
sg_status sg__aco_candidates(const sg__aco_model *m, int first, int k, int threads, int *cand,
                             sg_err *err);

typedef struct sg__aco_trace {
  double *t, *cost;
  int len, cap;
} sg__aco_trace;

struct sg_aco_solver {
  sg_exec *x;
  sg_aco_params prm;   /* with defaults resolved */
  sg__aco_model model; /* host view of the arrays below */
  double *xs, *ys, *matrix, *service;
  int *demand, *cand;
  int64_t *ids;
  int n, m, k, colonies, ants, sol_cap;
  void *state; /* backend state from the open slot */
  /* pheromone on candidate edges, per colony: (colonies x n x k) */
  double *eta_beta, *tau, *choice;
  double tau_max_ratio_min; /* tau_min / tau_max */
  /* colony state */
  int *src, *src_pos;     /* (colonies x m), (colonies x n) */
  double *lambda;         /* (colonies x 2) */
  int *cbest, *cbest_len; /* (colonies x sol_cap), (colonies) */
  double *cbest_cost, *cbest_pcost;
  int *cbest_feas;
  int64_t *c_improved; /* iteration of the last improvement of each colony */
  /* one iteration's results */
  double *ant_cost, *ant_pcost;
  int *ant_flags, *it_sol, *it_len;
  /* global best */
  int *gbest, gbest_len, gbest_feas;
  double gbest_cost, gbest_pcost;
  sg__aco_trace trace;
  /* the view sg_aco_best returns */
  int *view_nodes, *view_start, view_routes;
  int64_t *view_ids;
  void *host_scratch; /* one ant's scratch for host-side local search */
  int64_t iterations;
  double elapsed; /* seconds since begin, as of the end of the last step */
  double t_begin; /* now_s() when begin was called */
  double iter_s;  /* how long the last iteration took */
  int done;
};

/* Builds the initial solution on the host (nearest neighbour + local search) and seeds every
 * colony with it. */
sg_status sg__aco_seed(sg_aco_solver *s, sg_err *err);

/* Host part of one iteration after the ants ran: colony and global bests, penalties, pheromone,
 * sources, exchanges and restarts. elapsed: compute seconds now (for the trace). */
void sg__aco_after_ants(sg_aco_solver *s, double elapsed);

/* Fills s->choice for colony c from s->tau. */
void sg__aco_choice(sg_aco_solver *s, int c);

/* 1 when (cost a, pcost a, feasible a) beats b; ties keep b (the earlier). */
int sg__aco_better(int feas_a, double cost_a, double pcost_a, int feas_b, double cost_b,
                   double pcost_b);

SG_END_DECLS

#endif
