// CUDA backend of the arima op family.
#include "arima_backends.h"

extern "C" const sg_arima_ops sg__arima_cuda_ops = {0};
