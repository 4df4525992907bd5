#!/usr/bin/env python3
"""Differential replay of fuzz_encode inputs: encodes the text of every input (valid UTF-8 only)
with mlhub (the `mlhub tokenize` CLI) and with the Python `tokenizers` library (Rust), and
reports every input where ids, tokens or offsets differ. The crash fuzzer finds crashes; this
turns the corpus it grew (thousands of odd strings) into a parity check.

  diff_corpus.py MLHUB_EXE CORPUS_DIR... [--shared DIR] [--max-diffs N]

Inputs use fuzz_encode's layout ([tokenizer] [flags] [max_length] [stride] text); only the
tokenizer byte and the text are used, encoded as one sequence with special tokens and char
offsets. Exits 1 when any input differs. Run it with the reference Python environment:
  ~/.cache/mlhub/pyenv/bin/python tests/fuzz/diff_corpus.py build/mlhub \\
      build-fuzz/fuzz/corpus/fuzz_encode tests/fuzz/corpus/fuzz_encode
"""
import argparse
import json
import os
import subprocess
import sys

# Same order as fuzz_encode.cc.
TOKENIZERS = ["gpt2", "bert-base-uncased", "t5-small", "llama-2", "llama-3"]
HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("mlhub")
    p.add_argument("corpus", nargs="+")
    p.add_argument("--shared", default=os.environ.get(
        "MLHUB_SHARED_DIR", os.path.join(HERE, "..", "..", "..", "shared")))
    p.add_argument("--max-diffs", type=int, default=20)
    args = p.parse_args()

    from tokenizers import Tokenizer

    texts = {name: {} for name in TOKENIZERS}  # name -> text -> first file
    for corpus in args.corpus:
        for file_name in sorted(os.listdir(corpus)):
            data = open(os.path.join(corpus, file_name), "rb").read()
            if len(data) < 4:
                continue
            try:
                text = data[4:].decode("utf-8")
            except UnicodeDecodeError:
                continue
            texts[TOKENIZERS[data[0] % len(TOKENIZERS)]].setdefault(text, file_name)

    total = diffs = 0
    for name, inputs in texts.items():
        if not inputs:
            continue
        path = os.path.join(args.shared, "data", "tokenizers", name, "tokenizer.json")
        ref = Tokenizer.from_file(path)
        lines = list(inputs)
        out = subprocess.run([args.mlhub, "tokenize", path, "--jsonl"], check=False,
                             input="".join(json.dumps(t) + "\n" for t in lines),
                             capture_output=True, text=True)
        got = [json.loads(line) for line in out.stdout.splitlines()]
        if len(got) != len(lines):
            print("%s: mlhub gave %d results for %d inputs\n%s" % (name, len(got), len(lines),
                                                                   out.stderr[-2000:]))
            return 1
        for text, mine in zip(lines, got):
            total += 1
            e = ref.encode(text)
            want = {"ids": e.ids, "tokens": e.tokens, "offsets": [list(o) for o in e.offsets]}
            mine = {k: mine.get(k) for k in want} if "error" not in mine else mine
            if mine != want:
                diffs += 1
                if diffs <= args.max_diffs:
                    print("DIFF %s (input %s): %r" % (name, inputs[text], text))
                    for k in want:
                        if mine.get(k) != want[k]:
                            print("  %s: mlhub %s\n  %s  rust  %s" % (
                                k, json.dumps(mine.get(k, mine.get("error")))[:400], " " * len(k),
                                json.dumps(want[k])[:400]))
    print("%d inputs compared, %d differ" % (total, diffs))
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
