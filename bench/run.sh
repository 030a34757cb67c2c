#!/usr/bin/env bash
# Every benchmark, side by side, against the emulator on 127.0.0.1, in one run:
#   bench/run.sh [N_SYNC] [N_PIPELINE] [N_ANALYTICS]        (after `make build`)
# Environment: BUILD_DIR (default build; a Release tree, e.g. build-rel, gives the real numbers),
# N_LATENCY_SYNC (per-call modes under 20 ms of latency, default 200), LATENCY_MS (default 20),
# CIO_PEERS_DIR and PEER_* (bench/peers.sh).
#
# 1. No added latency: per-call baselines (`requests` on a kept-alive session, as the official
#    Python client; Net::HTTP with a connection per request, as the official Ruby gem), then C,
#    Python (sync, asyncio with 1,000 in flight) and Ruby one request per event, then the
#    delivery pipeline from C, Python and Ruby (N events queued then flushed: end to end, and the
#    run fails unless every event was delivered), 1,000,000 events queued with nothing draining
#    them (peak RSS), the C pipeline on the Pipelines sink, and customerio_native.analytics at
#    its default pacing of 100 requests/s (unpaced, against the official client: part 5).
#    The stand-in baselines stay because part 2 (under latency) has no official client rows.
# 2. The same sending modes against an emulator that answers every request LATENCY_MS late, where
#    batching and concurrency matter most.
# 3. Webhook signature checks (MB/s of body) from C and Python against Python's hmac module.
# 4. Instructions per enqueued event, counted by callgrind inside cio_pipeline_enqueue (stable on
#    a noisy machine, unlike time).
# 5. Ours against the real official clients (customerio 3.2, async-customerio 2.18,
#    customerio-cdp-analytics 1.1, the Ruby gem 6.2), over plain HTTP and TLS: bench/peers.sh.
# Writes $BUILD_DIR/bench-results/results.txt (the tables) and results.png (gnuplot). CPU is the
# sending process's (all its threads; the emulator's is not counted). Not part of the test
# suite: numbers depend on the machine; compare ratios, not absolutes.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
n_sync=${1:-3000}
n_pipe=${2:-500000}
n_cdp=${3:-100000}
n_lat=${N_LATENCY_SYNC:-200}
latency=${LATENCY_MS:-20}
out="$build/bench-results"
mkdir -p "$out"
build_abs="$(cd "$build" && pwd)"

command -v gnuplot >/dev/null || {
  [ "$(id -u)" -eq 0 ] && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
    --no-install-recommends gnuplot-nox >/dev/null || echo "bench: no gnuplot, no chart" >&2
}

# Python: our package and `requests` in one venv (the official clients: bench/peers.sh).
venv="$build/bench-venv"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check requests .
# Ruby: the gem built and installed offline, as scripts/test.sh does.
gems="$build_abs/bench-gems"
if [ ! -d "$gems" ] || [ -n "$(find bindings/ruby core -newer "$gems" -name '*.[ch]*' -print -quit)" ]; then
  rm -rf "$gems"
  (cd bindings/ruby && gem build --silent customerio-native.gemspec --output "$build_abs/bench.gem")
  MAKEFLAGS="-j${JOBS:-2}" gem install --silent --local --no-document --install-dir "$gems" \
    "$build_abs/bench.gem"
fi
ruby_bench() { GEM_HOME="$gems" GEM_PATH="$gems:" ruby "$@"; }

mocks=()
trap 'kill "${mocks[@]}" 2>/dev/null || true' EXIT
start_mock() { # start_mock LATENCY_MS -> sets $url
  local portfile
  portfile=$(mktemp)
  "$build/mock/cio-mock" --port 0 --port-file "$portfile" --site-id bench-site \
    --api-key bench-key --cdp-api-key bench-cdp-key >/dev/null 2>&1 &
  mocks+=($!)
  for _ in $(seq 100); do [ -s "$portfile" ] && break; sleep 0.05; done
  url="http://127.0.0.1:$(cat "$portfile")"
  rm -f "$portfile"
  if [ "$1" -gt 0 ]; then # status 0: answered normally, after the delay
    curl -s -X POST "$url/_mock/faults" -d "{\"count\":1000000000,\"status\":0,\"delay_ms\":$1}" \
      >/dev/null
  fi
}
clear_log() { curl -s -X DELETE "$url/_mock/requests" >/dev/null; }
run() { clear_log; "$@" | tee -a "$results"; }

sending_modes() { # sending_modes N_PER_CALL N_PIPELINE N_ASYNC
  run "$venv/bin/python" bench/baseline_requests.py "$url" "$1"
  run ruby_bench bench/baseline_nethttp.rb "$url" "$1"
  run "$build/bench/c_bench" sync "$url" "$1"
  run "$venv/bin/python" bench/py_clients.py sync "$url" "$1"
  run "$venv/bin/python" bench/py_clients.py async "$url" "$3" 1000
  run ruby_bench bench/rb_bench.rb sync "$url" "$1"
  run "$build/bench/c_bench" pipeline "$url" "$2"
  run "$venv/bin/python" bench/py_pipeline.py "$url" "$2"
  run ruby_bench bench/rb_bench.rb pipeline "$url" "$2"
}

table() { # table FILE TITLE
  awk -v title="$2" '
    { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[$1, kv[1]] = kv[2] } names[++n] = $1 }
    END {
      py = v["py_requests_baseline", "events_per_second"]
      rb = v["rb_nethttp_baseline", "events_per_second"]
      printf "\n%s\n%-24s %13s %12s %13s %12s\n", title, "mode", "events/s", "x baseline",
             "CPU us/event", "peak RSS MB"
      for (i = 1; i <= n; i++) {
        m = names[i]
        base = (m ~ /^rb_/) ? rb : py
        printf "%-24s %13s %12s %13.2f %12.1f\n", m, v[m, "events_per_second"],
               (base > 0 && m !~ /webhook|queued|cdp/) ? sprintf("%.1f", v[m, "events_per_second"] / base) : "-",
               v[m, "cpu_us"], v[m, "rss_kb"] / 1024
      }
      printf "(x baseline: against py_requests_baseline, Ruby rows against rb_nethttp_baseline)\n"
    }' "$1"
}

# ---- 1. no added latency
results="$out/plain.txt"; : >"$results"
start_mock 0
sending_modes "$n_sync" "$n_pipe" "$((n_sync * 10))"
run "$build/bench/c_bench" queued 1000000
run "$build/bench/c_bench" cdp "$url" "$n_pipe"
# ours at its default pacing (100 requests/s), which caps it whatever it could do
run "$venv/bin/python" bench/py_analytics.py native "$url" "$n_cdp" bench-cdp-key paced

# ---- 2. LATENCY_MS on every answer
results="$out/latency.txt"; : >"$results"
start_mock "$latency"
sending_modes "$n_lat" "$((n_pipe / 5))" "$((n_lat * 50))"

# ---- 3. webhook signature checks, 1 KB and 64 KB bodies
results="$out/webhook.txt"; : >"$results"
for size in 1024 65536; do
  count=$((200000000 / size))
  "$build/bench/c_bench" webhook "$size" "$count" | tee -a "$results"
  "$venv/bin/python" bench/webhook_bench.py native "$size" "$count" | tee -a "$results"
  "$venv/bin/python" bench/webhook_bench.py hmac "$size" "$count" | tee -a "$results"
done

# ---- 4. instructions per enqueue (callgrind, inside cio_pipeline_enqueue only)
ir=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null \
  --toggle-collect=cio_pipeline_enqueue "$build/bench/c_bench" queued 20000 2>&1 |
  awk '/Collected :/ { print $NF }')

{
  table "$out/plain.txt" "No added latency (N per call $n_sync, pipelines $n_pipe, Pipelines clients $n_cdp)"
  table "$out/latency.txt" "Every answer ${latency} ms late (N per call $n_lat, pipelines $((n_pipe / 5)))"
  echo
  echo "Webhook signature checks (MB/s of body verified)"
  awk '{ for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
         printf "%-24s %10.1f MB/s %12s checks/s\n", $1, v["mb_per_second"], v["events_per_second"] }' \
    "$out/webhook.txt"
  echo
  echo "Instructions per cio_pipeline_enqueue (callgrind, 20,000 events): $((ir / 20000))"
} | tee "$out/results.txt"

# ---- 5. against the official clients, plain HTTP and TLS (its own emulators)
kill "${mocks[@]}" 2>/dev/null || true
mocks=()
bench/peers.sh
cat "$out/peers-summary.txt" >>"$out/results.txt"

if command -v gnuplot >/dev/null; then
  for f in plain latency; do
    awk '$1 !~ /queued|webhook/ { for (i = 2; i <= NF; i++) { split($i, kv, "=");
         if (kv[1] == "events_per_second") print $1, kv[2] } }' "$out/$f.txt" >"$out/$f.dat"
  done
  gnuplot <<EOF
set terminal pngcairo size 1200,900 noenhanced font ",10"
set output "$out/results.png"
set multiplot layout 2,1 title "customerio-native: events/s against the emulator on 127.0.0.1 (log scale)"
set style fill solid 0.8
set boxwidth 0.7
set logscale y
set grid ytics
set xtics rotate by -30
set ylabel "events per second"
set title "no added latency"
plot "$out/plain.dat" using 0:2:xtic(1) with boxes notitle, "" using 0:2:(sprintf("%.0f",\$2)) with labels offset 0,0.7 notitle
set title "every answer ${latency} ms late"
plot "$out/latency.dat" using 0:2:xtic(1) with boxes notitle, "" using 0:2:(sprintf("%.0f",\$2)) with labels offset 0,0.7 notitle
unset multiplot
EOF
  echo "chart: $out/results.png"
fi
