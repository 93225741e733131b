#!/usr/bin/env bash
# `make sanitize`: the memory-safety gates CI runs.
#
#  1. asan: the whole ctest suite built with AddressSanitizer + UndefinedBehaviorSanitizer
#     (-DSAEG_SANITIZE=address,undefined, clang), LeakSanitizer on, the GPU plugins loaded as
#     usual (lavapipe and PoCL stand in for GPUs). Every process a test starts writes its report
#     to a log folder, so a report fails the run even where a test expected its child to fail.
#     Leaks inside third-party libraries: tests/sanitizers/lsan.supp, one reason per entry.
#  2. valgrind: memcheck on `saeg embed` end to end with the tiny model fixtures
#     (tests/models/test_embed_cli.c, every saeg it starts runs under memcheck), on the normal
#     build ($BUILD, default build/). Third-party reports: tests/sanitizers/valgrind.supp.
#
#     scripts/sanitize.sh [asan|valgrind]...     # default: both
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
jobs=${JOBS:-$(nproc)}
steps=("$@")
[ ${#steps[@]} -gt 0 ] || steps=(asan valgrind)
status=0

asan() {
    local out=${SAN_BUILD:-build-asan}
    local cc=${SAN_CC:-$(command -v clang-14 || command -v clang)}
    echo "sanitize: building the suite with AddressSanitizer + UBSan in $out"
    cmake -S . -B "$out" -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSAEG_SANITIZE=address,undefined \
        -DSAEG_BUILD_BENCH=OFF >/dev/null
    cmake --build "$out" -j"$jobs" >"$out/build.log" 2>&1 || { cat "$out/build.log"; return 1; }
    local logs="$root/$out/sanitizer-reports"
    rm -rf "$logs"
    mkdir -p "$logs"
    local rc=0
    (
        cd "$out"
        export ASAN_OPTIONS="detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1:log_path=$logs/asan"
        export LSAN_OPTIONS="suppressions=$root/tests/sanitizers/lsan.supp:print_suppressions=0"
        export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$logs/ubsan"
        ctest -j"$jobs" --output-on-failure
    ) || rc=1
    if compgen -G "$logs/*" >/dev/null; then
        echo "sanitize: sanitizer reports:"
        cat "$logs"/*
        rc=1
    fi
    [ $rc -eq 0 ] && echo "sanitize: asan: the suite passed with no sanitizer report"
    return $rc
}

valgrind_embed() {
    local build=${BUILD:-build}
    if [ ! -x "$build/bin/saeg" ] || [ ! -x "$build/bin/test-embed-cli" ]; then
        cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
        cmake --build "$build" -j"$jobs" --target saeg test-embed-cli
    fi
    local logs="$root/$build/memcheck"
    rm -rf "$logs"
    mkdir -p "$logs"
    cat >"$logs/saeg" <<EOF
#!/bin/sh
exec valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \\
    --show-leak-kinds=definite --num-callers=30 --suppressions="$root/tests/sanitizers/valgrind.supp" \\
    --log-file="$logs/memcheck.%p" "$root/$build/bin/saeg" "\$@"
EOF
    chmod +x "$logs/saeg"
    echo "sanitize: valgrind memcheck on saeg embed (tests/models/test_embed_cli.c)"
    local rc=0
    "$build/bin/test-embed-cli" "$logs/saeg" || rc=1
    for f in "$logs"/memcheck.*; do
        [ -s "$f" ] || continue
        echo "sanitize: memcheck report $f:"
        cat "$f"
        rc=1
    done
    [ $rc -eq 0 ] && echo "sanitize: valgrind: no memcheck error in $(ls "$logs"/memcheck.* | wc -l) saeg runs"
    return $rc
}

for s in "${steps[@]}"; do
    case $s in
    asan) asan || status=1 ;;
    valgrind) valgrind_embed || status=1 ;;
    *)
        echo "sanitize: unknown step '$s' (asan, valgrind)" >&2
        exit 2
        ;;
    esac
done
exit $status
