#!/usr/bin/env bash
# saeg extract end to end on the tiny test model: usage errors exit 2 naming the option; an SAE of
# another width or layer, and missing columns, exit 1 naming what is wrong; a real run writes the
# three files, which `saeg dashboard` and `saeg validate` accept; the --write-h5ad copy passes the
# HDF5 check (test-extract-h5ad); and when numpy/scipy/h5py (and anndata) are installed, every
# number is recomputed independently (check_extract_reference.py, check_h5ad_anndata.py): on the
# CPU, with cells cut to a short context (subsampled genes), and on Vulkan and OpenCL when present.
#   test_extract_cli.sh path/to/saeg path/to/test-extract-h5ad      (run from the repository root)
set -u
saeg=$1
h5check=$2
source tests/cli_lib.sh
data="--data $fix/cells.h5ad"

# two SAEs: one for the 32-wide model, one for the 48-wide model (the mismatch)
"$saeg" train --model $fix/tiny_relu $data --output "$tmp/run" --steps 40 --batch 64 --d-sae 24 -k 4 \
    --no-eval --device cpu --no-progress >/dev/null 2>&1 || { echo "FAIL: train"; exit 1; }
"$saeg" train --model $fix/tiny_gelu_bf16 $data --output "$tmp/wide" --steps 2 --batch 64 --d-sae 16 -k 2 \
    --no-eval --device cpu --no-progress >/dev/null 2>&1 || { echo "FAIL: train (wide)"; exit 1; }
ext="$saeg extract --sae $tmp/run $data --model $fix/tiny_relu --device cpu"

# usage errors
expect 2 "--sae, --data and --output are required" -- "$saeg" extract $data --output "$tmp/x"
expect 2 "--rank-by 'median': expected mean, sum or max" -- $ext --output "$tmp/x" --rank-by median
expect 2 "--top-k-genes '-1': expected a whole number" -- $ext --output "$tmp/x" --top-k-genes -1
expect 2 "unknown option '--bogus'" -- $ext --output "$tmp/x" --bogus
expect 2 "pass --model or --model-size, not both" -- $ext --output "$tmp/x" --model-size 70m
expect 0 "--write-h5ad[=FILE]" -- "$saeg" extract --help

# failures that name what is wrong
expect 1 "takes d_in = 48 but the model $fix/tiny_relu has width d_model = 32" -- \
    "$saeg" extract --sae "$tmp/wide/sae" $data --model $fix/tiny_relu --output "$tmp/x" --device cpu
expect 1 "--layer 2: the SAE in $tmp/run/sae was trained on layer 1" -- $ext --output "$tmp/x" --layer 2
expect 1 "obs has no column 'tissue' (columns: cell_type, batch" -- $ext --output "$tmp/x" --cell-type-key tissue
expect 1 "var has no column 'nope' (columns: ensembl_id, feature_name)" -- $ext --output "$tmp/x" --symbol-key nope
expect 1 "that is the input file" -- $ext --output "$tmp/x" --write-h5ad=$fix/cells.h5ad
expect 1 "cannot read $tmp/none/cfg.json" -- "$saeg" extract --sae "$tmp/none" $data --model $fix/tiny_relu \
    --output "$tmp/x" --device cpu

# the run: --sae given as the run folder, detected symbols and cell types
expect 0 "symbols: var feature_name; cell types: obs cell_type" -- $ext --output "$tmp/run" --write-h5ad \
    --top-k-genes 5 --top-k-cells 4
for f in feature_gene_associations.json feature_cell_associations.json feature_stats.json cells_sae.h5ad; do
    [ -s "$tmp/run/$f" ] || { echo "FAIL: $f missing"; fail=1; }
done
ls "$tmp/run"/*.tmp >/dev/null 2>&1 && { echo "FAIL: temporary files left"; fail=1; }

# the readers of these files accept them
expect 0 "dashboard: $tmp/run/dashboard.html" -- "$saeg" dashboard --results "$tmp/run"
expect 0 "" -- "$saeg" validate --results "$tmp/run" --config tests/validation/fixtures/validation-test.yaml \
    --offline --sources go
[ -s "$tmp/run/validation/summary.json" ] || { echo "FAIL: validate wrote no summary"; fail=1; }
grep -q '"background_genes"' "$tmp/run/validation/summary.json" || { echo "FAIL: no background in summary"; fail=1; }

# the h5ad copy, with HDF5 alone
"$h5check" $fix/cells.h5ad "$tmp/run/cells_sae.h5ad" "$tmp/run" || { echo "FAIL: test-extract-h5ad"; fail=1; }

# independent recomputation (numpy, scipy, h5py) and anndata, where installed
py=""
for p in /usr/bin/python3 python3; do
    if command -v "$p" >/dev/null && "$p" -c "import numpy, scipy, h5py" 2>/dev/null; then py=$p; break; fi
done
if [ -n "$py" ]; then
    "$saeg" embed --model $fix/tiny_relu $data --output "$tmp/emb" --layer 1 --context 64 --device cpu >/dev/null 2>&1 ||
        { echo "FAIL: embed"; fail=1; }
    "$py" tests/extract/check_extract_reference.py "$tmp/run" "$tmp/emb/embeddings.safetensors" $fix/cells.h5ad \
        $fix/tiny_relu "$tmp/run/cells_sae.h5ad" || fail=1
    # cells longer than the context keep a seeded subset of their genes: tokens still map to theirs
    $ext --output "$tmp/short" --context 16 --top-k-genes 5 --top-k-cells 4 >/dev/null 2>&1 ||
        { echo "FAIL: extract --context 16"; fail=1; }
    "$saeg" embed --model $fix/tiny_relu $data --output "$tmp/emb16" --layer 1 --context 16 --device cpu \
        >/dev/null 2>&1 || { echo "FAIL: embed --context 16"; fail=1; }
    "$py" tests/extract/check_extract_reference.py "$tmp/short" "$tmp/emb16/embeddings.safetensors" \
        $fix/cells.h5ad $fix/tiny_relu || fail=1
    # the GPU backends, where a driver is present (lavapipe and PoCL on CI machines)
    for dev in vulkan opencl; do
        "$saeg" devices 2>/dev/null | grep -q "^  $dev  *available" || continue
        $ext --output "$tmp/$dev" --device $dev --top-k-genes 5 --top-k-cells 4 >/dev/null 2>&1 ||
            { echo "FAIL: extract --device $dev"; fail=1; continue; }
        "$py" tests/extract/check_extract_reference.py "$tmp/$dev" "$tmp/emb/embeddings.safetensors" \
            $fix/cells.h5ad $fix/tiny_relu || { echo "FAIL: --device $dev"; fail=1; }
    done
    "$py" tests/extract/check_h5ad_anndata.py $fix/cells.h5ad "$tmp/run/cells_sae.h5ad" "$tmp/run"
    rc=$?
    [ $rc -eq 0 ] || [ $rc -eq 77 ] || fail=1
else
    echo "note: numpy/scipy/h5py not installed; the independent recomputation was skipped"
fi

[ $fail -eq 0 ] && echo "test_extract_cli: ok"
exit $fail
