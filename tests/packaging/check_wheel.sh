#!/usr/bin/env bash
# check_wheel.sh WHEEL PYTHON: installs a repaired wheel the way a user on a machine
# without a compiler does and runs it against the emulator. A copy of the wheel goes into a
# fresh temporary directory; there, inside bare.sh (no compiler or linker on PATH, no -dev
# headers, the system's libcurl and jansson hidden, empty environment), PYTHON makes a venv,
# pip installs the wheel from the file alone (--no-index), and wheel_smoke.py (copied beside it:
# neither the checkout nor the build tree is on sys.path or the library path) imports the
# package and makes its calls. The emulator: $CIO_MOCK_BIN, default build/mock/cio-mock.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
wheel=$(readlink -f "$1")
# The real interpreter (a pyenv shim is a script that needs a full PATH).
python=$("$2" -c 'import sys; print(sys.executable)')
mock_bin=$(readlink -f "${CIO_MOCK_BIN:-$here/../../build/mock/cio-mock}")
# shellcheck source=tests/packaging/mock.sh
. "$here/mock.sh"
tmp=$(mktemp -d)
trap 'stop_mock; rm -rf "$tmp"' EXIT
mkdir "$tmp/bin"
# The interpreter only; the venv's own bin/ is what runs afterwards.
ln -s "$python" "$tmp/bin/python3"
cp "$wheel" "$here/wheel_smoke.py" "$tmp/"
start_mock "$mock_bin" "$tmp"
"$here/bare.sh" "$tmp" python3 -m venv "$tmp/venv"
"$here/bare.sh" "$tmp" "$tmp/venv/bin/python" -m pip install -q --no-index --no-deps \
  --no-cache-dir --disable-pip-version-check "$tmp/$(basename "$wheel")"
"$here/bare.sh" "$tmp" "$tmp/venv/bin/python" -I "$tmp/wheel_smoke.py" "$MOCK_PORT"
