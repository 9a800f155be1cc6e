/* The arima op family's backend slots; arguments are validated by kernels/arima/arima.c. */
#ifndef SG_ARIMA_BACKENDS_H
#define SG_ARIMA_BACKENDS_H

#include "../common/backend_impl.h"

SG_BEGIN_DECLS

typedef struct sg_arima_ops {
  int reserved; /* no ops yet */
} sg_arima_ops;

extern const sg_arima_ops sg__arima_cpu_ops;
extern const sg_arima_ops sg__arima_cuda_ops; /* only in builds with CUDA */

SG_END_DECLS

#endif
