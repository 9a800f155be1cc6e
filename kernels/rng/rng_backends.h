/* The rng op family's backend slots; arguments are validated by kernels/rng/rng.c. */
#ifndef SG_RNG_BACKENDS_H
#define SG_RNG_BACKENDS_H

#include "../common/backend_impl.h"

SG_BEGIN_DECLS

typedef struct sg_rng_ops {
  /* out[i] (host) = uniform [0,1) draw (offset + i) of Philox stream `stream` under seed */
  sg_status (*uniform)(sg_exec *x, uint64_t seed, uint64_t stream, uint64_t offset, size_t n,
                       float *out, sg_err *err);
} sg_rng_ops;

extern const sg_rng_ops sg__rng_cpu_ops;
extern const sg_rng_ops sg__rng_cuda_ops; /* only in builds with CUDA */

SG_END_DECLS

#endif
