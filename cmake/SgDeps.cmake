# Third-party dependencies, all from Debian packages (scripts/debian-packages.txt).
# pkg-config where the package ships a .pc file; plain find_* otherwise.
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(OpenMP REQUIRED COMPONENTS C)

# OpenBLAS (cblas): pkg-config 'openblas', else a plain search (the gpu-kit on a bare machine)
pkg_check_modules(OPENBLAS IMPORTED_TARGET openblas)
if(OPENBLAS_FOUND)
  add_library(sg_blas ALIAS PkgConfig::OPENBLAS)
else()
  find_library(SG_OPENBLAS_LIB NAMES openblas PATH_SUFFIXES openblas-pthread REQUIRED)
  find_path(SG_CBLAS_INCLUDE cblas.h PATH_SUFFIXES openblas-pthread openblas REQUIRED)
  add_library(sg_blas INTERFACE IMPORTED)
  target_link_libraries(sg_blas INTERFACE ${SG_OPENBLAS_LIB})
  target_include_directories(sg_blas INTERFACE ${SG_CBLAS_INCLUDE})
endif()

if(SHOPGPU_TESTS)
  pkg_check_modules(CRITERION REQUIRED IMPORTED_TARGET criterion)
endif()

if(NOT SHOPGPU_KERNELS_ONLY)
  pkg_check_modules(GRPC REQUIRED IMPORTED_TARGET grpc gpr)
  pkg_check_modules(PROTOBUFC REQUIRED IMPORTED_TARGET libprotobuf-c)
  pkg_check_modules(HIREDIS REQUIRED IMPORTED_TARGET hiredis)
  pkg_check_modules(MHD REQUIRED IMPORTED_TARGET libmicrohttpd)
  find_program(PROTOC_C protoc-c REQUIRED)
endif()
