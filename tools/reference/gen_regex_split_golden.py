#!/usr/bin/env python3
"""Writes tests/data/regex_split_golden.jsonl: the output of the reference `Split`
pre-tokenizer (tokenizers==0.22.2, Oniguruma) for real Hub regexes over the strings of spec
section 17.3 plus random mixed-script strings (fixed seed).

One JSON object per line: {"pattern": {"Regex"|"String": p}, "behavior": b, "invert": bool,
"cases": [[input, [[start, end], ...]], ...]} with char offsets as Python returns them; every
piece is the input's substring [start, end) (Split does not rewrite text).

    ~/.cache/mlhub/pyenv/bin/python tools/reference/gen_regex_split_golden.py
"""
import json
import os
import random
import sys

from tokenizers import Regex, pre_tokenizers

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
from build_corpus import SPEC_17_3  # noqa: E402

SEED = 1234
N_RANDOM = 250

GPT2 = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"
CL100K = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|"
          r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN2 = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}|"
         r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
# Qwen-family files that carry literal CR/LF inside the classes.
QWEN2_LITERAL = QWEN2.replace(r"\r\n", "\r\n")
O200K = (r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+"
         r"(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+"
         r"[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}|"
         r" ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+")
CLIP = (r"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|"
        r"[^\s\p{L}\p{N}]+")
BLOOM = " ?[^(\\s|[.,!?\u2026\u3002\uff0c\u3001\u0964\u06d4\u060c])]+"
DIGITS3 = r"\p{Nd}{1,3}(?=(?>\p{Nd}{3})*(?:\P{Nd}|$))|\G\p{Nd}{3}"
CJK = "[\u4e00-\u9fa5\u3040-\u309f\u30a0-\u30ff]+"

BEHAVIORS = ["Removed", "Isolated", "MergedWithPrevious", "MergedWithNext", "Contiguous"]

# (pattern, behavior, invert, which inputs: "all" = 17.3 + random, "short" = a small set)
CONFIGS = [
    ({"Regex": GPT2}, "Isolated", False, "all"),
    ({"Regex": CL100K}, "Isolated", False, "all"),
    ({"Regex": QWEN2}, "Isolated", False, "all"),
    ({"Regex": QWEN2_LITERAL}, "Isolated", False, "spec"),
    ({"Regex": O200K}, "Isolated", False, "all"),
    ({"Regex": CLIP}, "Removed", True, "spec"),
    ({"Regex": BLOOM}, "Isolated", False, "spec"),
    ({"Regex": DIGITS3}, "Isolated", False, "digits"),
    ({"Regex": "[0-9][0-9][0-9]"}, "Isolated", False, "digits"),
    ({"Regex": CJK}, "Isolated", False, "spec"),
]
for b in BEHAVIORS:
    for inv in (False, True):
        CONFIGS.append(({"String": "-"}, b, inv, "dash"))
        CONFIGS.append(({"Regex": "a*"}, b, inv, "empty"))
        CONFIGS.append(({"Regex": r"\s+"}, b, inv, "short"))
CONFIGS.append(({"String": "$1.0"}, "Isolated", False, "short"))
CONFIGS.append(({"String": "a|b(c)[d]{e}^f#g&h-i~j.k+l*m?n\\o"}, "Isolated", False, "meta"))

POOLS = [
    list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"),
    list("0123456789"), ["12", "123", "1234", "12345"],
    list("!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~"),
    ["'s", "'S", "'t", "'re", "'VE", "'m", "'ll", "'LL", "'d", "'D", "''", "'"],
    [" ", " ", " ", "  ", "   ", "\t", "\n", "\n\n", "\r\n", "\r", " \n", "\u00a0", "\u3000",
     "\u2028", "\u0085", "\u200b", "\u180e", "\ufeff", "\u2003", "\x0b", "\x0c"],
    list("éèàùçñöüßÉÀÖÜĳŁłİı"), ["e\u0301", "a\u0308", "\u0301", "\u0327"],
    list("中文字生活的真谛是野口里佳"), list("ひらがなカタカナー"), list("안녕하세요세계"),
    list("ภาษาไทยำ"), list("नमस्तेदुनिया"), list("مرحبا١٢٣٤"), list("שלוםעולם"),
    list("ΟΔΟΣαβγΣσς"), list("ПриветМир"),
    ["😀", "👍🏻", "❤️", "🏴󠁧󠁢󠁥󠁮󠁧󠁿", "👨‍👩‍👧", "🤗"], list("²½Ⅻ①㎏ﬁＡ€£¥₹…“”«»—–•·"),
    ["<|endoftext|>", "<s>", "</s>", "//", "/", "://", "..."],
]


def random_strings():
    rng = random.Random(SEED)
    out = []
    for _ in range(N_RANDOM):
        n = rng.randint(1, 24)
        pools = rng.sample(POOLS, rng.randint(1, 5))
        out.append("".join(rng.choice(rng.choice(pools)) for _ in range(n)))
    return out


def inputs(kind, spec, rnd):
    if kind == "all":
        return spec + rnd
    if kind == "spec":
        return spec + rnd[:60]
    if kind == "digits":
        return ["1", "12", "123", "1234", "12345", "123456", "1234567", "a12345b6789",
                "١٢٣٤٥", "12 345 6789 x", "0123456789 0 1 2 3 4 5 6 7 8 9 10 100 1000",
                "12 and 123 and 1234", "²½Ⅻ ١٢٣ ४२"] + rnd[:40]
    if kind == "dash":
        return ["the-final--countdown", "-", "--", "-a-", "a", "", "---x---", "é-ü--ß"]
    if kind == "empty":
        return ["ab", "aab", "baa", "bab", "", "a", "b", "éaé", "aaba"]
    if kind == "meta":
        return ["a|b(c)[d]{e}^f#g&h-i~j.k+l*m?n\\o", "xa|b(c)[d]{e}^f#g&h-i~j.k+l*m?n\\oy", "abc"]
    return ["Hey   friend!", "  a  b  ", "x\ty\nz", "$1.0 and $1.00", " ", "", "a\u3000b"]


def main():
    spec = [s for s in SPEC_17_3 if len(s) < 1000]
    rnd = random_strings()
    out_path = os.path.join(ROOT, "tests", "data", "regex_split_golden.jsonl")
    with open(out_path, "w", encoding="utf-8") as f:
        for pattern, behavior, invert, kind in CONFIGS:
            key, value = next(iter(pattern.items()))
            pat = Regex(value) if key == "Regex" else value
            pre = pre_tokenizers.Split(pat, behavior=behavior.lower().replace(
                "mergedwithprevious", "merged_with_previous").replace(
                "mergedwithnext", "merged_with_next"), invert=invert)
            cases = []
            for s in inputs(kind, spec, rnd):
                splits = pre.pre_tokenize_str(s)
                for piece, (a, b) in splits:
                    assert s[a:b] == piece, (s, piece, a, b)
                cases.append([s, [[a, b] for _, (a, b) in splits]])
            f.write(json.dumps({"pattern": pattern, "behavior": behavior, "invert": invert,
                                "cases": cases}, ensure_ascii=False) + "\n")
    print(f"wrote {out_path}: {len(CONFIGS)} configs")


if __name__ == "__main__":
    main()
