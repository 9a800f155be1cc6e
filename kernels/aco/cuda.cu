// CUDA backend of the aco op family.
#include "aco_backends.h"

extern "C" const sg_aco_ops sg__aco_cuda_ops = {0};
