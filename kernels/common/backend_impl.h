/* What backends and op dispatch layers see of sg_backend and sg_exec (not for the server).
 * The dispatch gate, sg__op_begin/sg__op_end, is how every op enters a backend: it answers
 * SG_UNSUPPORTED for an empty slot, fails fast on an unhealthy backend, and marks the backend
 * unhealthy when a slot returns SG_DEVICE_LOST. */
#ifndef SG_COMMON_BACKEND_IMPL_H
#define SG_COMMON_BACKEND_IMPL_H

#include "backend.h"

SG_BEGIN_DECLS

struct sg_exec {
  sg_backend *be;
  const sg_backend_ops *ops;
  int threads; /* CPU: OpenMP threads for this worker's ops */
  void *impl;  /* backend-private (CUDA: stream, cuBLAS handle, scratch) */
};

void sg__backend_log(sg_backend *be, sg_log_level level, const char *fmt, ...) SG_PRINTF(3, 4);
void sg__backend_mark_lost(sg_backend *be, const char *why);

sg_status sg__op_begin(sg_exec *x, int has_slot, const char *op, sg_err *err);
sg_status sg__op_end(sg_exec *x, sg_status st, sg_err *err);

/* Calls slot `slot` of op family `fam` (x->ops->fam->slot) with the remaining arguments,
 * through the gate. Use as the last statement of an op's public function, after validation. */
#define SG_DISPATCH(x, fam, slot, err, ...)                                                        \
  do {                                                                                             \
    sg_status sg_d_st_ = sg__op_begin(                                                             \
        (x), (x) && (x)->ops->fam != NULL && (x)->ops->fam->slot != NULL, #fam "_" #slot, (err));  \
    if (sg_d_st_ != SG_OK) return sg_d_st_;                                                        \
    return sg__op_end((x), (x)->ops->fam->slot((x), __VA_ARGS__), (err));                          \
  } while (0)

/* The two built-in tables. sg__cuda_ops returns NULL when built without CUDA. */
const sg_backend_ops *sg__cpu_ops(void);
const sg_backend_ops *sg__cuda_ops(void);

SG_END_DECLS

#endif
