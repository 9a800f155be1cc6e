// CUDA rng kernel: one thread per output draw, the same Philox words as the CPU twin.
#include "../common/cuda_exec.h"
#include "../common/philox.h"
#include "rng_backends.h"

// out: (n) device floats; draw i is word (offset+i) of stream `stream`
static __global__ void uniform_kernel(uint64_t seed, uint64_t stream, uint64_t offset, size_t n,
                                      float *out) {
  for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
       i += (size_t)gridDim.x * blockDim.x) {
    out[i] = sg_philox_to_unit(sg_philox_u32(seed, stream, offset + i));
  }
}

static sg_status launch_uniform(sg_exec *x, uint64_t seed, uint64_t stream, uint64_t offset,
                                size_t n, float *d_out, sg_err *err) {
  const int block = 256;
  size_t want = (n + block - 1) / block;
  int grid = (int)(want < 65535 ? want : 65535);
  uniform_kernel<<<grid, block, 0, sg__cuda_exec(x)->stream>>>(seed, stream, offset, n, d_out);
  return SG_CUDA_CHECK_LAUNCH(err);
}

static sg_status uniform_cuda(sg_exec *x, uint64_t seed, uint64_t stream, uint64_t offset, size_t n,
                              float *out, sg_err *err) {
  void *d_out;
  /* the current device is per thread, and a worker's steps may run on another thread */
  SG_TRY(SG_CUDA_CHECK(cudaSetDevice(sg__cuda_exec(x)->device), err));
  SG_TRY(sg__cuda_scratch(x, n * sizeof(float), &d_out, err));
  SG_TRY(launch_uniform(x, seed, stream, offset, n, (float *)d_out, err));
  SG_TRY(SG_CUDA_CHECK(cudaMemcpyAsync(out, d_out, n * sizeof(float), cudaMemcpyDeviceToHost,
                                       sg__cuda_exec(x)->stream),
                       err));
  return sg__cuda_sync(x, err);
}

extern "C" const sg_rng_ops sg__rng_cuda_ops = {uniform_cuda};
