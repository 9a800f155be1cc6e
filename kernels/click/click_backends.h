/* The click op family's backend slots; arguments are validated by kernels/click/click.c. */
#ifndef SG_CLICK_BACKENDS_H
#define SG_CLICK_BACKENDS_H

#include "../common/backend_impl.h"

SG_BEGIN_DECLS

typedef struct sg_click_ops {
  int reserved; /* no ops yet */
} sg_click_ops;

extern const sg_click_ops sg__click_cpu_ops;
extern const sg_click_ops sg__click_cuda_ops; /* only in builds with CUDA */

SG_END_DECLS

#endif
