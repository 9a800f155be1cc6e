#!/usr/bin/env bash
# bench/aco/gpu.sh BUILD_DIR: the ACO figures on a GPU machine, as markdown (bench/gpu.sh runs it).
# Target (issue 7): pr1002 within 1% of the optimum in under 2 s on an H100. Runs pr1002 on the
# CUDA backend with a 2 s limit (the default colonies x ants, three seeds, then other shapes),
# the CPU backend of the same machine for reference, and one CVRP (X-n101-k25) on both.
# "t 1%" is the compute time at which the best first came within 1% (from the trace).
set -uo pipefail
build=${1:?usage: bench/aco/gpu.sh BUILD_DIR}
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
bin=$build/bench/shopgpu-aco-bench
[ -x "$bin" ] || { echo "no $bin"; exit 1; }
tsp=../shared/data/tsplib/instances/pr1002.tsp
opt=../shared/data/tsplib/optima.csv
[ -f "$tsp" ] || { tsp=bench/aco/data/pr1002.tsp; opt=bench/aco/data/optima.csv; }
vrp=tests/data/aco/X-n101-k25.vrp
bks=bench/aco/data/bks.csv

echo '```'
"$bin" --machine
echo '```'
echo
echo "| instance | backend | colonies x ants | seed | limit s | cost | gap % | t best s | t 1% s | iterations |"
echo "|---|---|---|---|---|---|---|---|---|---|"
status=0
# run LABEL ARGS...: one row from the RESULT line
run() {
  local shape=$1
  shift
  local line
  line=$(timeout 40 "$bin" --csv "$@" | grep '^RESULT,') || { echo "| run failed: $* | | | | | | | | | |"; status=1; return; }
  IFS=, read -r _ name _ _ cost gap tbest t1 _ _ iters _ _ <<<"$line"
  local backend seed limit
  backend=$(sed -n 's/.*--backend \([a-z]*\).*/\1/p' <<<"$*")
  seed=$(sed -n 's/.*--seed \([0-9]*\).*/\1/p' <<<"$*")
  limit=$(sed -n 's/.*--time \([0-9.]*\).*/\1/p' <<<"$*")
  echo "| $name | $backend | $shape | $seed | $limit | $cost | $gap | $tbest | $t1 | $iters |"
}
for seed in 1 2 3; do
  run "default" --backend cuda --time 2 --seed $seed --ref "$opt" "$tsp"
done
for shape in "16 256" "64 128" "32 256" "64 256"; do
  set -- $shape
  run "$1 x $2" --backend cuda --time 2 --seed 1 --colonies "$1" --ants "$2" --ref "$opt" "$tsp"
done
run "default" --backend cpu --time 2 --seed 1 --ref "$opt" "$tsp"
run "default" --backend cpu --time 10 --seed 1 --ref "$opt" "$tsp"
run "default" --backend cuda --time 10 --seed 1 --ref "$bks" "$vrp"
run "default" --backend cpu --time 10 --seed 1 --ref "$bks" "$vrp"
exit $status
