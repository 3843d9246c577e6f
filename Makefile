# l3afd developer entry points. `make run` and `make test` work on a fresh Debian 12 machine:
# they install what is missing (scripts/install-deps.sh), build, and run.
SHELL := /bin/bash
BUILD ?= build
ASAN_BUILD ?= build-asan
# libFuzzer build (tests/fuzz/README.md): clang 14, ASan + UBSan, only the fuzzed modules.
FUZZ_BUILD ?= build-fuzz
# Seconds each fuzz target runs: FUZZ_SECONDS in `make fuzz`, FUZZ_TEST_SECONDS in `make test`.
FUZZ_SECONDS ?= 300
FUZZ_TEST_SECONDS ?= 20
FUZZ_CC ?= clang-14
FUZZ_CXX ?= clang++-14
JOBS ?= $(shell nproc)
CONFIG ?= config/l3afd.cfg

.PHONY: all deps build asan fuzz-build fuzz run test test-unit bench format clean

all: build

deps:
	@bash scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

asan: deps
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DL3AFD_SANITIZE=ON -DL3AFD_UNIT_ONLY=ON >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)

fuzz-build: deps
	@cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=Debug -DL3AFD_FUZZ=ON \
	  -DCMAKE_C_COMPILER=$(FUZZ_CC) -DCMAKE_CXX_COMPILER=$(FUZZ_CXX) >/dev/null
	@cmake --build $(FUZZ_BUILD) -j $(JOBS)

# Every fuzz target for FUZZ_SECONDS (two at a time), and the replay of its regression inputs.
# The corpus grows in $(FUZZ_BUILD)/fuzz/corpus/<target>; findings land in
# $(FUZZ_BUILD)/fuzz/artifacts/<target> (tests/fuzz/README.md: replaying, keeping, merging).
fuzz: fuzz-build
	@cd $(FUZZ_BUILD) && FUZZ_SECONDS=$(FUZZ_SECONDS) ctest --output-on-failure -j 2 -L fuzz

# Starts the daemon in the foreground on the embedded default config and local repository.
run: build
	@bash scripts/run-local.sh $(BUILD) $(CONFIG)

# Unit and component tests under ASan/UBSan, a short run of every fuzz target with the replay
# of its regression inputs, then every test (unit, component, kernel, e2e).
test: build asan fuzz-build
	@cd $(ASAN_BUILD) && ctest --output-on-failure -j $(JOBS)
	@cd $(FUZZ_BUILD) && FUZZ_SECONDS=$(FUZZ_TEST_SECONDS) ctest --output-on-failure -j 2 -L fuzz
	@cd $(BUILD) && ctest --output-on-failure

bench: build
	@bash scripts/bench.sh $(BUILD)

format:
	@find src tests bpf tools -name '*.cpp' -o -name '*.h' -o -name '*.c' | xargs clang-format -i

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
