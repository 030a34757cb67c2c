#!/usr/bin/env bash
# The main job, against the local emulator: start `cio-native mock` in the background, run the C
# quick start and the Pipelines API example, import the sample data set (examples/sample: 2,000 people in CSV, 5,000 events in
# JSON Lines, with deliberate mistakes) through the delivery pipeline with a schema and a
# progress display, show the report of rejected records, read a profile back through the App
# API, check a webhook signature, and stop the emulator. Expects `make build` (the Makefile
# runs it first).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
cio="$build/cli/cio-native"
work=$(mktemp -d)
mock_pid=
cleanup() {
  if [ -n "$mock_pid" ] && kill -0 "$mock_pid" 2>/dev/null; then
    kill "$mock_pid" 2>/dev/null || true
    wait "$mock_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# 1. The emulator, as a development server (a little latency, like a real network).
CUSTOMERIO_CDP_API_KEY=demo-cdp-key "$cio" mock --port 0 --port-file "$work/port" --latency 300 \
  --site-id demo-site --api-key demo-key --app-api-key demo-app-key > "$work/mock.log" 2>&1 &
mock_pid=$!
for _ in $(seq 200); do [ -s "$work/port" ] && break; sleep 0.05; done
[ -s "$work/port" ] || { cat "$work/mock.log" >&2; echo "demo: cio-native mock did not start" >&2; exit 1; }
url="http://127.0.0.1:$(cat "$work/port")"
export CUSTOMERIO_TRACK_URL="$url" CUSTOMERIO_APP_URL="$url" CUSTOMERIO_SITE_ID=demo-site \
  CUSTOMERIO_API_KEY=demo-key CUSTOMERIO_APP_API_KEY=demo-app-key
echo "== $(head -1 "$work/mock.log")"

# 2. The C API.
echo
echo "== examples/quickstart.c"
"$build/examples/quickstart" --track-url "$url" --site-id demo-site --api-key demo-key
echo
echo "== examples/pipelines.c (the Pipelines API through the delivery pipeline)"
"$build/examples/pipelines" --cdp-url "$url" --cdp-api-key demo-cdp-key

# 3. The bulk import.
report="$build/demo-report.json"
echo
echo "== cio-native import --schema examples/sample/schema.yaml --type identify \\"
echo "       --report $report examples/sample/people.csv examples/sample/events.jsonl"
rc=0
"$cio" import --schema examples/sample/schema.yaml --type identify --report "$report" \
  --report-csv "$build/demo-report.csv" --progress-interval 0.25 \
  examples/sample/people.csv examples/sample/events.jsonl || rc=$?
if [ "$rc" -ne 1 ]; then
  echo "demo: cio-native import exited $rc; the sample's planted mistakes should make it exit 1" >&2
  exit 1
fi
echo "(exit status 1: some records were rejected - the sample plants about one in a hundred)"

echo
echo "== the report: every record not delivered, by file and line ($report)"
python3 - "$report" <<'EOF'
import json, os, sys
report = json.load(open(sys.argv[1]))
errors = report["errors"]
for e in errors[:12]:
    where = f'{os.path.basename(e["file"])}:{e["line"]}'
    print(f'  {where:<18} {e["stage"]:<8} {e["reason"]:<18} {e["message"][:80]}')
if len(errors) > 12:
    print(f"  ... {len(errors) - 12} more (all of them in the JSON and CSV reports)")
EOF

# 4. A profile from the import, read back through the App API; then a one-off call.
echo
echo "== cio-native get p00001 --pretty (a person the import identified, through the App API)"
"$cio" get p00001 --pretty
echo
echo "== cio-native track p00001 purchased order_id=o1 amount=23.45 currency=EUR"
"$cio" track p00001 purchased order_id=o1 amount=23.45 currency=EUR

# 5. A webhook signature (the test vector of the reporting-webhooks documentation).
echo
echo "== cio-native webhook verify (reporting webhook test vector)"
printf '{"key": "value"}' | "$cio" webhook verify \
  --key 755781b5e03a973f3405a85474d5a032a60fd56fabaad66039b12eadd83955fa \
  --timestamp 1692633432 \
  --signature d7c655389bb364d3e8bdbb6ec18a7f1b6cf91f39bba647554ada78aa61de37b9

# 6. What the emulator received, then stop it.
echo
echo "== what the emulator received"
curl -s "$url/_mock/requests" | python3 -c '
import collections, json, sys
requests = json.load(sys.stdin)
counts = collections.Counter((r["method"], r["path"].split("?")[0], r["status"]) for r in requests)
for (method, path, status), n in sorted(counts.items(), key=lambda kv: -kv[1]):
    print(f"  {n:4} x {status} {method:6} {path}")
ops = sum(len(json.loads(r["body"])["batch"]) for r in requests if r["path"] == "/api/v2/batch")
print(f"  {ops} operations in the /api/v2/batch requests")
'
kill "$mock_pid"
wait "$mock_pid" || true
mock_pid=
echo "== emulator stopped"
