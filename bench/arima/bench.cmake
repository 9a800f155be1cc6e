# bench/arima (included by bench/CMakeLists.txt): accuracy (M3, M4 Hourly), speed (M3 monthly,
# driven against statsforecast by speed.py) and the synthetic GPU run (gpu.sh).
add_executable(shopgpu-arima-bench ${CMAKE_CURRENT_SOURCE_DIR}/arima/arima_bench.c)
target_link_libraries(shopgpu-arima-bench PRIVATE sg_bench_common m)
