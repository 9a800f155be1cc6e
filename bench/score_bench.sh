#!/usr/bin/env bash
# ScorePairs over gRPC with large calls (issue 5): PAIRS (1,000,000) random pairs per call on a
# random model of USERS x ITEMS at DIM, at concurrency 1, 2 and 4, on a CPU-backend (or GPU)
# shopgpu-server started here: pairs/s = QPS x PAIRS (target on the CPU: >= 20M pairs/s).
#   bench/record --title "click: ScorePairs over gRPC, 1M pairs per call" -- bench/score_bench.sh build
# BUILD_DIR (default build) must hold a Release build. Env: PAIRS (1000000), USERS (100000),
# ITEMS (20000), DIM (64), DURATION (10), BACKEND (cpu), CONCURRENCY ("1 2 4").
set -euo pipefail
name=score_bench
# shellcheck source=bench/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
pairs=${PAIRS:-1000000} users=${USERS:-100000} items=${ITEMS:-20000} dim=${DIM:-64}
duration=${DURATION:-10} backend=${BACKEND:-cpu}
export PYTHONPATH=$build/python
tmp=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

"$server" --backend "$backend" --redis none --listen 127.0.0.1:0 --ready-file "$tmp/ready" \
  --data-dir "$tmp/data" 2>>"$tmp/server.log" &
pid=$!
for _ in $(seq 300); do [ -s "$tmp/ready" ] && break; sleep 0.05; done
addr=$(head -1 "$tmp/ready")
"$build/bench/shopgpu-probe" --backend "$backend" 2>/dev/null | grep -E '^(machine|gpu|build|backend):'
"$python" "$here/sched_setup.py" "$addr" upload m "$users" "$items" "$dim" 1
echo
echo "| method | calls | concurrency | connections | calls done | errors | QPS | p50 ms | p90 ms | p99 ms | max ms | pairs/s |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
best=0
for c in ${CONCURRENCY:-1 2 4}; do
  row=$("$loadgen" --server "$addr" --method score --model m --pairs "$pairs" --users "$users" \
        --items "$items" --concurrency "$c" --duration "$duration" --warmup 2 --no-header 2>>"$tmp/lg.log")
  qps=$(echo "$row" | awk -F'|' '{gsub(/ /,"",$8); print $8}')
  errs=$(echo "$row" | awk -F'|' '{gsub(/ /,"",$7); print $7}')
  rate=$(awk -v q="$qps" -v p="$pairs" 'BEGIN { printf "%.0f", q * p }')
  echo "$row $rate |"
  [ "$errs" = 0 ] && best=$(awk -v a="$best" -v b="$rate" 'BEGIN { print (b > a) ? b : a }')
done
kill -TERM "$pid"; wait "$pid" || { echo "server exit status $?" >&2; exit 1; }; pid=""
echo
awk -v b="$best" -v p="$pairs" 'BEGIN {
  printf "best: %.1fM pairs/s with %d pairs per call (target >= 20M pairs/s on the CPU): %s\n", b / 1e6, p, ((b >= 20e6) ? "met" : "NOT met") }'
