#!/usr/bin/env python3
"""Where tests/gpu/run.sh's tolerance for the tensor-core attention (TBO_MAX_NMSE=attention=5e-5)
comes from: the NMSE that rounding the kernel's bf16 operands alone causes, for the
test-backend-ops attention cases it takes (head sizes 64 and 128; inputs uniform in [-1, 1]).

The model follows backends/cuda/cuda_ops_attention_tc.cu: q (pre-scaled), k, v and the
probabilities P = exp(s - max) are rounded to bf16; products accumulate exactly (fp32 on the
GPU, fp64 here); the row sum adds the rounded P. It is a model of the rounding, not the kernel:
the kernel itself is verified only by running test-backend-ops on a GPU.

Run with Debian's python3-torch:  /usr/bin/python3 tests/gpu/bf16_attention_tolerance.py
Measured here: nmse 3.8e-6 .. 5.4e-6, worst element 1.1e-4 x the mean square (limit 1e3 x nmse).
"""
import torch

torch.manual_seed(0)


def bf16(x):
    return x.to(torch.bfloat16).to(torch.float64)


for D, H, Sq, Sk, B in [(128, 2, 65, 65, 2), (64, 8, 129, 129, 2), (64, 1, 1, 1030, 1), (64, 8, 1024, 1024, 1)]:
    q, k, v = (torch.rand(B, H, S, D, dtype=torch.float64) * 2 - 1 for S in (Sq, Sk, Sk))
    scale = 1 / D**0.5
    ref = torch.softmax(q @ k.transpose(-1, -2) * scale, -1) @ v
    s = bf16(q * scale) @ bf16(k).transpose(-1, -2)
    p = bf16(torch.exp(s - s.max(-1, keepdim=True).values))
    out = (p @ bf16(v)) / p.sum(-1, keepdim=True)
    ms = (ref**2).mean()
    print(f"D={D} H={H} Sq={Sq} Sk={Sk} B={B}: nmse {((out - ref) ** 2).mean() / ms:.2e}, "
          f"worst element {((out - ref) ** 2).max() / ms:.2e} x mean square")
