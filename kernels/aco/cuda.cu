// CUDA backend of the aco op family: one thread per ant runs the very same construction and
// local search as the CPU (aco_tsp.h, aco_vrp.h, compiled with -fmad=false), so a seed gives
// the same ants on both backends. Why on the device and per thread: the local search is
// sequential, branchy pointer chasing over one ant's tour; the parallel dimension is the ants
// (thousands per iteration), and keeping the search next to the construction avoids moving
// every tour over PCIe. The host keeps the pheromone bookkeeping (aco_solver.c, O(n·k) per
// iteration): each iteration uploads the colonies' choice weights and sources, runs the ants
// kernel in waves sized to a scratch budget, and downloads the costs and each colony's best.
#include <stdlib.h>
#include <string.h>

#include "../common/cuda_exec.h"
#include "../common/size.h"
#include "aco_backends.h"
#include "aco_vrp.h"

#define BLOCK 32                         // ants per block: one warp, spread over the SMs
#define SCRATCH_BUDGET ((size_t)2 << 30) // device bytes of per-ant scratch at most

typedef struct cuda_state {
  sg__aco_model m; // device pointers
  int colonies, ants, total, sol_cap, slots;
  size_t scratch_bytes;
  double *x, *y, *matrix, *service, *choice, *lambda, *cost, *pcost;
  int *cand, *demand, *src, *src_pos, *sol, *len, *flags;
  unsigned char *scratch; // (slots x scratch_bytes)
  int *h_len;             // host copy of len
} cuda_state;

// ---- kernels ----

// One ant per thread: ants first .. first+count-1 of the iteration.
// scratch: (count x scratch_bytes) bytes; sol: (total x sol_cap) ints; len, flags: (total) ints;
// cost, pcost: (total) doubles. m and it hold device pointers.
static __global__ void ants_kernel(sg__aco_model m, sg__aco_iter it, int first, int count,
                                   unsigned char *scratch, size_t scratch_bytes, int *sol,
                                   int sol_cap, int *len, double *cost, double *pcost, int *flags) {
  int t = blockIdx.x * blockDim.x + threadIdx.x;
  if (t >= count) return;
  int a = first + t;
  void *ws = scratch + (size_t)t * scratch_bytes;
  int *s = sol + (size_t)a * sol_cap;
  if (!m.vrp) {
    double c = sg__aco_tsp_ant(&m, &it, a, ws, s);
    cost[a] = c;
    pcost[a] = c;
    flags[a] = SG__ACO_FEASIBLE | SG__ACO_LOAD_OK | SG__ACO_DUR_OK;
    len[a] = m.n;
  } else {
    sg__aco_vrp_ant(&m, &it, a, ws, s, &len[a], &cost[a], &pcost[a], &flags[a]);
  }
}

// ---- launcher ----

static sg_status launch_ants(sg_exec *x, cuda_state *st, const sg__aco_iter *it, sg_err *err) {
  cudaStream_t stream = sg__cuda_exec(x)->stream;
  for (int first = 0; first < st->total; first += st->slots) {
    int count = st->total - first < st->slots ? st->total - first : st->slots;
    int grid = (count + BLOCK - 1) / BLOCK;
    ants_kernel<<<grid, BLOCK, 0, stream>>>(st->m, *it, first, count, st->scratch,
                                            st->scratch_bytes, st->sol, st->sol_cap, st->len,
                                            st->cost, st->pcost, st->flags);
    SG_TRY(SG_CUDA_CHECK_LAUNCH(err));
  }
  return SG_OK;
}

// ---- slots ----

// From the worker's stream-ordered pool (sg__cuda_alloc): a job's steps stay on one worker, so
// its buffers are only ever used on that worker's stream.
template <typename T> static sg_status dev_alloc(sg_exec *x, T **p, size_t count, sg_err *err) {
  size_t bytes;
  if (!sg_size_mul(count ? count : 1, sizeof(T), &bytes))
    return sg_err_set(err, SG_OVERFLOW, "aco cuda: buffer of %zu elements overflows", count);
  void *d = NULL;
  SG_TRY(sg__cuda_alloc(x, bytes, &d, err));
  *p = (T *)d;
  return SG_OK;
}

template <typename T>
static sg_status upload(T *dst, const T *src, size_t count, cudaStream_t s, sg_err *err) {
  if (!count) return SG_OK;
  return SG_CUDA_CHECK(cudaMemcpyAsync(dst, src, count * sizeof(T), cudaMemcpyHostToDevice, s),
                       err);
}

static sg_status aco_close_cuda(sg_exec *x, void *state, sg_err *err) {
  (void)err;
  cuda_state *st = (cuda_state *)state;
  if (!st) return SG_OK;
  cudaSetDevice(sg__cuda_exec(x)->device);
  cudaStreamSynchronize(sg__cuda_exec(x)->stream);
  void *bufs[] = {st->x,    st->y,     st->matrix, st->service, st->choice, st->lambda,
                  st->cost, st->pcost, st->cand,   st->demand,  st->src,    st->src_pos,
                  st->sol,  st->len,   st->flags,  st->scratch};
  for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
    sg__cuda_free(x, bufs[i]);
  free(st->h_len);
  free(st);
  return SG_OK;
}

static sg_status copy_model(sg_exec *x, cuda_state *st, const sg__aco_model *m, sg_err *err) {
  cudaStream_t s = sg__cuda_exec(x)->stream;
  size_t n = (size_t)m->n;
  st->m = *m;
  if (m->x) {
    SG_TRY(dev_alloc(x, &st->x, n, err));
    SG_TRY(dev_alloc(x, &st->y, n, err));
    SG_TRY(upload(st->x, m->x, n, s, err));
    SG_TRY(upload(st->y, m->y, n, s, err));
  }
  if (m->matrix) {
    SG_TRY(dev_alloc(x, &st->matrix, n * n, err));
    SG_TRY(upload(st->matrix, m->matrix, n * n, s, err));
  }
  SG_TRY(dev_alloc(x, &st->cand, n * (size_t)m->k, err));
  SG_TRY(upload(st->cand, m->cand, n * (size_t)m->k, s, err));
  if (m->vrp) {
    SG_TRY(dev_alloc(x, &st->demand, n, err));
    SG_TRY(dev_alloc(x, &st->service, n, err));
    SG_TRY(upload(st->demand, m->demand, n, s, err));
    SG_TRY(upload(st->service, m->service, n, s, err));
  }
  st->m.x = st->x;
  st->m.y = st->y;
  st->m.matrix = st->matrix;
  st->m.cand = st->cand;
  st->m.demand = st->demand;
  st->m.service = st->service;
  return SG_OK;
}

static sg_status alloc_iteration(sg_exec *x, cuda_state *st, sg_err *err) {
  size_t n = (size_t)st->m.n, c = (size_t)st->colonies, total = (size_t)st->total;
  size_t m = st->m.vrp ? n - 1 : n;
  SG_TRY(dev_alloc(x, &st->choice, c * n * (size_t)st->m.k, err));
  SG_TRY(dev_alloc(x, &st->src, c * m, err));
  SG_TRY(dev_alloc(x, &st->src_pos, c * n, err));
  SG_TRY(dev_alloc(x, &st->lambda, c * 2, err));
  SG_TRY(dev_alloc(x, &st->sol, total * (size_t)st->sol_cap, err));
  SG_TRY(dev_alloc(x, &st->len, total, err));
  SG_TRY(dev_alloc(x, &st->flags, total, err));
  SG_TRY(dev_alloc(x, &st->cost, total, err));
  SG_TRY(dev_alloc(x, &st->pcost, total, err));
  size_t fit = SCRATCH_BUDGET / st->scratch_bytes;
  st->slots = fit < total ? (int)(fit ? fit : 1) : st->total;
  SG_TRY(dev_alloc(x, &st->scratch, (size_t)st->slots * st->scratch_bytes, err));
  st->h_len = (int *)malloc(total * sizeof(int));
  if (!st->h_len) return sg_err_set(err, SG_OUT_OF_MEMORY, "aco cuda: out of host memory");
  return SG_OK;
}

static sg_status aco_open_cuda(sg_exec *x, const sg__aco_model *m, int colonies, int ants,
                               void **state, sg_err *err) {
  cuda_state *st = (cuda_state *)calloc(1, sizeof *st);
  if (!st) return sg_err_set(err, SG_OUT_OF_MEMORY, "aco cuda: out of host memory");
  st->colonies = colonies;
  st->ants = ants;
  st->total = colonies * ants;
  st->sol_cap = m->vrp ? 2 * m->n : m->n;
  st->scratch_bytes = sg__aco_scratch_bytes(m);
  sg_cuda_exec *c = sg__cuda_exec(x);
  sg_status s = SG_CUDA_CHECK(cudaSetDevice(c->device), err);
  if (s == SG_OK) s = copy_model(x, st, m, err);
  if (s == SG_OK) s = alloc_iteration(x, st, err);
  if (s == SG_OK) s = sg__cuda_sync(x, err);
  if (s != SG_OK) {
    aco_close_cuda(x, st, err);
    return s;
  }
  *state = st;
  return SG_OK;
}

static sg_status aco_iterate_cuda(sg_exec *x, void *state, const sg__aco_iter *it, sg__aco_out *out,
                                  sg_err *err) {
  cuda_state *st = (cuda_state *)state;
  cudaStream_t s = sg__cuda_exec(x)->stream;
  size_t n = (size_t)st->m.n, c = (size_t)st->colonies, total = (size_t)st->total;
  SG_TRY(SG_CUDA_CHECK(cudaSetDevice(sg__cuda_exec(x)->device), err));
  SG_TRY(upload(st->choice, it->choice, c * n * (size_t)st->m.k, s, err));
  SG_TRY(upload(st->src, it->src, c * (size_t)it->m, s, err));
  SG_TRY(upload(st->src_pos, it->src_pos, c * n, s, err));
  if (st->m.vrp) SG_TRY(upload(st->lambda, it->lambda, c * 2, s, err));
  sg__aco_iter dit = *it;
  dit.choice = st->choice;
  dit.src = st->src;
  dit.src_pos = st->src_pos;
  dit.lambda = st->lambda;
  SG_TRY(launch_ants(x, st, &dit, err));
  cudaMemcpyKind d2h = cudaMemcpyDeviceToHost;
  SG_TRY(SG_CUDA_CHECK(cudaMemcpyAsync(out->cost, st->cost, total * sizeof(double), d2h, s), err));
  SG_TRY(
      SG_CUDA_CHECK(cudaMemcpyAsync(out->pcost, st->pcost, total * sizeof(double), d2h, s), err));
  SG_TRY(SG_CUDA_CHECK(cudaMemcpyAsync(out->flags, st->flags, total * sizeof(int), d2h, s), err));
  SG_TRY(SG_CUDA_CHECK(cudaMemcpyAsync(st->h_len, st->len, total * sizeof(int), d2h, s), err));
  SG_TRY(sg__cuda_sync(x, err));
  for (int col = 0; col < st->colonies; col++) {
    int b = sg__aco_pick(out->cost, out->pcost, out->flags, col * st->ants, st->ants);
    if (st->h_len[b] < 0 || st->h_len[b] > st->sol_cap)
      return sg_err_set(err, SG_INTERNAL, "aco cuda: ant %d returned a solution of %d ints", b,
                        st->h_len[b]);
    out->best_len[col] = st->h_len[b];
    SG_TRY(SG_CUDA_CHECK(cudaMemcpyAsync(out->best_sol + (size_t)col * st->sol_cap,
                                         st->sol + (size_t)b * st->sol_cap,
                                         (size_t)st->h_len[b] * sizeof(int), d2h, s),
                         err));
  }
  return sg__cuda_sync(x, err);
}

extern "C" const sg_aco_ops sg__aco_cuda_ops = {aco_open_cuda, aco_iterate_cuda, aco_close_cuda};
