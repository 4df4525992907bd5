#!/usr/bin/env python3
"""The peer side of the tokenizer benchmark: the same measurement as tokenizer_bench (C++), run
with the Python `tokenizers` library (Rust) or with `tiktoken`.

  tokenizer_peer.py --side rust|tiktoken --tokenizer PATH/tokenizer.json --text FILE
                    --mode single|batch --threads N --repeats R [--json]

The text is split into lines; empty lines are skipped (as tokenizer_bench does). Each repeat
encodes every line once; one untimed warm-up pass runs first. The JSON line printed has the same
keys as tokenizer_bench's.

  rust, single: Tokenizer.encode(line) in a Python loop, RAYON_NUM_THREADS=1 and
                TOKENIZERS_PARALLELISM=false. Also measured ("single_batch1"): encode_batch over
                all lines with RAYON_NUM_THREADS=1, i.e. the Rust library on one thread without
                the per-call Python overhead; the runner compares against the faster of the two.
  rust, batch:  Tokenizer.encode_batch(lines) with RAYON_NUM_THREADS=N.
  tiktoken:     encode_ordinary(line) per line / encode_ordinary_batch(lines, num_threads=N). The
                Encoding is built locally (no network): GPT-2 from the byte-level vocab of
                tokenizer.json (rank = id, which equals the merge order for GPT-2) and the GPT-2
                pattern; Llama-3 from original/tokenizer.model (a tiktoken rank file) next to
                tokenizer.json and the Split regex of tokenizer.json. tiktoken adds no special
                tokens (no BOS/post-processor), so its token count can differ from the others.
"""
import argparse
import json
import os
import statistics
import sys
import time


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--side", choices=["rust", "tiktoken"], required=True)
    p.add_argument("--tokenizer", required=True, help="path of tokenizer.json")
    p.add_argument("--text", required=True)
    p.add_argument("--mode", choices=["single", "batch"], required=True)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--load-repeats", type=int, default=5)
    p.add_argument("--json", action="store_true")
    return p.parse_args()


ARGS = parse_args()
# Rayon reads RAYON_NUM_THREADS when its global pool starts, so set it before the import.
_threads = 1 if ARGS.mode == "single" else ARGS.threads
os.environ["RAYON_NUM_THREADS"] = str(_threads)
os.environ["TOKENIZERS_PARALLELISM"] = "false" if ARGS.mode == "single" else "true"
os.environ["TIKTOKEN_CACHE_DIR"] = ""  # read rank files directly, write no cache

GPT2_PATTERN = (r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""")


def bytes_to_unicode():
    """GPT-2's byte <-> printable-character table."""
    bs = (list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
          + list(range(ord("®"), ord("ÿ") + 1)))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


def tiktoken_encoding(tokenizer_path):
    """Builds a tiktoken Encoding with the same vocabulary as tokenizer_path, or raises."""
    import tiktoken
    from tiktoken.load import load_tiktoken_bpe

    spec = json.load(open(tokenizer_path, encoding="utf-8"))
    pre = spec.get("pre_tokenizer") or {}
    specials = {t["content"]: t["id"] for t in spec.get("added_tokens", [])}
    rank_file = os.path.join(os.path.dirname(tokenizer_path), "original", "tokenizer.model")
    if pre.get("type") == "ByteLevel" and pre.get("use_regex", True):
        byte_decoder = {c: b for b, c in bytes_to_unicode().items()}
        ranks = {}
        for token, rank in spec["model"]["vocab"].items():
            if token in specials:
                continue
            ranks[bytes(byte_decoder[c] for c in token)] = rank
        return tiktoken.Encoding("gpt2-local", pat_str=GPT2_PATTERN, mergeable_ranks=ranks,
                                 special_tokens=specials)
    if os.path.exists(rank_file) and pre.get("type") == "Sequence":
        split = pre["pretokenizers"][0]
        pattern = split["pattern"]["Regex"]
        ranks = load_tiktoken_bpe(rank_file)
        return tiktoken.Encoding("llama3-local", pat_str=pattern, mergeable_ranks=ranks,
                                 special_tokens=specials)
    raise SystemExit("tiktoken: no vocabulary equivalent to %s" % tokenizer_path)


def read_lines(path):
    with open(path, encoding="utf-8") as f:
        return [line for line in f.read().split("\n") if line]


def timed(fn, repeats):
    fn()  # warm-up (caches, thread pools)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        tokens = fn()
        times.append(time.perf_counter() - t0)
    return times, tokens


def main():
    lines = read_lines(ARGS.text)
    num_bytes = sum(len(line.encode("utf-8")) for line in lines)
    result = {"side": ARGS.side, "tokenizer": ARGS.tokenizer, "text": ARGS.text,
              "mode": ARGS.mode, "threads": _threads, "lines": len(lines), "bytes": num_bytes}

    load_times = []
    for _ in range(ARGS.load_repeats):
        t0 = time.perf_counter()
        if ARGS.side == "rust":
            from tokenizers import Tokenizer
            tok = Tokenizer.from_file(ARGS.tokenizer)
        else:
            tok = tiktoken_encoding(ARGS.tokenizer)
        load_times.append(time.perf_counter() - t0)

    extra = {}
    if ARGS.side == "rust":
        import tokenizers
        result["version"] = "tokenizers " + tokenizers.__version__
        if ARGS.mode == "single":
            def run():
                n = 0
                for line in lines:
                    n += len(tok.encode(line))
                return n

            # Same work with the per-call Python overhead amortised: one thread, one call.
            def run_batch1():
                return sum(len(e) for e in tok.encode_batch(lines))

            t1, n1 = timed(run_batch1, ARGS.repeats)
            extra = {"single_batch1_median_s": statistics.median(t1),
                     "single_batch1_times_s": t1, "single_batch1_tokens": n1}
        else:
            def run():
                return sum(len(e) for e in tok.encode_batch(lines))
    else:
        import tiktoken
        result["version"] = "tiktoken " + tiktoken.__version__
        if ARGS.mode == "single":
            def run():
                n = 0
                for line in lines:
                    n += len(tok.encode_ordinary(line))
                return n
        else:
            def run():
                return sum(len(e) for e in tok.encode_ordinary_batch(lines,
                                                                     num_threads=_threads))

    times, tokens = timed(run, ARGS.repeats)
    median = statistics.median(times)
    result.update({
        "tokens": tokens,
        "median_s": median,
        "min_s": min(times),
        "times_s": times,
        "mb_per_s": num_bytes / median / 1e6,
        "tokens_per_s": tokens / median,
        "load_ms": statistics.median(load_times) * 1e3,
    })
    result.update(extra)
    if "single_batch1_median_s" in result:
        result["single_batch1_mb_per_s"] = num_bytes / result["single_batch1_median_s"] / 1e6
    if ARGS.json:
        print(json.dumps(result))
    else:
        for k, v in result.items():
            print("%s: %s" % (k, v))


if __name__ == "__main__":
    sys.exit(main())
