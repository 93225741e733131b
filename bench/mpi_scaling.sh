#!/usr/bin/env bash
# Scaling of saeg under MPI on one machine (loopback): the same job in 1 process and in 2 ranks,
# each process with the same number of CPU threads, on the bundled demo model and HSMM cells.
# Prints wall time, throughput and efficiency = T1 / (N * TN) for embed, extract and train.
#   bench/mpi_scaling.sh [path/to/saeg] [threads per process]      (from the repository root)
# As root, Open MPI needs OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 (set here).
set -eu
saeg=${1:-build/bin/saeg}
threads=${2:-1}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl_vader_single_copy_mechanism=none
mpirun=(mpirun -n 2 --oversubscribe --bind-to none)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
demo="--model examples/tx1-demo/demo-model --data examples/hsmm/hsmm.h5ad"
one=(--device cpu --threads "$threads")

"$saeg" train $demo --output "$tmp/sae" --steps 50 --batch 1024 --d-sae 1024 -k 16 --no-eval --no-progress \
    "${one[@]}" >/dev/null 2>&1

secs() { # secs command... : wall seconds
    local t0 t1
    t0=$(date +%s.%N)
    "$@" >"$tmp/log" 2>&1 || { cat "$tmp/log"; exit 1; }
    t1=$(date +%s.%N)
    awk "BEGIN { print $t1 - $t0 }"
}

printf "%-8s %-28s %10s %10s %14s %10s\n" job work "1 proc s" "2 ranks s" "2-rank speedup" efficiency
measure() { # measure NAME WORK UNITS args...
    local name=$1 work=$2 units=$3
    shift 3
    local t1 t2
    t1=$(secs "$saeg" "$@" --output "$tmp/o1")
    t2=$(secs "${mpirun[@]}" "$saeg" "$@" --output "$tmp/o2")
    printf "%-8s %-28s %10.2f %10.2f %13.2fx %9.0f%%   (%.0f / %.0f %s/s)\n" "$name" "$work" "$t1" "$t2" \
        "$(awk "BEGIN { print $t1 / $t2 }")" "$(awk "BEGIN { print 100 * $t1 / (2 * $t2) }")" \
        "$(awk "BEGIN { print $units / $t1 }")" "$(awk "BEGIN { print $units / $t2 }")" "$(case $name in train) echo tokens ;; *) echo cells ;; esac)"
    rm -rf "$tmp/o1" "$tmp/o2"
}
measure embed "271 cells, layer 1" 271 embed $demo --layer 1 "${one[@]}"
measure extract "271 cells, 1024 features" 271 extract --sae "$tmp/sae" $demo "${one[@]}"
measure train "300 steps x 1024 tokens" 307200 train $demo --steps 300 --batch 1024 --d-sae 1024 -k 16 \
    --no-eval --no-progress "${one[@]}"
