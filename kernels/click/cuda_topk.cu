// CUDA top-K of the click model: users in blocks of up to BU, items in tiles of TI. For each
// (block × tile) cuBLAS SGEMM writes the u·v logits into scratch, then a fused selection kernel
// (one warp per user) keeps each user's running top-k: items above the user's current k-th
// logit become candidates (ballot + compaction into shared memory) and are merged in with a
// bitonic network. A finishing kernel turns the k best into probabilities in place. Scratch is
// bounded by BU × (TI + 2k) floats whatever the number of users; the score matrix never exists.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "click_core.h"
#include "cuda_click.h"

#define BU 8192u // users per block
#define TI 1024u // items per tile: 8192 × 1024 floats = 32 MiB, about L2 size

// select_kernel keeps kp (k rounded up to a power of two, >= 64) candidates of 16 bytes per warp
// in dynamic shared memory, within the default 48 KiB
static_assert(SG_CLICK_MAX_K <= 1024u, "select_kernel: raise the shared memory limit for k > 1024");
#define STATE_BYTES (64u << 20)

// ---- selection --------------------------------------------------------------------------------

// 1 when entry a ranks before entry b (higher logit, then lower id)
static __device__ __forceinline__ bool ahead(const float *ks, const uint32_t *ki, uint32_t a,
                                             uint32_t b) {
  return sg__click_before(ks[a], ki[a], ks[b], ki[b]);
}

static __device__ __forceinline__ void swap_at(float *ks, uint32_t *ki, uint32_t a, uint32_t b) {
  float s = ks[a];
  uint32_t i = ki[a];
  ks[a] = ks[b];
  ki[a] = ki[b];
  ks[b] = s;
  ki[b] = i;
}

// Sorts n (a power of two) entries worst first, by one warp.
static __device__ void sort_worst_first(float *ks, uint32_t *ki, uint32_t n, int lane) {
  for (uint32_t size = 2; size <= n; size *= 2) {
    for (uint32_t stride = size / 2; stride > 0; stride /= 2) {
      for (uint32_t t = lane; t < n / 2; t += 32) {
        uint32_t i = 2 * t - (t & (stride - 1)), j = i + stride;
        bool worst_first = (i & size) == 0;
        if (worst_first ? ahead(ks, ki, i, j) : ahead(ks, ki, j, i)) swap_at(ks, ki, i, j);
      }
      __syncwarp();
    }
  }
}

// Entries [0, kp) best first and [kp, kp + nc) new candidates: afterwards [0, kp) holds the kp
// best of both, best first. kp is a power of two.
static __device__ void merge_candidates(float *ks, uint32_t *ki, uint32_t kp, uint32_t nc,
                                        int lane) {
  for (uint32_t j = kp + nc + lane; j < 2 * kp; j += 32) {
    ks[j] = -INFINITY;
    ki[j] = SG_CLICK_NO_ITEM;
  }
  __syncwarp();
  sort_worst_first(ks + kp, ki + kp, kp, lane);
  // best-first then worst-first is bitonic: one merge network, best first
  for (uint32_t stride = kp; stride > 0; stride /= 2) {
    for (uint32_t t = lane; t < kp; t += 32) {
      uint32_t i = 2 * t - (t & (stride - 1)), j = i + stride;
      if (ahead(ks, ki, j, i)) swap_at(ks, ki, i, j);
    }
    __syncwarp();
  }
}

static __device__ bool excluded(const uint32_t *ex, uint64_t n, uint32_t item) {
  uint64_t lo = 0, hi = n;
  while (lo < hi) {
    uint64_t mid = lo + (hi - lo) / 2;
    if (ex[mid] < item) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo < n && ex[lo] == item;
}

// S: (rows × tn, leading dimension tn) u·v for items t0 .. t0 + tn; ib: (n_items)
// ex_off: (rows + 1) offsets into ex_items (NULL: no exclusions)
// st_s, st_i: (rows × k) each user's best so far, best first, padded with (-inf, NO_ITEM);
// st_n: (rows) how many are real. first: the state is not read (first tile).
// Shared memory: per warp 2 kp logits then 2 kp ids (kp: a power of two >= max(k, 64)).
static __global__ void select_kernel(const float *__restrict__ S, uint32_t rows, uint32_t tn,
                                     uint32_t t0, const float *__restrict__ ib,
                                     const uint64_t *__restrict__ ex_off,
                                     const uint32_t *__restrict__ ex_items, uint32_t k, uint32_t kp,
                                     int first, float *st_s, uint32_t *st_i, uint32_t *st_n) {
  extern __shared__ float smem[];
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32, warps = blockDim.x / 32;
  const uint32_t r = blockIdx.x * warps + warp;
  if (r >= rows) return; // warp-uniform
  float *ks = smem + (size_t)warp * 2 * kp;
  uint32_t *ki =
      reinterpret_cast<uint32_t *>(smem + (size_t)warps * 2 * kp) + (size_t)warp * 2 * kp;
  for (uint32_t j = lane; j < kp; j += 32) {
    bool keep = !first && j < k;
    ks[j] = keep ? st_s[(size_t)r * k + j] : -INFINITY;
    ki[j] = keep ? st_i[(size_t)r * k + j] : SG_CLICK_NO_ITEM;
  }
  uint32_t cnt = first ? 0 : st_n[r];
  __syncwarp();
  const uint32_t *ex = ex_off ? ex_items + ex_off[r] : NULL;
  uint64_t nex = ex_off ? ex_off[r + 1] - ex_off[r] : 0;
  float thr = ks[k - 1];
  uint32_t thr_id = ki[k - 1], nc = 0;
  const float *row = S + (size_t)r * tn;
  for (uint32_t base = 0; base < tn; base += 32) {
    uint32_t j = base + lane, item = t0 + j;
    float s = -INFINITY;
    bool cand = false;
    if (j < tn) {
      s = row[j] + ib[item];
      cand = sg__click_before(s, item, thr, thr_id) && !(nex && excluded(ex, nex, item));
    }
    unsigned m = __ballot_sync(SG_CLICK_FULL_MASK, cand);
    if (cand) {
      uint32_t pos = kp + nc + __popc(m & ((1u << lane) - 1u));
      ks[pos] = s;
      ki[pos] = item;
    }
    nc += __popc(m);
    if (nc > kp - 32) {
      __syncwarp();
      merge_candidates(ks, ki, kp, nc, lane);
      cnt = min(k, cnt + nc);
      nc = 0;
      thr = ks[k - 1];
      thr_id = ki[k - 1];
    }
  }
  if (nc > 0) {
    __syncwarp();
    merge_candidates(ks, ki, kp, nc, lane);
    cnt = min(k, cnt + nc);
  }
  for (uint32_t j = lane; j < k; j += 32) {
    st_s[(size_t)r * k + j] = ks[j];
    st_i[(size_t)r * k + j] = ki[j];
  }
  if (lane == 0) st_n[r] = cnt;
}

// In place: st_s (rows × k) logits - ub become probabilities sigmoid(ub[user] + s); slots past
// st_n[r] become (NO_ITEM, 0). users: (rows) ids, or NULL for first + r.
static __global__ void finish_kernel(float *st_s, uint32_t *st_i, const uint32_t *st_n,
                                     uint32_t rows, uint32_t k, const float *__restrict__ ub,
                                     const uint32_t *__restrict__ users, uint32_t first) {
  size_t n = (size_t)rows * k;
  for (size_t t = blockIdx.x * (size_t)blockDim.x + threadIdx.x; t < n;
       t += (size_t)gridDim.x * blockDim.x) {
    uint32_t r = (uint32_t)(t / k), slot = (uint32_t)(t % k);
    uint32_t user = users ? users[r] : first + r;
    bool real = slot < st_n[r];
    st_s[t] = real ? sg__click_sigmoid(ub[user] + st_s[t]) : 0.0f;
    if (!real) st_i[t] = SG_CLICK_NO_ITEM;
  }
}

// A: (rows × dim) = U rows of users (rows)
static __global__ void gather_kernel(const float *__restrict__ U,
                                     const uint32_t *__restrict__ users, uint32_t rows,
                                     uint32_t dim, float *__restrict__ A) {
  size_t n = (size_t)rows * dim;
  for (size_t t = blockIdx.x * (size_t)blockDim.x + threadIdx.x; t < n;
       t += (size_t)gridDim.x * blockDim.x) {
    A[t] = U[(size_t)users[t / dim] * dim + t % dim];
  }
}

// ---- host side --------------------------------------------------------------------------------

// Device scratch layout for one request (the largest block decides the sizes).
typedef struct topk_scratch {
  uint32_t bu, kp, warps;
  float *S, *A, *st_s;
  uint32_t *st_i, *st_n, *users, *ex_items;
  uint64_t *ex_off;
} topk_scratch;

static size_t align256(size_t v) { return (v + 255) & ~(size_t)255; }

// Largest exclusion total of any block of bu rows
static uint64_t max_block_exclusions(const sg__click_topk_req *req, uint32_t bu) {
  uint64_t most = 0;
  for (size_t j0 = 0; req->ex_off && j0 < req->n; j0 += bu) {
    size_t j1 = req->n - j0 < bu ? req->n : j0 + bu;
    uint64_t e = req->ex_off[j1] - req->ex_off[j0];
    most = e > most ? e : most;
  }
  return most;
}

static sg_status scratch_for(sg_exec *x, const sg_click_placed *p, const sg__click_topk_req *req,
                             topk_scratch *w, sg_err *err) {
  uint32_t k = req->k, ti = p->n_items < TI ? p->n_items : TI;
  uint32_t bu = (uint32_t)(STATE_BYTES / ((size_t)k * 8));
  bu = bu > BU ? BU : bu;
  w->bu = req->n < bu ? (uint32_t)req->n : bu;
  w->kp = 64;
  while (w->kp < k)
    w->kp *= 2;
  uint32_t per_warp = w->kp * 16;
  w->warps = (48u << 10) / per_warp > 8 ? 8 : (48u << 10) / per_warp;
  /* a warp's candidates in the default 48 KiB of dynamic shared memory (more would need
   * cudaFuncSetAttribute): kp <= 1024 gives 3 warps; 0 warps would divide by zero below */
  if (w->warps == 0 || (size_t)w->kp * 16 * w->warps > (48u << 10))
    return sg_err_set(err, SG_INTERNAL, "click_topk: k %u needs too much shared memory", k);
  uint64_t nex = max_block_exclusions(req, w->bu);
  size_t sizes[8] = {(size_t)w->bu * ti * 4, (size_t)w->bu * p->dim * 4, (size_t)w->bu * k * 4,
                     (size_t)w->bu * k * 4,  (size_t)w->bu * 4,          (size_t)w->bu * 4,
                     (size_t)nex * 4 + 4,    ((size_t)w->bu + 1) * 8};
  size_t total = 0;
  for (int i = 0; i < 8; i++)
    total += align256(sizes[i]);
  void *base;
  SG_TRY(sg__cuda_scratch(x, total, &base, err));
  char *c = (char *)base;
  void **slots[8] = {(void **)&w->S,        (void **)&w->A,     (void **)&w->st_s,
                     (void **)&w->st_i,     (void **)&w->st_n,  (void **)&w->users,
                     (void **)&w->ex_items, (void **)&w->ex_off};
  for (int i = 0; i < 8; i++) {
    *slots[i] = c;
    c += align256(sizes[i]);
  }
  return SG_OK;
}

// Uploads the block's users (and gathers their rows) and exclusion rows; returns A.
static sg_status block_inputs(sg_exec *x, const sg_click_placed *p, const sg__click_topk_req *req,
                              size_t j0, uint32_t rows, topk_scratch *w, uint64_t *host_off,
                              const float **A, sg_err *err) {
  cudaStream_t s = sg__cuda_exec(x)->stream;
  const sg__click_dev *d = (const sg__click_dev *)p->dev;
  *A = d->U + (size_t)(req->first + j0) * p->dim;
  if (req->users) {
    SG_TRY(SG_CUDA_CHECK(
        cudaMemcpyAsync(w->users, req->users + j0, rows * 4ul, cudaMemcpyHostToDevice, s), err));
    unsigned grid = sg__click_blocks((size_t)rows * p->dim, 256, 4096);
    gather_kernel<<<grid, 256, 0, s>>>(d->U, w->users, rows, p->dim, w->A);
    SG_TRY(SG_CUDA_CHECK_LAUNCH(err));
    *A = w->A;
  }
  if (!req->ex_off) return SG_OK;
  uint64_t base = req->ex_off[j0], nex = req->ex_off[j0 + rows] - base;
  for (uint32_t r = 0; r <= rows; r++)
    host_off[r] = req->ex_off[j0 + r] - base;
  SG_TRY(SG_CUDA_CHECK(
      cudaMemcpyAsync(w->ex_off, host_off, (rows + 1ul) * 8, cudaMemcpyHostToDevice, s), err));
  if (nex == 0) return SG_OK;
  return SG_CUDA_CHECK(
      cudaMemcpyAsync(w->ex_items, req->ex_items + base, nex * 4, cudaMemcpyHostToDevice, s), err);
}

static sg_status block_tiles(sg_exec *x, const sg_click_placed *p, const sg__click_topk_req *req,
                             uint32_t rows, const float *A, topk_scratch *w, sg_err *err) {
  sg_cuda_exec *c = sg__cuda_exec(x);
  const sg__click_dev *d = (const sg__click_dev *)p->dev;
  const float one = 1.0f, zero = 0.0f;
  unsigned block = w->warps * 32, grid = (rows + w->warps - 1) / w->warps;
  size_t shared = (size_t)w->warps * w->kp * 16;
  for (uint32_t t0 = 0; t0 < p->n_items; t0 += TI) {
    uint32_t tn = p->n_items - t0 < TI ? p->n_items - t0 : TI;
    // row-major S (rows × tn) = A (rows × dim) · V_tile^T, i.e. column-major S^T = V_tile^T' · A'
    SG_TRY(SG_CUBLAS_CHECK(cublasSgemm(c->blas, CUBLAS_OP_T, CUBLAS_OP_N, (int)tn, (int)rows,
                                       (int)p->dim, &one, d->V + (size_t)t0 * p->dim, (int)p->dim,
                                       A, (int)p->dim, &zero, w->S, (int)tn),
                           err));
    select_kernel<<<grid, block, shared, c->stream>>>(
        w->S, rows, tn, t0, d->ib, req->ex_off ? w->ex_off : NULL, w->ex_items, req->k, w->kp,
        t0 == 0, w->st_s, w->st_i, w->st_n);
    SG_TRY(SG_CUDA_CHECK_LAUNCH(err));
  }
  return SG_OK;
}

static sg_status block_outputs(sg_exec *x, const sg_click_placed *p, const sg__click_topk_req *req,
                               size_t j0, uint32_t rows, topk_scratch *w, sg_err *err) {
  cudaStream_t s = sg__cuda_exec(x)->stream;
  const sg__click_dev *d = (const sg__click_dev *)p->dev;
  size_t n = (size_t)rows * req->k;
  finish_kernel<<<sg__click_blocks(n, 256, 4096), 256, 0, s>>>(
      w->st_s, w->st_i, w->st_n, rows, req->k, d->ub, req->users ? w->users : NULL,
      req->first + (uint32_t)j0);
  SG_TRY(SG_CUDA_CHECK_LAUNCH(err));
  SG_TRY(SG_CUDA_CHECK(
      cudaMemcpyAsync(req->out.items + j0 * req->k, w->st_i, n * 4, cudaMemcpyDeviceToHost, s),
      err));
  SG_TRY(SG_CUDA_CHECK(
      cudaMemcpyAsync(req->out.scores + j0 * req->k, w->st_s, n * 4, cudaMemcpyDeviceToHost, s),
      err));
  SG_TRY(SG_CUDA_CHECK(
      cudaMemcpyAsync(req->out.counts + j0, w->st_n, rows * 4ul, cudaMemcpyDeviceToHost, s), err));
  return sg__cuda_sync(x, err);
}

sg_status sg__click_cuda_topk(sg_exec *x, const sg_click_placed *p, const sg__click_topk_req *req,
                              sg_err *err) {
  if (!p->interaction) return sg__click_topk_linear(p, req, err);
  sg_cuda_exec *c = sg__cuda_exec(x);
  SG_TRY(SG_CUDA_CHECK(cudaSetDevice(c->device), err));
  // plain FP32 GEMM: TF32 would not match the CPU reference
  SG_TRY(SG_CUBLAS_CHECK(cublasSetMathMode(c->blas, CUBLAS_DEFAULT_MATH), err));
  topk_scratch w;
  SG_TRY(scratch_for(x, p, req, &w, err));
  uint64_t *host_off = (uint64_t *)malloc(((size_t)w.bu + 1) * sizeof *host_off);
  if (!host_off) return sg_err_set(err, SG_OUT_OF_MEMORY, "click_topk: out of memory");
  sg_status st = SG_OK;
  for (size_t j0 = 0; j0 < req->n && st == SG_OK; j0 += w.bu) {
    uint32_t rows = req->n - j0 < w.bu ? (uint32_t)(req->n - j0) : w.bu;
    const float *A;
    st = block_inputs(x, p, req, j0, rows, &w, host_off, &A, err);
    if (st == SG_OK) st = block_tiles(x, p, req, rows, A, &w, err);
    if (st == SG_OK) st = block_outputs(x, p, req, j0, rows, &w, err);
  }
  free(host_off);
  return st;
}
