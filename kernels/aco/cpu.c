/* CPU backend of the aco op family (the reference the CUDA backend must agree with). */
#include "aco_backends.h"

const sg_aco_ops sg__aco_cpu_ops = {0};
