#!/usr/bin/env python3
"""Writes the MarianTokenizer goldens: tests/golden/tokenizers/marian/.

transformers 4.57.3 has no fast Marian tokenizer: AutoTokenizer builds the slow MarianTokenizer
(models/marian/tokenization_marian.py), which runs the `sentencepiece` package (0.2.1 here) and
maps pieces through vocab.json. This records what it gives, on four folders:

  joint          the seq2seq marian case's folder (tools/reference/seq2seq_goldens.py
                 load_tokenizer): ../shared/data/tokenizers/marian-nmt with vocab.joint.spm
                 copied to source.spm and target.spm, and the committed tokenizer_config.json /
                 special_tokens_map.json of tests/golden/seq2seq/marian. The folder keeps the
                 fixture's tokenizer.json, which MarianTokenizer ignores. The spm model is
                 unusual (whitespace as suffix, byte fallback, user-defined symbols, a custom
                 charsmap and a denormalizer), which is what makes it a hard test.
  old-config     the same files with an old-style config (no added_tokens_decoder, classes from
                 config.json's model_type): the slow tokenizer then takes tokenizer.json's
                 "added_tokens" as its added tokens, so "(#0)" and the like are split off.
  opus           an opus-mt-like folder written here: two small SentencePiece models trained
                 on different halves of the Latin-script lines of tests/data/tokenizer_corpus.jsonl (prefix whitespace,
                 no byte fallback, so unknown characters occur), a vocab.json in another order
                 than either model, missing a few source pieces, with >>xx<< language codes.
  opus-separate  the same models with separate_vocabs: vocab.json for the source side,
                 target_vocab.json (other ids) for decoding.

Output: tests/golden/tokenizers/marian/cases.json and the files of the opus folders
(opus/, opus-separate/). cases.json holds, per folder, how to build it ("copy_shared": paths
under ../shared, "copy_golden": paths under the repository, "dir": a committed folder), then
  encode: [{"text", "ids" (tokenizer(text).input_ids), "decoded" (decode(ids)),
            "decoded_skip" (decode(ids, skip_special_tokens=True)),
            "decoded_skip_clean" (the same with clean_up_tokenization_spaces=True)}]
  pairs:  [{"text", "text_pair", "ids"}]
  decode: [{"ids" (random, some past the vocabulary), "decoded", "decoded_skip"}]
  vocab_size, special_ids ({token: id}).
Texts: the Marian-specific strings below, then a seeded sample of the tokenizer corpus (lines of
at most 300 characters). The translation pipeline decodes with skip_special_tokens=True and
clean_up_tokenization_spaces=False (Text2TextGenerationPipeline.postprocess).

    ~/.cache/mlhub/pyenv/bin/python tools/reference/marian_tokenizer_goldens.py

Deterministic (fixed seeds; the SentencePiece trainer runs on one thread).
"""

import json
import os
import random
import shutil
import sys
import tempfile
import warnings

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
warnings.filterwarnings("ignore", message="Recommended: pip install sacremoses.")

import sentencepiece as spm  # noqa: E402
import transformers  # noqa: E402

PINNED = "4.57.3"
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(ROOT, "tests", "golden", "tokenizers", "marian")
SHARED = os.environ.get("MLHUB_SHARED", os.path.join(ROOT, "..", "shared"))
CORPUS = os.path.join(ROOT, "tests", "data", "tokenizer_corpus.jsonl")

FIXTURE = "data/tokenizers/marian-nmt"
LANG_CODES = [">>de<<", ">>fr<<", ">>fra_Latn<<", ">>zho_Hans<<"]

# Strings aimed at MarianTokenizer's own steps: language codes (only at the very start of a
# piece of text between added tokens), special and added tokens in the text, whitespace runs
# (the joint model keeps them), the user-defined symbols of the joint model, and empty input.
MARIAN_TEXTS = [
    "The tower is 324 metres tall, about the same height as an 81-storey building.",
    "Studies have shown that owning a dog is good for you.",
    "Hello world!",
    "",
    " ",
    "   ",
    "\t\n",
    "a  b   c    d",
    "  leading and trailing  ",
    ">>de<< Hello world",
    ">>de<<Hello world",
    ">>fr<< Bonjour",
    ">>fra_Latn<< Bonjour le monde",
    ">>zho_Hans<< 你好",
    ">>xx<< unknown code",
    ">>de<<",
    ">><< empty code",
    ">>de no end",
    ">>de<<>>fr<< two codes",
    " >>de<< space first",
    "text then >>de<< code",
    "</s>>>de<< after eos",
    "x</s>y",
    "Hello </s> world",
    "<unk><pad></s>",
    "a<pad>b<unk>c",
    "< /s> <s> </ s>",
    "(#0) (#1)(phrasefix) <BT> __BT__ (#SPLIT) <eos> <[> <=> <]>",
    "x(#1)y",
    "HELLO World. THIS IS UPPER CASE.",
    "It's 3:45 p.m. -- isn't it? Yes! (Really...)",
    "3.14159 1,000,000 -42 +7 1e-9 0x1F 2024-01-31",
    "C++ & <html> \"quotes\" 'single' «guillemets» „low“",
    "Ünïcödé ﬁ ﬂ ① ㎏ Ａｂｃ １２３",
    "e\u0301 a\u0308 n\u0303 combining",
    "zero\u200bwidth\u00a0nbsp\u2028sep",
    "中文 文本 日本語のテキスト 한국어 텍스트",
    "emoji 😀👍🏽 🇩🇪 👨\u200d👩\u200d👧",
    "שלום עולם مرحبا بالعالم",
    "\x00\x01 control \x7f\x1b[0m",
    "▁already ▁has ▁meta ▁spaces",
    "tab\tseparated\tvalues\nnew line\r\nwindows",
    "a" * 120,
    "supercalifragilisticexpialidocious antidisestablishmentarianism",
    "The quick brown fox jumps over the lazy dog. " * 4,
]


def corpus_sample(n, seed):
    lines = [json.loads(line) for line in open(CORPUS, encoding="utf-8")]
    lines = [s for s in lines if len(s) <= 300]
    rng = random.Random(seed)
    return rng.sample(lines, n)


def write_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, indent=2)
        f.write("\n")


def train_spm(lines, prefix, vocab_size):
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as f:
        for s in lines:
            s = s.replace("\n", " ").strip()
            if s:
                f.write(s + "\n")
        path = f.name
    spm.SentencePieceTrainer.train(
        input=path, model_prefix=prefix, vocab_size=vocab_size, model_type="unigram",
        character_coverage=0.99, hard_vocab_limit=False, num_threads=1, seed_sentencepiece_size=20000,
        normalization_rule_name="identity", byte_fallback=False, unk_id=1, eos_id=0, bos_id=-1,
        pad_id=-1, minloglevel=2)
    os.remove(path)
    # The model records the trainer's (temporary) paths: fix them so reruns are byte-identical.
    from sentencepiece import sentencepiece_model_pb2 as pb
    m = pb.ModelProto()
    with open(prefix + ".model", "rb") as f:
        m.ParseFromString(f.read())
    del m.trainer_spec.input[:]
    m.trainer_spec.input.append("tokenizer_corpus.txt")
    m.trainer_spec.model_prefix = os.path.basename(prefix)
    with open(prefix + ".model", "wb") as f:
        f.write(m.SerializeToString())


def write_opus_folders():
    """Trains the two models and writes opus/ and opus-separate/."""
    lines = [json.loads(line) for line in open(CORPUS, encoding="utf-8")]
    # Latin-script lines only (an en-de-like pair): other scripts stay unknown to both models.
    lines = [s for s in lines if 0 < len(s) <= 300 and all(ord(c) < 0x250 for c in s)]
    rng = random.Random(7)
    rng.shuffle(lines)
    half = len(lines) // 2
    tmp = tempfile.mkdtemp()
    train_spm(lines[:half], os.path.join(tmp, "source"), 800)
    train_spm(lines[half:], os.path.join(tmp, "target"), 700)
    src = spm.SentencePieceProcessor(model_file=os.path.join(tmp, "source.model"))
    tgt = spm.SentencePieceProcessor(model_file=os.path.join(tmp, "target.model"))
    src_pieces = [src.id_to_piece(i) for i in range(src.get_piece_size())]
    tgt_pieces = [tgt.id_to_piece(i) for i in range(tgt.get_piece_size())]
    reserved = {"</s>", "<unk>"}

    # Joint vocabulary as Marian writes it: </s>, <unk>, language codes, then the pieces of both
    # models (sorted, so no model's order survives), <pad> last. Every 25th source-only piece is
    # left out, so some pieces map to <unk>.
    tgt_set = set(tgt_pieces)
    dropped = {p for i, p in enumerate(src_pieces) if p not in reserved and p not in tgt_set
               and i % 25 == 0}
    joint = ["</s>", "<unk>"] + LANG_CODES
    joint += sorted((set(src_pieces) | tgt_set) - reserved - dropped)
    joint.append("<pad>")
    vocab = {p: i for i, p in enumerate(joint)}

    special_map = {"eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>"}
    for name, separate in (("opus", False), ("opus-separate", True)):
        d = os.path.join(OUT, name)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        if not separate:  # opus-separate takes the models from opus/
            shutil.copy(os.path.join(tmp, "source.model"), os.path.join(d, "source.spm"))
            shutil.copy(os.path.join(tmp, "target.model"), os.path.join(d, "target.spm"))
        write_json(os.path.join(d, "special_tokens_map.json"), special_map)
        write_json(os.path.join(d, "config.json"), {"model_type": "marian"})
        if not separate:
            write_json(os.path.join(d, "vocab.json"), vocab)
            write_json(os.path.join(d, "tokenizer_config.json"),
                       {"source_lang": "en", "target_lang": "de"})
        else:
            # Source ids as in the joint vocabulary; target ids in the target model's own order
            # with </s> / <unk> / <pad> where Marian puts them, so the two differ everywhere.
            src_vocab = {p: i for i, p in enumerate(
                ["</s>", "<unk>"] + [p for p in src_pieces if p not in reserved] + ["<pad>"])}
            tgt_vocab = {p: i for i, p in enumerate(
                ["</s>", "<unk>"] + [p for p in reversed(tgt_pieces) if p not in reserved]
                + ["<pad>"])}
            write_json(os.path.join(d, "vocab.json"), src_vocab)
            write_json(os.path.join(d, "target_vocab.json"), tgt_vocab)
            write_json(os.path.join(d, "tokenizer_config.json"),
                       {"source_lang": "en", "target_lang": "de", "separate_vocabs": True})
    shutil.rmtree(tmp)


FOLDERS = [
    {"name": "joint",
     "copy_shared": [[f"{FIXTURE}/{f}", f] for f in
                     ("vocab.json", "tokenizer.json", "special_tokens_map.json")]
     + [[f"{FIXTURE}/vocab.joint.spm", "source.spm"], [f"{FIXTURE}/vocab.joint.spm", "target.spm"]],
     "copy_golden": [["tests/golden/seq2seq/marian/tokenizer_config.json", "tokenizer_config.json"],
                     ["tests/golden/seq2seq/marian/special_tokens_map.json",
                      "special_tokens_map.json"]],
     "corpus": 160, "random_decodes": 60},
    {"name": "old-config",
     "copy_shared": [[f"{FIXTURE}/{f}", f] for f in ("vocab.json", "tokenizer.json")]
     + [[f"{FIXTURE}/vocab.joint.spm", "source.spm"], [f"{FIXTURE}/vocab.joint.spm", "target.spm"]],
     "write": {"tokenizer_config.json": {"source_lang": "en", "target_lang": "zh"},
               "special_tokens_map.json": {"eos_token": "</s>", "unk_token": "<unk>",
                                           "pad_token": "<pad>"},
               "config.json": {"model_type": "marian"}},
     "corpus": 30, "random_decodes": 20},
    {"name": "opus", "dir": "tests/golden/tokenizers/marian/opus", "corpus": 80,
     "random_decodes": 40},
    {"name": "opus-separate", "dir": "tests/golden/tokenizers/marian/opus-separate",
     "copy_golden": [[f"tests/golden/tokenizers/marian/opus/{f}", f]
                     for f in ("source.spm", "target.spm")],
     "corpus": 40,
     "random_decodes": 30},
]


def build_folder(spec):
    tmp = tempfile.mkdtemp()
    for src, dst in spec.get("copy_shared", []):
        shutil.copy(os.path.join(SHARED, src), os.path.join(tmp, dst))
    for src, dst in spec.get("copy_golden", []):
        shutil.copy(os.path.join(ROOT, src), os.path.join(tmp, dst))
    if "dir" in spec:
        for f in os.listdir(os.path.join(ROOT, spec["dir"])):
            shutil.copy(os.path.join(ROOT, spec["dir"], f), os.path.join(tmp, f))
    for name, content in spec.get("write", {}).items():
        write_json(os.path.join(tmp, name), content)
    for f in os.listdir(tmp):
        os.chmod(os.path.join(tmp, f), 0o644)
    return tmp


def record(spec, index):
    folder = build_folder(spec)
    tok = transformers.AutoTokenizer.from_pretrained(folder)
    assert type(tok).__name__ == "MarianTokenizer", type(tok)
    texts = MARIAN_TEXTS + corpus_sample(spec["corpus"], seed=100 + index)
    encode = []
    for t in texts:
        ids = tok(t).input_ids
        encode.append({
            "text": t, "ids": ids, "decoded": tok.decode(ids),
            "decoded_skip": tok.decode(ids, skip_special_tokens=True),
            "decoded_skip_clean": tok.decode(ids, skip_special_tokens=True,
                                             clean_up_tokenization_spaces=True)})
    pairs = []
    for a, b in ((texts[0], texts[1]), (">>de<< first", "second </s> part"), ("", "only b")):
        pairs.append({"text": a, "text_pair": b, "ids": tok(a, b).input_ids})
    rng = random.Random(200 + index)
    n = tok.vocab_size
    decode = []
    for _ in range(spec["random_decodes"]):
        ids = [rng.randrange(n + 3) for _ in range(rng.randint(1, 16))]
        decode.append({"ids": ids, "decoded": tok.decode(ids),
                       "decoded_skip": tok.decode(ids, skip_special_tokens=True)})
    shutil.rmtree(folder)
    case = {k: v for k, v in spec.items() if k not in ("corpus", "random_decodes")}
    case.update({"vocab_size": n,
                 "special_ids": {t: tok.convert_tokens_to_ids(t) for t in tok.all_special_tokens},
                 "encode": encode, "pairs": pairs, "decode": decode})
    return case


def main():
    if transformers.__version__ != PINNED:
        sys.exit(f"transformers {transformers.__version__} is not the pinned {PINNED}")
    try:
        import sacremoses  # noqa: F401
        sys.exit("sacremoses is installed; the reference environment has none (it does not "
                 "change tokenization, but keep the environment as pinned)")
    except ImportError:
        pass
    os.makedirs(OUT, exist_ok=True)
    write_opus_folders()
    cases = [record(spec, i) for i, spec in enumerate(FOLDERS)]
    out = {"transformers": transformers.__version__, "sentencepiece": spm.__version__,
           "cases": cases}
    with open(os.path.join(OUT, "cases.json"), "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {OUT}: " + ", ".join(f"{c['name']} {len(c['encode'])} texts" for c in cases))


if __name__ == "__main__":
    main()
