# kernels/click sources (included by kernels/CMakeLists.txt)
list(APPEND SG_KERNEL_C_SOURCES click/cpu.c)
list(APPEND SG_KERNEL_CUDA_SOURCES click/cuda.cu)
