# Convenience targets; the build itself is CMake (see README.md).
BUILD ?= build
JOBS  ?= $(shell nproc)

.PHONY: deps build test test-data demo fuzz bench clean

deps:
	scripts/install-deps.sh

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

# Fuzz the file parsers briefly (needs clang and its libFuzzer runtime).
fuzz: build
	scripts/fuzz.sh $(FUZZ_SECONDS)
FUZZ_SECONDS ?= 30

bench: build
	$(BUILD)/bin/bench-ops

clean:
	rm -rf $(BUILD)
