#!/usr/bin/env bash
# `make lint`: clang-tidy (checks and the reason for each left out: .clang-tidy) and cppcheck
# (scripts/cppcheck-suppressions.txt) over every C file CMake compiles under the library layers.
# Any finding fails the run. Files come from the compile_commands.json of a configure-only build
# folder, so new sources are linted as soon as a CMakeLists.txt lists them.
#
#     scripts/lint.sh                  # everything, JOBS parallel clang-tidy processes
#     scripts/lint.sh io/h5ad.c        # just these files (paths relative to the top)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build=${LINT_BUILD:-build-lint}
jobs=${JOBS:-$(nproc)}
layers="core backends models io pipeline validation dashboard cli"

tidy=$(command -v clang-tidy-14 || command -v clang-tidy || true)
if [ -z "$tidy" ] || ! command -v cppcheck >/dev/null; then
    echo "lint: needs clang-tidy and cppcheck (scripts/install-dev-deps.sh)" >&2
    exit 2
fi

# Configuring is enough: the only generated header (the Vulkan shader table) is written then.
mkdir -p "$build"
cmake -S . -B "$build" -DCMAKE_C_COMPILER="${CC:-clang}" -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >"$build/configure.log" 2>&1 ||
    { cat "$build/configure.log" >&2; exit 1; }

# One entry per source file under the layers (some files are compiled into two targets). CUDA
# sources (.cu) are left out: their compile commands are nvcc's, which clang-tidy cannot replay;
# nvcc builds them with -Wall -Wextra on the host side instead.
python3 - "$root" "$build" $layers <<'EOF'
import json, sys
root, build, layers = sys.argv[1], sys.argv[2], sys.argv[3:]
seen, keep = set(), []
for e in json.load(open(f"{build}/compile_commands.json")):
    rel = e["file"][len(root) + 1:] if e["file"].startswith(root + "/") else ""
    if rel.split("/")[0] in layers and not rel.endswith(".cu") and e["file"] not in seen:
        seen.add(e["file"])
        keep.append(e)
json.dump(keep, open(f"{build}/lint_commands.json", "w"), indent=1)
open(f"{build}/lint_files.txt", "w").write("".join(e["file"] + "\n" for e in keep))
EOF
files="$build/lint_files.txt"
if [ $# -gt 0 ]; then
    printf "$root/%s\n" "$@" >"$build/lint_selected.txt"
    files="$build/lint_selected.txt"
fi
echo "lint: clang-tidy on $(wc -l <"$files") files ($jobs at a time)"

# One file per clang-tidy process: clang 14's analyzer carries state from one file to the next
# and reports false va_list errors when handed several. Headers: ours, not generated ones.
status=0
headers="^$root/($(echo $layers | tr ' ' '|'))/.*\\.h\$"
if ! xargs -P "$jobs" -n 1 "$tidy" -p "$build" --quiet --header-filter="$headers" <"$files" \
        >"$build/clang-tidy.log" 2>&1; then
    status=1
fi
# clang-tidy prints "N warnings generated" for suppressed ones too: show only real findings.
if grep -E ': (warning|error): ' "$build/clang-tidy.log" | sort -u | grep . ; then
    status=1
elif [ $status -ne 0 ]; then
    cat "$build/clang-tidy.log"
fi

echo "lint: cppcheck"
mkdir -p "$build/cppcheck"
if [ $# -gt 0 ]; then
    cppcheck_input=("$@")
else
    cppcheck_input=(--project="$build/lint_commands.json")
fi
if ! cppcheck "${cppcheck_input[@]}" --enable=warning,style,performance,portability --inline-suppr \
        --suppressions-list=scripts/cppcheck-suppressions.txt --cppcheck-build-dir="$build/cppcheck" \
        -j "$jobs" --quiet --error-exitcode=1 -I. -D__linux__ --platform=unix64 --template='{file}:{line}: {severity}: {message} [{id}]'; then
    status=1
fi

[ $status -eq 0 ] && echo "lint: clean"
exit $status
