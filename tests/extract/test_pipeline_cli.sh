#!/usr/bin/env bash
# saeg pipeline from the command line: usage errors exit 2 naming the option; config errors exit 1
# naming file and key; --dry-run shows each setting's source (command line over --config over
# configs/training/default.yaml over the built-in); a run on the tiny test model writes every
# output; --skip-training reuses sae/ (missing or of another width: exit 1, saying so);
# --skip-training --skip-extraction rewrites only the dashboard; --skip-dashboard writes none;
# validation enabled in the config runs before the dashboard; the demo settings show HSMM symbols.
#   test_pipeline_cli.sh path/to/saeg      (run from the repository root)
set -u
saeg=$1
source tests/cli_lib.sh
tiny="--model $fix/tiny_relu --data $fix/cells.h5ad"

sum() { (cd "$1" && md5sum sae/cfg.json sae/sae_weights.safetensors feature_*.json); }

cat >"$tmp/small.yaml" <<'EOF'
training:
  sae: {activation: topk, d_sae: 24, k: 4}
  batch_size: 64
  total_training_steps: 500
  eval: false
model:
  device: cpu
data:
  cell_type_key: cell_type
extraction:
  top_k_genes: 5
  top_k_cells: 4
EOF
printf 'training:\n  total_training_steps: lots\n' >"$tmp/bad.yaml"
cfg="--config $tmp/small.yaml"

# usage errors
expect 2 "--output DIR is required" -- "$saeg" pipeline $tiny
expect 2 "--data FILE is required" -- "$saeg" pipeline --output "$tmp/x"
expect 2 "--model-size '2b': expected 70m, 1.3b (or 1b) or 3b" -- "$saeg" pipeline --data x --output "$tmp/x" \
    --model-size 2b
expect 2 "--device 'tpu': expected auto, cuda[:N], vulkan[:N], opencl[:N] or cpu" -- "$saeg" pipeline $tiny \
    --output "$tmp/x" --device tpu
expect 2 "--steps 'abc': expected an integer in 1.." -- "$saeg" pipeline $tiny --output "$tmp/x" --steps abc
expect 2 "--top-n-features '0': expected a positive integer or all" -- "$saeg" pipeline $tiny --output "$tmp/x" \
    --top-n-features 0
expect 2 "pass --model or --model-size, not both" -- "$saeg" pipeline $tiny --model-size 70m --output "$tmp/x"
expect 2 "unknown option '--bogus'" -- "$saeg" pipeline $tiny --output "$tmp/x" --bogus
expect 0 "--skip-training" -- "$saeg" pipeline --help

# config errors
expect 1 "$tmp/bad.yaml: training.total_training_steps: expected an integer in 1.." -- "$saeg" pipeline $tiny \
    --output "$tmp/x" --config "$tmp/bad.yaml"
expect 1 "$tmp/none.yaml" -- "$saeg" pipeline $tiny --output "$tmp/x" --config "$tmp/none.yaml"

# precedence, as --dry-run reports it (configs/training/default.yaml is read from the working folder)
out=$("$saeg" pipeline $tiny --output "$tmp/x" $cfg --steps 30 --top-k-cells 3 --dry-run 2>&1)
want=("training.total_training_steps  30 .*command line"
      "extraction.top_k_cells  *3 .*command line"
      "extraction.top_k_genes  *5 .*$tmp/small.yaml"
      "training.sae.d_sae  *24 .*$tmp/small.yaml"
      "training.seed  *0 .*configs/training/default.yaml"
      "dashboard.top_n_features  *100 .*built-in"
      "model.path  *$fix/tiny_relu .*command line"
      "steps: train -> extract -> dashboard")
for w in "${want[@]}"; do grep -q -- "$w" <<<"$out" || { echo "FAIL: --dry-run lacks '$w'"; echo "$out"; fail=1; }; done
grep -q "tx1_70m.yaml" <<<"$out" && { echo "FAIL: a model folder must not read the size preset"; fail=1; }
out=$("$saeg" pipeline --data x --output "$tmp/x" --model-size 3b --dry-run 2>&1)
grep -q "model.context_length  *2048 .*configs/models/tx1_3b.yaml" <<<"$out" ||
    { echo "FAIL: --model-size 3b did not read configs/models/tx1_3b.yaml"; echo "$out"; fail=1; }
[ ! -e "$tmp/x" ] || { echo "FAIL: --dry-run created the output folder"; fail=1; }

# --skip-training without an SAE
expect 1 "--skip-training: $tmp/fresh/sae/cfg.json does not exist" -- "$saeg" pipeline $tiny $cfg \
    --output "$tmp/fresh" --skip-training

# the whole run
expect 0 "dashboard: $tmp/run/dashboard.html" -- "$saeg" pipeline $tiny $cfg --output "$tmp/run" --steps 30
for f in sae/cfg.json sae/sae_weights.safetensors training_log.jsonl feature_gene_associations.json \
         feature_cell_associations.json feature_stats.json dashboard.html; do
    [ -s "$tmp/run/$f" ] || { echo "FAIL: $f missing after the run"; fail=1; }
done
grep -q '"total_training_steps"\|"step":30,' "$tmp/run/training_log.jsonl" ||
    { echo "FAIL: --steps 30 did not override the config's 500"; fail=1; }

# training again into the same folder is refused before anything runs: sae/ is untouched
before=$(sum "$tmp/run")
expect 1 "$tmp/run already holds a training run (checkpoint.safetensors, sae/); pass --resume to continue it, --overwrite" \
    -- "$saeg" pipeline $tiny $cfg --output "$tmp/run" --steps 30
[ "$(sum "$tmp/run")" = "$before" ] || { echo "FAIL: a refused run changed files"; fail=1; }
# --resume continues from the checkpoints there (training: none of its 30 steps left) to the same files
expect 0 "dashboard: $tmp/run/dashboard.html" -- "$saeg" pipeline $tiny $cfg --output "$tmp/run" --steps 30 --resume
[ "$(sum "$tmp/run")" = "$before" ] || { echo "FAIL: --resume of a finished run changed its files"; fail=1; }
expect 1 "pass --resume or --overwrite, not both" -- "$saeg" pipeline $tiny $cfg --output "$tmp/run" --resume \
    --overwrite

# only the dashboard: sae/ and the extraction files stay as they were
rm "$tmp/run/dashboard.html"
expect 0 "dashboard: $tmp/run/dashboard.html" -- "$saeg" pipeline --output "$tmp/run" --skip-training \
    --skip-extraction
[ "$(sum "$tmp/run")" = "$before" ] || { echo "FAIL: --skip-training --skip-extraction changed files"; fail=1; }
[ -s "$tmp/run/dashboard.html" ] || { echo "FAIL: the dashboard was not rewritten"; fail=1; }

# extraction again from the existing SAE, no dashboard
rm "$tmp/run/dashboard.html" "$tmp/run/feature_stats.json"
expect 0 "run folder: $tmp/run" -- "$saeg" pipeline $tiny $cfg --output "$tmp/run" --skip-training --skip-dashboard
[ -s "$tmp/run/feature_stats.json" ] || { echo "FAIL: --skip-training did not extract"; fail=1; }
[ ! -e "$tmp/run/dashboard.html" ] || { echo "FAIL: --skip-dashboard wrote a dashboard"; fail=1; }
cmp -s <(cd "$tmp/run" && md5sum sae/sae_weights.safetensors) <(grep sae_weights <<<"$before") ||
    { echo "FAIL: --skip-training retrained"; fail=1; }

# a reused SAE keeps its layer: another --layer is refused (a config's layer is not imposed on it)
expect 1 "--layer 2: the SAE in $tmp/run/sae was trained on layer 1" -- "$saeg" pipeline $tiny $cfg \
    --output "$tmp/run" --skip-training --skip-dashboard --layer 2

# an SAE of another width (the 48-wide model's) in sae/
mkdir -p "$tmp/wide"
"$saeg" train --model $fix/tiny_gelu_bf16 --data $fix/cells.h5ad --output "$tmp/wide" --steps 2 --batch 64 \
    --d-sae 16 -k 2 --no-eval --device cpu --no-progress >/dev/null 2>&1 || { echo "FAIL: train (wide)"; fail=1; }
expect 1 "--skip-training: the SAE in $tmp/wide/sae takes d_in = 48 but the model $fix/tiny_relu has width d_model = 32" \
    -- "$saeg" pipeline $tiny $cfg --output "$tmp/wide" --skip-training

# validation enabled in the config runs, and before the dashboard, which then shows it
cat >"$tmp/val.yaml" <<'EOF'
validation:
  enabled: true
  config: tests/validation/fixtures/validation-test.yaml
  offline: true
EOF
out=$("$saeg" pipeline --output "$tmp/run" --skip-training --skip-extraction --config "$tmp/val.yaml" 2>&1)
[ $? -eq 0 ] || { echo "FAIL: pipeline with validation"; echo "$out"; fail=1; }
grep -q "pipeline: validate -> dashboard" <<<"$out" || { echo "FAIL: plan"; echo "$out"; fail=1; }
[ -s "$tmp/run/validation/summary.json" ] || { echo "FAIL: no validation/summary.json"; fail=1; }
grep -q '"validation":{"summary":{"schema":"saeg.validation.summary/1"' "$tmp/run/dashboard.html" ||
    { echo "FAIL: the dashboard does not carry the validation results"; fail=1; }

# the demo's settings on 40 HSMM cells: real gene symbols reach the dashboard, and the h5ad copy is written
expect 0 "dashboard: $tmp/demo/dashboard.html" -- "$saeg" pipeline --config configs/pipeline/demo.yaml \
    --data examples/hsmm/hsmm.h5ad --model examples/tx1-demo/demo-model --output "$tmp/demo" --steps 20 \
    --max-cells 40 --device cpu
grep -q '"symbol_key":"gene_short_name"' "$tmp/demo/feature_gene_associations.json" ||
    { echo "FAIL: HSMM symbols not found"; fail=1; }
sym=$(grep -o '"symbol":"[^"]*"' "$tmp/demo/feature_gene_associations.json" | head -1 | cut -d'"' -f4)
[ -n "$sym" ] && grep -qF "\"$sym\"" "$tmp/demo/dashboard.html" ||
    { echo "FAIL: the dashboard does not show the gene symbol '$sym'"; fail=1; }
[ -s "$tmp/demo/hsmm_sae.h5ad" ] || { echo "FAIL: the demo's h5ad copy is missing"; fail=1; }

[ $fail -eq 0 ] && echo "test_pipeline_cli: ok"
exit $fail
