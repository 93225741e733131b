"""A plain PyTorch implementation of Tahoe X1 from the spec (../shared/reference/tahoe_x1.md),
fp32 on the CPU, with no dependency on the tahoe_x1 package. It is the reference the C forward
pass is checked against (tests/models/gen_tx1_fixtures.py) and the PyTorch side of
`saeg bench model`.

    ref = Tx1Reference(state_dict, cfg)           # keys without the "model." prefix
    out = ref(ids, values, gen)                    # [B, S] each; gen: bool (masked tokens)
    out["cell_emb"], out["resid"][i], out["expr_pred"], out["mvc_pred"]

Tokenization follows tahoe_x1/data/collator.py: CLS first with the pad value, the cell's
vocabulary genes in stored order, per-cell quantile bins (torch.quantile + torch.bucketize + 1).
"""
import math

import torch
import torch.nn.functional as F


def act_fn(name):
    if name == "relu":
        return F.relu
    if name == "gelu":
        return lambda x: F.gelu(x)  # exact erf form, as llm-foundry resolves "gelu"
    if name == "leaky_relu":
        return lambda x: F.leaky_relu(x, 0.01)
    raise ValueError(name)


def bin_cell(values, num_bins=51, right=False):
    """collator.binning on one cell's gene values (float32 tensor), bins as float32."""
    row = values.to(torch.float32)
    grades = torch.linspace(0, 1, num_bins - 1, dtype=torch.float32)
    if row.min() <= 0:
        nz = row.nonzero()
        nz_row = row[nz]
        bins = torch.quantile(nz_row, grades)
        digits = torch.bucketize(nz_row, bins, right=right)
        out = torch.zeros_like(row, dtype=digits.dtype)
        out[nz] = digits
    else:
        bins = torch.quantile(row, grades)
        out = torch.bucketize(row, bins, right=right)
    if not right:
        out = out + 1
    return out.to(torch.float32)


def tokenize_cell(gene_ids, values, cls_id, pad_value, num_bins=51):
    """One cell: CLS + genes in the given (stored) order, binned values. No subsampling."""
    ids = torch.cat([torch.tensor([cls_id]), torch.as_tensor(gene_ids, dtype=torch.long)])
    vals = torch.as_tensor(values, dtype=torch.float32)
    binned = bin_cell(vals, num_bins) if len(vals) else vals
    return ids, torch.cat([torch.tensor([float(pad_value)]), binned])


class Tx1Reference:
    def __init__(self, sd, cfg):
        self.sd = {k: v.to(torch.float32) for k, v in sd.items()}
        self.d = cfg["d_model"]
        self.n_layers = cfg["n_layers"]
        self.n_heads = cfg["n_heads"]
        self.eps = cfg.get("eps", 1e-5)
        self.act_ffn = act_fn(cfg["transformer_activation"])
        self.act_value = act_fn(cfg["value_activation"])
        self.act_dec = act_fn(cfg["decoder_activation"])
        self.n_dec = cfg.get("decoder_layers", 1)
        self.max_value = cfg.get("max_value", 512)
        self.pad_id = cfg["pad_token_id"]

    def w(self, key):
        return self.sd[key]

    def ln(self, x, prefix):
        return F.layer_norm(x, (self.d,), self.w(prefix + ".weight"), self.w(prefix + ".bias"), self.eps)

    def linear(self, x, prefix, bias=True):
        return F.linear(x, self.w(prefix + ".weight"), self.w(prefix + ".bias") if bias else None)

    def attention(self, x, i, allowed):
        B, S, d = x.shape
        H, hd = self.n_heads, d // self.n_heads
        qkv = self.linear(x, f"transformer_encoder.layers.{i}.self_attn.Wqkv")
        q, k, v = qkv.split(d, dim=-1)
        q, k, v = (t.reshape(B, S, H, hd).transpose(1, 2) for t in (q, k, v))
        s = q @ k.transpose(-1, -2) / math.sqrt(hd)
        s = s.masked_fill(~allowed[:, None, :, :], float("-inf"))
        p = torch.softmax(s, dim=-1)
        p = torch.nan_to_num(p, nan=0.0)  # a query that sees no key (never a valid one)
        o = (p @ v).transpose(1, 2).reshape(B, S, d)
        return self.linear(o, f"transformer_encoder.layers.{i}.self_attn.out_proj")

    @torch.no_grad()
    def __call__(self, ids, values, gen=None, heads=True):
        B, S = ids.shape
        if gen is None:
            gen = torch.zeros(B, S, dtype=torch.bool)
        valid = ids != self.pad_id
        # allowed(q, k) = valid[k] and (not gen[k] or q == k)
        eye = torch.eye(S, dtype=torch.bool)[None]
        allowed = valid[:, None, :] & (~gen[:, None, :] | eye)

        g = F.embedding(ids, self.w("gene_encoder.embedding.weight"))
        g = self.ln(g, "gene_encoder.enc_norm")
        v = torch.clamp(values.unsqueeze(-1), max=self.max_value)
        v = self.act_value(self.linear(v, "expression_encoder.linear1"))
        v = self.ln(self.linear(v, "expression_encoder.linear2"), "expression_encoder.norm")
        v = v.masked_fill(gen.unsqueeze(-1), 0.0)
        flag = gen.unsqueeze(-1).to(torch.float32) * self.w("flag_encoder.weight")[1]
        h = g + v + flag

        resid = []
        for i in range(self.n_layers):
            p = f"transformer_encoder.layers.{i}"
            h = h + self.attention(self.ln(h, p + ".norm1"), i, allowed)
            m = self.ln(h, p + ".norm2")
            h = h + self.linear(self.act_ffn(self.linear(m, p + ".up_proj")), p + ".down_proj")
            resid.append(h)
        out = self.ln(h, "transformer_encoder.norm")
        cell_emb = out[:, 0, :]
        if not heads:
            return {"cell_emb": cell_emb, "resid": resid, "out": out}

        e = out
        for j in range(self.n_dec):
            e = self.act_dec(self.linear(e, f"expression_decoder.linear_layers.{j}"))
        expr = self.linear(e, "expression_decoder.out_proj").squeeze(-1)

        q = torch.sigmoid(self.linear(g, "mvc_decoder.gene2query"))
        mvc = torch.bmm(self.linear(q, "mvc_decoder.W", bias=False), cell_emb.unsqueeze(2)).squeeze(2)
        mvc = mvc / torch.sqrt(torch.tensor(float(self.d)))
        return {"cell_emb": cell_emb, "resid": resid, "out": out, "expr_pred": expr, "mvc_pred": mvc}


def random_state_dict(cfg, vocab_size, generator, dtype=torch.float32):
    """Random weights with the released key names and shapes (no "model." prefix)."""
    d, L, f = cfg["d_model"], cfg["n_layers"], cfg["d_model"] * cfg.get("expansion_ratio", 4)

    def lin(out_f, in_f):
        return torch.randn(out_f, in_f, generator=generator) / math.sqrt(in_f)

    def vec(n, scale=0.1):
        return torch.randn(n, generator=generator) * scale

    def norm_w(n):
        return 1.0 + torch.randn(n, generator=generator) * 0.1

    sd = {
        "gene_encoder.embedding.weight": torch.randn(vocab_size, d, generator=generator),
        "gene_encoder.enc_norm.weight": norm_w(d),
        "gene_encoder.enc_norm.bias": vec(d),
        "flag_encoder.weight": torch.randn(2, d, generator=generator),
        "expression_encoder.linear1.weight": torch.randn(d, 1, generator=generator) * 0.3,
        "expression_encoder.linear1.bias": vec(d),
        "expression_encoder.linear2.weight": lin(d, d),
        "expression_encoder.linear2.bias": vec(d),
        "expression_encoder.norm.weight": norm_w(d),
        "expression_encoder.norm.bias": vec(d),
    }
    for i in range(L):
        p = f"transformer_encoder.layers.{i}"
        sd.update({
            p + ".norm1.weight": norm_w(d), p + ".norm1.bias": vec(d),
            p + ".self_attn.Wqkv.weight": lin(3 * d, d), p + ".self_attn.Wqkv.bias": vec(3 * d),
            p + ".self_attn.out_proj.weight": lin(d, d), p + ".self_attn.out_proj.bias": vec(d),
            p + ".norm2.weight": norm_w(d), p + ".norm2.bias": vec(d),
            p + ".up_proj.weight": lin(f, d), p + ".up_proj.bias": vec(f),
            p + ".down_proj.weight": lin(d, f), p + ".down_proj.bias": vec(d),
        })
    sd.update({
        "transformer_encoder.norm.weight": norm_w(d), "transformer_encoder.norm.bias": vec(d),
        "expression_decoder.out_proj.weight": lin(1, d), "expression_decoder.out_proj.bias": vec(1),
        "mvc_decoder.gene2query.weight": lin(d, d), "mvc_decoder.gene2query.bias": vec(d),
        "mvc_decoder.W.weight": lin(d, d),
    })
    for j in range(cfg.get("decoder_layers", 1)):
        sd[f"expression_decoder.linear_layers.{j}.weight"] = lin(d, d)
        sd[f"expression_decoder.linear_layers.{j}.bias"] = vec(d)
    return {k: v.to(dtype) for k, v in sd.items()}
