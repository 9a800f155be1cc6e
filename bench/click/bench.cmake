# bench/click (included by bench/CMakeLists.txt): shopgpu-click-bench (scoring, RecommendAll and
# the bare GEMM floor, in-process) and shopgpu-click-quality (train + recommend on a split);
# compare.py runs them beside NumPy, faiss-cpu and implicit; gpu.sh gives the H100 figures.
add_executable(shopgpu-click-bench ${CMAKE_CURRENT_LIST_DIR}/click_bench.c)
target_link_libraries(shopgpu-click-bench PRIVATE sg_bench_common)
add_executable(shopgpu-click-quality ${CMAKE_CURRENT_LIST_DIR}/click_quality.c)
target_link_libraries(shopgpu-click-quality PRIVATE sg_bench_common)
