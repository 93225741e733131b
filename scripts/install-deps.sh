#!/usr/bin/env bash
# Installs the Debian packages saeg builds and tests with, when any is missing.
# Used by `make deps` (and so by `make demo` / `make test`) and by CI.
set -euo pipefail

packages=(
    build-essential cmake pkg-config python3
    libopenblas-dev                      # CPU backend: sgemm
    libhdf5-dev                          # .h5ad reader
    libcurl4-openssl-dev libssl-dev      # model download, online database clients, cache keys
    libcjson-dev libyaml-dev             # vocab/config/results JSON, YAML configs
    libxml2-dev libsqlite3-dev zlib1g-dev  # Orphanet XML, SQLite annotation sources, .gz bulk files
    libvulkan-dev glslc mesa-vulkan-drivers        # Vulkan backend; lavapipe = Vulkan on the CPU
    ocl-icd-opencl-dev opencl-headers pocl-opencl-icd  # OpenCL backend; PoCL = OpenCL on the CPU
    openmpi-bin libopenmpi-dev           # several processes: mpirun -n N saeg ... (docs/mpi.md)
    chromium                             # the dashboard's browser test (headless)
)

exec "$(dirname "$0")/apt-install-missing.sh" install-deps "${packages[@]}"
