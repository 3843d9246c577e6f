# l3afd developer entry points. `make run` and `make test` work on a fresh Debian 12 machine:
# they install what is missing (scripts/install-deps.sh), build, and run.
SHELL := /bin/bash
BUILD ?= build
ASAN_BUILD ?= build-asan
JOBS ?= $(shell nproc)
CONFIG ?= config/l3afd.cfg

.PHONY: all deps build asan run test test-unit bench format clean

all: build

deps:
	@bash scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

asan: deps
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DL3AFD_SANITIZE=ON -DL3AFD_UNIT_ONLY=ON >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)

# Starts the daemon in the foreground on the embedded default config and local repository.
run: build
	@bash scripts/run-local.sh $(BUILD) $(CONFIG)

# Unit and component tests under ASan/UBSan, then every test (unit, component, kernel, e2e).
test: build asan
	@cd $(ASAN_BUILD) && ctest --output-on-failure -j $(JOBS)
	@cd $(BUILD) && ctest --output-on-failure

bench: build
	@bash scripts/bench.sh $(BUILD)

format:
	@find src tests bpf tools -name '*.cpp' -o -name '*.h' -o -name '*.c' | xargs clang-format -i

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
