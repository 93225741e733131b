#!/usr/bin/env bash
# Builds Release with CUDA (+ Vulkan, OpenCL when found) and copies what tests/gpu/run.sh needs
# on a GPU machine that lacks our Debian libraries into .gpu-bundle/ (git-ignored): the
# programs, the plugins, and every shared library they need except glibc's and the GPU
# drivers', packed as .gpu-bundle.tar.xz (run.sh unpacks it). cuBLAS is not bundled (hundreds of MiB): the plugin dlopens libcublas.so.13 from the
# GPU machine's CUDA toolkit. Usage: scripts/gpu-bundle.sh [build-dir]   (default build-gpu)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-gpu}
out=.gpu-bundle
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSAEG_CUDA=ON >/dev/null
cmake --build "$build" -j2
rm -rf "$out" && mkdir -p "$out/bin" "$out/lib"
progs="saeg test-backend-ops bench-ops test-tx1-parity test-cuda-gemm-plan test-cuda-pool test-cuda-graph-key"
for p in $progs; do cp "$build/bin/$p" "$out/bin/"; done
cp "$build"/bin/libsaeg-*.so "$out/bin/"
# non-glibc dependencies of everything above (libsaeg-*.so stay next to the programs)
skip='^(linux-vdso|ld-linux|libc\.so|libm\.so|libpthread|libdl\.so|librt\.so|libresolv|libcuda\.so|libvulkan|libOpenCL|libsaeg-)'
for f in "$out"/bin/*; do
    ldd "$f" 2>/dev/null | awk '/=> \// {print $1, $3}' | while read -r name path; do
        [[ $name =~ $skip ]] && continue
        [ -e "$out/lib/$name" ] || cp -L "$path" "$out/lib/$name"
    done
done
# the Vulkan and OpenCL loaders come from the GPU machine (.gl/ debs, NVIDIA's OpenCL): not bundled
strip --strip-unneeded "$out"/bin/* "$out"/lib/* 2>/dev/null || true
# uncompressed it is ~100 MiB (OpenBLAS's every-CPU kernels, ICU data): carry it as xz (~23 MiB)
tar -C "$out" -cf - . | xz -T2 -6 >"$out.tar.xz"
du -sh "$out" "$out.tar.xz"
