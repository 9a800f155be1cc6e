# kernels/click sources (included by kernels/CMakeLists.txt)
list(APPEND SG_KERNEL_C_SOURCES click/click.c click/click_host.c click/click_plan.c
  click/click_train.c click/click_train_data.c click/click_eval.c
  click/cpu.c click/cpu_topk.c click/cpu_train.c)
list(APPEND SG_KERNEL_CUDA_SOURCES click/cuda.cu click/cuda_topk.cu click/cuda_train.cu)
