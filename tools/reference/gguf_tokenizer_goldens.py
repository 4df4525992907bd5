#!/usr/bin/env python3
"""The tokenizer transformers 4.57.3 rebuilds from GGUF metadata, for tests/unit/io/
gguf_tokenizer_test.cc.

    ~/.cache/mlhub/pyenv/bin/python tools/reference/gguf_tokenizer_goldens.py [--models DIR] [--lines N]

For SmolLM2-135M-Instruct.Q4_1.gguf, AutoTokenizer.from_pretrained(dir, gguf_file=...) gives:
  tests/data/io/gguf/smollm2_tokenizer.json   its backend tokenizer.json with "vocab" and
      "merges" replaced by their length and the sha256 of their compact JSON (sorted keys, UTF-8),
      plus the tokenizer_config values transformers passed to the tokenizer class
  tests/data/io/gguf/smollm2_tokenizer_ids.jsonl   for the first N lines of
      tests/data/tokenizer_corpus.jsonl: {"line": i, "ids": encode(text) with special tokens,
      "decoded": decode(ids, skip_special_tokens=True) when it differs from the text}
"""
import argparse
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default=os.path.expanduser("~/.cache/mlhub/models"))
    ap.add_argument("--lines", type=int, default=300)
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

    doc = json.loads(tok.backend_tokenizer.to_str())
    for key in ("vocab", "merges"):
        v = doc["model"][key]
        doc["model"][key] = {"length": len(v), "sha256": compact_sha(v)}
    config = {k: v for k, v in tok.init_kwargs.items() if k not in ("vocab_file", "name_or_path")}
    with open(os.path.join(OUT, "smollm2_tokenizer.json"), "w") as f:
        json.dump({"tokenizer": doc, "tokenizer_config": config, "class": type(tok).__name__}, f,
                  indent=1, sort_keys=True, ensure_ascii=False)
        f.write("\n")

    with open(os.path.join(ROOT, "tests", "data", "tokenizer_corpus.jsonl"), encoding="utf-8") as f:
        lines = [json.loads(l) for l in f][: args.lines]
    with open(os.path.join(OUT, "smollm2_tokenizer_ids.jsonl"), "w", encoding="utf-8") as f:
        for i, text in enumerate(lines):
            ids = tok(text).input_ids
            rec = {"line": i, "ids": ids}
            decoded = tok.decode(ids, skip_special_tokens=True)
            if decoded != text:
                rec["decoded"] = decoded
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
