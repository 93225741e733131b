#!/usr/bin/env python3
"""Writes tests/extract/fixtures/accum_case.json: cells with tokens and SAE codes, and every number
`saeg extract`'s accumulators must produce from them, computed here the slow, obvious way
(plain Python loops in float64, numpy.histogram, scipy's hypergeometric test).

    /usr/bin/python3 tests/extract/gen_accum_fixture.py      # needs numpy and scipy

The case covers: a dead latent; a latent that fires only on CLS tokens; a latent that fires once
(single-value histogram, which numpy widens by 0.5 on each side); tied gene scores and tied cell
activations (the lower gene index / row ranks first); explicit zero expression values (a token,
but not an expressed gene); cells without a cell type; a cell type without cells; codes <= 0
(not firing); more cells than --top-k-cells; a latent enriched in one cell type.
"""
import json
import os

import numpy as np
from scipy import stats

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures", "accum_case.json")

M, G, T = 12, 15, 4          # latents, genes, cell types (type 3 gets no cells)
K_CODES, KG, KC, BINS = 3, 4, 3, 5
DEAD, CLS_ONLY, ONCE, TIED, TYPED = 11, 10, 5, 4, 9
TIE_GENES = (13, 14)


def f32(x):
    """x rounded to float32, as a Python float (exact in JSON and in C)."""
    return float(np.float32(x))


def make_cells(rng):
    cells = []
    random_latents = [f for f in range(M) if f not in (DEAD, CLS_ONLY, ONCE, TIED, TYPED)]
    random_genes = [g for g in range(G) if g not in TIE_GENES]
    for row in range(20):
        ctype = int(rng.integers(-1, 3))           # -1: no type
        n = int(rng.integers(1 if row == 7 else 0, 8))  # row 7 holds the single firing of ONCE
        genes = [int(g) for g in rng.choice(random_genes, size=n, replace=False)]
        raw = [f32(rng.choice([0.0, 1.0, 2.0, 3.0, 5.0, rng.uniform(0.1, 4)])) for _ in genes]
        if row < 4:                                 # identical tokens: tied genes and tied cells
            genes += list(TIE_GENES)
            raw += [2.0, 2.0]
        tokens = [("cls", 0, 0.0)] + [("gene", g, x) for g, x in zip(genes, raw)]
        idx, vals = [], []
        for t, (kind, g, _) in enumerate(tokens):
            lat = [int(f) for f in rng.choice(random_latents, size=K_CODES, replace=False)]
            val = [f32(v) if v > 0.15 else 0.0 for v in rng.uniform(0, 2, size=K_CODES)]
            if kind == "cls" and row % 3 == 0:
                lat[0], val[0] = CLS_ONLY, f32(0.75 + row / 100)
            if kind == "gene" and g in TIE_GENES:
                lat[0], val[0] = TIED, 1.25
            if kind == "gene" and row == 7 and t == 1:
                lat[0], val[0] = ONCE, 0.5
            if kind == "gene" and t == 1 and (ctype == 0 or row == 11):
                lat[1], val[1] = TYPED, f32(1 + row / 50)
            idx.append(lat)
            vals.append(val)
        cells.append({"row": row, "type": ctype, "var": [-1] + genes, "raw": [0.0] + raw,
                      "idx": idx, "vals": vals})
    return cells


def bh(p):
    """Benjamini-Hochberg q-values: q_(i) = min_{j >= i} m p_(j) / j, capped at 1."""
    p = np.asarray(p, dtype=float)
    m = len(p)
    order = np.argsort(p, kind="stable")
    q = np.empty(m)
    run = 1.0
    for r in range(m - 1, -1, -1):
        run = min(run, p[order[r]] * m / (r + 1))
        q[order[r]] = run
    return q


def reference(cells):
    n_active = [0] * M
    sum_act = [0.0] * M
    acts = [[] for _ in range(M)]
    cls_n, cls_sum, cls_max = [0] * M, [0.0] * M, [0.0] * M
    n_active_cells = [0] * M
    type_active = [[0] * T for _ in range(M)]
    type_size = [0] * T
    top = [[] for _ in range(M)]
    expressed = [0] * G
    pairs = {}
    rows = []
    n_tokens = 0
    for c in cells:
        cell_act, cls_act = [0.0] * M, [0.0] * M
        for f, v in zip(c["idx"][0], c["vals"][0]):
            if v > 0:
                cls_n[f] += 1
                cls_sum[f] += v
                cls_max[f] = max(cls_max[f], v)
                cls_act[f] = max(cls_act[f], v)
        for t in range(1, len(c["var"])):
            g, x = c["var"][t], c["raw"][t]
            if x != 0:
                expressed[g] += 1
            for f, v in zip(c["idx"][t], c["vals"][t]):
                if not v > 0:
                    continue
                n_active[f] += 1
                sum_act[f] += v
                acts[f].append(v)
                cell_act[f] = max(cell_act[f], v)
                if x != 0:
                    p = pairs.setdefault((f, g), [0.0, -np.inf, 0])
                    s = v * x
                    p[0] += s
                    p[1] = max(p[1], s)
                    p[2] += 1
        n_tokens += len(c["var"]) - 1
        row = []
        for f in range(M):
            if cell_act[f] > 0:
                n_active_cells[f] += 1
                if c["type"] >= 0:
                    type_active[f][c["type"]] += 1
                top[f].append((cell_act[f], c["row"], cls_act[f]))
                row.append([f, cell_act[f]])
        if c["type"] >= 0:
            type_size[c["type"]] += 1
        rows.append(row)

    N = len(cells)
    features = []
    for f in range(M):
        hist = {"edges": [], "counts": []}
        if acts[f]:
            lo, hi = min(acts[f]), max(acts[f])
            counts, edges = np.histogram(np.asarray(acts[f], dtype=np.float64), bins=BINS, range=(lo, hi))
            hist = {"edges": [float(e) for e in edges], "counts": [int(x) for x in counts]}
        n = n_active_cells[f]
        enrich = []
        for t in range(T):
            K = type_size[t]
            if K == 0:
                continue
            k = type_active[f][t]
            p = float(stats.hypergeom.sf(k - 1, N, K, n))
            p_fisher = stats.fisher_exact([[k, n - k], [K - k, N - K - (n - k)]], alternative="greater")[1]
            assert abs(p - p_fisher) <= 1e-12 * max(p, 1e-300) + 1e-15, (p, p_fisher)
            enrich.append({"type": t, "k": k, "K": K, "fold": (k / n) / (K / N) if n else None, "p": p})
        for e, q in zip(enrich, bh([e["p"] for e in enrich])):
            e["q"] = float(q)
        enrich.sort(key=lambda e: (e["p"], e["type"]))
        top_cells = sorted(top[f], key=lambda x: (-x[0], x[1]))[:KC]
        genes = {}
        for rank_by in ("mean", "sum", "max"):
            cand = []
            for (ff, g), (s, mx, cnt) in pairs.items():
                if ff != f:
                    continue
                score = {"mean": s / expressed[g], "sum": s, "max": mx}[rank_by]
                cand.append((score, g, s, mx, cnt))
            cand.sort(key=lambda x: (-x[0], x[1]))
            genes[rank_by] = [{"var": g, "sum": s, "mean": s / expressed[g], "max": mx, "n_cells": cnt}
                              for _, g, s, mx, cnt in cand[:KG]]
        features.append({
            "id": f, "n_active": n_active[f], "mean_activation": sum_act[f] / n_active[f] if n_active[f] else 0.0,
            "max_activation": max(acts[f]) if acts[f] else 0.0, "histogram": hist,
            "n_active_cells": n, "cls": {"n": cls_n[f], "mean": cls_sum[f] / cls_n[f] if cls_n[f] else 0.0,
                                          "max": cls_max[f]},
            "top_cells": [{"row": r, "activation": a, "cls_activation": ca} for a, r, ca in top_cells],
            "enrichment": enrich, "genes": genes})
    return {"n_cells": N, "n_tokens": n_tokens, "type_size": type_size, "expressed": expressed,
            "x_sae": rows, "features": features}


def check_coverage(cells, ref):
    """The edge cases the module docstring promises are really in the data."""
    feats = ref["features"]
    assert feats[DEAD]["n_active"] == 0 and feats[DEAD]["cls"]["n"] == 0
    assert feats[CLS_ONLY]["n_active"] == 0 and feats[CLS_ONLY]["cls"]["n"] > 0
    assert feats[ONCE]["n_active"] == 1
    assert [g["var"] for g in feats[TIED]["genes"]["sum"][:2]] == list(TIE_GENES)
    assert [c["row"] for c in feats[TIED]["top_cells"]] == [0, 1, 2]
    assert any(c["type"] < 0 for c in cells) and ref["type_size"][T - 1] == 0
    assert any(x == 0 for c in cells for x in c["raw"][1:])
    assert any(v <= 0 for c in cells for t in c["vals"] for v in t)
    assert any(f["n_active_cells"] > KC for f in feats)
    assert feats[TYPED]["enrichment"][0]["q"] < 0.01


def main():
    rng = np.random.default_rng(20251126)
    cells = make_cells(rng)
    check_coverage(cells, reference(cells))
    case = {"d_sae": M, "n_var": G, "n_types": T, "k": K_CODES, "top_k_genes": KG, "top_k_cells": KC,
            "histogram_bins": BINS, "cells": cells, "expected": reference(cells)}
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(case, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
