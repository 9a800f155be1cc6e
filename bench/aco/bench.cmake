# bench/aco (included by bench/CMakeLists.txt): shopgpu-aco-bench solves TSPLIB / CVRPLIB files;
# compare.py runs it beside OR-Tools and PyVRP; gpu.sh gives the H100 figure.
add_executable(shopgpu-aco-bench ${CMAKE_CURRENT_LIST_DIR}/aco_bench.c)
target_link_libraries(shopgpu-aco-bench PRIVATE sg_bench_common)
