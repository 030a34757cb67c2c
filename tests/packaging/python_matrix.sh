#!/usr/bin/env bash
# python_matrix.sh PYTHON...: the Python suite (tests/python) and the differential suite against
# the official clients (tests/compat/python) on other CPythons than the default, each in its own
# venv ($BUILD_DIR/venv-cpXY) with that version's self-contained wheel installed (built by
# scripts/wheel.sh into $WHEEL_DIR when missing): CI runs it for 3.9 and 3.13 (.ci/run), the
# default python3 runs in scripts/test.sh. The official clients (customerio 3.2, async-customerio
# 2.18) need Python >= 3.10: on 3.9 only tests/python runs (its few differential checks skip
# themselves). PYTHON_MATRIX_COMPAT=0 skips the differential suite everywhere.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ $# -eq 0 ]; then
  echo "python_matrix.sh: no interpreters given (make test-python-matrix: PYTHON_MATRIX)" >&2
  exit 1
fi
build=${BUILD_DIR:-build}
build_abs=$(cd "$build" && pwd)
export WHEEL_DIR=${WHEEL_DIR:-$build_abs/wheels}
export CIO_MOCK_BIN=${CIO_MOCK_BIN:-$build_abs/mock/cio-mock}
for py in "$@"; do
  py=$("$py" -c 'import sys; print(sys.executable)')
  tag=$("$py" -c 'import sys; print("cp%d%d" % sys.version_info[:2])')
  wheel=$(ls "$WHEEL_DIR"/customerio_native-*-"$tag"-"$tag"-manylinux_*.whl 2>/dev/null || true)
  if [ -z "$wheel" ]; then
    BUILD_DIR="$build" ./scripts/wheel.sh "$py"
    wheel=$(ls "$WHEEL_DIR"/customerio_native-*-"$tag"-"$tag"-manylinux_*.whl)
  fi
  venv="$build_abs/venv-$tag"
  [ -x "$venv/bin/python" ] || "$py" -m venv "$venv"
  echo "== Python suite on $("$venv/bin/python" --version) ($(basename "$wheel"))"
  compat=${PYTHON_MATRIX_COMPAT:-1}
  "$venv/bin/python" -c 'import sys; sys.exit(sys.version_info < (3, 10))' || compat=0
  "$venv/bin/pip" install -q --disable-pip-version-check pytest pytest-asyncio hypothesis
  if [ "$compat" != 0 ]; then
    # The same official clients as scripts/test.sh's venv.
    "$venv/bin/pip" install -q --disable-pip-version-check 'customerio==3.2.*' \
      'async-customerio==2.18.*' 'customerio-cdp-analytics==1.1.*'
    "$venv/bin/python" -c 'import customerio; customerio.CustomerIO' 2>/dev/null ||
      "$venv/bin/pip" install -q --disable-pip-version-check --force-reinstall --no-deps \
        'customerio==3.2.*'
  fi
  "$venv/bin/pip" install -q --disable-pip-version-check --force-reinstall --no-deps "$wheel"
  rc=0
  "$venv/bin/python" -m pytest tests/python -q -p no:cacheprovider || rc=$?
  if [ "$rc" -eq 5 ]; then
    echo "Python suite on $tag: no tests were collected" >&2
    exit 1
  fi
  [ "$rc" -eq 0 ] || exit "$rc"
  if [ "$compat" != 0 ]; then
    echo "== Python differential suite on $tag"
    "$venv/bin/python" -m pytest tests/compat/python -q -p no:cacheprovider
  else
    echo "Python differential suite on $tag skipped (the official clients need Python >= 3.10)"
  fi
done
