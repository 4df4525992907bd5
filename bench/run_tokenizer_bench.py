#!/usr/bin/env python3
"""Runs the tokenizer benchmark: mlhub (BUILD_DIR/bench/tokenizer_bench) side by side with the
Python `tokenizers` library (Rust, via bench/tokenizer_peer.py) and, where the vocabulary is the
same, tiktoken. Prints a table of medians and ratios and writes BUILD_DIR/bench/tokenizers.json.

  run_tokenizer_bench.py BUILD_DIR [--rounds K] [--repeats R] [--threads N]
                         [--tokenizers bert-base-uncased,gpt2,...] [--shared DIR]

Run it with the reference Python environment (it needs `tokenizers` and `tiktoken`):
  ~/.cache/mlhub/pyenv/bin/python bench/run_tokenizer_bench.py build

Each (tokenizer, text, mode) cell runs every side K times in alternation (mlhub, rust, tiktoken,
mlhub, ...), each run doing one warm-up and R timed passes over the text, so that drift on a
noisy machine hits all sides alike; the reported time is the median of all K*R passes. Ratios
are mlhub speed / peer speed (> 1: mlhub is faster). For the Rust library in single mode the
faster of two single-thread measurements is used: encode() per line from Python, and
encode_batch() on one Rayon thread (no per-call Python overhead).

Exits 1 when mlhub and the Rust library produce different token counts (not the same work).
"""
import argparse
import hashlib
import json
import math
import os
import platform
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TOKENIZERS = ["bert-base-uncased", "gpt2", "llama-3", "t5-small"]
TIKTOKEN = {"gpt2", "llama-3"}  # tokenizers whose vocabulary tiktoken can load here


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("build_dir")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=2, help="threads for batch mode")
    p.add_argument("--tokenizers", default=",".join(TOKENIZERS))
    p.add_argument("--shared", default=os.environ.get("MLHUB_SHARED_DIR",
                                                      os.path.join(ROOT, "..", "shared")))
    return p.parse_args()


def run_json(cmd):
    out = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=1200)
    if out.returncode != 0:
        sys.exit("failed (%d): %s\n%s%s" % (out.returncode, " ".join(cmd), out.stdout, out.stderr))
    return json.loads(out.stdout.strip().splitlines()[-1])


def median_of(runs, key):
    return statistics.median(v for r in runs for v in (r[key] if isinstance(r[key], list)
                                                       else [r[key]]))


def measure(cmd_for_side, sides, rounds):
    """Runs each side `rounds` times, alternating; returns side -> summary dict."""
    runs = {side: [] for side in sides}
    for _ in range(rounds):
        for side in sides:
            runs[side].append(run_json(cmd_for_side(side)))
    summary = {}
    for side, rs in runs.items():
        first = rs[0]
        med = median_of(rs, "times_s")
        s = {"tokens": first["tokens"], "bytes": first["bytes"], "lines": first["lines"],
             "median_s": med, "mb_per_s": first["bytes"] / med / 1e6,
             "tokens_per_s": first["tokens"] / med, "load_ms": median_of(rs, "load_ms"),
             "times_s": [t for r in rs for t in r["times_s"]]}
        # Best pass: what each side does when the machine leaves it alone (reported next to
        # the medians; the table uses medians).
        batch1_times = [t for r in rs for t in r.get("single_batch1_times_s", [])]
        s["best_s"] = min(s["times_s"] + batch1_times)
        if "version" in first:
            s["version"] = first["version"]
        if any(r["tokens"] != first["tokens"] for r in rs):
            s["unstable_token_count"] = True
        if "single_batch1_median_s" in first:
            b1 = median_of(rs, "single_batch1_median_s")
            s["per_call_mb_per_s"] = s["mb_per_s"]
            s["batch1_mb_per_s"] = first["bytes"] / b1 / 1e6
            if b1 < med:  # compare against the faster single-thread Rust number
                s.update(median_s=b1, mb_per_s=s["batch1_mb_per_s"],
                         tokens_per_s=first["tokens"] / b1, single_source="encode_batch 1 thread")
            else:
                s["single_source"] = "encode per line"
        summary[side] = s
    return summary


def fmt(v, spec="%.2f"):
    return "-" if v is None else spec % v


def main():
    args = parse_args()
    build = os.path.abspath(args.build_dir)
    bench_exe = os.path.join(build, "bench", "tokenizer_bench")
    if not os.path.exists(bench_exe):
        sys.exit("%s not found: build it first (ninja -C %s tokenizer_bench)" % (bench_exe, build))
    data_dir = os.path.join(build, "bench", "data")
    gen = subprocess.run([sys.executable, os.path.join(HERE, "data", "make_bench_text.py"),
                          data_dir], check=True, capture_output=True, text=True)
    print("bench texts (generated by bench/data/make_bench_text.py):")
    print("  " + gen.stdout.strip().replace("\n", "\n  "))

    texts = [("en_code", "single"), ("en_code", "batch"), ("multilingual", "single")]
    rows, mismatch = [], False
    for name in args.tokenizers.split(","):
        tok_path = os.path.join(args.shared, "data", "tokenizers", name, "tokenizer.json")
        for text, mode in texts:
            text_path = os.path.join(data_dir, text + ".txt")
            threads = 1 if mode == "single" else args.threads
            common = ["--tokenizer", tok_path, "--text", text_path, "--mode", mode, "--threads",
                      str(threads), "--repeats", str(args.repeats), "--load-repeats", "3",
                      "--json"]

            def cmd_for_side(side):
                if side == "mlhub":
                    return [bench_exe] + common
                return [sys.executable, os.path.join(HERE, "tokenizer_peer.py"), "--side",
                        side] + common

            sides = ["mlhub", "rust"] + (["tiktoken"] if name in TIKTOKEN else [])
            print("running %s / %s / %s (%d thread%s) ..." % (name, text, mode, threads,
                                                            "s" if threads > 1 else ""),
                  flush=True)
            res = measure(cmd_for_side, sides, args.rounds)
            row = {"tokenizer": name, "text": text, "mode": mode, "threads": threads,
                   "results": res}
            m, r, t = res["mlhub"], res["rust"], res.get("tiktoken")
            row["mlhub_over_rust"] = m["mb_per_s"] / r["mb_per_s"]
            row["mlhub_over_rust_best"] = r["best_s"] / m["best_s"]
            row["tokens_match_rust"] = m["tokens"] == r["tokens"]
            mismatch |= not row["tokens_match_rust"]
            if t:
                row["mlhub_over_tiktoken"] = m["mb_per_s"] / t["mb_per_s"]
                row["mlhub_over_tiktoken_best"] = t["best_s"] / m["best_s"]
                row["tiktoken_token_delta"] = t["tokens"] - r["tokens"]
            rows.append(row)

    header = ("tokenizer", "text", "mode", "thr", "mlhub MB/s", "rust MB/s", "tiktoken MB/s",
              "mlhub/rust", "(best)", "mlhub/tiktoken", "mlhub Mtok/s", "rust Mtok/s",
              "load ms mlhub", "load ms rust", "tokens", "check")
    table = []
    for row in rows:
        m, r, t = (row["results"].get(k) for k in ("mlhub", "rust", "tiktoken"))
        check = "same tokens" if row["tokens_match_rust"] else (
            "MISMATCH mlhub %d rust %d" % (m["tokens"], r["tokens"]))
        if t and row["tiktoken_token_delta"]:
            check += "; tiktoken %+d tokens" % row["tiktoken_token_delta"]
        table.append((row["tokenizer"], row["text"], row["mode"], str(row["threads"]),
                      fmt(m["mb_per_s"]), fmt(r["mb_per_s"]), fmt(t and t["mb_per_s"]),
                      fmt(row["mlhub_over_rust"], "%.2fx"),
                      fmt(row["mlhub_over_rust_best"], "%.2fx"),
                      fmt(row.get("mlhub_over_tiktoken"), "%.2fx"),
                      fmt(m["tokens_per_s"] / 1e6), fmt(r["tokens_per_s"] / 1e6),
                      fmt(m["load_ms"], "%.1f"), fmt(r["load_ms"], "%.1f"), str(m["tokens"]),
                      check))
    widths = [max(len(h), *(len(c[i]) for c in table)) for i, h in enumerate(header)]
    line = lambda cells: " | ".join(c.ljust(w) for c, w in zip(cells, widths))  # noqa: E731
    print()
    version = rows[0]["results"]["rust"].get("version", "") if rows else ""
    print("mlhub = this library (C++); rust = Python binding of the Rust library (%s); "
          "tiktoken = tiktoken" % version)
    print("MB/s = 10^6 bytes of UTF-8 input per second, median of %d runs x %d passes; ratio > 1: "
          "mlhub faster; (best) = ratio of the fastest passes." % (args.rounds, args.repeats))
    print("rust single = the faster of encode() per line and encode_batch() on 1 Rayon thread;"
          " tiktoken = encode_ordinary (adds no special tokens).")
    print(line(header))
    print("-+-".join("-" * w for w in widths))
    for cells in table:
        print(line(cells))

    singles = [row["mlhub_over_rust"] for row in rows if row["mode"] == "single"]
    if singles:
        geomean = math.exp(sum(math.log(r) for r in singles) / len(singles))
        print("\nsingle-thread mlhub/rust (medians): min %.2fx, geometric mean %.2fx over %d rows "
              "(target: >= 3x)" % (min(singles), geomean, len(singles)))

    out = {"machine": {"platform": platform.platform(), "cpus": os.cpu_count(),
                       "python": platform.python_version()},
           "texts": {t: hashlib.sha256(open(os.path.join(data_dir, t + ".txt"), "rb").read())
                     .hexdigest() for t in ("en_code", "multilingual")},
           "rounds": args.rounds, "repeats": args.repeats, "rows": rows}
    out_path = os.path.join(build, "bench", "tokenizers.json")
    with open(out_path, "w") as f:
        json.dump(out, f, indent=1)
    print("\nwrote %s" % out_path)
    if mismatch:
        print("ERROR: mlhub and the Rust library produced different token counts (see 'check')")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
