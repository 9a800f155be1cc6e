/* sg_rng_uniform: argument checks once, then the backend's slot. */
#include "rng.h"

#include "../common/size.h"
#include "rng_backends.h"

sg_status sg_rng_uniform(sg_exec *x, uint64_t seed, uint64_t stream, uint64_t offset, size_t n,
                         float *out, sg_err *err) {
  if (n == 0) return SG_OK;
  if (!out) return sg_err_set(err, SG_INVALID_ARGUMENT, "rng: out is NULL for n = %zu", n);
  size_t bytes;
  if (!sg_size_mul(n, sizeof *out, &bytes) || offset > UINT64_MAX - (uint64_t)n) {
    return sg_err_set(err, SG_OVERFLOW, "rng: offset %llu + n %zu overflows",
                      (unsigned long long)offset, n);
  }
  SG_DISPATCH(x, rng, uniform, err, seed, stream, offset, n, out, err);
}
