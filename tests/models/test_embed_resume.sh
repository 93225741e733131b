#!/usr/bin/env bash
# saeg embed survives being killed: a run killed with SIGKILL (after it recorded progress) or
# stopped with Ctrl-C (SIGINT) continues with --resume and writes a file byte-identical to an
# uninterrupted run's. A finished or interrupted output is never replaced without --overwrite;
# --resume refuses other settings (other --batch, other --context: the header differs) and
# leaves the interrupted file untouched.
#   test_embed_resume.sh path/to/saeg      (run from the repository root)
set -u
saeg=$1
source tests/cli_lib.sh
# batch 2 on 1 thread: 60 batches of the demo model, a second or more of work to interrupt
args="--model examples/tx1-demo/demo-model --data examples/hsmm/hsmm.h5ad --max-cells 120 --layer 1 --batch 2 \
 --context 1024 --device cpu --threads 1"
progress() { sed -n 's/.*"next": \([0-9]*\).*/\1/p' "$1/embeddings.progress.0.json" 2>/dev/null; }
recorded() { # recorded DIR N: DIR's record says at least N cells
    local n
    n=$(progress "$1")
    [ -n "$n" ] && [ "$n" -ge "$2" ]
}

"$saeg" embed $args --output "$tmp/ref" >/dev/null 2>&1 || { echo "FAIL: uninterrupted run"; exit 1; }
ref="$tmp/ref/embeddings.safetensors"
[ -f "$tmp/ref/embeddings.progress.0.json" ] && { echo "FAIL: a finished run left its progress record"; fail=1; }

# SIGKILL after >= 10 recorded cells (records after every batch)
"$saeg" embed $args --output "$tmp/k" --sync-every 0 >/dev/null 2>&1 &
pid=$!
wait_for $pid "a record of 10 cells" -- recorded "$tmp/k" 10 && kill -9 $pid
wait $pid 2>/dev/null
[ -f "$tmp/k/embeddings.safetensors.tmp" ] || { echo "FAIL: the killed run left no .tmp file"; fail=1; }
[ -f "$tmp/k/embeddings.safetensors" ] && { echo "FAIL: a killed run left a finished file"; fail=1; }
done_cells=$(progress "$tmp/k")
before=$(md5sum <"$tmp/k/embeddings.safetensors.tmp")
expect 1 "holds an interrupted embedding (embeddings.safetensors.tmp); pass --resume" -- \
    "$saeg" embed $args --output "$tmp/k"
expect 1 "the interrupted run used --batch 2; resume with it" -- \
    "$saeg" embed ${args/--batch 2/--batch 4} --output "$tmp/k" --resume
expect 1 "was started for other data, model or settings (its header differs); pass --overwrite" -- \
    "$saeg" embed ${args/--context 1024/--context 256} --output "$tmp/k" --resume
[ "$before" = "$(md5sum <"$tmp/k/embeddings.safetensors.tmp")" ] ||
    { echo "FAIL: a refused --resume changed the interrupted file"; fail=1; }
expect 0 "resuming at cell $done_cells ($done_cells of 120 cells already written)" -- \
    "$saeg" embed $args --output "$tmp/k" --resume
cmp -s "$ref" "$tmp/k/embeddings.safetensors" || { echo "FAIL: resumed file differs from the uninterrupted one"; fail=1; }
ls "$tmp/k" | grep -qv '^embeddings.safetensors$' && { echo "FAIL: leftovers: $(ls "$tmp/k")"; fail=1; }
expect 0 "is complete: nothing to resume" -- "$saeg" embed $args --output "$tmp/k" --resume
expect 1 "already holds embeddings.safetensors; pass --overwrite" -- "$saeg" embed $args --output "$tmp/k"
expect 2 "pass --resume or --overwrite, not both" -- "$saeg" embed $args --output "$tmp/k" --resume --overwrite
expect 1 "--resume: $tmp/none holds no interrupted embedding" -- "$saeg" embed $args --output "$tmp/none" --resume

# Ctrl-C: the run records where it is and says how to continue
"$saeg" embed $args --output "$tmp/int" --sync-every 0 >/dev/null 2>"$tmp/int.log" &
pid=$!
wait_for $pid "a record of 4 cells" -- recorded "$tmp/int" 4 && kill -INT $pid
wait $pid
rc=$?
[ $rc -eq 1 ] || { echo "FAIL: SIGINT: exit $rc (want 1)"; cat "$tmp/int.log"; fail=1; }
grep -q "interrupted after .* of 120 cells; they are kept: continue with --resume" "$tmp/int.log" ||
    { echo "FAIL: SIGINT message"; cat "$tmp/int.log"; fail=1; }
"$saeg" embed $args --output "$tmp/int" --resume >/dev/null 2>&1 || { echo "FAIL: resume after SIGINT"; fail=1; }
cmp -s "$ref" "$tmp/int/embeddings.safetensors" || { echo "FAIL: SIGINT-resumed file differs"; fail=1; }

# --overwrite replaces a finished file (here with the same content) and starts an interrupted one afresh
expect 0 "wrote $tmp/k/embeddings.safetensors" -- "$saeg" embed $args --output "$tmp/k" --overwrite
cmp -s "$ref" "$tmp/k/embeddings.safetensors" || { echo "FAIL: --overwrite output differs"; fail=1; }
exit $fail
