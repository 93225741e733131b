#!/usr/bin/env python3
"""Recomputes `saeg extract`'s results from scratch and compares them with its files.

    check_extract_reference.py RUN_DIR EMBEDDINGS.safetensors DATA.h5ad MODEL_DIR [COPY.h5ad]

Independent of the C code on every step after the model: the residual stream of every token comes
from `saeg embed` (resid.<layer>, token_cell, token_gene); the SAE is applied here with numpy from
the SAE folder the run names (TopK: the k largest pre-activations, ReLU); each token's gene and raw value are looked
up here in the h5ad (h5py) through the model's vocab.json; then gene scores, cell activations, the
CLS statistics, histograms, top-k lists and the Fisher/BH enrichment (scipy) are recomputed and
checked against feature_stats.json, feature_gene_associations.json and
feature_cell_associations.json, and obsm['X_sae'] of the --write-h5ad copy when there is one.

The SAE runs in float64 here and in float32 (OpenBLAS) in saeg, so activations agree to ~1e-5 and
a code sitting exactly at the TopK boundary could differ: counts are compared exactly and values to
1e-4 relative; a top-k list is accepted when each listed score matches the reference score of that
gene or cell and the list is a valid top-k of the reference (ties within tolerance may reorder).
Exit 0 when everything matches, 1 otherwise, 77 (skip) when numpy, scipy or h5py is missing.
"""
import json
import struct
import sys

try:
    import h5py
    import numpy as np
    from scipy import stats
except ImportError as e:  # the C tests still run; this check needs the scientific stack
    print(f"skipped: {e}")
    sys.exit(77)

TOL = 1e-4
failures = []


def fail(msg):
    failures.append(msg)
    if len(failures) <= 20:
        print("FAIL:", msg)


def close(a, b, tol=TOL):
    return abs(a - b) <= tol * (1 + abs(b))


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    dtypes = {"F32": np.float32, "I32": np.int32, "F16": np.float16}
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        a, b = t["data_offsets"]
        out[name] = np.frombuffer(data[a:b], dtype=dtypes[t["dtype"]]).reshape(t["shape"])
    return out, header.get("__metadata__", {})


def decode(ds):
    return [x.decode() if isinstance(x, bytes) else str(x) for x in ds[()]]


def read_column(frame, name):
    """A dataframe column as strings: plain string array or categorical group."""
    obj = frame[name]
    if isinstance(obj, h5py.Group):
        cats = decode(obj["categories"])
        return [cats[c] if c >= 0 else "" for c in obj["codes"][()]]
    return decode(obj)


def main():
    run, emb_path, data_path, model_dir = sys.argv[1:5]
    genes_json = json.load(open(f"{run}/feature_gene_associations.json"))
    cells_json = json.load(open(f"{run}/feature_cell_associations.json"))
    stats_json = json.load(open(f"{run}/feature_stats.json"))
    sae = genes_json.get("sae", f"{run}/sae")  # the SAE folder extract read, as it recorded it
    cfg = json.load(open(f"{sae}/cfg.json"))
    assert cfg["architecture"] == "topk", "this check applies TopK SAEs"
    w, _ = read_safetensors(f"{sae}/sae_weights.safetensors")
    W_enc, b_enc, b_dec = (w[k].astype(np.float64) for k in ("W_enc", "b_enc", "b_dec"))
    k, M = cfg["k"], cfg["d_sae"]
    layer = genes_json["layer"]

    emb, _ = read_safetensors(emb_path)
    resid = emb[f"resid.{layer}"].astype(np.float64)
    token_cell, token_gene = emb["token_cell"], emb["token_gene"]
    vocab = json.load(open(f"{model_dir}/vocab.json"))
    id_to_token = {v: t for t, v in vocab.items()}
    cls_id = vocab["<cls>"]

    pre = (resid - b_dec) @ W_enc + b_enc
    top = np.argsort(-pre, axis=1, kind="stable")[:, :k]
    act = np.zeros_like(pre)
    rows_ = np.arange(pre.shape[0])[:, None]
    act[rows_, top] = np.maximum(pre[rows_, top], 0)

    f = h5py.File(data_path, "r")
    X = f["X"]
    indptr, indices, values = X["indptr"][()], X["indices"][()], X["data"][()]
    var = f["var"]
    key = genes_json["gene_id_key"] or var.attrs["_index"]
    gene_ids = read_column(var, key)
    by_token = {}
    for j, g in enumerate(gene_ids):
        by_token.setdefault(g.split(".")[0], j)
    obs = f["obs"]
    obs_index = read_column(obs, obs.attrs["_index"])
    ct_key = cells_json["cell_type_key"]
    types = read_column(obs, ct_key) if ct_key else None

    n_cells = cells_json["n_cells"]
    assert n_cells == len(set(token_cell.tolist())), "embed and extract saw different cells"
    # per token: its gene (var index) and raw value; CLS has none
    tok_var = np.full(len(token_cell), -1)
    tok_raw = np.zeros(len(token_cell))
    for t, (c, gid) in enumerate(zip(token_cell, token_gene)):
        if gid == cls_id:
            continue
        j = by_token[id_to_token[int(gid)]]
        lo, hi = indptr[c], indptr[c + 1]
        hit = np.nonzero(indices[lo:hi] == j)[0]
        tok_var[t] = j
        tok_raw[t] = values[lo + hit[0]] if len(hit) else 0.0
    is_gene = tok_var >= 0

    # feature statistics over gene tokens
    ga = act[is_gene]
    n_tok = int(is_gene.sum())
    if stats_json["n_tokens"] != n_tok:
        fail(f"n_tokens {stats_json['n_tokens']} != {n_tok}")
    for fs in stats_json["features"]:
        i = fs["id"]
        v = ga[:, i][ga[:, i] > 0]
        if fs["n_active"] != len(v):
            fail(f"feature {i}: n_active {fs['n_active']} != {len(v)}")
            continue
        if len(v) and not (close(fs["mean_activation"], v.mean()) and close(fs["max_activation"], v.max())):
            fail(f"feature {i}: mean/max activation {fs['mean_activation']}/{fs['max_activation']}")
        if len(v):
            counts, _ = np.histogram(v, bins=stats_json["histogram_bins"], range=(v.min(), v.max()))
            if np.abs(np.asarray(fs["histogram"]["counts"]) - counts).sum() > 2:  # boundary values may move a bin
                fail(f"feature {i}: histogram {fs['histogram']['counts']} vs {counts.tolist()}")

    # cells: activation = max over gene tokens, CLS apart
    cell_act = np.zeros((n_cells, M))
    cls_act = np.zeros((n_cells, M))
    for c in range(n_cells):
        sel = token_cell == c
        g = sel & is_gene
        if g.any():
            cell_act[c] = act[g].max(axis=0)
        cls_act[c] = act[sel & ~is_gene][0]
    cells_by_row = {c["row"]: c for c in cells_json["cells"]}
    type_names = [t["type"] for t in cells_json["cell_types"]]
    for fc in cells_json["features"]:
        i = fc["id"]
        active = cell_act[:, i] > 0
        if fc["n_active_cells"] != int(active.sum()):
            fail(f"feature {i}: n_active_cells {fc['n_active_cells']} != {int(active.sum())}")
        cls_on = cls_act[:, i] > 0
        if not close(fc["cls"]["frequency"], cls_on.mean()):
            fail(f"feature {i}: CLS frequency {fc['cls']['frequency']} != {cls_on.mean()}")
        ref = sorted(((cell_act[c, i], c) for c in range(n_cells) if active[c]), key=lambda x: (-x[0], x[1]))
        top_k = cells_json["top_k_cells"]
        got = fc["top_cells"]
        if len(got) != min(top_k, len(ref)):
            fail(f"feature {i}: {len(got)} top cells, expected {min(top_k, len(ref))}")
        for e in got:
            r = e["row"]
            if not close(e["activation"], cell_act[r, i]) or not close(e["cls_activation"], cls_act[r, i]):
                fail(f"feature {i}: cell {r} activation {e['activation']} != {cell_act[r, i]}")
            if ref and len(got) == top_k and e["activation"] < ref[len(got) - 1][0] * (1 - TOL) - TOL:
                fail(f"feature {i}: cell {r} is not among the top {top_k}")
            if r not in cells_by_row or cells_by_row[r]["name"] != obs_index[r]:
                fail(f"feature {i}: cell {r} missing from cells[] or misnamed")
            elif types is not None and cells_by_row[r]["obs"][ct_key] != types[r]:
                fail(f"cell {r}: {ct_key} {cells_by_row[r]['obs'][ct_key]} != {types[r]}")
        # enrichment: one-sided Fisher over the cells' types, BH across the feature's types
        if types is not None:
            n = int(active.sum())
            rows = {}
            for t in type_names:
                in_t = np.array([x == t for x in types[:n_cells]])
                K, kk = int(in_t.sum()), int((in_t & active).sum())
                rows[t] = (kk, K, float(stats.hypergeom.sf(kk - 1, n_cells, K, n)))
            for e in fc["enrichment"]:
                kk, K, p = rows[e["type"]]
                if e["n_active_in_type"] != kk or e["n_type"] != K or not close(e["p"], p, 1e-9):
                    fail(f"feature {i}, type {e['type']}: ({e['n_active_in_type']}, {e['n_type']}, {e['p']}) "
                         f"!= ({kk}, {K}, {p})")

    # genes: activation x raw value, over the cells where the gene is expressed
    expressed = np.zeros(len(gene_ids))
    for t in np.nonzero(is_gene & (tok_raw != 0))[0]:
        expressed[tok_var[t]] += 1
    rank_by = genes_json["rank_by"]
    for fg in genes_json["features"]:
        i = fg["id"]
        sums, maxs, ns = {}, {}, {}
        for t in np.nonzero(is_gene & (tok_raw != 0) & (act[:, i] > 0))[0]:
            j, s = tok_var[t], act[t, i] * tok_raw[t]
            sums[j] = sums.get(j, 0.0) + s
            maxs[j] = max(maxs.get(j, -np.inf), s)
            ns[j] = ns.get(j, 0) + 1
        score = {j: {"sum": sums[j], "mean": sums[j] / expressed[j], "max": maxs[j]}[rank_by] for j in sums}
        ref = sorted(score.values(), reverse=True)
        got = fg["genes"]
        if len(got) != min(genes_json["top_k_genes"], len(ref)):
            fail(f"feature {i}: {len(got)} genes, expected {min(genes_json['top_k_genes'], len(ref))}")
        for pos, e in enumerate(got):
            j = by_token.get(e["ensembl_id"].split(".")[0])
            if j is None or j not in sums:
                fail(f"feature {i}: gene {e['ensembl_id']} never scored")
                continue
            if not (close(e["sum"], sums[j]) and close(e["max"], maxs[j]) and e["n_cells"] == ns[j]
                    and close(e["mean"], sums[j] / expressed[j])):
                fail(f"feature {i}: gene {e['ensembl_id']} scores {e} != sum {sums[j]}, max {maxs[j]}, n {ns[j]}")
            if not close(score[j], ref[pos]):
                fail(f"feature {i}: gene {e['ensembl_id']} at rank {pos} scores {score[j]}, expected {ref[pos]}")

    # obsm['X_sae'] of the h5ad copy: the cell activations
    if len(sys.argv) > 5:
        g = h5py.File(sys.argv[5], "r")["obsm/X_sae"]
        dense = np.zeros(tuple(g.attrs["shape"]))
        ip, ix, dv = g["indptr"][()], g["indices"][()], g["data"][()]
        for r in range(dense.shape[0]):
            dense[r, ix[ip[r]:ip[r + 1]]] = dv[ip[r]:ip[r + 1]]
        if not np.allclose(dense[:n_cells], cell_act, rtol=TOL, atol=TOL):
            fail("obsm['X_sae'] differs from the cell activations")

    print(f"checked {M} features over {n_cells} cells and {n_tok} gene tokens: "
          f"{'ok' if not failures else f'{len(failures)} failures'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
