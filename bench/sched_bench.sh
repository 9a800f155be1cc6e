#!/usr/bin/env bash
# Scheduler benchmark (issue 4), on a CPU-backend (or GPU) shopgpu-server started here:
#  1. dynamic batching: ScorePairs calls of 1,000 pairs at concurrency 64, batching off
#     (--max-batch 0) vs on (defaults), pairs/s and the ratio (target >= 3x);
#  2. interactive latency while a long batch job runs: ScorePairs (1,000 pairs) at a fixed
#     closed-loop load (concurrency 4), idle vs during a RecommendAll job over a large model
#     (target: loaded p99 <= 2x idle p99), with the default --batch-nice 10 and with it off
#     (NICES="19 0" to try another value); and, as the floor of what CPU priority can do on this
#     machine, the same load next to a plain busy loop at SCHED_IDLE (no batch job at all).
#     LONG_JOB=route runs a SolveRoutes job (1,000 random cities, ACO) as the batch job instead:
#     on a GPU, RecommendAll over the large model ends in well under a second.
#   bench/record --title "scheduler: batching, p99 under a batch job" -- bench/sched_bench.sh build
# BUILD_DIR (default build) must hold a Release build. Env: DURATION (5), BACKEND (cpu),
# LONG_JOB (recommend-all | route), NICES ("10 0"), FLOOR (1; 0 leaves out the busy-loop
# floor), SG_PYTHON (/usr/bin/python3: one with grpc and protobuf).
set -euo pipefail
name=sched_bench
# shellcheck source=bench/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
export PYTHONPATH=$build/python
py() { "$python" "$here/sched_setup.py" "$addr" "$@"; }
duration=${DURATION:-5}
backend=${BACKEND:-cpu}
long_job=${LONG_JOB:-recommend-all}
case $long_job in recommend-all | route) ;; *) echo "$name: LONG_JOB: $long_job is not recommend-all or route" >&2; exit 2 ;; esac
tmp=$(mktemp -d)
pid="" hog=""
cleanup() {
  [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
  [ -n "$hog" ] && kill -KILL "$hog" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

start_server() { # extra flags...
  rm -f "$tmp/ready"
  "$server" --backend "$backend" --redis none --listen 127.0.0.1:0 --ready-file "$tmp/ready" \
    --data-dir "$tmp/data" "$@" 2>>"$tmp/server.log" &
  pid=$!
  for _ in $(seq 300); do [ -s "$tmp/ready" ] && break; sleep 0.05; done
  addr=$(head -1 "$tmp/ready")
}
stop_server() {
  kill -TERM "$pid"; wait "$pid" || { echo "server exit status $?" >&2; exit 1; }; pid=""
}
run() { # label, loadgen flags... → one table row, label first
  "$loadgen" --server "$addr" --duration "$duration" --warmup 1 --no-header "$@" 2>>"$tmp/lg.log" |
    sed "s/^| /| $label | /"
}

"$loadgen" --help >/dev/null
"$build/bench/shopgpu-probe" --backend "$backend" 2>/dev/null | grep -E '^(machine|gpu|build|backend):'
echo
echo "| scenario | method | calls | concurrency | connections | calls done | errors | QPS | p50 ms | p90 ms | p99 ms | max ms |"
echo "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
score="--method score --model small --pairs 1000 --users 10000 --items 10000"
rows=()
for mode in off on; do
  if [ $mode = off ]; then start_server --max-batch 0; else start_server; fi
  py upload small 10000 10000 64 1
  label="batching $mode"; row=$(run $score --concurrency 64); echo "$row"; rows+=("$row")
  stop_server
done
states=()
idle="" loaded="" idle0="" loaded0="" idle_ref="" hog_row=""
for nice in ${NICES:-10 0}; do # the default --batch-nice, then off
  start_server --batch-nice $nice
  py upload small 10000 10000 64 1
  [ "$long_job" = route ] || py upload big 300000 40000 64 2
  label="idle (batch-nice $nice)"; row=$(run $score --concurrency 4); echo "$row"
  [ $nice != 0 ] && idle=$row || idle0=$row
  if [ "$long_job" = route ]; then
    job=$(py route 1000 $((duration * 3 + 10)) 1); what=SolveRoutes
  else
    job=$(py recommend-all big 50); what=RecommendAll
  fi
  sleep 1
  label="during $what (batch-nice $nice)"; row=$(run $score --concurrency 4); echo "$row"
  [ $nice != 0 ] && loaded=$row || loaded0=$row
  states+=("$(py state "$job")"); py cancel "$job" >/dev/null
  stop_server
done
if [ "${FLOOR:-1}" = 1 ]; then
  # the floor: no batch job, one busy loop at the lowest CPU priority Linux has (SCHED_IDLE)
  start_server
  py upload small 10000 10000 64 1
  label="idle (reference)"; row=$(run $score --concurrency 4); echo "$row"; idle_ref=$row
  chrt -i 0 sh -c 'while :; do :; done' &
  hog=$!
  sleep 0.5
  label="next to a SCHED_IDLE busy loop, no batch job"; row=$(run $score --concurrency 4); echo "$row"
  hog_row=$row
  kill "$hog"; wait "$hog" 2>/dev/null || true; hog=""
  stop_server
fi
echo
echo "batch job state at the end of the loaded runs: ${states[*]} (each must still be RUNNING for the figure to count)"
qps() { echo "$1" | awk -F'|' '{gsub(/ /,"",$9); print $9}'; }
p99() { echo "$1" | awk -F'|' '{gsub(/ /,"",$12); print $12}'; }
awk -v off="$(qps "${rows[0]}")" -v on="$(qps "${rows[1]}")" -v i="$(p99 "$idle")" -v l="$(p99 "$loaded")" \
  -v w="$what" -v i0="$(p99 "$idle0")" -v l0="$(p99 "$loaded0")" -v ir="$(p99 "$idle_ref")" -v h="$(p99 "$hog_row")" 'BEGIN {
  r = on / off
  printf "batching: %.0f vs %.0f calls/s of 1,000 pairs = %.2fx (target >= 3x): %s\n", on, off, r, ((r >= 3) ? "met" : "NOT met")
  if (i != "") { q = l / i
    printf "p99 during %s: %.3f ms vs %.3f ms idle = %.2fx (target <= 2x): %s\n", w, l, i, q, ((q <= 2) ? "met" : "NOT met") }
  if (i0 != "") printf "  the same with --batch-nice 0: %.3f ms vs %.3f ms idle = %.2fx\n", l0, i0, l0 / i0
  if (ir != "") printf "  floor here: next to a SCHED_IDLE busy loop (no batch job) %.3f ms vs %.3f ms idle = %.2fx\n", h, ir, h / ir }'
