# Sourced by the server benchmarks (rpc_bench.sh, sched_bench.sh, score_bench.sh) after
# `set -euo pipefail`, with the script's name in $name and its first argument in $1:
# sets here, build (the build directory: an existing path, or relative to the repository root),
# server and loadgen, and exits 2 when they are not built; warns when build is not Release.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
python=${SG_PYTHON:-/usr/bin/python3} # a Python with grpc and google.protobuf
build=${1:-build}
[ -d "$build" ] || build=$here/../$build
server=$build/server/shopgpu-server
loadgen=$build/bench/shopgpu-loadgen
for exe in "$server" "$loadgen"; do
  [ -x "$exe" ] || { echo "$name: $exe missing: build first (cmake --build $build)" >&2; exit 2; }
done
btype=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build/CMakeCache.txt" 2>/dev/null || true)
[ "$btype" = Release ] || echo "$name: warning: $build is a '${btype:-unknown}' build, not Release" >&2
