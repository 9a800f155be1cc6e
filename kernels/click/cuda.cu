// CUDA backend of the click op family: placement (device copies of U, V and the per-row terms,
// shared by every exec of the backend), fused gather-dot-sigmoid pair scoring, and the slot
// table. Top-K is in cuda_topk.cu, training in cuda_train.cu. Nothing here aborts: CUDA errors
// become a status through SG_CUDA_CHECK.
#include <stdio.h>
#include <stdlib.h>

#include "click_core.h"
#include "cuda_click.h"

// ---- kernels ----------------------------------------------------------------------------------

// u·v over `lanes` lanes of a group: lane `sub` takes chunks sub, sub + lanes, ...
static __device__ __forceinline__ float dot_part(const float *__restrict__ u,
                                                 const float *__restrict__ v, uint32_t dim, int vec,
                                                 int sub, int lanes) {
  float acc = 0.0f;
  if (vec) {
    const float4 *a = reinterpret_cast<const float4 *>(u), *b = reinterpret_cast<const float4 *>(v);
    for (uint32_t c = sub; c < dim / 4; c += lanes) {
      float4 x = a[c], y = b[c];
      acc += x.x * y.x + x.y * y.y + x.z * y.z + x.w * y.w;
    }
  } else {
    for (uint32_t c = sub; c < dim; c += lanes)
      acc += u[c] * v[c];
  }
  return acc;
}

// U: (n_users × dim), V: (n_items × dim), ub: (n_users), ib: (n_items)
// users, items, out: (n). `lanes` lanes (a power of two <= 32) score one pair; vec: dim % 4 == 0.
// bad: lowest pair index whose id is out of range (atomicMin; stays ULLONG_MAX when none).
static __global__ void score_kernel(const float *__restrict__ U, const float *__restrict__ V,
                                    const float *__restrict__ ub, const float *__restrict__ ib,
                                    uint32_t n_users, uint32_t n_items, uint32_t dim, int inter,
                                    int lanes, int vec, const uint32_t *__restrict__ users,
                                    const uint32_t *__restrict__ items, size_t n,
                                    float *__restrict__ out, unsigned long long *bad) {
  const size_t per_warp = 32 / lanes;
  const size_t warp = (blockIdx.x * (size_t)blockDim.x + threadIdx.x) / 32;
  const size_t warps = gridDim.x * (size_t)blockDim.x / 32;
  const int lane = threadIdx.x % 32, sub = lane % lanes;
  for (size_t base = warp * per_warp; base < n; base += warps * per_warp) { // warp-uniform
    size_t j = base + lane / lanes;
    bool live = j < n;
    uint32_t u = live ? users[j] : 0, i = live ? items[j] : 0;
    bool ok = live && u < n_users && i < n_items;
    if (live && !ok && sub == 0) atomicMin(bad, (unsigned long long)j);
    float acc = 0.0f;
    if (ok && inter) acc = dot_part(U + (size_t)u * dim, V + (size_t)i * dim, dim, vec, sub, lanes);
    acc = sg__click_group_sum(acc, lanes);
    if (ok && sub == 0) out[j] = sg__click_sigmoid(ub[u] + ib[i] + acc);
  }
}

// ---- launchers --------------------------------------------------------------------------------

static int pow2_at_least(uint32_t v, int cap) {
  int p = 1;
  while (p < cap && (uint32_t)p < v)
    p *= 2;
  return p;
}

static sg_status launch_score(sg_exec *x, const sg_click_placed *p, const uint32_t *d_users,
                              const uint32_t *d_items, size_t n, float *d_out,
                              unsigned long long *d_bad, sg_err *err) {
  const sg__click_dev *d = (const sg__click_dev *)p->dev;
  int vec = p->dim % 4 == 0;
  int lanes = p->interaction ? pow2_at_least(vec ? p->dim / 4 : p->dim, 32) : 1;
  const unsigned block = 256;
  unsigned grid = sg__click_blocks(n * (size_t)lanes, block, 16384);
  score_kernel<<<grid, block, 0, sg__cuda_exec(x)->stream>>>(
      d->U, d->V, d->ub, d->ib, p->n_users, p->n_items, p->dim, p->interaction, lanes, vec, d_users,
      d_items, n, d_out, d_bad);
  return SG_CUDA_CHECK_LAUNCH(err);
}

// ---- slots ------------------------------------------------------------------------------------

static void dev_free(sg__click_dev *d) {
  if (!d) return;
  cudaSetDevice(d->device);
  cudaFree(d->U);
  cudaFree(d->V);
  cudaFree(d->ub);
  cudaFree(d->ib);
  free(d);
}

static sg_status upload(sg_exec *x, float **dst, const float *src, size_t n, sg_err *err) {
  SG_TRY(sg__cuda_malloc_resident(x, n * sizeof(float), (void **)dst, err));
  return SG_CUDA_CHECK(cudaMemcpyAsync(*dst, src, n * sizeof(float), cudaMemcpyHostToDevice,
                                       sg__cuda_exec(x)->stream),
                       err);
}

static sg_status place_cuda(sg_exec *x, const sg_click_model *m, sg_click_placed *p, sg_err *err) {
  sg__click_dev *d = (sg__click_dev *)calloc(1, sizeof *d);
  if (!d) return sg_err_set(err, SG_OUT_OF_MEMORY, "click_place: out of memory");
  d->device = sg__cuda_exec(x)->device;
  sg_status st;
  SG_TRY_GOTO(st, SG_CUDA_CHECK(cudaSetDevice(d->device), err), fail);
  SG_TRY_GOTO(st, upload(x, &d->U, m->U, (size_t)m->n_users * m->dim, err), fail);
  SG_TRY_GOTO(st, upload(x, &d->V, m->V, (size_t)m->n_items * m->dim, err), fail);
  SG_TRY_GOTO(st, upload(x, &d->ub, p->ub, m->n_users, err), fail);
  SG_TRY_GOTO(st, upload(x, &d->ib, p->ib, m->n_items, err), fail);
  SG_TRY_GOTO(st, sg__cuda_sync(x, err), fail);
  p->dev = d;
  return SG_OK;
fail:
  dev_free(d);
  return st;
}

static void unplace_cuda(sg_click_placed *p) {
  dev_free((sg__click_dev *)p->dev);
  p->dev = NULL;
}

// Host arrays: copied through scratch in chunks (ids were checked by click.c).
static sg_status score_host(sg_exec *x, const sg_click_placed *p, const uint32_t *users,
                            const uint32_t *items, size_t n, float *out, sg_err *err) {
  const size_t chunk = (size_t)1 << 24;
  size_t m = n < chunk ? n : chunk;
  void *buf;
  SG_TRY(sg__cuda_scratch(x, 16 + m * 12, &buf, err));
  cudaStream_t s = sg__cuda_exec(x)->stream;
  unsigned long long *d_bad = (unsigned long long *)buf;
  uint32_t *d_users = (uint32_t *)((char *)buf + 16), *d_items = d_users + m;
  float *d_out = (float *)(d_items + m);
  SG_TRY(SG_CUDA_CHECK(cudaMemsetAsync(d_bad, 0xff, sizeof *d_bad, s), err));
  for (size_t off = 0; off < n; off += m) {
    size_t len = n - off < m ? n - off : m;
    SG_TRY(SG_CUDA_CHECK(cudaMemcpyAsync(d_users, users + off, len * 4, cudaMemcpyHostToDevice, s),
                         err));
    SG_TRY(SG_CUDA_CHECK(cudaMemcpyAsync(d_items, items + off, len * 4, cudaMemcpyHostToDevice, s),
                         err));
    SG_TRY(launch_score(x, p, d_users, d_items, len, d_out, d_bad, err));
    SG_TRY(
        SG_CUDA_CHECK(cudaMemcpyAsync(out + off, d_out, len * 4, cudaMemcpyDeviceToHost, s), err));
  }
  return sg__cuda_sync(x, err);
}

// Device arrays: the kernel range-checks the ids; the first bad one is named.
static sg_status score_resident(sg_exec *x, const sg_click_placed *p, const uint32_t *users,
                                const uint32_t *items, size_t n, float *out, sg_err *err) {
  void *buf;
  SG_TRY(sg__cuda_scratch(x, sizeof(unsigned long long), &buf, err));
  cudaStream_t s = sg__cuda_exec(x)->stream;
  unsigned long long *d_bad = (unsigned long long *)buf, bad = 0;
  SG_TRY(SG_CUDA_CHECK(cudaMemsetAsync(d_bad, 0xff, sizeof *d_bad, s), err));
  SG_TRY(launch_score(x, p, users, items, n, out, d_bad, err));
  SG_TRY(SG_CUDA_CHECK(cudaMemcpyAsync(&bad, d_bad, sizeof bad, cudaMemcpyDeviceToHost, s), err));
  SG_TRY(sg__cuda_sync(x, err));
  if (bad == ~0ull) return SG_OK;
  uint32_t u = 0, i = 0;
  SG_TRY(SG_CUDA_CHECK(cudaMemcpy(&u, users + bad, 4, cudaMemcpyDeviceToHost), err));
  SG_TRY(SG_CUDA_CHECK(cudaMemcpy(&i, items + bad, 4, cudaMemcpyDeviceToHost), err));
  if (u >= p->n_users) {
    return sg_err_set(err, SG_INVALID_ARGUMENT, "users[%llu]: id %u >= n_users %u", bad, u,
                      p->n_users);
  }
  return sg_err_set(err, SG_INVALID_ARGUMENT, "items[%llu]: id %u >= n_items %u", bad, i,
                    p->n_items);
}

static sg_status score_cuda(sg_exec *x, const sg_click_placed *p, const uint32_t *users,
                            const uint32_t *items, size_t n, float *out, int resident,
                            sg_err *err) {
  SG_TRY(SG_CUDA_CHECK(cudaSetDevice(sg__cuda_exec(x)->device), err));
  if (resident) return score_resident(x, p, users, items, n, out, err);
  return score_host(x, p, users, items, n, out, err);
}

extern "C" const sg_click_ops sg__click_cuda_ops = {
    /* place */ place_cuda,
    /* unplace */ unplace_cuda,
    /* score */ score_cuda,
    /* topk */ sg__click_cuda_topk,
    /* train_init */ sg__click_cuda_train_init,
    /* train_batch */ sg__click_cuda_train_batch,
    /* train_logits */ sg__click_cuda_train_logits,
    /* train_export */ sg__click_cuda_train_export,
    /* train_free */ sg__click_cuda_train_free,
};
