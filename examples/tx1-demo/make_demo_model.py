#!/usr/bin/env python3
"""Generates the DEMO model in examples/tx1-demo/demo-model/: a small Tahoe X1-architecture model
with deterministic random weights and a vocabulary covering the genes of examples/hsmm/hsmm.h5ad.

THIS IS NOT TAHOE X1. Its weights are random (seeded), so its embeddings carry no biology; it
exists so that `saeg embed` and the rest of the pipeline can be run and tested end to end without
downloading the released weights (`saeg fetch-model 70m` does that).

The folder has the released layout (model.safetensors with "model."-prefixed keys in BF16,
model_config.yml, collator_config.yml, vocab.json), the 70M model's activations (relu, leaky_relu
decoder) and attention settings, and d_model 32, 2 layers, 4 heads. Needs numpy and anndata:

    examples/tx1-demo/make_demo_model.py
"""
import os
import sys

import anndata
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "scripts", "python"))
import tx1_files  # noqa: E402

NOTE = ("DEMO MODEL: deterministic random weights from examples/tx1-demo/make_demo_model.py; "
        "not the released Tahoe X1 weights")
D, LAYERS, HEADS, SEED = 32, 2, 4, 20251126


def state_dict(V, rng):
    d, f = D, 4 * D

    def lin(o, i):
        return (rng.standard_normal((o, i)) / np.sqrt(i)).astype(np.float32)

    def vec(n, scale=0.05):
        return (rng.standard_normal(n) * scale).astype(np.float32)

    def ones(n):
        return np.ones(n, np.float32)

    sd = {
        "gene_encoder.embedding.weight": rng.standard_normal((V, d)).astype(np.float32),
        "gene_encoder.enc_norm.weight": ones(d), "gene_encoder.enc_norm.bias": vec(d),
        "flag_encoder.weight": rng.standard_normal((2, d)).astype(np.float32),
        "expression_encoder.linear1.weight": (rng.standard_normal((d, 1)) * 0.3).astype(np.float32),
        "expression_encoder.linear1.bias": vec(d),
        "expression_encoder.linear2.weight": lin(d, d), "expression_encoder.linear2.bias": vec(d),
        "expression_encoder.norm.weight": ones(d), "expression_encoder.norm.bias": vec(d),
    }
    for i in range(LAYERS):
        p = f"transformer_encoder.layers.{i}"
        sd.update({
            p + ".norm1.weight": ones(d), p + ".norm1.bias": vec(d),
            p + ".self_attn.Wqkv.weight": lin(3 * d, d), p + ".self_attn.Wqkv.bias": vec(3 * d),
            p + ".self_attn.out_proj.weight": lin(d, d), p + ".self_attn.out_proj.bias": vec(d),
            p + ".norm2.weight": ones(d), p + ".norm2.bias": vec(d),
            p + ".up_proj.weight": lin(f, d), p + ".up_proj.bias": vec(f),
            p + ".down_proj.weight": lin(d, f), p + ".down_proj.bias": vec(d),
        })
    sd.update({
        "transformer_encoder.norm.weight": ones(d), "transformer_encoder.norm.bias": vec(d),
        "expression_decoder.linear_layers.0.weight": lin(d, d), "expression_decoder.linear_layers.0.bias": vec(d),
        "expression_decoder.out_proj.weight": lin(1, d), "expression_decoder.out_proj.bias": vec(1),
        "mvc_decoder.gene2query.weight": lin(d, d), "mvc_decoder.gene2query.bias": vec(d),
        "mvc_decoder.W.weight": lin(d, d),
    })
    return sd


def main():
    h5ad = os.path.join(HERE, "..", "hsmm", "hsmm.h5ad")
    genes = sorted({g.split(".")[0] for g in anndata.read_h5ad(h5ad, backed="r").var_names})
    tokens = ["<pad>", "<cls>", "<eoc>"] + genes
    tokens += [f"<junk{i}>" for i in range((-len(tokens)) % 64)]  # a multiple of 64, as released
    rng = np.random.default_rng(SEED)
    sd = state_dict(len(tokens), rng)
    out = os.path.join(HERE, "demo-model")
    mc = tx1_files.model_config(D, LAYERS, HEADS, len(tokens), "relu", "relu", "leaky_relu", "triton", 1)
    mc["name"] = "tahoe_x1_demo_random"
    tx1_files.write_model_folder(out, sd, mc, tx1_files.collator_config(1024, 0), tokens, "BF16", NOTE)
    with open(os.path.join(out, "README.md"), "w") as f:
        f.write(f"# {NOTE}\n\nVocabulary: {len(genes)} genes of examples/hsmm/hsmm.h5ad plus <pad>, <cls>, <eoc>.\n"
                f"Architecture: Tahoe X1 (d_model {D}, {LAYERS} layers, {HEADS} heads), BF16 weights.\n"
                "Regenerate with examples/tx1-demo/make_demo_model.py.\n")
    size = sum(os.path.getsize(os.path.join(out, n)) for n in os.listdir(out))
    print(f"{out}: {len(tokens)} tokens, {size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
