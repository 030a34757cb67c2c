#!/usr/bin/env bash
# Every test suite. C: the Criterion suite through ctest; Python: pytest on the installed package.
# (Ruby joins here as its binding lands.) Expects `make build` to have run (the Makefile does it).
set -euo pipefail
build=${BUILD_DIR:-build}
echo "== C suite ($build)"
ctest --test-dir "$build" --output-on-failure -j2

# Python: build and install the package the way a user does (`pip install .`, build isolation,
# scikit-build-core from PyPI) into a venv under the build directory, then run its suite against
# the emulator binary.
echo "== Python suite"
venv="$build/venv"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check pytest pytest-asyncio
"$venv/bin/pip" install -q --disable-pip-version-check .
rc=0
CIO_MOCK_BIN="$(cd "$build" && pwd)/mock/cio-mock" \
  "$venv/bin/python" -m pytest tests/python -q -p no:cacheprovider || rc=$?
if [ "$rc" -eq 5 ]; then
  echo "Python suite: no tests were collected" >&2
  exit 1
fi
exit "$rc"
