#!/usr/bin/env bash
# saeg train, saeg eval and saeg bench sae from the command line: usage errors exit 2 naming the
# option; failures exit 1 naming the file or the value; a short run of the demo model on the HSMM
# data writes every output (sae/ in SAELens layout, training_log.jsonl, eval.json with loss
# recovered, the checkpoint) and saeg eval reads it back.
#   test_train_cli.sh path/to/saeg      (run from the repository root)
set -u
saeg=$1
source tests/cli_lib.sh
demo="--model examples/tx1-demo/demo-model --data examples/hsmm/hsmm.h5ad"
tiny="--model $fix/tiny_relu --data $fix/cells.h5ad"

# usage errors
expect 2 "--data and --output are required" -- "$saeg" train --output "$tmp/x"
expect 2 "unknown SAE architecture 'dense'" -- "$saeg" train $tiny --output "$tmp/x" --architecture dense
expect 2 "-k '0': expected an integer in 1.." -- "$saeg" train $tiny --output "$tmp/x" -k 0
expect 2 "-k 100 exceeds --d-sae 64" -- "$saeg" train $tiny --output "$tmp/x" -k 100 --d-sae 64
expect 2 "--tokens 'words': expected genes, cls or all" -- "$saeg" train $tiny --output "$tmp/x" --tokens words
expect 2 "--lr '-1': expected a number >= 0" -- "$saeg" train $tiny --output "$tmp/x" --lr -1
expect 2 "--cache-dtype 'f16': expected bf16 or f32" -- "$saeg" train $tiny --output "$tmp/x" --cache-dtype f16
expect 2 "--jumprelu-loss 'l2': expected step or tanh" -- "$saeg" train $tiny --output "$tmp/x" --jumprelu-loss l2
expect 2 "matryoshka widths must increase" -- "$saeg" train $tiny --output "$tmp/x" --d-sae 64 \
    --architecture matryoshka --matryoshka-widths 32,16
expect 2 "pass --model or --model-size, not both" -- "$saeg" train $tiny --model-size 70m --output "$tmp/x"
expect 2 "unexpected argument 'extra'" -- "$saeg" train $tiny --output "$tmp/x" extra
expect 0 "--cache-activations DIR" -- "$saeg" train --help
expect 2 "--sae and --data are required" -- "$saeg" eval --data x.h5ad

# failures that name what is wrong
expect 1 "--layer 7: the model has blocks 0..2" -- "$saeg" train $tiny --output "$tmp/x" --layer 7 --device cpu
expect 1 "no-such.h5ad" -- "$saeg" train --model $fix/tiny_relu --data "$tmp/no-such.h5ad" --output "$tmp/x" \
    --device cpu
expect 1 "nothing to resume" -- "$saeg" train $tiny --output "$tmp/fresh" --resume --device cpu
expect 1 "shuffle pool of 100 tokens must hold at least two batches of 64" -- "$saeg" train $tiny \
    --output "$tmp/x" --batch 64 --shuffle-pool 100 --device cpu

# a short run end to end: demo model, HSMM cells, every output
out=$("$saeg" train $demo --output "$tmp/run" --steps 40 --batch 512 --d-sae 256 -k 8 --max-cells 40 \
      --eval-cells 8 --eval-tokens 20000 --log-every 10 --device cpu --no-progress 2>&1)
rc=$?
[ $rc -eq 0 ] || { echo "FAIL: saeg train exited $rc"; echo "$out"; fail=1; }
for f in sae/cfg.json sae/sae_weights.safetensors sae/sparsity.safetensors training_log.jsonl eval.json \
         checkpoint.safetensors; do
    [ -s "$tmp/run/$f" ] || { echo "FAIL: $f missing"; fail=1; }
done
[ "$(wc -l < "$tmp/run/training_log.jsonl")" -eq 4 ] || { echo "FAIL: training_log.jsonl"; fail=1; }
grep -q '"step":40,"loss":' "$tmp/run/training_log.jsonl" || { echo "FAIL: no step 40 in the log"; fail=1; }
for key in '"explained_variance"' '"loss_recovered"' '"loss_ablation"' '"density_histogram"' '"dead_fraction"'; do
    grep -q "$key" "$tmp/run/eval.json" || { echo "FAIL: eval.json has no $key"; fail=1; }
done
grep -q '"hook_name":.*"transformer_encoder.layers.1"' "$tmp/run/sae/cfg.json" \
    || { echo "FAIL: cfg.json hook_name (the middle block of 2 is 1)"; fail=1; }

# a second fresh run into the same folder is refused and changes nothing; --overwrite replaces it
before=$(md5sum "$tmp/run/sae/sae_weights.safetensors" "$tmp/run/checkpoint.safetensors")
expect 1 "$tmp/run already holds a training run (checkpoint.safetensors, sae/); pass --resume" -- "$saeg" train \
    $demo --output "$tmp/run" --steps 4 --batch 512 --d-sae 256 -k 8 --max-cells 40 --no-eval --device cpu
[ "$(md5sum "$tmp/run/sae/sae_weights.safetensors" "$tmp/run/checkpoint.safetensors")" = "$before" ] \
    || { echo "FAIL: a refused run changed the SAE or the checkpoint"; fail=1; }
cp -r "$tmp/run" "$tmp/run2"
rm "$tmp/run2/checkpoint.safetensors"
expect 1 "$tmp/run2 already holds a training run (sae/)" -- "$saeg" train $demo --output "$tmp/run2" --steps 4 \
    --device cpu
expect 0 "wrote $tmp/run2/sae" -- "$saeg" train $demo --output "$tmp/run2" --steps 4 --batch 512 --d-sae 256 -k 8 \
    --max-cells 40 --no-eval --device cpu --overwrite --no-progress
[ "$(cat "$tmp/run2/training_log.jsonl" | wc -l)" -eq 1 ] && grep -q '"step":4,' "$tmp/run2/training_log.jsonl" \
    || { echo "FAIL: --overwrite did not start afresh"; fail=1; }
[ ! -e "$tmp/run2/eval.json" ] || { echo "FAIL: --overwrite --no-eval kept the old run's eval.json"; fail=1; }

# saeg eval on it: layer and tokens come from cfg.json; eval.json lands next to sae/ unless told
expect 0 "loss recovered" -- "$saeg" eval --sae "$tmp/run/sae" $demo --max-cells 20 --eval-cells 4 \
    --output "$tmp/eval2.json" --device cpu
grep -q '"l0":	8' "$tmp/eval2.json" || { echo "FAIL: eval2.json L0 is not 8"; cat "$tmp/eval2.json"; fail=1; }
# an SAE of another width than the model's
expect 1 "the SAE takes d_in = 32 but the model" -- "$saeg" eval --sae "$tmp/run/sae" \
    --model $fix/tiny_gelu_bf16 --data $fix/cells.h5ad --device cpu

# a penalty far too strong or far too weak is said once, with the option to change
short="--steps 40 --batch 64 --d-sae 64 --architecture standard --penalty-warmup 0 --no-eval --device cpu"
out=$("$saeg" train $tiny --output "$tmp/strong" $short --l1-coef 500 2>&1)
[ "$(grep -c "silences nearly every latent" <<<"$out")" -eq 1 ] && grep -q "(--l1-coef 500)" <<<"$out" \
    || { echo "FAIL: no single warning about a silencing penalty"; echo "$out"; fail=1; }
out=$("$saeg" train $tiny --output "$tmp/weak" $short --l1-coef 0.0001 2>&1)
grep -q "the code is hardly sparse (--l1-coef 0.0001 is weak" <<<"$out" \
    || { echo "FAIL: no warning about a weak penalty"; echo "$out"; fail=1; }
grep -q "silences" <<<"$out" && { echo "FAIL: a weak penalty was called silencing"; fail=1; }

# the benchmark runs and reports tokens/s
expect 0 "tokens/s" -- "$saeg" bench sae --d-in 64 --d-sae 256 -k 8 --batch 256 --steps 2 --device cpu --no-torch
expect 2 "bad value '0' for -k" -- "$saeg" bench sae -k 0

exit $fail
