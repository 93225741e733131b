# Shared by the command-line test scripts (sourced, run from the repository root):
#   source tests/cli_lib.sh     -> $tmp (removed on exit), $fix, $fail, expect
#   expect RC MESSAGE -- command...   the command must exit RC and print MESSAGE (stdout or stderr)
#   ...
#   exit $fail
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fix=tests/models/fixtures

expect() {
    local want=$1 msg=$2
    shift 3
    local out rc
    out=$("$@" 2>&1)
    rc=$?
    if [ $rc -ne "$want" ]; then echo "FAIL: exit $rc (want $want): $*"; echo "$out"; fail=1; return; fi
    if ! grep -qF -- "$msg" <<<"$out"; then echo "FAIL: expected '$msg' from: $*"; echo "$out"; fail=1; fi
}

# wait_for PID WHAT -- command...: polls the command (every 0.05 s, up to 2 minutes on a loaded
# machine) until it succeeds; fails the test, naming WHAT, if PID ends first or time runs out.
wait_for() {
    local pid=$1 what=$2
    shift 3
    for _ in $(seq 2400); do
        "$@" && return 0
        kill -0 "$pid" 2>/dev/null || { echo "FAIL: the run ended before $what"; fail=1; return 1; }
        sleep 0.05
    done
    echo "FAIL: no $what after 2 minutes"
    fail=1
    return 1
}
