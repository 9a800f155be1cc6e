#!/usr/bin/env bash
# Redis benchmark (issue 8), with a redis-server started here on a free port:
#  1. redis-benchmark -P 64 writing values of the blob's size (SET), as the reference rate;
#  2. shopgpu-redis-bench: the server's publisher writing USERS lists of top-K (target >= 50% of
#     the reference rate), then CLIENTS storefront threads with shopgpu_rec_lookup (p99 <= 1 ms),
#     back to back (saturating Redis and the cores) and paced at PACED fractions of that rate,
#     then as many connections from one event-loop thread decoding with shopgpu_rec_decode,
#     next to redis-benchmark GET from as many clients as the floor on this machine;
#  3. Recommend over gRPC on a cache hit: a shopgpu-server on that Redis, a model published by
#     RecommendAll, shopgpu-loadgen --method recommend (concurrency 16).
#   bench/record --title "redis: publish, storefront lookups, Recommend on a hit" -- bench/redis_bench.sh build
# Env: USERS (1000000), K (50), CLIENTS (50), DURATION (5), PACED (0.25,0.5).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
python=${SG_PYTHON:-/usr/bin/python3} # a Python with grpc and google.protobuf
build=${1:-build}
[ -d "$build" ] || build=$here/../$build
users=${USERS:-1000000} k=${K:-50} clients=${CLIENTS:-50} duration=${DURATION:-5}
paced=${PACED:-0.25,0.5}
tmp=$(mktemp -d)
port=$("$python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --daemonize yes \
  --logfile "$tmp/redis.log" --pidfile "$tmp/redis.pid"
pid=""
cleanup() { [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null; redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true; rm -rf "$tmp"; }
trap cleanup EXIT
for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.05; done
bytes=$((24 + 8 * k))
ref=$(redis-benchmark -p "$port" -P 64 -t set -n "$users" -d "$bytes" -r "$users" -q 2>/dev/null |
      tr '\r' '\n' | grep -E '^SET:' | tail -1 | awk '{print $2}')
# the floor for lookups: redis-benchmark GET of the same size from as many clients, unpipelined
# (its single event-loop thread; the storefront bench runs one blocking thread per client)
redis-cli -p "$port" flushall >/dev/null
get_csv=$(redis-benchmark -p "$port" -c "$clients" -t set,get -n 200000 -d "$bytes" --csv 2>/dev/null |
          grep '^"GET"' | tr -d '"')
get_rps=$(echo "$get_csv" | cut -d, -f2) get_p50=$(echo "$get_csv" | cut -d, -f5)
get_p99=$(echo "$get_csv" | cut -d, -f7) get_max=$(echo "$get_csv" | cut -d, -f8)
redis-cli -p "$port" flushall >/dev/null
out=$("$build/bench/shopgpu-redis-bench" --redis "127.0.0.1:$port" --users "$users" --k "$k" \
      --clients "$clients" --duration "$duration" --paced "$paced")
echo "$out" | grep -v '^|'
echo
echo "$out" | grep '^|'
echo "| redis-benchmark -P 64 -t set -d $bytes (reference) | 1 | $users | $bytes | ${ref%.*} | - | - | - | - | - |"
echo "| redis-benchmark -c $clients -t get -d $bytes (lookup floor) | $clients | 200000 | $bytes | ${get_rps%.*} | $get_p50 | $get_p99 | $get_max | - | - |"
echo
pub=$(echo "$out" | grep '^| publish' | awk -F'|' '{gsub(/ /,"",$6); print $6}')
p99=$(echo "$out" | grep '^| storefront lookup (' | awk -F'|' '{gsub(/ /,"",$8); print $8}')
awk -v p="$pub" -v r="$ref" -v q="$p99" -v c="$clients" -v g="$get_p99" 'BEGIN {
  x = p / r
  printf "publish rate: %.0f vs redis-benchmark %.0f /s = %.0f%% (target >= 50%%): %s\n", p, r, 100 * x, ((x >= 0.5) ? "met" : "NOT met")
  printf "storefront lookup p99, back to back: %.3f ms (target <= 1 ms): %s; redis-benchmark GET p99 at %d clients here: %.3f ms\n", q, ((q <= 1) ? "met" : "NOT met"), c, g }'
echo "$out" | grep '^| storefront lookup, paced' | awk -F'|' '{ l = $2; gsub(/^ +| +$/, "", l); gsub(/ /, "", $6); gsub(/ /, "", $8)
  printf "%s (%s lookups/s): p99 %.3f ms (target <= 1 ms): %s\n", l, $6, $8, (($8 <= 1) ? "met" : "NOT met") }'
echo "$out" | grep '^| storefront lookup, one event-loop' | awk -F'|' '{ gsub(/ /, "", $6); gsub(/ /, "", $8)
  printf "storefront lookup from one event-loop thread (%s lookups/s): p99 %.3f ms\n", $6, $8 }'

# Recommend over gRPC on a hit
export PYTHONPATH=$build/python
"$build/server/shopgpu-server" --backend cpu --redis "127.0.0.1:$port" --listen 127.0.0.1:0 \
  --metrics-listen 127.0.0.1:0 --ready-file "$tmp/ready" --data-dir "$tmp/data" 2>>"$tmp/server.log" &
pid=$!
for _ in $(seq 300); do [ "$({ wc -l <"$tmp/ready"; } 2>/dev/null)" = 2 ] && break; sleep 0.05; done
addr=$(head -1 "$tmp/ready")
"$python" "$here/sched_setup.py" "$addr" upload shop 10000 5000 32 3
job=$("$python" "$here/sched_setup.py" "$addr" recommend-all shop 10)
for _ in $(seq 600); do
  st=$("$python" "$here/sched_setup.py" "$addr" state "$job")
  case "$st" in JOB_STATE_RUNNING*|JOB_STATE_QUEUED*) sleep 0.2 ;; *) break ;; esac
done
echo "recommend-all: $st"
echo
"$build/bench/shopgpu-loadgen" --server "$addr" --method recommend --model shop --users 10000 \
  --k 10 --concurrency 16 --duration "$duration" --warmup 1 2>"$tmp/lg.log" | grep '^|'
metrics=$("$python" -c "import urllib.request,sys; print(urllib.request.urlopen('http://$(sed -n 2p "$tmp/ready")/metrics').read().decode())")
echo
echo "cache counters after the run: $(echo "$metrics" | grep -E 'event="(hits|misses)"' | tr '\n' ' ')"
kill -TERM "$pid"; wait "$pid"; pid=""
