#!/usr/bin/env bash
# Scaling of saeg under MPI on one machine (loopback): the same job in 1 process and in 2 ranks,
# every process with the same CPU threads, on the bundled demo model and HSMM cells; embed,
# extract and train. Each time is the best of REPEATS runs (shared machines are noisy).
#
#   speedup     T(1 process) / T(2 ranks)
#   efficiency  speedup / 2
#   ceiling     what this machine gives two processes at all: two independent 1-process runs of
#               half the job each, side by side (embed/extract: half the cells each; train: half
#               the batch each), against the whole job in one: T(1 process) / T(two halves)
#   of ceiling  speedup / ceiling: the part of the machine's parallelism that MPI delivers
#
#   bench/mpi_scaling.sh [path/to/saeg] [threads per process] [repeats]   (from the repository root)
set -eu
saeg=${1:-build/bin/saeg}
threads=${2:-1}
repeats=${3:-3}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl_vader_single_copy_mechanism=none
mpirun=(mpirun -n 2 --oversubscribe --bind-to none)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
demo="--model examples/tx1-demo/demo-model --data examples/hsmm/hsmm.h5ad"
one=(--device cpu --threads "$threads")
calc() { awk "BEGIN { printf \"%.2f\", $1 }"; }

"$saeg" train $demo --output "$tmp/sae" --steps 50 --batch 1024 --d-sae 1024 -k 16 --no-eval --no-progress \
    "${one[@]}" >/dev/null 2>&1

best() { # best command... : the shortest wall time of $repeats runs, in seconds
    local b=""
    for _ in $(seq "$repeats"); do
        local t0 t1 t
        rm -rf "$tmp/o" "$tmp/o2"
        t0=$(date +%s.%N)
        eval "$@" >"$tmp/log" 2>&1 || { cat "$tmp/log"; exit 1; }
        t1=$(date +%s.%N)
        t=$(calc "$t1 - $t0")
        if [ -z "$b" ] || awk "BEGIN { exit !($t < $b) }"; then b=$t; fi
    done
    echo "$b"
}

printf "%-8s %-26s %9s %9s %9s %8s %10s %8s %10s\n" job work "1 proc" "2 ranks" "2 halves" speedup efficiency ceiling "of ceiling"
measure() { # measure NAME WORK "full args" "half args"
    local t1 t2 th s c
    t1=$(best "$saeg $3 --output $tmp/o")
    t2=$(best "${mpirun[*]} $saeg $3 --output $tmp/o")
    th=$(best "$saeg $4 --output $tmp/o & $saeg $4 --output $tmp/o2; wait")
    s=$(calc "$t1 / $t2")
    c=$(calc "$t1 / $th")
    printf "%-8s %-26s %8.2fs %8.2fs %8.2fs %7.2fx %9.0f%% %7.2fx %9.0f%%\n" "$1" "$2" "$t1" "$t2" "$th" "$s" \
        "$(calc "50 * $s")" "$c" "$(calc "100 * $s / $c")"
}
c="${one[*]}"
measure embed "271 cells, layer 1" "embed $demo --layer 1 $c" "embed $demo --layer 1 --max-cells 136 $c"
measure extract "271 cells, 1024 features" "extract --sae $tmp/sae $demo $c" "extract --sae $tmp/sae $demo --max-cells 136 $c"
t="train $demo --steps 300 --d-sae 1024 -k 16 --no-eval --no-progress $c"
measure train "300 steps x 1024 tokens" "$t --batch 1024" "$t --batch 512"
