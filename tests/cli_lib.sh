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
