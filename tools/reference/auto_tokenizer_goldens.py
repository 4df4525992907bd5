#!/usr/bin/env python3
"""Writes the golden data of the AutoTokenizer parity suite with the pinned transformers.

For every case of tests/golden/auto_tokenizer/cases.json, builds the case's model folder in a
temporary directory (legacy files only, or tokenizer.json with its configs), loads it with
transformers.AutoTokenizer.from_pretrained (use_fast default, no network), and writes
tests/golden/auto_tokenizer/<case>.jsonl.gz: one compact JSON object per line.

    HF_HUB_OFFLINE=1 ~/.cache/mlhub/pyenv/bin/python tools/reference/auto_tokenizer_goldens.py \
        [--shared ../shared] [--corpus tests/data/tokenizer_corpus.jsonl] [--only NAME]

Line 1, "meta": the tokenizer class, clean_up_tokenization_spaces (decode applies it), and
"pipeline": the backend tokenizer.json (backend_tokenizer.to_str()) with the model's vocab and
merges replaced by {"size": n, "fnv64": hex} digests and each precompiled_charsmap by
{"fnv64": hex} (see digest_*; the C++ test computes the same digests over the document it
builds).
Then one line per corpus text: text, ids, tokens (Encoding.tokens), id_tokens
(convert_ids_to_tokens), offsets (character offsets, flat [s0, e0, s1, e1, ...]), decode
(decode(ids)) and decode_skip (decode(ids, skip_special_tokens=True)).
Output is deterministic (gzip mtime 0).
"""

import argparse
import gzip
import io
import json
import os
import shutil
import sys
import tempfile

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

import transformers  # noqa: E402
from transformers import AutoTokenizer  # noqa: E402

PINNED = "4.57.3"
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
GOLDEN = os.path.join(REPO, "tests", "golden", "auto_tokenizer")
FNV_OFFSET = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3


def fnv64(chunks):
    h = FNV_OFFSET
    for chunk in chunks:
        for b in chunk:
            h = ((h ^ b) * FNV_PRIME) & 0xFFFFFFFFFFFFFFFF
    return "%016x" % h


def digest_vocab(vocab):
    """BPE/WordPiece/WordLevel {token: id}: 'token\\tid\\n' in UTF-8 byte order of the tokens.
    Unigram [[piece, score], ...]: 'piece\\t%.9g\\n' in list order."""
    if isinstance(vocab, dict):
        items = sorted(vocab.items(), key=lambda kv: kv[0].encode("utf-8"))
        lines = ("%s\t%d\n" % (k, v) for k, v in items)
    else:
        lines = ("%s\t%.9g\n" % (p, s) for p, s in vocab)
    return {"size": len(vocab), "fnv64": fnv64(l.encode("utf-8") for l in lines)}


def digest_merges(merges):
    """'left right\\n' per merge, in order (string or pair form)."""
    lines = ((m if isinstance(m, str) else " ".join(m)) + "\n" for m in merges)
    return {"size": len(merges), "fnv64": fnv64(l.encode("utf-8") for l in lines)}


def digest_charsmaps(node):
    """Every "precompiled_charsmap" string becomes {"fnv64": hex} (they are large)."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "precompiled_charsmap" and isinstance(v, str):
                node[k] = {"fnv64": fnv64([v.encode("utf-8")])}
            else:
                digest_charsmaps(v)
    elif isinstance(node, list):
        for v in node:
            digest_charsmaps(v)


def pipeline_of(tok):
    doc = json.loads(tok.backend_tokenizer.to_str())
    digest_charsmaps(doc)
    model = doc["model"]
    if "vocab" in model:
        model["vocab"] = digest_vocab(model["vocab"])
    if "merges" in model:
        model["merges"] = digest_merges(model["merges"])
    return doc


def build_folder(case, shared, into):
    src_root = os.path.join(shared, "data", "tokenizers")
    for src, dst in case.get("files", []):
        shutil.copyfile(os.path.join(src_root, src), os.path.join(into, dst))
    for name, content in case.get("write", {}).items():
        with open(os.path.join(into, name), "w", encoding="utf-8") as f:
            json.dump(content, f)
    if "extract_bpe" in case:
        with open(os.path.join(src_root, case["extract_bpe"]), encoding="utf-8") as f:
            model = json.load(f)["model"]
        with open(os.path.join(into, "vocab.json"), "w", encoding="utf-8") as f:
            json.dump(model["vocab"], f, ensure_ascii=False)
        with open(os.path.join(into, "merges.txt"), "w", encoding="utf-8") as f:
            f.write("#version: 0.2\n")
            for m in model["merges"]:
                f.write((m if isinstance(m, str) else " ".join(m)) + "\n")


def corpus_texts(path):
    texts = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            v = json.loads(line)
            text = v if isinstance(v, str) else v.get("text")
            if not isinstance(text, str):
                continue
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:  # lone surrogates: not valid input for either side
                continue
            texts.append(text)
    # About 300 lines: the first 200 (the hand-written edge cases), then every 22nd.
    return texts[:200] + texts[200::22]


def record(tok, text):
    enc = tok(text, return_offsets_mapping=True)
    ids = enc["input_ids"]
    return {
        "text": text,
        "ids": ids,
        "tokens": enc.tokens(),
        "id_tokens": tok.convert_ids_to_tokens(ids),
        "offsets": [x for o in enc["offset_mapping"] for x in o],
        "decode": tok.decode(ids),
        "decode_skip": tok.decode(ids, skip_special_tokens=True),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", default=os.path.join(os.path.dirname(REPO), "shared"))
    ap.add_argument("--corpus", default=os.path.join(REPO, "tests", "data", "tokenizer_corpus.jsonl"))
    ap.add_argument("--only", action="append", help="case name (repeatable)")
    args = ap.parse_args()
    if transformers.__version__ != PINNED:
        sys.exit(f"transformers {transformers.__version__} found, {PINNED} required")
    with open(os.path.join(GOLDEN, "cases.json"), encoding="utf-8") as f:
        cases = json.load(f)["cases"]
    texts = corpus_texts(args.corpus)
    for case in cases:
        if args.only and case["name"] not in args.only:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            build_folder(case, args.shared, tmp)
            tok = AutoTokenizer.from_pretrained(tmp)
            lines = [{
                "meta": True,
                "case": case["name"],
                "class": type(tok).__name__,
                "clean_up_tokenization_spaces": bool(tok.clean_up_tokenization_spaces),
                "pipeline": pipeline_of(tok),
            }]
            lines += [record(tok, t) for t in texts]
        raw = io.BytesIO()
        with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, compresslevel=9) as gz:
            for line in lines:
                gz.write((json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8"))
        out = os.path.join(GOLDEN, case["name"] + ".jsonl.gz")
        with open(out, "wb") as f:
            f.write(raw.getvalue())
        print(f"{case['name']}: {type(tok).__name__}, {len(lines) - 1} texts -> {os.path.relpath(out, REPO)}")


if __name__ == "__main__":
    main()
