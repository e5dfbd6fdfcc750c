# Vigil: `make serve` and `make test` work on a fresh machine (they install what is missing).
#
#   make serve   build (release) and serve the app on http://127.0.0.1:8080 (demo data loaded)
#   make test    native tests + end-to-end tests in headless Chromium, clippy linting both builds
#   make lint    clippy alone, native and wasm32 (quicker while working; `make test` lints too)
#   make test-warehouse   the cube SQL run in Apache Spark (pyspark, Java 17) on 2 million events
#   make bench   benchmarks: native ingest, and the browser comparison with peers
#   make bench-threads   an experiment: the loader on wasm threads over a shared memory (nightly)
#   make dist    build the static site into dist/ (deploy it to any static host)
#   make fuzz    run every fuzz target for FUZZ_SECONDS (default 60) each; `make test` replays the corpora

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

TRUNK_VERSION := 0.21.14
BINARYEN_VERSION := 132
# wasm-bindgen CLI must equal the library version resolved in Cargo.lock.
WASM_BINDGEN_VERSION := $(shell awk '/^name = "wasm-bindgen"$$/ { getline; gsub(/"/, "", $$3); print $$3 }' Cargo.lock)
TOOLS := $(CURDIR)/.tools
CARGO_BIN := $(HOME)/.cargo/bin
export PATH := $(TOOLS)/node_modules/.bin:$(CARGO_BIN):$(PATH)
export CHROMEDRIVER := /usr/bin/chromedriver
E2E := tests/e2e

.PHONY: help tools browser e2e-deps py-deps spark-deps bench-deps fuzz-deps serve dist cli lint test test-build test-native test-wasm test-e2e native-chain e2e-chain test-warehouse bench bench-threads worker-named profile-load fuzz screenshot clean

help:
	@sed -n '3,11p' Makefile | sed 's/^# *//'

## ---- installation (each step is skipped when already done) ----

tools:
	@rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
	@# The Parquet reader's zstd codec is C: clang and llvm-ar build it for the worker's wasm.
	@command -v clang >/dev/null && command -v llvm-ar >/dev/null || { apt-get update && apt-get install -y clang llvm; }
	@# Trunk only runs cargo, wasm-bindgen and wasm-opt and copies files: a debug build without
	@# its TLS and update-check features (it never downloads: Trunk.toml sets offline) compiles
	@# in a fraction of the release build's time on a fresh machine.
	@trunk --version 2>/dev/null | grep -q "trunk $(TRUNK_VERSION)" || cargo install --locked --debug --no-default-features trunk --version $(TRUNK_VERSION)
	@# No --locked: the CLI's own lock file pins a crate version the registry here does not serve.
	@# A debug build too: it installs in 1½ min against 3¼ for release (two cores), and writes the
	@# same bytes, in about 4 s a module against 1 s.
	@wasm-bindgen --version 2>/dev/null | grep -qx "wasm-bindgen $(WASM_BINDGEN_VERSION)" || cargo install --debug wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION)
	@grep -q '"$(WASM_BINDGEN_VERSION)"' Trunk.toml || { echo "Trunk.toml [tools] wasm_bindgen must be $(WASM_BINDGEN_VERSION) (Cargo.lock)"; exit 1; }
	@# binaryen from npm: Debian's wasm-opt 108 corrupts the module.
	@$(TOOLS)/node_modules/.bin/wasm-opt --version 2>/dev/null | grep -q "version $(BINARYEN_VERSION)" || npm install --prefix $(TOOLS) --no-package-lock --no-audit --no-fund binaryen@$(BINARYEN_VERSION)

browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { apt-get update && apt-get install -y chromium chromium-driver; }

# Reference implementations the statistics are checked against (pip, from PyPI); DuckDB and
# sqlglot run and parse the warehouse SQL.
PY_DEPS := numpy pandas scipy statsmodels scikit-learn duckdb==2.0.1 sqlglot==30.30.0 samplics==0.6.1 networkx==3.6.1 datasketch==2.0.0 openpyxl==3.1.5 pyarrow==26.0.1 rstl==0.1.3
py-deps:
	@python3 -c "import numpy, pandas, scipy, statsmodels, sklearn, duckdb, sqlglot, samplics, networkx, datasketch, openpyxl, pyarrow, rstl" 2>/dev/null || python3 -m pip install --quiet --disable-pip-version-check $(PY_DEPS)

# Apache Spark in local mode for `make test-warehouse`: Java 17 from Debian, pyspark from PyPI.
spark-deps: py-deps
	@java -version 2>&1 | grep -q 'version "17' || { apt-get update && apt-get install -y openjdk-17-jre-headless; }
	@python3 -c "import pyspark" 2>/dev/null || python3 -m pip install --quiet --disable-pip-version-check pyspark==4.3.0

e2e-deps:
	@test -d $(E2E)/node_modules/playwright-core && test -d $(E2E)/node_modules/csv-spectrum || npm install --prefix $(E2E) --no-package-lock --no-audit --no-fund

## ---- build and serve ----

dist: tools
	trunk build --release

serve: tools
	trunk serve --release

# The `vigil` command line (native): target/release/vigil.
cli:
	cargo build --release --bin vigil
	@echo "built target/release/vigil (install on the PATH: cargo install --path .)"

## ---- tests ----

lint: tools
	cargo clippy --all-targets -- -D warnings
	cargo clippy --target wasm32-unknown-unknown --lib --bins --test web -- -D warnings
	cargo clippy --target wasm32-unknown-unknown --no-default-features --lib --bins -- -D warnings

test-native: py-deps e2e-deps
	cargo test

# The wasm build of the data core in headless Chromium (the app mounts, the demo is the same bytes
# as natively). Not in `make test`: its debug wasm build of every dependency took 8½ of CI's 45
# minutes, and the end-to-end suite drives the same release wasm to the demo's exact counts.
test-wasm: tools browser
	$(LINTED) cargo test --target wasm32-unknown-unknown --test web

test-e2e: dist browser e2e-deps
	npm test --prefix $(E2E)

# Two cores on CI, kept busy: two chains side by side, the native tests (build, then run) and
# the end-to-end suite (release site, then the browser). The native tests start as soon as their
# build is done, while the site's one-unit link and wasm-opt leave a core free; the two sides use
# separate build directories. Output is kept per target, so the log reads in order; the
# end-to-end runner prints the closing summary (`# pass N`, `# fail 0`).
#
# The lints run inside those builds: clippy-driver wraps rustc for our crate only (cargo's
# RUSTC_WORKSPACE_WRAPPER, what `cargo clippy` itself sets; CLIPPY_ARGS carries `-D warnings`), so
# our code is linted natively (every target, benches included) and for wasm32 (the page and the
# worker) without `make lint`'s separate check of every dependency, twice (7½ of CI's minutes).
# The wrapper is part of cargo's fingerprint: `cargo test` reuses the linted build only with it.
CLIPPY_DRIVER = $(shell rustup which clippy-driver 2>/dev/null)
LINTED = RUSTC_WORKSPACE_WRAPPER="$(CLIPPY_DRIVER)" CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"
test: tools browser e2e-deps py-deps
	@test -x "$(CLIPPY_DRIVER)" || { echo "clippy-driver not found: rustup component add clippy"; exit 1; }
	$(LINTED) $(MAKE) --no-print-directory -j2 --output-sync=target native-chain e2e-chain

native-chain: test-build
	cargo test

e2e-chain: dist
	npm test --prefix $(E2E)

test-build:
	cargo test --no-run --all-targets

# The cube's SQL on a real distributed engine: VIGIL_WAREHOUSE_ROWS (default 2,000,000) seeded
# events through Apache Spark and DuckDB, cubes and their trends and root causes compared.
test-warehouse: spark-deps
	cargo test --release --test it warehouse:: -- --include-ignored --nocapture

## ---- benchmarks and docs ----

BENCH := benches/browser

bench-deps:
	@test -d $(BENCH)/node_modules/@duckdb/duckdb-wasm && test -d $(BENCH)/node_modules/ml-kmeans && test -d $(BENCH)/node_modules/esbuild && test -d $(BENCH)/node_modules/@msgpack/msgpack || npm install --prefix $(BENCH) --no-package-lock --no-audit --no-fund
	@python3 -c "import duckdb, polars" 2>/dev/null || python3 -m pip install --quiet --disable-pip-version-check duckdb polars

# Native ingest, the browser comparison with peers (VIGIL_BENCH_MB, _RUNS, _LARGE, _TOOLS), then
# the command line against DuckDB and Polars (VIGIL_CLI_MB, VIGIL_CLI_RUNS).
bench: dist browser bench-deps
	cargo bench --bench ingest
	cargo build --release --bin vigil-demo --bin vigil
	node $(BENCH)/run.mjs
	python3 benches/cli.py

# The table worker built with its functions' names, for benches/browser/profile.mjs (Trunk's
# build has none): target/worker-named/.
NAMED := target/worker-named
worker-named: tools
	cargo build --release --target wasm32-unknown-unknown --no-default-features --bin vigil-worker
	mkdir -p $(NAMED)
	wasm-bindgen --target no-modules --out-dir $(NAMED) --out-name vigil-worker target/wasm32-unknown-unknown/release/vigil-worker.wasm
	wasm-opt -O2 -g -ocimfs 4000 --detect-features $(NAMED)/vigil-worker_bg.wasm -o $(NAMED)/vigil-worker_bg.wasm
	printf 'importScripts("./vigil-worker.js");wasm_bindgen({ module_or_path: "./vigil-worker_bg.wasm" });' > $(NAMED)/vigil-worker_loader.js
	cp src/web/vigil-worker_helper.js $(NAMED)/

# Where one worker's load of the 200 MB demo spends its time (self time per function, from
# Chromium's sampling profiler), on the worker built with names.
profile-load: worker-named browser bench-deps dist
	cargo build --release --bin vigil-demo
	mkdir -p target/bench-data
	test -f target/bench-data/demo-980392.csv || target/release/vigil-demo 980392 7 > target/bench-data/demo-980392.csv
	VIGIL_PROFILE_WORKER=$(NAMED) node --experimental-websocket $(BENCH)/profile.mjs target/bench-data/demo-980392.csv

# An experiment, not the app: the loader on threads that share the wasm memory (nightly Rust with
# the standard library rebuilt for atomics; benches/wasm-threads/), next to one thread and to
# reading the file alone, in headless Chromium.
THREADS_BENCH := benches/wasm-threads
bench-threads: tools browser bench-deps
	@rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
	@rustup component list --toolchain nightly --installed | grep -qx rust-src || rustup component add rust-src --toolchain nightly
	@rustup target list --toolchain nightly --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown --toolchain nightly
	cd $(THREADS_BENCH) && cargo +nightly build --release --target wasm32-unknown-unknown --target-dir $(CURDIR)/target/wasm-threads
	wasm-bindgen --target web --out-dir target/wasm-threads/pkg target/wasm-threads/wasm32-unknown-unknown/release/vigil_wasm_threads.wasm
	cargo build --release --bin vigil-demo
	mkdir -p target/bench-data
	test -f target/bench-data/demo-980392.csv || target/release/vigil-demo 980392 7 > target/bench-data/demo-980392.csv
	node $(THREADS_BENCH)/run.mjs target/bench-data/demo-980392.csv

## ---- fuzzing (cargo-fuzz on the nightly toolchain; tests/fuzz) ----

FUZZ_SECONDS ?= 60
FUZZ_TARGETS := csv_load csv_parallel rule view_link analyses

fuzz-deps:
	@rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
	@cargo fuzz --version >/dev/null 2>&1 || cargo install --locked cargo-fuzz

# Starts from the committed seeds (tests/fuzz/corpus/<target>/, kept small); inputs that reach
# new code go to tests/fuzz/work/<target>/ (not committed). A crash is saved under
# tests/fuzz/artifacts/: once fixed, copy it into the corpus as a regression case.
fuzz: fuzz-deps
	for target in $(FUZZ_TARGETS); do \
		mkdir -p tests/fuzz/work/$$target; \
		cargo +nightly fuzz run --fuzz-dir tests/fuzz $$target tests/fuzz/work/$$target tests/fuzz/corpus/$$target -- -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=3000 -max_len=65536; \
	done

screenshot: dist browser e2e-deps
	node $(E2E)/screenshot.mjs

clean:
	rm -rf dist target/wasm-bindgen-test
