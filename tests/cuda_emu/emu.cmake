# sg_emu_sources(OUT file.cu...): C++ sources for the given .cu files, rewritten into the build
# tree by rewrite.cmake and compiled with cuda_emu.h force-included. kernels/CMakeLists.txt adds
# them and the emulator's runtime (SG_EMU_RUNTIME) to libshopgpu_kernels when
# SHOPGPU_CUDA_EMU=ON; tests/CMakeLists.txt builds the emulator's own tests the same way.
set(SG_EMU_DIR ${CMAKE_CURRENT_LIST_DIR})
set(SG_EMU_RUNTIME ${SG_EMU_DIR}/cuda_emu.cc)
set_source_files_properties(${SG_EMU_RUNTIME} PROPERTIES LANGUAGE CXX)
function(sg_emu_sources out)
  set(srcs)
  foreach(cu ${ARGN})
    get_filename_component(abs ${cu} ABSOLUTE)
    string(REGEX REPLACE "\\.cu$" ".cc" rel ${cu})
    set(cc ${CMAKE_CURRENT_BINARY_DIR}/emu/${rel})
    add_custom_command(OUTPUT ${cc}
      COMMAND ${CMAKE_COMMAND} -DIN=${abs} -DOUT=${cc} -P ${SG_EMU_DIR}/rewrite.cmake
      DEPENDS ${abs} ${SG_EMU_DIR}/rewrite.cmake
      COMMENT "cuda-emu: rewriting ${cu}" VERBATIM)
    set_source_files_properties(${cc} PROPERTIES
      COMPILE_OPTIONS "-include;${SG_EMU_DIR}/cuda_emu.h;-Wno-unused-parameter;-Wno-unused-function")
    list(APPEND srcs ${cc})
  endforeach()
  set_source_files_properties(${srcs} PROPERTIES LANGUAGE CXX)
  set(${out} ${srcs} PARENT_SCOPE)
endfunction()
set(CMAKE_CXX_STANDARD 17)
set(CMAKE_CXX_STANDARD_REQUIRED ON)
set(CMAKE_CXX_EXTENSIONS OFF) # ISO C++: no floating-point contraction, as nvcc -fmad=false
set(SG_EMU_CXX_FLAGS -Wall -Wextra -Wno-format-truncation -ffp-contract=off)
if(SHOPGPU_WERROR)
  list(APPEND SG_EMU_CXX_FLAGS -Werror)
endif()
add_compile_options("$<$<COMPILE_LANGUAGE:CXX>:${SG_EMU_CXX_FLAGS}>")
