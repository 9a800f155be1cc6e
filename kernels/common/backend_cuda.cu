// The CUDA backend: the device probe, per-worker execs (stream + cuBLAS handle + scratch) and
// the ops table. Each op's kernels live in kernels/<op>/cuda.cu; this file only lists them.
// Nothing here aborts: a machine without a driver or device gets a status and a reason.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../aco/aco_backends.h"
#include "../arima/arima_backends.h"
#include "../click/click_backends.h"
#include "../rng/rng_backends.h"
#include "cuda_exec.h"

extern "C" int sg_cuda_built(void) { return 1; }

extern "C" sg_status sg_cuda_probe(int device, size_t min_free, sg_device_info *info, sg_err *err) {
  memset(info, 0, sizeof *info);
  info->id = device;
  cudaDriverGetVersion(&info->driver_version); /* 0 and cudaSuccess when there is no driver */
  cudaRuntimeGetVersion(&info->runtime_version);
  int count = 0;
  cudaError_t e = cudaGetDeviceCount(&count);
  if (e == cudaErrorInsufficientDriver || e == cudaErrorNoDevice || (e == cudaSuccess && !count)) {
    (void)cudaGetLastError();
    return sg_err_set(err, SG_NO_DEVICE, "no cuda device (%s; driver version %d)",
                      e == cudaSuccess ? "device count is 0" : cudaGetErrorString(e),
                      info->driver_version);
  }
  SG_TRY(SG_CUDA_CHECK(e, err));
  if (device < 0 || device >= count) {
    return sg_err_set(err, SG_NO_DEVICE, "cuda device %d does not exist (%d device(s))", device,
                      count);
  }
  cudaDeviceProp prop;
  SG_TRY(SG_CUDA_CHECK(cudaGetDeviceProperties(&prop, device), err));
  snprintf(info->name, sizeof info->name, "%s", prop.name);
  info->cc_major = prop.major;
  info->cc_minor = prop.minor;
  info->sm_count = prop.multiProcessorCount;
  if (prop.major < SG_MIN_CC_MAJOR) {
    return sg_err_set(err, SG_UNSUPPORTED, "cuda device %d (%s): compute capability %d.%d < %d.0",
                      device, prop.name, prop.major, prop.minor, SG_MIN_CC_MAJOR);
  }
  SG_TRY(SG_CUDA_CHECK(cudaSetDevice(device), err));
  SG_TRY(SG_CUDA_CHECK(cudaMemGetInfo(&info->mem_free, &info->mem_total), err));
  if (info->mem_free < min_free) {
    return sg_err_set(err, SG_RESOURCE_EXHAUSTED,
                      "cuda device %d (%s): %zu MiB free < %zu MiB required", device, prop.name,
                      info->mem_free >> 20, min_free >> 20);
  }
  return SG_OK;
}

#define SG_CUDA_STACK_BYTES (16u << 10)

/* The device's default memory pool keeps freed blocks (no release threshold), so jobs reuse
 * memory instead of paying cudaMalloc each time. */
static sg_status keep_pool_memory(int device, sg_err *err) {
  cudaMemPool_t pool;
  SG_TRY(SG_CUDA_CHECK(cudaDeviceGetDefaultMemPool(&pool, device), err));
  uint64_t keep = UINT64_MAX;
  return SG_CUDA_CHECK(cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &keep), err);
}

static sg_status cuda_exec_init(sg_exec *x, sg_err *err) {
  const sg_device_info *d = sg_backend_device(x->be);
  sg_cuda_exec *c = (sg_cuda_exec *)calloc(1, sizeof *c);
  if (!c) return sg_err_set(err, SG_OUT_OF_MEMORY, "cuda exec: out of memory");
  c->device = d ? d->id : 0;
  sg_status st;
  SG_TRY_GOTO(st, SG_CUDA_CHECK(cudaSetDevice(c->device), err), fail);
  SG_TRY_GOTO(st, SG_CUDA_CHECK(cudaStreamCreateWithFlags(&c->stream, cudaStreamNonBlocking), err),
              fail);
  SG_TRY_GOTO(st, SG_CUBLAS_CHECK(cublasCreate(&c->blas), err), fail);
  SG_TRY_GOTO(st, SG_CUBLAS_CHECK(cublasSetStream(c->blas, c->stream), err), fail);
  SG_TRY_GOTO(st, keep_pool_memory(c->device, err), fail);
  /* The ARIMA kernels need about 14 KiB of stack per thread (ptxas -v; the fits' 24 x 24
   * matrices): reserve it now, while memory is free, rather than have the driver raise the limit
   * at the first forecast, which waits for the whole device to idle and can fail once models and
   * the pool hold the memory (about 16 KiB x 2,048 threads x the SMs: 4 GiB on an H100). */
  SG_TRY_GOTO(st, SG_CUDA_CHECK(cudaDeviceSetLimit(cudaLimitStackSize, SG_CUDA_STACK_BYTES), err),
              fail);
  x->impl = c;
  return SG_OK;
fail:
  if (c->blas) cublasDestroy(c->blas);
  if (c->stream) cudaStreamDestroy(c->stream);
  free(c);
  return st;
}

static void cuda_exec_fini(sg_exec *x) {
  sg_cuda_exec *c = sg__cuda_exec(x);
  if (!c) return;
  cudaSetDevice(c->device);
  if (c->scratch) cudaFreeAsync(c->scratch, c->stream);
  if (c->stream) cudaStreamSynchronize(c->stream);
  if (c->blas) cublasDestroy(c->blas);
  if (c->stream) cudaStreamDestroy(c->stream);
  free(c);
  x->impl = NULL;
}

sg_status sg__cuda_scratch(sg_exec *x, size_t bytes, void **out, sg_err *err) {
  sg_cuda_exec *c = sg__cuda_exec(x);
  if (bytes > c->scratch_bytes) {
    /* stream-ordered: work already queued on this stream still sees the old buffer */
    if (c->scratch) cudaFreeAsync(c->scratch, c->stream);
    c->scratch = NULL;
    c->scratch_bytes = 0;
    SG_TRY(sg__cuda_alloc(x, bytes, &c->scratch, err));
    c->scratch_bytes = bytes;
  }
  *out = c->scratch;
  return SG_OK;
}

sg_status sg__cuda_alloc(sg_exec *x, size_t bytes, void **out, sg_err *err) {
  *out = NULL;
  return SG_CUDA_CHECK(cudaMallocAsync(out, bytes ? bytes : 1, sg__cuda_exec(x)->stream), err);
}

void sg__cuda_free(sg_exec *x, void *p) {
  if (p) cudaFreeAsync(p, sg__cuda_exec(x)->stream);
}

sg_status sg__cuda_malloc_resident(sg_exec *x, size_t bytes, void **out, sg_err *err) {
  *out = NULL;
  if (bytes == 0) bytes = 1;
  cudaError_t e = cudaMalloc(out, bytes);
  if (e != cudaErrorMemoryAllocation) return SG_CUDA_CHECK(e, err);
  (void)cudaGetLastError(); /* out of memory is not sticky: clear it */
  cudaMemPool_t pool;
  SG_TRY(SG_CUDA_CHECK(cudaDeviceGetDefaultMemPool(&pool, sg__cuda_exec(x)->device), err));
  SG_TRY(SG_CUDA_CHECK(cudaMemPoolTrimTo(pool, 0), err));
  return sg__cuda_status(cudaMalloc(out, bytes), "cudaMalloc after trimming the pool", __FILE__,
                         __LINE__, err);
}

sg_status sg__cuda_sync(sg_exec *x, sg_err *err) {
  return SG_CUDA_CHECK(cudaStreamSynchronize(sg__cuda_exec(x)->stream), err);
}

static sg_status cuda_device_memory(sg_backend *be, size_t *free_bytes, size_t *total_bytes,
                                    sg_err *err) {
  const sg_device_info *d = sg_backend_device(be);
  SG_TRY(SG_CUDA_CHECK(cudaSetDevice(d ? d->id : 0), err));
  return SG_CUDA_CHECK(cudaMemGetInfo(free_bytes, total_bytes), err);
}

static const sg_backend_ops cuda_ops = {
    /* name */ "cuda",
    /* exec_init */ cuda_exec_init,
    /* exec_fini */ cuda_exec_fini,
    /* device_memory */ cuda_device_memory,
    /* rng */ &sg__rng_cuda_ops,
    /* click */ &sg__click_cuda_ops,
    /* arima */ &sg__arima_cuda_ops,
    /* aco */ &sg__aco_cuda_ops,
};

extern "C" const sg_backend_ops *sg__cuda_ops(void) { return &cuda_ops; }
