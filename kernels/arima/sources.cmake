# kernels/arima sources (included by kernels/CMakeLists.txt)
list(APPEND SG_KERNEL_C_SOURCES arima/cpu.c)
list(APPEND SG_KERNEL_CUDA_SOURCES arima/cuda.cu)
