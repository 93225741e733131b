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
    chromium                             # the dashboard's browser test (headless)
)

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
echo "install-deps: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
