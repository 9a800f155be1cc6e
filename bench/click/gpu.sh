#!/usr/bin/env bash
# bench/click/gpu.sh BUILD_DIR: the click model's GPU figures as markdown (bench/gpu.sh runs it).
# Targets (issue 5, H100): in-process pair scoring >= 1G pairs/s at d = 64; RecommendAll top-50
# for 100k users x 20k items at d = 64 within 1.5x of the bare cuBLAS SGEMM of the same shapes.
# Scoring is measured from host memory (ids in and probabilities out over PCIe, the server's
# case) and resident (ids and output already in device memory: the kernel alone). The CPU
# backend of the same machine is run on the same shapes for reference.
set -uo pipefail
build=${1:?usage: bench/click/gpu.sh BUILD_DIR}
bin=$build/bench/shopgpu-click-bench
[ -x "$bin" ] || { echo "no $bin"; exit 1; }
shape=(--users 100000 --items 20000 --dim 64)
pairs=100000000

echo '```'
"$bin" --machine
echo '```'
echo
echo "| op | backend | shape | seconds | rate |"
echo "|---|---|---|---|---|"
status=0
declare -A secs
# run LABEL ARGS...: one row from the RESULT line
run() {
  local label=$1
  shift
  local line
  line=$(timeout 60 "$bin" --csv "$@" | grep '^RESULT,') || { echo "| $label | run failed: $* | | | |"; status=1; return; }
  IFS=, read -r _ what backend users items dim npairs k seconds rate _ <<<"$line"
  secs[$label]=$seconds
  local unit="pairs/s"
  case $what in topk) unit="users/s" ;; gemm) unit="GFLOP/s" ;; esac
  echo "| $label | $backend | ${users} x ${items}, d ${dim}, ${npairs} pairs, k ${k} | $seconds | $rate $unit |"
}
run "score (host memory)" --backend cuda --what score --pairs $pairs --reps 5 "${shape[@]}"
run "score (resident)" --backend cuda --what resident --pairs $pairs --reps 5 "${shape[@]}"
run "RecommendAll top-50" --backend cuda --what topk --k 50 --block 100000 "${shape[@]}"
run "RecommendAll top-50, 8192 users per step" --backend cuda --what topk --k 50 --block 8192 "${shape[@]}"
run "bare cuBLAS SGEMM" --backend cuda --what gemm "${shape[@]}"
run "score (cpu backend)" --backend cpu --what score --pairs 20000000 --reps 3 "${shape[@]}"
run "RecommendAll top-50 (cpu backend)" --backend cpu --what topk --k 50 "${shape[@]}"
echo
t=${secs["RecommendAll top-50"]:-}
g=${secs["bare cuBLAS SGEMM"]:-}
if [ -n "$t" ] && [ -n "$g" ]; then
  echo "RecommendAll / bare SGEMM = $(awk -v t="$t" -v g="$g" 'BEGIN { printf "%.2f", t / g }') (target <= 1.5)"
fi
exit $status
