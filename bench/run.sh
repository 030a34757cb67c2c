#!/usr/bin/env bash
# Runs the benchmarks side by side against one emulator on 127.0.0.1 and prints a table with
# each mode's events/second, its ratio to the per-call `requests` baseline, and the CPU time the
# sending process spent per event (all its threads; the emulator's is not counted).
#   bench/run.sh [N_SYNC] [N_PIPELINE] [N_ANALYTICS]      (after `make build`)
# Not part of the test suite: numbers depend on the machine; compare ratios, not absolutes.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
n_sync=${1:-5000}
n_pipe=${2:-500000}
n_cdp=${3:-100000}
venv="$build/bench-venv"
# customerio-cdp-analytics installs a top-level `customerio` module, as the official Track client
# does: it gets a venv of its own (with our package beside it, for the same-venv comparison).
cdp_venv="$build/bench-cdp-venv"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check requests
# The Python package, built and installed the way a user does, for py_pipeline.
"$venv/bin/pip" install -q --disable-pip-version-check .
[ -x "$cdp_venv/bin/python" ] || python3 -m venv "$cdp_venv"
"$cdp_venv/bin/pip" install -q --disable-pip-version-check customerio-cdp-analytics .

portfile=$(mktemp)
"$build/mock/cio-mock" --port 0 --port-file "$portfile" --site-id bench-site --api-key bench-key \
  --cdp-api-key bench-cdp-key >/dev/null 2>&1 &
mock=$!
trap 'kill $mock 2>/dev/null; rm -f "$portfile"' EXIT
for _ in $(seq 100); do [ -s "$portfile" ] && break; sleep 0.05; done
url="http://127.0.0.1:$(cat "$portfile")"
clear_log() { curl -s -X DELETE "$url/_mock/requests" >/dev/null; }

results=$(mktemp)
clear_log; "$venv/bin/python" bench/baseline_requests.py "$url" "$n_sync" | tee -a "$results"
clear_log; "$build/bench/c_bench" sync "$url" "$n_sync" | tee -a "$results"
clear_log; "$build/bench/c_bench" pipeline "$url" "$n_pipe" | tee -a "$results"
clear_log; "$venv/bin/python" bench/py_pipeline.py "$url" "$n_pipe" | tee -a "$results"
clear_log; "$build/bench/c_bench" queued 1000000 | tee -a "$results"
# The Data Pipelines clients: the official one from PyPI against ours, same code, same emulator.
clear_log; "$cdp_venv/bin/python" bench/py_analytics.py official "$url" "$n_cdp" | tee -a "$results"
clear_log; "$cdp_venv/bin/python" bench/py_analytics.py native "$url" "$n_cdp" | tee -a "$results"

echo
awk '
  { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[$1, kv[1]] = kv[2] } names[++n] = $1 }
  END {
    base = v["py_requests_baseline", "events_per_second"]
    cdp = v["py_cdp_official", "events_per_second"]
    printf "%-22s %14s %10s %14s %12s\n", "mode", "events/s", "x baseline", "CPU us/event",
           "peak RSS MB"
    for (i = 1; i <= n; i++) {
      m = names[i]
      printf "%-22s %14s %10.1f %14.2f %12.1f\n", m, v[m, "events_per_second"],
             v[m, "events_per_second"] / base, v[m, "cpu_us"], v[m, "rss_kb"] / 1024
    }
    if (cdp > 0)
      printf "\nPipelines clients: ours %.1fx the official one'"'"'s events/s, at %.1fx less CPU per event " \
             "(%.2f vs %.2f CPU s per 100,000 events)\n",
             v["py_cdp_native", "events_per_second"] / cdp,
             v["py_cdp_official", "cpu_us"] / v["py_cdp_native", "cpu_us"],
             v["py_cdp_native", "cpu_us"] / 10, v["py_cdp_official", "cpu_us"] / 10
  }' "$results"
rm -f "$results"
