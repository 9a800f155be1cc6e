/* Stand-in for backend_cuda.cu in a build without CUDA (SHOPGPU_CUDA=OFF, or AUTO without
 * nvcc): the probe answers "built without cuda" so auto selection falls back to the CPU. */
#include <string.h>

#include "backend_impl.h"

int sg_cuda_built(void) { return 0; }

sg_status sg_cuda_probe(int device, size_t min_free_bytes, sg_device_info *info, sg_err *err) {
  (void)min_free_bytes;
  memset(info, 0, sizeof *info);
  info->id = device;
  return sg_err_set(err, SG_NO_DEVICE,
                    "built without cuda (SHOPGPU_CUDA=OFF, or no nvcc/cuBLAS at build time)");
}

const sg_backend_ops *sg__cuda_ops(void) { return NULL; }
