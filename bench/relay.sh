#!/usr/bin/env bash
# cio-native relay against the emulator it relays to, on 127.0.0.1 (not part of pass/fail):
#   bench/relay.sh [N] [THREADS] [BATCH]          (after `make build`; BUILD_DIR, default build)
# For each shape, the same calls sent by the same load generator (bench/relay_load.py, Python
# threads on kept-alive connections) straight to the emulator and through the relay:
#   team:      POST /events {"customer_id","event"} through the relay (memory, then spool)
#              vs POST /api/v2/entity with the Track v2 event straight to the emulator;
#   pipelines: POST /v1/track one message, and POST /v1/batch with BATCH messages.
# Through the relay, "answered" is when the last call was answered (queued), "delivered" when
# the emulator had every event (the relay's /stats). The load generator is one Python process:
# at these rates it, not the relay, is often the bottleneck; compare ratios, not absolutes.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
n=${1:-20000}
threads=${2:-8}
batch=${3:-50}
cio="$build/cli/cio-native"
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

wait_port() { for _ in $(seq 200); do [ -s "$1" ] && return 0; sleep 0.05; done; return 1; }

env -u CUSTOMERIO_SITE_ID "$cio" mock --port 0 --port-file "$tmp/mport" --max-requests 2000000 \
  >/dev/null 2>&1 &
pids+=($!)
wait_port "$tmp/mport"
mock="http://127.0.0.1:$(cat "$tmp/mport")"
token=bench-token-0123456789abcdef
printf '%s\n' "$token" | "$cio" relay hash-token --name bench >"$tmp/tokens"

start_relay() { # $@: extra options
  rm -f "$tmp/rport"
  CUSTOMERIO_SITE_ID=test-site CUSTOMERIO_API_KEY=test-key CUSTOMERIO_TRACK_URL="$mock" \
    CUSTOMERIO_CDP_API_KEY=test-cdp-key CUSTOMERIO_CDP_URL="$mock" \
    "$cio" relay --listen 127.0.0.1:0 --port-file "$tmp/rport" --tokens "$tmp/tokens" \
    --pipeline max_requests_per_second=-1 --max-queue-bytes 1000000000 "$@" 2>"$tmp/relay.err" &
  relay_pid=$!
  pids+=("$relay_pid")
  wait_port "$tmp/rport"
  relay="http://127.0.0.1:$(cat "$tmp/rport")"
}

# Waits until the relay has delivered everything it accepted; prints the seconds waited.
drained() {
  python3 - "$relay" <<'PY'
import json, sys, time, urllib.request
t0 = time.perf_counter()
while True:
    s = json.load(urllib.request.urlopen(sys.argv[1] + "/stats"))
    if s["delivered"] + s["failed"] >= s["accepted"]:
        break
    time.sleep(0.01)
print(f"{time.perf_counter() - t0:.3f} {s['delivered']} {s['failed']}")
PY
}

load() { python3 bench/relay_load.py "$@"; }
row() { # name, json line, extra
  python3 -c 'import json,sys; d=json.loads(sys.argv[2]); print("%-44s %9d req/s %9d events/s  %s %s" % (sys.argv[1], d["requests_per_s"], d["events_per_s"], d["statuses"], sys.argv[3]))' "$@"
}

basic_track="Basic $(printf 'test-site:test-key' | base64)"
basic_cdp="Basic $(printf 'test-cdp-key:' | base64)"
echo "relay bench: $n requests, $threads threads, batches of $batch ($(nproc) CPUs)"

row "emulator: POST /api/v2/entity (direct)" \
  "$(load "$mock" /api/v2/entity "$basic_track" v2 "$n" "$threads")" ""
for store in memory spool; do
  if [ $store = spool ]; then start_relay --spool "$tmp/spool"; else start_relay; fi
  out=$(load "$relay" /events "Bearer $token" team "$n" "$threads")
  d=$(drained)
  row "relay ($store): POST /events" "$out" "(then all delivered in +${d%% *}s)"
  kill "$relay_pid"; wait "$relay_pid" 2>/dev/null || true
done

row "emulator: POST /v1/track (direct)" "$(load "$mock" /v1/track "$basic_cdp" cdp "$n" "$threads")" ""
start_relay
out=$(load "$relay" /v1/track "Bearer $token" cdp "$n" "$threads")
d=$(drained)
row "relay (memory): POST /v1/track" "$out" "(then all delivered in +${d%% *}s)"
nb=$((n / batch))
row "emulator: POST /v1/batch x$batch (direct)" \
  "$(load "$mock" /v1/batch "$basic_cdp" cdpbatch "$nb" "$threads" "$batch")" ""
out=$(load "$relay" /v1/batch "Bearer $token" cdpbatch "$nb" "$threads" "$batch")
d=$(drained)
row "relay (memory): POST /v1/batch x$batch" "$out" "(then all delivered in +${d%% *}s)"
