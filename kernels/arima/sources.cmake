# kernels/arima sources (included by kernels/CMakeLists.txt)
list(APPEND SG_KERNEL_C_SOURCES arima/arima.c arima/cpu.c arima/replenish.c)
list(APPEND SG_KERNEL_CUDA_SOURCES arima/cuda.cu)
