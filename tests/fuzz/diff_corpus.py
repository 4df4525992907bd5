#!/usr/bin/env python3
"""Differential replay of a fuzz corpus against the Python `tokenizers` library (Rust), through
the `mlhub tokenize` CLI. The fuzzers find crashes; this turns the corpora they grew (thousands
of odd inputs) into parity checks.

  diff_corpus.py encode MLHUB_EXE CORPUS_DIR... [--shared DIR] [--max-diffs N]
      fuzz_encode inputs ([tokenizer] [flags] [max_length] [stride] text): the text (valid
      UTF-8 only) is encoded by the tokenizer the first byte picks, as one sequence with special
      tokens and char offsets; ids, tokens and offsets must be equal.
  diff_corpus.py json MLHUB_EXE CORPUS_DIR... [--max-diffs N]
      fuzz_tokenizer_json inputs (tokenizer.json documents): both sides must agree on whether
      the document loads (a Rust panic counts as a refusal; documents only mlhub loads, being
      more lenient than serde, count only with --strict-load), and documents both load must
      encode a few fixed strings alike.

Exits 1 when any input differs. Run it with the reference Python environment, e.g.
  ~/.cache/mlhub/pyenv/bin/python tests/fuzz/diff_corpus.py encode build/mlhub \\
      build-fuzz/fuzz/corpus/fuzz_encode tests/fuzz/corpus/fuzz_encode
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

# Same order as fuzz_encode.cc.
TOKENIZERS = ["gpt2", "bert-base-uncased", "t5-small", "llama-2", "llama-3"]
HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("kind", choices=["encode", "json"])
    p.add_argument("mlhub")
    p.add_argument("corpus", nargs="+")
    p.add_argument("--shared", default=os.environ.get(
        "MLHUB_SHARED_DIR", os.path.join(HERE, "..", "..", "..", "shared")))
    p.add_argument("--max-diffs", type=int, default=20)
    p.add_argument("--strict-load", action="store_true",
                   help="json: also count documents mlhub loads and the Rust library refuses")
    args = p.parse_args()
    return diff_json(args) if args.kind == "json" else diff_encode(args)


def show(label, what, mine, want):
    print(label)
    for k in want:
        if mine.get(k) != want[k]:
            print("  %s: mlhub %s\n  %s  rust  %s" % (
                k, json.dumps(mine.get(k, mine.get("error")))[:400], " " * len(k),
                json.dumps(want[k])[:400]))


def diff_encode(args):
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
                             capture_output=True, encoding="utf-8", errors="replace")
        got = [json.loads(line) for line in out.stdout.split("\n") if line]
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
                    show("DIFF %s (input %s): %r" % (name, inputs[text], text), text, mine, want)
    print("%d inputs compared, %d differ" % (total, diffs))
    return 1 if diffs else 0


JSON_TEXTS = ["Hello world! héllo  wörld\t123 4567",
              " [CLS] <s></s> <|endoftext|> 你好 🤗 \u2581a  ", "", "ABBA abba 12_ab.c"]


def duplicate_ids(data):
    """True when the model vocab maps two tokens to one id: the Rust library's id -> token map
    then depends on HashMap order, which changes from run to run, so there is nothing to match."""
    try:
        vocab = json.loads(data)["model"]["vocab"]
    except Exception:  # noqa: BLE001 - not a document we can read: not ambiguous
        return False
    if isinstance(vocab, dict):
        ids = [v for v in vocab.values() if isinstance(v, int)]
        return len(ids) != len(set(ids))
    return False


def diff_json(args):
    from tokenizers import Tokenizer

    total = load_diffs = diffs = both = ambiguous = panics = lenient = 0
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "tokenizer.json")
        for corpus in args.corpus:
            for file_name in sorted(os.listdir(corpus)):
                data = open(os.path.join(corpus, file_name), "rb").read()
                total += 1
                try:
                    ref = Tokenizer.from_str(data.decode("utf-8"))
                except BaseException:  # noqa: B036 - a Rust panic is a PanicException
                    ref = None
                with open(path, "wb") as f:
                    f.write(data)
                out = subprocess.run([args.mlhub, "tokenize", path, "--jsonl"], check=False,
                                     input="".join(json.dumps(t) + "\n" for t in JSON_TEXTS),
                                     capture_output=True, encoding="utf-8", errors="replace")
                got = [json.loads(line) for line in out.stdout.split("\n") if line]
                loaded = len(got) == len(JSON_TEXTS)
                if loaded and ref is None and not args.strict_load:
                    lenient += 1  # mlhub accepts what serde refuses (unknown keys, defaults)
                    continue
                if loaded != (ref is not None):
                    load_diffs += 1
                    if load_diffs <= args.max_diffs:
                        print("LOAD %s: mlhub %s, rust %s; mlhub says %s" % (
                            file_name, "loads" if loaded else "refuses",
                            "loads" if ref else "refuses", out.stderr.strip()[:300]))
                    continue
                if not loaded:
                    continue
                if duplicate_ids(data):
                    ambiguous += 1
                    continue
                both += 1
                for text, mine in zip(JSON_TEXTS, got):
                    try:
                        e = ref.encode(text)
                        want = {"ids": e.ids, "tokens": e.tokens,
                                "offsets": [list(o) for o in e.offsets]}
                    except Exception as ex:  # noqa: BLE001 - an error: mlhub must fail too
                        want = {"error": str(ex)[:200]}
                    except BaseException:  # noqa: B036 - a Rust panic: nothing to compare with
                        panics += 1
                        break
                    if "error" in want and "error" in mine:
                        continue
                    mine = {k: mine.get(k) for k in want} if "error" not in mine else mine
                    if mine != want:
                        diffs += 1
                        if diffs <= args.max_diffs:
                            show("DIFF %s: %r" % (file_name, text), text, mine, want)
                        break
    print("%d documents: %d load in both (%d more skipped: duplicate vocab ids), %d loaded by one "
          "side only, %d encode differently, %d where the Rust library panics on encode; %d that "
          "only mlhub loads were not counted (--strict-load counts them)"
          % (total, both, ambiguous, load_diffs, diffs, panics, lenient))
    return 1 if load_diffs or diffs else 0


if __name__ == "__main__":
    sys.exit(main())
