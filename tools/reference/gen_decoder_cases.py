#!/usr/bin/env python3
"""Writes tests/golden/tokenizers/decoder_cases.json: decoder outputs of tokenizers 0.22.2.

    ~/.cache/mlhub/pyenv/bin/python tools/reference/gen_decoder_cases.py

Three parts, each case being `expected = decoder.decode(tokens)` (the decoder chain followed by
joining with ""):
  file_decoders  the decoder of every shared tokenizer.json on the tokens of encoded corpus lines
                 and of random id sequences (partial UTF-8, byte-fallback runs, specials);
  synthetic      hand-written decoder configurations and token lists (spec 16.25 and edge cases);
  load           decoder JSON objects, with "error": true when the reference refuses to load them.
"""

import json
import os
import random
import sys

os.environ["RUST_BACKTRACE"] = "0"

import tokenizers  # noqa: E402
from tokenizers import Tokenizer  # noqa: E402

HERE = os.path.dirname(__file__)
ROOT = os.path.join(HERE, "..", "..")
OUT = os.path.join(ROOT, "tests", "golden", "tokenizers", "decoder_cases.json")
SHARED = os.environ.get("MLHUB_SHARED", os.path.join(ROOT, "..", "shared"))
CORPUS = os.path.join(ROOT, "tests", "data", "tokenizer_corpus.jsonl")
SEED = 777
LINES_PER_FILE = 12
RANDOM_PER_FILE = 12

METASPACE = {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": True}
LLAMA = {"type": "Sequence", "decoders": [
    {"type": "Replace", "pattern": {"String": "▁"}, "content": " "}, {"type": "ByteFallback"},
    {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 1, "stop": 0}]}
SYNTHETIC = [
    # spec 16.25
    ({"type": "ByteFallback"}, ["<0xE5>", "<0x8f>"]),
    ({"type": "ByteFallback"}, ["<0xE5>", "<0x8f>", "<0xab>"]),
    ({"type": "ByteFallback"}, ["<0xE5>", "<0x8f>", "<0xab>", "a", "<0x61>", "<0xFF>", "<0x62>"]),
    ({"type": "ByteFallback"},
     ["<0x+F>", "<0x-1>", "<0X41>", "<0x4g>", "<0x41", "<0x411>", "<0xé>"]),
    ({"type": "ByteFallback"}, ["<0xF0>", "<0x9F>", "<0xA4>", "<0x97>", "<0xF0>", "<0x9F>"]),
    ({"type": "WordPiece", "prefix": "##", "cleanup": True}, ["I", "'m", "Jo", "##hn"]),
    ({"type": "WordPiece", "prefix": "##", "cleanup": False}, ["I", "'m", "Jo", "##hn"]),
    ({"type": "WordPiece", "prefix": "##", "cleanup": True},
     ["##a", "do", "not", "you", "'", "re", "n't", ",", "' s", "!", "?", ".", "'ve", "'s"]),
    ({"type": "WordPiece", "prefix": "", "cleanup": False}, ["a", "b", "##c"]),
    ({"type": "Strip", "content": "_", "start": 1, "stop": 0}, ["_My", " na", "me", " _-", "__-"]),
    ({"type": "Strip", "content": "a", "start": 2, "stop": 3}, ["aaxaaaa", "xa", "aax", "ééa"]),
    ({"type": "Strip", "content": "é", "start": 1, "stop": 1}, ["éaé", "ébé"]),
    ({"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True},
     ["ĠHello", "[PA D]", "Ġ\u00e5", "Ġ", "Ċ", "Ã©", "ðŁ", "Ĳ", "a", "\u00e0", "\u0142",
      "Za\u010dnimo"]),
    ({"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True},
     ["\u00ed\u00a0\u0122", "\u00f0\u0141\u013a", "\u00e0\u00a4", "\u00c0\u00af", "\u00f5", "x"]),
    (METASPACE, ["▁Hey", "▁▁friend", "▁", "a▁b"]),
    (dict(METASPACE, prepend_scheme="first"), ["▁a▁b", "▁c"]),
    (dict(METASPACE, prepend_scheme="never"), ["▁Hey", "▁▁friend"]),
    ({"type": "Metaspace", "replacement": "x", "add_prefix_space": True}, ["xaxx", "bx"]),
    ({"type": "BPEDecoder", "suffix": "</w>"}, ["hel", "lo</w>", "wor", "ld</w>", "!</w>"]),
    ({"type": "BPEDecoder", "suffix": "</w>"}, ["a</w>b</w>"]),
    ({"type": "BPEDecoder", "suffix": ""}, ["ab", "cd"]),
    ({"type": "BPEDecoder", "suffix": "</w>"}, []),
    ({"type": "CTC", "pad_token": "<pad>", "word_delimiter_token": "|", "cleanup": True},
     ["<pad>", "h", "h", "e", "<pad>", "l", "l", "<pad>", "l", "o", "|", "|", "w", "o", "<pad>",
      "r", "l", "d", "|", "'", "s", "|", "|", "?"]),
    ({"type": "CTC", "pad_token": "<pad>", "word_delimiter_token": "|", "cleanup": False},
     ["a", "a", "|", "x<pad>y", "<pad><pad>", "b"]),
    ({"type": "CTC", "pad_token": "<pad>", "word_delimiter_token": "", "cleanup": True},
     ["ab", "ab", "<pad>", "c"]),
    ({"type": "Replace", "pattern": {"String": "▁"}, "content": " "}, ["▁a▁", "", "b"]),
    ({"type": "Replace", "pattern": {"String": ""}, "content": "-"}, ["a", "ba", "", "é"]),
    ({"type": "Replace", "pattern": {"Regex": "a*"}, "content": "-"}, ["a", "ba", "aa", "b", ""]),
    ({"type": "Replace", "pattern": {"Regex": "\\s+"}, "content": "_"}, ["a  b\t\nc", " "]),
    ({"type": "Replace", "pattern": {"String": "a.b"}, "content": "X"}, ["a.b acb a.ba.b"]),
    ({"type": "Fuse"}, ["a", "", "b c"]),
    ({"type": "Fuse"}, []),
    (LLAMA, ["▁Hello", "▁", "<0xE5>", "<0x8f>", "<0xab>", "▁world", "<0xE5>"]),
    (LLAMA, ["<0x20>", "▁a"]),
    ({"type": "Sequence", "decoders": []}, ["a", "b"]),
    ({"type": "Sequence", "decoders": [
        {"type": "Fuse"}, {"type": "Strip", "content": "a", "start": 1, "stop": 1}]}, ["ab", "ca"]),
    # untagged (legacy) objects the reference still loads
    ({"suffix": "</w>"}, ["a</w>", "b"]),
    ({"type": "Foo", "suffix": "x"}, ["axb", "x"]),
    ({"prefix": "##", "cleanup": True}, ["a", "##b", "c", "."]),
    ({"pad_token": "a", "word_delimiter_token": "b", "cleanup": False}, ["a", "ba", "b"]),
    ({"content": "a", "start": 1, "stop": 0}, ["ab", "ba"]),
    ({"pattern": {"String": "a"}, "content": "b"}, ["aa"]),
]
LOAD = [
    {"type": "ByteLevel"},
    {"type": "ByteLevel", "add_prefix_space": True},
    {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": 1},
    {"type": "WordPiece"},
    {"type": "WordPiece", "prefix": "##"},
    {"type": "WordPiece", "prefix": "##", "cleanup": 1},
    {"type": "Metaspace"},
    {"type": "Metaspace", "replacement": "ab"},
    {"type": "Metaspace", "replacement": ""},
    {"type": "Metaspace", "replacement": "_", "add_prefix_space": False},
    {"type": "Metaspace", "replacement": "_", "add_prefix_space": False, "prepend_scheme": "first"},
    {"type": "Metaspace", "replacement": "_", "add_prefix_space": False, "prepend_scheme": "never"},
    {"type": "Metaspace", "replacement": "_", "prepend_scheme": "First"},
    {"type": "Metaspace", "replacement": "_", "split": False, "str_rep": "x"},
    {"type": "Strip", "content": "ab", "start": 1, "stop": 0},
    {"type": "Strip", "content": "a", "start": -1, "stop": 0},
    {"type": "Strip", "content": "a", "start": 1},
    {"type": "CTC"},
    {"type": "BPEDecoder"},
    {"type": "Sequence"},
    {"type": "Sequence", "decoders": [{"type": "Nope"}]},
    {"type": "Fuse", "x": 1},
    {"type": "Replace", "pattern": {"Regex": "("}, "content": "-"},
    {"type": "Replace", "pattern": {"String": "a", "Regex": "b"}, "content": "-"},
    {"type": "Replace", "pattern": "a", "content": "-"},
    {"type": "Nope"},
    {},
]


def decoder_of(config):
    d = {"version": "1.0", "model": {"type": "WordLevel", "vocab": {"a": 0}, "unk_token": "a"},
         "decoder": config}
    return Tokenizer.from_str(json.dumps(d)).decoder


def decode(decoder, tokens):
    try:
        return decoder.decode(tokens)
    except BaseException:  # noqa: B036 - pyo3 panics derive from BaseException
        return None


def file_decoders(lines):
    rng = random.Random(SEED)
    out = {}
    root = os.path.join(SHARED, "data", "tokenizers")
    for folder in sorted(os.listdir(root)):
        path = os.path.join(root, folder, "tokenizer.json")
        if not os.path.exists(path):
            continue
        d = json.load(open(path))
        if d.get("decoder") is None:
            continue
        t = Tokenizer.from_file(path)
        t.no_truncation()
        t.no_padding()
        cases = []
        for text in rng.sample(lines, LINES_PER_FILE):
            tokens = t.encode(text).tokens
            cases.append({"tokens": tokens, "expected": t.decoder.decode(tokens)})
        n = t.get_vocab_size(with_added_tokens=True)
        for _ in range(RANDOM_PER_FILE):
            ids = [rng.randrange(n) for _ in range(rng.randrange(1, 12))]
            tokens = [t.id_to_token(i) for i in ids if t.id_to_token(i) is not None]
            cases.append({"tokens": tokens, "expected": t.decoder.decode(tokens)})
        out[folder] = {"decoder": d["decoder"], "cases": cases}
    return out


def main():
    if tokenizers.__version__ != "0.22.2":
        sys.exit("tokenizers 0.22.2 required, found " + tokenizers.__version__)
    lines = [json.loads(x) for x in open(CORPUS, encoding="utf-8")]
    synthetic = [{"decoder": c, "tokens": toks, "expected": decode(decoder_of(c), toks)}
                 for c, toks in SYNTHETIC]
    load = []
    for c in LOAD:
        try:
            decoder_of(c)
            load.append({"decoder": c, "error": False})
        except BaseException:  # noqa: B036
            load.append({"decoder": c, "error": True})
    files = file_decoders(lines)
    with open(OUT, "w", encoding="utf-8") as f:
        f.write(json.dumps({"generator": "tools/reference/gen_decoder_cases.py",
                            "tokenizers": tokenizers.__version__})[:-1])
        f.write(',\n"synthetic": [\n')
        f.write(",\n".join(json.dumps(c, ensure_ascii=False) for c in synthetic))
        f.write('\n],\n"load": [\n')
        f.write(",\n".join(json.dumps(c, ensure_ascii=False) for c in load))
        f.write('\n],\n"file_decoders": {\n')
        f.write(",\n".join("%s: %s" % (json.dumps(k), json.dumps(v, ensure_ascii=False))
                           for k, v in files.items()))
        f.write("\n}}\n")


if __name__ == "__main__":
    main()
