#!/usr/bin/env bash
# Writes the seed corpora of the targets that read fixtures with a selector byte in front
# (tx1-config, validation) and of tx1-vocab, from the test fixtures. Run it after changing a
# fixture or a target's format list, and commit the result.
set -euo pipefail
cd "$(dirname "$0")/../.."
python3 - <<'PY'
import os, shutil

def seed(target, name, selector, path=None, text=None):
    d = f"tests/fuzz/corpus/{target}"
    os.makedirs(d, exist_ok=True)
    body = open(path, "rb").read() if path else text.encode()
    with open(f"{d}/{name}", "wb") as f:
        f.write((bytes([selector]) if selector is not None else b"") + body)

for target in ("tx1-config", "tx1-vocab", "validation"):
    shutil.rmtree(f"tests/fuzz/corpus/{target}", ignore_errors=True)

# tx1-config: even selector = model_config.yml, odd = collator_config.yml (fuzz_tx1_config.c)
for m in ("tiny_relu", "tiny_gelu_bf16"):
    seed("tx1-config", f"{m}-model", 0, f"tests/models/fixtures/{m}/model_config.yml")
    seed("tx1-config", f"{m}-collator", 1, f"tests/models/fixtures/{m}/collator_config.yml")
seed("tx1-config", "demo-model", 0, "examples/tx1-demo/demo-model/model_config.yml")
seed("tx1-config", "demo-collator", 1, "examples/tx1-demo/demo-model/collator_config.yml")
seed("tx1-vocab", "tiny", None, "tests/models/fixtures/tiny_relu/vocab.json")

# validation: the selector is the index in FORMATS (fuzz_validation.c)
F = "tests/validation/fixtures/"
features = ('{"schema": "saeg.feature_gene_associations/1", "rank_by": "mean", "top_k_genes": 100,\n'
            ' "background_genes": ["ENSG00000141510", "ENSG00000012048", "BRCA2", "1956"],\n'
            ' "features": [{"id": 0, "genes": [{"ensembl_id": "ENSG00000141510", "symbol": "TP53", "sum": 3,'
            ' "mean": 1.5, "max": 2}, {"ensembl_id": "", "symbol": "BRCA1", "sum": 1, "mean": 0.5, "max": 1}]},\n'
            '  {"id": "dead", "genes": []}]}\n')
formats = [
    ("gmt", F + "msigdb/h.all.v2024.1.Hs.entrez.gmt"),
    ("hgnc", F + "hgnc_complete_set.txt"),
    ("config", F + "validation-test.yaml"),
    ("features_json", None),
    ("features_gmt", F + "stats/query.gmt"),
    ("background", None),
    ("open_targets", F + "open_targets/associationByOverallDirect/part-00000-0a1b2c3d.c000.json"),
    ("open_targets_diseases", F + "open_targets/diseases/part-00000-9f8e7d6c.c000.json"),
    ("hpo", F + "hpo/genes_to_phenotype.txt"),
    ("hpo_obo", F + "hpo/hp.obo"),
    ("gwas", F + "gwas/gwas-catalog-associations_ontology-annotated.tsv"),
    ("disgenet", F + "disgenet/curated_gene_disease_associations.tsv.gz"),
    ("monarch", F + "monarch/causal_gene_to_disease_association.all.tsv"),
    ("string_links", F + "string/9606.protein.links.v12.0.txt"),
    ("string_info", F + "string/9606.protein.info.v12.0.txt"),
    ("omim", F + "omim/genemap2.txt"),
    ("orphanet", F + "orphanet/en_product6.xml"),
    ("clinvar", F + "clinvar/gene_condition_source_id"),
    ("gencc", F + "gencc/gencc-submissions.tsv"),
    ("go", F + "go/goa_human.gaf"),
    ("go_obo", F + "go/go-basic.obo"),
    ("reactome", F + "reactome/NCBI2Reactome_All_Levels.txt"),
    ("reactome_gmt", F + "reactome/ReactomePathways.gmt"),
    ("kegg", F + "kegg/kegg_medicus.symbols.gmt"),
    ("msigdb", F + "msigdb/h.all.v2024.1.Hs.entrez.gmt"),
]
texts = {"features_json": features, "background": "# one gene per line\nTP53\nBRCA1\n\nENSG00000141510\n1956\nNOPE\n"}
for i, (name, path) in enumerate(formats):
    if path:
        seed("validation", f"{i:02d}-{name}", i, path)
    else:
        seed("validation", f"{i:02d}-{name}", i, text=texts[name])
PY
