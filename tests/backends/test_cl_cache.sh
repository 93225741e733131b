#!/usr/bin/env bash
# The OpenCL program-binary cache: a second run loads what the first built; a corrupt entry is
# rebuilt, never trusted; the folder is trimmed to SAEG_OPENCL_CACHE_MAX_MB, least recently used
# first, sparing entries just used or stored; temporary files left by a dead writer go after an
# hour; files that are not cache entries are never touched. Exits 77 when there is no OpenCL
# device.
#   test_cl_cache.sh path/to/test-backend-ops      (run from the repository root)
set -u
tbo=$1
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export XDG_CACHE_HOME=$tmp/cache
dir=$XDG_CACHE_HOME/saeg/opencl
run() { SAEG_LOG=debug "$tbo" test -b opencl -o add,matmul "$@" >"$tmp/out" 2>&1; }

run
rc=$?
if [ $rc -eq 77 ]; then
    echo "SKIP: no OpenCL device"
    exit 77
fi
[ $rc -eq 0 ] || { echo "FAIL: first run exited $rc"; cat "$tmp/out"; exit 1; }
n=$(find "$dir" -name '*.clbin' 2>/dev/null | wc -l)
[ "$n" -ge 1 ] || { echo "FAIL: the first run stored no program binary in $dir"; exit 1; }

# a second run loads from the cache
run || { echo "FAIL: second run"; cat "$tmp/out"; fail=1; }
grep -q "loaded from the cache" "$tmp/out" || { echo "FAIL: the second run did not use the cache"; fail=1; }

# a corrupt entry (one flipped byte in the payload) is rebuilt and stored again
for f in "$dir"/*.clbin; do printf '\377' | dd of="$f" bs=1 seek=200 conv=notrunc status=none; done
run || { echo "FAIL: run with corrupt entries"; cat "$tmp/out"; fail=1; }
grep -q "stale or corrupt; rebuilding" "$tmp/out" || { echo "FAIL: the corrupt entry was not noticed"; fail=1; }
run || fail=1
grep -q "loaded from the cache" "$tmp/out" || { echo "FAIL: the rebuilt entry was not stored again"; fail=1; }

# pruning: 6 MiB of old orphaned entries against a 5 MiB cap (trimmed to 3/4 of it). The run
# loads the basic program (its 'add') and then builds and stores the matmul program, which
# triggers the trim; the basic entry is dated older than everything, so only the hit itself
# can save it, and the entry just stored must be spared too.
rm -f "$dir"/*.clbin
SAEG_LOG=debug "$tbo" test -b opencl -o add >"$tmp/out" 2>&1 || fail=1
basic=$(find "$dir" -name '*.clbin' -printf '%f\n')
run || fail=1
matmul=$(find "$dir" -name '*.clbin' ! -name "$basic" -printf '%f\n')
[ -n "$basic" ] && [ -n "$matmul" ] || { echo "FAIL: expected one entry per program ($basic, $matmul)"; fail=1; }
rm -f "$dir/$matmul"
touch -d "2019-01-01" "$dir/$basic"
for i in 1 2 3; do
    head -c 2097152 /dev/zero >"$dir/old$i.clbin"
    touch -d "2020-01-0$i" "$dir/old$i.clbin"
done
head -c 100 /dev/zero >"$dir/abc.clbin.tmp.123.0"
touch -d "2020-01-01" "$dir/abc.clbin.tmp.123.0"
head -c 100 /dev/zero >"$dir/def.clbin.tmp.124.0" # a writer that may still be running
echo keep >"$dir/notes.txt"
SAEG_OPENCL_CACHE_MAX_MB=5 run || { echo "FAIL: run with a 5 MiB cap"; cat "$tmp/out"; fail=1; }
grep -q "removed the 2 least recently used" "$tmp/out" \
    || { echo "FAIL: expected the two oldest entries to go"; grep "program cache" "$tmp/out"; ls -l "$dir"; fail=1; }
[ ! -e "$dir/old1.clbin" ] && [ ! -e "$dir/old2.clbin" ] && [ -e "$dir/old3.clbin" ] \
    || { echo "FAIL: wrong entries removed"; ls -l "$dir"; fail=1; }
[ -e "$dir/$basic" ] || { echo "FAIL: the entry this run loaded was removed"; fail=1; }
[ -e "$dir/$matmul" ] || { echo "FAIL: the entry this run stored was removed"; fail=1; }
[ ! -e "$dir/abc.clbin.tmp.123.0" ] || { echo "FAIL: a stale temporary file was kept"; fail=1; }
[ -e "$dir/def.clbin.tmp.124.0" ] || { echo "FAIL: a fresh temporary file was removed"; fail=1; }
[ -e "$dir/notes.txt" ] || { echo "FAIL: a file that is not a cache entry was removed"; fail=1; }

# a bad cap is reported and the default used
rm -f "$dir"/*.clbin
SAEG_OPENCL_CACHE_MAX_MB=lots run || fail=1
grep -q "SAEG_OPENCL_CACHE_MAX_MB='lots' is not a size in MiB" "$tmp/out" \
    || { echo "FAIL: a bad cap was not reported"; fail=1; }

[ $fail -eq 0 ] && echo "OK: OpenCL program cache"
exit $fail
