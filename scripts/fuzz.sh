#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz (clang, AddressSanitizer + UBSan + LeakSanitizer,
# CMake option SAEG_FUZZ) and runs each for SECONDS (default 30), JOBS targets at a time. Each
# target starts from its seed corpus (tests/fuzz/corpus/<target>/) and replays every committed
# regression input (tests/fuzz/regressions/<target>/) first. Any crash, hang, leak or sanitizer
# report fails the run (exit 1) and leaves the input under $FUZZ_BUILD/artifacts/<target>/:
# commit it to tests/fuzz/regressions/<target>/ with the fix.
#
#     scripts/fuzz.sh                   # 30 s per target
#     scripts/fuzz.sh 300 validation    # one target, longer
#
# One exception, h5ad: its input goes through libhdf5 (1.10), which overreads, leaks and loops on
# some corrupt files. That target runs in fork mode without leak detection, and each crash or
# hang is replayed and blamed on its first stack frame: inside libhdf5 it is reported as an HDF5
# bug and does not fail the run; anywhere else it does.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
secs=${1:-30}
shift || true
out=${FUZZ_BUILD:-build-fuzz}
jobs=${JOBS:-$(nproc)}
cc=${CLANG:-$(command -v clang-14 || command -v clang)}

echo "fuzz: building the targets in $out"
cmake -S . -B "$out" -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS=-O1 -DSAEG_FUZZ=ON \
    -DSAEG_BUILD_TESTS=OFF -DSAEG_BUILD_BENCH=OFF -DSAEG_CUDA=OFF -DSAEG_VULKAN=OFF -DSAEG_OPENCL=OFF >/dev/null
cmake --build "$out" --target saeg-fuzzers -j"$jobs" >"$out/build.log" 2>&1 || { cat "$out/build.log"; exit 1; }

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    for t in "$out"/bin/fuzz-*; do targets+=("${t##*/fuzz-}"); done
fi

# A fuzzed file may declare a huge size: refusing it is the parser's job, so malloc returns NULL
# rather than ASan stopping. Leaks are checked on every new input (libFuzzer's default).
export ASAN_OPTIONS=allocator_may_return_null=1:detect_stack_use_after_return=1
export UBSAN_OPTIONS=print_stacktrace=1

# Where a crash or hang happened: the first stack frame that is neither a sanitizer, libFuzzer
# nor libc (glibc's frames show as libc.so, or by their source, string/../sysdeps/..., when its
# debug symbols are installed: __memcpy_avx512_unaligned_erms called from libhdf5 was blamed on us).
first_frame() {
    grep -E '^ +#[0-9]+ ' |
        grep -v -E '__interceptor_|__asan|__sanitizer|__ubsan|fuzzer::|libc\.so|/sysdeps/|in (malloc|calloc|realloc|free|abort|raise|mem(cpy|move|set|cmp)|str[a-z]*) ' |
        head -1
}

run_target() {
    local t=$1 art="$out/artifacts/$1" work="$out/corpus/$1" seeds="$root/tests/fuzz/corpus/$1"
    local reg="$root/tests/fuzz/regressions/$1"
    rm -rf "$art"
    mkdir -p "$art" "$work"
    local dirs=("$work")
    [ -d "$seeds" ] && dirs+=("$seeds")
    [ -d "$reg" ] && dirs+=("$reg")
    local common=(-max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1
                  -artifact_prefix="$art/")
    if [ "$t" = h5ad ]; then
        ASAN_OPTIONS=$ASAN_OPTIONS:detect_leaks=0 "$out/bin/fuzz-$t" "${common[@]}" -fork=1 -ignore_crashes=1 \
            -ignore_ooms=1 -ignore_timeouts=1 "${dirs[@]}" || true
        local verdict=0
        for f in "$art"/crash-* "$art"/timeout-*; do
            [ -e "$f" ] || continue
            local frame
            frame=$(ASAN_OPTIONS=$ASAN_OPTIONS:detect_leaks=0 timeout 60 "$out/bin/fuzz-$t" -timeout=10 "$f" 2>&1 |
                first_frame || true)
            if [ -z "$frame" ]; then
                echo "fuzz-$t: $f does not reproduce alone (HDF5 keeps state between inputs); kept for a look"
            elif echo "$frame" | grep -q libhdf5; then
                echo "fuzz-$t: $f: a bug inside libhdf5, not in saeg: $frame"
            else
                echo "fuzz-$t: $f: in saeg code: $frame"
                verdict=1
            fi
        done
        return $verdict
    fi
    "$out/bin/fuzz-$t" "${common[@]}" "${dirs[@]}"
}

echo "fuzz: ${targets[*]}: ${secs}s each, $jobs at a time"
for t in "${targets[@]}"; do
    [ -x "$out/bin/fuzz-$t" ] || { echo "fuzz: no target fuzz-$t" >&2; exit 2; }
    (
        if run_target "$t" >"$out/fuzz-$t.log" 2>&1; then echo 0; else echo 1; fi >"$out/fuzz-$t.rc"
    ) &
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
done
wait

status=0
for t in "${targets[@]}"; do
    rc=$(cat "$out/fuzz-$t.rc")
    runs=$(awk '/^stat::number_of_executed_units|^#[0-9]+: .* exec\/s/ {n = $1 == "stat::number_of_executed_units:" ? $2 : substr($1, 2) + 0} END {print n + 0}' "$out/fuzz-$t.log")
    if [ "$rc" = 0 ]; then
        echo "fuzz-$t: ok ($runs runs)"
        grep -E '^fuzz-' "$out/fuzz-$t.log" || true
    else
        echo "fuzz-$t: FAILED (log: $out/fuzz-$t.log)"
        # the report from its first line, or the end of the log when there is none (h5ad verdicts)
        first=$(grep -n -m1 -E '==[0-9]+==ERROR|runtime error:|ALARM: working|ERROR: libFuzzer' "$out/fuzz-$t.log" |
            cut -d: -f1 || true)
        if [ -n "$first" ]; then sed -n "${first},$((first + 40))p" "$out/fuzz-$t.log"; else tail -40 "$out/fuzz-$t.log"; fi
        echo "fuzz-$t: inputs kept in $out/artifacts/$t/: $(ls "$out/artifacts/$t" | tr '\n' ' ')"
        status=1
    fi
done
exit $status
