/* The aco op family's backend slots; arguments are validated by kernels/aco/aco.c. */
#ifndef SG_ACO_BACKENDS_H
#define SG_ACO_BACKENDS_H

#include "../common/backend_impl.h"

SG_BEGIN_DECLS

typedef struct sg_aco_ops {
  int reserved; /* no ops yet */
} sg_aco_ops;

extern const sg_aco_ops sg__aco_cpu_ops;
extern const sg_aco_ops sg__aco_cuda_ops; /* only in builds with CUDA */

SG_END_DECLS

#endif
