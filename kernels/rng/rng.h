/* Seeded uniform random numbers on the selected backend, from the shared Philox stream.
 * The same (seed, stream, offset) gives bit-identical floats on the CPU and the GPU; ops that
 * need randomness inside kernels call kernels/common/philox.h directly with the same convention. */
#ifndef SG_RNG_H
#define SG_RNG_H

#include <stddef.h>
#include <stdint.h>

#include "../common/backend.h"

SG_BEGIN_DECLS

/* Fills out[0..n) (host memory, caller-owned) with draws offset .. offset+n-1 of Philox stream
 * `stream` under `seed`, each mapped to [0, 1) as sg_philox_to_unit. n = 0 is a no-op.
 * Errors: SG_INVALID_ARGUMENT (out NULL with n > 0), SG_OVERFLOW (offset + n wraps, or the
 * byte size overflows), device errors from the backend. */
sg_status sg_rng_uniform(sg_exec *x, uint64_t seed, uint64_t stream, uint64_t offset, size_t n,
                         float *out, sg_err *err);

SG_END_DECLS

#endif
