#!/usr/bin/env python3
"""Writes a synthetic but realistic run directory for the dashboard tests (standard library only).

    tests/dashboard/make_results.py OUT_DIR [--features N] [--seed S] [--hostile]

The genes (real HSMM Ensembl IDs and symbols) and cells (the 271 HSMM myoblasts with their obs
columns) come from the committed tables in fixtures/ (see fixtures/extract_hsmm_tables.py).
Features are drawn from a few gene programs (myogenesis, cell cycle, ribosome, mitochondria,
extracellular matrix, noise) with a preferred time point, so top genes, top cells, cell-type
enrichment and validation terms agree with each other the way a real run's would. Every file
follows docs/schemas.md; the output is the same for the same arguments.

--hostile puts HTML and script fragments, quotes and ampersands into gene symbols, cell names,
obs keys and values, cell types, term names, source titles and a term URL, to check that the
dashboard shows them as text.
"""
import argparse
import copy
import json
import math
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "fixtures")

HOSTILE = [
    "<script>alert(1)</script>",
    "</script><script>alert(2)</script>",
    "<img src=x onerror=alert(3)>",
    "\"quoted\" & 'apos' &amp; <b>bold</b>",
    "<!--",
    "\u2028line\u2029sep",
]

PROGRAMS = {
    "myogenesis": dict(prefer="72h", weight=3, genes=[
        "MYOG", "MYOD1", "MYF5", "MYF6", "DES", "TNNT1", "TNNT2", "MYH3", "MYH8", "MYL4", "CHRNA1",
        "CKM", "ACTC1", "ENO3", "MEF2C", "MYL1", "TNNC1", "TNNI1", "MYMK", "CDH15", "MYLPF", "TTN",
        "NEB", "ACTN2", "CHRNG", "MYBPH", "CAV3"]),
    "cell_cycle": dict(prefer="0h", weight=3, genes=[
        "CDK1", "MKI67", "TOP2A", "PCNA", "CCNB1", "CCNA2", "HIST1H4C", "TUBB", "H2AFZ", "HMGB2",
        "STMN1", "TYMS", "MCM2", "MCM3", "MCM7", "RRM2", "CKS2", "UBE2C", "BIRC5", "CENPF", "PTTG1",
        "CDKN3", "KIAA0101", "TK1", "CCNB2", "NUSAP1"]),
    "ribosome": dict(prefer=None, weight=2, prefixes=("RPL", "RPS")),
    "mitochondria": dict(prefer=None, weight=1, prefixes=("MT-",)),
    "ecm": dict(prefer="24h", weight=2, genes=[
        "COL1A1", "COL1A2", "COL3A1", "COL4A1", "COL4A2", "COL5A1", "COL6A1", "COL6A2", "COL6A3",
        "FN1", "SPARC", "TAGLN", "ACTA2", "CAV1", "VIM", "TPM2", "LGALS1", "TIMP1", "THBS1", "CTGF",
        "CYR61", "SERPINE1", "IGFBP7", "BGN", "DCN", "LUM", "POSTN"]),
    "noise": dict(prefer=None, weight=2, genes=[]),
}

TERMS = {
    "myogenesis": {
        "go": [("GO:0006936", "muscle contraction"), ("GO:0007517", "muscle organ development"),
               ("GO:0007519", "skeletal muscle tissue development"), ("GO:0030239", "myofibril assembly")],
        "hpo": [("HP:0003198", "Myopathy"), ("HP:0001324", "Muscle weakness"),
                ("HP:0003701", "Proximal muscle weakness")],
        "reactome": [("R-HSA-397014", "Muscle contraction"), ("R-HSA-390522", "Striated Muscle Contraction")],
    },
    "cell_cycle": {
        "go": [("GO:0007049", "cell cycle"), ("GO:0000278", "mitotic cell cycle"),
               ("GO:0007059", "chromosome segregation"), ("GO:0006260", "DNA replication")],
        "hpo": [("HP:0002664", "Neoplasm"), ("HP:0001903", "Anemia")],
        "reactome": [("R-HSA-69278", "Cell Cycle, Mitotic"), ("R-HSA-69306", "DNA Replication")],
    },
    "ribosome": {
        "go": [("GO:0006412", "translation"), ("GO:0002181", "cytoplasmic translation")],
        "hpo": [("HP:0001903", "Anemia"), ("HP:0001510", "Growth delay")],
        "reactome": [("R-HSA-72766", "Translation"), ("R-HSA-156902", "Peptide chain elongation")],
    },
    "mitochondria": {
        "go": [("GO:0006119", "oxidative phosphorylation"), ("GO:0022900", "electron transport chain")],
        "hpo": [("HP:0003128", "Lactic acidosis"), ("HP:0001250", "Seizure")],
        "reactome": [("R-HSA-163200", "Respiratory electron transport")],
    },
    "ecm": {
        "go": [("GO:0030198", "extracellular matrix organization"), ("GO:0001525", "angiogenesis")],
        "hpo": [("HP:0001382", "Joint hypermobility"), ("HP:0000974", "Hyperextensible skin")],
        "reactome": [("R-HSA-1474244", "Extracellular matrix organization"),
                     ("R-HSA-1650814", "Collagen biosynthesis and modifying enzymes")],
    },
}

SOURCES = [  # name, title, tier, status, reason-or-url
    ("go", "Gene Ontology (biological process)", 0, "ok", "https://amigo.geneontology.org/amigo/term/{}"),
    ("hpo", "Human Phenotype Ontology", 1, "ok", "https://hpo.jax.org/browse/term/{}"),
    ("reactome", "Reactome pathways", 0, "ok", "https://reactome.org/content/detail/{}"),
    ("string", "STRING protein interactions", 2, "ok", None),
    ("open_targets", "Open Targets Platform", 1, "skipped",
     "offline files not found (associationByOverallDirect/) and --offline"),
    ("disgenet", "DisGeNET", 2, "skipped", "no DISGENET_API_KEY in the environment or .env"),
    ("omim", "OMIM", 3, "failed", "genemap2.txt: line 12: expected 14 tab-separated columns, found 3"),
]


def read_tsv(name):
    with open(os.path.join(FIXTURES, name)) as f:
        header = f.readline().rstrip("\n").split("\t")
        return [dict(zip(header, line.rstrip("\n").split("\t"))) for line in f if line.strip()]


def log_hypergeom_pmf(k, N, K, n):
    lc = lambda a, b: math.lgamma(a + 1) - math.lgamma(b + 1) - math.lgamma(a - b + 1)
    return lc(K, k) + lc(N - K, n - k) - lc(N, n)


def fisher_greater(k, N, K, n):
    """P(X >= k) for X ~ Hypergeometric(N, K, n), summed in probability space (small N here)."""
    hi = min(K, n)
    return min(1.0, sum(math.exp(log_hypergeom_pmf(i, N, K, n)) for i in range(k, hi + 1)))


def bh(ps):
    order = sorted(range(len(ps)), key=lambda i: ps[i])
    q, m, prev = [0.0] * len(ps), len(ps), 1.0
    for rank in range(m, 0, -1):
        i = order[rank - 1]
        prev = min(prev, ps[i] * m / rank)
        q[i] = prev
    return q


def sig(x, digits=4):
    return float(f"{x:.{digits}g}")


class Run:
    def __init__(self, args):
        self.rng = random.Random(args.seed)
        self.n_features = args.features
        self.hostile = args.hostile
        self.genes = read_tsv("hsmm_genes.tsv")
        self.cells = read_tsv("hsmm_cells.tsv")
        self.programs = copy.deepcopy(PROGRAMS)
        self.obs_keys = ["time_point", "Media", "State", "Hours"]
        self.type_key = "time_point"
        if self.hostile:
            self.make_hostile()
        self.by_symbol = {g["symbol"]: i for i, g in enumerate(self.genes)}
        self.types = sorted({c[self.type_key] for c in self.cells}, key=lambda t: (len(t), t))
        self.n_cells = len(self.cells)
        self.n_tokens = sum(min(2047, int(float(c["Hours"]) * 3 + 1900)) for c in self.cells)
        self.program_genes = {name: self.members(p) for name, p in self.programs.items()}

    def make_hostile(self):
        for i, h in enumerate(HOSTILE):  # symbols of well-known genes become hostile strings
            self.genes[i]["symbol"] = h
        self.genes[len(HOSTILE)]["ensembl_id"] = "ENSG<script>alert(5)</script>"
        renamed = {"0h": HOSTILE[0], "24h": HOSTILE[3], "48h": HOSTILE[2], "72h": "72h </script>"}
        for c in self.cells:
            c["time_point"] = renamed[c["time_point"]]
            c["Media"] = c["Media"] + " <i>&amp;</i>"
            c["cell"] = c["cell"] + "</script>"
            c["<b>key</b>"] = HOSTILE[1]
        self.obs_keys.append("<b>key</b>")
        self.programs["myogenesis"]["prefer"] = renamed["72h"]
        self.programs["cell_cycle"]["prefer"] = renamed["0h"]
        self.programs["ecm"]["prefer"] = renamed["24h"]

    def members(self, p):
        if "prefixes" in p:
            return [i for i, g in enumerate(self.genes) if g["symbol"].startswith(p["prefixes"])]
        return [self.by_symbol[s] for s in p["genes"] if s in self.by_symbol]

    def pick_program(self):
        names = list(self.programs)
        return self.rng.choices(names, weights=[self.programs[n]["weight"] for n in names])[0]

    def feature(self, fid):
        rng = self.rng
        dead = rng.random() < 0.06
        prog = self.pick_program()
        f = {"id": fid, "program": prog, "dead": dead}
        if dead:
            f.update(frequency=0.0, n_active=0, mean=0.0, max=0.0, genes=[], cells=[], cell_frequency=0.0)
            return f
        f["frequency"] = 10 ** rng.uniform(-4.2, -0.6)
        f["n_active"] = max(1, round(f["frequency"] * self.n_tokens))
        f["frequency"] = f["n_active"] / self.n_tokens
        f["mean"] = rng.uniform(0.4, 3.0)
        f["max"] = f["mean"] * rng.uniform(2.5, 8.0)
        # top genes: mostly the program's, the rest random
        pool = list(self.program_genes[prog])
        rng.shuffle(pool)
        n_top = rng.randint(20, 40)
        chosen = pool[: int(n_top * 0.65)] if pool else []
        while len(chosen) < n_top:
            j = rng.randrange(len(self.genes))
            if j not in chosen:
                chosen.append(j)
        top = f["max"] * self.rng.uniform(0.6, 1.0)
        genes = []
        for rank, j in enumerate(chosen):
            g = self.genes[j]
            mean = top * math.exp(-rank / rng.uniform(6, 14)) * rng.uniform(0.9, 1.1)
            n_cells = max(1, min(int(g["n_cells"]), round(int(g["n_cells"]) * rng.uniform(0.1, 0.9))))
            genes.append({"ensembl_id": g["ensembl_id"], "symbol": g["symbol"],
                          "sum": sig(mean * n_cells * rng.uniform(0.8, 1.2)), "mean": sig(mean),
                          "max": sig(mean * rng.uniform(1.5, 4.0)), "n_cells": n_cells})
        genes.sort(key=lambda e: -e["mean"])
        f["genes"] = genes
        # cells: activity concentrated in the program's preferred time point
        prefer = self.programs[prog]["prefer"]
        n_cells_active = max(1, round(self.n_cells * min(0.9, math.sqrt(f["frequency"]) * 1.2 + rng.random() * 0.05)))
        weights = [4.0 if prefer and c[self.type_key] == prefer else 1.0 for c in self.cells]
        active = set()
        while len(active) < n_cells_active:
            active.add(rng.choices(range(self.n_cells), weights=weights)[0])
        acts = [(r, rng.uniform(0.2, 1.0) * (1.3 if weights[r] > 1 else 1.0)) for r in active]
        top = max(a for _, a in acts)  # the best cell reaches the feature's max activation
        f["cells"] = sorted(((r, f["max"] * a / top) for r, a in acts), key=lambda t: -t[1])
        f["cell_frequency"] = n_cells_active / self.n_cells
        return f

    def generate(self, out):
        feats = [self.feature(i) for i in range(self.n_features)]
        os.makedirs(os.path.join(out, "sae"), exist_ok=True)
        self.write(out, "feature_stats.json", self.stats(feats))
        self.write(out, "feature_gene_associations.json", self.gene_file(feats))
        self.write(out, "feature_cell_associations.json", self.cell_file(feats))
        self.write(out, "eval.json", self.eval_file(feats))
        self.write(out, os.path.join("sae", "cfg.json"), self.cfg())
        with open(os.path.join(out, "training_log.jsonl"), "w") as f:
            for line in self.training_log():
                f.write(json.dumps(line) + "\n")
        os.makedirs(os.path.join(out, "validation"), exist_ok=True)
        self.validation(out, feats)

    @staticmethod
    def write(out, name, doc):
        with open(os.path.join(out, name), "w") as f:
            json.dump(doc, f, indent=1, ensure_ascii=False)
            f.write("\n")

    def stats(self, feats):
        rows = []
        for f in feats:
            row = {"id": f["id"], "frequency": sig(f["frequency"], 6), "n_active": f["n_active"],
                   "cell_frequency": sig(f["cell_frequency"]), "mean_activation": sig(f["mean"]),
                   "max_activation": sig(f["max"]), "histogram": {"edges": [], "counts": []}}
            if not f["dead"]:
                lo, hi, bins = f["max"] * 0.002, f["max"], 50
                edges = [sig(lo + (hi - lo) * b / bins) for b in range(bins + 1)]
                scale = f["mean"] / f["max"] * bins
                w = [math.exp(-(b + 0.5) / scale) for b in range(bins)]
                counts = [int(f["n_active"] * x / sum(w)) for x in w]
                counts[0] += f["n_active"] - sum(counts)
                counts[-1] = max(counts[-1], 1)
                row["histogram"] = {"edges": edges, "counts": counts}
            rows.append(row)
        return {"schema": "saeg.feature_stats/1", "n_features": self.n_features, "n_cells": self.n_cells,
                "n_tokens": self.n_tokens, "tokens": "genes", "histogram_bins": 50, "features": rows}

    def gene_file(self, feats):
        return {"schema": "saeg.feature_gene_associations/1", "rank_by": "mean", "top_k_genes": 40,
                "n_features": self.n_features, "n_cells": self.n_cells, "gene_id_key": "",
                "symbol_key": "gene_short_name",
                "background_genes": [g["ensembl_id"].split(".")[0] for g in self.genes],
                "features": [{"id": f["id"], "genes": f["genes"]} for f in feats]}

    def cell_file(self, feats):
        top_k, used, rows = 20, set(), []
        sizes = {t: sum(1 for c in self.cells if c[self.type_key] == t) for t in self.types}
        for f in feats:
            top = [{"row": r, "activation": sig(a), "cls_activation": sig(a * self.rng.uniform(0, 0.6))
                    if self.rng.random() < 0.5 else 0.0} for r, a in f["cells"][:top_k]]
            used.update(t["row"] for t in top)
            n_act = len(f["cells"])
            enr = []
            if n_act:
                act_types = [self.cells[r][self.type_key] for r, _ in f["cells"]]
                for t in self.types:
                    k = act_types.count(t)
                    fold = (k / n_act) / (sizes[t] / self.n_cells)
                    enr.append({"type": t, "n_active_in_type": k, "n_type": sizes[t], "fold": sig(fold),
                                "p": fisher_greater(k, self.n_cells, sizes[t], n_act)})
                for e, q in zip(enr, bh([e["p"] for e in enr])):
                    e["p"], e["q"] = sig(e["p"]), sig(q)
                enr.sort(key=lambda e: e["p"])
            cls_freq = 0.0 if f["dead"] else sig(self.rng.uniform(0, 0.3))
            rows.append({"id": f["id"], "n_active_cells": n_act,
                         "cls": {"frequency": cls_freq, "mean_activation": sig(f["mean"] * 0.5) if cls_freq else 0.0,
                                 "max_activation": sig(f["max"] * 0.4) if cls_freq else 0.0},
                         "top_cells": top, "enrichment": enr})
        cells = [{"row": r, "name": self.cells[r]["cell"],
                  "obs": {k: self.cells[r][k] for k in self.obs_keys}} for r in sorted(used)]
        return {"schema": "saeg.feature_cell_associations/1", "n_cells": self.n_cells, "top_k_cells": top_k,
                "cell_activation": "max over the cell's gene tokens", "obs_keys": self.obs_keys,
                "cell_type_key": self.type_key,
                "cell_types": [{"type": t, "n_cells": sizes[t]} for t in self.types],
                "enrichment_test": "one-sided Fisher exact (greater); Benjamini-Hochberg across each feature's types",
                "cells": cells, "features": rows}

    def training_log(self):
        rng, steps, every, lr0, warm = self.rng, 3000, 10, 2.0e-4 * (16384 / 16384) ** -0.5, 1000
        out = []
        for step in range(every, steps + 1, every):
            t = step / steps
            ev = 0.86 - 0.62 * math.exp(-step / 420) + rng.gauss(0, 0.006)
            mse = (1 - ev) * 1.05
            aux = 0.18 * math.exp(-step / 900) + abs(rng.gauss(0, 0.004))
            lr = lr0 * min(1.0, step / warm) * (1.0 if t < 0.8 else (1 - t) / 0.2)
            out.append({"step": step, "loss": sig(mse + aux / 32, 5), "mse": sig(mse, 5), "aux": sig(aux, 5),
                        "l0": 32, "explained_variance": sig(ev, 5),
                        "dead_fraction": sig(max(0.0, 0.02 + 0.05 * (1 - math.exp(-step / 1500)) + rng.gauss(0, 0.002)), 4),
                        "lr": sig(lr, 5), "tokens": step * 4096, "tokens_per_s": round(9100 + rng.gauss(0, 250), 1),
                        })
        return out

    def eval_file(self, feats):
        """As pipeline/eval.c writes it."""
        bins = [0] * 20
        for f in feats:
            if not f["dead"]:
                bins[min(19, max(0, int((math.log10(f["frequency"] + 1e-10) + 10) / 0.5)))] += 1
        return {"schema": "saeg.eval/1", "n_tokens": self.n_tokens, "d_sae": self.n_features, "l0": 32, "l1": 41.27,
                "mse": 0.1433, "mse_per_token": 73.37, "explained_variance": 0.8612, "cosine": 0.9304,
                "l2_ratio": 0.9617, "relative_reconstruction_bias": 1.012,
                "dead_fraction": sig(sum(f["dead"] for f in feats) / len(feats)),
                "dense_fraction": sig(sum(f["frequency"] > 0.1 for f in feats) / len(feats)),
                "density_histogram": {"x": "log10(firing frequency + 1e-10), bins of 0.5 from -10 to 0",
                                      "bin_edges": [-10 + 0.5 * i for i in range(21)], "counts": bins,
                                      "dead": sum(f["dead"] for f in feats)},
                "loss_recovered": {"score": 0.9213, "loss_clean": 1.8123, "loss_sae": 1.941, "loss_ablation": 3.4471,
                                   "ablation": "zero", "cells": 64, "masked_tokens": 19661},
                "run": {"data": "examples/hsmm/hsmm.h5ad", "layer": 6, "tokens": "genes"}}

    def cfg(self):
        """As models/sae_io.c writes it (SAELens v6 plus saeg's metadata)."""
        return {"architecture": "topk", "d_in": 512, "d_sae": self.n_features, "dtype": "float32", "device": "cpu",
                "apply_b_dec_to_input": True, "normalize_activations": "none", "reshape_activations": "none",
                "k": 32, "rescale_acts_by_decoder_norm": False,
                "metadata": {"sae_lens_version": "6.18.0", "sae_lens_training_version": "6.18.0",
                             "model_name": "tahoe-x1", "hook_name": "transformer_encoder.layers.6",
                             "hook_head_index": None, "model_class_name": "TahoeX1", "context_size": 2048,
                             "prepend_bos": True, "dataset_path": "examples/hsmm/hsmm.h5ad",
                             "exclude_special_tokens": True, "neuronpedia_id": None, "model_size": "70m",
                             "layer": 6, "token_selection": "genes", "training_architecture": "topk", "k": 32,
                             "trained_with": "saeg"}}

    def validation(self, out, feats):
        rng = self.rng
        rows = []
        tested = [f for f in feats if f["genes"]]
        for name, title, tier, status, extra in SOURCES:
            if self.hostile and name == "go":
                title = HOSTILE[0] + " GO"
            row = {"source": name, "title": title, "tier": tier, "status": status}
            if status != "ok":
                row["reason"] = extra
                rows.append(row)
                continue
            doc = {"schema": "saeg.validation.source/1", "source": name, "title": title, "tier": tier,
                   "kind": "ppi_network" if name == "string" else "term_enrichment", "mode": "offline",
                   "version": {"go": "2024-06-17", "hpo": "hp/releases/2024-04-26", "reactome": "88",
                               "string": "12.0"}[name], "features": []}
            enriched = 0
            for f in feats:
                fe = {"id": str(f["id"]), "n_genes": len(f["genes"]), "n_in_universe": len(f["genes"]),
                      "tested": bool(f["genes"])}
                if f["genes"]:
                    hit = f["program"] in TERMS and rng.random() < 0.8
                    if name == "string":
                        e = rng.randint(8, 60) if hit else rng.randint(0, 6)
                        exp_e = sig(rng.uniform(2, 7))
                        p = sig(10 ** -rng.uniform(4, 12) if hit else rng.uniform(0.05, 1))
                        fe.update(n_nodes=len(f["genes"]), edges=e, expected_edges=exp_e, p=p,
                                  log10_p=sig(math.log10(p)), q_bh=sig(min(1, p * 40)), significant=hit)
                    else:
                        terms = []
                        for tid, tname in (TERMS[f["program"]][name] if hit else []):
                            K, n = rng.randint(30, 400), len(f["genes"])
                            k = rng.randint(3, min(n, 12))
                            p = 10 ** -rng.uniform(3, 14)
                            ov = [g["symbol"] for g in f["genes"][:k]]
                            url = extra.format(tid)
                            if self.hostile and tid.startswith("GO:0006936"):
                                tname, url = HOSTILE[2] + " " + tname, "javascript:alert(6)"
                            terms.append({"term_id": tid, "term_name": tname, "url": url, "N": 4200, "K": K,
                                          "n": n, "k": k, "p": sig(p), "log10_p": sig(math.log10(p)),
                                          "q_bh": sig(min(1, p * 300)), "q_bh_global": sig(min(1, p * 9000)),
                                          "fold_enrichment": sig((k / n) / (K / 4200)),
                                          "overlap_genes": ov})
                        terms.sort(key=lambda t: t["p"])
                        fe.update(n_tests=3100, n_significant=len(terms), n_significant_global=len(terms) // 2,
                                  terms=terms)
                    enriched += bool(hit)
                doc["features"].append(fe)
            frac = enriched / max(1, len(tested))
            null = sig(frac / rng.uniform(6, 15))
            doc["summary"] = {"features": len(feats), "features_tested": len(tested), "features_enriched": enriched,
                              "fraction_enriched": sig(frac)}
            self.write(out, os.path.join("validation", name + ".json"), doc)
            row.update(mode="offline", version=doc["version"], file="validation/" + name + ".json",
                       kind=doc["kind"], N=4200, features_tested=len(tested), fraction_enriched=sig(frac),
                       fraction_enriched_global=sig(frac * 0.7), null_fraction_enriched=null,
                       null_fraction_enriched_global=sig(null * 0.2), enrichment_over_null=sig(frac / null),
                       licence="CC BY 4.0")
            rows.append(row)
        summary = {"schema": "saeg.validation.summary/1", "generated_at": "2025-01-01T00:00:00Z",
                   "saeg_version": "0.1.0",
                   "input": {"feature_file": "feature_gene_associations.json", "features": len(feats),
                             "features_without_genes": len(feats) - len(tested), "rank_by": "mean", "top_n": 100,
                             "offline": True},
                   "sources": rows,
                   "any_source": {"features_with_genes": len(tested), "fraction_enriched": 0.61,
                                  "null_fraction_enriched": 0.07},
                   "sources_run": 4, "sources_failed": 1}
        self.write(out, os.path.join("validation", "summary.json"), summary)


def main_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("--features", type=int, default=384)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--hostile", action="store_true")
    args = ap.parse_args(argv)
    Run(args).generate(args.out)


if __name__ == "__main__":
    main_args(None)
