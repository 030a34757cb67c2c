#!/usr/bin/env bash
# The shared Redis queue (issue 18): producer CPU per event against today's in-memory enqueue,
# events/s through Redis with 1, 2 and 4 workers, and the fleet rate's accuracy. Starts its own
# cio-mock and redis-server (random loopback port, temporary directory, AOF always) and stops
# them by PID. Usage: bench/redis_bench.sh [BUILD_DIR] (default build); EVENTS=N to change size.
set -euo pipefail
build=${1:-build}
events=${EVENTS:-50000}
dir=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$dir"' EXIT

"$build/mock/cio-mock" --port 0 --port-file "$dir/port" --site-id bench-site --api-key bench-key \
  >/dev/null 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -s "$dir/port" ] && break; sleep 0.05; done
mock="http://127.0.0.1:$(cat "$dir/port")"

port=$((20000 + RANDOM % 30000))
redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --appendonly yes --appendfsync always \
  --save "" --maxmemory-policy noeviction --logfile redis.log &
pids+=($!)
for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.05; done
redis="redis://127.0.0.1:$port"
reset() { redis-cli -p "$port" flushall >/dev/null; curl -s -X DELETE "$mock/_mock/requests" >/dev/null; }

reset; "$build/bench/redis_bench" enqueue "$mock" "$redis" "$events"
for w in 1 2 4; do
  reset; "$build/bench/redis_bench" drain "$mock" "$redis" "$events" "$w"
done
for w in 1 4; do
  reset; "$build/bench/redis_bench" rate "$mock" "$redis" 300 "$w" 50
done
