#!/usr/bin/env bash
# The packages a user installs without a compiler, built and checked (README "Install"):
#
#   tests/packaging/run.sh           one wheel (the python3 on PATH) and the gems: `make test`
#   tests/packaging/run.sh --matrix  a wheel for each other CPython 3.9 ... 3.13 (all five must be
#                                    under ~/.pyenv/versions), no gems: CI (.ci/run), after
#                                    `make test` did python3's
#
# Each wheel: scripts/wheel.sh builds and repairs it, check_auditwheel.py holds it to its
# manylinux policy, check_wheel.sh installs it with its own interpreter in bare.sh's sandbox (no
# compiler, no -dev headers, no system libcurl/jansson) and calls the emulator. The gems:
# scripts/gem.sh builds the source gem and the x86_64-linux one, check_gem.sh installs the
# latter in the sandbox (the former must fail there) and calls the emulator. Expects the build
# (BUILD_DIR, default build) to have the emulator: $BUILD_DIR/mock/cio-mock.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${BUILD_DIR:-build}
export CIO_MOCK_BIN=${CIO_MOCK_BIN:-$(cd "$build" && pwd)/mock/cio-mock}
export WHEEL_DIR=${WHEEL_DIR:-$build/wheels}

default_minor=$(python3 -c 'import sys; print(sys.version_info[1])')
pythons=()
if [ "${1:-}" = --matrix ]; then
    for minor in 9 10 11 12 13; do
    p=$(ls -d "$HOME"/.pyenv/versions/3."$minor".*/bin/python3 2>/dev/null | sort -V | tail -1 || true)
    [ -n "$p" ] || { echo "--matrix: no CPython 3.$minor under ~/.pyenv/versions" >&2; exit 1; }
    [ "$minor" = "$default_minor" ] || pythons+=("$p")
  done
else
  pythons=("$(python3 -c 'import sys; print(sys.executable)')")
fi

BUILD_DIR="$build" ./scripts/wheel.sh "${pythons[@]}"
for py in "${pythons[@]}"; do
  tag=$("$py" -c 'import sys; print("cp%d%d" % sys.version_info[:2])')
  wheel=$(ls "$WHEEL_DIR"/customerio_native-*-"$tag"-"$tag"-manylinux_*.whl)
  echo "== $(basename "$wheel")"
  "$build/wheel-tools/bin/python" tests/packaging/check_auditwheel.py "$wheel"
  tests/packaging/check_wheel.sh "$wheel" "$py"
done

[ "${1:-}" != --matrix ] || exit 0
BUILD_DIR="$build" GEM_DIR="$build/gem" ./scripts/gem.sh
echo "== $(basename "$build"/gem/customerio-native-*-x86_64-linux.gem)"
TOOLS_PYTHON="$build/wheel-tools/bin/python" tests/packaging/check_gem.sh \
  "$build"/gem/customerio-native-*-x86_64-linux.gem \
  "$(ls "$build"/gem/customerio-native-*.gem | grep -v x86_64-linux)"
