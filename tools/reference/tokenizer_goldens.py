#!/usr/bin/env python3
"""Writes the golden data of the tokenizer parity suite with the pinned reference library.

For every folder of <shared>/data/tokenizers that has a tokenizer.json, runs the cases below
through Python `tokenizers` (which must be 0.22.2) and writes
tests/golden/tokenizers/<folder>.jsonl.gz: one JSON object per line, the first a "meta" line.

    ~/.cache/mlhub/pyenv/bin/python tools/reference/tokenizer_goldens.py [--shared ../shared]
        [--corpus tests/data/tokenizer_corpus.jsonl] [--out tests/golden/tokenizers] [--only NAME]

Case kinds (see tools/reference/README.md for the record layout):
  single      every corpus line, encode(s) with add_special_tokens=True, plus a quarter of the
              lines with False; truncation/padding as the file configures ("config": "file").
  pair        encode(a, b) of consecutive corpus lines and (s, s), file configuration.
  truncation  encode of one sequence or a pair with explicit truncation (and sometimes padding);
              errors of the reference are recorded as {"error": true, ...}.
  batch       encode_batch of 2-4 inputs with explicit padding (and sometimes truncation).
  decode      decode(ids, skip_special_tokens=False) and (..., True) for ids of encoded lines
              and for random id sequences.
Output is deterministic (fixed seeds, gzip mtime 0), so regenerating gives identical files.
"""

import argparse
import gzip
import hashlib
import io
import json
import os
import random
import sys

os.environ.setdefault("RUST_BACKTRACE", "0")
os.environ["RUST_BACKTRACE"] = "0"  # reference panics are expected in some truncation cases

import tokenizers  # noqa: E402
from tokenizers import Tokenizer  # noqa: E402

PINNED = "0.22.2"
SEED = 4242

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
from build_corpus import escape_json_text  # noqa: E402

STRATEGY = {"longest_first": "LongestFirst", "only_first": "OnlyFirst",
            "only_second": "OnlySecond"}
STRATEGY_PY = {v: k for k, v in STRATEGY.items()}
PAD_CANDIDATES = ["[PAD]", "<pad>", "<|endoftext|>", "</s>", "<unk>"]


# ------------------------------------------------------------------------------------------------
def enc_json(e):
    return {
        "ids": e.ids,
        "tokens": e.tokens,
        "offsets": [x for o in e.offsets for x in o],  # flat: start0, end0, start1, ...
        "type_ids": e.type_ids,
        "special_tokens_mask": e.special_tokens_mask,
        "attention_mask": e.attention_mask,
        "word_ids": e.word_ids,
        "sequence_ids": e.sequence_ids,
        "overflowing": [enc_json(o) for o in e.overflowing],
    }


def trunc_json(t):
    if t is None:
        return None
    return {"max_length": t["max_length"], "stride": t["stride"],
            "strategy": STRATEGY[t["strategy"]], "direction": t["direction"].capitalize()}


def pad_json(p):
    if p is None:
        return None
    return {"length": p["length"], "direction": p["direction"].capitalize(),
            "pad_to_multiple_of": p["pad_to_multiple_of"], "pad_id": p["pad_id"],
            "pad_type_id": p["pad_type_id"], "pad_token": p["pad_token"]}


class Runner:
    """One tokenizer; applies a case's truncation/padding before running it."""

    def __init__(self, path):
        self.tok = Tokenizer.from_file(path)
        self.file_trunc = trunc_json(self.tok.truncation)
        self.file_pad = pad_json(self.tok.padding)

    def configure(self, trunc, pad):
        """Returns an error dict when the reference rejects the truncation setting."""
        if pad is None:
            self.tok.no_padding()
        else:
            self.tok.enable_padding(direction=pad["direction"].lower(), pad_id=pad["pad_id"],
                                    pad_type_id=pad["pad_type_id"], pad_token=pad["pad_token"],
                                    length=pad["length"],
                                    pad_to_multiple_of=pad["pad_to_multiple_of"])
        if trunc is None:
            self.tok.no_truncation()
            return None
        try:
            self.tok.enable_truncation(trunc["max_length"], stride=trunc["stride"],
                                       strategy=STRATEGY_PY[trunc["strategy"]],
                                       direction=trunc["direction"].lower())
        except BaseException as ex:  # noqa: B036 (pyo3 PanicException is a BaseException)
            return {"error": True, "error_stage": "set_truncation", "error_message": str(ex)}
        return None

    def run(self, fn, trunc, pad):
        err = self.configure(trunc, pad)
        if err is not None:
            return err
        try:
            return fn(self.tok)
        except BaseException as ex:  # noqa: B036
            if isinstance(ex, KeyboardInterrupt):
                raise
            return {"error": True, "error_stage": "encode", "error_message": str(ex)}


def encode_case(runner, kind, inputs, add_special, config, trunc=None, pad=None, note=None,
                line=None):
    if config == "file":
        trunc, pad = runner.file_trunc, runner.file_pad
    case = {"kind": kind}
    if line is not None:
        case["line"] = line
    case.update({"add_special_tokens": add_special, "config": config, "truncation": trunc,
                 "padding": pad})
    if kind == "batch":
        case["inputs"] = inputs
        items = [tuple(x) if isinstance(x, list) else x for x in inputs]
        expected = runner.run(
            lambda t: [enc_json(e) for e in t.encode_batch(items, add_special_tokens=add_special)],
            trunc, pad)
    else:
        case["input"] = inputs
        if isinstance(inputs, list):
            fn = lambda t: enc_json(t.encode(inputs[0], inputs[1],  # noqa: E731
                                             add_special_tokens=add_special))
        else:
            fn = lambda t: enc_json(t.encode(inputs, add_special_tokens=add_special))  # noqa
        expected = runner.run(fn, trunc, pad)
    if note:
        case["note"] = note
    case["expected"] = expected
    return case


# ------------------------------------------------------------------------------------------------
def pad_params(runner):
    vocab = runner.tok.get_vocab(with_added_tokens=True)
    for tok in PAD_CANDIDATES:
        if tok in vocab:
            return vocab[tok], tok
    return 0, "[PAD]"


def n_added(runner, pair):
    return runner.tok.num_special_tokens_to_add(pair)


def truncation_cases(runner, corpus, rng):
    """~100 cases over single and pair inputs, all strategies and directions."""
    # Short inputs (3 to 16 tokens): a tiny max_length on a pair nests overflows, about
    # len(a) * len(b) entries.
    medium = [s for s in corpus if 5 <= len(s) <= 100
              and 3 <= len(runner.tok.encode(s, add_special_tokens=False).ids) <= 16]
    pad_id, pad_token = pad_params(runner)
    runner.configure(None, None)
    cases = []
    combos = []
    for max_length in (1, 2, 3, 4, 5, 6, 8, 16):
        for strategy in ("LongestFirst", "OnlyFirst", "OnlySecond"):
            for direction in ("Right", "Left"):
                combos.append((max_length, strategy, direction))
    combos = [c + (0,) for c in combos] + [c + (2,) for c in combos]
    for i, (max_length, strategy, direction, stride) in enumerate(combos):
        pair = i % 3 != 2
        add_special = i % 5 != 4
        trunc = {"max_length": max_length, "stride": stride, "strategy": strategy,
                 "direction": direction}
        pad = None
        if i % 6 == 5:
            pad = {"length": None, "direction": "Left" if i % 12 == 11 else "Right",
                   "pad_to_multiple_of": 8 if i % 4 == 3 else None, "pad_id": pad_id,
                   "pad_type_id": i % 2, "pad_token": pad_token}
        if pair:
            inputs = [rng.choice(medium), rng.choice(medium)]
        else:
            inputs = rng.choice(medium)
        note = None
        if add_special and max_length < n_added(runner, pair):
            note = ("max_length is below the number of added special tokens: the reference's "
                    "usize subtraction wraps, so nothing is truncated")
        cases.append(encode_case(runner, "truncation", inputs, add_special, "set", trunc, pad,
                                 note))
    # max_length 0, stride at the limit, a long pair, and short sequences with OnlyFirst.
    extra = [
        ("hello world again and again", None, 0, 0, "LongestFirst", "Right", False),
        (["a b c d e f", "g h i"], None, 0, 0, "LongestFirst", "Left", False),
        ("one two three four five six seven", None, 4, 3, "LongestFirst", "Right", False),
        ("one two three four five six seven", None, 4, 3, "LongestFirst", "Left", False),
        (["one two three four five six seven eight", "nine ten"], None, 7, 2, "LongestFirst",
         "Right", True),
        (["x", "one two three four five six seven eight nine ten"], None, 6, 0, "OnlyFirst",
         "Right", True),
        (["one two three four five six seven eight nine ten", "x"], None, 6, 0, "OnlySecond",
         "Right", True),
        ("one two three four five six seven eight nine ten", None, 6, 0, "OnlySecond", "Right",
         True),
        (["", "one two three four five six seven eight nine ten"], None, 5, 1, "LongestFirst",
         "Left", True),
        (["one two three four", "five six seven eight"], None, 9, 1, "LongestFirst", "Right",
         True),
        (["one two three four five", "six seven eight"], None, 9, 0, "LongestFirst", "Right",
         True),
    ]
    for inputs, _, max_length, stride, strategy, direction, add_special in extra:
        trunc = {"max_length": max_length, "stride": stride, "strategy": strategy,
                 "direction": direction}
        cases.append(encode_case(runner, "truncation", inputs, add_special, "set", trunc, None))
    return cases


def batch_cases(runner, corpus, rng):
    """~30 encode_batch cases with padding variants (some with truncation)."""
    short = [s for s in corpus if 1 <= len(s) <= 200]
    pad_id, pad_token = pad_params(runner)
    cases = []
    for i in range(32):
        n = 2 + i % 3
        inputs = []
        for j in range(n):
            if (i + j) % 4 == 3:
                inputs.append([rng.choice(short), rng.choice(short)])
            else:
                inputs.append(rng.choice(short))
        if i == 0:
            inputs = ["", "a", "hello world"]
        length = [None, None, None, 16, 40, 3][i % 6]
        pad = {"length": length, "direction": "Left" if i % 2 else "Right",
               "pad_to_multiple_of": 8 if i % 3 == 1 else None, "pad_id": pad_id,
               "pad_type_id": 1 if i % 7 == 3 else 0, "pad_token": pad_token}
        trunc = None
        if i % 5 == 4:
            trunc = {"max_length": 12, "stride": 2 if i % 10 == 9 else 0,
                     "strategy": "LongestFirst", "direction": "Right" if i % 3 else "Left"}
        add_special = i % 8 != 7
        cases.append(encode_case(runner, "batch", inputs, add_special, "set", trunc, pad))
    return cases


def decode_cases(runner, corpus, singles, rng):
    cases = []
    tok = runner.tok
    for i, case in enumerate(singles):
        if i % 8 != 0 or "error" in case["expected"]:
            continue
        ids = case["expected"]["ids"]
        if len(ids) > 2000:
            continue
        cases.append({"kind": "decode", "line": case["line"], "ids": ids})
    size = tok.get_vocab_size(with_added_tokens=True)
    added = sorted(tok.get_added_tokens_decoder().keys())
    for i in range(48):
        n = rng.randint(1, 24)
        ids = []
        for _ in range(n):
            r = rng.random()
            if r < 0.15 and added:
                ids.append(rng.choice(added))
            elif r < 0.2:
                ids.append(size + rng.randint(0, 5))  # unknown ids are dropped
            elif r < 0.6:
                ids.append(rng.randint(0, min(size - 1, 600)))
            else:
                ids.append(rng.randint(0, size - 1))
        cases.append({"kind": "decode", "line": None, "ids": ids})
    cases.append({"kind": "decode", "line": None, "ids": []})
    cases.append({"kind": "decode", "line": None, "ids": added[:64]})
    for c in cases:
        c["expected"] = {"skip_special_false": tok.decode(c["ids"], skip_special_tokens=False),
                         "skip_special_true": tok.decode(c["ids"], skip_special_tokens=True)}
    return cases


def build_cases(runner, corpus, max_lines):
    rng = random.Random(SEED)
    cases = []
    singles = []
    n = min(len(corpus), max_lines)
    for i in range(n):
        singles.append(encode_case(runner, "single", corpus[i], True, "file", line=i))
    cases += singles
    for i in range(n):
        if i % 4 == 1 and len(corpus[i]) <= 500:
            cases.append(encode_case(runner, "single", corpus[i], False, "file", line=i))
    # Pairs: consecutive lines, (s, s), and a few with empty sides.
    small = [i for i in range(n - 1) if len(corpus[i]) <= 1000 and len(corpus[i + 1]) <= 1000]
    for k in range(250):
        i = small[(k * 37) % len(small)]
        cases.append(encode_case(runner, "pair", [corpus[i], corpus[i + 1]], k % 5 != 4,
                                 "file"))
    for k in range(50):
        i = small[(k * 53 + 11) % len(small)]
        cases.append(encode_case(runner, "pair", [corpus[i], corpus[i]], True, "file"))
    for a, b in (("", ""), ("", "x"), ("x", ""), (" ", "\n")):
        cases.append(encode_case(runner, "pair", [a, b], True, "file"))
    cases += truncation_cases(runner, corpus, rng)
    cases += batch_cases(runner, corpus, rng)
    cases += decode_cases(runner, corpus, singles, rng)
    return cases


def write_golden(path, meta, cases):
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as gz:
        for obj in [meta] + cases:
            text = escape_json_obj(obj)
            assert "\n" not in text
            gz.write(text.encode("utf-8") + b"\n")
    with open(path, "wb") as f:
        f.write(buf.getvalue())
    return len(buf.getvalue())


def escape_json_obj(obj):
    return escape_json_text(json.dumps(obj, ensure_ascii=False, separators=(",", ":")))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", default=os.path.join(REPO, "..", "shared"))
    ap.add_argument("--corpus", default=os.path.join(REPO, "tests", "data",
                                                     "tokenizer_corpus.jsonl"))
    ap.add_argument("--out", default=os.path.join(REPO, "tests", "golden", "tokenizers"))
    ap.add_argument("--only", action="append", help="folder name(s) to regenerate")
    ap.add_argument("--max-lines", type=int, default=None,
                    help="run only the first N corpus lines as single cases (>= 2000)")
    ap.add_argument("--big-vocab-lines", type=int, default=2000,
                    help="corpus lines run for the three biggest-vocab tokenizers (size budget)")
    args = ap.parse_args()
    if tokenizers.__version__ != PINNED:
        sys.exit(f"tokenizers {tokenizers.__version__} found, the goldens need {PINNED} "
                 "(tools/reference/requirements.txt)")
    with open(args.corpus, "rb") as f:
        raw = f.read()
    corpus = [json.loads(ln) for ln in raw.split(b"\n") if ln]
    corpus_sha = hashlib.sha256(raw).hexdigest()
    root = os.path.join(args.shared, "data", "tokenizers")
    os.makedirs(args.out, exist_ok=True)
    names = sorted(n for n in os.listdir(root)
                   if os.path.isfile(os.path.join(root, n, "tokenizer.json")))
    vocab_sizes = {}
    for name in names:
        with open(os.path.join(root, name, "tokenizer.json"), encoding="utf-8") as f:
            vocab_sizes[name] = len(json.load(f)["model"]["vocab"])
    big_vocab = sorted(names, key=lambda n: (-vocab_sizes[n], n))[:3]
    total = 0
    for name in names:
        if args.only and name not in args.only:
            continue
        runner = Runner(os.path.join(root, name, "tokenizer.json"))
        max_lines = args.max_lines or len(corpus)
        if name in big_vocab:
            max_lines = min(max_lines, args.big_vocab_lines)
        cases = build_cases(runner, corpus, max_lines)
        kinds = {}
        for c in cases:
            kinds[c["kind"]] = kinds.get(c["kind"], 0) + 1
        meta = {"kind": "meta", "tokenizer": name, "tokenizers_version": tokenizers.__version__,
                "corpus_sha256": corpus_sha, "corpus_lines": min(len(corpus), max_lines),
                "cases": len(cases), "case_kinds": kinds}
        size = write_golden(os.path.join(args.out, name + ".jsonl.gz"), meta, cases)
        total += size
        print(f"{name}: {len(cases)} cases {kinds}, {size} bytes", file=sys.stderr)
    print(f"total {total} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
