# cmake -DIN=kernels/x/cuda.cu -DOUT=build/.../cuda.cc -P rewrite.cmake
# Turns a .cu file into C++ for the CUDA emulator (cuda_emu.h): kernel launches
# `k<<<grid, block, shared, stream>>>(args)` become `sg_emu_launcher(k, grid, block, shared,
# stream)(args)`, `extern __shared__ T name[];` becomes a pointer to the block's dynamic shared
# memory, and quoted includes are made absolute (the output lives in the build tree).
file(READ "${IN}" src)
get_filename_component(dir "${IN}" DIRECTORY)
string(REGEX REPLACE "([A-Za-z_][A-Za-z0-9_]*)[ \t]*<<<" "sg_emu_launcher(\\1, " src "${src}")
string(REPLACE ">>>" ")" src "${src}")
string(REGEX REPLACE "extern[ \t]+__shared__[ \t]+([A-Za-z_][A-Za-z0-9_ ]*[A-Za-z0-9_])[ \t]+([A-Za-z_][A-Za-z0-9_]*)[ \t]*\\[\\][ \t]*;"
       "\\1 *\\2 = (\\1 *)sg_emu::dyn_shared();" src "${src}")
string(REGEX REPLACE "#include \"([^\"]+)\"" "#include \"${dir}/\\1\"" src "${src}")
set(header "// generated from ${IN} by tests/cuda_emu/rewrite.cmake: do not edit\n#line 1 \"${IN}\"\n")
file(WRITE "${OUT}.tmp" "${header}${src}")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUT}.tmp")
