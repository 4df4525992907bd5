#!/usr/bin/env python3
"""Tiny random Hugging Face checkpoints converted to GGUF the way llama.cpp's convert_hf_to_gguf.py
does, and what transformers 4.57.3 loads back from them (tests/unit/io/gguf_hf_test.cc).

    ~/.cache/mlhub/pyenv/bin/python tools/reference/gguf_hf_fixtures.py [--models DIR]

For each case a seeded random model (transformers, every parameter drawn from a normal
distribution so that no two rows are equal) is written with gguf-py's GGUFWriter: tensor names
from gguf-py's tensor name map, llama's q/k rows permuted as the converter does, gemma2's norms
+ 1, gpt2's Conv1D weights transposed and its embedding copied to output.weight, and the
converter's metadata keys. Tensors are F32, F16 or Q8_0 (gguf.quants.quantize) in a fixed mix so
that every processor meets each dtype. Then transformers reads the file:
AutoConfig.from_pretrained(dir, gguf_file=...) gives the config (to_diff_dict, less
transformers_version) and load_gguf_checkpoint(..., return_tensors=True, model_to_load=model)
the state dict. tests/data/io/gguf/hf/expected.json records per case the config and per tensor
its GGUF name/type, shape, and either the sha256 of transformers' float32 values (plain dtypes)
or, for quantized tensors, which raw GGUF row each Hugging Face row comes from (transformers
dequantizes, so its rows are matched against the dequantized GGUF rows).

Also records, for the real SmolLM2-135M-Instruct.Q4_1.gguf, transformers' config and state-dict
keys (with the row mapping of the permuted q/k projections of layer 0).
"""
import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile

import numpy as np
import torch
import gguf
from gguf import GGMLQuantizationType as T
from transformers import (AutoConfig, AutoModelForCausalLM, Gemma2Config, GPT2Config, LlamaConfig,
                          Phi3Config, Qwen2Config, Qwen3Config)
from transformers.modeling_gguf_pytorch_utils import get_gguf_hf_weights_map, load_gguf_checkpoint

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "tests", "data", "io", "gguf", "hf")

SMALL = dict(vocab_size=32, hidden_size=32, intermediate_size=32, num_attention_heads=4,
             num_key_value_heads=2, max_position_embeddings=64, rms_norm_eps=1e-5,
             rope_theta=50000.0)

CASES = {
    "llama": ("llama", LlamaConfig(**SMALL, num_hidden_layers=2), "tiny-llama"),
    # transformers renames llama to mistral only for general.name == "mistral" exactly.
    "mistral": ("llama", LlamaConfig(**SMALL, num_hidden_layers=1), "mistral"),
    "qwen2": ("qwen2", Qwen2Config(**SMALL, num_hidden_layers=1), "tiny-qwen2"),
    "qwen3": ("qwen3", Qwen3Config(**SMALL, num_hidden_layers=1, head_dim=8), "tiny-qwen3"),
    "phi3": ("phi3", Phi3Config(**SMALL, num_hidden_layers=1, pad_token_id=0), "tiny-phi3"),
    "gemma2": ("gemma2", Gemma2Config(**SMALL, num_hidden_layers=2, head_dim=8,
                                      sliding_window=16), "tiny-gemma2"),
    "gpt2": ("gpt2", GPT2Config(vocab_size=32, n_embd=32, n_layer=1, n_head=4, n_positions=16),
             "tiny-gpt2"),
}

# Which GGUF type each tensor gets (by the end of its GGUF name; layer index picks a variant).
def pick_type(arch, gguf_name, shape, layer):
    if len(shape) == 1 or gguf_name.endswith("norm.weight"):
        return T.F32
    if arch == "gpt2" and any(s in gguf_name for s in ("attn_qkv", "attn_output", "ffn_up",
                                                       "ffn_down")):
        return T.F16 if layer == 0 else T.F32  # transposed by transformers: plain dtypes only
    table = {
        "token_embd": T.Q8_0, "position_embd": T.Q8_0, "output": T.F16,
        "attn_q": T.Q8_0, "attn_k": T.F16, "attn_v": T.Q8_0, "attn_output": T.F16,
        "attn_qkv": T.Q8_0, "ffn_gate": T.F32, "ffn_up": T.Q8_0, "ffn_down": T.F16,
    }
    t = table.get(gguf_name.split(".")[-2], T.F32)
    if layer == 1 and t in (T.Q8_0, T.F16):  # the second layer swaps, so q and k meet both
        t = T.F16 if t == T.Q8_0 else T.Q8_0
    return t


def llama_permute(w, n_head, n_head_kv):
    # convert_hf_to_gguf.py LlamaModel.permute
    if n_head_kv is not None and n_head != n_head_kv:
        n_head = n_head_kv
    return (w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:])
            .swapaxes(1, 2).reshape(w.shape))


def convert(arch, cfg, model, name, path):
    sd = {k: v.detach().float().numpy() for k, v in model.state_dict().items()}
    n_layers = cfg.num_hidden_layers
    name_map = gguf.get_tensor_name_map(gguf.MODEL_ARCH[arch.upper()], n_layers)
    w = gguf.GGUFWriter(path, arch=arch)
    w.add_name(name)
    p = arch + "."
    if arch == "gpt2":
        w.add_uint32(p + "context_length", cfg.n_positions)
        w.add_uint32(p + "embedding_length", cfg.n_embd)
        w.add_uint32(p + "feed_forward_length", 4 * cfg.n_embd)
        w.add_uint32(p + "block_count", cfg.n_layer)
        w.add_uint32(p + "attention.head_count", cfg.n_head)
        w.add_float32(p + "attention.layer_norm_epsilon", cfg.layer_norm_epsilon)
    else:
        w.add_uint32(p + "context_length", cfg.max_position_embeddings)
        w.add_uint32(p + "embedding_length", cfg.hidden_size)
        w.add_uint32(p + "feed_forward_length", cfg.intermediate_size)
        w.add_uint32(p + "block_count", cfg.num_hidden_layers)
        w.add_uint32(p + "attention.head_count", cfg.num_attention_heads)
        w.add_uint32(p + "attention.head_count_kv", cfg.num_key_value_heads)
        w.add_float32(p + "attention.layer_norm_rms_epsilon", cfg.rms_norm_eps)
        w.add_float32(p + "rope.freq_base", cfg.rope_theta)
        head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
        w.add_uint32(p + "rope.dimension_count", head_dim)
        if arch == "llama":
            w.add_uint32(p + "vocab_size", cfg.vocab_size)
        if arch == "gemma2":
            w.add_uint32(p + "attention.key_length", head_dim)
            w.add_uint32(p + "attention.value_length", head_dim)
            w.add_uint32(p + "attention.sliding_window", cfg.sliding_window)
            w.add_float32(p + "attn_logit_softcapping", cfg.attn_logit_softcapping)
            w.add_float32(p + "final_logit_softcapping", cfg.final_logit_softcapping)
    w.add_string("tokenizer.ggml.model", "gpt2")
    w.add_array("tokenizer.ggml.tokens", [f"t{i}" for i in range(cfg.vocab_size)])
    w.add_uint32("tokenizer.ggml.bos_token_id", 1)
    w.add_uint32("tokenizer.ggml.eos_token_id", 2)
    if arch == "phi3":  # Phi3Config's default pad id (32000) is past this vocab
        w.add_uint32("tokenizer.ggml.padding_token_id", 0)
    w.add_file_type(gguf.LlamaFileType.MOSTLY_Q8_0)

    for hf_name, data in sd.items():
        if arch == "gpt2" and (hf_name.endswith(".attn.bias") or hf_name.endswith("masked_bias")):
            continue
        if hf_name == "lm_head.weight" and getattr(cfg, "tie_word_embeddings", False):
            continue
        base, suffix = hf_name.rsplit(".", 1)
        gname = name_map.get_name(base)
        assert gname is not None, hf_name
        gname = f"{gname}.{suffix}"
        if arch == "llama":
            if gname.endswith("attn_q.weight"):
                data = llama_permute(data, cfg.num_attention_heads, cfg.num_attention_heads)
            if gname.endswith("attn_k.weight"):
                data = llama_permute(data, cfg.num_attention_heads, cfg.num_key_value_heads)
        if arch == "gemma2" and gname.endswith("norm.weight"):
            data = data + 1
        if arch == "gpt2" and hf_name.endswith((".attn.c_attn.weight", ".attn.c_proj.weight",
                                                ".mlp.c_fc.weight", ".mlp.c_proj.weight")):
            data = data.T
        outs = [(gname, np.ascontiguousarray(data))]
        if arch == "gpt2" and gname == "token_embd.weight":
            outs.append(("output.weight", np.ascontiguousarray(data)))
        for gn, d in outs:
            layer = int(gn.split(".")[1]) if gn.startswith("blk.") else 0
            t = pick_type(arch, gn, d.shape, layer)
            if t == T.F32:
                w.add_tensor(gn, d.astype(np.float32))
            elif t == T.F16:
                w.add_tensor(gn, d.astype(np.float16))
            else:
                q = gguf.quants.quantize(d.astype(np.float32), t)
                w.add_tensor(gn, q, raw_shape=q.shape, raw_dtype=t)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def sha_f32(x):
    return hashlib.sha256(np.ascontiguousarray(x, dtype="<f4").tobytes()).hexdigest()


def row_source(hf_rows, gguf_rows):
    """Index of the GGUF row equal to each Hugging Face row (rows are unique by construction)."""
    index = {r.tobytes(): i for i, r in enumerate(gguf_rows)}
    assert len(index) == len(gguf_rows), "GGUF rows are not unique"
    return [index[r.tobytes()] for r in hf_rows]


def transformers_view(folder, fname, with_tensors=True):
    cfg = AutoConfig.from_pretrained(folder, gguf_file=fname)
    diff = cfg.to_diff_dict()
    diff.pop("transformers_version", None)
    out = {"config": diff}
    if not with_tensors:
        return out, None, None
    model = AutoModelForCausalLM.from_config(cfg)
    path = os.path.join(folder, fname)
    tensors = load_gguf_checkpoint(path, return_tensors=True, model_to_load=model)["tensors"]
    return out, tensors, model


def describe_tensors(path, tensors, gguf_names):
    reader = gguf.GGUFReader(path)
    by_name = {t.name: t for t in reader.tensors}
    out = {}
    for hf_name, value in sorted(tensors.items()):
        g = by_name[gguf_names[hf_name]]
        v = value.numpy()
        e = {"gguf_name": g.name, "gguf_type": g.tensor_type.name, "shape": list(v.shape)}
        if g.tensor_type in (T.F32, T.F16, T.BF16):
            e["sha256_f32"] = sha_f32(v)
        else:
            rows = gguf.quants.dequantize(g.data, g.tensor_type)
            e["row_source"] = row_source(v.reshape(v.shape[0], -1), rows.reshape(rows.shape[0], -1))
        out[hf_name] = e
    return out


def gguf_name_of(tensors, model):
    """transformers keys -> GGUF names, by transformers' own map (gpt2's output.weight aside)."""
    inverse = {hf: g for g, hf in get_gguf_hf_weights_map(model).items()}
    inverse["lm_head.weight"] = "output.weight"
    return {hf: inverse[hf] for hf in tensors}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default=os.path.expanduser("~/.cache/mlhub/models"))
    args = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    expected = {}
    for case, (arch, cfg, name) in CASES.items():
        torch.manual_seed(1000 + len(expected))
        model = AutoModelForCausalLM.from_config(cfg)
        with torch.no_grad():
            for prm in model.parameters():
                prm.normal_(0.0, 0.5)
        fname = f"{case}.gguf"
        convert(arch, cfg, model, name, os.path.join(OUT, fname))
        # mistral: gguf-py 0.17.1 has no "mistral" arch, so transformers cannot map its tensors.
        view, tensors, hf_model = transformers_view(OUT, fname, with_tensors=case != "mistral")
        if tensors is not None:
            names = gguf_name_of(tensors, hf_model)
            view["tensors"] = describe_tensors(os.path.join(OUT, fname), tensors, names)
        expected[case] = view
        print(case, "ok", file=sys.stderr)

    smol = os.path.join(args.models, "SmolLM2-135M-Instruct.Q4_1.gguf")
    if not os.path.exists(smol):
        sys.exit(f"{smol} is missing: run scripts/setup")
    tmp = tempfile.mkdtemp()
    try:
        os.symlink(smol, os.path.join(tmp, "m.gguf"))
        view, tensors, _ = transformers_view(tmp, "m.gguf")
        keys = sorted(tensors)
        reader = gguf.GGUFReader(smol)
        by_name = {t.name: t for t in reader.tensors}
        rows = {}
        for hf, g in (("model.layers.0.self_attn.q_proj.weight", "blk.0.attn_q.weight"),
                      ("model.layers.0.self_attn.k_proj.weight", "blk.0.attn_k.weight")):
            t = by_name[g]
            d = gguf.quants.dequantize(t.data, t.tensor_type)
            rows[hf] = row_source(tensors[hf].numpy(), d)
        view["keys"] = keys
        view["shapes"] = {k: list(tensors[k].shape) for k in keys}
        view["row_source"] = rows
        expected["smollm2"] = view
    finally:
        shutil.rmtree(tmp)
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, sort_keys=True, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
