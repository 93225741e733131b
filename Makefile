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

# The main job on the bundled demo data (HSMM myoblasts, 271 cells; a small demo model with
# random weights in the released Tahoe X1 layout). Until SAE training lands this shows the
# devices and embeds the cells: cell embeddings and the residual stream after block 1.
DEMO_OUT ?= results/demo
demo: build
	$(BUILD)/bin/saeg devices --device auto
	$(BUILD)/bin/saeg embed --model examples/tx1-demo/demo-model --data examples/hsmm/hsmm.h5ad \
		--output $(DEMO_OUT) --layer 1 --cell-type-key time_point
	@echo "demo: embeddings in $(DEMO_OUT)/embeddings.safetensors"

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
