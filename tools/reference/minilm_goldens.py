#!/usr/bin/env python3
"""Writes the all-MiniLM-L6-v2 goldens: the real model's outputs from transformers and
sentence-transformers (the weights stay outside the repository).

    ~/.cache/mlhub/pyenv/bin/python tools/reference/minilm_goldens.py \
        [--model $MLHUB_MODELS/all-MiniLM-L6-v2] [--out tests/golden/minilm]

$MLHUB_MODELS defaults to ~/.cache/mlhub/models (where scripts/setup links the real checkpoints).

Writes reference.safetensors (the padded batch of the first BATCH sentences through AutoModel),
embeddings.jsonl (SentenceTransformer.encode of every sentence), similarity.jsonl (util.cos_sim
in the inference API's sentence-similarity shape) and feature_extraction.jsonl (transformers'
feature-extraction pipeline). Floats in JSON are rounded to 7 significant digits. The formats are
described in tools/reference/README.md. No network is used.
"""

import argparse
import hashlib
import json
import os
import sys

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

import torch  # noqa: E402
import transformers  # noqa: E402
from safetensors.torch import save_file  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pipeline_inputs import LONG_TEXT  # noqa: E402

transformers.utils.logging.disable_progress_bar()

PINNED = "4.57.3"
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
MODELS_DIR = os.environ.get("MLHUB_MODELS", os.path.expanduser("~/.cache/mlhub/models"))
DEFAULT_MODEL = os.path.join(MODELS_DIR, "all-MiniLM-L6-v2")
BATCH = 16  # sentences in reference.safetensors (kept short: [16, T, 384] f32 per hidden state)

# The first BATCH are short (the padded batch stays narrow); then medium, long, one longer than
# sentence-transformers' max_seq_length 256 and one longer than BERT's 512 positions.
SENTENCES = [
    "A man is eating food.",
    "A man is eating a piece of bread.",
    "The girl is carrying a baby.",
    "A man is riding a horse.",
    "A woman is playing violin.",
    "Two men pushed carts through the woods.",
    "A cheetah is running behind its prey.",
    "The new movie is awesome!",
    "The cat sits outside.",
    "I love pasta.",
    "Do you like pizza?",
    "Hello, world.",
    "Zürich is expensive.",
    "It costs $5.99 today.",
    "Python 3.12 was released.",
    "Ok",
    "The new movie is so great, I would watch it again tomorrow with my friends.",
    "A monkey is playing drums in front of a small crowd in the city square.",
    "Someone in a gorilla costume is playing a set of drums.",
    "How do I reset my password if I no longer have access to my e-mail address?",
    "The quick brown fox jumps over the lazy dog near the riverbank at dawn.",
    "Machine learning models can be fine-tuned on small labelled data sets.",
    "Berlin is the capital and largest city of Germany by both area and population.",
    "Photosynthesis converts light energy into chemical energy stored in glucose.",
    "The stock market fell 2.3% on Friday after the central bank raised interest rates.",
    "Can you recommend a good restaurant near the train station?",
    "Les enfants jouent dans le parc pendant que leurs parents discutent.",
    "Der schnelle braune Fuchs springt über den faulen Hund.",
    "東京は日本の首都です。",
    "Emoji are fun 🎉🎉 but hard to tokenize 🤖.",
    "   leading and trailing spaces   ",
    "UPPERCASE TEXT SHOULD BE LOWERCASED BY THE TOKENIZER.",
    "C++20 introduced concepts, ranges and coroutines; std::format came too.",
    "She said: \"I'll be there at 5 p.m., don't be late!\"",
    "The mitochondria is the powerhouse of the cell, or so every biology student is told "
    "during their first week of lectures, along with a great many other facts.",
    "In 1969, Neil Armstrong and Buzz Aldrin landed on the Moon while Michael Collins orbited "
    "above in the command module Columbia, waiting for them to return.",
    "Sentence embeddings map text to dense vectors so that similar meanings end up close "
    "together, which makes semantic search, clustering and deduplication possible.",
    "The committee reviewed the proposal in detail. After two hours of discussion, it decided "
    "to postpone the vote until more data was available from the pilot study in Norway.",
    LONG_TEXT,  # ~350 tokens: over max_seq_length 256
    LONG_TEXT + " " + LONG_TEXT,  # ~700 tokens: over 512
]

SIMILARITY = [
    (0, [1, 3, 2, 8]),
    (7, [16, 8, 17]),
    (17, [18, 3, 4]),
    (22, [27, 28, 24]),
]
FEATURE_EXTRACTION = [0, 7, 12, 29]


def round7(values):
    """Rounds a nested list of floats to 7 significant digits."""
    if isinstance(values, list):
        return [round7(v) for v in values]
    return float(f"{values:.7g}")


def write_jsonl(path, lines):
    with open(path, "w") as f:
        for line in lines:
            f.write(json.dumps(line, ensure_ascii=False) + "\n")
    print("wrote", os.path.basename(path), len(lines), flush=True)


def reference(model_dir, out_dir):
    tok = transformers.AutoTokenizer.from_pretrained(model_dir)
    model = transformers.AutoModel.from_pretrained(model_dir, dtype=torch.float32,
                                                   attn_implementation="eager")
    model.eval()
    enc = tok(SENTENCES[:BATCH], padding=True, truncation=True, return_tensors="pt")
    with torch.no_grad():
        out = model(**enc, output_hidden_states=True)
    tensors = {k: v.to(torch.int64).clone() for k, v in enc.items()}
    tensors["last_hidden_state"] = out.last_hidden_state.clone()
    for i, hidden in enumerate(out.hidden_states):
        tensors[f"hidden_states.{i}"] = hidden.clone()
    tensors = {k: v.contiguous() for k, v in tensors.items()}
    save_file(tensors, os.path.join(out_dir, "reference.safetensors"))
    print("wrote reference.safetensors", tuple(out.last_hidden_state.shape), flush=True)
    lengths = [len(tok(s, truncation=True)["input_ids"]) for s in SENTENCES]
    return lengths


def embeddings(model_dir, out_dir):
    from sentence_transformers import SentenceTransformer, util

    st = SentenceTransformer(model_dir, device="cpu")
    embs = st.encode(SENTENCES, convert_to_tensor=True, batch_size=8)
    ones = [st.encode(s, convert_to_tensor=True) for s in SENTENCES]
    for i, one in enumerate(ones):
        # Batched and one-at-a-time agree to well below the 7 digits kept.
        if (one - embs[i]).abs().max().item() > 1e-5:
            raise RuntimeError(f"batched and single encode differ on sentence {i}")
    write_jsonl(os.path.join(out_dir, "embeddings.jsonl"),
                [{"input": s, "embedding": round7(e.tolist())} for s, e in zip(SENTENCES, ones)])
    lines = []
    for src, others in SIMILARITY:
        scores = util.cos_sim(ones[src], torch.stack([ones[j] for j in others]))[0]
        lines.append({"source_sentence": SENTENCES[src],
                      "sentences": [SENTENCES[j] for j in others],
                      "output": round7(scores.tolist())})
    write_jsonl(os.path.join(out_dir, "similarity.jsonl"), lines)
    return st.max_seq_length


def feature_extraction(model_dir, out_dir):
    pipe = transformers.pipeline("feature-extraction", model=model_dir, device="cpu")
    lines = []
    for i in FEATURE_EXTRACTION:
        with torch.no_grad():
            out = pipe(SENTENCES[i])
        lines.append({"input": SENTENCES[i], "params": {}, "output": round7(out)})
    write_jsonl(os.path.join(out_dir, "feature_extraction.jsonl"), lines)


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--out", default=os.path.join(ROOT, "tests", "golden", "minilm"))
    args = parser.parse_args()
    if transformers.__version__ != PINNED:
        sys.exit(f"transformers {transformers.__version__} found, the goldens pin {PINNED}")
    if len(SENTENCES) != 40:
        sys.exit(f"expected 40 sentences, have {len(SENTENCES)}")
    torch.manual_seed(0)
    torch.set_num_threads(1)
    os.makedirs(args.out, exist_ok=True)
    lengths = reference(args.model, args.out)
    max_seq_length = embeddings(args.model, args.out)
    feature_extraction(args.model, args.out)
    import sentence_transformers

    meta = {
        "model": "all-MiniLM-L6-v2",
        "model_safetensors_sha256": sha256(os.path.join(args.model, "model.safetensors")),
        "batch": BATCH,
        "token_counts": lengths,  # with [CLS]/[SEP], truncated at 512 as AutoTokenizer does
        "st_max_seq_length": max_seq_length,
        "transformers": transformers.__version__,
        "sentence_transformers": sentence_transformers.__version__,
        "torch": torch.__version__,
        "attn_implementation": "eager",
    }
    with open(os.path.join(args.out, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
