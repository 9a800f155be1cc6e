# C11 with warnings for every target; sanitizers and -Werror as options.
set(CMAKE_C_STANDARD 11)
set(CMAKE_C_STANDARD_REQUIRED ON)
set(CMAKE_C_EXTENSIONS OFF)
set(CMAKE_EXPORT_COMPILE_COMMANDS ON)
add_compile_definitions(_GNU_SOURCE)

set(SG_C_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes
    -Wformat=2 -Wundef -Wcast-qual -Wvla
    # messages are truncated on purpose (bounded sg_err text); snprintf makes it safe
    -Wno-format-truncation)
if(SHOPGPU_WERROR)
  list(APPEND SG_C_WARNINGS -Werror)
endif()
add_compile_options("$<$<COMPILE_LANGUAGE:C>:${SG_C_WARNINGS}>")

if(SHOPGPU_SANITIZE)
  set(SG_SAN_FLAGS -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  add_compile_options("$<$<COMPILE_LANGUAGE:C,CXX>:${SG_SAN_FLAGS}>")
  # nvcc does not take -fsanitize: hand it to the host compiler
  add_compile_options("$<$<COMPILE_LANGUAGE:CUDA>:-Xcompiler=-fsanitize=address,-fsanitize=undefined,-fno-sanitize-recover=undefined,-fno-omit-frame-pointer>")
  add_link_options(-fsanitize=address,undefined)
endif()

# libFuzzer (tests/fuzz): every C file gets the fuzzer's coverage hooks; only the fuzz_* programs
# link its main.
if(SHOPGPU_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "SHOPGPU_FUZZ needs clang (CC=clang)")
  endif()
  add_compile_options("$<$<COMPILE_LANGUAGE:C>:-fsanitize=fuzzer-no-link>")
endif()
