#!/usr/bin/env bash
# Every test suite. C: the Criterion suite through ctest; Python: pytest on the installed package;
# Ruby: RSpec on the installed gem. Expects `make build` to have run (the Makefile does it).
set -euo pipefail
build=${BUILD_DIR:-build}
# The venv comes first: the C suite's cli_relay test points the official Segment-shaped client
# (customerio-cdp-analytics) and our own package in it at the relay.
echo "== Python venv"
# Python: build and install the package the way a user does (`pip install .`, build isolation,
# scikit-build-core from PyPI) into a venv under the build directory; its suite runs against the
# emulator binary after the C suite.
venv="$build/venv"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
# The official clients (PyPI) for the differential tests in tests/compat/python, and hypothesis.
"$venv/bin/pip" install -q --disable-pip-version-check pytest pytest-asyncio hypothesis \
  'customerio==3.2.*' 'async-customerio==2.18.*' 'customerio-cdp-analytics==1.1.*'
# customerio-cdp-analytics ships a customerio/__init__.py too: when it was installed last, put
# customerio 3.2's back (its analytics subpackage stays).
"$venv/bin/python" -c 'import customerio; customerio.CustomerIO' 2>/dev/null ||
  "$venv/bin/pip" install -q --disable-pip-version-check --force-reinstall --no-deps \
    'customerio==3.2.*'
"$venv/bin/pip" install -q --disable-pip-version-check .

echo "== C suite ($build)"
ctest --test-dir "$build" --output-on-failure -j2

echo "== Python suite"
rc=0
CIO_MOCK_BIN="$(cd "$build" && pwd)/mock/cio-mock" \
  "$venv/bin/python" -m pytest tests/python -q -p no:cacheprovider || rc=$?
if [ "$rc" -eq 5 ]; then
  echo "Python suite: no tests were collected" >&2
  exit 1
fi
[ "$rc" -eq 0 ] || exit "$rc"

# Differential: the same calls through the official clients and ours against one emulator
# over TLS (a throw-away CA made with openssl), compared request for request.
echo "== Python differential suite (customerio 3.2, async-customerio 2.18)"
CIO_MOCK_BIN="$(cd "$build" && pwd)/mock/cio-mock" \
  "$venv/bin/python" -m pytest tests/compat/python -q -p no:cacheprovider

# Ruby: build the gem the way a user does (`gem build` in bindings/ruby, which copies the C core
# and the SWIG wrapper into it), install it offline into a GEM_HOME under the build directory,
# then run its RSpec suite against the emulator binary with only that gem (and Debian's rspec
# and rack: the trailing ':' keeps the default gem paths) visible.
echo "== Ruby suite"
build_abs="$(cd "$build" && pwd)"
gems="$build_abs/gems"
gem_file="$build_abs/customerio-native.gem"
rm -rf "$gems" "$gem_file"
(cd bindings/ruby && gem build --silent customerio-native.gemspec --output "$gem_file")
MAKEFLAGS="-j${JOBS:-2}" gem install --silent --local --no-document --install-dir "$gems" \
  "$gem_file"
GEM_HOME="$gems" GEM_PATH="$gems:" CIO_MOCK_BIN="$build_abs/mock/cio-mock" \
  rspec tests/ruby

# Ruby differential tests (tests/compat/ruby): the same calls through the official customerio
# gem (6.2, then 5.6: one process holds one), Segment's analytics-ruby 2.5 and ours, against one
# TLS emulator. The official gems load from their sources in ../shared/peers (CIO_PEERS_DIR);
# a clone without that folder skips them.
echo "== Ruby differential tests"
peers="${CIO_PEERS_DIR:-$(pwd)/../shared/peers}"
if [ ! -d "$peers" ]; then
  echo "Ruby differential tests skipped: $peers not found (the official gems' sources are not beside this clone)"
else
  for peer in 6.2 5.6; do
    specs=(tests/compat/ruby)
    [ "$peer" = 6.2 ] || specs=(tests/compat/ruby/customerio_spec.rb)
    GEM_HOME="$gems" GEM_PATH="$gems:" CIO_MOCK_BIN="$build_abs/mock/cio-mock" \
      CIO_PEERS_DIR="$peers" CIO_COMPAT_CUSTOMERIO="$peer" rspec "${specs[@]}"
  done
fi

# Packages (tests/packaging/run.sh): one self-contained wheel (python3) and the prebuilt gem,
# installed and run in a sandbox without compiler, -dev headers or system libcurl/jansson.
echo "== Packages"
BUILD_DIR="$build" ./tests/packaging/run.sh
