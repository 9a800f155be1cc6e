/* The host half of the MAX-MIN Ant System, shared by every backend: the initial solution,
 * colony and global bests, CVRP penalty weights, pheromone on candidate edges (evaporation,
 * deposit, trail limits tau_min..tau_max), each colony's source solution for the next focused
 * construction, exchanges of the global best and restarts. Deterministic: it only reads the
 * ants' results, in a fixed order. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "aco_internal.h"
#include "aco_vrp.h"

#define P_BEST 0.05       /* MMAS: probability of rebuilding the best solution at convergence */
#define RESTART_AFTER 100 /* iterations without a colony improvement before a pheromone reset */
#define TARGET_LO 0.15    /* CVRP: wanted share of ants whose search ends within the limits */
#define TARGET_HI 0.35

int sg__aco_better(int feas_a, double cost_a, double pcost_a, int feas_b, double cost_b,
                   double pcost_b) {
  if (feas_a != feas_b) return feas_a;
  return feas_a ? cost_a < cost_b : pcost_a < pcost_b;
}

void sg__aco_choice(sg_aco_solver *s, int c) {
  size_t nk = (size_t)s->n * (size_t)s->k;
  const double *tau = s->tau + (size_t)c * nk;
  double *ch = s->choice + (size_t)c * nk;
  double a = s->prm.alpha;
  for (size_t i = 0; i < nk; i++)
    ch[i] = (a == 1.0 ? tau[i] : pow(tau[i], a)) * s->eta_beta[i];
}

/* source sequence of colony c from its best solution (CVRP: the customers, route after route) */
static void set_source(sg_aco_solver *s, int c) {
  const int *b = s->cbest + (size_t)c * s->sol_cap;
  int *src = s->src + (size_t)c * s->m, *pos = s->src_pos + (size_t)c * s->n;
  int len = 0;
  for (int i = 0; i < s->cbest_len[c]; i++)
    if (!s->model.vrp || b[i] != 0) src[len++] = b[i];
  for (int i = 0; i < s->m; i++)
    pos[src[i]] = i;
}

static double tau_max_of(const sg_aco_solver *s, int c) {
  double cost = s->cbest_feas[c] ? s->cbest_cost[c] : s->cbest_pcost[c];
  return 1.0 / (s->prm.rho * (cost > 0 ? cost : 1.0));
}

static void reset_tau(sg_aco_solver *s, int c) {
  size_t nk = (size_t)s->n * (size_t)s->k;
  double tmax = tau_max_of(s, c);
  double *tau = s->tau + (size_t)c * nk;
  for (size_t i = 0; i < nk; i++)
    tau[i] = tmax;
}

static void adopt(sg_aco_solver *s, int c, const int *sol, int len, double cost, double pcost,
                  int feas) {
  memcpy(s->cbest + (size_t)c * s->sol_cap, sol, (size_t)len * sizeof(int));
  s->cbest_len[c] = len;
  s->cbest_cost[c] = cost;
  s->cbest_pcost[c] = pcost;
  s->cbest_feas[c] = feas;
}

static void trace_push(sg_aco_solver *s, double t, double cost) {
  sg__aco_trace *tr = &s->trace;
  if (tr->len == tr->cap) {
    int cap = tr->cap ? 2 * tr->cap : 64;
    double *nt = realloc(tr->t, (size_t)cap * sizeof *nt);
    if (nt) tr->t = nt;
    double *nc = realloc(tr->cost, (size_t)cap * sizeof *nc);
    if (nc) tr->cost = nc;
    if (!nt || !nc) return; /* out of memory: the trace stops growing, the search goes on */
    tr->cap = cap;
  }
  tr->t[tr->len] = t;
  tr->cost[tr->len++] = cost;
}

static void update_global(sg_aco_solver *s, int c, double elapsed) {
  if (!sg__aco_better(s->cbest_feas[c], s->cbest_cost[c], s->cbest_pcost[c], s->gbest_feas,
                      s->gbest_cost, s->gbest_pcost))
    return;
  s->gbest_len = s->cbest_len[c];
  memcpy(s->gbest, s->cbest + (size_t)c * s->sol_cap, (size_t)s->gbest_len * sizeof(int));
  s->gbest_cost = s->cbest_cost[c];
  s->gbest_pcost = s->cbest_pcost[c];
  s->gbest_feas = s->cbest_feas[c];
  if (s->gbest_feas) trace_push(s, elapsed, s->gbest_cost);
}

/* adds amount to the trail of edge (a, b) where b is a candidate of a, and the reverse */
static void deposit_edge(sg_aco_solver *s, double *tau, int a, int b, double amount, double tmax) {
  for (int pass = 0; pass < 2; pass++) {
    const int *ca = s->cand + (size_t)a * s->k;
    for (int j = 0; j < s->k; j++) {
      if (ca[j] != b) continue;
      double *t = &tau[(size_t)a * s->k + j];
      *t = *t + amount > tmax ? tmax : *t + amount;
      break;
    }
    int t = a;
    a = b;
    b = t;
  }
}

static void pheromone(sg_aco_solver *s, int c, const int *sol, int len, double cost) {
  size_t nk = (size_t)s->n * (size_t)s->k;
  double *tau = s->tau + (size_t)c * nk;
  double tmax = tau_max_of(s, c), tmin = tmax * s->tau_max_ratio_min;
  double keep = 1.0 - s->prm.rho;
  for (size_t i = 0; i < nk; i++)
    tau[i] = tau[i] * keep < tmin ? tmin : tau[i] * keep;
  double amount = 1.0 / (cost > 0 ? cost : 1.0);
  for (int i = 0; i < len; i++) {
    int a = sol[i], b = sol[i + 1 < len ? i + 1 : 0];
    if (s->model.vrp && (a == 0 || b == 0)) continue; /* depot edges carry no pheromone */
    deposit_edge(s, tau, a, b, amount, tmax);
  }
}

/* CVRP: steer the penalty weights toward TARGET_LO..TARGET_HI of ants within each limit */
static void adapt_penalties(sg_aco_solver *s, int c) {
  int a0 = c * s->ants, load_ok = 0, dur_ok = 0;
  for (int a = a0; a < a0 + s->ants; a++) {
    load_ok += (s->ant_flags[a] & SG__ACO_LOAD_OK) != 0;
    dur_ok += (s->ant_flags[a] & SG__ACO_DUR_OK) != 0;
  }
  double *lam = s->lambda + 2 * c;
  double share[2] = {(double)load_ok / s->ants, (double)dur_ok / s->ants};
  for (int i = 0; i < 2; i++) {
    if (share[i] < TARGET_LO)
      lam[i] *= 1.2;
    else if (share[i] > TARGET_HI)
      lam[i] *= 0.85;
    lam[i] = lam[i] < 1e-6 ? 1e-6 : (lam[i] > 1e12 ? 1e12 : lam[i]);
  }
}

void sg__aco_after_ants(sg_aco_solver *s, double elapsed) {
  int64_t it = s->iterations;
  for (int c = 0; c < s->colonies; c++) {
    const int *sol = s->it_sol + (size_t)c * s->sol_cap;
    int best = sg__aco_pick(s->ant_cost, s->ant_pcost, s->ant_flags, c * s->ants, s->ants);
    int feas = (s->ant_flags[best] & SG__ACO_FEASIBLE) != 0;
    double cost = s->ant_cost[best], pcost = s->ant_pcost[best];
    if (sg__aco_better(feas, cost, pcost, s->cbest_feas[c], s->cbest_cost[c], s->cbest_pcost[c]))
      s->c_improved[c] = it;
    /* ties move the source too: drifting over equal-cost solutions helps escape plateaus */
    if (!sg__aco_better(s->cbest_feas[c], s->cbest_cost[c], s->cbest_pcost[c], feas, cost, pcost))
      adopt(s, c, sol, s->it_len[c], cost, pcost, feas);
    if (s->model.vrp) adapt_penalties(s, c);
    if (it % 4 == 0) {
      pheromone(s, c, s->cbest + (size_t)c * s->sol_cap, s->cbest_len[c],
                s->cbest_feas[c] ? s->cbest_cost[c] : s->cbest_pcost[c]);
    } else {
      pheromone(s, c, sol, s->it_len[c], feas ? cost : pcost);
    }
    if (it - s->c_improved[c] >= RESTART_AFTER) {
      reset_tau(s, c);
      s->c_improved[c] = it;
    }
    update_global(s, c, elapsed);
  }
  int exchange = s->colonies > 1 && (it + 1) % s->prm.exchange_every == 0;
  for (int c = 0; c < s->colonies; c++) {
    if (exchange && sg__aco_better(s->gbest_feas, s->gbest_cost, s->gbest_pcost, s->cbest_feas[c],
                                   s->cbest_cost[c], s->cbest_pcost[c]))
      adopt(s, c, s->gbest, s->gbest_len, s->gbest_cost, s->gbest_pcost, s->gbest_feas);
    set_source(s, c);
    sg__aco_choice(s, c);
  }
}

/* ---- the initial solution ---- */

/* nearest-neighbour sequence over nodes first..n-1 starting at start */
static void nearest_neighbour(const sg__aco_model *m, int first, int start, int *out,
                              unsigned char *seen) {
  int n = m->n, scan = first;
  memset(seen, 0, (size_t)n);
  out[0] = start;
  seen[start] = 1;
  for (int i = 1; i < n - first; i++) {
    int u = out[i - 1], v = -1;
    for (int k = 0; k < m->k && v < 0; k++)
      if (!seen[m->cand[(size_t)u * m->k + k]]) v = m->cand[(size_t)u * m->k + k];
    if (v < 0) {
      while (seen[scan])
        scan++;
      v = scan;
    }
    out[i] = v;
    seen[v] = 1;
  }
}

static void seed_tsp(sg_aco_solver *s, int *sol, int *len, double *cost) {
  const sg__aco_model *m = &s->model;
  int n = s->n;
  unsigned char *arena = s->host_scratch;
  int *pos = sg__aco_take(&arena, (size_t)n * sizeof(int));
  int *q = sg__aco_take(&arena, (size_t)n * sizeof(int));
  unsigned char *flag = sg__aco_take(&arena, (size_t)n);
  nearest_neighbour(m, 0, 0, sol, flag);
  memset(flag, 0, (size_t)n);
  sg__aco_queue qu = {q, 0, 0, n};
  for (int i = 0; i < n; i++)
    sg__aco_push(&qu, flag, sol[i]);
  if (s->prm.local_search) sg__aco_tsp_ls(m, sol, pos, n, &qu, flag);
  *len = n;
  *cost = sg__aco_tour_cost(m, sol, n);
}

static void seed_vrp(sg_aco_solver *s, int *sol, int *len, double *cost, double *pcost,
                     int *flags) {
  const sg__aco_model *m = &s->model;
  sg__aco_vrp_ws w = sg__aco_vrp_carve(m, s->host_scratch);
  nearest_neighbour(m, 1, m->cand[0], w.giant, w.flag);
  double far = 1.0, big = 1.0;
  for (int i = 1; i < s->n; i++) {
    double d = sg__aco_dist(m, 0, i);
    far = d > far ? d : far;
    big = m->demand[i] > big ? m->demand[i] : big;
  }
  double lc = far / big < 0.1 ? 0.1 : far / big; /* a unit of excess load ~ the longest leg */
  for (int c = 0; c < s->colonies; c++) {
    s->lambda[2 * c] = lc;
    s->lambda[2 * c + 1] = 1.0;
  }
  sg__aco_rng rng;
  sg__aco_rng_init(&rng, s->prm.seed, 0, 0);
  sg__aco_vrp_improve(&w, s->prm.local_search, lc, 1.0, &rng, sol, len, cost, pcost, flags);
}

sg_status sg__aco_seed(sg_aco_solver *s, sg_err *err) {
  (void)err;
  const sg__aco_model *m = &s->model;
  size_t nk = (size_t)s->n * (size_t)s->k;
  double mean = 0.0;
  for (size_t i = 0; i < nk; i++)
    mean += sg__aco_dist(m, (int)(i / s->k), s->cand[i]);
  double delta = 1e-3 * mean / (double)nk + 1e-12;
  for (size_t i = 0; i < nk; i++) {
    double d = sg__aco_dist(m, (int)(i / s->k), s->cand[i]);
    s->eta_beta[i] = pow(1.0 / (d + delta), s->prm.beta);
  }
  double root = pow(P_BEST, 1.0 / s->n);
  double avg = s->k > 2 ? s->k / 2.0 : 1.5;
  s->tau_max_ratio_min = (1.0 - root) / ((avg - 1.0) * root);
  int *sol = s->it_sol, len = 0, flags = SG__ACO_FEASIBLE;
  double cost, pcost;
  if (m->vrp)
    seed_vrp(s, sol, &len, &cost, &pcost, &flags);
  else {
    seed_tsp(s, sol, &len, &cost);
    pcost = cost;
  }
  for (int c = 0; c < s->colonies; c++) {
    adopt(s, c, sol, len, cost, pcost, (flags & SG__ACO_FEASIBLE) != 0);
    s->c_improved[c] = 0;
    reset_tau(s, c);
    set_source(s, c);
    sg__aco_choice(s, c);
  }
  update_global(s, 0, 0.0);
  return SG_OK;
}
