# generated/sg_version.h: SG_VERSION and SG_COMMIT (git describe), refreshed at every build but
# rewritten only when it changes, so nothing rebuilds needlessly.
set(SG_GENERATED_DIR ${CMAKE_BINARY_DIR}/generated)
add_custom_target(sg_version_header
  COMMAND ${CMAKE_COMMAND} -DSRC=${CMAKE_SOURCE_DIR} -DOUT=${SG_GENERATED_DIR}/sg_version.h
          -DVERSION=${PROJECT_VERSION} -P ${CMAKE_SOURCE_DIR}/cmake/write_version.cmake
  BYPRODUCTS ${SG_GENERATED_DIR}/sg_version.h
  COMMENT "" VERBATIM)
add_library(sg_version INTERFACE)
add_dependencies(sg_version sg_version_header)
target_include_directories(sg_version INTERFACE ${SG_GENERATED_DIR})
