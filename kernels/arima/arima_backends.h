/* The arima op family's backend slots; arguments are validated by kernels/arima/arima.c. */
#ifndef SG_ARIMA_BACKENDS_H
#define SG_ARIMA_BACKENDS_H

#include "../common/backend_impl.h"
#include "arima.h"

SG_BEGIN_DECLS

typedef struct sg_arima_ops {
  /* Fits and forecasts series [first, first + count) of a validated batch (host memory).
   * fits[count], mean[count * h], lower/upper[count * n_levels * h] are the slots of series
   * first .. first + count - 1 (already offset by the caller). Per-series problems go into
   * fits[i].status; the return value reports backend failures only. */
  sg_status (*run)(sg_exec *x, const sg_arima_input *in, const sg_arima_spec *spec, size_t first,
                   size_t count, sg_arima_fit *fits, double *mean, double *lower, double *upper,
                   sg_err *err);
} sg_arima_ops;

extern const sg_arima_ops sg__arima_cpu_ops;
extern const sg_arima_ops sg__arima_cuda_ops; /* only in builds with CUDA */

SG_END_DECLS

#endif
