#!/usr/bin/env python3
"""Seq2seq benchmark: mlhub (BUILD_DIR/bench/seq2seq_bench) side by side with PyTorch
transformers and CTranslate2 (bench/seq2seq_peer.py) on a t5-small-shaped model: summarization
of 512-token sources with beam search (4 beams), same weights, same source ids, same decoding
settings, same thread counts.

  run_seq2seq_bench.py BUILD_DIR [--rounds K] [--threads 1,2] [--batches 1,4] [--new 64]
                                 [--beams 4] [--ngram 3] [--sides mlhub,torch,ct2,ct2-int8]

Model: T5ForConditionalGeneration with t5-small's config and random weights, written once by
transformers into ~/.cache/mlhub/bench/t5-small-random (the real t5-small cannot be fetched
here; seq2seq_peer.py says why the decoding settings make the work comparable anyway), and
converted once by CTranslate2's TransformersConverter into t5-small-random-ct2-fp32 and, as a
separately labelled row, t5-small-random-ct2-int8 (int8 weights: not like for like with the f32
sides). CTranslate2 comes from scripts/setup_bench_ct2 (PYTHONPATH ~/.cache/mlhub/bench/ct2).
Sources: "summarize: " + windows of bench/data/seed_en.txt tokenized with t5-small's
tokenizer.json, cut to 511 tokens + eos (</s> = 1); batch B takes B different windows (all 512
tokens long, so no side pads). Decoding: 4 beams, min = max = NEW new tokens, length_penalty
2.0, early_stopping, no_repeat_ngram_size 3 (t5-small's summarization parameters).
Each side runs in its own process (one warm-up call, one timed generate call of the whole
batch), K rounds alternating sides; medians (spread: slowest / fastest round). Figures:
sequences/s (batch size / seconds of the generate call: encoder and beam search), peak RSS per
process. Ratios are mlhub / peer (> 1: mlhub is faster). Agreement: every side's best-beam token ids against PyTorch's (sequences
equal, and where the first difference is). CTranslate2 is not expected to match exactly with
no_repeat_ngram_size > 0: transformers counts the decoder start token in the n-grams and
CTranslate2 does not (greedy shows it at the second step: transformers may not generate
"0 0" after the start token 0, CTranslate2 may); --ngram 0 checks its numerics alone.
Writes BUILD_DIR/bench/seq2seq.json.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CACHE = os.path.join(os.path.expanduser("~"), ".cache", "mlhub", "bench")
MODEL = os.path.join(CACHE, "t5-small-random")
CT2_PATH = os.path.join(CACHE, "ct2")  # scripts/setup_bench_ct2
PEER = os.path.join(HERE, "seq2seq_peer.py")
SOURCE_LEN = 512


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("build_dir")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--threads", default="1,2")
    p.add_argument("--batches", default="1,4")
    p.add_argument("--new", type=int, default=64)
    p.add_argument("--beams", type=int, default=4)
    p.add_argument("--ngram", type=int, default=3, help="no_repeat_ngram_size (0: off)")
    p.add_argument("--sides", default="mlhub,torch,ct2,ct2-int8")
    p.add_argument("--shared", default=os.environ.get("MLHUB_SHARED_DIR",
                                                      os.path.join(ROOT, "..", "shared")))
    return p.parse_args()


def run(cmd, env):
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def sources_file(tokenizer_dir, batch):
    """B sources of SOURCE_LEN ids: "summarize: " + a window of the text (wrapping), + eos."""
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(os.path.join(tokenizer_dir, "tokenizer.json"))
    prefix = tok.encode("summarize:", add_special_tokens=False).ids
    text = tok.encode(open(os.path.join(HERE, "data", "seed_en.txt"), encoding="utf-8").read(),
                      add_special_tokens=False).ids
    body = SOURCE_LEN - len(prefix) - 1
    sources = []
    for b in range(batch):
        start = (b * 331) % len(text)  # different windows, so the beams differ per source
        window = [text[(start + i) % len(text)] for i in range(body)]
        sources.append(prefix + window + [1])
    path = os.path.join(CACHE, f"seq2seq_sources_{batch}x{SOURCE_LEN}.json")
    with open(path, "w") as f:
        json.dump(sources, f)
    return path


def agreement(ids, ref):
    """(sequences equal, first differing position per sequence or None)."""
    firsts = []
    for a, b in zip(ids, ref):
        diff = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y),
                    None if len(a) == len(b) else min(len(a), len(b)))
        firsts.append(diff)
    return sum(f is None for f in firsts), firsts


def main():
    args = parse_args()
    py = sys.executable
    tokenizer_dir = os.path.join(args.shared, "data", "tokenizers", "t5-small")
    sides_wanted = args.sides.split(",")
    os.makedirs(CACHE, exist_ok=True)
    subprocess.run([py, PEER, "make", MODEL, tokenizer_dir], check=True)
    env_ct2 = dict(os.environ, PYTHONPATH=CT2_PATH)
    ct2_dirs = {}
    for side, quant in (("ct2", "fp32"), ("ct2-int8", "int8")):
        if side in sides_wanted:
            ct2_dirs[side] = f"{MODEL}-ct2-{quant}"
            subprocess.run([py, PEER, "convert", MODEL, ct2_dirs[side], quant], check=True,
                           env=env_ct2)
    bench = os.path.join(args.build_dir, "bench", "seq2seq_bench")
    common = ["--new", str(args.new), "--beams", str(args.beams), "--ngram", str(args.ngram),
              "--rounds", "1"]
    cells = []
    for batch in [int(x) for x in args.batches.split(",")]:
        src = sources_file(tokenizer_dir, batch)
        for t in [int(x) for x in args.threads.split(",")]:
            env = dict(os.environ, MLHUB_NUM_THREADS=str(t), OMP_NUM_THREADS=str(t))
            peer_t = ["--threads", str(t)] + common
            for side in sides_wanted:
                if side == "mlhub":
                    cmd, e = [bench, MODEL, src] + common, env
                elif side == "torch":
                    cmd, e = [py, PEER, "torch", MODEL, src] + peer_t, env
                elif side in ct2_dirs:
                    compute = "int8" if side == "ct2-int8" else "float32"
                    cmd = [py, PEER, "ct2", ct2_dirs[side], src, "--compute", compute] + peer_t
                    e = dict(env, PYTHONPATH=CT2_PATH)
                else:
                    sys.exit(f"run_seq2seq_bench: unknown side {side}")
                cells.append((batch, t, side, cmd, e))
    results = {}
    for _ in range(args.rounds):
        for batch, t, side, cmd, env in cells:
            results.setdefault((batch, t, side), []).append(run(cmd, env))

    print(f"\nSeq2seq benchmark: t5-small shape (random weights), sources {SOURCE_LEN} tokens, "
          f"{args.beams} beams, {args.new} new tokens, no_repeat_ngram_size {args.ngram}, "
          f"{args.rounds} rounds (medians)")
    print(f"{'batch':>5} {'thr':>3} {'side':9} {'seq/s':>7} {'s/seq':>7} {'spread':>6} "
          f"{'load s':>7} {'RSS MB':>7}  agreement with torch")
    table = []
    for (batch, t, side), rs in results.items():
        sec = statistics.median(r["sec_per_seq"] for r in rs)
        ref = results.get((batch, t, "torch"))
        entry = {"batch": batch, "threads": t, "side": side, "seq_s": 1.0 / sec,
                 "sec_per_seq": sec,
                 "spread": max(r["sec_per_seq"] for r in rs) / min(r["sec_per_seq"] for r in rs),
                 "load_s": statistics.median(r["load_s"] for r in rs),
                 "peak_rss_mb": max(r["peak_rss_mb"] for r in rs), "ids": rs[-1]["ids"],
                 "scores": rs[-1]["scores"],
                 "stable_across_rounds": all(r["ids"] == rs[0]["ids"] for r in rs)}
        note = ""
        if ref and side != "torch":
            equal, firsts = agreement(rs[-1]["ids"], ref[-1]["ids"])
            score_diff = max(abs(a - b) for a, b in zip(rs[-1]["scores"], ref[-1]["scores"]))
            entry.update(equal_to_torch=equal, first_diff=firsts, max_score_diff=score_diff)
            note = (f"{equal}/{batch} sequences equal, first diffs {firsts}, "
                    f"max |score diff| {score_diff:.2e}")
        table.append(entry)
        print(f"{batch:>5} {t:>3} {side:9} {entry['seq_s']:7.3f} {sec:7.3f} "
              f"{entry['spread']:6.2f} {entry['load_s']:7.2f} {entry['peak_rss_mb']:7.0f}  {note}")
    print("\nRatios mlhub / peer (> 1: mlhub faster):")
    by = {(e["batch"], e["threads"], e["side"]): e for e in table}
    for (batch, t, side), e in by.items():
        m = by.get((batch, t, "mlhub"))
        if side != "mlhub" and m:
            print(f"  batch {batch} {t} thread(s) vs {side:9}: {m['seq_s'] / e['seq_s']:.2f}x")
    out = os.path.join(args.build_dir, "bench", "seq2seq.json")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        json.dump({"source_len": SOURCE_LEN, "beams": args.beams, "new_tokens": args.new,
                   "no_repeat_ngram_size": args.ngram,
                   "rounds": args.rounds, "rows": table}, f, indent=1)
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
