/* CPU backend of the aco op family (the reference the CUDA backend must agree with): the ants
 * of one iteration run in an OpenMP loop, each on its worker thread's scratch. An ant's result
 * depends only on (seed, ant, iteration) and the inputs, never on the thread that ran it. */
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "../common/size.h"
#include "aco_backends.h"
#include "aco_vrp.h"

typedef struct cpu_state {
  const sg__aco_model *m;
  int colonies, ants, threads;
  size_t scratch_bytes;
  unsigned char *scratch; /* (threads x scratch_bytes) */
  int *sol;               /* (colonies*ants x sol_cap) */
  int *len;               /* (colonies*ants) */
  int sol_cap;
} cpu_state;

static sg_status aco_open_cpu(sg_exec *x, const sg__aco_model *m, int colonies, int ants,
                              void **state, sg_err *err) {
  cpu_state *st = calloc(1, sizeof *st);
  if (!st) return sg_err_set(err, SG_OUT_OF_MEMORY, "aco cpu: out of memory");
  st->m = m;
  st->colonies = colonies;
  st->ants = ants;
  st->threads = x->threads > 0 ? x->threads : 1;
  st->scratch_bytes = sg__aco_scratch_bytes(m);
  st->sol_cap = m->vrp ? 2 * m->n : m->n;
  size_t total = (size_t)colonies * (size_t)ants, sbytes, solints;
  int ok = sg_size_mul(st->scratch_bytes, (size_t)st->threads, &sbytes) &&
           sg_size_mul(total, (size_t)st->sol_cap, &solints) && solints < SIZE_MAX / sizeof(int);
  if (ok) {
    st->scratch = malloc(sbytes);
    st->sol = malloc(solints * sizeof(int));
    st->len = malloc(total * sizeof(int));
  }
  if (!ok || !st->scratch || !st->sol || !st->len) {
    free(st->scratch);
    free(st->sol);
    free(st->len);
    free(st);
    return sg_err_set(err, SG_OUT_OF_MEMORY, "aco cpu: out of memory for %zu ants of n = %d", total,
                      m->n);
  }
  *state = st;
  return SG_OK;
}

static void run_ant(const cpu_state *st, const sg__aco_iter *it, int a, void *scratch,
                    sg__aco_out *out) {
  const sg__aco_model *m = st->m;
  int *sol = st->sol + (size_t)a * st->sol_cap;
  if (!m->vrp) {
    out->cost[a] = out->pcost[a] = sg__aco_tsp_ant(m, it, a, scratch, sol);
    out->flags[a] = SG__ACO_FEASIBLE | SG__ACO_LOAD_OK | SG__ACO_DUR_OK;
    st->len[a] = m->n;
  } else {
    sg__aco_vrp_ant(m, it, a, scratch, sol, &st->len[a], &out->cost[a], &out->pcost[a],
                    &out->flags[a]);
  }
}

static sg_status aco_iterate_cpu(sg_exec *x, void *state, const sg__aco_iter *it, sg__aco_out *out,
                                 sg_err *err) {
  (void)x;
  (void)err;
  cpu_state *st = state;
  int total = st->colonies * st->ants;
#pragma omp parallel num_threads(st->threads)
  {
    void *scratch = st->scratch + (size_t)omp_get_thread_num() * st->scratch_bytes;
#pragma omp for schedule(dynamic, 1)
    for (int a = 0; a < total; a++)
      run_ant(st, it, a, scratch, out);
  }
  for (int c = 0; c < st->colonies; c++) {
    int b = sg__aco_pick(out->cost, out->pcost, out->flags, c * st->ants, st->ants);
    out->best_len[c] = st->len[b];
    memcpy(out->best_sol + (size_t)c * st->sol_cap, st->sol + (size_t)b * st->sol_cap,
           (size_t)st->len[b] * sizeof(int));
  }
  return SG_OK;
}

static sg_status aco_close_cpu(sg_exec *x, void *state, sg_err *err) {
  (void)x;
  (void)err;
  cpu_state *st = state;
  if (!st) return SG_OK;
  free(st->scratch);
  free(st->sol);
  free(st->len);
  free(st);
  return SG_OK;
}

const sg_aco_ops sg__aco_cpu_ops = {
    .open = aco_open_cpu, .iterate = aco_iterate_cpu, .close = aco_close_cpu};
