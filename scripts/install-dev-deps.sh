#!/usr/bin/env bash
# Installs the Debian packages of the quality gates, when any is missing: clang-format
# (make format-check), clang-tidy and cppcheck (make lint), clang with its sanitizer and
# libFuzzer runtimes (make sanitize, make fuzz) and valgrind. Versions as in Debian 12:
# clang 14, cppcheck 2.10, valgrind 3.19. Used by the targets above and by CI.
set -euo pipefail

packages=(
    clang clang-format clang-tidy libclang-rt-14-dev   # compiler, formatter, linter, ASan/UBSan/libFuzzer
    cppcheck valgrind
)

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
echo "install-dev-deps: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
