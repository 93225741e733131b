"""The PyTorch side of `saeg bench sae` (embedded in the saeg binary and run with python3 when
torch imports): one SAELens-style TopK training step on dense tensors, fp32 on the CPU, timed on
random activations of the same shapes saeg trains on.

The step is what SAELens's TopKTrainingSAE does without sparse kernels (its default, since
`use_sparse_activations` is off): encoder GEMM, top-k, the code scattered into a dense
[batch, d_sae] tensor, decoder GEMM, summed-squared-error loss, autograd, gradient clipping at
1.0 and Adam(0.9, 0.999).

    python3 sae_bench.py --d-in 512 --d-sae 16384 -k 64 --batch 4096 --steps 3 --threads 2
prints one line: "torch_tokens_per_s <float> torch_step_s <float> torch_peak_rss_mib <float>".
"""
import argparse
import resource
import time

import torch


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--d-in", type=int, required=True)
    p.add_argument("--d-sae", type=int, required=True)
    p.add_argument("-k", type=int, required=True)
    p.add_argument("--batch", type=int, required=True)
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    g = torch.Generator().manual_seed(0)
    w_dec = torch.randn(a.d_sae, a.d_in, generator=g)
    w_dec /= w_dec.norm(dim=1, keepdim=True)
    W_dec = torch.nn.Parameter(w_dec)
    W_enc = torch.nn.Parameter(w_dec.t().clone())
    b_enc = torch.nn.Parameter(torch.zeros(a.d_sae))
    b_dec = torch.nn.Parameter(torch.zeros(a.d_in))
    params = [W_enc, b_enc, W_dec, b_dec]
    opt = torch.optim.Adam(params, lr=2e-4, betas=(0.9, 0.999))
    x = torch.randn(a.batch, a.d_in, generator=g)

    def step():
        sae_in = x - b_dec
        pre = sae_in @ W_enc + b_enc
        top = pre.topk(a.k, dim=-1)
        acts = torch.zeros_like(pre).scatter(-1, top.indices, torch.relu(top.values))
        recon = acts @ W_dec + b_dec
        loss = (recon - x).pow(2).sum(-1).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()

    step()  # warm-up: allocations, Adam state
    t = time.perf_counter()
    for _ in range(a.steps):
        step()
    dt = (time.perf_counter() - t) / a.steps
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(f"torch_tokens_per_s {a.batch / dt:.3f} torch_step_s {dt:.6f} torch_peak_rss_mib {rss:.1f}")


if __name__ == "__main__":
    main()
