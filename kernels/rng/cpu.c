/* CPU twin of the rng kernel: one Philox block per four outputs, split over OpenMP threads. */
#include "../common/philox.h"
#include "rng_backends.h"

static sg_status uniform_cpu(sg_exec *x, uint64_t seed, uint64_t stream, uint64_t offset, size_t n,
                             float *out, sg_err *err) {
  (void)err;
  long long count = (long long)n;
#pragma omp parallel for num_threads(x->threads) schedule(static) if (n > 65536)
  for (long long i = 0; i < count; i++) {
    out[i] = sg_philox_to_unit(sg_philox_u32(seed, stream, offset + (uint64_t)i));
  }
  return SG_OK;
}

const sg_rng_ops sg__rng_cpu_ops = {.uniform = uniform_cpu};
