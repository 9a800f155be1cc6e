#!/usr/bin/env bash
# GPU figures for kernels/arima (run by bench/gpu.sh on a lent GPU machine): prints markdown.
#   bash bench/arima/gpu.sh BUILD_DIR
# 1. 100,000 simulated monthly series of length 120, full seasonal grid (p, q <= 5, P, Q <= 2,
#    p + q + P + Q <= 5, with and without drift; CSS fits, exact-likelihood refit), target < 10 s,
#    with the default optimizer (R's BFGS) and with LM.
# 2. The same on the CPU backend for 1,000 series (per-series rate, for scale).
# 3. M3 monthly (1,428 series, stepwise search) on the GPU.
set -uo pipefail
status=0
build=${1:?usage: gpu.sh BUILD_DIR}
bin=$build/bench/shopgpu-arima-bench
data=${SG_TIMESERIES:-../shared/data/timeseries}
# try LIMIT_S CMD...: one run, stopped at LIMIT_S so that a slow one leaves time for the rest
try() {
  local limit=$1 rc
  shift
  timeout "$limit" "$@"
  rc=$?
  [ $rc -eq 0 ] || { echo "**failed or stopped at $limit s (exit status $rc)**"; status=1; }
}
for o in bfgs lm; do
  echo "##### 100,000 series x 120, full seasonal grid, cuda, --optimizer $o (target: < 10 s)"
  try 120 "$bin" synthetic --series 100000 --length 120 --grid --backend cuda --optimizer $o
  echo
done
echo "##### 1,000 series x 120, full seasonal grid, cpu ($(nproc) cores)"
try 60 "$bin" synthetic --series 1000 --length 120 --grid --backend cpu
echo
if [ -d "$data" ]; then
  echo "##### M3 monthly, stepwise, cuda"
  try 60 "$bin" speed --data "$data" --backend cuda
fi
exit $status
