/* The aco op family's backend slots; arguments are validated by kernels/aco/aco.c.
 * A backend only runs the ants: open uploads the prepared model, iterate runs every ant of one
 * iteration (construction + local search) and returns their costs and each colony's iteration
 * best, close frees. The MAX-MIN bookkeeping (pheromone, bests, penalties) stays on the host in
 * aco_solver.c, the same code for every backend. */
#ifndef SG_ACO_BACKENDS_H
#define SG_ACO_BACKENDS_H

#include "../common/backend_impl.h"
#include "aco_core.h"

SG_BEGIN_DECLS

/* What iterate returns (host memory, owned by the solver). */
typedef struct sg__aco_out {
  double *cost;  /* (colonies x ants) travel cost of each ant's solution */
  double *pcost; /* (colonies x ants) penalised cost (CVRP), = cost for the TSP */
  int *flags;    /* (colonies x ants) SG__ACO_FEASIBLE | SG__ACO_LOAD_OK | SG__ACO_DUR_OK */
  int *best_sol; /* (colonies x sol_cap) each colony's iteration-best solution */
  int *best_len; /* (colonies) its length in ints */
} sg__aco_out;

typedef struct sg_aco_ops {
  /* m: host view of the prepared model (valid until close); allocates room for
   * colonies x ants ants. *state is the backend's. */
  sg_status (*open)(sg_exec *x, const sg__aco_model *m, int colonies, int ants, void **state,
                    sg_err *err);
  /* it: host pointers (choice, src, src_pos, lambda); fills out. */
  sg_status (*iterate)(sg_exec *x, void *state, const sg__aco_iter *it, sg__aco_out *out,
                       sg_err *err);
  sg_status (*close)(sg_exec *x, void *state, sg_err *err);
} sg_aco_ops;

extern const sg_aco_ops sg__aco_cpu_ops;
extern const sg_aco_ops sg__aco_cuda_ops; /* only in builds with CUDA */

/* Index of colony c's iteration-best ant among ants a0..a0+ants-1: feasible first, then lower
 * cost (feasible) or penalised cost (infeasible), then the lower index. Shared by backends. */
static inline int sg__aco_pick(const double *cost, const double *pcost, const int *flags, int a0,
                               int ants) {
  int b = a0;
  for (int a = a0 + 1; a < a0 + ants; a++) {
    int fa = flags[a] & SG__ACO_FEASIBLE, fb = flags[b] & SG__ACO_FEASIBLE;
    if (fa != fb) {
      if (fa) b = a;
      continue;
    }
    if (fa ? cost[a] < cost[b] : pcost[a] < pcost[b]) b = a;
  }
  return b;
}

SG_END_DECLS

#endif
