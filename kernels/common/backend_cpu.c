/* The CPU backend's ops table: the reference every other backend must agree with.
 * Each op's CPU code lives in kernels/<op>/cpu.c; this file only lists them. */
#include <omp.h>

#include "../aco/aco_backends.h"
#include "../arima/arima_backends.h"
#include "../click/click_backends.h"
#include "../rng/rng_backends.h"
#include "backend_impl.h"

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
    .rng = &sg__rng_cpu_ops,
    .click = &sg__click_cpu_ops,
    .arima = &sg__arima_cpu_ops,
    .aco = &sg__aco_cpu_ops,
};

const sg_backend_ops *sg__cpu_ops(void) { return &cpu_ops; }
