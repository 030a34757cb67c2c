#!/usr/bin/env bash
# Installs the build into a scratch prefix, then builds an external C program against it twice:
# with pkg-config, and with CMake's find_package(customerio) (shared and static targets).
set -euo pipefail
build_dir=$1
src_dir=$2
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build_dir" --prefix "$prefix" >/dev/null

# The command is installed as cio-native, never as cio: that name is Customer.io's own CLI.
[ -x "$prefix/bin/cio-native" ] || { echo "bin/cio-native was not installed"; exit 1; }
[ ! -e "$prefix/bin/cio" ] || { echo "bin/cio installed: it would shadow Customer.io's cio"; exit 1; }
if command -v help2man >/dev/null; then
  [ -f "$(find "$prefix" -name cio-native.1 | head -1)" ] || { echo "no cio-native.1 man page"; exit 1; }
fi

libdir=$(dirname "$(find "$prefix" -name customerio.pc | head -1)")/..
export PKG_CONFIG_PATH="$libdir/pkgconfig"
cc -std=c11 -Wall -Wextra -Wpedantic -Werror "$src_dir/examples/quickstart.c" \
  $(pkg-config --cflags --libs customerio) -o "$prefix/quickstart-pc"
LD_LIBRARY_PATH="$libdir" "$prefix/quickstart-pc" --track-url http://127.0.0.1:1 2>/dev/null \
  && { echo "expected a network error against port 1"; exit 1; } || true
echo "pkg-config: built and linked against $(pkg-config --modversion customerio)"

mkdir -p "$prefix/consumer"
cat > "$prefix/consumer/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.16)
project(consumer C)
find_package(customerio 0.1 REQUIRED)
add_executable(shared_app $src_dir/examples/quickstart.c)
target_link_libraries(shared_app PRIVATE customerio::customerio)
add_executable(static_app $src_dir/examples/quickstart.c)
target_link_libraries(static_app PRIVATE customerio::customerio_static)
CMAKE
cmake -S "$prefix/consumer" -B "$prefix/consumer/build" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$prefix/consumer/build" >/dev/null
# The symbols first, then the search: `nm | grep -q` under pipefail would read as "not found"
# whenever grep stops early and nm gets SIGPIPE.
dynamic=$(nm -D "$prefix/consumer/build/static_app" 2>/dev/null || true)
if grep -q cio_identify <<<"$dynamic"; then
  echo "static_app imports cio_identify dynamically"; exit 1
fi
echo "find_package: shared and static consumers built"
