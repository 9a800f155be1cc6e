// Maps CUDA runtime and cuBLAS errors to sg_status with a message naming the call and place.
// Sticky errors are left in place (the context is poisoned anyway); others are cleared.
#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <string.h>

#include "cuda_check.h"

static const char *short_path(const char *file) {
  const char *k = strstr(file, "kernels/");
  return k ? k : file;
}

extern "C" int sg__cuda_error_is_sticky(int e) {
  switch ((cudaError_t)e) {
  case cudaErrorIllegalAddress:
  case cudaErrorLaunchTimeout:
  case cudaErrorHardwareStackError:
  case cudaErrorIllegalInstruction:
  case cudaErrorMisalignedAddress:
  case cudaErrorInvalidAddressSpace:
  case cudaErrorInvalidPc:
  case cudaErrorLaunchFailure:
  case cudaErrorECCUncorrectable:
  case cudaErrorNvlinkUncorrectable:
  case cudaErrorAssert:
  case cudaErrorContextIsDestroyed:
  case cudaErrorUnknown: return 1;
  default: return 0;
  }
}

static sg_status classify(cudaError_t e) {
  switch (e) {
  case cudaSuccess: return SG_OK;
  case cudaErrorMemoryAllocation: return SG_DEVICE_OOM;
  case cudaErrorInsufficientDriver:
  case cudaErrorNoDevice:
  case cudaErrorInvalidDevice:
  case cudaErrorDevicesUnavailable:
  case cudaErrorSystemDriverMismatch:
  case cudaErrorCompatNotSupportedOnDevice:
  case cudaErrorStubLibrary:
  case cudaErrorInitializationError: return SG_NO_DEVICE;
  default: return sg__cuda_error_is_sticky(e) ? SG_DEVICE_LOST : SG_DEVICE_ERROR;
  }
}

extern "C" sg_status sg__cuda_status(int code, const char *what, const char *file, int line,
                                     sg_err *err) {
  cudaError_t e = (cudaError_t)code;
  if (e == cudaSuccess) return SG_OK;
  sg_status st = classify(e);
  if (st != SG_DEVICE_LOST) (void)cudaGetLastError(); /* clear a non-sticky error */
  return sg_err_set(err, st, "%s: %s (%s) at %s:%d", what, cudaGetErrorString(e),
                    cudaGetErrorName(e), short_path(file), line);
}

static const char *cublas_name(cublasStatus_t s) {
  switch (s) {
  case CUBLAS_STATUS_SUCCESS: return "CUBLAS_STATUS_SUCCESS";
  case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
  case CUBLAS_STATUS_ALLOC_FAILED: return "CUBLAS_STATUS_ALLOC_FAILED";
  case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
  case CUBLAS_STATUS_ARCH_MISMATCH: return "CUBLAS_STATUS_ARCH_MISMATCH";
  case CUBLAS_STATUS_MAPPING_ERROR: return "CUBLAS_STATUS_MAPPING_ERROR";
  case CUBLAS_STATUS_EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
  case CUBLAS_STATUS_INTERNAL_ERROR: return "CUBLAS_STATUS_INTERNAL_ERROR";
  case CUBLAS_STATUS_NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
  case CUBLAS_STATUS_LICENSE_ERROR: return "CUBLAS_STATUS_LICENSE_ERROR";
  }
  return "CUBLAS_STATUS_UNKNOWN";
}

extern "C" sg_status sg__cublas_status(int code, const char *what, const char *file, int line,
                                       sg_err *err) {
  cublasStatus_t s = (cublasStatus_t)code;
  sg_status st;
  switch (s) {
  case CUBLAS_STATUS_SUCCESS: return SG_OK;
  case CUBLAS_STATUS_ALLOC_FAILED: st = SG_DEVICE_OOM; break;
  case CUBLAS_STATUS_NOT_INITIALIZED: st = SG_NO_DEVICE; break;
  case CUBLAS_STATUS_ARCH_MISMATCH:
  case CUBLAS_STATUS_NOT_SUPPORTED: st = SG_UNSUPPORTED; break;
  case CUBLAS_STATUS_INVALID_VALUE: st = SG_INTERNAL; break;
  default:
    /* an execution failure may be a fault in the context: then it is sticky */
    st = sg__cuda_error_is_sticky((int)cudaPeekAtLastError()) ? SG_DEVICE_LOST : SG_DEVICE_ERROR;
    break;
  }
  return sg_err_set(err, st, "%s: %s at %s:%d", what, cublas_name(s), short_path(file), line);
}
