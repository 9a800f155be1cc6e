#!/usr/bin/env bash
# Everything a lent GPU machine should do, in one call (see README "GPU machine"):
#   run(command="bash bench/gpu.sh", carry=[".gpukit"])
# Builds kernels/ only (the GPU machine has CUDA, CMake, gcc and Python but none of our Debian
# -dev packages and no network: OpenBLAS and Criterion come from .gpukit, made here with
# ../shared/tools/gpu-kit .gpukit), runs every test with SHOPGPU_REQUIRE_GPU=1 (a skipped GPU test
# is a failure there), runs the probe and the GPU benchmarks, and writes a RESULTS.md fragment to
# $OUT (or bench/out/ when $OUT is unset) for bench/record --append-fragment to add here.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
out=${OUT:-bench/out}
mkdir -p "$out"
log="$out/gpu.log"
exec > >(tee "$log") 2>&1

if [ -f .gpukit/env.sh ]; then
  # shellcheck disable=SC1091
  source .gpukit/env.sh
fi
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
jobs=$(nproc)
cmake -S . -B build-gpu -DSHOPGPU_KERNELS_ONLY=ON -DSHOPGPU_CUDA=ON -DCMAKE_BUILD_TYPE=Release \
  -DSHOPGPU_WERROR=ON || exit 1
cmake --build build-gpu -j "$jobs" || exit 1

status=0
(cd build-gpu && SHOPGPU_REQUIRE_GPU=1 ctest --output-on-failure -j 4 --output-junit junit.xml) || status=1
cp build-gpu/junit.xml "$out/" 2>/dev/null

frag="$out/RESULTS-fragment.md"
commit=$(git describe --always --dirty --abbrev=10 2>/dev/null || echo unknown)
{
  echo "### $(date -u '+%Y-%m-%d %H:%M UTC') · GPU run (bench/gpu.sh)"
  echo
  echo "- machine: $(build-gpu/bench/shopgpu-probe 2>/dev/null | sed -n 's/^gpu: //p')"
  echo "- commit: $commit"
  echo "- command: \`bash bench/gpu.sh\` (device tool, carry .gpukit)"
  echo
  echo "\`\`\`"
  echo "\$ shopgpu-probe --backend auto"
  build-gpu/bench/shopgpu-probe --backend auto 2>&1
  echo
  echo "\$ ctest (SHOPGPU_REQUIRE_GPU=1)"
  grep -o 'tests="[0-9]*"\|failures="[0-9]*"\|skipped="[0-9]*"' build-gpu/junit.xml 2>/dev/null | head -3 | tr '\n' ' '
  echo
  echo "\`\`\`"
  echo
} >"$frag"
# Each op family's GPU benchmarks: bench/<op>/gpu.sh BUILD_DIR prints markdown for the fragment
for script in bench/*/gpu.sh; do
  [ -f "$script" ] || continue
  echo "== $script"
  {
    echo "#### $script"
    echo
    bash "$script" build-gpu 2>&1 || { echo; echo "**$script failed**"; status=1; }
    echo
  } | tee -a "$frag"
done
exit $status
