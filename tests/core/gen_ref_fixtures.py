#!/usr/bin/env python3
"""Writes tests/core/fixtures/ref_ops.bin: inputs and PyTorch-computed outputs for test-ref-kernels.

The expected values come from PyTorch (torch.nn.functional, torch.autograd, torch.optim), computed
in float64 from float32 inputs, so the C reference kernels are checked against an independent
implementation rather than against themselves. Run it with Debian's python3-torch:

    apt-get install -y python3-torch
    /usr/bin/python3 tests/core/gen_ref_fixtures.py

File format (little-endian), read by tests/core/test_ref_kernels.c:
    "SGFX" u32 version=1 u32 count
    count x { u32 name_len, name bytes, u32 type (0 f32, 3 i32: enum sg_type),
              u32 n_dims, i64 ne[n_dims] (ne[0] innermost, as in the engine), data }
A torch tensor of shape (s_{k-1}, ..., s_0) is stored contiguously with ne = (s_0, ..., s_{k-1}).
"""

import math
import os
import struct

import torch
import torch.nn.functional as F

torch.manual_seed(20240607)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "ref_ops.bin")
ENTRIES = []

F64 = torch.float64


def put(name, t):
    """Stores t (float -> f32, int -> i32) under name; shape reversed into ne order."""
    t = t.detach().cpu().contiguous()
    if t.is_floating_point():
        data, code = t.to(torch.float32).numpy().tobytes(), 0
    else:
        data, code = t.to(torch.int32).numpy().tobytes(), 3
    ne = list(reversed(t.shape)) or [1]
    ENTRIES.append((name, code, ne, data))


def scalar(name, x):
    put(name, torch.tensor([x], dtype=torch.float32))


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def r32(t):
    """Rounds to float32 and back: every input the C side reads as f32 must be exactly what
    torch computes with, or the comparison measures the input rounding instead of the kernel."""
    return t.to(torch.float32).to(F64)


def randf(*shape, scale=1.0):
    """Random float32 values, returned as float64 (exact) for the reference math."""
    return r32(torch.randn(*shape) * scale)


def f16_round(t):
    return t.to(torch.float16).to(F64)


def bf16_round(t):
    return t.to(torch.bfloat16).to(F64)


# ---- copies and casts ------------------------------------------------------------------------

def gen_copy():
    x = randf(4, 6, scale=3.0)
    # values that exercise rounding: f16 max, f16 overflow, an f16 subnormal, signed zero, an f16
    # tie, a bf16 tie
    x[0, :6] = torch.tensor([65504.0, 70000.0, 1e-7, -0.0, 1.0 + 2.0 ** -11, 1.0 + 3.0 * 2.0 ** -8], dtype=F64)
    x = r32(x)
    put("copy.x", x)                        # ne [6, 4]
    put("copy.x_f16", f16_round(x))         # torch's own rounding (round to nearest even)
    put("copy.x_bf16", bf16_round(x))
    put("copy.xt", x.t().contiguous())      # cont(transpose(x)), ne [4, 6]
    put("copy.xt_f16", f16_round(x).t().contiguous())
    framed = torch.zeros(4, 8, dtype=F64)   # x written into columns 1..6 of a zeroed [8, 4]
    framed[:, 1:7] = x
    put("copy.x_framed", framed)
    put("copy.ids", torch.randint(-5, 100, (3, 5), dtype=torch.int32))


# ---- elementwise, unary, reductions ---------------------------------------------------------

def gen_elementwise():
    a = randf(3, 1, 5)          # ne [5, 1, 3]
    b = randf(3, 4, 1)          # ne [1, 4, 3]
    b_div = r32(b.sign() * (b.abs() + 0.5))
    put("binary.a", a)
    put("binary.b", b)
    put("binary.b_div", b_div)
    put("binary.add", a + b)
    put("binary.sub", a - b)
    put("binary.mul", a * b)
    put("binary.div", a / b_div)

    x = randf(4, 5, 6)          # ne [6, 5, 4]
    put("sum_to.x", x)
    put("sum_to.rows", x.sum(dim=(0, 1), keepdim=True))   # ne [6, 1, 1]
    put("sum_to.mid", x.sum(dim=1, keepdim=True))         # ne [6, 1, 4]
    put("sum_to.all", x.sum().reshape(1))
    r = randf(1, 5, 1)          # ne [1, 5, 1]
    put("repeat.x", r)
    put("repeat.out", r.expand(4, 5, 6))


SLOPE = f32(0.1)   # the engine passes the slope as an f32 param


def gen_unary():
    x = torch.cat([torch.linspace(-6, 6, 49, dtype=torch.float32).to(F64), randf(31, scale=2.0),
                   r32(torch.tensor([0.0, -0.5, 0.5, -0.25, 0.7], dtype=F64))])
    put("unary.x", x)
    put("unary.gelu", F.gelu(x))                           # exact erf form (approximate='none')
    put("unary.sigmoid", torch.sigmoid(x))
    put("unary.tanh", torch.tanh(x))
    put("unary.relu", F.relu(x))
    put("unary.leaky_relu", F.leaky_relu(x, SLOPE))
    put("unary.clamp", torch.clamp(x, -0.5, 0.5))
    put("unary.sqr", x * x)
    put("unary.x_abs", x.abs())            # sqrt's input
    put("unary.sqrt", torch.sqrt(x.abs()))
    put("unary.scale", 1.75 * x + f32(-0.3))

    # backward through the activations; x holds exact 0 and the clamp bounds (the kinks)
    dy = randf(x.numel())
    put("act_back.dy", dy)
    for name, f in [("relu", F.relu), ("leaky_relu", lambda t: F.leaky_relu(t, SLOPE)), ("gelu", F.gelu),
                    ("clamp", lambda t: torch.clamp(t, -0.5, 0.5))]:
        xr = x.clone().requires_grad_(True)
        (g,) = torch.autograd.grad(f(xr), xr, dy)
        put("act_back." + name, g)


# ---- matmul --------------------------------------------------------------------------------

def gen_matmul():
    a = randf(1, 3, 5, 7)       # ne [7, 5, 3, 1]: M=5 rows of K=7
    b = randf(2, 1, 7, 6)       # ne [6, 7, 1, 2]: K=7 rows of N=6
    put("matmul_bcast.a", a)
    put("matmul_bcast.b", b)
    put("matmul_bcast.out", a @ b)                 # (2, 3, 5, 6): ne [6, 5, 3, 2]

    at = randf(7, 5)            # stored transposed: a = at^T
    bt = randf(6, 7)            # b = bt^T
    put("matmul_trans.at", at)
    put("matmul_trans.bt", bt)
    put("matmul_trans.out", at.t() @ bt.t())

    b2 = randf(2, 9, 3)
    put("matmul_half.b", b2)
    a2 = randf(2, 4, 9)
    a16, abf = f16_round(a2), bf16_round(a2)       # representable exactly in the C tensor's type
    put("matmul_half.a_f16", a16)
    put("matmul_half.a_bf16", abf)
    put("matmul_half.out_f16", a16 @ b2)
    put("matmul_half.out_bf16", abf @ bf16_round(b2))  # a bf16 GEMM rounds b to bf16 too (sg_matmul)


# ---- normalisation, softmax ------------------------------------------------------------------

def gen_norm():
    eps = f32(1e-5)
    scalar("layer_norm.eps", eps)
    xt = r32(randf(16, 6) + 3.0)  # stored transposed (the test reads x = xt^T through strides)
    x = xt.t()                  # (6, 16): 6 rows of 16
    w, b = randf(16), randf(16)
    put("layer_norm.xt", xt)
    put("layer_norm.w", w)
    put("layer_norm.b", b)
    put("layer_norm.out", F.layer_norm(x, (16,), w, b, eps))
    x3 = randf(2, 3, 8, scale=4.0)
    put("layer_norm.x3", x3)
    put("layer_norm.out3", F.layer_norm(x3, (8,), None, None, eps))

    xb = r32(randf(5, 12) - 1.0)
    dy = randf(5, 12)
    wb, bb = randf(12), randf(12)
    put("layer_norm_back.x", xb)
    put("layer_norm_back.dy", dy)
    put("layer_norm_back.w", wb)
    xr = xb.clone().requires_grad_(True)
    (dx,) = torch.autograd.grad(F.layer_norm(xr, (12,), wb, bb, eps), xr, dy)
    put("layer_norm_back.dx", dx)
    xr = xb.clone().requires_grad_(True)
    (dx,) = torch.autograd.grad(F.layer_norm(xr, (12,), None, None, eps), xr, dy)
    put("layer_norm_back.dx_noweight", dx)

    xs = randf(4, 10, scale=3.0)
    xs[1] += 80.0               # large logits: the kernel must shift by the row max
    xs[2, 3] = -1e4
    xs = r32(xs)
    put("softmax.x", xs)
    put("softmax.out", torch.softmax(xs, dim=-1))


# ---- attention -------------------------------------------------------------------------------

HIDDEN, VISIBLE, SELF = 0, 1, 2


def attention_torch(q, k, v, codes, scale):
    """q (B, Sq, H, D), k (B, Sk, H, D), v (B, Sk, H, Dv) in the engine's layout; codes (B, Sk)
    or None. Dense boolean mask + explicit softmax. Masked scores are a large finite negative,
    so a fully masked row stays finite and its output (and gradient) is then zeroed."""
    B, Sq, H, D = q.shape
    Sk = k.shape[1]
    qh, kh, vh = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)     # (B, H, S, D)
    if codes is None:
        allowed = torch.ones(B, Sq, Sk, dtype=torch.bool)
    else:
        iq = torch.arange(Sq).view(1, Sq, 1)
        jk = torch.arange(Sk).view(1, 1, Sk)
        c = codes.view(B, 1, Sk)
        allowed = (c == VISIBLE) | ((c == SELF) & (iq == jk))
    allowed = allowed.unsqueeze(1)                                         # (B, 1, Sq, Sk)
    s = scale * qh @ kh.transpose(-1, -2)
    s = s.masked_fill(~allowed, -1e30)
    p = torch.softmax(s, dim=-1) * allowed.any(dim=-1, keepdim=True)
    return (p @ vh).transpose(1, 2)                                        # (B, Sq, H, Dv)


def put_attention_grads(prefix, q, k, v, codes, scale):
    qr, kr, vr = (t.clone().requires_grad_(True) for t in (q, k, v))
    out = attention_torch(qr, kr, vr, codes, scale)
    dout = randf(*out.shape)
    dq, dk, dv = torch.autograd.grad(out, (qr, kr, vr), dout)
    put(prefix + ".out", out)
    put(prefix + ".dout", dout)
    put(prefix + ".grads", torch.cat([dq.flatten(), dk.flatten(), dv.flatten()]))


def gen_attention():
    # fused QKV: qkv [3*H*D, S, B]; q, k, v are strided views of it
    B, S, H, D = 3, 5, 2, 8
    qkv = randf(B, S, 3 * H * D)
    q, k, v = (qkv[..., i * H * D:(i + 1) * H * D].reshape(B, S, H, D) for i in range(3))
    codes = torch.tensor([[VISIBLE, VISIBLE, SELF, VISIBLE, SELF],     # generative tokens
                          [VISIBLE, VISIBLE, VISIBLE, HIDDEN, HIDDEN],  # key padding
                          [HIDDEN, SELF, HIDDEN, HIDDEN, HIDDEN]],      # queries that see nothing
                         dtype=torch.int32)
    scale = f32(1.0 / math.sqrt(D))
    scalar("attn_mask.scale", scale)
    put("attn_mask.qkv", qkv)
    put("attn_mask.mask", codes)
    put_attention_grads("attn_mask", q, k, v, codes, scale)

    # no mask, more keys than queries, value size != head size
    B, Sq, Sk, H, D, Dv = 2, 3, 6, 3, 4, 5
    q, k, v = randf(B, Sq, H, D), randf(B, Sk, H, D), randf(B, Sk, H, Dv)
    scale = f32(0.37)
    scalar("attn_plain.scale", scale)
    put("attn_plain.q", q)
    put("attn_plain.k", k)
    put("attn_plain.v", v)
    put_attention_grads("attn_plain", q, k, v, None, scale)


# ---- indexing and sparse codes ---------------------------------------------------------------

def gen_index():
    # top_k with ties (half-integer values) and an all-equal row; stable descending sort puts
    # equal values in index order, the engine's tie rule
    x = (torch.randn(4, 20) * 2.0).round() / 2.0
    x[3] = 1.5
    put("top_k.x", x)
    put("top_k.out", torch.sort(x, dim=-1, descending=True, stable=True).indices[:, :5])

    D, N = 6, 10
    w = randf(N, D)
    ids = torch.randint(0, N, (3, 4), dtype=torch.int32)
    ids[0, 1], ids[2, 3] = -1, N          # out of range: zero rows
    valid = (ids >= 0) & (ids < N)
    put("get_rows.w", w)
    put("get_rows.w_f16", f16_round(w))
    put("get_rows.ids", ids)
    safe = torch.where(valid, ids, torch.zeros_like(ids)).long()
    put("get_rows.out", F.embedding(safe, w) * valid.unsqueeze(-1))
    put("get_rows.out_f16", F.embedding(safe, f16_round(w)) * valid.unsqueeze(-1))

    R, Nx, K = 3, 8, 4
    xg = randf(R, Nx)
    idx = torch.randint(0, Nx, (R, K), dtype=torch.int32)
    idx[0, 0], idx[1, 2] = Nx, -3
    valid = (idx >= 0) & (idx < Nx)
    safe = torch.where(valid, idx, torch.zeros_like(idx)).long()
    put("gather.x", xg)
    put("gather.idx", idx)
    put("gather.out", torch.gather(xg, 1, safe) * valid)

    vals = randf(R, K)
    idx_s = idx.clone()
    idx_s[2, 1] = idx_s[2, 0]             # a duplicate: contributions add
    valid = (idx_s >= 0) & (idx_s < Nx)
    safe = torch.where(valid, idx_s, torch.zeros_like(idx_s)).long()
    put("scatter.v", vals)
    put("scatter.idx", idx_s)
    put("scatter.out", torch.zeros(R, Nx, dtype=F64).scatter_add_(1, safe, vals * valid))


def gen_sparse():
    D, N, K, B = 7, 12, 3, 4
    w = randf(N, D)                        # w [D, N]: one row of D per latent
    idx = torch.randint(0, N, (B, K), dtype=torch.int32)
    idx[1, 2] = idx[1, 0]                  # duplicate within a bag
    c = randf(B, K)
    x = randf(B, D)
    put("sparse.w", w)
    put("sparse.idx", idx)
    put("sparse.c", c)
    put("sparse.x", x)
    put("embed_bag.out", F.embedding_bag(idx.long(), w, per_sample_weights=c, mode="sum"))
    put("sparse_dot.out", (w[idx.long()] * x.unsqueeze(1)).sum(-1))
    flat = idx.long().flatten()
    contrib = c.flatten().unsqueeze(1) * x.repeat_interleave(K, dim=0)
    put("scatter_outer.out", torch.zeros(N, D, dtype=F64).index_add_(0, flat, contrib))
    put("scatter_outer.out_ones", torch.zeros(N, D, dtype=F64).index_add_(0, flat, x.repeat_interleave(K, dim=0)))

    # the same with out-of-range indices, which must contribute nothing
    idx_oob = idx.clone()
    idx_oob[0, 1], idx_oob[3, 2] = N, -1
    valid = (idx_oob >= 0) & (idx_oob < N)
    safe = torch.where(valid, idx_oob, torch.zeros_like(idx_oob)).long()
    cm = c * valid
    put("sparse.idx_oob", idx_oob)
    put("embed_bag.out_oob", F.embedding_bag(safe, w, per_sample_weights=cm, mode="sum"))
    put("sparse_dot.out_oob", (w[safe] * x.unsqueeze(1)).sum(-1) * valid)
    contrib = cm.flatten().unsqueeze(1) * x.repeat_interleave(K, dim=0)
    put("scatter_outer.out_oob", torch.zeros(N, D, dtype=F64).index_add_(0, safe.flatten(), contrib))


# ---- optimizer ---------------------------------------------------------------------------

def gen_adam(prefix, opt_cls, wd, clip):
    """Runs two steps of torch.optim.<opt_cls> to get non-trivial moments, rounds the state to
    float32 (what the C tensors hold), then records step 3."""
    # the engine's hparams tensor is F32: give torch the very same (f32-rounded) values
    lr, beta1, beta2, eps, wd, clip = (f32(x) for x in (1e-2, 0.9, 0.999, 1e-8, wd, clip))
    w = torch.nn.Parameter(randf(3, 10))
    opt = opt_cls([w], lr=lr, betas=(beta1, beta2), eps=eps, weight_decay=wd)
    for _ in range(2):
        w.grad = randf(3, 10)
        opt.step()
    st = opt.state[w]
    with torch.no_grad():
        for t in (w, st["exp_avg"], st["exp_avg_sq"]):
            t.copy_(t.to(torch.float32).to(F64))
    g = randf(3, 10, scale=2.0)
    put(prefix + ".w", w)
    put(prefix + ".m", st["exp_avg"])
    put(prefix + ".v", st["exp_avg_sq"])
    put(prefix + ".g", g)
    put(prefix + ".gn2", (g * g).sum().reshape(1))
    w.grad = g.clone()
    if clip > 0:
        torch.nn.utils.clip_grad_norm_([w], clip)
    opt.step()
    t = 3
    put(prefix + ".hparams", torch.tensor([lr, beta1, beta2, eps, wd, 1.0 / (1.0 - beta1 ** t),
                                           1.0 / (1.0 - beta2 ** t), clip], dtype=F64))
    put(prefix + ".w_out", w)
    put(prefix + ".m_out", st["exp_avg"])
    put(prefix + ".v_out", st["exp_avg_sq"])


def main():
    torch.set_default_dtype(F64)
    gen_copy()
    gen_elementwise()
    gen_unary()
    gen_matmul()
    gen_norm()
    gen_attention()
    gen_index()
    gen_sparse()
    gen_adam("adam", torch.optim.Adam, 0.0, 0.0)
    gen_adam("adamw_clip", torch.optim.AdamW, 0.1, 1.0)

    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "wb") as f:
        f.write(b"SGFX" + struct.pack("<II", 1, len(ENTRIES)))
        for name, code, ne, data in ENTRIES:
            nb = name.encode()
            f.write(struct.pack("<I", len(nb)) + nb + struct.pack("<II", code, len(ne)))
            f.write(struct.pack("<%dq" % len(ne), *ne) + data)
    print("wrote %s: %d tensors, %d bytes" % (OUT, len(ENTRIES), os.path.getsize(OUT)))


if __name__ == "__main__":
    main()
