# Sourced: start_mock BIN DIR starts the emulator on a free port with the packaging tests'
# credentials (its log in DIR/mock.log) and sets MOCK_PORT and MOCK_PID; stop_mock ends it.
start_mock() {
  local bin=$1 dir=$2
  [ -x "$bin" ] || { echo "emulator not found at $bin (make build, or set CIO_MOCK_BIN)" >&2; return 1; }
  rm -f "$dir/port"
  "$bin" --port 0 --port-file "$dir/port" --site-id pk-site --api-key pk-key \
    >"$dir/mock.log" 2>&1 &
  MOCK_PID=$!
  local i
  for i in $(seq 500); do
    [ -s "$dir/port" ] && break
    kill -0 "$MOCK_PID" 2>/dev/null || { cat "$dir/mock.log" >&2; return 1; }
    sleep 0.02
  done
  MOCK_PORT=$(cat "$dir/port")
  [ -n "$MOCK_PORT" ]
}

stop_mock() {
  [ -n "${MOCK_PID:-}" ] || return 0
  kill "$MOCK_PID" 2>/dev/null || true
  wait "$MOCK_PID" 2>/dev/null || true
  MOCK_PID=
}
