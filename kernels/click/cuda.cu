// CUDA backend of the click op family.
#include "click_backends.h"

extern "C" const sg_click_ops sg__click_cuda_ops = {0};
