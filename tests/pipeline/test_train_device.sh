#!/usr/bin/env bash
# A short SAE training run on a GPU backend (vulkan, opencl, cuda) against the same run on the CPU:
# the tiny test model's activations (short context, so lavapipe is quick), a TopK SAE, the same
# seed. The logged losses and the evaluation must match the CPU run to float32 rounding (the
# kernels sum in other orders; 1e-3 relative leaves room for that and none for a wrong kernel,
# which changes the loss at the first logged step). Exits 77 (skipped) when the device is not
# present.
#   small (default): the whole step graph must run on the device (no CPU fallback).
#   big: d_sae 16384 x batch 4096, whose 256 MiB encoder output exceeds what one storage buffer
#        holds on lavapipe (128 MiB): those nodes must fall back to the CPU, not fail the run.
#   test_train_device.sh path/to/saeg DEVICE [small|big]     (run from the repository root)
set -u
saeg=$1
device=$2
mode=${3:-small}
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if ! "$saeg" devices 2>/dev/null | grep -qE "^  $device:0 "; then
    echo "SKIP: no $device device"
    exit 77
fi

if [ "$mode" = big ]; then
    shape=(--steps 3 --batch 4096 --d-sae 16384 --shuffle-pool 8192 --log-every 1 --no-eval)
    d_sae=16384
else
    shape=(--steps 30 --batch 256 --d-sae 256 --max-cells 8 --eval-cells 2 --eval-tokens 4000 --log-every 10)
    d_sae=256
fi
run() { # run NAME DEVICE
    "$saeg" train --model tests/models/fixtures/tiny_relu --data tests/models/fixtures/cells.h5ad --output "$tmp/$1" \
        -k 8 "${shape[@]}" --seed 7 --device "$2" --no-progress >"$tmp/$1.log" 2>&1
}
run cpu cpu || { echo "FAIL: the CPU run exited $?"; cat "$tmp/cpu.log"; exit 1; }
if ! run dev "$device"; then
    echo "FAIL: saeg train --device $device exited non-zero"
    cat "$tmp/dev.log"
    exit 1
fi
grep -q "train: topk SAE 32 -> $d_sae (k 8) on $device:0" "$tmp/dev.log" \
    || { echo "FAIL: the run did not train on $device:0"; cat "$tmp/dev.log"; fail=1; }
if [ "$mode" = small ] && grep -q "run on the cpu because" "$tmp/dev.log"; then
    echo "FAIL: part of the step graph fell back to the CPU"
    grep "run on the cpu because" "$tmp/dev.log"
    fail=1
fi
grep "run on the cpu because" "$tmp/dev.log"

# every logged value and every evaluation figure against the CPU run
python3 - "$tmp/cpu" "$tmp/dev" "$mode" <<'EOF' || fail=1
import json, sys
cpu, dev, mode = sys.argv[1], sys.argv[2], sys.argv[3]
bad = 0
def close(what, a, b, rtol=1e-3, atol=1e-5):
    global bad
    if abs(a - b) > atol + rtol * abs(a):
        print(f"FAIL: {what}: cpu {a} vs device {b}")
        bad = 1
logs = [[json.loads(l) for l in open(f"{d}/training_log.jsonl")] for d in (cpu, dev)]
if len(logs[0]) != 3 or len(logs[1]) != 3:  # 3 logged steps in either mode
    print(f"FAIL: expected 3 log lines, got {len(logs[0])} and {len(logs[1])}")
    sys.exit(1)
for a, b in zip(*logs):
    for key in ("loss", "mse", "l0", "explained_variance", "dead_fraction", "lr"):
        close(f"step {a['step']} {key}", a[key], b[key])
if mode == "big":
    sys.exit(bad)
evals = [json.load(open(f"{d}/eval.json")) for d in (cpu, dev)]
for key in ("l0", "explained_variance", "cosine", "dead_fraction"):
    close(f"eval {key}", evals[0][key], evals[1][key], rtol=2e-3)
close("eval loss recovered", evals[0]["loss_recovered"]["score"], evals[1]["loss_recovered"]["score"], rtol=2e-3)
if evals[1]["l0"] != 8:
    print(f"FAIL: eval L0 on the device is {evals[1]['l0']}, not k = 8")
    bad = 1
first, last = logs[1][0]["loss"], logs[1][-1]["loss"]
if not last < first:
    print(f"FAIL: the device run did not learn: loss {first} -> {last}")
    bad = 1
sys.exit(bad)
EOF

[ $fail -eq 0 ] && echo "OK: $device training ($mode) matches the CPU run"
exit $fail
