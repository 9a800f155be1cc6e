# kernels/aco suites (included by tests/CMakeLists.txt). check.c is the independent reference
# (TSPLIB distances from their definitions, validity checkers); data files are in tests/data/aco.
foreach(suite parse check tsp vrp api)
  sg_test(kernels.aco.${suite} SOURCES kernels/aco/test_${suite}.c kernels/aco/check.c)
  target_compile_definitions(kernels.aco.${suite} PRIVATE
    SG_ACO_TEST_DATA="${CMAKE_CURRENT_SOURCE_DIR}/data/aco")
endforeach()
sg_test(kernels.aco.parity SOURCES kernels/aco/test_parity.c kernels/aco/check.c GPU)
target_compile_definitions(kernels.aco.parity PRIVATE
  SG_ACO_TEST_DATA="${CMAKE_CURRENT_SOURCE_DIR}/data/aco")
