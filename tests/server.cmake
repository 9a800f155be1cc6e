# Server, client and CLI tests: each starts a real shopgpu-server (tests/support/server_fixture.c).
add_library(sg_server_fixture STATIC ${CMAKE_CURRENT_SOURCE_DIR}/support/server_fixture.c
  ${CMAKE_CURRENT_SOURCE_DIR}/support/pyclient.c
  ${CMAKE_CURRENT_SOURCE_DIR}/support/redis_fixture.c)
target_include_directories(sg_server_fixture PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/support)
target_link_libraries(sg_server_fixture PUBLIC PkgConfig::CRITERION)
target_compile_definitions(sg_server_fixture PRIVATE
  SG_SERVER_BIN="$<TARGET_FILE:shopgpu-server>"
  SG_PYTHON_DIR="${CMAKE_BINARY_DIR}/python"
  SG_TEST_SOURCE_DIR="${CMAKE_CURRENT_SOURCE_DIR}")
add_dependencies(sg_server_fixture shopgpu-server)
if(TARGET shopgpu_proto_python)
  add_dependencies(sg_server_fixture shopgpu_proto_python)
endif()

# sg_server_test(NAME SOURCES src... [LIBS lib...]): label 'server', serial (it starts processes)
function(sg_server_test name)
  cmake_parse_arguments(T "" "" "SOURCES;LIBS" ${ARGN})
  sg_test(${name} SOURCES ${T_SOURCES} LIBS sg_server_fixture shopgpu_server_core ${T_LIBS}
          LABELS server)
  target_compile_definitions(${name} PRIVATE
    SG_TEST_SOURCE_DIR="${CMAKE_CURRENT_SOURCE_DIR}"
    SG_BUILD_DIR="${CMAKE_BINARY_DIR}")
endfunction()

include(${CMAKE_CURRENT_SOURCE_DIR}/server/tests.cmake OPTIONAL)
include(${CMAKE_CURRENT_SOURCE_DIR}/client/tests.cmake OPTIONAL)
