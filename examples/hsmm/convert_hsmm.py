#!/usr/bin/env python3
"""Converts the HSMM human skeletal muscle myoblast data set to h5ad.

Source: the Bioconductor package HSMMSingleCell (Debian: r-bioc-hsmmsinglecell), the data of
Trapnell et al. 2014 (Nature Biotechnology 32:381): 271 cells x 47,192 genes, FPKM values,
Ensembl gene IDs with version suffixes, cells sampled at 0, 24, 48 and 72 hours after the switch
to differentiation medium.

Needs R with HSMMSingleCell and Matrix, and Python with anndata and scipy (Debian:
r-bioc-hsmmsinglecell python3-anndata). Run from anywhere:

    examples/hsmm/convert_hsmm.py            # writes examples/hsmm/hsmm.h5ad

The result: X is CSR float32 (FPKM as published) over the genes expressed in at least one cell;
the var index holds the versioned Ensembl IDs (saeg strips the version; with no
var['ensembl_id'] column it reads the index), with var['gene_short_name'] and var['biotype'];
obs holds the sample sheet plus obs['time_point'] ("0h", "24h", "48h", "72h").
"""
import os
import subprocess
import sys
import tempfile

import anndata
import h5py
import numpy as np
import pandas as pd
import scipy.io
import scipy.sparse

HERE = os.path.dirname(os.path.abspath(__file__))

R_EXPORT = r"""
suppressMessages({library(HSMMSingleCell); library(Matrix)})
data(HSMM_expr_matrix); data(HSMM_gene_annotation); data(HSMM_sample_sheet)
out <- commandArgs(trailingOnly = TRUE)[1]
stopifnot(identical(rownames(HSMM_expr_matrix), rownames(HSMM_gene_annotation)))
stopifnot(identical(colnames(HSMM_expr_matrix), rownames(HSMM_sample_sheet)))
invisible(writeMM(Matrix(t(HSMM_expr_matrix), sparse = TRUE), file.path(out, "X.mtx")))
write.csv(HSMM_gene_annotation, file.path(out, "var.csv"))
write.csv(HSMM_sample_sheet, file.path(out, "obs.csv"))
"""


def recompress_x(src, dst):
    """Copies an h5ad, storing X/data and X/indices with the shuffle filter before gzip (about a
    third smaller for these values; any HDF5 reader decodes it)."""
    with h5py.File(src, "r") as fi, h5py.File(dst, "w") as fo:
        for k, v in fi.attrs.items():
            fo.attrs[k] = v
        for name in fi:
            if name != "X":
                fi.copy(fi[name], fo, name=name)
        xi = fi["X"]
        xo = fo.create_group("X")
        for k, v in xi.attrs.items():
            xo.attrs[k] = v
        for name in xi:
            d = xi[name]
            xo.create_dataset(name, data=d[...], chunks=(min(len(d), 1 << 16),), compression="gzip",
                              compression_opts=9, shuffle=True)
            for k, v in d.attrs.items():
                xo[name].attrs[k] = v


def main():
    out_path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "hsmm.h5ad")
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["Rscript", "-e", R_EXPORT, tmp], check=True)
        X = scipy.io.mmread(os.path.join(tmp, "X.mtx"))
        var = pd.read_csv(os.path.join(tmp, "var.csv"), index_col=0)
        obs = pd.read_csv(os.path.join(tmp, "obs.csv"), index_col=0)

    X = scipy.sparse.csr_matrix(X, dtype=np.float32)
    X.eliminate_zeros()
    X.sort_indices()
    # genes no cell expresses give no tokens; dropping them keeps the file small
    expressed = np.asarray((X != 0).sum(axis=0)).ravel() > 0
    X = X[:, expressed]
    var = var.loc[expressed]
    var.index.name = None
    for col in ("gene_short_name", "biotype"):
        var[col] = var[col].astype(str)
    obs.index.name = None
    obs["time_point"] = pd.Categorical([f"{int(h)}h" for h in obs["Hours"]], categories=["0h", "24h", "48h", "72h"])
    for col in ("Library", "Well", "Media"):
        obs[col] = obs[col].astype(str).astype("category")
    obs["State"] = obs["State"].astype(str).astype("category")

    adata = anndata.AnnData(X=X, obs=obs, var=var)
    adata.uns["source"] = ("HSMMSingleCell (Bioconductor): Trapnell et al. 2014, Nat Biotechnol 32:381; "
                           "FPKM of 271 human skeletal muscle myoblasts at 0, 24, 48, 72 h")
    with tempfile.TemporaryDirectory() as tmp:
        plain = os.path.join(tmp, "plain.h5ad")
        adata.write_h5ad(plain, compression="gzip", compression_opts=9)
        recompress_x(plain, out_path)
    print(f"{out_path}: {adata.n_obs} cells x {adata.n_vars} genes, {X.nnz} stored values, "
          f"{os.path.getsize(out_path) / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
