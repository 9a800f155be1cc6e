/* CPU backend of the click op family (the reference the CUDA backend must agree with). */
#include "click_backends.h"

const sg_click_ops sg__click_cpu_ops = {0};
