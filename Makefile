# The README's two commands: `make demo` (main job against the emulator) and `make test`
# (every test suite). Both install missing Debian packages and build first.
BUILD_DIR ?= build
SAN_DIR ?= build-asan
FUZZ_DIR ?= build-fuzz
FUZZ_SECONDS ?= 15
JOBS ?= 2
MAKEFLAGS += --no-print-directory

.PHONY: all deps build demo test test-sanitize test-valgrind soak soak-sanitize chaos fuzz \
  abi-check abi-update install format clean

all: build

deps:
	./scripts/deps.sh

build: deps
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build $(BUILD_DIR) -j$(JOBS)

demo: build
	BUILD_DIR=$(BUILD_DIR) ./scripts/demo.sh

test: build
	BUILD_DIR=$(BUILD_DIR) ./scripts/test.sh

# The C suite again under AddressSanitizer + UndefinedBehaviorSanitizer.
test-sanitize: deps
	cmake -S . -B $(SAN_DIR) -DCMAKE_BUILD_TYPE=Debug -DCIO_SANITIZE=address,undefined \
	  -DCIO_BUILD_EXAMPLES=OFF >/dev/null
	cmake --build $(SAN_DIR) -j$(JOBS)
	# test_redis_chaos is left out here: under ASan its process passed and then did not exit
	# (ctest's 300 s timeout, CI 2026-12-02); it runs in make test, make chaos and under valgrind.
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --test-dir $(SAN_DIR) --output-on-failure -j2 -E '^test_redis_chaos$$'

# The C suite under valgrind (memcheck; invalid accesses and definite leaks are errors).
test-valgrind: build
	@set -e; for t in $(BUILD_DIR)/tests/c/test_*; do \
	  [ -x "$$t" ] || continue; echo "== valgrind $$t"; \
	  valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=9 "$$t"; \
	done

# The libFuzzer targets (tests/fuzz), built with clang in their own tree, each run for
# FUZZ_SECONDS from its seeds in tests/fuzz/corpus (FUZZ_TARGETS="json v2" for some of them).
fuzz: deps
	cmake -S . -B $(FUZZ_DIR) -DCMAKE_C_COMPILER=clang-14 -DCIO_FUZZ=ON -DBUILD_TESTING=OFF \
	  -DCIO_BUILD_EXAMPLES=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build $(FUZZ_DIR) -j$(JOBS) --target fuzz_targets
	./scripts/fuzz.sh $(FUZZ_DIR) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# The ABI guard (also a ctest test, so `make test` runs it): exported symbols and public types
# against abi/. abi-update regenerates the baseline after an intended change.
abi-check: build
	./scripts/abi-check.sh $(BUILD_DIR)/core/libcustomerio.so

abi-update: build
	./scripts/abi-check.sh --update $(BUILD_DIR)/core/libcustomerio.so

# The soak test (tests/soak/soak.c, README "Soak test"): the delivery pipeline against the
# in-process emulator under standing and injected faults, for SOAK_SECONDS per sink (SOAK_SINK:
# track_v2, pipelines or both) or SOAK_EVENTS events, whichever comes first.
SOAK_SECONDS ?= 12
SOAK_EVENTS ?= 10000000
SOAK_SINK ?= both

soak: build
	SOAK_SECONDS=$(SOAK_SECONDS) SOAK_EVENTS=$(SOAK_EVENTS) SOAK_SINK=$(SOAK_SINK) \
	  $(BUILD_DIR)/tests/soak/soak

# The same, shorter, under AddressSanitizer + UndefinedBehaviorSanitizer (RSS is not checked
# there: ASan's quarantine grows by design).
SOAK_SANITIZE_SECONDS ?= 8
soak-sanitize: deps
	cmake -S . -B $(SAN_DIR) -DCMAKE_BUILD_TYPE=Debug -DCIO_SANITIZE=address,undefined \
	  -DCIO_BUILD_EXAMPLES=OFF >/dev/null
	cmake --build $(SAN_DIR) -j$(JOBS) --target soak
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  SOAK_SECONDS=$(SOAK_SANITIZE_SECONDS) SOAK_EVENTS=$(SOAK_EVENTS) SOAK_SINK=$(SOAK_SINK) \
	  $(SAN_DIR)/tests/soak/soak

# The spool's chaos tests (tests/c/test_spool.c) in their long form: the kill -9 loop, the
# producer under 150 ms answers and the damaged-bytes rounds each run for CHAOS_SECONDS (the
# full disk, size limit, refusal and lock tests run once); CHAOS_SEED repeats a run's damage
# and kill timings (default: the time; printed). `make test` runs the short form.
CHAOS_SECONDS ?= 60
chaos: build
	CIO_CHAOS_SECONDS=$(CHAOS_SECONDS) $(if $(CHAOS_SEED),CIO_CHAOS_SEED=$(CHAOS_SEED)) \
	  $(BUILD_DIR)/tests/c/test_spool --verbose --timeout $$(( $(CHAOS_SECONDS) * 3 + 120 ))
	# issue 18: producers, workers and redis-server killed at random (tests/c/test_redis_chaos.c)
	CIO_CHAOS_SECONDS=$(CHAOS_SECONDS) $(if $(CHAOS_SEED),CIO_CHAOS_SEED=$(CHAOS_SEED)) \
	  $(BUILD_DIR)/tests/c/test_redis_chaos --verbose

install: build
	cmake --install $(BUILD_DIR)

format:
	clang-format -i core/include/customerio/*.h core/src/*.[ch] core/src/util/*.[ch] mock/include/*.h mock/src/*.[ch] \
	  tests/c/*.[ch] tests/fuzz/*.[ch] tests/soak/*.c examples/*.c cli/*.[ch] bench/*.c

clean:
	rm -rf $(BUILD_DIR) $(SAN_DIR) $(FUZZ_DIR)

# Packages a user installs without a compiler (README "Install"). `make wheel`: a self-contained
# manylinux wheel (auditwheel: libcurl, jansson, OpenSSL inside) per CPython 3.9 ... 3.13 found
# under ~/.pyenv (WHEEL_PYTHONS="python3" for one) into $(BUILD_DIR)/wheels. `make gem`: the
# source gem and the prebuilt x86_64-linux gem into $(BUILD_DIR)/gem. `make test-packages`:
# builds one wheel (python3) and the gems and installs them in a sandbox without compiler, -dev
# headers or system libcurl/jansson, against the emulator (`make test` runs it too);
# PACKAGES_MATRIX=1 does the same for the wheels of the other CPythons 3.9 ... 3.13 instead. `make test-python-matrix`: the Python suite on 3.9 and 3.13
# (PYTHON_MATRIX) with their wheels. CI (.ci/run) runs both in full.
.PHONY: wheel gem test-packages test-python-matrix
PYTHON_MATRIX ?= $(lastword $(sort $(wildcard $(HOME)/.pyenv/versions/3.9.*/bin/python3))) \
  $(lastword $(sort $(wildcard $(HOME)/.pyenv/versions/3.13.*/bin/python3)))

wheel: deps
	BUILD_DIR=$(BUILD_DIR) JOBS=$(JOBS) ./scripts/wheel.sh $(WHEEL_PYTHONS)

gem: deps
	BUILD_DIR=$(BUILD_DIR) JOBS=$(JOBS) ./scripts/gem.sh

test-packages: build
	BUILD_DIR=$(BUILD_DIR) JOBS=$(JOBS) ./tests/packaging/run.sh $(if $(PACKAGES_MATRIX),--matrix)

test-python-matrix: build
	BUILD_DIR=$(BUILD_DIR) JOBS=$(JOBS) ./tests/packaging/python_matrix.sh $(PYTHON_MATRIX)
