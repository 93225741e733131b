"""The PyTorch side of `saeg bench model` (embedded in the saeg binary and run with python3 when
torch imports): the plain reference (tx1_reference.py) with random weights of the same shapes,
timed on the token batch saeg wrote, fp32 on the CPU.

    python3 tx1_bench.py TOKENS.bin --batch 4 --seq 1024 --d-model 512 --layers 12 --heads 8 \
        --vocab 62720 --act relu --threads 2 --batches 2
prints one line: "torch_cells_per_s <float> torch_peak_rss_mib <float>".
"""
import argparse
import resource
import time

import numpy as np
import torch

from tx1_reference import Tx1Reference, random_state_dict


def main():
    p = argparse.ArgumentParser()
    p.add_argument("tokens")
    for name in ("batch", "seq", "d_model", "layers", "heads", "vocab", "threads", "batches"):
        p.add_argument("--" + name.replace("_", "-"), type=int, required=True)
    p.add_argument("--act", default="relu")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    raw = np.fromfile(a.tokens, dtype=np.float32).reshape(2, a.batch, a.seq)
    ids = torch.from_numpy(raw[0].view(np.int32).astype(np.int64))
    values = torch.from_numpy(raw[1].copy())
    cfg = {"d_model": a.d_model, "n_layers": a.layers, "n_heads": a.heads, "transformer_activation": a.act,
           "value_activation": a.act, "decoder_activation": "leaky_relu", "pad_token_id": 0}
    ref = Tx1Reference(random_state_dict(cfg, a.vocab, torch.Generator().manual_seed(0)), cfg)
    ref(ids, values, heads=False)  # warm-up
    t = time.perf_counter()
    for _ in range(a.batches):
        ref(ids, values, heads=False)
    dt = time.perf_counter() - t
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(f"torch_cells_per_s {a.batch * a.batches / dt:.6f} torch_peak_rss_mib {rss:.1f}")


if __name__ == "__main__":
    main()
