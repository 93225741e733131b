#!/usr/bin/env python3
"""Reference outputs of the tiny Tahoe X1 test models with bf16 Linear layers (saeg --dtype bf16).

Reads the committed fixtures of gen_tx1_fixtures.py (model folders tiny_relu, tiny_gelu_bf16 and
the tokens/generative masks in ref_<model>.safetensors) and writes ref_<model>_bf16.safetensors
with the same keys, computed by the plain PyTorch reference (scripts/python/tx1_reference.py)
with every nn.Linear replaced by a bf16 GEMM as torch autocast / cuBLAS with bf16 inputs and
CUBLAS_COMPUTE_32F computes it: input and weight rounded to bfloat16, exact products summed in
higher precision (float64 here), f32 result, f32 bias added. Everything else (embeddings,
LayerNorm, attention, the MVC dot product) stays float32, as in saeg. Unlike autocast, the
Linear output is not rounded to bf16 (saeg keeps activations in f32).

    python3 tests/models/gen_tx1_bf16_fixtures.py      # Debian's python3-torch, numpy
"""
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "scripts", "python"))
import tx1_files  # noqa: E402
from gen_tx1_fixtures import output_arrays, store_outputs  # noqa: E402
from tx1_reference import Tx1Reference  # noqa: E402

FIX = os.path.join(HERE, "fixtures")
PAD = 0

# the architectures gen_tx1_fixtures.py gave the two models
MODELS = {
    "tiny_relu": dict(d_model=32, n_layers=3, n_heads=4, transformer_activation="relu", value_activation="relu",
                      decoder_activation="leaky_relu", decoder_layers=1, pad_token_id=PAD),
    "tiny_gelu_bf16": dict(d_model=48, n_layers=2, n_heads=3, transformer_activation="gelu",
                           value_activation="gelu", decoder_activation="gelu", decoder_layers=2, pad_token_id=PAD),
}


def bf16(t):
    return t.to(torch.bfloat16).to(torch.float32)


class Tx1Bf16(Tx1Reference):
    def linear(self, x, prefix, bias=True):
        w = bf16(self.w(prefix + ".weight"))
        y = (bf16(x).double() @ w.double().T).float()
        return y + self.w(prefix + ".bias") if bias else y


def main():
    for name, cfg in MODELS.items():
        sd = tx1_files.read_safetensors(os.path.join(FIX, name, "model.safetensors"))
        sd = {k[len("model."):] if k.startswith("model.") else k: torch.from_numpy(np.array(v)) for k, v in sd.items()}
        ref = Tx1Bf16(sd, cfg)
        toks = tx1_files.read_safetensors(os.path.join(FIX, f"ref_{name}.safetensors"))
        n, S = toks["ids"].shape
        d, L = cfg["d_model"], cfg["n_layers"]
        out = output_arrays({k: np.array(toks[k]) for k in ("ids", "values", "len", "gen")}, n, S, d, L)
        for c in range(n):
            m = int(toks["len"][c])
            ids = torch.from_numpy(np.array(toks["ids"][c, :m], np.int64))[None]
            vals = torch.from_numpy(np.array(toks["values"][c, :m], np.float32))[None]
            gen = torch.from_numpy(np.array(toks["gen"][c, :m]) != 0)[None]
            store_outputs(out, ref, c, ids, vals, gen)
        path = os.path.join(FIX, f"ref_{name}_bf16.safetensors")
        tx1_files.write_safetensors(path, out)
        print(f"{path}: {os.path.getsize(path) / 1e3:.0f} kB")


if __name__ == "__main__":
    main()
