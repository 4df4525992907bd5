#!/usr/bin/env python3
"""Writes tests/unit/ops/golden/torch_ops.json: inputs and PyTorch outputs for the ops tests.

Run with the reference environment (torch 2.9.1, CPU, float32):
    $HOME/.cache/mlhub/pyenv/bin/python tests/unit/ops/make_goldens.py
Inputs are small and seeded; outputs are what torch computes for the same contracts as
include/mlhub/ops.h (attention uses the additive finfo(float32).min mask of transformers).
"""
import json
import math
import os

import torch
import torch.nn.functional as F

torch.manual_seed(1234)
torch.set_num_threads(1)


def flat(t):
    return [float(f"{v:.9g}") for v in t.detach().reshape(-1).tolist()]


def entry(**tensors):
    return {k: {"shape": list(v.shape), "data": flat(v)} for k, v in tensors.items()}


cases = {}

# Activations over a grid that covers both tails and the region around 0.
x = torch.cat([torch.linspace(-10, 10, 201), torch.tensor([-1e-6, 1e-6, -30.0, 30.0])])
cases["activations"] = entry(x=x, gelu=F.gelu(x), gelu_tanh=F.gelu(x, approximate="tanh"),
                             silu=F.silu(x), tanh=torch.tanh(x), sigmoid=torch.sigmoid(x))

# Layer norm with a residual (BERT's LayerNorm(hidden + input)), width 37 (odd tail), eps 1e-12.
h = torch.randn(3, 5, 37) * 2 + 0.5
r = torch.randn(3, 5, 37)
w = torch.randn(37)
b = torch.randn(37)
cases["layer_norm"] = entry(x=h, residual=r, weight=w, bias=b,
                            y=F.layer_norm(h + r, (37,), w, b, 1e-12))
rw = torch.randn(37)
cases["rms_norm"] = entry(x=h, weight=rw, y=h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + 1e-6) * rw)

s = torch.randn(4, 29) * 5
cases["softmax"] = entry(x=s, y=torch.softmax(s, -1), log_y=torch.log_softmax(s, -1))

# Attention, [B, T, H*D] in and out, key padding mask; batch 1 is padded, batch 2 fully masked.
B, T, H, D = 3, 11, 4, 8
q = torch.randn(B, T, H * D)
k = torch.randn(B, T, H * D)
v = torch.randn(B, T, H * D)
mask = torch.ones(B, T, dtype=torch.int64)
mask[1, 7:] = 0
mask[2, :] = 0
bias = torch.randn(1, H, T, T)


def heads(t):
    return t.view(B, T, H, D).transpose(1, 2)


def attend(with_bias):
    additive = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
    if with_bias:
        additive = additive + bias
    o = F.scaled_dot_product_attention(heads(q), heads(k), heads(v), attn_mask=additive,
                                       scale=1 / math.sqrt(D))
    return o.transpose(1, 2).reshape(B, T, H * D)


cases["attention"] = entry(q=q, k=k, v=v, mask=mask.float(), bias=bias, y=attend(False),
                           y_bias=attend(True))
cases["attention"]["heads"] = H

# sentence-transformers mean pooling and normalisation.
tok = torch.randn(2, 6, 10)
pm = torch.tensor([[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1]])
me = pm.unsqueeze(-1).expand(tok.size()).float()
mean = torch.sum(tok * me, 1) / torch.clamp(me.sum(1), min=1e-9)
mx = tok.clone()
mx[me == 0] = -1e9
cases["pooling"] = entry(x=tok, mask=pm.float(), mean=mean, max=torch.max(mx, 1)[0],
                         normalized=F.normalize(mean, p=2, dim=1))

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden", "torch_ops.json")
with open(out, "w") as f:
    json.dump({"torch": torch.__version__, "cases": cases}, f, separators=(",", ":"))
print(out)
