// What the click family's CUDA files share (.cu only): the device copy of a placed model, warp
// helpers, and the slots defined in cuda_topk.cu and cuda_train.cu.
#ifndef SG_CLICK_CUDA_CLICK_H
#define SG_CLICK_CUDA_CLICK_H

#include "../common/cuda_exec.h"
#include "click_backends.h"

// p->dev of a model placed on CUDA: device copies, owned by the placement.
typedef struct sg__click_dev {
  int device;
  float *U;  // (n_users × dim)
  float *V;  // (n_items × dim)
  float *ub; // (n_users): b + w·U_u
  float *ib; // (n_items): w·V_i
} sg__click_dev;

#define SG_CLICK_FULL_MASK 0xffffffffu

// Sum over aligned groups of `lanes` lanes (a power of two <= 32); every lane of the warp calls.
static __device__ __forceinline__ float sg__click_group_sum(float v, int lanes) {
  for (int off = lanes / 2; off > 0; off /= 2)
    v += __shfl_xor_sync(SG_CLICK_FULL_MASK, v, off);
  return v;
}

static inline unsigned sg__click_blocks(size_t threads, unsigned block, unsigned cap) {
  size_t b = (threads + block - 1) / block;
  return (unsigned)(b < 1 ? 1 : b > cap ? cap : b);
}

sg_status sg__click_cuda_topk(sg_exec *x, const sg_click_placed *p, const sg__click_topk_req *req,
                              sg_err *err);
sg_status sg__click_cuda_train_init(sg_exec *x, const sg__click_train_init *init, void **state,
                                    sg_err *err);
sg_status sg__click_cuda_train_batch(sg_exec *x, void *state, const sg__click_batch *batch,
                                     sg_err *err);
sg_status sg__click_cuda_train_logits(sg_exec *x, void *state, const uint32_t *users,
                                      const uint32_t *items, size_t n, float *out, sg_err *err);
sg_status sg__click_cuda_train_export(sg_exec *x, void *state, float *U, float *V, float *w,
                                      float *b, sg_err *err);
void sg__click_cuda_train_free(sg_exec *x, void *state);

#endif
