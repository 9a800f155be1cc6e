// A CUDA worker's private state (x->impl of an exec on the cuda backend), for .cu files only.
// Each worker owns one non-blocking stream, one cuBLAS handle bound to it and one growable
// scratch buffer, so workers never contend for a stream or a handle.
#ifndef SG_COMMON_CUDA_EXEC_H
#define SG_COMMON_CUDA_EXEC_H

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include "backend_impl.h"
#include "cuda_check.h"

typedef struct sg_cuda_exec {
  int device;
  cudaStream_t stream;
  cublasHandle_t blas;
  void *scratch; /* device memory, scratch_bytes long; reused across ops */
  size_t scratch_bytes;
} sg_cuda_exec;

static inline sg_cuda_exec *sg__cuda_exec(sg_exec *x) { return (sg_cuda_exec *)x->impl; }

/* At least `bytes` of device scratch for this worker (grows, never shrinks); valid until the
 * next call on the same exec. */
sg_status sg__cuda_scratch(sg_exec *x, size_t bytes, void **out, sg_err *err);

/* Per-job device memory from the worker's stream-ordered pool (cudaMallocAsync on its stream):
 * freed blocks stay cached in the pool for the next job instead of going back to the driver, and
 * use after free is ordered on the stream. Out of memory is SG_DEVICE_OOM. */
sg_status sg__cuda_alloc(sg_exec *x, size_t bytes, void **out, sg_err *err);
void sg__cuda_free(sg_exec *x, void *p); /* NULL is fine */

/* Long-lived device memory (a resident model) with cudaMalloc, outside the pool. The pool keeps
 * what jobs freed, which cudaMalloc cannot use: when it fails for memory, the pool is trimmed
 * to what is in use and it tries once more. Out of memory is SG_DEVICE_OOM. */
sg_status sg__cuda_malloc_resident(sg_exec *x, size_t bytes, void **out, sg_err *err);

/* Blocks on the worker's stream; a fault during an earlier kernel surfaces here. */
sg_status sg__cuda_sync(sg_exec *x, sg_err *err);

#endif
