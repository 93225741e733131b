"""Writing Tahoe X1 model folders in the released Hugging Face layout, with numpy only:

    <dir>/model.safetensors     keys "model.<name>", F32 / BF16 / F16
    <dir>/model_config.yml      the training run's model section (+ vocab_size, precision)
    <dir>/collator_config.yml   the collator section (+ pad_token_id)
    <dir>/vocab.json            {"<pad>": 0, "<cls>": 1, "<eoc>": 2, "ENSG...": 3, ...}

    write_model_folder(dir, arrays, model_cfg, collator_cfg, tokens, dtype="F32", note="...")

Used by the test fixture generator and the demo model generator.
"""
import json
import os
import struct

import numpy as np

_NP = {"F32": np.float32, "F16": np.float16, "I32": np.int32, "U8": np.uint8, "I64": np.int64}


def _bf16_bytes(a):
    """float32 -> bfloat16 bits, round to nearest even (as torch does)."""
    u = np.ascontiguousarray(a, dtype=np.float32).view(np.uint32)
    rounded = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)
    return rounded.tobytes()


def bf16_round(a):
    """The float32 values a bfloat16 store of `a` reads back as."""
    u = np.ascontiguousarray(a, dtype=np.float32).view(np.uint32)
    r = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint32) << 16
    return r.view(np.float32)


def write_safetensors(path, tensors, dtypes=None, metadata=None):
    """tensors: {name: ndarray}; dtypes: {name: "F32"|"BF16"|"F16"|"I32"|"U8"} (default from the
    array). Data is laid out in key order, 8-byte aligned; the header is space-padded."""
    header, blobs, off = {}, [], 0
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    for name in tensors:
        a = np.asarray(tensors[name])
        dt = (dtypes or {}).get(name)
        if dt is None:
            dt = {np.dtype(np.float32): "F32", np.dtype(np.float16): "F16", np.dtype(np.int32): "I32",
                  np.dtype(np.uint8): "U8", np.dtype(np.int64): "I64"}[a.dtype]
        raw = _bf16_bytes(a) if dt == "BF16" else np.ascontiguousarray(a, dtype=_NP[dt]).tobytes()
        header[name] = {"dtype": dt, "shape": list(a.shape), "data_offsets": [off, off + len(raw)]}
        pad = (-len(raw)) % 8
        blobs.append(raw + b"\0" * pad)
        off += len(raw) + pad
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((-len(h)) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        b, end = e["data_offsets"]
        raw = data[b:end]
        if e["dtype"] == "BF16":
            a = (np.frombuffer(raw, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)
        else:
            a = np.frombuffer(raw, dtype=_NP[e["dtype"]])
        out[name] = a.reshape(e["shape"])
    return out


def _yaml_value(v):
    if isinstance(v, bool):
        return "True" if v else "False"
    if isinstance(v, str):
        return '"' + v + '"' if (" " in v or not v) else v
    return repr(v)


def _write_yaml(f, d, indent=0):
    for k, v in d.items():
        if isinstance(v, dict):
            f.write(" " * indent + f"{k}:\n")
            _write_yaml(f, v, indent + 2)
        else:
            f.write(" " * indent + f"{k}: {_yaml_value(v)}\n")


def write_model_folder(folder, arrays, model_cfg, collator_cfg, tokens, dtype="F32", note=None):
    """arrays: {key without "model.": float32 ndarray}; tokens: vocabulary in id order."""
    os.makedirs(folder, exist_ok=True)
    write_safetensors(os.path.join(folder, "model.safetensors"),
                      {"model." + k: v for k, v in arrays.items()},
                      {"model." + k: dtype for k in arrays},
                      metadata={"format": "pt", **({"note": note} if note else {})})
    with open(os.path.join(folder, "model_config.yml"), "w") as f:
        if note:
            f.write(f"# {note}\n")
        _write_yaml(f, model_cfg)
    with open(os.path.join(folder, "collator_config.yml"), "w") as f:
        if note:
            f.write(f"# {note}\n")
        _write_yaml(f, collator_cfg)
    with open(os.path.join(folder, "vocab.json"), "w") as f:
        json.dump({t: i for i, t in enumerate(tokens)}, f, indent=0)


def model_config(d_model, n_layers, n_heads, vocab_size, act="relu", value_act="relu", dec_act="leaky_relu",
                 attn_impl="triton", dec_layers=1):
    """A model_config.yml like the released ones (prepare_for_inference.py output)."""
    attn = {"attn_impl": attn_impl, "attn_type": "grouped_query_attention", "kv_nheads": n_heads, "attn_pdrop": 0.0}
    if attn_impl == "flash":
        attn["use_attn_mask"] = False
    return {
        "name": "tahoe_x1", "d_model": d_model, "n_layers": n_layers, "init_device": "cpu", "expansion_ratio": 4,
        "standard_scale_outputs": False, "transformer_activation": act, "n_heads": n_heads, "norm_scheme": "pre",
        "use_generative_training": False, "use_cell_conditioned_generation": False, "use_glu": False,
        "cell_emb_style": "cls", "attn_config": attn,
        "norm_config": {"norm_type": "layernorm", "eps": 1.0e-5},
        "expression_encoder": {"input_emb_style": "continuous", "dropout": 0.1, "max_value": 512,
                               "activation": value_act, "use_norm": True},
        "gene_encoder": {"use_norm": True},
        "mvc": {"arch_style": "inner product", "query_activation": "sigmoid", "scaled_dot_product": True},
        "expression_decoder": {"n_outputs": 1, "n_layers": dec_layers, "activation": dec_act},
        "vocab_size": vocab_size, "precision": "amp_bf16",
    }


def collator_config(max_length, pad_token_id=0):
    return {"do_padding": True, "pad_value": -2, "do_mlm": True, "do_binning": True, "mlm_probability": 0.5,
            "mask_value": -1, "max_length": max_length, "sampling": True, "data_style": "both", "num_bins": 51,
            "right_binning": False, "use_junk_tokens": False, "pad_token_id": pad_token_id}
