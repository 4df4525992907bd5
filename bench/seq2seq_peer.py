#!/usr/bin/env python3
"""Seq2seq benchmark, peer side: the same measurement as bench/seq2seq_bench.cc in PyTorch
transformers or CTranslate2, and the one-time set-up of the model they all run. Prints one JSON
line.

  seq2seq_peer.py make MODEL_DIR TOKENIZER_DIR        write the t5-small-shaped model (once)
  seq2seq_peer.py convert MODEL_DIR CT2_DIR fp32|int8 convert it for CTranslate2 (once)
  seq2seq_peer.py torch MODEL_DIR INPUT_IDS_JSON --threads N [--new 64] [--beams 4] [--rounds 1]
                 [--ngram 3]
  seq2seq_peer.py ct2 CT2_DIR INPUT_IDS_JSON --threads N [--new 64] [--beams 4] [--rounds 1]
                 [--ngram 3] [--compute float32|int8]

The model: T5ForConditionalGeneration with t5-small's config (d_model 512, d_ff 2048, d_kv 64,
6 + 6 layers, 8 heads, relu, vocab 32128, relative buckets 32 / max distance 128, tied head),
random weights from transformers' own initialisation (torch seed 0), saved as f32 safetensors
with a generation_config.json (decoder start 0, eos 1, pad 0) and t5-small's tokenizer. The real
t5-small weights cannot be fetched here (no model hub); the work per sequence is the same.

Decoding (identical on every side, see SETTINGS): beam search with 4 beams, t5-small's
summarization parameters (length_penalty 2.0, early_stopping, no_repeat_ngram_size 3), and
min_new_tokens = max_new_tokens = NEW so that no beam stops early on eos: random weights would
otherwise end at any length and the sides would not do comparable work.

INPUT_IDS_JSON is a list of sources (token ids, eos included); each round generates for all of
them in one call (one batch). Timed: the whole generate call (encoder + decoding) per round;
before the rounds one untimed warm-up call on a short source (first 32 tokens, 2 new tokens).
Output: load_s, sec_per_seq (median round time / batch size), seq_s, per source the best beam's
generated ids (the decoder start token not included) and its score, peak RSS of the process.
"""
import argparse
import json
import os
import resource
import shutil
import statistics
import sys
import time

# t5-small's config.json values (the architecture the benchmark is about).
T5_SMALL = dict(vocab_size=32128, d_model=512, d_kv=64, d_ff=2048, num_layers=6,
                num_decoder_layers=6, num_heads=8, relative_attention_num_buckets=32,
                relative_attention_max_distance=128, dropout_rate=0.1, layer_norm_epsilon=1e-6,
                initializer_factor=1.0, feed_forward_proj="relu", is_encoder_decoder=True,
                tie_word_embeddings=True, decoder_start_token_id=0, eos_token_id=1,
                pad_token_id=0)
# t5-small's task_specific_params["summarization"] less its max/min_length (NEW replaces them).
SETTINGS = dict(length_penalty=2.0, early_stopping=True, no_repeat_ngram_size=3)


def make(model_dir, tokenizer_dir):
    """Writes the random t5-small-shaped checkpoint into model_dir (skipped when present)."""
    if os.path.exists(os.path.join(model_dir, "model.safetensors")):
        return
    import torch
    from transformers import GenerationConfig, T5Config, T5ForConditionalGeneration
    torch.manual_seed(0)
    model = T5ForConditionalGeneration(T5Config(**T5_SMALL)).eval()
    model.generation_config = GenerationConfig(decoder_start_token_id=0, eos_token_id=1,
                                               pad_token_id=0)
    tmp = model_dir + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp, safe_serialization=True)
    # The tokenizer: CTranslate2's converter reads the vocabulary from it.
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copyfile(os.path.join(tokenizer_dir, name), os.path.join(tmp, name))
    shutil.rmtree(model_dir, ignore_errors=True)
    os.rename(tmp, model_dir)


def convert(model_dir, ct2_dir, quantization):
    """CTranslate2's TransformersConverter, f32 or int8 weights (skipped when present)."""
    if os.path.exists(os.path.join(ct2_dir, "model.bin")):
        return
    import ctranslate2
    conv = ctranslate2.converters.TransformersConverter(model_dir)
    conv.convert(ct2_dir, quantization=None if quantization == "fp32" else quantization,
                 force=True)


def timed_rounds(generate, args, sources):
    """One warm-up call on short sources, then args.rounds timed calls of the whole batch:
    (seconds per round, the last round's ids and scores)."""
    generate([src[:32] for src in sources], 2)
    times = []
    for _ in range(args.rounds):
        t = time.perf_counter()
        ids, scores = generate(sources, args.new)
        times.append(time.perf_counter() - t)
    return times, ids, scores


def run_torch(args, sources):
    import torch
    import transformers
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    t = time.perf_counter()
    model = transformers.T5ForConditionalGeneration.from_pretrained(
        args.model, torch_dtype=torch.float32).eval()
    load_s = time.perf_counter() - t

    def generate(batch, new):
        ids = torch.tensor(batch)  # sources of one length: no padding
        out = model.generate(ids, attention_mask=torch.ones_like(ids), num_beams=args.beams,
                             max_new_tokens=new, min_new_tokens=new, do_sample=False,
                             num_return_sequences=1, return_dict_in_generate=True,
                             output_scores=True,
                             **dict(SETTINGS, no_repeat_ngram_size=args.ngram))
        return ([row[1:].tolist() for row in out.sequences],
                [float(s) for s in out.sequences_scores])

    with torch.inference_mode():
        times, ids, scores = timed_rounds(generate, args, sources)
    return load_s, times, ids, scores, {"torch": torch.__version__,
                                        "transformers": transformers.__version__}


def run_ct2(args, sources):
    import ctranslate2
    with open(os.path.join(args.model, "shared_vocabulary.json")) as f:
        vocab = json.load(f)
    # The converter pads the vocabulary to vocab_size with repeated <extra_id_N> names; a name's
    # first id is the tokenizer's, so strings map back to ids by their first occurrence.
    index = {}
    for i, tok in enumerate(vocab):
        index.setdefault(tok, i)
    t = time.perf_counter()
    compute = args.compute
    # translate_batch has no early_stopping: its beam search ends when the best beams have
    # finished, and with min = max length every beam finishes at the last step anyway.
    tr = ctranslate2.Translator(args.model, device="cpu", compute_type=compute, inter_threads=1,
                                intra_threads=args.threads)
    load_s = time.perf_counter() - t

    def generate(batch, new):
        toks = [[vocab[i] for i in src] for src in batch]
        res = tr.translate_batch(toks, beam_size=args.beams, max_decoding_length=new,
                                 min_decoding_length=new, num_hypotheses=1, return_scores=True,
                                 max_batch_size=0, length_penalty=SETTINGS["length_penalty"],
                                 no_repeat_ngram_size=args.ngram)
        return ([[index[s] for s in r.hypotheses[0]] for r in res],
                [float(r.scores[0]) for r in res])

    times, ids, scores = timed_rounds(generate, args, sources)
    return load_s, times, ids, scores, {"ctranslate2": ctranslate2.__version__,
                                        "compute_type": compute}


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "make":
        make(sys.argv[2], sys.argv[3])
        return
    if len(sys.argv) > 1 and sys.argv[1] == "convert":
        convert(sys.argv[2], sys.argv[3], sys.argv[4])
        return
    p = argparse.ArgumentParser()
    p.add_argument("side", choices=["torch", "ct2"])
    p.add_argument("model")
    p.add_argument("input")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--new", type=int, default=64)
    p.add_argument("--beams", type=int, default=4)
    p.add_argument("--rounds", type=int, default=1)
    p.add_argument("--ngram", type=int, default=SETTINGS["no_repeat_ngram_size"],
                   help="no_repeat_ngram_size (0: off)")
    p.add_argument("--compute", default="float32", help="ct2 compute_type (int8 for int8 weights)")
    args = p.parse_args()
    with open(args.input) as f:
        sources = json.load(f)
    if not sources or len({len(s) for s in sources}) != 1:
        sys.exit("seq2seq_peer: the sources must be non-empty and of one length (no padding)")
    runner = run_torch if args.side == "torch" else run_ct2
    load_s, times, ids, scores, info = runner(args, sources)
    sec = statistics.median(times) / len(sources)
    out = {"side": args.side, "load_s": load_s, "batch": len(sources), "new_tokens": args.new,
           "beams": args.beams, "sec_per_seq": sec, "seq_s": 1.0 / sec,
           "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
           "ids": ids, "scores": scores, **info}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
