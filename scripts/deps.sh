#!/usr/bin/env bash
# Installs the Debian packages the project builds and tests with, if any is missing.
# Idempotent and quick when everything is there; needs root (or sudo) otherwise.
set -euo pipefail

packages=(
  build-essential cmake pkg-config curl python3 ca-certificates openssl
  libcurl4-openssl-dev libssl-dev libjansson-dev libmicrohttpd-dev libcriterion-dev
  swig python3-dev python3-venv ruby-dev ruby-rspec ruby-rack rake
  valgrind clang-format
  clang-14 libclang-rt-14-dev abigail-tools
  libyaml-dev help2man
  ruby-addressable ruby-multi-json
  redis-server libhiredis-dev patchelf
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}" >&2
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -q >/dev/null
"${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
