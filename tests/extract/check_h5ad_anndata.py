#!/usr/bin/env python3
"""Opens the `saeg extract --write-h5ad` copy with the real anndata package and checks it.

    check_h5ad_anndata.py ORIGINAL.h5ad COPY.h5ad RUN_DIR

anndata.read_h5ad must read the copy; X, obs, var, uns and the other obsm entries must equal the
original's; obsm['X_sae'] must be a (n_obs x d_sae) sparse matrix whose column f has
n_active_cells[f] non-zeros and holds each top cell's activation (feature_cell_associations.json).
Exit 0 when it all holds, 1 otherwise, 77 (skip) without anndata (Debian: python3-anndata).
"""
import json
import sys

try:
    import anndata
    import numpy as np
    import scipy.sparse as sp
except ImportError as e:
    print(f"skipped: {e}")
    sys.exit(77)


def main():
    orig_path, copy_path, run = sys.argv[1:4]
    a, b = anndata.read_h5ad(orig_path), anndata.read_h5ad(copy_path)
    bad = []
    xa, xb = a.X, b.X
    if sp.issparse(xa) != sp.issparse(xb) or (xa != xb).sum() != 0:
        bad.append("X differs")
    if not a.obs.equals(b.obs):
        bad.append("obs differs")
    if not a.var.equals(b.var):
        bad.append("var differs")
    if set(a.uns.keys()) != set(b.uns.keys()):
        bad.append("uns differs")
    if (set(a.obsm.keys()) | {"X_sae"}) != set(b.obsm.keys()):
        bad.append(f"obsm keys {list(b.obsm.keys())}, the original has {list(a.obsm.keys())}")
    cells = json.load(open(f"{run}/feature_cell_associations.json"))
    d_sae = len(cells["features"])
    x = b.obsm["X_sae"]
    if not sp.issparse(x) or x.shape != (a.n_obs, d_sae):
        bad.append(f"obsm['X_sae'] is {type(x).__name__} {getattr(x, 'shape', None)}")
    else:
        x = sp.csc_matrix(x)
        for f in cells["features"]:
            i = f["id"]
            col = x[:, i]
            if col.nnz != f["n_active_cells"]:
                bad.append(f"feature {i}: {col.nnz} non-zeros, {f['n_active_cells']} active cells")
            for c in f["top_cells"]:
                v = x[c["row"], i]
                if not np.isclose(v, c["activation"], rtol=1e-7, atol=0):
                    bad.append(f"feature {i}, cell {c['row']}: {v} != {c['activation']}")
    for m in bad[:20]:
        print("FAIL:", m)
    print(f"anndata {anndata.__version__} read {copy_path}: {b.n_obs} x {b.n_vars}, obsm['X_sae'] "
          f"{x.shape}: {'ok' if not bad else f'{len(bad)} problems'}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
