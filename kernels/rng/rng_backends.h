/* The rng op's backend slots (see sg_backend_ops.rng_uniform); arguments already validated. */
#ifndef SG_RNG_BACKENDS_H
#define SG_RNG_BACKENDS_H

#include "../common/backend_impl.h"

SG_BEGIN_DECLS

sg_status sg__rng_uniform_cpu(sg_exec *x, uint64_t seed, uint64_t stream, uint64_t offset,
                              size_t n, float *out, sg_err *err);
sg_status sg__rng_uniform_cuda(sg_exec *x, uint64_t seed, uint64_t stream, uint64_t offset,
                               size_t n, float *out, sg_err *err);

SG_END_DECLS

#endif
