#!/usr/bin/env bash
# saeg under mpirun -n 2 on this machine against the same command in one process, on the bundled
# demo model and HSMM cells (docs/mpi.md):
#   embed    embeddings.safetensors byte for byte
#   embed-resume  2 ranks killed after recording progress: --resume under 1 rank is refused,
#            under 2 ranks it finishes the file byte for byte as 1 uninterrupted process
#   extract-resume  a 1-process extraction killed after a checkpoint, resumed by 2 ranks: the
#            three JSON files byte for byte as 1 uninterrupted process
#   extract  the three JSON files byte for byte, obsm['X_sae'] of the --write-h5ad copy dataset by
#            dataset (the copy's HDF5 object headers carry times, so the files differ)
#   train    the SAE's weights within 1e-4 of the largest weight (same seed: the only difference is
#            the order of float additions in the gradient sum), and resuming a 2-rank checkpoint
#            in one process and a 1-process checkpoint in 2 ranks
#   cache    --cache-activations built by 2 ranks (per-rank shards, one manifest) holds what 1
#            process writes, and either run trains on it
#   error    a rank's error ends the job with the message and the rank, exit status non-zero
#   pipeline saeg pipeline under 2 ranks: every output, the dashboard written once by rank 0
#   kill     kill -9 of rank 1 mid-training: mpirun fails with a message naming it, within
#            seconds, and the last checkpoint resumes to the end
#   test_mpi.sh MODE path/to/saeg path/to/st-compare path/to/h5-compare   (from the repository root)
# The launcher is $SAEG_TEST_MPIRUN (tests/mpi/CMakeLists.txt sets it and the environment).
set -u
mode=$1
saeg=$2
cmp_st=$3
h5_cmp=$4
read -r -a mpirun <<<"${SAEG_TEST_MPIRUN:?set by ctest}"
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
demo="--model examples/tx1-demo/demo-model --data examples/hsmm/hsmm.h5ad"
one=(--device cpu --threads 1) # the same threads per process in both runs: same float order

run() { # run LOG command... : fails the test with the log when the command fails
    local log=$1
    shift
    if ! "$@" >"$log" 2>&1; then
        echo "FAIL: $*"
        cat "$log"
        fail=1
        return 1
    fi
}

case $mode in
embed)
    args=(embed $demo --layer 0,1 --max-cells 24 --batch 4 --context 256 --cell-type-key time_point "${one[@]}")
    run "$tmp/1.log" "$saeg" "${args[@]}" --output "$tmp/one" &&
        run "$tmp/2.log" "${mpirun[@]}" "$saeg" "${args[@]}" --output "$tmp/two" &&
        if cmp "$tmp/one/embeddings.safetensors" "$tmp/two/embeddings.safetensors"; then
            echo "embed: 2 ranks wrote the same embeddings.safetensors as 1 process, byte for byte"
        else
            echo "FAIL: embed: embeddings.safetensors differs"
            fail=1
        fi
    ls "$tmp/two" | grep -q tmp && { echo "FAIL: embed left a .tmp file"; fail=1; }
    ;;
embed-resume)
    args=(embed $demo --layer 1 --batch 2 --context 1024 "${one[@]}")
    run "$tmp/1.log" "$saeg" "${args[@]}" --output "$tmp/one" || exit 1
    "${mpirun[@]}" "$saeg" "${args[@]}" --output "$tmp/two" --sync-every 0 >"$tmp/2.log" 2>&1 &
    pid=$!
    for _ in $(seq 400); do # both ranks recorded progress
        [ -f "$tmp/two/embeddings.progress.0.json" ] && [ -f "$tmp/two/embeddings.progress.1.json" ] && break
        sleep 0.05
    done
    kill -9 $pid
    wait $pid 2>/dev/null
    pkill -9 -f -- "--output $tmp/two" 2>/dev/null # orphaned ranks
    sleep 0.2
    [ -f "$tmp/two/embeddings.safetensors.tmp" ] && [ ! -f "$tmp/two/embeddings.safetensors" ] ||
        { echo "FAIL: embed-resume: the 2-rank run finished before it was killed"; exit 1; }
    if "$saeg" "${args[@]}" --output "$tmp/two" --resume >"$tmp/r1.log" 2>&1 ||
        ! grep -q "the interrupted run had 2 rank(s), this one 1; resume with 2" "$tmp/r1.log"; then
        echo "FAIL: embed-resume: 1 process resumed a 2-rank run"
        cat "$tmp/r1.log"
        fail=1
    fi
    run "$tmp/r2.log" "${mpirun[@]}" "$saeg" "${args[@]}" --output "$tmp/two" --resume || exit 1
    grep -q "resuming at cell" "$tmp/r2.log" || { echo "FAIL: embed-resume: did not resume"; fail=1; }
    if cmp "$tmp/one/embeddings.safetensors" "$tmp/two/embeddings.safetensors"; then
        echo "embed-resume: 2 ranks killed and resumed wrote the same file as 1 process, byte for byte"
    else
        echo "FAIL: embed-resume: embeddings.safetensors differs"
        fail=1
    fi
    ;;
extract-resume)
    run "$tmp/t.log" "$saeg" train $demo --output "$tmp/run" --steps 20 --batch 256 --d-sae 64 -k 8 \
        --max-cells 24 --context 256 --no-eval --no-progress "${one[@]}" || exit 1
    args=(extract --sae "$tmp/run" $demo --max-cells 120 --batch 1 --context 1024 --cell-type-key time_point
        --histogram-samples 20 "${one[@]}")
    run "$tmp/1.log" "$saeg" "${args[@]}" --output "$tmp/one" || exit 1
    "$saeg" "${args[@]}" --output "$tmp/two" --checkpoint-every 0 >/dev/null 2>&1 &
    pid=$!
    for _ in $(seq 400); do [ -f "$tmp/two/extract_checkpoint.safetensors" ] && break; sleep 0.05; done
    sleep 0.3
    kill -9 $pid
    wait $pid 2>/dev/null
    [ -f "$tmp/two/extract_checkpoint.safetensors" ] && [ ! -f "$tmp/two/feature_stats.json" ] ||
        { echo "FAIL: extract-resume: the run finished before it was killed"; exit 1; }
    run "$tmp/2.log" "${mpirun[@]}" "$saeg" "${args[@]}" --output "$tmp/two" --resume || exit 1
    grep -q "resuming at cell" "$tmp/2.log" || { echo "FAIL: extract-resume: did not resume"; fail=1; }
    for f in feature_gene_associations.json feature_cell_associations.json feature_stats.json; do
        cmp -s "$tmp/one/$f" "$tmp/two/$f" || { echo "FAIL: extract-resume: $f differs"; fail=1; }
    done
    [ $fail = 0 ] && echo "extract-resume: resumed by 2 ranks, the files of 1 uninterrupted process, byte for byte"
    ;;
extract)
    run "$tmp/t.log" "$saeg" train $demo --output "$tmp/run" --steps 20 --batch 256 --d-sae 64 -k 8 \
        --max-cells 24 --context 256 --no-eval --no-progress "${one[@]}" || exit 1
    # --batch 3: the last round has one batch for rank 0 and a short one for rank 1
    args=(extract --sae "$tmp/run" $demo --max-cells 23 --batch 3 --cell-type-key time_point --write-h5ad
        --histogram-samples 50 "${one[@]}")
    run "$tmp/1.log" "$saeg" "${args[@]}" --output "$tmp/one" &&
        run "$tmp/2.log" "${mpirun[@]}" "$saeg" "${args[@]}" --output "$tmp/two" || exit 1
    for f in feature_gene_associations.json feature_cell_associations.json feature_stats.json; do
        if cmp "$tmp/one/$f" "$tmp/two/$f"; then echo "extract: $f identical"; else
            echo "FAIL: extract: $f differs"
            fail=1
        fi
    done
    grep -q '"sampled":true' "$tmp/one/feature_stats.json" || echo "note: no histogram was sampled"
    # the copies' HDF5 object headers carry times: compare what saeg wrote, dataset by dataset
    "$h5_cmp" "$tmp/one/hsmm_sae.h5ad" "$tmp/two/hsmm_sae.h5ad" /obsm/X_sae/data /obsm/X_sae/indices \
        /obsm/X_sae/indptr || {
        echo "FAIL: extract: obsm['X_sae'] of the --write-h5ad copies differs"
        fail=1
    }
    ;;
train)
    args=(train $demo --steps 30 --batch 256 --d-sae 64 -k 8 --max-cells 24 --context 256 --seed 5
        --no-eval --no-progress --checkpoint-every 15 "${one[@]}")
    run "$tmp/1.log" "$saeg" "${args[@]}" --output "$tmp/one" &&
        run "$tmp/2.log" "${mpirun[@]}" "$saeg" "${args[@]}" --output "$tmp/two" || exit 1
    grep -q "ranks hold identical weights" "$tmp/2.log" || {
        echo "FAIL: train: no weight check across ranks"
        cat "$tmp/2.log"
        fail=1
    }
    echo "train: 2 ranks against 1 process, same seed:"
    "$cmp_st" "$tmp/one/sae/sae_weights.safetensors" "$tmp/two/sae/sae_weights.safetensors" 1e-4 || {
        echo "FAIL: train: weights differ by more than 1e-4"
        fail=1
    }
    # 15 steps (a schedule of 15 steps), resumed to 30: in 1 process then 1 (the reference), in 2
    # ranks then 1, in 1 then 2 ranks
    for a in "c 1 1" "a 2 1" "b 1 2"; do
        read -r name first second <<<"$a"
        l1=()
        l2=()
        [ "$first" = 2 ] && l1=("${mpirun[@]}")
        [ "$second" = 2 ] && l2=("${mpirun[@]}")
        run "$tmp/$name.log" "${l1[@]}" "$saeg" train $demo --steps 15 --batch 256 --d-sae 64 -k 8 --max-cells 24 \
            --context 256 --seed 5 --no-eval --no-progress "${one[@]}" --output "$tmp/$name" &&
            run "$tmp/$name.r.log" "${l2[@]}" "$saeg" "${args[@]}" --output "$tmp/$name" --resume || continue
        [ "$name" = c ] && continue
        echo "train: $first rank(s), resumed in $second, against 1 then 1:"
        "$cmp_st" "$tmp/c/sae/sae_weights.safetensors" "$tmp/$name/sae/sae_weights.safetensors" 1e-4 || {
            echo "FAIL: train: resumed with another rank count, weights differ by more than 1e-4"
            fail=1
        }
    done
    ;;
cache)
    args=(train $demo --steps 20 --batch 256 --d-sae 64 -k 8 --max-cells 24 --context 256 --seed 5 --no-eval
        --no-progress "${one[@]}")
    run "$tmp/a.log" "$saeg" "${args[@]}" --cache-activations "$tmp/ca" --output "$tmp/a" &&
        run "$tmp/b.log" "${mpirun[@]}" "$saeg" "${args[@]}" --cache-activations "$tmp/cb" --output "$tmp/b" &&
        run "$tmp/c.log" "$saeg" "${args[@]}" --cache-activations "$tmp/cb" --output "$tmp/c" || exit 1
    if grep -q shard_r0000_ "$tmp/cb/manifest.json" && grep -q shard_r0001_ "$tmp/cb/manifest.json"; then
        echo "cache: the 2 ranks wrote their own shards, listed in one manifest"
    else
        echo "FAIL: cache: the manifest does not list both ranks' shards"
        cat "$tmp/cb/manifest.json"
        fail=1
    fi
    grep -q "reusing" "$tmp/c.log" || { echo "FAIL: cache: 1 process did not reuse the 2-rank cache"; fail=1; }
    echo "cache: 1 process on the 2-rank cache against 1 process on its own cache:"
    "$cmp_st" "$tmp/a/sae/sae_weights.safetensors" "$tmp/c/sae/sae_weights.safetensors" 0 || {
        echo "FAIL: cache: the caches hold different activations"
        fail=1
    }
    echo "cache: 2 ranks against 1 process:"
    "$cmp_st" "$tmp/a/sae/sae_weights.safetensors" "$tmp/b/sae/sae_weights.safetensors" 1e-4 || {
        echo "FAIL: cache: weights differ by more than 1e-4"
        fail=1
    }
    ;;
error)
    # every rank fails on a missing file: the job ends with the error, naming the rank, not a hang
    out=$("${mpirun[@]}" "$saeg" extract --sae "$tmp/none" $demo --output "$tmp/e" "${one[@]}" 2>&1)
    rc=$?
    [ $rc -ne 0 ] || { echo "FAIL: error: mpirun exited 0"; fail=1; }
    for msg in "cannot read $tmp/none" "failed on rank" "stopping every rank"; do
        grep -qF "$msg" <<<"$out" || { echo "FAIL: error: no '$msg' in:"; echo "$out"; fail=1; }
    done
    echo "error: mpirun exited $rc: $(grep -m1 "failed on rank" <<<"$out")"
    ;;
pipeline)
    run "$tmp/p.log" "${mpirun[@]}" "$saeg" pipeline --config configs/pipeline/demo.yaml $demo --output "$tmp/p" \
        --steps 30 --max-cells 16 "${one[@]}" || exit 1
    for f in sae/cfg.json training_log.jsonl eval.json feature_stats.json dashboard.html; do
        [ -s "$tmp/p/$f" ] || { echo "FAIL: pipeline: no $f"; fail=1; }
    done
    n=$(grep -c "^dashboard: " "$tmp/p.log")
    [ "$n" = 1 ] || { echo "FAIL: pipeline: the summary was printed $n times (rank 0 only: once)"; fail=1; }
    echo "pipeline: train -> extract -> dashboard under 2 ranks, summary printed once"
    ;;
kill)
    out="$tmp/k"
    SAEG_TEST_MARK=$$ "${mpirun[@]}" "$saeg" train $demo --steps 100000 --batch 64 --d-sae 32 -k 4 --max-cells 16 \
        --context 128 --no-eval --no-progress --checkpoint-every 5 "${one[@]}" --output "$out" >"$tmp/k.log" 2>&1 &
    job=$!
    for _ in $(seq 300); do [ -f "$out/checkpoint.safetensors" ] && break; sleep 0.1; done
    [ -f "$out/checkpoint.safetensors" ] || { echo "FAIL: kill: no checkpoint appeared"; cat "$tmp/k.log"; exit 1; }
    victim=""
    for d in /proc/[0-9]*; do # rank 1 of this job: our mark and Open MPI's rank in its environment
        env=$(tr '\0' '\n' <"$d/environ" 2>/dev/null) || continue
        if grep -qx "SAEG_TEST_MARK=$$" <<<"$env" && grep -qx "OMPI_COMM_WORLD_RANK=1" <<<"$env"; then
            victim=${d#/proc/}
        fi
    done
    [ -n "$victim" ] || { echo "FAIL: kill: rank 1 not found"; kill "$job"; exit 1; }
    kill -9 "$victim"
    t0=$(date +%s.%N)
    for _ in $(seq 300); do kill -0 "$job" 2>/dev/null || break; sleep 0.1; done
    echo "kill: mpirun ended $(awk "BEGIN { printf \"%.1f\", $(date +%s.%N) - $t0 }") s after rank 1 was killed"
    if kill -0 "$job" 2>/dev/null; then
        echo "FAIL: kill: mpirun still runs 30 s after rank 1 died"
        kill "$job"
        fail=1
    fi
    wait "$job"
    rc=$?
    [ $rc -ne 0 ] || { echo "FAIL: kill: mpirun exited 0"; fail=1; }
    grep -qi "rank 1" "$tmp/k.log" || grep -qi "exited on signal 9" "$tmp/k.log" || {
        echo "FAIL: kill: the message does not say which rank died:"
        fail=1
    }
    echo "kill: mpirun exited $rc, saying:"
    grep -i -m3 "signal\|rank 1" "$tmp/k.log"
    # the checkpoint is whole: resume it in one process to a nearby end
    step=$("$saeg" train $demo --steps 1 --batch 64 --d-sae 32 -k 4 --max-cells 16 --context 128 --no-eval \
        --no-progress "${one[@]}" --output "$out" --resume 2>&1 | grep -o "resuming at step [0-9]*" | grep -o "[0-9]*$")
    [ -n "$step" ] || { echo "FAIL: kill: the checkpoint does not load"; fail=1; }
    run "$tmp/r.log" "$saeg" train $demo --steps $((step + 5)) --batch 64 --d-sae 32 -k 4 --max-cells 16 \
        --context 128 --no-eval --no-progress "${one[@]}" --output "$out" --resume &&
        echo "kill: the checkpoint at step $step resumed to step $((step + 5))"
    ;;
*)
    echo "unknown mode $mode"
    exit 2
    ;;
esac
[ $fail -eq 0 ] && echo "PASS ($mode)"
exit $fail
