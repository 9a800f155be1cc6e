/* CUDA and cuBLAS error checks that return a status instead of aborting (for .cu files).
 *   SG_TRY(SG_CUDA_CHECK(cudaMalloc(&p, bytes), err));
 *   SG_TRY_GOTO(st, SG_CUBLAS_CHECK(cublasSgemm(...), err), fail);
 * Mapping: out of memory → SG_DEVICE_OOM; no driver / no device → SG_NO_DEVICE; sticky faults
 * (illegal address, launch failure, ECC, ...) → SG_DEVICE_LOST, which the op gate turns into an
 * unhealthy backend; everything else → SG_DEVICE_ERROR. Non-sticky errors are cleared from the
 * runtime's last-error slot so they do not resurface at the next launch. */
#ifndef SG_COMMON_CUDA_CHECK_H
#define SG_COMMON_CUDA_CHECK_H

#include "status.h"

SG_BEGIN_DECLS

/* Status for a cudaError_t (passed as int so C tests can call it); SG_OK for cudaSuccess.
 * what/file/line go into err's message. */
sg_status sg__cuda_status(int cuda_error, const char *what, const char *file, int line,
                          sg_err *err);
/* Status for a cublasStatus_t (as int); SG_OK for CUBLAS_STATUS_SUCCESS. */
sg_status sg__cublas_status(int cublas_status, const char *what, const char *file, int line,
                            sg_err *err);
/* 1 when this cudaError_t poisons the context for the rest of the process. */
int sg__cuda_error_is_sticky(int cuda_error);

SG_END_DECLS

#define SG_CUDA_CHECK(call, err) sg__cuda_status((int)(call), #call, __FILE__, __LINE__, (err))
#define SG_CUBLAS_CHECK(call, err) sg__cublas_status((int)(call), #call, __FILE__, __LINE__, (err))
/* After a kernel launch: configuration errors now, faults at the next synchronising call. */
#define SG_CUDA_CHECK_LAUNCH(err) SG_CUDA_CHECK(cudaGetLastError(), err)

#endif
