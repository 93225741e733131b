# PyTorch on the GPU, for tests/gpu/run.sh: fp32 matmul 4096^3 (TF32 off, then on) and
# scaled-dot-product attention on bench-ops' attention shapes. Prints GFLOP/s per case.
import time

import torch

if not torch.cuda.is_available():
    print("torch: no CUDA device")
    raise SystemExit(0)


def best(fn, reps=5):
    fn()
    torch.cuda.synchronize()
    t = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        t = min(t, time.perf_counter() - t0)
    return t


n = 4096
a, b = torch.randn(n, n, device="cuda"), torch.randn(n, n, device="cuda")
for tf32 in (False, True):
    torch.backends.cuda.matmul.allow_tf32 = tf32
    print(f"torch matmul {n}^3 fp32 tf32={tf32}: {2 * n**3 / best(lambda: a @ b) * 1e-9:.1f} GFLOP/s")
for S in (1024, 2048):
    q, k, v = (torch.randn(1, 8, S, 64, device="cuda") for _ in range(3))
    f = torch.nn.functional.scaled_dot_product_attention
    t = best(lambda: f(q, k, v))
    print(f"torch sdpa forward S={S} H=8 D=64: {t * 1e3:.3f} ms, {4 * S * S * 8 * 64 / t * 1e-9:.1f} GFLOP/s")
