#!/usr/bin/env python3
"""Writes the decoder model goldens: tiny random causal LMs and transformers' outputs for them.

For every case (one per architecture variant) this builds a tiny model with transformers itself
(seeded, every parameter randomised so that no weight goes unchecked), saves it with
save_pretrained (f32, or bf16 for some cases so that the bf16 loader is exercised), reloads it
from that folder as float32 and records, for three prompts of different lengths:
  - greedy generation of NEW_TOKENS tokens (no eos), with the smallest top-1/top-2 logit gap seen
    (a parity failure on a step whose gap is below ~1e-5 would be a tie, not a bug);
  - the logits of one full forward over the longest prompt + its generated tokens (all
    positions);
  - beam search (num_beams 3, 2 returned sequences, an eos id that occurs) on the first prompt.

    ~/.cache/mlhub/pyenv/bin/python tools/reference/decoder_goldens.py [--only CASE]...

Output per case, tests/golden/decoders/<case>/: config.json, generation_config.json and
model.safetensors as written by save_pretrained, case.json (prompts, greedy tokens, gaps, beam
settings and sequences) and reference.safetensors ("logits": [T, vocab] float32 of the full
forward over prompt FULL_LOGITS_PROMPT + its greedy tokens).
No network is used.
"""

import argparse
import json
import math
import os
import shutil
import sys

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

import torch  # noqa: E402
import transformers  # noqa: E402
from safetensors.torch import save_file  # noqa: E402

PINNED = "4.57.3"
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(ROOT, "tests", "golden", "decoders")

VOCAB = 128
HIDDEN = 64
LAYERS = 2
HEADS = 4
KV_HEADS = 2
HEAD_DIM = 16
INTERMEDIATE = 96
MAX_POS = 256
PROMPT_LENGTHS = (7, 19, 3)
NEW_TOKENS = 64
BEAM_NEW_TOKENS = 12
FULL_LOGITS_PROMPT = 1  # the prompt whose full-forward logits are recorded (the longest)

COMMON = dict(vocab_size=VOCAB, hidden_size=HIDDEN, num_hidden_layers=LAYERS,
              num_attention_heads=HEADS, intermediate_size=INTERMEDIATE,
              max_position_embeddings=MAX_POS, bos_token_id=1, eos_token_id=2, pad_token_id=0)

# case -> (config class, model class, config kwargs, saved dtype)
CASES = {
    "llama": ("LlamaConfig", "LlamaForCausalLM",
              dict(COMMON, num_key_value_heads=KV_HEADS, rms_norm_eps=1e-5), "float32"),
    "llama-rope-llama3": ("LlamaConfig", "LlamaForCausalLM",
                          dict(COMMON, num_key_value_heads=KV_HEADS, rope_theta=500000.0,
                               rope_scaling=dict(rope_type="llama3", factor=8.0,
                                                 low_freq_factor=1.0, high_freq_factor=4.0,
                                                 original_max_position_embeddings=64)),
                          "bfloat16"),
    "llama-tied-bias": ("LlamaConfig", "LlamaForCausalLM",
                        dict(COMMON, num_key_value_heads=1, tie_word_embeddings=True,
                             attention_bias=True, mlp_bias=True, rope_theta=100000.0,
                             rope_scaling=dict(rope_type="linear", factor=2.0)), "bfloat16"),
    "mistral": ("MistralConfig", "MistralForCausalLM",
                dict(COMMON, num_key_value_heads=KV_HEADS, sliding_window=16, head_dim=HEAD_DIM),
                "float32"),
    "qwen2": ("Qwen2Config", "Qwen2ForCausalLM",
              dict(COMMON, num_key_value_heads=KV_HEADS, use_sliding_window=True,
                   sliding_window=16, max_window_layers=1, tie_word_embeddings=True),
              "bfloat16"),
    "qwen3": ("Qwen3Config", "Qwen3ForCausalLM",
              dict(COMMON, num_key_value_heads=KV_HEADS, head_dim=24,
                   rope_scaling=dict(rope_type="yarn", factor=4.0,
                                     original_max_position_embeddings=32)),
              "float32"),
    "gemma": ("GemmaConfig", "GemmaForCausalLM",
              dict(COMMON, num_key_value_heads=1, head_dim=HEAD_DIM,
                   hidden_activation="gelu_pytorch_tanh"), "float32"),
    "gemma2": ("Gemma2Config", "Gemma2ForCausalLM",
               dict(COMMON, num_key_value_heads=KV_HEADS, head_dim=HEAD_DIM, sliding_window=16,
                    query_pre_attn_scalar=20, attn_logit_softcapping=5.0,
                    final_logit_softcapping=30.0), "bfloat16"),
    "phi3": ("Phi3Config", "Phi3ForCausalLM",
             dict(COMMON, num_key_value_heads=KV_HEADS, pad_token_id=0), "float32"),
    "phi3-longrope": ("Phi3Config", "Phi3ForCausalLM",
                      dict(COMMON, num_key_value_heads=HEADS, max_position_embeddings=128,
                           original_max_position_embeddings=32, partial_rotary_factor=0.75,
                           rope_scaling=dict(type="longrope",
                                             short_factor=[1.0 + 0.1 * i for i in range(6)],
                                             long_factor=[1.5 + 0.5 * i for i in range(6)])),
                      "float32"),
    "gpt2": ("GPT2Config", "GPT2LMHeadModel",
             dict(vocab_size=VOCAB, n_embd=HIDDEN, n_layer=LAYERS, n_head=HEADS, n_inner=None,
                  n_positions=MAX_POS, bos_token_id=1, eos_token_id=2, pad_token_id=0),
             "float32"),
    "gpt2-scaled": ("GPT2Config", "GPT2LMHeadModel",
                    dict(vocab_size=VOCAB, n_embd=HIDDEN, n_layer=LAYERS, n_head=HEADS, n_inner=80,
                         n_positions=MAX_POS, activation_function="gelu",
                         scale_attn_by_inverse_layer_idx=True, reorder_and_upcast_attn=True,
                         bos_token_id=1, eos_token_id=2,
                         pad_token_id=0), "bfloat16"),
    "gpt_neox": ("GPTNeoXConfig", "GPTNeoXForCausalLM",
                 dict(COMMON, rotary_pct=0.5, use_parallel_residual=True,
                      tie_word_embeddings=False), "float32"),
    "gpt_neox-sequential": ("GPTNeoXConfig", "GPTNeoXForCausalLM",
                            dict(COMMON, rotary_pct=1.0, use_parallel_residual=False,
                                 attention_bias=False), "bfloat16"),
}

# transformers' default attention (sdpa) silently drops attn_logit_softcapping (its sdpa wrapper
# has no softcap argument); eager attention and flash-attention apply it, as the Gemma 2 paper
# and Google's reference code do. The reference for a soft-capped case is therefore eager.
# Likewise sdpa ignores GPT-2's scale_attn_by_inverse_layer_idx and scale_attn_weights=False.
ATTN_IMPLEMENTATION = {"gemma2": dict(attn_implementation="eager"),
                       "gpt2-scaled": dict(attn_implementation="eager")}


def randomise(model, seed):
    """Every parameter random: norms around 1, biases small, matrices scaled by fan-in."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            shape = p.shape
            if p.ndim == 1 and name.endswith("weight") and ("norm" in name or "ln" in name):
                base = 0.0 if "gemma" in type(model).__name__.lower() else 1.0
                p.copy_(base + 0.2 * torch.randn(shape, generator=g))
            elif p.ndim == 1:
                p.copy_(0.1 * torch.randn(shape, generator=g))
            elif "embed_tokens" in name or "embed_in" in name or "wte" in name or "wpe" in name:
                # Small input embeddings, so that the layers (not the current token's own
                # embedding, which tied heads would echo) decide the next token. Gemma scales
                # embeddings by sqrt(hidden_size).
                std = 0.02 if "gemma" in type(model).__name__.lower() else 0.1
                p.copy_(std * torch.randn(shape, generator=g))
            else:
                # Conv1D (gpt2) stores [in, out]; nn.Linear [out, in].
                fan_in = shape[0] if "gpt2" in type(model).__name__.lower() and ".c_" in name \
                    else shape[-1]
                scale = 3.0 if ("lm_head" in name or "embed_out" in name) else 1.0
                p.copy_(scale * torch.randn(shape, generator=g) / math.sqrt(fan_in))


def top_gap(logits):
    top = torch.topk(logits, 2, dim=-1).values
    return float((top[..., 0] - top[..., 1]).min())


def make_case(name, spec, out_dir):
    config_cls, model_cls, kwargs, dtype = spec
    seed = sum(ord(c) for c in name)
    torch.manual_seed(seed)
    config = getattr(transformers, config_cls)(**kwargs)
    model = getattr(transformers, model_cls)(config)
    randomise(model, seed)
    model.eval()
    folder = os.path.join(out_dir, name)
    shutil.rmtree(folder, ignore_errors=True)
    if dtype != "float32":
        model = model.to(getattr(torch, dtype))
    model.save_pretrained(folder, safe_serialization=True)
    model = getattr(transformers, model_cls).from_pretrained(
        folder, torch_dtype=torch.float32, **ATTN_IMPLEMENTATION.get(name, {}))
    model.eval()

    g = torch.Generator().manual_seed(seed + 1)
    prompts = [torch.randint(3, VOCAB, (n,), generator=g).tolist() for n in PROMPT_LENGTHS]
    greedy, gaps, tensors = [], [], {}
    with torch.no_grad():
        for i, prompt in enumerate(prompts):
            ids = torch.tensor([prompt])
            out = model.generate(ids, attention_mask=torch.ones_like(ids), do_sample=False,
                                 max_new_tokens=NEW_TOKENS, min_new_tokens=NEW_TOKENS,
                                 eos_token_id=None, pad_token_id=0, output_scores=True,
                                 return_dict_in_generate=True)
            new = out.sequences[0, len(prompt):].tolist()
            greedy.append(new)
            gaps.append(min(top_gap(s[0]) for s in out.scores))
            if i == FULL_LOGITS_PROMPT:
                full = torch.tensor([prompt + new])
                tensors["logits"] = model(full).logits[0].float().contiguous()
        eos = greedy[0][6]
        beam_cfg = dict(num_beams=3, num_return_sequences=2, max_new_tokens=BEAM_NEW_TOKENS,
                        length_penalty=1.0, early_stopping=False, eos_token_id=eos)
        ids = torch.tensor([prompts[0]])
        beams = model.generate(ids, attention_mask=torch.ones_like(ids), do_sample=False,
                               pad_token_id=0, output_scores=True, return_dict_in_generate=True,
                               **beam_cfg)
        beam_sequences = [s[len(prompts[0]):].tolist() for s in beams.sequences]
        beam_scores = beams.sequences_scores.tolist()
    save_file(tensors, os.path.join(folder, "reference.safetensors"))
    case = {
        "case": name, "transformers": transformers.__version__, "class": model_cls,
        "saved_dtype": dtype, "full_logits_prompt": FULL_LOGITS_PROMPT, "prompts": prompts, "greedy": greedy, "min_top2_gap": gaps,
        "beam": {"config": beam_cfg, "sequences": beam_sequences, "scores": beam_scores},
    }
    with open(os.path.join(folder, "case.json"), "w") as f:
        json.dump(case, f, indent=1)
        f.write("\n")
    print(f"{name}: min gap {min(gaps):.2e}, beams {len(beam_sequences)}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=OUT)
    parser.add_argument("--only", action="append")
    args = parser.parse_args()
    if transformers.__version__ != PINNED:
        sys.exit(f"transformers {PINNED} is the reference; found {transformers.__version__}")
    torch.set_num_threads(1)
    os.makedirs(args.out, exist_ok=True)
    for name, spec in CASES.items():
        if args.only and name not in args.only:
            continue
        make_case(name, spec, args.out)


if __name__ == "__main__":
    main()
