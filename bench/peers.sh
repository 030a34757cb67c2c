#!/usr/bin/env bash
# Ours against the real official clients, side by side, over plain HTTP and over TLS:
#   bench/peers.sh            (after `make build`; bench/run.sh calls it last)
# Pairs (the same calls on both sides, against one emulator on 127.0.0.1):
#   py_sync   customerio 3.2 CustomerIO.track            vs customerio_native CustomerIO.track
#   py_async  async-customerio 2.18 AsyncCustomerIO.track vs customerio_native AsyncCustomerIO,
#             PEER_IN_FLIGHT (default 100) calls in flight
#   py_cdp    customerio-cdp-analytics 1.1 analytics.track vs customerio_native.analytics, end
#             to end (N queued, then flush; every event checked delivered)
#   rb_sync   the official gem 6.2 (from $CIO_PEERS_DIR, default ../shared/peers) Client#track
#             vs CustomerioNative::Client#track
#   c_sync    no official C client: bench/raw_curl (one bare libcurl easy handle POSTing the same
#             event on its kept-alive connection, the ceiling for one call = one request) vs
#             `c_bench sync` (cio_track); printed as ours in % of it
# Each pair runs PEER_ROUNDS times (default 3), the two sides alternating (which goes first
# alternates too). TLS: a throw-away CA made with openssl, `cio-mock --tls-cert/--tls-key`, and
# every client trusting the CA through the environment (REQUESTS_CA_BUNDLE / SSL_CERT_FILE, as
# a user behind a TLS-inspecting proxy has it; our Ruby client through ca_file:). Over plain
# HTTP the official Python Track clients, which always build https:// URLs, get their base URL
# rewritten to http:// after construction (bench/py_peers.py).
# PEER_PAIRS (default all five, e.g. "py_async") and PEER_TRANSPORTS (default "http https")
# pick what runs.
# Counts (events per run): PEER_N_SYNC 3000, PEER_N_ASYNC 3000 (its 100 connections' handshakes
# amortized over 30 calls each), PEER_N_CDP 50000, PEER_N_RUBY 600,
# PEER_N_C 20000,
# sized so the slowest side (the official client over TLS) runs a few seconds; the whole script
# takes about 3 minutes on 2 cores. Writes $BUILD_DIR/bench-results/peers.txt (every run) and
# peers-summary.txt (medians and ratios). Ratios: throughput = ours/theirs events/s, CPU =
# theirs/ours CPU time per event (process CPU time, all threads, / events).
# Python: each official client in its own venv (customerio-cdp-analytics ships a `customerio`
# package that clashes with customerio 3.2's), ours in a fourth, under $BUILD_DIR/bench-venvs/.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
rounds=${PEER_ROUNDS:-3}
n_sync=${PEER_N_SYNC:-3000}
n_async=${PEER_N_ASYNC:-3000}
n_cdp=${PEER_N_CDP:-50000}
n_ruby=${PEER_N_RUBY:-600}
n_c=${PEER_N_C:-20000}
in_flight=${PEER_IN_FLIGHT:-100}
peers="${CIO_PEERS_DIR:-$(pwd)/../shared/peers}"
out="$build/bench-results"
mkdir -p "$out"
build_abs="$(cd "$build" && pwd)"

pairs=(c_sync py_sync py_async py_cdp rb_sync)
[ -n "${PEER_PAIRS:-}" ] && read -r -a pairs <<<"$PEER_PAIRS"
wants() { [[ " ${pairs[*]} " == *" $1 "* ]]; }
# Python: each official package in its own venv, as a user has it (customerio-cdp-analytics
# ships a top-level `customerio` package of its own that clashes with customerio 3.2's), ours in
# a fourth; made once under the build dir from PyPI and reused (ours is reinstalled every run).
venvs="$build/bench-venvs"
py_venv() { # py_venv NAME IMPORT_CHECK PIP_ARGS... -> a venv's python, made or reused
  local v="$venvs/$1" check=$2
  shift 2
  [ -x "$v/bin/python" ] || python3 -m venv "$v" >&2
  "$v/bin/python" -c "$check" 2>/dev/null ||
    "$v/bin/pip" install -q --disable-pip-version-check "$@" >&2
  echo "$v/bin/python"
}
wants py_sync &&
  py_sync_official=$(py_venv customerio 'import customerio; customerio.CustomerIO' "customerio==3.2.*")
wants py_async &&
  py_async_official=$(py_venv async-customerio 'import async_customerio' "async-customerio==2.18.*")
wants py_cdp && py_cdp_official=$(py_venv cdp-analytics 'from customerio import analytics' \
  "customerio-cdp-analytics==1.1.*")
if wants py_sync || wants py_async || wants py_cdp; then
  py_native=$(py_venv native 'import sys')
  "${py_native%/python}/pip" install -q --disable-pip-version-check .
fi
# Ruby: our gem built and installed offline (as bench/run.sh and scripts/test.sh do)
gems="$build_abs/bench-gems"
if wants rb_sync && { [ ! -d "$gems" ] || [ -n "$(find bindings/ruby core -newer "$gems" -name '*.[ch]*' -print -quit)" ]; }; then
  rm -rf "$gems"
  (cd bindings/ruby && gem build --silent customerio-native.gemspec --output "$build_abs/bench.gem")
  MAKEFLAGS="-j${JOBS:-2}" gem install --silent --local --no-document --install-dir "$gems" \
    "$build_abs/bench.gem"
fi
rb_official=""
if ! wants rb_sync; then
  :
elif [ -d "$peers/customerio-ruby-6.2.0/lib" ]; then
  rb_official="$(cd "$peers/customerio-ruby-6.2.0/lib" && pwd)"
else
  echo "peers: $peers/customerio-ruby-6.2.0 not found, no Ruby pair" >&2
  read -r -a pairs <<<"${pairs[*]/rb_sync/}"
fi

tmp=$(mktemp -d)
mocks=()
trap 'kill "${mocks[@]}" 2>/dev/null || true; rm -rf "$tmp"' EXIT
ossl() { openssl "$@" >/dev/null 2>&1; }
ossl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=customerio-native bench CA" \
  -keyout "$tmp/ca.key" -out "$tmp/ca.pem" -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" -addext "subjectKeyIdentifier=hash"
ossl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$tmp/server.key" \
  -out "$tmp/server.csr"
printf '%s\n' "subjectAltName=IP:127.0.0.1" "basicConstraints=critical,CA:FALSE" \
  "keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth" \
  "authorityKeyIdentifier=keyid,issuer" "subjectKeyIdentifier=hash" >"$tmp/ext.cnf"
ossl x509 -req -in "$tmp/server.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" -CAcreateserial \
  -days 1 -extfile "$tmp/ext.cnf" -out "$tmp/server.pem"
export REQUESTS_CA_BUNDLE="$tmp/ca.pem" SSL_CERT_FILE="$tmp/ca.pem"

start_mock() { # start_mock http|https -> sets $url
  local portfile="$tmp/port" extra=()
  rm -f "$portfile"
  [ "$1" = https ] && extra=(--tls-cert "$tmp/server.pem" --tls-key "$tmp/server.key")
  "$build/mock/cio-mock" --port 0 --port-file "$portfile" --site-id bench-site \
    --api-key bench-key --cdp-api-key bench-cdp-key "${extra[@]}" >/dev/null 2>&1 &
  mocks+=($!)
  for _ in $(seq 100); do [ -s "$portfile" ] && break; sleep 0.05; done
  url="$1://127.0.0.1:$(cat "$portfile")"
}

results="$out/peers.txt"
: >"$results"
one() { # one TRANSPORT COMMAND...: a run on a clean request log, its line tagged
  local transport=$1
  shift
  curl -s --cacert "$tmp/ca.pem" -X DELETE "$url/_mock/requests" >/dev/null
  "$@" | sed "s/^/$transport /" | tee -a "$results"
}
py_for() { # py_for PAIR official|native -> the python of that side's venv
  if [ "$2" = native ]; then echo "$py_native"; else eval "echo \"\$${1}_official\""; fi
}
side() { # side TRANSPORT PAIR official|native
  case $2 in
    py_sync) one "$1" "$(py_for "$2" "$3")" bench/py_peers.py sync "$3" "$url" "$n_sync" ;;
    py_async) one "$1" "$(py_for "$2" "$3")" bench/py_peers.py async "$3" "$url" "$n_async" "$in_flight" ;;
    py_cdp) one "$1" "$(py_for "$2" "$3")" bench/py_analytics.py "$3" "$url" "$n_cdp" ;;
    c_sync)
      if [ "$3" = official ]; then
        one "$1" sh -c "\"$build/bench/raw_curl\" \"$url\" $n_c | sed 's/^raw_curl /c_sync_official /'"
      else
        one "$1" sh -c "\"$build/bench/c_bench\" sync \"$url\" $n_c | sed 's/^c_sync /c_sync_native /'"
      fi ;;
    rb_sync)
      if [ "$3" = official ]; then
        one "$1" ruby -I "$rb_official" bench/rb_peers.rb official "$url" "$n_ruby"
      else
        one "$1" env GEM_HOME="$gems" GEM_PATH="$gems:" ruby bench/rb_peers.rb native "$url" "$n_ruby"
      fi ;;
  esac
}

read -r -a transports <<<"${PEER_TRANSPORTS:-http https}"
for transport in "${transports[@]}"; do
  start_mock "$transport"
  for pair in "${pairs[@]}"; do
    for r in $(seq "$rounds"); do
      if [ $((r % 2)) -eq 1 ]; then
        side "$transport" "$pair" official
        side "$transport" "$pair" native
      else
        side "$transport" "$pair" native
        side "$transport" "$pair" official
      fi
    done
  done
done

awk -v rounds="$rounds" -f bench/peers_summary.awk "$results" | tee "$out/peers-summary.txt"
