#!/usr/bin/env bash
# GPU figures for kernels/arima (run by bench/gpu.sh on a lent GPU machine): prints markdown.
#   bash bench/arima/gpu.sh BUILD_DIR
# 1. 10,000 simulated monthly series of length 120, full seasonal grid (p, q <= 5, P, Q <= 2,
#    p + q + P + Q <= 5, with and without drift; CSS fits, exact-likelihood refits): its time x 10
#    predicts the 100,000-series run, which runs only when the prediction fits its limit (one
#    lent GPU has minutes, not hours).
# 2. Where the time goes: each kernel's device time on 2,000 series under ncu, when ncu is there
#    (prepare, grid, finish: the emulator's profile says finish, a thread per series running the
#    refits one after another, may weigh as much as the whole grid; README "Tests").
# 3. 100,000 series (the target: < 10 s), with the default optimizer (R's BFGS), then with LM.
# 4. The same on the CPU backend for 1,000 series (per-series rate, for scale); M3 monthly
#    (1,428 series, stepwise search) on the GPU.
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
# secs OUTPUT: the seconds column of the bench's result row
secs() { awk -F'|' '/^\| [0-9]/ {gsub(/ /, "", $7); print $7}' <<<"$1" | tail -n 1; }
echo "##### 10,000 series x 120, full seasonal grid, cuda (x 10 predicts the 100,000 run)"
out=$(timeout 60 "$bin" synthetic --series 10000 --length 120 --grid --backend cuda 2>&1)
rc=$?
echo "$out"
t10=$(secs "$out")
[ $rc -eq 0 ] && [ -n "$t10" ] || { echo "**failed or stopped at 60 s (exit status $rc)**"; status=1; t10=; }
echo
if command -v ncu >/dev/null; then
  echo "##### device time per kernel, 2,000 series (ncu --clock-control none)"
  echo '```'
  timeout 90 ncu --clock-control none --metrics gpu__time_duration.sum --print-summary per-kernel \
    "$bin" synthetic --series 2000 --length 120 --grid --backend cuda 2>&1 |
    grep -E '_kernel|gpu__time_duration|Metric Name|^\| [0-9]' | head -n 40
  echo '```'
  echo
fi
for o in bfgs lm; do
  echo "##### 100,000 series x 120, full seasonal grid, cuda, --optimizer $o (target: < 10 s)"
  if [ -z "$t10" ]; then
    echo "**not run: the 10,000-series run did not finish**"
  elif awk -v t="$t10" 'BEGIN { exit !(t * 10 < 100) }'; then
    try 120 "$bin" synthetic --series 100000 --length 120 --grid --backend cuda --optimizer $o
  else
    echo "**not run: 10,000 series took $t10 s, so 100,000 would take about $(awk -v t="$t10" 'BEGIN { print t * 10 }') s**"
    status=1
  fi
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
