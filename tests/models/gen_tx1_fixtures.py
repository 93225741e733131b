#!/usr/bin/env python3
"""Generates the Tahoe X1 test fixtures under tests/models/fixtures/ (committed; CI does not run
this). Needs Debian's python3-torch and python3-anndata:

    /usr/bin/python3 tests/models/gen_tx1_fixtures.py

Writes:
  tiny_relu/        released layout, F32, relu + leaky_relu decoder, triton attention, 3 layers
  tiny_relu_f16/    the same weights stored as F16
  tiny_gelu_bf16/   gelu everywhere, flash attention, 2 decoder layers, BF16, 2 layers, 3 heads
  cells.h5ad        written by anndata: CSR float32 with ties, unsorted indices, an explicit zero,
                    genes outside the vocabulary, versioned Ensembl IDs, categorical cell_type
  cells_dense.h5ad, cells_csc.h5ad              the same cells, dense float64 / CSC int64
  cells_v07.h5ad, cells_v06.h5ad                older anndata encodings, written with h5py
  broken_*.h5ad               files the reader must refuse (no X; a column index out of range)
  expected_x.safetensors      what the h5ad reader must return (stored / nonzero entries)
  ref_<model>.safetensors     tokens from the reference collator and outputs of the plain
                              PyTorch reference (scripts/python/tx1_reference.py), each cell
                              run alone (no padding), at inference and with a generative mask
  binning.safetensors         torch.linspace and collator binning on 240 random cells
"""
import os
import sys

import anndata
import h5py
import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "scripts", "python"))
import tx1_files  # noqa: E402
from tx1_reference import Tx1Reference, bin_cell, random_state_dict, tokenize_cell  # noqa: E402

OUT = os.path.join(HERE, "fixtures")
N_GENES_VOCAB = 56  # genes in the vocabulary
N_VAR = 60          # genes in the h5ad (some outside the vocabulary)
PAD, CLS = 0, 1
SPECIALS = ["<pad>", "<cls>", "<eoc>"]


def vocab_tokens():
    genes = [f"ENSG{10 ** 10 + 7 * i:011d}" for i in range(N_GENES_VOCAB)]
    toks = SPECIALS + sorted(genes)
    while len(toks) % 8:
        toks.append(f"<junk{len(toks) % 8}>")
    return toks


def make_cells(tokens, rng):
    """12 cells over N_VAR genes: var 0..51 map to vocabulary genes (some with version suffixes),
    52..59 are not in the vocabulary."""
    vocab_genes = [t for t in tokens if t.startswith("ENSG")]
    ens = []
    for j in range(N_VAR):
        if j < 52:
            g = vocab_genes[j]
            ens.append(g + f".{j % 5 + 1}" if j % 3 == 0 else g)
        else:
            ens.append(f"ENSG9{j:010d}.1")
    rows = []
    for c in range(12):
        n = [40, 55, 3, 1, 0, 30, 59, 20, 45, 12, 58, 25][c]
        cols = np.sort(rng.choice(N_VAR, size=n, replace=False))
        if c == 4:  # a cell with no vocabulary gene at all
            cols = np.arange(52, 57)
        if c == 0:
            vals = rng.integers(1, 4, size=len(cols)).astype(np.float32)          # many ties
        elif c == 1:
            vals = np.ones(len(cols), dtype=np.float32)                           # all equal
        elif c == 5:
            vals = np.round(np.log1p(rng.gamma(0.6, 30, size=len(cols))), 2).astype(np.float32)
        else:
            vals = (rng.poisson(rng.uniform(1, 30), size=len(cols)) + 1).astype(np.float32)
        if c == 7:  # unsorted stored order: the tokens keep it
            perm = rng.permutation(len(cols))
            cols, vals = cols[perm], vals[perm]
        if c == 8:  # an explicit stored zero (binned like the reference: bin 0, then +1)
            vals[3] = 0.0
        if c == 10:  # one huge count above the value encoder's clamp
            vals[0] = 5000.0
        rows.append((cols, vals))
    indptr = np.cumsum([0] + [len(r[0]) for r in rows])
    X = sp.csr_matrix((np.concatenate([r[1] for r in rows]), np.concatenate([r[0] for r in rows]), indptr),
                      shape=(12, N_VAR))
    X.has_sorted_indices = False
    obs = pd.DataFrame(index=[f"cell{c}" for c in range(12)])
    obs["cell_type"] = pd.Categorical(rng.choice(["T cell", "B cell", "NK cell"], size=12))
    obs["batch"] = [f"b{c % 2}" for c in range(12)]
    obs["n_genes"] = [len(r[0]) for r in rows]
    obs["nullable"] = pd.array([c if c % 4 else None for c in range(12)], dtype="Int64")
    obs["flag"] = [c % 3 == 0 for c in range(12)]
    var = pd.DataFrame(index=[f"GENE{j}" for j in range(N_VAR)])
    var["ensembl_id"] = ens
    var["feature_name"] = [f"SYM{j}" for j in range(N_VAR)]
    return X, obs, var, rows


def write_h5ads(X, obs, var):
    a = anndata.AnnData(X=X, obs=obs, var=var, dtype=np.float32)
    a.write_h5ad(os.path.join(OUT, "cells.h5ad"))
    anndata.AnnData(X=X.toarray().astype(np.float64), obs=obs, var=var, dtype=np.float64).write_h5ad(
        os.path.join(OUT, "cells_dense.h5ad"))
    anndata.AnnData(X=sp.csc_matrix(X.toarray().astype(np.int64)), obs=obs, var=var, dtype=np.int64).write_h5ad(
        os.path.join(OUT, "cells_csc.h5ad"))
    write_v07(os.path.join(OUT, "cells_v07.h5ad"), X, obs, var)
    write_v06(os.path.join(OUT, "cells_v06.h5ad"), X, obs, var)
    write_broken(X)


def write_broken(X):
    """Files the reader must refuse with a clear message."""
    import shutil
    with h5py.File(os.path.join(OUT, "broken_no_x.h5ad"), "w") as f:
        f.create_group("obs").attrs["_index"] = "_index"
        f["obs"].create_dataset("_index", data=np.array(["c0"], dtype=object), dtype=h5py.string_dtype())
    bad = os.path.join(OUT, "broken_indices.h5ad")
    shutil.copy(os.path.join(OUT, "cells.h5ad"), bad)
    with h5py.File(bad, "r+") as f:
        idx = f["X/indices"][...]
        idx[5] = 999  # a column beyond the 60 in var
        f["X/indices"][...] = idx


def write_v07(path, X, obs, var):
    """anndata 0.7 layout: h5sparse_format on X, categories referenced from __categories."""
    str_dt = h5py.string_dtype("utf-8")
    with h5py.File(path, "w") as f:
        x = f.create_group("X")
        x.attrs["h5sparse_format"] = "csr"
        x.attrs["h5sparse_shape"] = np.array(X.shape, dtype=np.int64)
        x.create_dataset("data", data=X.data.astype(np.uint16))
        x.create_dataset("indices", data=X.indices.astype(np.int64))
        x.create_dataset("indptr", data=X.indptr.astype(np.int64))
        for name, df in (("obs", obs), ("var", var)):
            g = f.create_group(name)
            g.attrs["_index"] = "_index"
            g.attrs["encoding-type"] = "dataframe"
            g.attrs["encoding-version"] = "0.1.0"
            cols = ["cell_type", "batch", "n_genes"] if name == "obs" else ["ensembl_id", "feature_name"]
            g.attrs["column-order"] = np.array(cols, dtype=object).astype(str_dt)
            g.create_dataset("_index", data=np.array(df.index, dtype=object), dtype=str_dt)
            for col in cols:
                s = df[col]
                if isinstance(s.dtype, pd.CategoricalDtype):
                    cats = g.create_group("__categories") if "__categories" not in g else g["__categories"]
                    cd = cats.create_dataset(col, data=np.array(s.cat.categories, dtype=object), dtype=str_dt)
                    codes = g.create_dataset(col, data=s.cat.codes.values.astype(np.int8))
                    codes.attrs["categories"] = cd.ref
                elif s.dtype == object:
                    g.create_dataset(col, data=np.array(s.values, dtype=object), dtype=str_dt)
                else:
                    g.create_dataset(col, data=s.values)


def write_v06(path, X, obs, var):
    """anndata 0.6 layout: obs/var as structured arrays with fixed-length strings, categorical
    codes with categories in uns/<column>_categories, dense X."""
    with h5py.File(path, "w") as f:
        f.create_dataset("X", data=X.toarray().astype(np.float32))
        o = np.zeros(len(obs), dtype=[("index", "S16"), ("cell_type", "i1"), ("n_genes", "<i8")])
        o["index"] = [s.encode() for s in obs.index]
        o["cell_type"] = obs["cell_type"].cat.codes.values
        o["n_genes"] = obs["n_genes"].values
        f.create_dataset("obs", data=o)
        v = np.zeros(len(var), dtype=[("index", "S16"), ("ensembl_id", "S24"), ("feature_name", h5py.string_dtype())])
        v["index"] = [s.encode() for s in var.index]
        v["ensembl_id"] = [s.encode() for s in var["ensembl_id"]]
        v["feature_name"] = list(var["feature_name"])
        f.create_dataset("var", data=v)
        f.create_group("uns").create_dataset("cell_type_categories",
                                             data=np.array([c.encode() for c in obs["cell_type"].cat.categories]))


def expected_x(X):
    """What the reader returns: CSR stored entries (order kept); nonzero entries for dense; for
    the CSC int64 file what scipy's tocsr() gives (columns ascending, values truncated)."""
    out = {"csr_indptr": X.indptr.astype(np.int64), "csr_cols": X.indices.astype(np.int32),
           "csr_vals": X.data.astype(np.float32)}
    for kind, dense in (("nz", X.toarray()), ("csc", X.toarray().astype(np.int64))):
        csr = sp.csc_matrix(dense).tocsr() if kind == "csc" else None
        if csr is not None:
            out.update({"csc_indptr": csr.indptr.astype(np.int64), "csc_cols": csr.indices.astype(np.int32),
                        "csc_vals": csr.data.astype(np.float32)})
            continue
        ptr, col, val = [0], [], []
        for r in range(dense.shape[0]):
            cols = np.nonzero(dense[r])[0]
            col += list(cols)
            val += list(dense[r, cols])
            ptr.append(len(col))
        out.update({"nz_indptr": np.array(ptr, dtype=np.int64), "nz_cols": np.array(col, dtype=np.int32),
                    "nz_vals": np.array(val, dtype=np.float32)})
    return out


def output_arrays(out, n, S, d, L):
    """Adds the reference outputs' arrays (zeros) to `out`: inference and generative mode."""
    for mode in ("inf", "gen"):
        out[f"{mode}.cell_emb"] = np.zeros((n, d), np.float32)
        out[f"{mode}.expr_pred"] = np.zeros((n, S), np.float32)
        out[f"{mode}.mvc_pred"] = np.zeros((n, S), np.float32)
        for i in range(L):
            out[f"{mode}.resid.{i}"] = np.zeros((n, S, d), np.float32)
    return out


def store_outputs(out, ref, c, ids, vals, gen):
    """Runs cell c (ids, vals: [1, m]; gen: [1, m] bool) both ways and stores the outputs."""
    m = ids.shape[1]
    for mode, g in (("inf", None), ("gen", gen)):
        r = ref(ids, vals, g)
        out[f"{mode}.cell_emb"][c] = r["cell_emb"][0].numpy()
        out[f"{mode}.expr_pred"][c, :m] = r["expr_pred"][0].numpy()
        out[f"{mode}.mvc_pred"][c, :m] = r["mvc_pred"][0].numpy()
        for i, h in enumerate(r["resid"]):
            out[f"{mode}.resid.{i}"][c, :m] = h[0].numpy()


def reference_outputs(name, sd, cfg, tokens, rows, var, rng):
    vocab = {t: i for i, t in enumerate(tokens)}

    def vid(g):
        return vocab.get(g, vocab.get(g.rsplit(".", 1)[0], -1)) if g not in vocab else vocab[g]

    gene_of_var = np.array([vid(g) for g in var["ensembl_id"]])
    cells = []
    for cols, vals in rows:
        keep = gene_of_var[cols] >= 0
        cells.append(tokenize_cell(gene_of_var[cols][keep], vals[keep], CLS, -2.0))
    S = max(len(ids) for ids, _ in cells)
    n, d, L = len(cells), cfg["d_model"], cfg["n_layers"]
    ref = Tx1Reference({k: torch.from_numpy(np.array(v)) for k, v in sd.items()}, cfg)
    out = output_arrays({"ids": np.full((n, S), PAD, np.int32), "values": np.full((n, S), -2.0, np.float32),
                         "len": np.array([len(i) for i, _ in cells], np.int32), "gen": np.zeros((n, S), np.uint8)},
                        n, S, d, L)
    for c, (ids, vals) in enumerate(cells):
        m = len(ids)
        out["ids"][c, :m] = ids.numpy()
        out["values"][c, :m] = vals.numpy()
        gen = torch.zeros(1, m, dtype=torch.bool)
        if m > 2:  # mask about half of the genes (never CLS), as the training collator does
            pick = rng.choice(np.arange(1, m), size=(m - 1) // 2, replace=False)
            gen[0, torch.from_numpy(pick)] = True
        out["gen"][c, :m] = gen[0].numpy()
        store_outputs(out, ref, c, ids[None], vals[None], gen)
    tx1_files.write_safetensors(os.path.join(OUT, f"ref_{name}.safetensors"), out)


def binning_fixture(rng):
    vals, offs, bins = [], [0], []
    for c in range(240):
        n = int(rng.integers(1, 700))
        kind = c % 6
        if kind == 0:
            x = rng.poisson(rng.uniform(0.3, 8), n).astype(np.float32)           # counts with zeros, ties
        elif kind == 1:
            x = (rng.poisson(rng.uniform(1, 40), n) + 1).astype(np.float32)       # all positive
        elif kind == 2:
            x = np.log1p(rng.gamma(0.5, 20, n)).astype(np.float32)                # normalised, log1p
        elif kind == 3:
            x = np.full(n, float(rng.integers(1, 5)), np.float32)                 # constant
        elif kind == 4:
            x = rng.normal(0, 1, n).astype(np.float32)                            # negatives (scaled data)
        else:
            x = (rng.random(n) * 1e4).astype(np.float32) * (rng.random(n) > 0.3)  # floats with zeros
        vals.append(x.astype(np.float32))
        bins.append(bin_cell(torch.from_numpy(vals[-1])).numpy().astype(np.uint8))
        offs.append(offs[-1] + n)
    lin_n = [2, 3, 7, 10, 16, 17, 31, 33, 50, 64, 100, 257, 600]
    lin = np.concatenate([torch.linspace(0, 1, k, dtype=torch.float32).numpy() for k in lin_n])
    tx1_files.write_safetensors(os.path.join(OUT, "binning.safetensors"), {
        "values": np.concatenate(vals), "offsets": np.array(offs, np.int64), "bins": np.concatenate(bins),
        "linspace_n": np.array(lin_n, np.int32), "linspace": lin.astype(np.float32)})


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(0)
    rng = np.random.default_rng(20251126)
    tokens = vocab_tokens()
    V = len(tokens)
    note = "tiny random test model (saeg tests/models/gen_tx1_fixtures.py), not Tahoe X1 weights"

    X, obs, var, rows = make_cells(tokens, rng)
    write_h5ads(X, obs, var)
    tx1_files.write_safetensors(os.path.join(OUT, "expected_x.safetensors"), expected_x(X))

    models = {
        "tiny_relu": dict(d_model=32, n_layers=3, n_heads=4, act="relu", value_act="relu", dec_act="leaky_relu",
                          attn="triton", dec_layers=1, dtype="F32"),
        "tiny_gelu_bf16": dict(d_model=48, n_layers=2, n_heads=3, act="gelu", value_act="gelu", dec_act="gelu",
                               attn="flash", dec_layers=2, dtype="BF16"),
    }
    g = torch.Generator().manual_seed(1234)
    for name, m in models.items():
        cfg = {"d_model": m["d_model"], "n_layers": m["n_layers"], "n_heads": m["n_heads"],
               "transformer_activation": m["act"], "value_activation": m["value_act"],
               "decoder_activation": m["dec_act"], "decoder_layers": m["dec_layers"], "pad_token_id": PAD}
        sd = {k: v.numpy() for k, v in random_state_dict(cfg, V, g).items()}
        if m["dtype"] == "BF16":
            sd = {k: tx1_files.bf16_round(v) for k, v in sd.items()}  # the reference sees what the file holds
        mc = tx1_files.model_config(m["d_model"], m["n_layers"], m["n_heads"], V, m["act"], m["value_act"],
                                    m["dec_act"], m["attn"], m["dec_layers"])
        cc = tx1_files.collator_config(64, PAD)
        tx1_files.write_model_folder(os.path.join(OUT, name), sd, mc, cc, tokens, m["dtype"], note)
        if name == "tiny_relu":
            tx1_files.write_model_folder(os.path.join(OUT, "tiny_relu_f16"), sd, mc, cc, tokens, "F16", note)
        reference_outputs(name, sd, cfg, tokens, rows, var, rng)
    binning_fixture(rng)
    total = sum(os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(OUT) for f in fs)
    print(f"{OUT}: {total / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
