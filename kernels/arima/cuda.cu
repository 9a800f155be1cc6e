// CUDA backend of the arima op family. The same host+device pipeline as the CPU backend
// (arima_forecast.h), in double precision:
//   stepwise / fixed: one thread per series runs the whole pipeline;
//   grid: prepare (thread per series) -> fit (thread per series x candidate order) ->
//         finish (thread per series: pick, refit, forecast), so the grid's natural parallelism
//         fills the device.
// Series ranges are cut into chunks whose scratch fits a budget, so memory stays bounded.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../common/cuda_exec.h"
#include "arima_backends.h"
#include "arima_forecast.h"

#define SCRATCH_BUDGET ((size_t)1 << 30) /* bytes of device scratch per chunk */

// Views of one chunk of series on the device.
struct chunk {
  const double *y;   // (values of the chunk) concatenated
  const size_t *off; // (count + 1) offsets into y, from 0
  const double *xr;  // (values x nx) row-major, or NULL
  const double *xf;  // (count x h x nx) row-major, or NULL
  int nx;
  size_t count;
  double *scratch; // (count x per) doubles
  size_t per;
  sg__arima_search_state *states; // (count)
  sg_arima_fit *fits;             // (count)
  double *mean, *lo, *hi;         // (count x h), (count x L x h) x 2
};

static __device__ void series_ptrs(const chunk &c, const sg_arima_spec &s, size_t i,
                                   const double **y, int *n, const double **xr, const double **xf) {
  size_t o = c.off[i];
  *y = c.y + o;
  *n = (int)(c.off[i + 1] - o);
  *xr = c.nx ? c.xr + o * c.nx : NULL;
  *xf = c.nx ? c.xf + i * (size_t)s.h * c.nx : NULL;
}

// One thread per series: the whole stepwise or fixed-order pipeline.
static __global__ void series_kernel(sg_arima_spec s, chunk c) {
  size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
  if (i >= c.count) return;
  const double *y, *xr, *xf;
  int n;
  series_ptrs(c, s, i, &y, &n, &xr, &xf);
  size_t h = (size_t)s.h, hl = h * (size_t)s.n_levels;
  sg__arima_series(y, n, xr, xf, c.nx, &s, c.scratch + i * c.per, &c.states[i], &c.fits[i],
                   c.mean + i * h, c.lo + i * hl, c.hi + i * hl);
}

// Grid, stage 1: one thread per series prepares it (preps: (count)).
static __global__ void prepare_kernel(sg_arima_spec s, chunk c, sg__arima_prep *preps, int *need) {
  size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
  if (i >= c.count) return;
  const double *y, *xr, *xf;
  int n;
  series_ptrs(c, s, i, &y, &n, &xr, &xf);
  size_t h = (size_t)s.h, hl = h * (size_t)s.n_levels;
  need[i] = sg__arima_series_begin(y, n, xr, c.nx, &s, c.scratch + i * c.per, &preps[i], &c.fits[i],
                                   c.mean + i * h, c.lo + i * hl, c.hi + i * hl);
}

static __device__ int grid_valid(const sg_arima_spec &s, const sg__arima_prep &pp,
                                 sg__arima_key k) {
  int mo = s.max_order > 0 ? s.max_order : 1 << 20;
  if (k.p > pp.max_p || k.q > pp.max_q || k.P > pp.max_P || k.Q > pp.max_Q) return 0;
  if (k.p + k.q + k.P + k.Q > mo) return 0;
  return k.c ? pp.const_kind != 0 : (pp.const_kind == 0 || pp.const_auto);
}

// Grid, stage 2: one thread per (series i, candidate j). ics: (count x ncand), NaN = not tried.
// work: (count x ncand x wper) doubles.
// keys: (ncand) the grid's candidates in the CPU grid's order.
// Threads map onto (i, j) in tiles: the 32 lanes of a warp fit one candidate order to 32 series,
// and the next warps the next candidates for the same 32 series. Lanes of one order run the same
// loops (same p, q, P, Q: only the optimiser's iteration counts differ), where 32 orders of one
// series would branch apart at every inner loop; and a block's series stay few enough to be
// cached. Under the emulator's profile (SG_CUDA_EMU_PROFILE) the lanes' work per warp went from
// 26% to 34% of 32 x the slowest lane's on 200 simulated monthly series, ignoring the inner-loop
// divergence this removes besides. Launch grid_threads(count, ncand) threads.
static size_t grid_threads(size_t count, int ncand) {
  return (count + 31) / 32 * 32 * (size_t)ncand;
}

static __global__ void grid_kernel(sg_arima_spec s, chunk c, const sg__arima_prep *preps,
                                   const int *need, const sg__arima_key *keys, int ncand,
                                   double *work, size_t wper, double *ics) {
  size_t t = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
  size_t tile = 32 * (size_t)ncand;
  size_t i = t / tile * 32 + t % 32;
  int j = (int)(t % tile / 32);
  if (i >= c.count || j >= ncand) return;
  size_t slot = i * ncand + j;
  ics[slot] = NAN;
  if (!need[i]) return;
  sg__arima_prep pp = preps[i];
  sg__arima_key k = keys[j];
  if (!grid_valid(s, pp, k)) return;
  const double *w = c.scratch + i * c.per;
  sg__arima_cand cand;
  sg__arima_fit_key(&pp, w, w + pp.n, k, pp.ml_search, &s, work + slot * wper, &cand);
  ics[slot] = cand.ic;
}

// Grid, stage 3: one thread per series sorts its candidates, refits the winner, forecasts.
static __global__ void finish_kernel(sg_arima_spec s, chunk c, const sg__arima_prep *preps,
                                     const int *need, const sg__arima_key *keys, int ncand,
                                     const double *ics) {
  size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
  if (i >= c.count || !need[i]) return;
  const double *y, *xr, *xf;
  int n;
  series_ptrs(c, s, i, &y, &n, &xr, &xf);
  sg__arima_prep pp = preps[i];
  double *scratch = c.scratch + i * c.per;
  sg__arima_search_state *st = &c.states[i];
  sg__arima_state_init(st, &pp, scratch, &s, scratch + n + (size_t)(c.nx + 1) * n);
  for (int j = 0; j < ncand; j++) {
    double ic = ics[i * ncand + j];
    if (isnan(ic)) continue;
    sg__arima_key k = keys[j];
    k.ic = ic;
    st->fitted++;
    st->nk = sg__arima_keep(st->keys, st->nk, SG__ARIMA_MAX_KEYS, k);
  }
  sg__arima_grid_finish(st);
  size_t h = (size_t)s.h, hl = h * (size_t)s.n_levels;
  sg__arima_series_end(y, xr, xf, st, &c.fits[i], c.mean + i * h, c.lo + i * hl, c.hi + i * hl);
}

static int blocks(size_t n, int block) { return (int)((n + block - 1) / block); }

#define MAX_GRID 1024

// The grid's candidates in the CPU grid's order (constant first, then p, q, P, Q), within the
// spec's bounds and max_order; per-series caps are applied on the device (grid_valid).
static int grid_keys(const sg_arima_spec *s, sg__arima_key *keys) {
  int mo = s->max_order > 0 ? s->max_order : 1 << 20, n = 0;
  int mP = s->season > 1 ? s->max_P : 0, mQ = s->season > 1 ? s->max_Q : 0;
  for (int c = 1; c >= 0; c--)
    for (int p = 0; p <= s->max_p; p++)
      for (int q = 0; q <= s->max_q; q++)
        for (int P = 0; P <= mP; P++)
          for (int Q = 0; Q <= mQ; Q++)
            if (p + q + P + Q <= mo && n < MAX_GRID) {
              sg__arima_key k;
              k.p = (signed char)p, k.q = (signed char)q, k.P = (signed char)P;
              k.Q = (signed char)Q, k.c = (signed char)c, k.ic = 0.0;
              keys[n++] = k;
            }
  return n;
}

// Scratch of one grid thread: a CSS fit needs no Kalman workspace.
static size_t grid_wper(const sg_arima_spec *s, int nmax, int nx, int ml) {
  int m = s->season;
  sg__arma_order o = {s->max_p, s->max_q, m > 1 ? s->max_P : 0, m > 1 ? s->max_Q : 0, m, nx + 1};
  return (size_t)(ml ? sg__arima_obj_scratch(o, nmax) : sg__arima_obj_scratch_css(o, nmax));
}

// Device bytes one series of a chunk needs.
static size_t per_series_bytes(const sg_arima_spec *s, size_t per, size_t wper, int nx, int ncand) {
  size_t b = per * sizeof(double) + sizeof(sg__arima_search_state) + sizeof(sg_arima_fit) +
             sizeof(double) * (size_t)s->h * (1 + 2 * (size_t)s->n_levels) + sizeof(size_t) +
             sizeof(sg__arima_prep) + sizeof(int);
  if (s->search == SG_ARIMA_GRID) b += (size_t)ncand * (wper + 1) * sizeof(double);
  (void)nx;
  return b;
}

// Carves the device buffer into the chunk's arrays.
static void carve(uintptr_t base, const sg_arima_spec *s, size_t count, size_t nvals, int nx,
                  chunk *c, sg__arima_prep **preps, int **need, double **work, size_t wper,
                  double **ics, sg__arima_key **keys, int ncand, size_t *off_bytes) {
  size_t h = (size_t)s->h, hl = h * (size_t)s->n_levels, at = 0;
#define TAKE(ptr, type, n)                                                                         \
  do {                                                                                             \
    ptr = (type *)(base + at);                                                                     \
    at += (((size_t)(n) * sizeof(type)) + 255) & ~(size_t)255;                                     \
  } while (0)
  TAKE(c->y, const double, nvals);
  TAKE(c->off, const size_t, count + 1);
  *off_bytes = at;
  c->xr = NULL;
  c->xf = NULL;
  if (nx) {
    TAKE(c->xr, const double, nvals *nx);
    TAKE(c->xf, const double, count *h *nx);
  }
  TAKE(c->scratch, double, count * c->per);
  TAKE(c->states, sg__arima_search_state, count);
  TAKE(c->fits, sg_arima_fit, count);
  TAKE(c->mean, double, count *h);
  TAKE(c->lo, double, count *(hl ? hl : 1));
  TAKE(c->hi, double, count *(hl ? hl : 1));
  TAKE(*preps, sg__arima_prep, count);
  TAKE(*need, int, count);
  *work = NULL;
  *ics = NULL;
  *keys = NULL;
  if (s->search == SG_ARIMA_GRID) {
    TAKE(*work, double, count *(size_t)ncand *wper);
    TAKE(*ics, double, count *(size_t)ncand);
    TAKE(*keys, sg__arima_key, ncand);
  }
#undef TAKE
  *off_bytes = at; /* total */
}

static sg_status run_chunk(sg_exec *x, const sg_arima_input *in, const sg_arima_spec *s,
                           size_t first, size_t count, size_t per, size_t wper,
                           const sg__arima_key *hkeys, int ncand, sg_arima_fit *fits, double *mean,
                           double *lower, double *upper, sg_err *err) {
  cudaStream_t stream = sg__cuda_exec(x)->stream;
  int nx = in->n_xreg;
  size_t v0 = in->offsets[first], nvals = in->offsets[first + count] - v0;
  size_t h = (size_t)s->h, hl = h * (size_t)s->n_levels;
  chunk c;
  c.nx = nx;
  c.count = count;
  c.per = per;
  sg__arima_prep *preps;
  int *need;
  double *work, *ics;
  sg__arima_key *keys;
  size_t total;
  carve(0, s, count, nvals, nx, &c, &preps, &need, &work, wper, &ics, &keys, ncand, &total);
  /* its own allocation, freed (stream-ordered) at the end: the worker's scratch grows and never
   * shrinks, and a chunk may take up to 16 GiB, which must not stay held by an idle worker */
  void *base;
  SG_TRY(sg__cuda_alloc(x, total + 256, &base, err));
  carve((uintptr_t)base, s, count, nvals, nx, &c, &preps, &need, &work, wper, &ics, &keys, ncand,
        &total);
  size_t *off = (size_t *)malloc((count + 1) * sizeof(size_t));
  if (!off) {
    sg__cuda_free(x, base);
    return sg_err_set(err, SG_OUT_OF_MEMORY, "arima cuda: offsets for %zu series", count);
  }
  for (size_t i = 0; i <= count; i++)
    off[i] = in->offsets[first + i] - v0;
  sg_status st;
  SG_TRY_GOTO(st,
              SG_CUDA_CHECK(cudaMemcpyAsync((void *)c.y, in->values + v0, nvals * sizeof(double),
                                            cudaMemcpyHostToDevice, stream),
                            err),
              done);
  SG_TRY_GOTO(st,
              SG_CUDA_CHECK(cudaMemcpyAsync((void *)c.off, off, (count + 1) * sizeof(size_t),
                                            cudaMemcpyHostToDevice, stream),
                            err),
              done);
  if (nx) {
    SG_TRY_GOTO(
        st,
        SG_CUDA_CHECK(cudaMemcpyAsync((void *)c.xr, in->xreg + v0 * nx, nvals * nx * sizeof(double),
                                      cudaMemcpyHostToDevice, stream),
                      err),
        done);
    SG_TRY_GOTO(st,
                SG_CUDA_CHECK(cudaMemcpyAsync((void *)c.xf, in->xreg_future + first * h * nx,
                                              count * h * nx * sizeof(double),
                                              cudaMemcpyHostToDevice, stream),
                              err),
                done);
  }
  {
    const int block = 64;
    if (s->search == SG_ARIMA_GRID) {
      SG_TRY_GOTO(st,
                  SG_CUDA_CHECK(cudaMemcpyAsync(keys, hkeys, (size_t)ncand * sizeof *keys,
                                                cudaMemcpyHostToDevice, stream),
                                err),
                  done);
      prepare_kernel<<<blocks(count, block), block, 0, stream>>>(*s, c, preps, need);
      SG_TRY_GOTO(st, SG_CUDA_CHECK_LAUNCH(err), done);
      grid_kernel<<<blocks(grid_threads(count, ncand), block), block, 0, stream>>>(
          *s, c, preps, need, keys, ncand, work, wper, ics);
      SG_TRY_GOTO(st, SG_CUDA_CHECK_LAUNCH(err), done);
      finish_kernel<<<blocks(count, block), block, 0, stream>>>(*s, c, preps, need, keys, ncand,
                                                                ics);
    } else {
      series_kernel<<<blocks(count, block), block, 0, stream>>>(*s, c);
    }
    SG_TRY_GOTO(st, SG_CUDA_CHECK_LAUNCH(err), done);
  }
  SG_TRY_GOTO(st,
              SG_CUDA_CHECK(cudaMemcpyAsync(fits, c.fits, count * sizeof(sg_arima_fit),
                                            cudaMemcpyDeviceToHost, stream),
                            err),
              done);
  SG_TRY_GOTO(st,
              SG_CUDA_CHECK(cudaMemcpyAsync(mean, c.mean, count * h * sizeof(double),
                                            cudaMemcpyDeviceToHost, stream),
                            err),
              done);
  if (hl) {
    SG_TRY_GOTO(st,
                SG_CUDA_CHECK(cudaMemcpyAsync(lower, c.lo, count * hl * sizeof(double),
                                              cudaMemcpyDeviceToHost, stream),
                              err),
                done);
    SG_TRY_GOTO(st,
                SG_CUDA_CHECK(cudaMemcpyAsync(upper, c.hi, count * hl * sizeof(double),
                                              cudaMemcpyDeviceToHost, stream),
                              err),
                done);
  }
  st = sg__cuda_sync(x, err);
done:
  if (st != SG_OK) sg__cuda_sync(x, NULL); /* the host buffers must not be in flight when freed */
  sg__cuda_free(x, base);
  free(off);
  return st;
}

static sg_status run_cuda(sg_exec *x, const sg_arima_input *in, const sg_arima_spec *spec,
                          size_t first, size_t count, sg_arima_fit *fits, double *mean,
                          double *lower, double *upper, sg_err *err) {
  /* the current device is per thread, and a worker's steps may run on another thread; also
   * what cudaMemGetInfo below measures */
  SG_TRY(SG_CUDA_CHECK(cudaSetDevice(sg__cuda_exec(x)->device), err));
  size_t per = 0;
  int nmax = 1, any_ml = spec->method == SG_ARIMA_METHOD_ML;
  for (size_t i = first; i < first + count; i++) {
    int n = (int)(in->offsets[i + 1] - in->offsets[i]);
    size_t sz = sg__arima_series_scratch(spec, n, in->n_xreg);
    if (sz > per) per = sz;
    if (n > nmax) nmax = n;
    /* method AUTO fits by exact likelihood during the search where auto.arima would */
    if (spec->method == SG_ARIMA_METHOD_AUTO && n <= 150 && spec->season <= 12) any_ml = 1;
  }
  sg__arima_key *keys = (sg__arima_key *)malloc(MAX_GRID * sizeof *keys);
  if (!keys) return sg_err_set(err, SG_OUT_OF_MEMORY, "arima cuda: grid keys");
  int ncand = spec->search == SG_ARIMA_GRID ? grid_keys(spec, keys) : 0;
  size_t wper = grid_wper(spec, nmax, in->n_xreg, any_ml);
  size_t one = per_series_bytes(spec, per, wper, in->n_xreg, ncand);
  /* a chunk's scratch: half the free device memory, at most 16 GiB */
  size_t free_b = 0, total_b = 0, budget = SCRATCH_BUDGET;
  if (cudaMemGetInfo(&free_b, &total_b) != cudaSuccess)
    (void)cudaGetLastError(); /* keep the default budget; the launch reports real trouble */
  else if (free_b / 2 > budget)
    budget = free_b / 2;
  if (budget > ((size_t)16 << 30)) budget = (size_t)16 << 30;
  size_t chunk_n = budget / one;
  if (chunk_n < 1) chunk_n = 1;
  size_t h = (size_t)spec->h, hl = h * (size_t)spec->n_levels;
  sg_status st = SG_OK;
  for (size_t at = 0; at < count && st == SG_OK; at += chunk_n) {
    size_t k = count - at < chunk_n ? count - at : chunk_n;
    st = run_chunk(x, in, spec, first + at, k, per, wper, keys, ncand, fits + at, mean + at * h,
                   lower + at * hl, upper + at * hl, err);
  }
  free(keys);
  return st;
}

extern "C" const sg_arima_ops sg__arima_cuda_ops = {run_cuda};
