#!/usr/bin/env bash
# saeg extract survives being killed: a run killed with SIGKILL after a checkpoint, or stopped
# with Ctrl-C (SIGINT), continues with --resume and writes the three JSON files byte for byte and
# obsm['X_sae'] of the --write-h5ad copy dataset by dataset as an uninterrupted run. An
# interrupted run is never dropped silently (a plain rerun is refused; --overwrite starts
# afresh); --resume refuses other settings, naming the first difference, and leaves the
# checkpoint untouched; a finished run leaves no checkpoint or spool behind.
#   test_extract_resume.sh path/to/saeg path/to/h5-compare      (run from the repository root)
set -u
saeg=$1
h5cmp=$2
source tests/cli_lib.sh
demo="--model examples/tx1-demo/demo-model --data examples/hsmm/hsmm.h5ad"
"$saeg" train $demo --output "$tmp/run" --steps 30 --batch 256 --d-sae 64 -k 8 --max-cells 40 --no-eval \
    --no-progress --device cpu >/dev/null 2>&1 || { echo "FAIL: train"; exit 1; }
# batch 1 on 1 thread: 160 batches, seconds of work to interrupt
ext=("$saeg" extract --sae "$tmp/run" $demo --max-cells 160 --batch 1 --context 1024 --cell-type-key time_point
    --histogram-samples 20 --write-h5ad --device cpu --threads 1)
files="feature_gene_associations.json feature_cell_associations.json feature_stats.json"
next_cell() { head -c 8192 "$1/extract_checkpoint.safetensors" 2>/dev/null | grep -ao '"next_cell":"[0-9]*"' | tr -dc 0-9; }
saved() { # saved DIR N: DIR's checkpoint holds at least N cells
    local n
    n=$(next_cell "$1")
    [ -n "$n" ] && [ "$n" -ge "$2" ]
}
same_as_ref() { # same_as_ref DIR WHAT
    for f in $files; do cmp -s "$tmp/ref/$f" "$1/$f" || { echo "FAIL: $2: $f differs"; fail=1; }; done
    "$h5cmp" "$tmp/ref/hsmm_sae.h5ad" "$1/hsmm_sae.h5ad" /obsm/X_sae/data /obsm/X_sae/indices /obsm/X_sae/indptr \
        >/dev/null || { echo "FAIL: $2: obsm['X_sae'] differs"; fail=1; }
    ls "$1" | grep -q "checkpoint\|spool" && { echo "FAIL: $2: leftovers: $(ls "$1")"; fail=1; }
}

"${ext[@]}" --output "$tmp/ref" >/dev/null 2>&1 || { echo "FAIL: uninterrupted run"; exit 1; }
ls "$tmp/ref" | grep -q "checkpoint\|spool" && { echo "FAIL: a finished run left $(ls "$tmp/ref")"; fail=1; }

# SIGKILL after a checkpoint of >= 20 cells (one after every batch)
"${ext[@]}" --output "$tmp/k" --checkpoint-every 0 >/dev/null 2>&1 &
pid=$!
wait_for $pid "a checkpoint of 20 cells" -- saved "$tmp/k" 20 && kill -9 $pid
wait $pid 2>/dev/null
at=$(next_cell "$tmp/k")
before=$(md5sum <"$tmp/k/extract_checkpoint.safetensors")
expect 1 "holds an interrupted extraction (extract_checkpoint.safetensors); pass --resume" -- \
    "${ext[@]}" --output "$tmp/k"
expect 1 "the interrupted extraction had other settings (top_k_genes was 100, now 5); pass --overwrite" -- \
    "${ext[@]}" --output "$tmp/k" --resume --top-k-genes 5
[ "$before" = "$(md5sum <"$tmp/k/extract_checkpoint.safetensors")" ] ||
    { echo "FAIL: a refused --resume changed the checkpoint"; fail=1; }
expect 0 "resuming at cell $at of 160" -- "${ext[@]}" --output "$tmp/k" --resume
same_as_ref "$tmp/k" "resumed after SIGKILL"
expect 1 "--resume: $tmp/k holds no interrupted extraction" -- "${ext[@]}" --output "$tmp/k" --resume
expect 2 "pass --resume or --overwrite, not both" -- "${ext[@]}" --output "$tmp/k" --resume --overwrite

# Ctrl-C: a checkpoint is saved (none was due: the default interval is 10 minutes)
"${ext[@]}" --output "$tmp/int" >/dev/null 2>"$tmp/int.log" &
pid=$!
wait_for $pid "the first cell" -- grep -qs "on cpu" "$tmp/int.log"
sleep 1
kill -INT $pid
wait $pid
rc=$?
[ $rc -eq 1 ] || { echo "FAIL: SIGINT: exit $rc (want 1)"; cat "$tmp/int.log"; fail=1; }
grep -q "interrupted after .* of 160 cells; the checkpoint is saved: continue with --resume" "$tmp/int.log" ||
    { echo "FAIL: SIGINT message"; cat "$tmp/int.log"; fail=1; }
"${ext[@]}" --output "$tmp/int" --resume >/dev/null 2>&1 || { echo "FAIL: resume after SIGINT"; fail=1; }
same_as_ref "$tmp/int" "resumed after SIGINT"

# --overwrite drops an interrupted run's checkpoint and starts afresh
"${ext[@]}" --output "$tmp/o" --checkpoint-every 0 >/dev/null 2>&1 &
pid=$!
wait_for $pid "a checkpoint of 5 cells" -- saved "$tmp/o" 5 && kill -9 $pid
wait $pid 2>/dev/null
expect 0 "wrote $tmp/o/feature_gene_associations.json" -- "${ext[@]}" --output "$tmp/o" --overwrite
same_as_ref "$tmp/o" "--overwrite"
exit $fail
