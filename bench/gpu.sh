#!/usr/bin/env bash
# Everything a lent GPU machine should do, in one call (see README "GPU machine"):
#   bench/gpu-kit                                        (here, once: makes .gpukit, ~48 MiB)
#   run(command="bash bench/gpu.sh", carry=[".gpukit"])  (device tool)
#   bench/record --append-fragment <files_at>/RESULTS-fragment.md
# The GPU machine has CUDA, CMake, gcc and Python but none of our Debian packages and no network:
# .gpukit carries them (OpenBLAS and Criterion; gRPC core, protobuf-c, hiredis, libmicrohttpd,
# redis-server and protoc from bench/gpu-kit-server.txt). With the server's packages there it
# builds the whole tree with CUDA; with only the base kit, kernels/ alone (SHOPGPU_KERNELS_ONLY).
#
# Steps, most important first, each under `timeout` within one budget (SG_GPU_BUDGET_S, default
# 540 s: one device command may run 600 s, and a lent machine has about 15 minutes in all, start
# included, so there is no second try): build; the GPU tests (CUDA unit and CPU-vs-GPU parity
# tests, SHOPGPU_REQUIRE_GPU=1: a skip is a failure); the click, ACO and ARIMA GPU benchmarks
# (bench/<op>/gpu.sh); the scheduler and ScorePairs benchmarks on a CUDA-backend server; the rest of
# the test suite against a server whose backend is CUDA. A step that does not fit is recorded
# as skipped. Everything goes to $OUT (or bench/out): gpu.log, junit XML, RESULTS-fragment.md.
#
# SG_GPU_REHEARSAL=1 (bench/gpu-rehearse sets it) is the dry run on a machine with no GPU: GPU
# tests may skip, the CUDA benchmarks are expected to fail, durations are short.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
out=${OUT:-bench/out}
mkdir -p "$out"
out=$(cd "$out" && pwd)
exec > >(tee "$out/gpu.log") 2>&1
budget=${SG_GPU_BUDGET_S:-540}
rehearsal=${SG_GPU_REHEARSAL:-0}
build=build-gpu
frag=$out/RESULTS-fragment.md
status=0
t0=$SECONDS
left() { echo $((budget - (SECONDS - t0))); }

# step TITLE MAX_S CMD...: runs CMD under timeout (MAX_S, or less when less is left), its output
# both to the log and, under a heading, to the fragment. Skipped (and the run failed) when under
# 30 s are left.
step() {
  local title=$1 max=$2 l rc
  shift 2
  l=$(left)
  echo "== $title ($(date -u +%H:%M:%S), $l s of the budget left)"
  if [ "$l" -lt 30 ]; then
    printf '#### %s\n\n**skipped: %s s of the budget left**\n\n' "$title" "$l" >>"$frag"
    status=1
    return 0
  fi
  [ "$max" -gt $((l - 10)) ] && max=$((l - 10))
  printf '#### %s\n\n' "$title" >>"$frag"
  local s0=$SECONDS
  # through bash -c, so that CMD may be one of the functions below (exported)
  timeout --kill-after=10 "$max" bash -c '"$@"' step "$@" 2>&1 | tee -a "$frag"
  rc=${PIPESTATUS[0]}
  if [ "$rc" -ne 0 ]; then
    status=1
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
      printf '\n**%s: stopped at its limit of %s s**\n' "$title" "$max" | tee -a "$frag"
    else
      printf '\n**%s: failed (exit status %s)**\n' "$title" "$rc" | tee -a "$frag"
    fi
  fi
  printf '\n(%s s)\n\n' $((SECONDS - s0)) >>"$frag"
}

if [ -f .gpukit/env.sh ]; then
  # shellcheck disable=SC1091
  source .gpukit/env.sh
  # the kit's programs (protoc-c, protoc, redis-server, openssl) after the machine's own
  export PATH=$PATH:$root/.gpukit/root/usr/bin
  # the kit's headers as system headers (CPATH makes them user headers, and -Werror then fails
  # on gRPC's own warnings)
  export CFLAGS="${CFLAGS:-} -isystem $root/.gpukit/root/usr/include"
  # the kit's .pc files say prefix=/usr: the sysroot makes their -I and -L point into the kit
  export PKG_CONFIG_SYSROOT_DIR=$root/.gpukit/root
fi
full=0
if [ "${SG_GPU_KERNELS_ONLY:-0}" != 1 ] && command -v protoc-c >/dev/null &&
  pkg-config --exists grpc gpr libprotobuf-c hiredis libmicrohttpd 2>/dev/null; then
  full=1
fi
# a Python that can talk gRPC, for the server benchmarks and the Python client test
python=""
for p in python3 /usr/bin/python3; do
  if command -v "$p" >/dev/null && "$p" -c 'import grpc, google.protobuf' 2>/dev/null; then
    python=$(command -v "$p")
    break
  fi
done
export SG_PYTHON=${python:-/usr/bin/python3}   # bench/*_bench.sh
export SHOPGPU_TEST_PYTHON=$SG_PYTHON          # the server tests' Python client
jobs=$(nproc)
commit=$(git describe --always --dirty --abbrev=10 2>/dev/null || echo unknown)
gpu=$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | head -1)
{
  echo "### $(date -u '+%Y-%m-%d %H:%M UTC') · GPU run (bench/gpu.sh$([ "$rehearsal" = 1 ] && echo ', REHEARSAL without a GPU'))"
  echo
  echo "- machine: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $jobs cores; gpu: ${gpu:-none}"
  echo "- commit: $commit"
  echo "- command: \`bash bench/gpu.sh\` (device tool, carry .gpukit)"
  echo "- build: $([ $full = 1 ] && echo 'whole tree (server, client, kernels) with CUDA' || echo 'kernels/ only with CUDA (no server packages in .gpukit)'); python for gRPC: ${python:-none}"
  echo
} >"$frag"
echo "gpu.sh: budget $budget s, $jobs cores, gpu: ${gpu:-none}, full build: $full, python: ${python:-none}"

configure() {
  cmake -S . -B "$build" -DSHOPGPU_CUDA=ON -DCMAKE_BUILD_TYPE=Release -DSHOPGPU_WERROR=ON \
    -DSHOPGPU_KERNELS_ONLY=$([ $full = 1 ] && echo OFF || echo ON) \
    -DCMAKE_CUDA_ARCHITECTURES="${SG_CUDA_ARCHS:-90}" >"$out/cmake.log" 2>&1 &&
    cmake --build "$build" -j "$jobs" >"$out/build.log" 2>&1
  local rc=$?
  [ $rc -eq 0 ] && echo "built $build ($(grep -c '^\[' "$out/build.log") build lines)" ||
    { tail -n 40 "$out/cmake.log" "$out/build.log"; }
  return $rc
}
export build out jobs full
export -f configure
step "build" 300 configure
if [ ! -x "$build/bench/shopgpu-probe" ]; then
  echo "**no build: nothing else can run**" | tee -a "$frag"
  exit 1
fi
require=1
[ "$rehearsal" = 1 ] && require=0
export require

probe() {
  echo '```'
  "$build/bench/shopgpu-probe" --backend auto 2>&1
  echo '```'
}
export -f probe
step "backend probe" 30 probe

# ctest-summary LABEL ARGS...: runs ctest with ARGS, then one line from its JUnit XML
ctest_run() {
  local name=$1
  shift
  echo '```'
  (cd "$build" && SHOPGPU_REQUIRE_GPU=$require ctest --output-on-failure --timeout 120 \
    --output-junit "$out/junit-$name.xml" "$@")
  local rc=$?
  echo '```'
  echo
  echo "ctest ($name, SHOPGPU_REQUIRE_GPU=$require): $(grep -o 'tests="[0-9]*"\|failures="[0-9]*"\|skipped="[0-9]*"' \
    "$out/junit-$name.xml" 2>/dev/null | head -3 | tr '\n' ' ')"
  return $rc
}
export -f ctest_run
step "GPU tests (CUDA units, CPU-vs-GPU parity)" 150 ctest_run gpu -L gpu -j 4

# Each op family's GPU benchmarks: bench/<op>/gpu.sh BUILD_DIR prints markdown
for op in click aco arima; do
  [ -f "bench/$op/gpu.sh" ] && step "bench/$op/gpu.sh" 150 bash "bench/$op/gpu.sh" "$build"
done

if [ $full = 1 ]; then
  dur=5 sbackend=cuda
  [ "$rehearsal" = 1 ] && dur=2 sbackend=cpu # no GPU: check the scripts on the CPU backend
  if [ -n "$python" ]; then
    # issue 4 on the GPU: batching on/off, and p99 while a SolveRoutes job holds the GPU
    step "scheduler: batching, p99 under a routing job (BACKEND=$sbackend LONG_JOB=route)" 150 \
      env BACKEND=$sbackend LONG_JOB=route DURATION=$dur NICES=10 bash bench/sched_bench.sh "$build"
    step "ScorePairs over gRPC, 1M pairs per call (BACKEND=$sbackend)" 90 \
      env BACKEND=$sbackend DURATION=$dur CONCURRENCY="1 4" bash bench/score_bench.sh "$build"
  else
    printf '#### server benchmarks\n\n**skipped: no Python with grpc and protobuf**\n\n' | tee -a "$frag"
  fi
fi
step "the rest of the suite$([ $full = 1 ] && echo ', servers on the CUDA backend')" 240 \
  ctest_run rest -LE gpu -j "$((jobs / 2 > 1 ? jobs / 2 : 1))"
echo "gpu.sh: done in $((SECONDS - t0)) s, status $status"
printf -- '- gpu.sh: %s s of a %s s budget, exit status %s\n' $((SECONDS - t0)) "$budget" "$status" >>"$frag"
exit $status
