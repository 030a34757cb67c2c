#!/usr/bin/env bash
# The ABI guard: libcustomerio's exported symbols and public types against the committed baseline.
#
#   scripts/abi-check.sh [LIB]            check LIB (default build/core/libcustomerio.so, built
#                                         with `cmake --build build --target customerio` if absent)
#   scripts/abi-check.sh --update [LIB]   regenerate the baseline from LIB, on purpose
#
# Baseline (abi/): libcustomerio.abi, abidw's description of the exported functions and of every
# type defined in the public headers (core/include/customerio), reachable from them (private
# types, e.g. the opaque handles' insides, are dropped); symbols.txt, the exported dynamic
# symbols, one per line. The check fails when
#  - the exported symbol list differs in any way: a removed symbol breaks every program linked
#    against it; an added one is fine for them but must be recorded (--update) on purpose;
#  - abidiff finds any change in the functions or public types: a changed signature, a struct
#    whose layout or size changed, an enum whose values changed (abidiff's exit status: 4 = an
#    ABI change, 8 = an incompatible one). Appending fields to a versioned options struct is a
#    compatible change, but still needs --update.
# LIB needs debug information (-g: CMake's RelWithDebInfo or Debug). Needs abidw and abidiff
# (Debian: abigail-tools, installed by scripts/deps.sh).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
update=0
if [ "${1:-}" = "--update" ]; then
  update=1
  shift
fi
lib=${1:-}
if [ -z "$lib" ]; then
  lib="$root/build/core/libcustomerio.so"
  if [ ! -e "$lib" ]; then
    cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build "$root/build" --target customerio -j"${JOBS:-2}" >/dev/null
  fi
fi
[ -e "$lib" ] || { echo "abi-check: $lib does not exist" >&2; exit 2; }
for tool in abidw abidiff nm readelf; do
  command -v "$tool" >/dev/null || { echo "abi-check: $tool is missing (scripts/deps.sh)" >&2; exit 2; }
done
# (no grep -q: it would stop reading early, and readelf's SIGPIPE fails the pipeline)
if ! readelf -S "$lib" | grep '\.debug_info' >/dev/null; then
  echo "abi-check: $lib has no debug information (build with -g: RelWithDebInfo or Debug)" >&2
  exit 2
fi

baseline_abi="$root/abi/libcustomerio.abi"
baseline_syms="$root/abi/symbols.txt"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Stable output: no locations, compilation directories, corpus path or source paths (they depend
# on where the tree is checked out), type ids by hash.
abidw --headers-dir "$root/core/include/customerio" --drop-private-types --no-show-locs \
  --no-comp-dir-path --no-corpus-path --type-id-style hash "$lib" |
  sed -e "s|path='$root/|path='|g" >"$tmp/current.abi"
nm -D --defined-only "$lib" | awk '{print $3}' | LC_ALL=C sort >"$tmp/symbols.txt"

if [ "$update" = 1 ]; then
  mkdir -p "$root/abi"
  cp "$tmp/current.abi" "$baseline_abi"
  cp "$tmp/symbols.txt" "$baseline_syms"
  echo "abi-check: baseline updated from $lib ($(wc -l <"$baseline_syms") symbols): review and" \
       "commit abi/"
  exit 0
fi
[ -f "$baseline_abi" ] && [ -f "$baseline_syms" ] ||
  { echo "abi-check: no baseline in abi/ (scripts/abi-check.sh --update)" >&2; exit 2; }

failed=0
if ! diff -u "$baseline_syms" "$tmp/symbols.txt" >"$tmp/symbols.diff"; then
  failed=1
  removed=$(grep -E '^-[^-]' "$tmp/symbols.diff" | cut -c2- || true)
  added=$(grep -E '^\+[^+]' "$tmp/symbols.diff" | cut -c2- || true)
  if [ -n "$removed" ]; then
    echo "abi-check: INCOMPATIBLE: exported symbols removed (programs linked against them break):"
    echo "$removed" | sed 's/^/  - /'
  fi
  if [ -n "$added" ]; then
    echo "abi-check: exported symbols added (not in abi/symbols.txt; if intended, record them" \
         "with scripts/abi-check.sh --update):"
    echo "$added" | sed 's/^/  + /'
  fi
fi

rc=0
abidiff --no-added-syms "$baseline_abi" "$tmp/current.abi" >"$tmp/abidiff.txt" 2>&1 || rc=$?
if [ "$rc" -ne 0 ]; then
  failed=1
  if [ $((rc & 3)) -ne 0 ]; then
    echo "abi-check: abidiff failed (exit status $rc):"
  elif [ $((rc & 8)) -ne 0 ]; then
    echo "abi-check: INCOMPATIBLE ABI change (abidiff exit status $rc):"
  else
    echo "abi-check: ABI change (abidiff exit status $rc); if intended and compatible, record it" \
         "with scripts/abi-check.sh --update:"
  fi
  sed 's/^/  /' "$tmp/abidiff.txt"
fi
if [ "$failed" -ne 0 ]; then
  echo "abi-check: $lib differs from the baseline in abi/"
  exit 1
fi
echo "abi-check: $lib matches abi/ ($(wc -l <"$baseline_syms") exported symbols, public types" \
     "unchanged)"
