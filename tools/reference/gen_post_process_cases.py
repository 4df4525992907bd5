#!/usr/bin/env python3
"""Writes tests/golden/tokenizers/post_process_cases.json: truncation, post-processors and padding
of tokenizers 0.22.2 on tiny WordLevel + Whitespace tokenizers, overflowing entries included.

    ~/.cache/mlhub/pyenv/bin/python tools/reference/gen_post_process_cases.py

Each case encodes `first` (and `second`) with the processor, truncation and padding given in
tokenizer.json form, and records the Encoding as one line per encoding (overflowing entries
indented by two spaces per level), or "ERROR" when the reference raises or panics. The C++ test
(tests/unit/tokenizers/encoding_ops_test.cc) rebuilds the model-stage encodings by hand (one
token per space-separated word) and runs truncate_encodings / post_process / pad_encodings.
"""

import json
import os
import sys

os.environ["RUST_BACKTRACE"] = "0"  # some cases make the reference panic on purpose

import tokenizers  # noqa: E402
from tokenizers import Tokenizer  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "golden", "tokenizers",
                   "post_process_cases.json")
VOCAB = {w: i for i, w in enumerate(
    "[UNK] [CLS] [SEP] [PAD] my name is john pair a b c d e f g h i j".split())}


def special(name, type_id):
    return {"SpecialToken": {"id": name, "type_id": type_id}}


def seq(name, type_id):
    return {"Sequence": {"id": name, "type_id": type_id}}


def tokens(*pairs):
    return {name: {"id": name, "ids": ids, "tokens": toks} for name, ids, toks in pairs}


BERT_TEMPLATE = {
    "type": "TemplateProcessing",
    "single": [special("[CLS]", 0), seq("A", 0), special("[SEP]", 0)],
    "pair": [special("[CLS]", 0), seq("A", 0), special("[SEP]", 0), seq("B", 1),
             special("[SEP]", 1)],
    "special_tokens": tokens(("[CLS]", [1], ["[CLS]"]), ("[SEP]", [2], ["[SEP]"])),
}
PROCESSORS = {
    "none": None,
    "bert_template": BERT_TEMPLATE,
    # A special token of two ids, odd type ids, B before A, A used twice.
    "multi_template": {
        "type": "TemplateProcessing",
        "single": [special("[X]", 3), seq("A", 2), special("[SEP]", 1)],
        "pair": [seq("B", 1), special("[X]", 3), seq("A", 0), seq("A", 1)],
        "special_tokens": tokens(("[X]", [4, 5], ["my", "name"]), ("[SEP]", [2], ["[SEP]"])),
    },
    "bert": {"type": "BertProcessing", "sep": ["[SEP]", 2], "cls": ["[CLS]", 1]},
    "roberta": {"type": "RobertaProcessing", "sep": ["[SEP]", 2], "cls": ["[CLS]", 1],
                "trim_offsets": True, "add_prefix_space": True},
    "byte_level_sequence": {"type": "Sequence", "processors": [
        {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        {"type": "TemplateProcessing",
         "single": [special("[CLS]", 0), seq("A", 0)],
         "pair": [special("[CLS]", 0), seq("A", 0), special("[CLS]", 1), seq("B", 1)],
         "special_tokens": tokens(("[CLS]", [1], ["[CLS]"]))}]},
}


def T(max_length, stride=0, strategy="LongestFirst", direction="Right"):
    return {"direction": direction, "max_length": max_length, "strategy": strategy,
            "stride": stride}


def P(fixed=None, direction="Right", multiple=None):
    return {"strategy": {"Fixed": fixed} if fixed is not None else "BatchLongest",
            "direction": direction, "pad_to_multiple_of": multiple, "pad_id": 3,
            "pad_type_id": 7, "pad_token": "[PAD]"}


def cases_for(proc):
    return [
        ("single", proc, "a b c d e f g", None, True, None, None),
        ("pair_longest_right", proc, "a b c d e f", "g h i j", True, T(9, 1), None),
        ("pair_longest_left", proc, "a b c d e f", "g h i j", True, T(9, 1, direction="Left"),
         None),
        ("pair_no_special", proc, "a b c d e f", "g h i j", False, T(6, 1), None),
        ("single_stride_pad", proc, "a b c d e f g h", None, True, T(6, 2), P(8)),
        ("pair_only_second_pad_left", proc, "a b", "c d e f g h i j", True,
         T(9, 0, "OnlySecond", "Left"), P(None, "Left", 4)),
        ("pair_only_first", proc, "a b c d e f g h", "i j", True, T(9, 1, "OnlyFirst"), P(13)),
    ]


CASES = []
for _p in PROCESSORS:
    CASES += [(_p + "/" + n, *rest) for (n, *rest) in cases_for(_p)]
CASES += [
    # spec 16.23 (Python test_truncation with max_length 2)
    ("spec23_single", "none", "my name is john", None, True, T(2), None),
    ("spec23_pair", "none", "my name is john", "pair", True, T(2), None),
    ("spec23_single_left", "none", "my name is john", None, True, T(2, direction="Left"), None),
    ("spec23_pair_left", "none", "my name is john", "pair", True, T(2, direction="Left"), None),
    ("only_second_without_pair", "bert_template", "a b c d", None, True, T(4, 0, "OnlySecond"),
     None),
    ("only_first_too_short", "bert_template", "a", "b c d e", True, T(5, 0, "OnlyFirst"), None),
    ("max_length_zero_pair", "none", "a b c", "d e", True, T(0), P(4)),
    ("max_length_zero_after_specials", "bert_template", "a b c", "d e", True, T(3), None),
    ("longest_first_shorter_over_limit", "none", "a b c d e f", "g h i j", True, T(3), None),
    ("longest_first_first_shorter", "bert_template", "a b", "c d e f g h i j", True, T(8, 1), None),
    ("fits_exactly", "bert_template", "a b", "c d", True, T(7, 1), None),
    ("stride_too_large", "bert_template", "a b c d e f", None, True, T(5, 3), None),
    ("pad_fixed_shorter_than_encoding", "bert_template", "a b c d e f", None, True, None, P(4)),
    ("pad_multiple_left_pair", "bert_template", "a b c", "d e", True, None, P(None, "Left", 8)),
    ("pad_multiple_zero", "bert_template", "a b c", None, True, None, P(None, "Right", 0)),
    ("empty_inputs", "bert_template", "", "", True, T(4), P(6)),
    ("unknown_words", "bert", "x a y", "z", True, None, None),
    ("right_windows", "none", "a b c d e f g h i j", None, True, T(4, 1), None),
    ("left_windows", "none", "a b c d e f g h i j", None, True, T(4, 1, direction="Left"), None),
    ("left_windows_uneven", "none", "a b c d e f g h", None, True, T(3, 1, direction="Left"), None),
    ("both_overflow_template", "bert_template", "a b c d e", "f g h i j", True, T(7, 1), None),
]


def dump(e, depth=0):
    def f(xs):
        return ",".join("-" if x is None else str(x) for x in xs)
    line = "  " * depth + "ids=%s types=%s toks=%s off=%s stm=%s am=%s words=%s seq=%s" % (
        f(e.ids), f(e.type_ids), ",".join(e.tokens), ",".join("%d:%d" % o for o in e.offsets),
        f(e.special_tokens_mask), f(e.attention_mask), f(e.word_ids), f(e.sequence_ids))
    out = [line]
    for o in e.overflowing:
        out += dump(o, depth + 1)
    return out


def run(proc, first, second, add_special, trunc, pad):
    d = {"version": "1.0", "truncation": trunc, "padding": pad, "added_tokens": [],
         "normalizer": None, "pre_tokenizer": {"type": "Whitespace"}, "post_processor": proc,
         "decoder": None, "model": {"type": "WordLevel", "vocab": VOCAB, "unk_token": "[UNK]"}}
    t = Tokenizer.from_str(json.dumps(d))
    try:
        if second is None:
            return dump(t.encode(first, add_special_tokens=add_special))
        return dump(t.encode(first, second, add_special_tokens=add_special))
    except BaseException:  # noqa: B036 - pyo3 panics derive from BaseException
        return "ERROR"


SHARED = os.environ.get("MLHUB_SHARED", os.path.join(os.path.dirname(__file__), "..", "..", "..",
                                                     "shared"))
TEXTS = ["Hello world", "Hello there       dear", "  leading and trailing   ",
         "I saw a <mask> 😺", "<s>Hello", " <mask> test<mask>", "tab\there\n newline ", "é ü 野口", ""]
# (name, file, processor replacing the file's one or None to keep it, add_prefix_space of the
# ByteLevel pre-tokenizer or None to keep it)
REAL = [
    ("roberta", "roberta-base", None, None),
    ("roberta_prefix", "roberta-base",
     {"type": "RobertaProcessing", "sep": ["</s>", 2], "cls": ["<s>", 0], "trim_offsets": True,
      "add_prefix_space": True}, True),
    ("gpt2_bytelevel_trim", "gpt2",
     {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
     True),
    ("gpt2_bytelevel_trim_noprefix", "gpt2",
     {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
     None),
    ("bert_uncased", "bert-base-uncased", None, None),
    ("whisper", "whisper-tiny", None, None),
]


def raw_record(e):
    return {"ids": e.ids, "tokens": e.tokens, "offsets": e.offsets, "words": e.word_ids}


def real_cases(processors):
    out = []
    for name, folder, proc, prefix in REAL:
        d = json.load(open(os.path.join(SHARED, "data", "tokenizers", folder, "tokenizer.json")))
        d["truncation"] = None
        d["padding"] = None
        if proc is not None:
            d["post_processor"] = proc
        if prefix is not None and d["pre_tokenizer"]["type"] == "ByteLevel":
            d["pre_tokenizer"]["add_prefix_space"] = prefix
        full = Tokenizer.from_str(json.dumps(d))
        raw_d = dict(d)
        raw_d["post_processor"] = None
        raw = Tokenizer.from_str(json.dumps(raw_d))
        processors[name] = d["post_processor"]
        for i, text in enumerate(TEXTS):
            pair = TEXTS[(i + 3) % len(TEXTS)]
            for second in (None, pair):
                for add_special in (True, False):
                    args = (text,) if second is None else (text, second)
                    out.append({
                        "name": "%s/%d%s%s" % (name, i, "/pair" if second is not None else "",
                                               "" if add_special else "/nospecial"),
                        "processor": name, "add_special_tokens": add_special,
                        "first": raw_record(raw.encode(text, add_special_tokens=False)),
                        "second": None if second is None else
                        raw_record(raw.encode(second, add_special_tokens=False)),
                        "expected": dump(full.encode(*args, add_special_tokens=add_special))})
    return out


def file_processors():
    """The post_processor of every shared tokenizer.json and the reference's added-token counts."""
    out = {}
    root = os.path.join(SHARED, "data", "tokenizers")
    for folder in sorted(os.listdir(root)):
        path = os.path.join(root, folder, "tokenizer.json")
        if not os.path.exists(path):
            continue
        d = json.load(open(path))
        if d.get("post_processor") is None:
            continue
        t = Tokenizer.from_file(path)
        out[folder] = {"post_processor": d["post_processor"],
                       "single": t.num_special_tokens_to_add(False),
                       "pair": t.num_special_tokens_to_add(True)}
    return out


def main():
    if tokenizers.__version__ != "0.22.2":
        sys.exit("tokenizers 0.22.2 required, found " + tokenizers.__version__)
    cases = []
    for name, proc, first, second, add_special, trunc, pad in CASES:
        cases.append({"name": name, "processor": proc, "first": first, "second": second,
                      "add_special_tokens": add_special, "truncation": trunc, "padding": pad,
                      "expected": run(PROCESSORS[proc], first, second, add_special, trunc, pad)})
    real_processors = {}
    real = real_cases(real_processors)
    head = {"generator": "tools/reference/gen_post_process_cases.py",
            "tokenizers": tokenizers.__version__, "vocab": VOCAB, "processors": PROCESSORS,
            "real_processors": real_processors, "file_processors": file_processors()}
    # One case per line keeps the file small and diffable.
    with open(OUT, "w") as f:
        f.write(json.dumps(head, ensure_ascii=False)[:-1])
        for key, items in (("cases", cases), ("real_cases", real)):
            f.write(',\n"%s": [\n' % key)
            f.write(",\n".join(json.dumps(c, ensure_ascii=False) for c in items))
            f.write("\n]")
        f.write("}\n")


if __name__ == "__main__":
    main()
