#!/usr/bin/env bash
# check_gem.sh PLATFORM_GEM [SOURCE_GEM]: installs the prebuilt gem the way a user on a machine
# without a compiler does and runs it against the emulator. A copy of the gem goes into a fresh
# temporary directory; there, inside bare.sh (no compiler, make or linker on PATH, no -dev
# headers, the system's libcurl and jansson hidden, empty environment; PATH has ruby and gem
# only), `gem install --local` puts it into an empty GEM_HOME (nothing is compiled: it fails if
# the gem wanted to build an extension), and gem_smoke.rb (copied beside it) requires it and
# makes its calls. Then the installed tree is held to the manylinux policy like a wheel
# (check_auditwheel.py, with the tools venv of scripts/wheel.sh: TOOLS_PYTHON). Given the source
# gem too, its install must fail in the same sandbox: proof that nothing there could compile.
# The emulator: $CIO_MOCK_BIN, default build/mock/cio-mock.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
gem_file=$(readlink -f "$1")
source_gem=${2:+$(readlink -f "$2")}
mock_bin=$(readlink -f "${CIO_MOCK_BIN:-$here/../../build/mock/cio-mock}")
# shellcheck source=tests/packaging/mock.sh
. "$here/mock.sh"
tmp=$(mktemp -d)
trap 'stop_mock; rm -rf "$tmp"' EXIT
mkdir "$tmp/bin"
ruby=$(ruby -e 'require "rbconfig"; print RbConfig.ruby')
ln -s "$ruby" "$tmp/bin/ruby"
# `gem` is a Ruby script: run it with that ruby (its #! line may name another path).
gem_script=$(ruby -e 'require "rbconfig"; print File.join(RbConfig::CONFIG["bindir"], "gem")')
[ -f "$gem_script" ] || gem_script=$(readlink -f "$(command -v gem)")
printf '#!%s\nload %s\n' "$ruby" "$(ruby -e 'print ARGV[0].inspect' "$gem_script")" >"$tmp/bin/gem"
chmod +x "$tmp/bin/gem"
cp "$gem_file" "$here/gem_smoke.rb" "$tmp/"
start_mock "$mock_bin" "$tmp"
CIO_BARE_ENV="GEM_HOME=$tmp/gems GEM_PATH=$tmp/gems" "$here/bare.sh" "$tmp" \
  gem install --local --no-document "$tmp/$(basename "$gem_file")"
CIO_BARE_ENV="GEM_HOME=$tmp/gems GEM_PATH=$tmp/gems" "$here/bare.sh" "$tmp" \
  ruby "$tmp/gem_smoke.rb" "$MOCK_PORT"
if [ -n "$source_gem" ]; then
  cp "$source_gem" "$tmp/"
  if CIO_BARE_ENV="GEM_HOME=$tmp/src-gems GEM_PATH=$tmp/src-gems" "$here/bare.sh" "$tmp" \
    gem install --local --no-document "$tmp/$(basename "$source_gem")" >"$tmp/src.log" 2>&1; then
    echo "the source gem installed in the sandbox: it cannot be one without a compiler" >&2
    exit 1
  fi
  echo "the source gem does not install there, as expected: $(grep -m1 'needs' "$tmp/src.log" || grep -m1 -i 'error' "$tmp/src.log")"
fi
tools_python=${TOOLS_PYTHON:-$here/../../build/wheel-tools/bin/python}
"$tools_python" "$here/check_auditwheel.py" --policy manylinux_2_36 \
  --ext 'customerio_native/customerio_native_ext.so' "$(echo "$tmp"/gems/gems/customerio-native-*/lib)"
