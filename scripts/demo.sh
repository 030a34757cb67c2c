#!/usr/bin/env bash
# The main job: start the local emulator, run the example C program against it, and print
# every request the emulator received. Expects `make build` to have run (the Makefile does it).
set -euo pipefail
build=${BUILD_DIR:-build}
portfile=$(mktemp)
"$build/mock/cio-mock" --port 0 --port-file "$portfile" --site-id demo-site --api-key demo-key \
  > "$build/cio-mock.log" 2>&1 &
mock_pid=$!
trap 'kill $mock_pid 2>/dev/null; rm -f "$portfile"' EXIT
for _ in $(seq 100); do [ -s "$portfile" ] && break; sleep 0.05; done
port=$(cat "$portfile")
url="http://127.0.0.1:$port"
echo "== emulator listening on $url"
echo "== examples/quickstart.c"
"$build/examples/quickstart" --track-url "$url" --site-id demo-site --api-key demo-key
echo "== what the emulator received"
curl -s "$url/_mock/requests" | python3 "$(dirname "$0")/print_requests.py"
