#!/usr/bin/env bash
# The shared library exports only cio_* symbols and carries a SONAME.
set -euo pipefail
lib=$1
bad=$(nm -D --defined-only "$lib" | awk '{print $3}' | grep -v '^cio_' || true)
if [ -n "$bad" ]; then
  echo "exported symbols outside cio_*:"; echo "$bad"; exit 1
fi
soname=$(objdump -p "$lib" | awk '/SONAME/ {print $2}')
[ "$soname" = "libcustomerio.so.0" ] || { echo "SONAME is '$soname'"; exit 1; }
echo "exports: $(nm -D --defined-only "$lib" | wc -l) cio_* symbols, SONAME $soname"
