#!/usr/bin/env python3
"""Goldens for src/generation: transformers' own logits processors, generate() and
StopStringCriteria, written to tests/golden/generation/.

  ~/.cache/mlhub/pyenv/bin/python tools/reference/generation_goldens.py

1. processors.json: seeded random scores and input ids run through transformers' processor and
   warper classes (and the list model._get_logits_processor builds from a GenerationConfig).
2. generate.json: transformers' real generate() (greedy, beam search in several settings) over a
   fake causal LM whose logits are an exact function of the last two real tokens and the
   position, through an integer hash (all values are multiples of 2^-16, so float32 sums are
   exact in any order). tests/unit/generation/fake_model.h implements the same function.
3. stop_strings.json: StopStringCriteria on every prefix of a few tokenized texts (gpt2 and
   llama-2 tokenizers from ../shared/data/tokenizers).

Float values are written with Python's repr of the float32 value (exact round trip); -inf as the
string "-inf".
"""
import json
import math
import os
import sys

import torch
import transformers
from transformers import (GenerationConfig, GenerationMixin, PretrainedConfig, PreTrainedModel,
                          PreTrainedTokenizerFast)
from transformers.generation import logits_process as lp
from transformers.generation.stopping_criteria import StopStringCriteria
from transformers.modeling_outputs import CausalLMOutputWithPast

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "golden", "generation")
SHARED = os.path.join(ROOT, "..", "shared", "data", "tokenizers")

VOCAB = 32
EOS = 2
PAD = 1
MAX_POS = 64


def f32(x):
    x = float(x)
    if math.isinf(x):
        return "-inf" if x < 0 else "inf"
    return x


def rows(t):
    return [[f32(v) for v in r] for r in t.tolist()]


# ---- 1. processors -----------------------------------------------------------------------------

def processor_goldens():
    g = torch.Generator().manual_seed(1234)
    vocab = 40
    scores = (torch.randn(4, vocab, generator=g) * 2.5).to(torch.float32)
    ids = torch.randint(0, 12, (4, 10), generator=g)
    ids[1, -3:] = torch.tensor([3, 4, 3])  # repeated bigram prefixes
    ids[2, -2:] = torch.tensor([7, 7])
    eos = [3, 9]
    cases = []

    def add(name, proc, args, score_in=None):
        s = scores if score_in is None else score_in
        out = proc(ids, s.clone())
        entry = {"name": name, "processor": args, "input": "logprobs" if score_in is not None else "scores"}
        masked = torch.isneginf(out) & ~torch.isneginf(s)
        if torch.equal(torch.where(masked, s, out), s):
            # Only -inf was written: store the masked positions per row.
            entry["masked"] = [torch.nonzero(r).flatten().tolist() for r in masked]
        else:
            entry["expected"] = rows(out)
        cases.append(entry)

    logprobs = torch.log_softmax(scores, dim=-1)
    add("repetition_1.3", lp.RepetitionPenaltyLogitsProcessor(1.3), {"repetition_penalty": 1.3})
    add("repetition_0.7", lp.RepetitionPenaltyLogitsProcessor(0.7), {"repetition_penalty": 0.7})
    add("repetition_on_logprobs", lp.RepetitionPenaltyLogitsProcessor(1.5), {"repetition_penalty": 1.5}, logprobs)
    for n in (1, 2, 3):
        add(f"no_repeat_ngram_{n}", lp.NoRepeatNGramLogitsProcessor(n), {"no_repeat_ngram_size": n})
    add("min_length_active", lp.MinLengthLogitsProcessor(11, eos), {"min_length": 11, "eos_token_id": eos})
    add("min_length_inactive", lp.MinLengthLogitsProcessor(10, eos), {"min_length": 10, "eos_token_id": eos})
    add("min_new_tokens_active", lp.MinNewTokensLengthLogitsProcessor(6, 5, eos),
        {"min_length": 11, "eos_token_id": eos})
    add("bad_words", lp.NoBadWordsLogitsProcessor([[5], [4, 3, 8], [7, 11], [3]], eos),
        {"bad_words_ids": [[5], [4, 3, 8], [7, 11], [3]], "eos_token_id": eos})
    for t in (0.7, 1.5):
        add(f"temperature_{t}", lp.TemperatureLogitsWarper(t), {"temperature": t})
    for k, keep in ((1, 1), (5, 1), (3, 4), (100, 1)):
        add(f"top_k_{k}_{keep}", lp.TopKLogitsWarper(k, min_tokens_to_keep=keep), {"top_k": k, "min_tokens_to_keep": keep})
    for p, keep in ((0.9, 1), (0.5, 1), (0.1, 3), (0.0, 1)):
        add(f"top_p_{p}_{keep}", lp.TopPLogitsWarper(p, min_tokens_to_keep=keep), {"top_p": p, "min_tokens_to_keep": keep})
    for p, keep in ((0.05, 1), (0.3, 1), (0.9, 2)):
        add(f"min_p_{p}_{keep}", lp.MinPLogitsWarper(p, min_tokens_to_keep=keep), {"min_p": p, "min_tokens_to_keep": keep})
    for m, keep in ((0.9, 1), (0.5, 1), (0.2, 3)):
        add(f"typical_{m}_{keep}", lp.TypicalLogitsWarper(m, min_tokens_to_keep=keep), {"typical_p": m, "min_tokens_to_keep": keep})

    # The whole list as generate() builds it from a GenerationConfig.
    lists = []
    model = FakeLM(FakeConfig())
    for kwargs in (
        dict(do_sample=True, temperature=0.8, top_k=10, top_p=0.9, repetition_penalty=1.2,
             no_repeat_ngram_size=2, min_new_tokens=8, eos_token_id=eos),
        dict(do_sample=True, temperature=1.3, top_k=0, min_p=0.05, typical_p=0.8, eos_token_id=eos),
        dict(do_sample=False, repetition_penalty=0.9, min_length=12, eos_token_id=eos, top_k=5),
        dict(do_sample=True, num_beams=3, top_k=2, top_p=0.5, eos_token_id=eos),
    ):
        cfg = GenerationConfig(**kwargs)
        model._prepare_special_tokens(cfg, False, device="cpu")
        # min_new_tokens becomes min_length = prompt + min_new_tokens in _prepare_generated_length
        prompt_len = 6
        if cfg.min_new_tokens is not None:
            cfg.min_length = cfg.min_new_tokens + prompt_len
        procs = model._get_logits_processor(cfg, input_ids_seq_length=prompt_len, device="cpu")
        out = procs(ids, scores.clone())
        lists.append({"config": kwargs, "prompt_length": prompt_len,
                      "classes": [type(p).__name__ for p in procs], "expected": rows(out)})
    return {"vocab": vocab, "scores": rows(scores), "logprobs": rows(logprobs), "input_ids": ids.tolist(),
            "cases": cases, "lists": lists}


# ---- 2. generate() over the fake model ---------------------------------------------------------

M32 = (1 << 32) - 1


def hash_value(kind, a, v):
    """An integer hash of (kind, a, v) mapped to a multiple of 2^-16 in [-8, 8)."""
    h = (kind * 1000003 + a * 7919 + v * 104729 + 12345) & M32
    h = ((h ^ (h >> 15)) * 2246822519) & M32
    h = ((h ^ (h >> 13)) * 3266489917) & M32
    h ^= h >> 16
    return (h & 0xFFFFF) / 65536.0 - 8.0


def fake_logits(last, prev, pos):
    """prev = VOCAB when there is no previous token."""
    return [hash_value(0, last, v) + hash_value(1, prev, v) + hash_value(2, pos, v) + (0.25 * pos if v == EOS else 0.0)
            - (64.0 if v == PAD else 0.0) for v in range(VOCAB)]


TABLE0 = torch.tensor([[hash_value(0, a, v) for v in range(VOCAB)] for a in range(VOCAB)], dtype=torch.float32)
TABLE1 = torch.tensor([[hash_value(1, a, v) for v in range(VOCAB)] for a in range(VOCAB + 1)], dtype=torch.float32)
TABLE2 = torch.tensor([[hash_value(2, a, v) for v in range(VOCAB)] for a in range(MAX_POS)], dtype=torch.float32)


class FakeConfig(PretrainedConfig):
    model_type = "mlhub_fake"

    def __init__(self, **kwargs):
        kwargs.setdefault("vocab_size", VOCAB)
        kwargs.setdefault("max_position_embeddings", MAX_POS)
        kwargs.setdefault("use_cache", False)
        super().__init__(**kwargs)


class FakeLM(PreTrainedModel, GenerationMixin):
    config_class = FakeConfig

    def __init__(self, config):
        super().__init__(config)
        self.dummy = torch.nn.Parameter(torch.zeros(1))

    def forward(self, input_ids=None, attention_mask=None, **kwargs):
        b, t = input_ids.shape
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        last = input_ids[:, -1]
        if t >= 2:
            prev = torch.where(attention_mask[:, -2] == 1, input_ids[:, -2], torch.full_like(last, VOCAB))
        else:
            prev = torch.full_like(last, VOCAB)
        pos = attention_mask.sum(-1) - 1
        logits = TABLE0[last] + TABLE1[prev] + TABLE2[pos]
        logits[:, EOS] += 0.25 * pos.to(torch.float32)
        logits[:, PAD] -= 64.0  # never generated, so pad-filled rows read unambiguously
        return CausalLMOutputWithPast(logits=logits[:, None, :])


def check_fake_model():
    # The torch module equals the scalar definition the C++ fake reimplements.
    ids = torch.tensor([[0, 0, 5, 9, 3], [7, 8, 11, 4, 20]])
    mask = torch.tensor([[0, 0, 1, 1, 1], [1, 1, 1, 1, 1]])
    got = FakeLM(FakeConfig())(input_ids=ids, attention_mask=mask).logits[:, 0]
    want = torch.tensor([fake_logits(3, 9, 2), fake_logits(20, 4, 4)], dtype=torch.float32)
    assert torch.equal(got, want), "fake model mismatch"


def run_generate(model, prompts, kwargs, batched):
    """Returns per prompt the generated part of each returned row (fill included), and scores."""
    results = []
    groups = [prompts] if batched else [[p] for p in prompts]
    for group in groups:
        width = max(len(p) for p in group)
        ids = torch.tensor([[PAD] * (width - len(p)) + p for p in group])
        mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in group])
        out = model.generate(input_ids=ids, attention_mask=mask, return_dict_in_generate=True, output_scores=True,
                             use_cache=False, **kwargs)
        n = kwargs.get("num_return_sequences", 1)
        seqs = out.sequences[:, width:].tolist()
        scores = out.sequences_scores.tolist() if getattr(out, "sequences_scores", None) is not None else None
        for i in range(len(group)):
            entry = {"rows": seqs[i * n:(i + 1) * n]}
            if scores is not None:
                entry["scores"] = [f32(s) for s in scores[i * n:(i + 1) * n]]
            results.append(entry)
    return results


def generate_goldens():
    check_fake_model()
    model = FakeLM(FakeConfig(eos_token_id=EOS, pad_token_id=PAD))
    model.generation_config = GenerationConfig(eos_token_id=EOS, pad_token_id=PAD)
    prompts = [[5, 9, 3], [7], [11, 4, 4, 8, 20], [30, 29]]
    cases = []

    def case(name, kwargs, batched=False, fill=PAD, ps=prompts):
        # Sequences padded past their end carry `fill`: pad_token_id in greedy/sample, and in beam
        # search `pad_token_id or eos_token_id[0]`.
        cases.append({"name": name, "kwargs": kwargs, "batched": batched, "prompts": ps, "fill": fill,
                      "expected": run_generate(model, ps, kwargs, batched)})

    case("greedy_batched", {"max_new_tokens": 12}, batched=True)
    case("greedy_default_length", {})
    case("greedy_max_length", {"max_length": 9})
    case("greedy_no_eos", {"max_new_tokens": 10, "eos_token_id": None})
    case("greedy_eos_list", {"max_new_tokens": 12, "eos_token_id": [2, 7, 13]}, batched=True)
    case("greedy_repetition_penalty", {"max_new_tokens": 12, "repetition_penalty": 1.5})
    case("greedy_repetition_penalty_low", {"max_new_tokens": 12, "repetition_penalty": 0.6})
    case("greedy_no_repeat_ngram", {"max_new_tokens": 16, "no_repeat_ngram_size": 2})
    case("greedy_min_new_tokens", {"max_new_tokens": 16, "min_new_tokens": 10})
    case("greedy_min_length", {"max_new_tokens": 16, "min_length": 12})
    case("greedy_bad_words", {"max_new_tokens": 12, "bad_words_ids": [[9], [3, 25], [2]]})
    case("beam3_batched", {"max_new_tokens": 10, "num_beams": 3, "num_return_sequences": 2}, batched=True)
    case("beam4_early_true", {"max_new_tokens": 12, "num_beams": 4, "num_return_sequences": 4,
                              "early_stopping": True, "length_penalty": 0.5})
    case("beam4_early_false", {"max_new_tokens": 12, "num_beams": 4, "num_return_sequences": 4,
                               "early_stopping": False, "length_penalty": 0.5})
    case("beam3_never", {"max_new_tokens": 12, "num_beams": 3, "num_return_sequences": 3,
                         "early_stopping": "never", "length_penalty": 2.0})
    case("beam3_never_negative_lp", {"max_new_tokens": 12, "num_beams": 3, "num_return_sequences": 3,
                                     "early_stopping": "never", "length_penalty": -1.0})
    case("beam2_negative_lp", {"max_new_tokens": 12, "num_beams": 2, "num_return_sequences": 2,
                               "length_penalty": -1.0})
    case("beam3_eos_list", {"max_new_tokens": 12, "num_beams": 3, "num_return_sequences": 3,
                            "eos_token_id": [2, 9, 17]})
    case("beam5_no_eos", {"max_new_tokens": 6, "num_beams": 5, "num_return_sequences": 3, "eos_token_id": None,
                          "pad_token_id": PAD})
    case("beam3_no_repeat_ngram", {"max_new_tokens": 14, "num_beams": 3, "no_repeat_ngram_size": 2,
                                   "num_return_sequences": 2})
    case("beam3_repetition_min_new", {"max_new_tokens": 14, "num_beams": 3, "repetition_penalty": 1.3,
                                      "min_new_tokens": 6})
    # Long runs where the early-stop heuristic decides when to stop (with length_penalty > 0 it can
    # stop before a longer hypothesis would have scored better).
    for early in (False, "never", True):
        case(f"beam3_lp2_long_{str(early).lower()}", {"max_new_tokens": 40, "num_beams": 3, "num_return_sequences": 3,
                                                     "early_stopping": early, "length_penalty": 2.0})
    case("beam4_lp0_long", {"max_new_tokens": 40, "num_beams": 4, "num_return_sequences": 2,
                            "length_penalty": 0.0, "eos_token_id": [2, 19]})
    case("beam4_max_length", {"max_length": 11, "num_beams": 4, "num_return_sequences": 2})
    return {"vocab": VOCAB, "eos": EOS, "pad": PAD, "max_positions": MAX_POS, "cases": cases}


# ---- 3. stop strings ---------------------------------------------------------------------------

def stop_string_goldens():
    out = []
    texts = ["Hello world, stop here.\n\nstopping now; unstoppable ☺ émoji 😀 end",
             "The answer is 42. ### Done\nUser: hi"]
    stops = ["stop", "\n\n", "☺", "😀 e", "is 4", "###", "User:", ". "]
    for name in ("gpt2", "llama-2"):
        path = os.path.join(SHARED, name, "tokenizer.json")
        tok = PreTrainedTokenizerFast(tokenizer_file=path)
        crit = StopStringCriteria(tok, stops)
        for text in texts:
            ids = tok(text, add_special_tokens=False)["input_ids"]
            hits = []
            for n in range(1, len(ids) + 1):
                hits.append(bool(crit(torch.tensor([ids[:n]]), None)[0]))
            out.append({"tokenizer": name, "text": text, "ids": ids, "stop_strings": stops, "matches": hits})
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    meta = {"transformers": transformers.__version__, "torch": torch.__version__}
    for name, data in (("processors.json", processor_goldens()), ("generate.json", generate_goldens()),
                       ("stop_strings.json", stop_string_goldens())):
        with open(os.path.join(OUT, name), "w") as f:
            json.dump({"meta": meta, "data": data}, f, separators=(",", ":"))
            f.write("\n")
        print(name, os.path.getsize(os.path.join(OUT, name)), "bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
