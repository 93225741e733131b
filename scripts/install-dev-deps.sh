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

exec "$(dirname "$0")/apt-install-missing.sh" install-dev-deps "${packages[@]}"
