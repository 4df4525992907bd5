#!/usr/bin/env python3
"""The tokenizer transformers 4.57.3 rebuilds from GGUF metadata, for tests/unit/io/
gguf_tokenizer_test.cc.

    ~/.cache/mlhub/pyenv/bin/python tools/reference/gguf_tokenizer_goldens.py [--models DIR] [--lines N]

Two files: the real SmolLM2-135M-Instruct.Q4_1.gguf (byte-level BPE, tokenizer model "gpt2") and
tests/data/io/gguf/llama_spm.gguf, written here from the first --spm-tokens pieces of
../shared/data/tokenizers/llama-2/tokenizer.model as llama.cpp's converter writes a SentencePiece
vocabulary (tokenizer model "llama": scores and token types, no merges, so transformers builds the
merges from the scores). For each (NAME smollm2 / llama_spm), AutoTokenizer.from_pretrained(dir, gguf_file=...) gives:
  tests/data/io/gguf/NAME_tokenizer.json   its backend tokenizer.json with "vocab" and
      "merges" replaced by their length and the sha256 of their compact JSON (sorted keys, UTF-8),
      plus the tokenizer_config values transformers passed to the tokenizer class
  tests/data/io/gguf/NAME_tokenizer_ids.jsonl   for the first N lines of
      tests/data/tokenizer_corpus.jsonl: {"line": i, "ids": encode(text) with special tokens,
      "decoded": decode(ids, skip_special_tokens=True) when it differs from the text}
"""
import argparse
import gguf
import sentencepiece
import hashlib
import json
import os
import shutil
import sys
import tempfile

from transformers import AutoTokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
OUT = os.path.join(ROOT, "tests", "data", "io", "gguf")


def compact_sha(value):
    s = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(s.encode("utf-8")).hexdigest()


PHI3_SPECIALS = ["<|endoftext|>", "<|assistant|>", "<|placeholder1|>", "<|placeholder2|>",
                 "<|placeholder3|>", "<|placeholder4|>", "<|system|>", "<|end|>",
                 "<|placeholder5|>", "<|placeholder6|>", "<|user|>"]


def write_llama_spm(path, model_file, n_tokens, arch="llama"):
    """The first n_tokens pieces of a SentencePiece model as llama.cpp's converter writes them
    (tokenizer.ggml.model "llama", scores, token types; no merges)."""
    sp = sentencepiece.SentencePieceProcessor(model_file=model_file)
    tokens, scores, types = [], [], []
    for i in range(n_tokens):
        tokens.append(sp.id_to_piece(i))
        scores.append(sp.get_score(i))
        t = gguf.TokenType.NORMAL
        if sp.is_unknown(i):
            t = gguf.TokenType.UNKNOWN
        elif sp.is_control(i):
            t = gguf.TokenType.CONTROL
        elif sp.is_unused(i):
            t = gguf.TokenType.UNUSED
        elif sp.is_byte(i):
            t = gguf.TokenType.BYTE
        types.append(int(t))
    if arch == "phi3":  # Phi-3 appends its chat tokens after the SentencePiece pieces
        for t in PHI3_SPECIALS:
            tokens.append(t)
            scores.append(0.0)
            types.append(int(gguf.TokenType.CONTROL))
    w = gguf.GGUFWriter(path, arch=arch)
    w.add_name(f"tiny-{arch}-spm")
    w.add_uint32(f"{arch}.block_count", 1)
    w.add_uint32(f"{arch}.vocab_size", len(tokens))
    w.add_string("tokenizer.ggml.model", "llama")
    w.add_array("tokenizer.ggml.tokens", tokens)
    w.add_array("tokenizer.ggml.scores", scores)
    w.add_array("tokenizer.ggml.token_type", types)
    w.add_uint32("tokenizer.ggml.bos_token_id", sp.bos_id())
    w.add_uint32("tokenizer.ggml.eos_token_id",
                 tokens.index("<|endoftext|>") if arch == "phi3" else sp.eos_id())
    if arch == "phi3":
        w.add_uint32("tokenizer.ggml.padding_token_id", tokens.index("<|endoftext|>"))
    w.add_uint32("tokenizer.ggml.unknown_token_id", sp.unk_id())
    w.add_bool("tokenizer.ggml.add_bos_token", True)
    w.add_bool("tokenizer.ggml.add_eos_token", False)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def write_bpe_subset(path, arch, source, n_tokens):
    """A `arch` GGUF holding the first n_tokens of a byte-level BPE vocabulary (the real SmolLM2
    file's) and the merges among them, with its token types and special token ids."""
    r = gguf.GGUFReader(source)
    f = r.fields
    tokens = [str(bytes(f["tokenizer.ggml.tokens"].parts[i]), "utf-8")
              for i in f["tokenizer.ggml.tokens"].data][:n_tokens]
    types = [int(f["tokenizer.ggml.token_type"].parts[i][0])
             for i in f["tokenizer.ggml.token_type"].data][:n_tokens]
    have = set(tokens)
    merges = []
    for i in f["tokenizer.ggml.merges"].data:
        m = str(bytes(f["tokenizer.ggml.merges"].parts[i]), "utf-8")
        a, b = m.split(" ")
        if a in have and b in have and a + b in have:
            merges.append(m)
    w = gguf.GGUFWriter(path, arch=arch)
    w.add_name(f"tiny-{arch}-bpe")
    w.add_uint32(f"{arch}.block_count", 1)
    w.add_string("tokenizer.ggml.model", "gpt2")
    w.add_array("tokenizer.ggml.tokens", tokens)
    w.add_array("tokenizer.ggml.token_type", types)
    w.add_array("tokenizer.ggml.merges", merges)
    w.add_uint32("tokenizer.ggml.bos_token_id", 1)
    w.add_uint32("tokenizer.ggml.eos_token_id", 2)
    w.add_uint32("tokenizer.ggml.padding_token_id", 2)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def record(tok, name, lines, max_ids=None):
    doc = json.loads(tok.backend_tokenizer.to_str())
    for key in ("vocab", "merges"):
        v = doc["model"][key]
        doc["model"][key] = {"length": len(v), "sha256": compact_sha(v)}
    config = {k: (str(v) if type(v).__name__ == "AddedToken" else v)
              for k, v in tok.init_kwargs.items() if k not in ("vocab_file", "name_or_path")}
    with open(os.path.join(OUT, f"{name}_tokenizer.json"), "w") as f:
        json.dump({"tokenizer": doc, "tokenizer_config": config, "class": type(tok).__name__,
                   "decode_clean_up": tok.clean_up_tokenization_spaces}, f,
                  indent=1, sort_keys=True, ensure_ascii=False)
        f.write("\n")
    with open(os.path.join(OUT, f"{name}_tokenizer_ids.jsonl"), "w", encoding="utf-8") as f:
        for i, text in enumerate(lines):
            ids = tok(text).input_ids
            if max_ids is not None and len(ids) > max_ids:
                continue  # keeps the golden small: the long lines add no new cases here
            rec = {"line": i, "ids": ids}
            decoded = tok.decode(ids, skip_special_tokens=True)
            if decoded != text:
                rec["decoded"] = decoded
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default=os.path.expanduser("~/.cache/mlhub/models"))
    ap.add_argument("--lines", type=int, default=300)
    ap.add_argument("--spm-tokens", type=int, default=1200)
    # Byte fallback makes long id lists: lines past 300 ids are left out of this golden.
    ap.add_argument("--spm-lines", type=int, default=150)
    ap.add_argument("--bpe-tokens", type=int, default=1000)
    args = ap.parse_args()
    smol = os.path.join(args.models, "SmolLM2-135M-Instruct.Q4_1.gguf")
    if not os.path.exists(smol):
        sys.exit(f"{smol} is missing: run scripts/setup")
    tmp = tempfile.mkdtemp()
    try:
        os.symlink(smol, os.path.join(tmp, "m.gguf"))
        tok = AutoTokenizer.from_pretrained(tmp, gguf_file="m.gguf")
    finally:
        shutil.rmtree(tmp)
    with open(os.path.join(ROOT, "tests", "data", "tokenizer_corpus.jsonl"), encoding="utf-8") as f:
        lines = [json.loads(l) for l in f][: args.lines]
    record(tok, "smollm2", lines)

    spm = os.path.join(ROOT, "..", "shared", "data", "tokenizers", "llama-2", "tokenizer.model")
    write_llama_spm(os.path.join(OUT, "llama_spm.gguf"), spm, args.spm_tokens)
    tok = AutoTokenizer.from_pretrained(OUT, gguf_file="llama_spm.gguf")
    record(tok, "llama_spm", lines[: args.spm_lines], max_ids=300)

    write_llama_spm(os.path.join(OUT, "phi3_spm.gguf"), spm, args.spm_tokens, arch="phi3")
    tok = AutoTokenizer.from_pretrained(OUT, gguf_file="phi3_spm.gguf")
    record(tok, "phi3_spm", lines[: args.spm_lines], max_ids=300)

    for arch in ("qwen2", "gpt2"):
        write_bpe_subset(os.path.join(OUT, f"{arch}_bpe.gguf"), arch, smol, args.bpe_tokens)
        tok = AutoTokenizer.from_pretrained(OUT, gguf_file=f"{arch}_bpe.gguf")
        record(tok, f"{arch}_bpe", lines[: args.spm_lines], max_ids=300)


if __name__ == "__main__":
    main()
