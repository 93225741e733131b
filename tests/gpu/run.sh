#!/usr/bin/env bash
# One run on a machine with an NVIDIA GPU (see docs/cuda.md): uses the binaries of
# scripts/gpu-bundle.sh (.gpu-bundle/, carried with the working tree), runs test-backend-ops
# (test + grad) on cuda (and vulkan / opencl when their drivers are there), the Tahoe parity
# test on every device, and the benchmarks, each step under its own timeout, everything appended
# to $OUT/gpu-report.txt. On a machine without a GPU every CUDA step says so and is skipped.
set -u
cd "$(dirname "$0")/../.."
OUT=${OUT:-./gpu-out}
mkdir -p "$OUT"
report="$OUT/gpu-report.txt"
B=.gpu-bundle/bin
# only our programs see the bundled libraries (python3 and torch keep the system's)
L="$PWD/.gpu-bundle/lib:/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}"
# PyTorch's wheels carry cuBLAS too (used when the toolkit has none)
tlib=$(python3 -c 'import os, nvidia.cublas as c; print(os.path.join(list(c.__path__)[0], "lib"))' 2>/dev/null) &&
    L="$L:$tlib"
bin() { local p=$1; shift; env LD_LIBRARY_PATH="$L" "$B/$p" "$@"; }
start=$(date +%s)
log() { echo "$*" | tee -a "$report"; }
# step NAME SECONDS CMD...: runs CMD with a timeout, appends its output and exit status
# Every step's timeout is cut to what is left of BUDGET seconds (the whole run must stay under
# 9 minutes); a step with under 10 s left is skipped with a line.
BUDGET=${BUDGET:-500}
step() {
    local name=$1 secs=$2; shift 2
    local left=$(( BUDGET - ($(date +%s) - start) ))
    if [ $left -lt 10 ]; then log ""; log "SKIPPED: $name (time budget spent)"; return; fi
    [ $secs -gt $left ] && secs=$left
    log ""; log "==== $name (timeout ${secs}s, at +$(( $(date +%s) - start ))s)"
    timeout "$secs" bash -c "$(declare -f bin graph_bench); B=$B; L='$L'; \"\$@\"" _ "$@" >>"$report" 2>&1
    local rc=$?
    log "==== $name: exit $rc$([ $rc -eq 124 ] && echo ' (timed out)')"
}
: >"$report"
log "gpu-report $(date -u) on $(hostname); commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
if [ ! -x "$B/saeg" ] && [ -f .gpu-bundle.tar.xz ]; then
    mkdir -p .gpu-bundle && xz -dc .gpu-bundle.tar.xz | tar -C .gpu-bundle -xf -
fi
[ -x "$B/saeg" ] || { log "no .gpu-bundle/: run scripts/gpu-bundle.sh first"; exit 1; }

have_gpu=0
if command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1; then have_gpu=1; fi
step "nvidia-smi" 20 nvidia-smi
# Vulkan loader as .debs in .gl/ (the image has none), NVIDIA's ICD from the driver
if [ $have_gpu = 1 ] && ls .gl/*.deb >/dev/null 2>&1; then
    for f in .gl/*.deb; do dpkg -x "$f" / 2>/dev/null; done
    ldconfig 2>/dev/null
    [ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ] &&
        export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
fi
step "saeg devices" 60 bin saeg devices --device cuda
devs=$(bin saeg devices 2>/dev/null)
available() { grep -qE "^  $1 +available" <<<"$devs"; }
step "test-cuda-gemm-plan (host)" 60 bin test-cuda-gemm-plan
step "test-cuda-pool (host)" 30 bin test-cuda-pool
step "test-cuda-graph-key (host)" 30 bin test-cuda-graph-key
# graph_bench 0|1: the 70m forward pass, launch-bound (small batch, many passes) with CUDA graphs
# off or on; the debug lines show whether each split was captured and the memory pool's stats
graph_bench() {
    env SAEG_CUDA_GRAPHS=$1 SAEG_LOG=debug LD_LIBRARY_PATH="$L" "$B/saeg" bench model --size 70m --context 256 \
        --batch 4 --batches 20 --device cuda --no-torch 2>&1 |
        grep -E 'CUDA graph|eagerly|memory pool|cells/s|error|warn' | sort | uniq -c | sort -rn | head -20
}

if [ $have_gpu = 0 ] || ! available cuda; then
    log ""; log "SKIPPED: no NVIDIA GPU / CUDA driver here: every CUDA step is skipped"
else
    # Default paths: CUDA graphs for the scheduled replay, bf16 tensor-core attention forward
    # (nmse ~5e-6 from bf16 rounding of q, k, v and P: tests/gpu/bf16_attention_tolerance.py;
    # limit 5e-5). Then the fp32 attention and eager launches at the strict default tolerance.
    step "test-backend-ops test -b cuda (graphs, TC attention)" 120 env TBO_MAX_NMSE=attention=5e-5 \
        LD_LIBRARY_PATH="$L" "$B/test-backend-ops" test -b cuda
    step "test-backend-ops test -b cuda (SAEG_CUDA_GRAPHS=0, SAEG_CUDA_TC_ATTENTION=0)" 90 env SAEG_CUDA_GRAPHS=0 \
        SAEG_CUDA_TC_ATTENTION=0 LD_LIBRARY_PATH="$L" "$B/test-backend-ops" test -b cuda
    step "test-backend-ops test -b cuda -o attention (TC attention, eager)" 30 env SAEG_CUDA_GRAPHS=0 \
        TBO_MAX_NMSE=attention=5e-5 LD_LIBRARY_PATH="$L" "$B/test-backend-ops" test -b cuda -o attention
    step "test-backend-ops grad -b cuda" 90 bin test-backend-ops grad -b cuda
    # f32 (2e-3 off CPU) and --dtype bf16 (bf16 GEMMs vs the bf16 PyTorch reference: 2e-2, RMS 1.5e-3)
    step "test-tx1-parity (every device; --dtype f32 and bf16)" 120 bin test-tx1-parity
    # the fused ops (add_layer_norm, linear) timed next to the op sequences they replace
    step "test-backend-ops perf -b cuda: fused vs unfused" 30 bin test-backend-ops perf -b cuda -o add_layer_norm,linear
    step "graph replay vs eager: bench model 70m ctx256 batch4, SAEG_CUDA_GRAPHS=0" 45 graph_bench 0
    step "graph replay vs eager: bench model 70m ctx256 batch4, SAEG_CUDA_GRAPHS=1" 45 graph_bench 1
    step "bench-ops --device cuda" 60 bin bench-ops --quick --reps 3 --device cuda
    step "bench-ops --device cuda, SAEG_CUDA_TF32=1" 60 env SAEG_CUDA_TF32=1 LD_LIBRARY_PATH="$L" "$B/bench-ops" --quick --reps 3 --device cuda
    step "torch reference (matmul 4096^3, SDPA)" 60 python3 tests/gpu/torch_ref.py
    for dt in f32 bf16; do # weight bytes and speed, fp32 cuBLAS vs bf16 GemmEx
        step "saeg bench model 70m ctx1024 batch64 --dtype $dt" 60 bin saeg bench model --size 70m --context 1024 \
            --batch 64 --dtype $dt --device cuda --no-torch
    done
    step "saeg bench sae 2560x40960 k64 batch4096" 90 bin saeg bench sae --d-in 2560 --d-sae 40960 -k 64 \
        --batch 4096 --steps 3 --device cuda --no-torch
    # 3B end to end in bf16 (issue 9): random weights in the released layout (~5.4 GB BF16 file,
    # written by PyTorch on the GPU here), activations of block 16 streamed into a TopK SAE for 20 steps
    if [ $(( $(date +%s) - start )) -lt 280 ] && python3 -c 'import torch, numpy' 2>/dev/null; then
        m3=${TMPDIR:-/tmp}/saeg-tx1-3b-random
        step "make_random_model.py 3b" 150 python3 scripts/python/make_random_model.py 3b "$m3"
        step "saeg train 3b --dtype bf16 (HSMM, 32 cells, ctx 2048, d_sae 16384, 20 steps)" 150 bin saeg train \
            --model "$m3" --data examples/hsmm/hsmm.h5ad --output "${TMPDIR:-/tmp}/saeg-3b-train" --overwrite \
            --device cuda --dtype bf16 --layer 16 --max-cells 32 --context 2048 --cells-per-pass 8 \
            --d-sae 16384 -k 64 --batch 4096 --steps 20 --no-eval
        rm -rf "$m3"
    else
        log "SKIPPED: 3b end to end (time budget, or no python3 with torch)"
    fi
    if [ $(( $(date +%s) - start )) -lt 380 ]; then
        step "saeg bench model 3b ctx2048 batch16 --dtype bf16" 100 bin saeg bench model --size 3b --context 2048 \
            --batch 16 --batches 1 --dtype bf16 --device cuda --no-torch
    else
        log "SKIPPED: bench model 3b (time budget)"
    fi
fi
for be in vulkan opencl; do
    if [ $have_gpu = 1 ] && available $be; then
        step "test-backend-ops test -b $be" 60 bin test-backend-ops test -b $be
    else
        log ""; log "SKIPPED: $be (no driver for it here)"
    fi
done
log ""; log "done in $(( $(date +%s) - start ))s"
