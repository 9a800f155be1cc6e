/* CPU backend of the arima op family (the reference the CUDA backend must agree with). */
#include "arima_backends.h"

const sg_arima_ops sg__arima_cpu_ops = {0};
