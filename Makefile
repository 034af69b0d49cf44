# Sluice: `make demo` and `make test` work on a fresh machine (they run `make build`).
SHELL := /bin/bash
# Keep "Entering/Leaving directory" lines out, so the test runners' summaries end the output.
MAKEFLAGS += --no-print-directory
.DEFAULT_GOAL := build

PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
JOBS ?= $(shell nproc)
export CMAKE_BUILD_PARALLEL_LEVEL := $(JOBS)
# ccache hits across clones in different directories (CI uses a fresh clone each run).
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := true
# The builds use precompiled headers, which ccache refuses to cache without these
# (every compile was "Could not use precompiled header": a fresh clone rebuilt everything).
export CCACHE_SLOPPINESS := pch_defines,time_macros,include_file_mtime,include_file_ctime
# Debian packages the build needs; installed only when missing.
APT_PACKAGES := g++ cmake ninja-build libgtest-dev ccache python3-venv libisal-dev libsqlite3-dev \
  nlohmann-json3-dev clang libclang-rt-14-dev

ENGINE_SOURCES := $(shell find cpp/src cpp/include cpp/CMakeLists.txt python/src python/CMakeLists.txt cmake -type f \( -name '*.cc' -o -name '*.h' -o -name '*.txt' -o -name '*.cmake' \) 2>/dev/null) CMakeLists.txt pyproject.toml
PY_SOURCES := $(shell find python/sluice -name '*.py' 2>/dev/null)

.PHONY: build deps demo test test-cpp test-python bench bench-smoke fuzz fuzz-build fuzz-smoke \
  format lint clean
BENCH_SCALE ?= 1000000
BENCH_REPEAT ?= 3
BENCH_ENGINES ?= sluice,sluice-udf,duckdb,polars,pandas,ray,daft,spark

deps: $(VENV)/.deps-stamp

# Checked again when this file changes (a package added to APT_PACKAGES), without
# reinstalling the Python dependencies.
$(VENV)/.system-stamp: Makefile
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q $$missing; \
	fi
	@[ -x $(VPY) ] || $(PYTHON) -m venv $(VENV)
	@touch $@

$(VENV)/.deps-stamp: requirements-dev.txt | $(VENV)/.system-stamp
	$(VPY) -m pip install -q --upgrade pip
	$(VPY) -m pip install -q -r requirements-dev.txt
	@touch $@

# The package (engine, nanobind module, sluice CLI) installed into the venv.
$(VENV)/.build-stamp: $(VENV)/.deps-stamp $(ENGINE_SOURCES) $(PY_SOURCES)
	$(VPY) -m pip install -q --no-build-isolation --no-deps .
	@touch $@

build: $(VENV)/.build-stamp
	@$(VPY) -c "import sluice; print('sluice', sluice.__version__, 'built')"

demo: build
	$(VPY) examples/run_all.py

# C++ tests run under AddressSanitizer and UndefinedBehaviorSanitizer.
build/asan/build.ninja: $(VENV)/.deps-stamp CMakeLists.txt
	cmake -S . -B build/asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSLUICE_SANITIZE=ON \
	  -DSLUICE_BUILD_TESTS=ON -DSLUICE_BUILD_CLI=OFF -DPython_EXECUTABLE=$(abspath $(VPY))

test-cpp: build/asan/build.ninja
	cmake --build build/asan
	cd build/asan && ctest --output-on-failure

test-python: build
	$(VPY) -m pytest -q --timeout=900 python/tests

# fuzz-smoke and bench-smoke sit between the two so that pytest's summary line ends the output.
test: build
	$(MAKE) test-cpp
	$(MAKE) fuzz-smoke
	$(MAKE) bench-smoke
	$(MAKE) test-python

# Fuzzing (docs/fuzzing.md): libFuzzer targets built by clang under ASan and UBSan in
# build/fuzz. `make fuzz` runs each of FUZZ_TARGETS for FUZZ_SECONDS on its corpus
# (build/fuzz/corpus/<target>, seeded by cpp/fuzz/make_corpus.py, grown by the runs);
# fuzz-smoke replays the committed crash reproducers and the corpus and fuzzes a few
# seconds per target.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= parquet,csv,json_lines,text,gzip,predicate,manifest,catalog_json
FUZZ_SMOKE_SECONDS ?= 5

# Only the engine code the targets exercise is compiled (instrumented) here; the rest is
# linked from the package's Release build (cpp/fuzz/CMakeLists.txt), hence the .build-stamp.
build/fuzz/build.ninja: $(VENV)/.build-stamp CMakeLists.txt
	CC=clang CXX=clang++ cmake -S . -B build/fuzz -G Ninja -DCMAKE_CXX_FLAGS="-O1 -gline-tables-only" \
	  -DSLUICE_BUILD_FUZZERS=ON -DSLUICE_BUILD_CLI=OFF -DPython_EXECUTABLE=$(abspath $(VPY)) \
	  -DSLUICE_FUZZ_PREBUILT_ENGINE=$$(ls $(CURDIR)/build/cp3*/cpp/libsluice_engine.a | head -1)

build/fuzz/corpus/.seeded: cpp/fuzz/make_corpus.py $(VENV)/.deps-stamp
	$(VPY) cpp/fuzz/make_corpus.py build/fuzz/corpus
	@touch $@

fuzz-build: build/fuzz/build.ninja build/fuzz/corpus/.seeded
	cmake --build build/fuzz --target sluice_fuzzers

fuzz: fuzz-build
	$(VPY) cpp/fuzz/run_fuzzers.py build/fuzz $(FUZZ_SECONDS) --targets $(FUZZ_TARGETS)

fuzz-smoke: fuzz-build
	$(VPY) cpp/fuzz/run_fuzzers.py build/fuzz $(FUZZ_SMOKE_SECONDS) --parallel $(JOBS)

# Sluice against its peers on the same workloads (bench/RESULTS.md explains the numbers).
bench: build
	$(VPY) bench/run.py --scale $(BENCH_SCALE) --repeat $(BENCH_REPEAT) --engines $(BENCH_ENGINES)

# Tiny scale, every engine, outputs must agree.
bench-smoke: build
	$(VPY) bench/run.py --scale 20000 --repeat 0 --engines $(BENCH_ENGINES) --check \
	  --timeout 600 --results build/bench-smoke.json

format:
	clang-format -i $$(find cpp python/src -name '*.cc' -o -name '*.h')

lint:
	clang-tidy -p build/asan $$(find cpp/src -name '*.cc') --quiet

clean:
	rm -rf build dist $(VENV)
