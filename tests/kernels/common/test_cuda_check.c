/* CUDA and cuBLAS error mapping (runs without a GPU: it maps codes, it launches nothing). */
#include <criterion/criterion.h>
#include <cublas_api.h>
#include <cuda_runtime_api.h>
#include <string.h>

#include "common/cuda_check.h"

static sg_status map(cudaError_t e, sg_err *err) { return SG_CUDA_CHECK(e, err); }

Test(cuda_check, success_is_ok_and_leaves_err_alone) {
  sg_err e = {0};
  cr_assert_eq(map(cudaSuccess, &e), SG_OK);
  cr_assert_eq(e.code, SG_OK);
  cr_assert_eq(SG_CUBLAS_CHECK(CUBLAS_STATUS_SUCCESS, &e), SG_OK);
}

Test(cuda_check, maps_runtime_errors_to_statuses_with_call_and_place) {
  struct {
    cudaError_t e;
    sg_status want;
    const char *name;
  } rows[] = {
      {cudaErrorMemoryAllocation, SG_DEVICE_OOM, "cudaErrorMemoryAllocation"},
      {cudaErrorInsufficientDriver, SG_NO_DEVICE, "cudaErrorInsufficientDriver"},
      {cudaErrorNoDevice, SG_NO_DEVICE, "cudaErrorNoDevice"},
      {cudaErrorIllegalAddress, SG_DEVICE_LOST, "cudaErrorIllegalAddress"},
      {cudaErrorLaunchFailure, SG_DEVICE_LOST, "cudaErrorLaunchFailure"},
      {cudaErrorECCUncorrectable, SG_DEVICE_LOST, "cudaErrorECCUncorrectable"},
      {cudaErrorInvalidValue, SG_DEVICE_ERROR, "cudaErrorInvalidValue"},
      {cudaErrorInvalidConfiguration, SG_DEVICE_ERROR, "cudaErrorInvalidConfiguration"},
  };
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    sg_err e = {0};
    cr_expect_eq(map(rows[i].e, &e), rows[i].want, "%s", rows[i].name);
    cr_expect(strstr(e.msg, rows[i].name), "message names the error: %s", e.msg);
    cr_expect(strstr(e.msg, "test_cuda_check.c"), "message names the place: %s", e.msg);
    cr_expect_eq(sg__cuda_error_is_sticky(rows[i].e), rows[i].want == SG_DEVICE_LOST);
  }
}

Test(cuda_check, macro_message_names_the_call) {
  sg_err e = {0};
  SG_CUDA_CHECK(cudaErrorMemoryAllocation, &e);
  cr_assert(strstr(e.msg, "cudaErrorMemoryAllocation: out of memory"), "%s", e.msg);
}

Test(cuda_check, maps_cublas_statuses) {
  struct {
    cublasStatus_t s;
    sg_status want;
  } rows[] = {
      {CUBLAS_STATUS_ALLOC_FAILED, SG_DEVICE_OOM},
      {CUBLAS_STATUS_NOT_INITIALIZED, SG_NO_DEVICE},
      {CUBLAS_STATUS_NOT_SUPPORTED, SG_UNSUPPORTED},
      {CUBLAS_STATUS_INVALID_VALUE, SG_INTERNAL},
      {CUBLAS_STATUS_EXECUTION_FAILED, SG_DEVICE_ERROR},
  };
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    sg_err e = {0};
    cr_expect_eq(SG_CUBLAS_CHECK(rows[i].s, &e), rows[i].want, "row %zu: %s", i, e.msg);
    cr_expect(strstr(e.msg, "CUBLAS_STATUS_"), "%s", e.msg);
  }
}
