# kernels/rng sources (included by kernels/CMakeLists.txt)
list(APPEND SG_KERNEL_C_SOURCES rng/rng.c rng/cpu.c)
list(APPEND SG_KERNEL_CUDA_SOURCES rng/cuda.cu)
