#!/usr/bin/env bash
# RPC benchmark: starts a CPU-backend shopgpu-server on a free local port and drives it with
# shopgpu-loadgen: GetServerInfo, then Echo (64 B, the transport's ceiling to compare against), at
# concurrency 1, 16 and 64; prints one markdown table; stops the server with SIGTERM (must exit 0).
#   bench/record --title "rpc: ServerInfo vs Echo" -- bench/rpc_bench.sh build
# Builds nothing: BUILD_DIR (default build) must hold a Release build. Env overrides:
# DURATION (5 s), WARMUP (1 s), CONCURRENCY ("1 16 64"), PAYLOAD (64), LOADGEN_ARGS (extra flags).
set -euo pipefail
name=rpc_bench
# shellcheck source=bench/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

duration=${DURATION:-5}
warmup=${WARMUP:-1}
concurrency=${CONCURRENCY:-1 16 64}
payload=${PAYLOAD:-64}

tmp=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then kill -KILL "$server_pid"; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

"$server" --backend cpu --redis none --listen 127.0.0.1:0 --ready-file "$tmp/ready" \
  --data-dir "$tmp/data" --log-level warn &
server_pid=$!
for _ in $(seq 100); do
  [ -s "$tmp/ready" ] && break
  kill -0 "$server_pid" 2>/dev/null || { echo "rpc_bench: server exited at start" >&2; exit 1; }
  sleep 0.1
done
[ -s "$tmp/ready" ] || { echo "rpc_bench: server not ready after 10 s" >&2; exit 1; }
addr=$(head -1 "$tmp/ready")

# One table: the first run prints the machine lines and the header, the others only their row.
# Their stderr (Little's law check, errors) is kept apart and printed after the table.
failed=0
header=""
for method in info echo; do
  for n in $concurrency; do
    # shellcheck disable=SC2086  # LOADGEN_ARGS is a list of flags
    "$loadgen" --server "$addr" --method "$method" --payload "$payload" --concurrency "$n" \
      --duration "$duration" --warmup "$warmup" $header ${LOADGEN_ARGS:-} 2>>"$tmp/notes" || failed=1
    header=--no-header
  done
done

echo
cat "$tmp/notes"

kill -TERM "$server_pid"
server_rc=0
wait "$server_pid" || server_rc=$?
server_pid=""
if [ "$server_rc" -ne 0 ]; then
  echo "rpc_bench: server exited with status $server_rc after SIGTERM" >&2
  exit 1
fi
[ "$failed" -eq 0 ] || { echo "rpc_bench: a loadgen run failed (see above)" >&2; exit 1; }
