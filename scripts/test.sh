#!/usr/bin/env bash
# Every test suite. C: the Criterion suite through ctest. (Python and Ruby suites join here as
# the bindings land.) Expects `make build` to have run (the Makefile does it).
set -euo pipefail
build=${BUILD_DIR:-build}
echo "== C suite ($build)"
ctest --test-dir "$build" --output-on-failure -j2
