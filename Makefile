# Thin wrapper over CMake.  `make` builds, `make demo` runs the main job,
# `make check` installs what the tests need, builds and runs every test.
BUILD ?= build
CMAKE_FLAGS ?=
PREFIX ?= /usr/local
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
BENCH_TARGETS = tw_bench lifecycle_bench bulk_bench kernel_lifecycle kernel_bulk lwip_bench tun_bench

.PHONY: all configure demo check check-sanitize deps install bench clean \
	fuzz fuzz-build fuzz-smoke fuzz-wire fuzz-stack fuzz-pair

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
check: deps all check-sanitize fuzz-smoke
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

check-sanitize: deps
	@test -f $(BUILD)-sanitize/CMakeCache.txt || CC=clang cmake -S . -B $(BUILD)-sanitize \
		-DEBB_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug > /dev/null
	cmake --build $(BUILD)-sanitize -j $(JOBS)
	cd $(BUILD)-sanitize && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		ctest --output-on-failure -j $(JOBS) -LE valgrind -E '^(install_test|interop_bulk_netem)$$'

# Fuzzing (fuzz/README.md): libFuzzer harnesses built with clang in a
# build directory of their own.  `make fuzz` runs each harness for
# FUZZ_SECONDS (one after the other; `make -j3 fuzz` runs them side by
# side), growing a corpus in $(FUZZ_BUILD)/corpus/<harness> from the seeds
# in fuzz/corpus/<harness>; crashes land in $(FUZZ_BUILD)/artifacts/.
# Engine bugs listed in fuzz/regressions/KNOWN are steered around (so a
# run finds something new) unless FUZZ_AVOID is set to something else.
FUZZ_BUILD ?= $(BUILD)-fuzz
FUZZ_SECONDS ?= 600
FUZZ_TIMEOUT ?= 30
FUZZ_FLAGS ?=
FUZZ_AVOID ?= $(shell sed -n 's|^[a-z]*/\([A-Za-z0-9_-]*\).*|\1|p' fuzz/regressions/KNOWN 2>/dev/null | paste -sd, -)
FUZZ_HARNESSES = wire stack pair

fuzz-build: deps
	@test -f $(FUZZ_BUILD)/CMakeCache.txt || CC=clang cmake -S . -B $(FUZZ_BUILD) -DEBB_FUZZ=ON > /dev/null
	cmake --build $(FUZZ_BUILD) -j $(JOBS)

# $(call fuzz-run,harness,corpus dir,seconds,extra flags)
define fuzz-run
	@mkdir -p $(2) $(FUZZ_BUILD)/artifacts/$(1)
	EBB_FUZZ_AVOID=$(FUZZ_AVOID) ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
		$(FUZZ_BUILD)/fuzz/fuzz_$(1) -max_total_time=$(3) -timeout=$(FUZZ_TIMEOUT) -print_final_stats=1 \
		-artifact_prefix=$(FUZZ_BUILD)/artifacts/$(1)/ $(4) $(FUZZ_FLAGS) $(2) fuzz/corpus/$(1)
endef

fuzz: $(addprefix fuzz-,$(FUZZ_HARNESSES))

fuzz-wire: fuzz-build
	$(call fuzz-run,wire,$(FUZZ_BUILD)/corpus/wire,$(FUZZ_SECONDS))
fuzz-stack: fuzz-build
	$(call fuzz-run,stack,$(FUZZ_BUILD)/corpus/stack,$(FUZZ_SECONDS),-max_len=8192)
fuzz-pair: fuzz-build
	$(call fuzz-run,pair,$(FUZZ_BUILD)/corpus/pair,$(FUZZ_SECONDS),-max_len=4096)

# The smoke run of `make check`: each harness from the seeds alone for a
# fixed number of inputs (seed 1; a few seconds each, whatever the
# machine's speed); what it finds is not kept.
FUZZ_SMOKE_RUNS_wire ?= 1000000
FUZZ_SMOKE_RUNS_stack ?= 60000
FUZZ_SMOKE_RUNS_pair ?= 6000

fuzz-smoke: fuzz-build
	@for h in $(FUZZ_HARNESSES); do \
		case $$h in wire) runs=$(FUZZ_SMOKE_RUNS_wire);; stack) runs=$(FUZZ_SMOKE_RUNS_stack);; \
			*) runs=$(FUZZ_SMOKE_RUNS_pair);; esac; \
		rm -rf $(FUZZ_BUILD)/smoke/$$h; mkdir -p $(FUZZ_BUILD)/smoke/$$h $(FUZZ_BUILD)/artifacts/$$h; \
		EBB_FUZZ_AVOID=$(FUZZ_AVOID) $(FUZZ_BUILD)/fuzz/fuzz_$$h -seed=1 -runs=$$runs \
			-timeout=$(FUZZ_TIMEOUT) -artifact_prefix=$(FUZZ_BUILD)/artifacts/$$h/ \
			$(FUZZ_BUILD)/smoke/$$h fuzz/corpus/$$h > $(FUZZ_BUILD)/smoke/$$h.log 2>&1 \
			|| { tail -40 $(FUZZ_BUILD)/smoke/$$h.log; exit 1; }; \
		printf 'fuzz smoke %-5s ' $$h; grep -E '^#[0-9]+[[:space:]]+DONE' $(FUZZ_BUILD)/smoke/$$h.log; \
	done

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
	rm -rf $(BUILD) $(BUILD)-sanitize $(BUILD)-bench $(FUZZ_BUILD)
