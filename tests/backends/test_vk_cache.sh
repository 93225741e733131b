#!/usr/bin/env bash
# The Vulkan pipeline cache on disk: a run stores vulkan-<vendor>-<device>-<hash>.bin, the next
# run loads it; when a new file is stored, files of earlier builds and drivers are trimmed to
# SAEG_VULKAN_CACHE_MAX_MB, least recently used first, sparing the file just written; a stale
# temporary file goes; other files in the folder are never touched. Exits 77 without a Vulkan
# device.
#   test_vk_cache.sh path/to/test-backend-ops      (run from the repository root)
set -u
tbo=$1
source tests/cli_lib.sh
export XDG_CACHE_HOME=$tmp/cache
dir=$XDG_CACHE_HOME/saeg
mkdir -p "$dir"
run() { SAEG_LOG=debug "$tbo" test -b vulkan -o add "$@" >"$tmp/out" 2>&1; }

# orphans of earlier builds: 6 MiB against a 5 MiB cap (trimmed to 3/4 of it)
for i in 1 2 3; do
    head -c 2097152 /dev/zero >"$dir/vulkan-10de-2330-000000000000000$i.bin"
    touch -d "2020-01-0$i" "$dir/vulkan-10de-2330-000000000000000$i.bin"
done
head -c 100 /dev/zero >"$dir/vulkan-10de-2330-0000000000000009.bin.123.tmp"
touch -d "2020-01-01" "$dir/vulkan-10de-2330-0000000000000009.bin.123.tmp"
head -c 3145728 /dev/zero >"$dir/other.bin" # not ours
touch -d "2019-01-01" "$dir/other.bin"
SAEG_VULKAN_CACHE_MAX_MB=5 run
rc=$?
if [ $rc -eq 77 ]; then
    echo "SKIP: no Vulkan device"
    exit 77
fi
[ $rc -eq 0 ] || { echo "FAIL: first run exited $rc"; cat "$tmp/out"; exit 1; }
mine=$(grep -o "saved [0-9]* bytes of pipeline cache to .*" "$tmp/out" | head -1 | sed 's/.* to //')
[ -n "$mine" ] && [ -f "$mine" ] || { echo "FAIL: no pipeline cache stored"; cat "$tmp/out"; exit 1; }
grep -q "vulkan: pipeline cache $dir held .* removed the 2 least recently used" "$tmp/out" ||
    { echo "FAIL: expected the two oldest files to go"; grep "pipeline cache" "$tmp/out"; ls -l "$dir"; fail=1; }
[ ! -e "$dir/vulkan-10de-2330-0000000000000001.bin" ] && [ ! -e "$dir/vulkan-10de-2330-0000000000000002.bin" ] &&
    [ -e "$dir/vulkan-10de-2330-0000000000000003.bin" ] || { echo "FAIL: wrong files removed"; ls -l "$dir"; fail=1; }
[ ! -e "$dir/vulkan-10de-2330-0000000000000009.bin.123.tmp" ] || { echo "FAIL: a stale temporary file was kept"; fail=1; }
[ -e "$dir/other.bin" ] || { echo "FAIL: a file that is not a pipeline cache was removed"; fail=1; }

# the next run loads it
run || { echo "FAIL: second run"; cat "$tmp/out"; fail=1; }
grep -q "loaded [0-9]* bytes of pipeline cache from $mine" "$tmp/out" ||
    { echo "FAIL: the second run did not load the cache"; grep "pipeline cache" "$tmp/out"; fail=1; }
[ $fail -eq 0 ] && echo "OK: Vulkan pipeline cache"
exit $fail
