#!/usr/bin/env python3
"""Writes tests/data/pre_tokenizer_golden.jsonl: the output of every pre-tokenizer of spec
section 6.2 (tokenizers==0.22.2) over the strings of spec section 17.3 and random mixed-script
strings (the same generator as gen_regex_split_golden.py).

One JSON object per line: {"pre_tokenizer": {...}, "cases": [[input, [[piece, start, end],
...]], ...]} with char offsets as Python's pre_tokenize_str returns them.

    ~/.cache/mlhub/pyenv/bin/python tools/reference/gen_pre_tokenizer_golden.py
"""
import json
import os
import sys

from tokenizers import Tokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
from build_corpus import SPEC_17_3  # noqa: E402
from gen_regex_split_golden import random_strings  # noqa: E402

CONFIGS = [
    {"type": "BertPreTokenizer"},
    {"type": "Whitespace"},
    {"type": "WhitespaceSplit"},
    {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
    {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
    {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": False},
    {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "always", "split": True},
    {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "first", "split": False},
    {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": "never", "split": True},
    {"type": "Punctuation", "behavior": "Isolated"},
    {"type": "Punctuation", "behavior": "Contiguous"},
    {"type": "Digits", "individual_digits": True},
    {"type": "Digits", "individual_digits": False},
    {"type": "UnicodeScripts"},
    {"type": "CharDelimiterSplit", "delimiter": " "},
    {"type": "FixedLength", "length": 3},
    # The fixture files' sequences (clip, falcon, t5-small).
    {"type": "Sequence", "pretokenizers": [
        {"type": "Split", "pattern": {"Regex": "<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+"},
         "behavior": "Removed", "invert": True},
        {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True}]},
    {"type": "Sequence", "pretokenizers": [
        {"type": "Punctuation", "behavior": "Contiguous"},
        {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
        {"type": "Digits", "individual_digits": False},
        {"type": "Split", "pattern": {"Regex": "[0-9][0-9][0-9]"}, "behavior": "Isolated",
         "invert": False}]},
    {"type": "Sequence", "pretokenizers": [
        {"type": "WhitespaceSplit"},
        {"type": "Metaspace", "replacement": "\u2581", "str_rep": "\u2581",
         "add_prefix_space": True}]},
]


def main():
    inputs = [s for s in SPEC_17_3 if len(s) < 1000] + random_strings()[:60]
    base = {"version": "1.0", "model": {"type": "WordLevel", "vocab": {"a": 0}, "unk_token": "a"}}
    out_path = os.path.join(ROOT, "tests", "data", "pre_tokenizer_golden.jsonl")
    with open(out_path, "w", encoding="utf-8") as f:
        for config in CONFIGS:
            pre = Tokenizer.from_str(json.dumps(dict(base, pre_tokenizer=config))).pre_tokenizer
            cases = [[s, [[p, a, b] for p, (a, b) in pre.pre_tokenize_str(s)]] for s in inputs]
            f.write(json.dumps({"pre_tokenizer": config, "cases": cases}, ensure_ascii=False) + "\n")
    print(f"wrote {out_path}: {len(CONFIGS)} configs x {len(inputs)} inputs")


if __name__ == "__main__":
    main()
