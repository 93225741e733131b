#!/usr/bin/env bash
# `make format` / `make format-check`: clang-format (the house style is .clang-format) over every
# C source and header, the OpenCL C kernels (backends/opencl/kernels/*.cl) and the CUDA sources
# (*.cu, *.cuh), tracked or new.
# GLSL shaders (shaders/*.comp, *.glsl) are left alone: clang-format has no GLSL mode and
# misreads their interface blocks (`} p;`) and layout qualifiers as C++.
#
#     scripts/format.sh            # rewrite files in place
#     scripts/format.sh --check    # list what is not formatted; exit 1 if anything is
set -euo pipefail
cd "$(dirname "$0")/.."
fmt=${CLANG_FORMAT:-$(command -v clang-format-14 || command -v clang-format || true)}
if [ -z "$fmt" ]; then
    echo "format: needs clang-format (scripts/install-dev-deps.sh)" >&2
    exit 2
fi
# Other clang-format versions lay some constructs out differently; CI uses 14 (Debian 12).
"$fmt" --version | grep -q 'version 14\.' || echo "format: warning: $("$fmt" --version) is not clang-format 14, as CI" >&2

if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    mapfile -t files < <(git ls-files --cached --others --exclude-standard -- '*.c' '*.h' '*.cl' '*.cu' '*.cuh')
else
    mapfile -t files < <(find . -path ./build\* -prune -o \( -name '*.c' -o -name '*.h' -o -name '*.cl' -o -name '*.cu' -o -name '*.cuh' \) -print)
fi
existing=()
for f in "${files[@]}"; do [ -f "$f" ] && existing+=("$f"); done

if [ "${1:-}" = --check ]; then
    if ! "$fmt" --dry-run -Werror "${existing[@]}" 2>"${TMPDIR:-/tmp}/saeg-format.$$"; then
        grep -E '^[^ ].*error: code should be clang-formatted' "${TMPDIR:-/tmp}/saeg-format.$$" | cut -d: -f1 | sort -u |
            sed 's/^/format: not formatted: /' >&2
        rm -f "${TMPDIR:-/tmp}/saeg-format.$$"
        echo "format: run 'make format' (clang-format -i) and commit the result" >&2
        exit 1
    fi
    rm -f "${TMPDIR:-/tmp}/saeg-format.$$"
    echo "format: ${#existing[@]} files clean"
else
    "$fmt" -i "${existing[@]}"
fi
