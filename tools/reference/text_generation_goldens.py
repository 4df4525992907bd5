#!/usr/bin/env python3
"""Writes the text-generation / chat pipeline goldens.

1. Builds a tiny seeded LlamaForCausalLM (hidden 8, 2 layers) whose vocabulary covers the
   Qwen2.5 tokenizer of ../shared/data/tokenizers/qwen2.5, stored in bfloat16 with tied
   embeddings (about 2.4 MB), in tests/golden/pipelines/models/llama-tiny-qwen-tok/: config.json,
   generation_config.json (Qwen2.5-Instruct's sampling defaults, so the pipeline's merge of its
   own defaults with the model's is exercised), model.safetensors and tokenizer_config.json
   (copied: it carries the chat template). tokenizer.json is NOT committed (7 MB): tests link it
   from ../shared next to the committed files (see tests/unit/pipelines/text_generation_test.cc).
2. Runs transformers.pipeline("text-generation") (the model loaded in float32) on prompts and
   chats and writes tests/golden/pipelines/text-generation.jsonl. The "chat" task (mlhub's own
   name) is recorded from the same calls: its output is the last message of generated_text.

Every case passes do_sample=False: the pipeline's default is sampling (temperature 0.7), and
torch's RNG is not reproduced. stop_strings needs the tokenizer passed to generate; it is passed
as tokenizer= and not recorded (mlhub's pipeline always has its tokenizer).

    ~/.cache/mlhub/pyenv/bin/python tools/reference/text_generation_goldens.py [--shared ../shared]

No network is used.
"""

import argparse
import json
import os
import shutil
import tempfile

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

import torch  # noqa: E402
import transformers  # noqa: E402
from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM  # noqa: E402

transformers.utils.logging.disable_progress_bar()

PINNED = "4.57.3"
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
MODEL_NAME = "llama-tiny-qwen-tok"
OUT_MODEL = os.path.join(ROOT, "tests/golden/pipelines/models", MODEL_NAME)
OUT_CASES = os.path.join(ROOT, "tests/golden/pipelines/text-generation.jsonl")

# Qwen2.5-0.5B-Instruct's generation_config.json.
GENERATION_CONFIG = {
    "bos_token_id": 151643,
    "pad_token_id": 151643,
    "do_sample": True,
    "eos_token_id": [151645, 151643],
    "repetition_penalty": 1.1,
    "temperature": 0.7,
    "top_p": 0.8,
    "top_k": 20,
    "transformers_version": PINNED,
}

PROMPTS = [
    "Hello, my name is",
    "The capital of France is",
    "Hello , world . I 'm here , aren 't I ?",
    "  leading spaces and\ttabs\nnewline",
    "数学 and emoji 🙂 café",
]

CONVERSATION_SYSTEM = "You are a terse assistant."
CONVERSATION_TURNS = ["Hi there!", "And what is the capital of Italy?"]

CLEANUP_PROMPT = "it in in"

GREEDY = {"do_sample": False, "max_new_tokens": 20}

CHATS = [
    [{"role": "system", "content": "You are a terse assistant."},
     {"role": "user", "content": "What is the capital of France?"}],
    [{"role": "user", "content": "Hi there!"}],
    [{"role": "system", "content": "Answer in French."},
     {"role": "user", "content": "Name a colour."},
     {"role": "assistant", "content": "Rouge."},
     {"role": "user", "content": "Another one, please."}],
    # Ends with the assistant: continue_final_message (prefill) by default.
    [{"role": "user", "content": "Count to three."},
     {"role": "assistant", "content": "One, two,"}],
]


def build_model(shared):
    tok_dir = os.path.join(shared, "data/tokenizers/qwen2.5")
    tokenizer = AutoTokenizer.from_pretrained(tok_dir)
    torch.manual_seed(20250601)
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=8, intermediate_size=16, num_hidden_layers=2,
        num_attention_heads=2, num_key_value_heads=1, head_dim=4, max_position_embeddings=512,
        rms_norm_eps=1e-6, rope_theta=10000.0, tie_word_embeddings=True,
        # A wide init keeps the random logits well apart, so greedy picks are robust to float
        # summation order.
        initializer_range=0.5, bos_token_id=151643, eos_token_id=151645, pad_token_id=None)
    model = LlamaForCausalLM(config).eval()
    if os.path.isdir(OUT_MODEL):
        shutil.rmtree(OUT_MODEL)
    model.to(torch.bfloat16).save_pretrained(OUT_MODEL, safe_serialization=True)
    # save_pretrained writes a generation_config.json derived from config.json: replace it.
    with open(os.path.join(OUT_MODEL, "generation_config.json"), "w") as f:
        json.dump(GENERATION_CONFIG, f, indent=2)
        f.write("\n")
    shutil.copy(os.path.join(tok_dir, "tokenizer_config.json"), OUT_MODEL)
    return tok_dir


def assembled_folder(tok_dir):
    """The committed files plus the shared tokenizer.json, as the C++ tests assemble them."""
    tmp = tempfile.mkdtemp(prefix="mlhub-textgen-")
    for name in os.listdir(OUT_MODEL):
        os.symlink(os.path.join(OUT_MODEL, name), os.path.join(tmp, name))
    os.symlink(os.path.join(tok_dir, "tokenizer.json"), os.path.join(tmp, "tokenizer.json"))
    return tmp


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=os.path.join(ROOT, "../shared"))
    args = ap.parse_args()
    assert transformers.__version__ == PINNED, transformers.__version__
    tok_dir = build_model(os.path.abspath(args.shared))
    folder = assembled_folder(tok_dir)
    pipe = transformers.pipeline("text-generation", model=folder, dtype=torch.float32)
    cases = []

    def record(inputs, params, task="text-generation"):
        extra = {"tokenizer": pipe.tokenizer} if "stop_strings" in params else {}
        outs = [pipe(x, **params, **extra) for x in inputs]
        # A list call (what run_batch mirrors) returns the same as one call per input.
        batch = pipe(inputs, **params, **extra)
        assert batch == outs, (batch, outs)
        for x, out in zip(inputs, outs):
            cases.append({"task": "text-generation", "model": MODEL_NAME, "init": {},
                          "input": x, "params": params, "output": out})
            if task == "chat":
                # mlhub's chat task: the last message of generated_text (the new assistant
                # message, or the prefilled one continued).
                assert len(out) == 1 and out[0]["generated_text"][-1]["role"] == "assistant"
                chat_params = {k: v for k, v in params.items() if k != "return_full_text"}
                cases.append({"task": "chat", "model": MODEL_NAME, "init": {}, "input": x,
                              "params": chat_params, "output": out[0]["generated_text"][-1]})
        return outs

    greedy = record(PROMPTS, GREEDY)
    record(PROMPTS[:3], {**GREEDY, "return_full_text": False})
    record(PROMPTS[2:4], {**GREEDY, "clean_up_tokenization_spaces": False})
    # Found by search: this prompt's continuation holds "  .", which the default clean-up of
    # tokenization spaces turns into " .".
    record([CLEANUP_PROMPT], GREEDY)
    record([CLEANUP_PROMPT], {**GREEDY, "clean_up_tokenization_spaces": False})
    record([CLEANUP_PROMPT], {**GREEDY, "return_full_text": False})
    record(PROMPTS[:2], {**GREEDY, "prefix": "Once upon a time. "})
    record(PROMPTS[:2], {**GREEDY, "prefix": "Once upon a time. ", "return_full_text": False})
    record(PROMPTS[:2], {**GREEDY, "return_tensors": True})
    record(PROMPTS[:2], {"do_sample": False, "max_new_tokens": 8, "num_beams": 3,
                         "num_return_sequences": 2})
    record(PROMPTS[:1], {"do_sample": False, "max_new_tokens": 12, "num_beams": 2,
                         "num_return_sequences": 2, "length_penalty": 0.5,
                         "return_full_text": False})
    record(PROMPTS[:2], {**GREEDY, "repetition_penalty": 1.0, "no_repeat_ngram_size": 2})
    # A stop string taken from the middle of the first greedy continuation.
    new_text = greedy[0][0]["generated_text"][len(PROMPTS[0]):]
    stop = new_text[len(new_text) // 2:len(new_text) // 2 + 3]
    record(PROMPTS[:1], {**GREEDY, "stop_strings": [stop, "zzzz-never"]})
    # stop_sequence: the pipeline's own parameter (its token ids become eos_token_id).
    first_new = pipe.tokenizer.decode(pipe.tokenizer(greedy[0][0]["generated_text"])["input_ids"]
                                      [len(pipe.tokenizer(PROMPTS[0])["input_ids"]) + 3:][:1])
    record(PROMPTS[:1], {**GREEDY, "stop_sequence": first_new})

    record(CHATS[:3], GREEDY, task="chat")
    record(CHATS[:2], {**GREEDY, "return_full_text": False})
    record(CHATS[:1], {**GREEDY, "skip_special_tokens": False})
    record(CHATS[3:], GREEDY, task="chat")
    record(CHATS[3:], {**GREEDY, "continue_final_message": False})

    # A two-turn conversation as `mlhub chat --system ... --temperature 0 --max-new-tokens 20`
    # holds it (tests/cli/chat_test.sh): the second prompt carries the first reply.
    conversation = [{"role": "system", "content": CONVERSATION_SYSTEM}]
    for turn in CONVERSATION_TURNS:
        conversation.append({"role": "user", "content": turn})
        out = record([list(conversation)], GREEDY, task="chat")
        conversation.append(out[0][0]["generated_text"][-1])

    cleaned = [c["output"][0]["generated_text"] for c in cases if c["input"] == CLEANUP_PROMPT]
    assert cleaned[0] != cleaned[1], "the clean-up case no longer exercises the clean-up"

    with open(OUT_CASES, "w") as f:
        for c in cases:
            f.write(json.dumps(c, ensure_ascii=False) + "\n")
    shutil.rmtree(folder)
    print(f"wrote {len(cases)} cases to {OUT_CASES}")


if __name__ == "__main__":
    main()
