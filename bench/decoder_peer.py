#!/usr/bin/env python3
"""Decoder benchmark, peer side: the same measurement as bench/decoder_bench.cc in llama.cpp
(through llama-cpp-python) or PyTorch transformers. Prints one JSON line.

  decoder_peer.py llama MODEL.gguf PROMPT_IDS_JSON --threads N [--gen 128] [--rounds 3]
  decoder_peer.py torch HF_FOLDER PROMPT_IDS_JSON --threads N [--gen 128] [--rounds 3]

llama.cpp: a fresh context per round (n_ctx = prompt + gen), prompt processing = one eval() of
the prompt ids (n_batch = prompt length), generation = greedy argmax of the last logits and one
eval() per token. PyTorch: AutoModelForCausalLM in float32, eager, a DynamicCache; prompt
processing = one forward with use_cache (logits of the whole prompt, as transformers computes
them), generation = greedy, one forward per token. Peak RSS is this process's maximum.
"""
import argparse
import json
import os
import resource
import statistics
import sys
import time


def run_llama(args, prompt):
    import llama_cpp
    import numpy as np
    llm = llama_cpp.Llama(model_path=args.model, n_ctx=len(prompt) + args.gen + 8,
                          n_batch=len(prompt), n_ubatch=len(prompt), n_threads=args.threads,
                          n_threads_batch=args.threads, logits_all=False, verbose=False)
    n_vocab = llm.n_vocab()

    def last_logits():
        # eval() keeps no logits unless logits_all; read the context's last row directly.
        return np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(n_vocab,))

    pp, tg, toks = [], [], []
    for _ in range(args.rounds):
        llm.reset()  # n_tokens = 0: the next eval() drops the whole KV cache
        t = time.perf_counter()
        llm.eval(prompt)
        pp.append(len(prompt) / (time.perf_counter() - t))
        toks = []
        t = time.perf_counter()
        for _ in range(args.gen):
            nxt = int(np.argmax(last_logits()))
            toks.append(nxt)
            llm.eval([nxt])
        tg.append(args.gen / (time.perf_counter() - t))
    return pp, tg, toks, {"llama_cpp_python": llama_cpp.__version__,
                          "system_info": llama_cpp.llama_print_system_info().decode().strip()}


def run_torch(args, prompt):
    import torch
    import transformers
    from transformers import DynamicCache
    torch.set_num_threads(args.threads)
    model = transformers.AutoModelForCausalLM.from_pretrained(args.model,
                                                              torch_dtype=torch.float32).eval()
    pp, tg, toks = [], [], []
    with torch.inference_mode():
        for _ in range(args.rounds):
            cache = DynamicCache()
            ids = torch.tensor([prompt])
            t = time.perf_counter()
            # logits_to_keep=1: the last row only, as generate() asks for in the prefill.
            out = model(ids, past_key_values=cache, use_cache=True, logits_to_keep=1)
            pp.append(len(prompt) / (time.perf_counter() - t))
            toks = []
            t = time.perf_counter()
            logits = out.logits[0, -1]
            for _ in range(args.gen):
                nxt = int(torch.argmax(logits))
                toks.append(nxt)
                out = model(torch.tensor([[nxt]]), past_key_values=out.past_key_values,
                            use_cache=True)
                logits = out.logits[0, -1]
            tg.append(args.gen / (time.perf_counter() - t))
    return pp, tg, toks, {"torch": torch.__version__, "transformers": transformers.__version__}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("side", choices=["llama", "torch"])
    p.add_argument("model")
    p.add_argument("prompt")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--gen", type=int, default=128)
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args()
    with open(args.prompt) as f:
        prompt = json.load(f)
    t = time.perf_counter()
    runner = run_llama if args.side == "llama" else run_torch
    pp, tg, toks, info = runner(args, prompt)
    out = {"side": args.side, "pp_tok_s": statistics.median(pp), "tg_tok_s": statistics.median(tg),
           "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
           "first_tokens": toks[:8], "total_s": time.perf_counter() - t, **info}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
