"""Checks that SAE folders written by saeg load in the real SAELens (not run in CI: it needs
torch and sae-lens, `pip install sae-lens`).

For each folder: SAE.load_from_disk must accept it unchanged, give the architecture and sizes
cfg.json names, hold exactly the tensors of sae_weights.safetensors, and reconstruct random
activations the way the architecture defines (computed here with numpy straight from the file):
  topk      f = scatter(topk(π, k)) with ReLU, π = (x - b_dec) W_enc + b_enc
  jumprelu  f = π · 1[π > threshold]
  standard  f = ReLU(π)
  x̂ = f W_dec + b_dec

    python check_saelens_load.py RUN/sae [MORE/sae ...]
prints one line per folder and exits non-zero if any fails.
"""
import json
import sys

import numpy as np
import torch
from safetensors.numpy import load_file
from sae_lens import SAE


def expected(arch, w, cfg, x):
    pre = (x - w["b_dec"]) @ w["W_enc"] + w["b_enc"]
    if arch == "topk":
        f = np.zeros_like(pre)
        idx = np.argsort(-pre, axis=1, kind="stable")[:, : cfg["k"]]
        rows = np.arange(pre.shape[0])[:, None]
        f[rows, idx] = np.maximum(pre[rows, idx], 0)
    elif arch == "jumprelu":
        f = pre * (pre > w["threshold"])
    else:
        f = np.maximum(pre, 0)
    return f @ w["W_dec"] + w["b_dec"]


def check(folder):
    cfg = json.load(open(f"{folder}/cfg.json"))
    w = load_file(f"{folder}/sae_weights.safetensors")
    sae = SAE.load_from_disk(folder, device="cpu")
    arch = sae.cfg.architecture()
    assert arch == cfg["architecture"], (arch, cfg["architecture"])
    assert sae.cfg.d_in == cfg["d_in"] and sae.cfg.d_sae == cfg["d_sae"]
    state = {k: v.detach().numpy() for k, v in sae.state_dict().items()}
    assert set(state) == set(w), (sorted(state), sorted(w))
    for k in w:
        assert np.array_equal(state[k], w[k]), k
    x = np.random.default_rng(0).standard_normal((64, cfg["d_in"])).astype(np.float32)
    x *= np.sqrt(cfg["d_in"]) / 4
    with torch.no_grad():
        got = sae.decode(sae.encode(torch.from_numpy(x))).numpy()
    want = expected(arch, w, cfg, x)
    err = float(np.max(np.abs(got - want)) / (np.max(np.abs(want)) + 1e-12))
    assert err < 1e-4, err
    md = cfg["metadata"]
    print(f"ok  {folder}: SAELens {arch} d_in {sae.cfg.d_in} d_sae {sae.cfg.d_sae}"
          f"{' k ' + str(sae.cfg.k) if arch == 'topk' else ''}, trained as {md.get('training_architecture')},"
          f" hook {sae.cfg.metadata.hook_name}; reconstruction matches (relative error {err:.1e})")


def main():
    failed = 0
    for folder in sys.argv[1:]:
        try:
            check(folder)
        except Exception as e:  # report every folder, then fail
            failed += 1
            print(f"FAIL {folder}: {type(e).__name__}: {e}")
    sys.exit(1 if failed or len(sys.argv) < 2 else 0)


if __name__ == "__main__":
    main()
