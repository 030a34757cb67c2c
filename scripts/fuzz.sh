#!/usr/bin/env bash
# Runs every libFuzzer target of tests/fuzz for FUZZ_SECONDS each (make fuzz builds them first).
#   scripts/fuzz.sh [BUILD_DIR] [SECONDS] [TARGET...]
# Each target starts from its committed seeds (tests/fuzz/corpus/<target>, read only) and from
# what earlier runs found (BUILD_DIR/fuzz-corpus/<target>, where new inputs go); a crash or a
# broken property is saved as BUILD_DIR/fuzz-artifacts/<target>/crash-* and fails the script.
# Extra libFuzzer flags can be passed in FUZZ_FLAGS (e.g. FUZZ_FLAGS="-jobs=2 -workers=2").
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-fuzz}
seconds=${2:-${FUZZ_SECONDS:-15}}
shift $(($# > 2 ? 2 : $#))
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(json v2 cdp cdp_build webhook records)

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
failed=()
for t in "${targets[@]}"; do
  bin="$build/tests/fuzz/fuzz_$t"
  seeds="tests/fuzz/corpus/$t"
  work="$build/fuzz-corpus/$t"
  artifacts="$build/fuzz-artifacts/$t"
  [ -x "$bin" ] || { echo "fuzz: $bin is not built (make fuzz)" >&2; exit 2; }
  mkdir -p "$work" "$artifacts"
  dict=()
  [ -f "tests/fuzz/$t.dict" ] && dict=(-dict="tests/fuzz/$t.dict")
  echo "== fuzz_$t: ${seconds}s"
  log="$build/fuzz-artifacts/$t.log"
  # shellcheck disable=SC2086 # FUZZ_FLAGS is a list of flags
  if "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
       -print_final_stats=1 -artifact_prefix="$artifacts/" "${dict[@]}" ${FUZZ_FLAGS:-} \
       "$work" "$seeds" >"$log" 2>&1; then
    grep -E '^stat::(number_of_executed_units|new_units_added|peak_rss_mb)' "$log" |
      sed 's/^stat::/   /' | tr '\n' ' '
    echo "corpus: $(ls "$work" | wc -l) inputs"
  else
    failed+=("$t")
    grep -E 'ERROR|SUMMARY|fuzz property failed' -A3 "$log" | head -40 >&2 || tail -40 "$log" >&2
    echo "fuzz_$t FAILED: log $log, input $(ls -t "$artifacts"/* 2>/dev/null | head -1)" >&2
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: failed: ${failed[*]}" >&2
  exit 1
fi
