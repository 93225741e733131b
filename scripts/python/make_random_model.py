#!/usr/bin/env python3
"""Writes a Tahoe X1 folder in the released layout with the architecture of a released size and
seeded random weights (BF16 file, like the demo model): for memory and speed checks of the big
sizes without downloading them (tests/gpu/run.sh builds the 3B one on the GPU machine).

THIS IS NOT TAHOE X1: the weights are random. The vocabulary is the demo model's (the genes of
examples/hsmm/hsmm.h5ad), padded with placeholder tokens to the size's vocab_size, so the HSMM
data runs through it. Needs PyTorch (random_state_dict) and numpy:

    python3 scripts/python/make_random_model.py 3b /tmp/tx1-3b-random
"""
import json
import os
import struct
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import tx1_files  # noqa: E402
from tx1_reference import random_state_dict  # noqa: E402

VOCAB = os.path.join(HERE, "..", "..", "examples", "tx1-demo", "demo-model", "vocab.json")
# models/tx1_config.c tx1_config_preset: d_model, n_layers, n_heads, activations, attention, context
SIZES = {
    "70m": dict(d=512, L=12, H=8, act="relu", dec="leaky_relu", attn="triton", ctx=1024),
    "1b": dict(d=2048, L=24, H=16, act="relu", dec="leaky_relu", attn="triton", ctx=1024),
    "3b": dict(d=2560, L=32, H=20, act="gelu", dec="gelu", attn="flash", ctx=2048),
}
VOCAB_SIZE = 62720


def write_bf16_safetensors(path, sd, note):
    """model.safetensors with "model."-prefixed BF16 tensors, converted by torch one tensor at a
    time (tx1_files.write_safetensors goes through numpy, minutes for the 3B model)."""
    header, off = {"__metadata__": {"format": "pt", "note": note}}, 0
    for k, t in sd.items():
        n = t.numel() * 2
        header["model." + k] = {"dtype": "BF16", "shape": list(t.shape), "data_offsets": [off, off + n]}
        off += n
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((-len(h)) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for t in sd.values():
            f.write(t.to(torch.bfloat16).contiguous().view(torch.int16).cpu().numpy().tobytes())


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in SIZES:
        sys.exit(f"usage: {sys.argv[0]} {{{','.join(SIZES)}}} OUT_DIR")
    s, out = SIZES[sys.argv[1]], sys.argv[2]
    with open(VOCAB) as f:
        v = json.load(f)
    tokens = sorted(v, key=v.get)
    tokens += [f"<random-{i}>" for i in range(VOCAB_SIZE - len(tokens))]
    torch.set_num_threads(os.cpu_count() or 1)
    cfg = {"d_model": s["d"], "n_layers": s["L"], "n_heads": s["H"], "decoder_layers": 1}
    # on a GPU when PyTorch has one (3B: ~10 s instead of minutes of CPU random numbers); the
    # weights then differ from a CPU run's, which does not matter for random weights
    gen = torch.Generator().manual_seed(3)
    if torch.cuda.is_available() and hasattr(torch, "set_default_device"):
        torch.set_default_device("cuda")
        gen = torch.Generator(device="cuda").manual_seed(3)
    sd = random_state_dict(cfg, VOCAB_SIZE, gen)
    mc = tx1_files.model_config(s["d"], s["L"], s["H"], VOCAB_SIZE, s["act"], s["act"], s["dec"], s["attn"], 1)
    note = f"random weights in the Tahoe X1 {sys.argv[1]} layout (scripts/python/make_random_model.py), not Tahoe X1"
    # the configs and vocabulary through the shared writer (an empty state dict), then the weights
    tx1_files.write_model_folder(out, {}, mc, tx1_files.collator_config(s["ctx"], tokens.index("<pad>")), tokens,
                                 "BF16", note)
    write_bf16_safetensors(os.path.join(out, "model.safetensors"), sd, note)
    size = sum(os.path.getsize(os.path.join(out, n)) for n in os.listdir(out))
    print(f"{out}: {sum(t.numel() for t in sd.values()) / 1e6:.1f} M parameters, {size / 1e9:.2f} GB")


if __name__ == "__main__":
    main()
