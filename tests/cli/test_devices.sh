#!/usr/bin/env bash
# saeg devices on a machine whose GPU drivers are missing: every backend is listed, the missing
# ones as unavailable with a reason, and the program still works on the CPU. Drivers are hidden
# from the Vulkan and OpenCL loaders; CUDA has no driver on CI machines at all.
#   test_devices.sh path/to/saeg
set -u
saeg=$1
fail=0
check() { if ! grep -q -- "$2" <<<"$1"; then echo "FAIL: expected '$2' in:"; echo "$1"; fail=1; fi; }

out=$(VK_ICD_FILENAMES=/nonexistent/icd.json OCL_ICD_VENDORS=/nonexistent/vendors OCL_ICD_FILENAMES= \
      "$saeg" devices --device auto 2>&1)
rc=$?
[ $rc -eq 0 ] || { echo "FAIL: saeg devices exited $rc"; echo "$out"; fail=1; }
check "$out" "cpu      available"
for backend in cuda vulkan opencl; do
    line=$(grep -E "^  $backend " <<<"$out")
    if [ -z "$line" ]; then echo "FAIL: no line for $backend"; fail=1; continue; fi
    # on a machine with that driver it may be available; hidden drivers must give a reason
    case "$backend" in
        vulkan|opencl) check "$line" "unavailable: ." ;;
        cuda) grep -q "available" <<<"$line" || { echo "FAIL: $line"; fail=1; } ;;
    esac
done
check "$out" "selects cpu:0"

# usage errors exit 2 and say what was wrong; bad device names list the devices
out=$("$saeg" frobnicate 2>&1); rc=$?
[ $rc -eq 2 ] || { echo "FAIL: unknown command exited $rc"; fail=1; }
check "$out" "unknown command 'frobnicate'"
out=$("$saeg" devices --device tpu:0 2>&1); rc=$?
[ $rc -eq 1 ] || { echo "FAIL: --device tpu:0 exited $rc"; fail=1; }
check "$out" "unknown backend 'tpu'"
check "$out" "cpu:0"
out=$("$saeg" --version); check "$out" "saeg "
exit $fail
