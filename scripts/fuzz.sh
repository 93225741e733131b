#!/usr/bin/env bash
# Builds the libFuzzer targets for the safetensors and h5ad parsers with clang (AddressSanitizer
# and UBSan) and runs each for SECONDS (default 30) from the seed corpus in tests/fuzz/corpus.
# New inputs go to a scratch corpus under the build folder; crashes stop the run with status 1
# and leave a crash-* file there.
#
#     scripts/fuzz.sh            # 30 s per target
#     scripts/fuzz.sh 300        # longer, locally
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
secs=${1:-30}
out=${FUZZ_BUILD:-build-fuzz}
mkdir -p "$out"
cc=${CLANG:-clang}
flags=(-std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -I.
       $(pkg-config --cflags hdf5 libcjson))

"$cc" "${flags[@]}" tests/fuzz/fuzz_safetensors.c io/safetensors.c core/status.c \
    $(pkg-config --libs libcjson) -lpthread -o "$out/fuzz-safetensors"
"$cc" "${flags[@]}" tests/fuzz/fuzz_h5ad.c io/h5ad.c io/h5ad_frame.c io/h5ad_hdf5.c core/status.c \
    $(pkg-config --libs hdf5) -lpthread -o "$out/fuzz-h5ad"

# a fuzzed file may declare a huge shape; refusing it is the parser's job, not ASan's
export ASAN_OPTIONS=allocator_may_return_null=1

# Where a crash happened: the first stack frame that is neither a sanitizer interceptor nor libc.
first_frame() {
    grep -E '^ +#[0-9]+ ' | grep -v -E '__interceptor_|__asan_|__sanitizer::|in (malloc|calloc|realloc|free|mem(cpy|move|set)|str[a-z]*) ' \
        | head -1
}

status=0
# safetensors: every crash and leak is ours
work="$out/corpus-safetensors"
mkdir -p "$work"
echo "fuzz-safetensors: ${secs}s"
if ! (cd "$out" && ./fuzz-safetensors -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
        -print_final_stats=1 corpus-safetensors "$root/tests/fuzz/corpus/safetensors"); then
    status=1
fi

# h5ad: the input goes through libhdf5, which (1.10) leaks and overreads on some corrupt files.
# Fork mode keeps fuzzing past a crash; each crash is then replayed and blamed on the first
# frame: inside libhdf5 it is reported as an HDF5 bug, anywhere else it fails the run.
work="$out/corpus-h5ad"
mkdir -p "$work"
rm -f "$out"/crash-* "$out"/leak-* "$out"/oom-* "$out"/timeout-*
echo "fuzz-h5ad: ${secs}s"
(cd "$out" && ASAN_OPTIONS=$ASAN_OPTIONS:detect_leaks=0 ./fuzz-h5ad -fork=1 -ignore_crashes=1 -ignore_ooms=1 \
    -ignore_timeouts=1 -timeout=10 -max_total_time="$secs" -rss_limit_mb=3072 -max_len=65536 -print_final_stats=1 \
    corpus-h5ad "$root/tests/fuzz/corpus/h5ad") || true
for f in "$out"/crash-*; do
    [ -e "$f" ] || continue
    frame=$(cd "$out" && ASAN_OPTIONS=$ASAN_OPTIONS:detect_leaks=0 ./fuzz-h5ad "$(basename "$f")" 2>&1 | first_frame || true)
    if [ -z "$frame" ]; then
        echo "fuzz-h5ad: $f does not reproduce alone (HDF5 keeps state between inputs); kept for a look"
    elif echo "$frame" | grep -q libhdf5; then
        echo "fuzz-h5ad: $f: a bug inside libhdf5, not in saeg: $frame"
    else
        echo "fuzz-h5ad: $f: crash in saeg code: $frame"
        status=1
    fi
done
exit $status
