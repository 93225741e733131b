# Convenience targets; the build itself is CMake (see README.md).
BUILD ?= build
JOBS  ?= $(shell nproc)

.PHONY: deps dev-deps build test test-data demo bench format format-check lint sanitize fuzz hooks clean

deps:
	scripts/install-deps.sh

# The quality gates' tools (clang, clang-format, clang-tidy, cppcheck, valgrind); see CONTRIBUTING.md.
dev-deps:
	scripts/install-dev-deps.sh

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release
	cmake --build $(BUILD) -j$(JOBS)

# Real annotation data for the validation tests (Debian's org.Hs.eg.db, unpacked without R).
test-data:
	tests/validation/fetch-orgdb.sh >/dev/null || (apt-get update -qq && tests/validation/fetch-orgdb.sh >/dev/null)

test: build test-data
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

# The main job on the bundled demo data: the 271 HSMM myoblasts (real Ensembl IDs and gene symbols)
# through the DEMO model (random weights in the released Tahoe X1 layout, examples/tx1-demo/):
# `saeg pipeline` trains a small SAE, extracts every feature's top genes and cells, and writes the
# dashboard (settings: configs/pipeline/demo.yaml; about 20 s after the build on 2 cores).
DEMO_OUT ?= results/demo
demo: build
	$(BUILD)/bin/saeg pipeline --config configs/pipeline/demo.yaml --data examples/hsmm/hsmm.h5ad --overwrite \
		--model examples/tx1-demo/demo-model --output $(DEMO_OUT)
	@echo "demo: open $(abspath $(DEMO_OUT))/dashboard.html in a browser (a DEMO model with random"
	@echo "      weights: the page shows the pipeline at work on real HSMM genes, not learned biology)"

# clang-format over the C sources, headers and OpenCL kernels (.clang-format is the style).
format: dev-deps
	scripts/format.sh
format-check: dev-deps
	scripts/format.sh --check

# clang-tidy (.clang-tidy) and cppcheck over the library layers; any finding fails.
lint: deps dev-deps
	JOBS=$(JOBS) scripts/lint.sh

# The ctest suite under AddressSanitizer + UBSan + LeakSanitizer, and valgrind on `saeg embed`.
sanitize: build test-data dev-deps
	JOBS=$(JOBS) BUILD=$(BUILD) scripts/sanitize.sh

# libFuzzer on every file parser, FUZZ_SECONDS per target (CONTRIBUTING.md, "Fuzzing").
fuzz: deps dev-deps
	JOBS=$(JOBS) scripts/fuzz.sh $(FUZZ_SECONDS)
FUZZ_SECONDS ?= 30

# A git pre-commit hook: format-check of the staged files and the fast tests (ctest -L core).
hooks:
	ln -sf "$$(pwd)/scripts/hooks/pre-commit" "$$(git rev-parse --git-path hooks)/pre-commit"
	@echo "hooks: pre-commit installed (git commit --no-verify skips it once)"

bench: build
	$(BUILD)/bin/bench-ops

clean:
	rm -rf $(BUILD) build-asan build-fuzz build-lint
