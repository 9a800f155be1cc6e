# kernels/aco sources (included by kernels/CMakeLists.txt)
list(APPEND SG_KERNEL_C_SOURCES aco/aco.c aco/solver.c aco/candidates.c aco/tsplib.c aco/cpu.c)
list(APPEND SG_KERNEL_CUDA_SOURCES aco/cuda.cu)
# The ants must take the same decisions on the GPU as on the CPU: no fused multiply-add
# contraction in device code (host C is compiled as ISO C11, which does not contract either).
set_source_files_properties(aco/cuda.cu PROPERTIES COMPILE_OPTIONS "-fmad=false")
