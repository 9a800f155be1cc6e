/* The CPU backend's ops table: the reference every other backend must agree with.
 * Each op's CPU code lives in kernels/<op>/cpu.c; this file only lists them. */
#include <omp.h>

#include "backend_impl.h"
#include "../rng/rng_backends.h"

static sg_status cpu_exec_init(sg_exec *x, sg_err *err) {
  (void)err;
  if (x->threads <= 0) x->threads = omp_get_max_threads();
  return SG_OK;
}

static const sg_backend_ops cpu_ops = {
    .name = "cpu",
    .exec_init = cpu_exec_init,
    .exec_fini = NULL,
    .device_memory = NULL,
    .rng_uniform = sg__rng_uniform_cpu,
};

const sg_backend_ops *sg__cpu_ops(void) { return &cpu_ops; }
