# Thin wrapper over CMake.  `make` builds, `make demo` runs the main job,
# `make check` installs what the tests need, builds and runs every test.
BUILD ?= build
CMAKE_FLAGS ?=
PREFIX ?= /usr/local
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
BENCH_TARGETS = tw_bench lifecycle_bench bulk_bench kernel_lifecycle kernel_bulk lwip_bench tun_bench

.PHONY: all configure demo check check-sanitize deps install bench clean

all: configure
	cmake --build $(BUILD) -j $(JOBS)

configure:
	@test -f $(BUILD)/CMakeCache.txt || cmake -S . -B $(BUILD) -DCMAKE_INSTALL_PREFIX=$(PREFIX) $(CMAKE_FLAGS)

demo: all
	./$(BUILD)/tools/ebb demo

deps:
	@./scripts/deps.sh

# The whole suite twice: built with clang under AddressSanitizer and
# UndefinedBehaviorSanitizer (any report fails), then the regular build
# (gcc, with the simulations also under valgrind), whose CTest summary
# ends the output.  The interop tests (as root) run in both; the minute
# of 64 MiB over an impaired link only in the regular one.
check: deps all check-sanitize
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

check-sanitize: deps
	@test -f $(BUILD)-sanitize/CMakeCache.txt || CC=clang cmake -S . -B $(BUILD)-sanitize \
		-DEBB_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug > /dev/null
	cmake --build $(BUILD)-sanitize -j $(JOBS)
	cd $(BUILD)-sanitize && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		ctest --output-on-failure -j $(JOBS) -LE valgrind -E '^(install_test|interop_bulk_netem)$$'

# Benchmarks run from an optimised build of their own; not part of check.
# bench/run.sh says which environment variables it reads (EBB_BENCH_LONG=1
# adds the 120 s sustained run).
bench: deps
	@# Configured every time: a build tree from before a benchmark was
	@# added would not know its target.
	cmake -S . -B $(BUILD)-bench -DCMAKE_BUILD_TYPE=Release > /dev/null
	cmake --build $(BUILD)-bench -j $(JOBS) --target $(BENCH_TARGETS)
	./bench/run.sh $(BUILD)-bench

install: all
	cmake --install $(BUILD) --prefix $(PREFIX)

clean:
	rm -rf $(BUILD) $(BUILD)-sanitize $(BUILD)-bench
