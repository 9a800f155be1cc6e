# kernels/aco sources (included by kernels/CMakeLists.txt)
list(APPEND SG_KERNEL_C_SOURCES aco/cpu.c)
list(APPEND SG_KERNEL_CUDA_SOURCES aco/cuda.cu)
