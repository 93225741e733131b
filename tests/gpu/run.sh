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
    timeout "$secs" bash -c "$(declare -f bin); B=$B; L='$L'; \"\$@\"" _ "$@" >>"$report" 2>&1
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

if [ $have_gpu = 0 ] || ! available cuda; then
    log ""; log "SKIPPED: no NVIDIA GPU / CUDA driver here: every CUDA step is skipped"
else
    step "test-backend-ops test -b cuda" 120 bin test-backend-ops test -b cuda
    step "test-backend-ops grad -b cuda" 120 bin test-backend-ops grad -b cuda
    # the fused ops (add_layer_norm, linear) timed next to the op sequences they replace
    step "test-backend-ops perf -b cuda: fused vs unfused" 30 bin test-backend-ops perf -b cuda -o add_layer_norm,linear
    step "test-tx1-parity (every device)" 120 bin test-tx1-parity
    step "bench-ops --device cuda" 90 bin bench-ops --quick --reps 3 --device cuda
    step "bench-ops --device cuda, SAEG_CUDA_TF32=1" 60 env SAEG_CUDA_TF32=1 LD_LIBRARY_PATH="$L" "$B/bench-ops" --quick --reps 3 --device cuda
    step "torch reference (matmul 4096^3, SDPA)" 60 python3 tests/gpu/torch_ref.py
    step "saeg bench model 70m ctx1024 batch64" 90 bin saeg bench model --size 70m --context 1024 --batch 64 \
        --device cuda --no-torch
    step "saeg bench sae 2560x40960 k64 batch4096" 90 bin saeg bench sae --d-in 2560 --d-sae 40960 -k 64 \
        --batch 4096 --steps 3 --device cuda --no-torch
    if [ $(( $(date +%s) - start )) -lt 300 ]; then
        step "saeg bench model 3b ctx2048 batch16" 120 bin saeg bench model --size 3b --context 2048 --batch 16 \
            --batches 1 --device cuda --no-torch
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
